"""Engine benchmark: steps per second (audit events and sign-offs included) and verify_audit growth.

Run through `bench/run`, which prepares a fresh database (SQLite file or PostgreSQL)
and appends the figures to bench/results.md. Not a test: nothing here asserts a time.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from decisions import audit  # noqa: E402
from decisions.models import AuditEvent, RuleProfile  # noqa: E402
from decisions.walkthrough import build_cast  # noqa: E402
from decisions.walkthrough import initiation as walk  # noqa: E402


def open_profile():
    params = dict(RuleProfile.objects.get(code="huzhou", version=1).params, catalogue_required=False)
    profile, _ = RuleProfile.objects.get_or_create(
        code="bench-open", version=1, defaults={"name": "bench", "params": params}
    )
    return profile


def steps_per_second(cast, decisions_per_run):
    """Time proposal → CONSULTATION (T1, T3b, T5, draft, T6): 4 steps, 2 sign-offs per decision."""
    started = time.perf_counter()
    for i in range(decisions_per_run):
        decision = walk.propose(cast, title=f"基准测试决策事项 {i}")
        walk.draft(cast, walk.initiate(cast, decision, co_units=[]))
    elapsed = time.perf_counter() - started
    return 4 * decisions_per_run / elapsed, elapsed / decisions_per_run


def grow_chain_to(n):
    """Append synthetic events until the chain holds `n`, 1,000 per transaction."""
    have = AuditEvent.objects.count()
    while have < n:
        batch = min(1000, n - have)
        with transaction.atomic():
            for i in range(batch):
                audit.append(
                    actor=None,
                    role="SYSTEM",
                    action="bench:event",
                    object_type="bench",
                    object_id=str(have + i),
                    payload={"i": have + i, "text": "基准"},
                )
        have += batch


def time_verify(repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = audit.verify()
        times.append(time.perf_counter() - started)
        assert result.ok, result
    return statistics.median(times), result.checked


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--decisions", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chain", default="10000,100000")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.md")))
    args = parser.parse_args()

    open_profile()
    cast = build_cast(code="bench", name="基准市人民政府", profile="bench-open")
    rates, per_decision = [], []
    for _ in range(args.runs):
        rate, seconds = steps_per_second(cast, args.decisions)
        rates.append(rate)
        per_decision.append(seconds)

    rows = []
    for size in [int(s) for s in args.chain.split(",")]:
        grow_chain_to(size)
        median, checked = time_verify(3)
        rows.append((checked, median))

    vendor = connection.vendor
    lines = [
        f"\n## {args.label} ({vendor}, {time.strftime('%Y-%m-%d %H:%M')} Asia/Shanghai, {os.cpu_count()} cores)\n",
        f"- steps/s (T1, T3b, T5, T6 with uploads, audit events and 2 sign-offs per decision; "
        f"{args.decisions} decisions × {args.runs} runs): median **{statistics.median(rates):.1f}** "
        f"(min {min(rates):.1f}, max {max(rates):.1f}); median {statistics.median(per_decision) * 1000:.0f} ms per decision\n",
    ]
    base = rows[0]
    for checked, median in rows:
        lines.append(
            f"- verify_audit over {checked:,} events: median {median:.2f} s "
            f"({checked / median:,.0f} events/s; ×{median / base[1]:.1f} the time for ×{checked / base[0]:.0f} the events)\n"
        )
    with open(args.out, "a", encoding="utf-8") as fh:
        fh.writelines(lines)
    sys.stdout.writelines(lines)


if __name__ == "__main__":
    main()
