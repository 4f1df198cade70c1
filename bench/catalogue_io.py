"""Catalogue Excel benchmark: import (parse, then commit through the services) and export of an N-entry
catalogue, each timed over several runs (median, min, max).

Run through `bench/run-catalogue`, which prepares a fresh SQLite database (or migrates the PostgreSQL
database in DATABASE_URL) and appends the figures to bench/results-catalogue.md. Not a test: nothing
here asserts a time.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalog import imports, services, workbook  # noqa: E402
from decisions.models import Decision, DocumentType  # noqa: E402
from decisions.walkthrough import build_cast, doc  # noqa: E402

RESULTS = Path(__file__).with_name("results-catalogue.md")
HEADING = """# Catalogue Excel import/export benchmark results

Appended by `bench/run-catalogue` (see `bench/catalogue_io.py`): a generated catalogue in the published layout
(14 columns, one co-unit per row, every planned-time wording the reader knows), imported into an empty catalogue
being collected and exported again. Import = parse and check every row (`workbook.parse`) + commit through
`catalog.services.add_entry` in one transaction (`imports.import_entries`: role gate, catalogue lock and one
audit event per entry). Medians of repeated runs; no test asserts a time.
"""


def workbook_bytes(cast, count):
    """A filled-in catalogue as an office would send it: title row, header row, `count` entries."""
    units = [cast.lead_unit, *cast.co_units, cast.justice]
    categories = [str(label) for label in Decision.Category.labels]
    times = ["8月份", "2026.08", "2026年3月至5月", "三季度", "下半年", "年底前", "视前期工作进展确定"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["基准市年度重大行政决策事项目录"])
    sheet.append([c.header for c in workbook.COLUMNS])
    for n in range(1, count + 1):
        sheet.append(
            [
                n,
                f"基准重大行政决策事项第{n}项",
                "为贯彻落实有关部署，对相关政策措施进行完善。" * (1 + n % 3),
                categories[n % 5],
                cast.organ.name,
                units[n % 4].name,
                units[(n + 1) % 4].name,
                "《重大行政决策程序暂行条例》(国务院令第713号)",
                "公众参与、专家论证、风险评估、合法性审查、集体讨论决定",
                "是" if n % 7 == 0 else "否",
                times[n % len(times)],
                "年底前",
                "政府工作部门提出",
                "",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def spread(values, unit="s", scale=1.0):
    values = [v * scale for v in values]
    return f"median **{statistics.median(values):.2f} {unit}** (min {min(values):.2f}, max {max(values):.2f})"


def ratio(ours, baseline):
    return f"{statistics.median(ours) / statistics.median(baseline):.2f}×"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    cast = build_cast(code="benchcat", name="基准市人民政府")
    office = cast["GOV_OFFICE"]
    data = workbook_bytes(cast, args.entries)
    first_year = timezone.localdate().year + 1

    parse_t, commit_t, total_t = [], [], []
    catalogue = None
    for run in range(args.runs):
        # A fresh catalogue each run (one per organ and year is open at a time), so every run starts empty.
        catalogue = services.open_catalogue(
            office, cast.organ, first_year + run, call_for_proposals=doc(DocumentType.OTHER, "征集通知")
        )
        started = time.perf_counter()
        preview = workbook.parse(data, catalogue)
        parsed = time.perf_counter()
        assert not preview.errors, preview.errors[:3]
        imports.import_entries(office, catalogue, preview.rows, source={"name": "bench.xlsx"})
        done = time.perf_counter()
        parse_t.append(parsed - started)
        commit_t.append(done - parsed)
        total_t.append(done - started)
        print(f"import run {run + 1}: parse {parsed - started:.2f} s, commit {done - parsed:.2f} s", flush=True)

    # Baselines a developer would otherwise write: openpyxl reading every cell, and writing the same table plainly.
    read_t, write_t = [], []
    for _run in range(args.runs):
        started = time.perf_counter()
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = [tuple(cell for cell in row) for row in book.active.iter_rows(values_only=True)]
        book.close()
        read_t.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain = openpyxl.Workbook()
        for row in rows:
            plain.active.append(row)
        plain.save(io.BytesIO())
        write_t.append(time.perf_counter() - started)

    export_t, exported = [], set()
    for run in range(args.runs):
        started = time.perf_counter()
        exported.add(workbook.export(catalogue))
        export_t.append(time.perf_counter() - started)
        print(f"export run {run + 1}: {export_t[-1]:.2f} s", flush=True)
    [file] = exported  # every run gave the same bytes

    # The round trip: the export imported into an empty catalogue of the same organ exports to the same bytes.
    empty = services.open_catalogue(
        office, cast.organ, first_year + args.runs, call_for_proposals=doc(DocumentType.OTHER, "征集通知")
    )
    imports.import_entries(office, empty, workbook.parse(file, empty).rows)
    empty.title = catalogue.title  # the title row names the year; the entries are what must come back alike
    round_trip = workbook.export(empty) == file

    n, per_row = args.entries, 1000 / args.entries
    command = f"bench/run-catalogue --entries {args.entries} --runs {args.runs}"
    lines = [
        f"\n## {args.label} ({connection.vendor}, {time.strftime('%Y-%m-%d %H:%M')} Asia/Shanghai, "
        f"{os.cpu_count()} cores)\n",
        f"Command: `{command}`; {n:,} entries, workbook {len(data) / 1024:.0f} KiB, export {len(file) / 1024:.0f} KiB.\n\n",
        f"- import, parse and check: {spread(parse_t)}; {statistics.median(parse_t) * per_row:.2f} ms per row\n",
        f"- import, commit through the services: {spread(commit_t)}; "
        f"{statistics.median(commit_t) * per_row:.2f} ms per row\n",
        f"- import, total: {spread(total_t)}\n",
        f"- export: {spread(export_t)}; every run the same bytes; round trip (export → import into an empty "
        f"catalogue → export) {'gives the same bytes' if round_trip else 'DIFFERS'}\n",
        f"- baselines: openpyxl reading every cell {spread(read_t)}, writing the same rows unstyled {spread(write_t)}; "
        f"ratios of the medians: parse and check / plain read **{ratio(parse_t, read_t)}**, "
        f"export / plain write **{ratio(export_t, write_t)}**\n",
    ]
    if not RESULTS.exists():
        lines.insert(0, HEADING)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.writelines(lines)
    sys.stdout.writelines(lines)


if __name__ == "__main__":
    main()
