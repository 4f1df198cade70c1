"""Dossier benchmark: what our pipeline adds to WeasyPrint, assembling against rendering whole,
archive size, worker memory over 100 renders, and a 50-decision catalogue bundle.

Run through `bench/run-dossiers`, which prepares a fresh SQLite database and appends the figures
to bench/results.md. Not a test: nothing here asserts a time.
"""

import argparse
import io
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import pikepdf  # noqa: E402
from engine import open_profile  # noqa: E402  (bench/ is on sys.path when run as a script)
from weasyprint import HTML  # noqa: E402

from decisions.models import DocumentType  # noqa: E402
from decisions.services import initiation  # noqa: E402
from decisions.walkthrough import build_cast, consultation, doc, legality, meeting  # noqa: E402
from decisions.walkthrough import implementation as walk_impl  # noqa: E402
from decisions.walkthrough import initiation as walk  # noqa: E402
from reports import archive, dossiers, pdf, queries  # noqa: E402
from reports.models import Dossier  # noqa: E402


def archived_decision(cast, title):
    """A decision through every stage to ARCHIVED: the whole procedure, a post-evaluation that leads to a
    major adjustment, the procedure run again for the adjusted text, implementation, archiving."""
    decision = walk.draft(cast, walk.initiate(cast, walk.propose(cast, title=title), co_units=[]))
    decision = run_procedure(cast, decision)
    decision = walk_impl.post_evaluate(cast, walk_impl.implement(cast, decision), conclude=False)
    decision = walk_impl.adjust(cast, decision)
    decision = initiation.open_consultation(
        cast["UNDERTAKING_LEAD"],
        decision,
        answers={},
        documents=[
            doc(DocumentType.RESEARCH_REPORT),
            doc(DocumentType.LAW_POLICY_LIST),
            doc(DocumentType.CONSULTATION_RECORD),
            doc(DocumentType.DRAFT_EXPLANATION),
        ],
    )
    decision = walk_impl.implement(cast, run_procedure(cast, decision))
    return walk_impl.archive(cast, decision)


def run_procedure(cast, decision):
    """Consultation with every sub-stage, legality review, the meeting's approval, publication."""
    decision = consultation.consult(cast, decision, expert=True, risk=True)
    decision = legality.to_ready_for_meeting(cast, legality.review(cast, decision))
    return meeting.publish(cast, meeting.decide(cast, decision))


class Lines(list):
    """The figures, printed as soon as each is measured."""

    def __init__(self, heading):
        super().__init__()
        self.append(heading)

    def append(self, line):
        print(line, flush=True)
        super().append(line)


def timed(fn, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def body_of(html):
    return re.search(r"<body>(.*)</body>", html, re.S).group(1)


def whole_html(decision, sources):
    """One HTML document holding the archive cover, every stage dossier and the audit appendix."""
    from django.template.loader import render_to_string

    style = re.search(r"<head>(.*)</head>", sources[0].html, re.S).group(1)
    rows = archive.archive_parts(decision)
    events = queries.audit_trail(decision)
    cover = render_to_string(
        "reports/archive_cover.html",
        {**archive._cover_context(decision, rows, events), "toc": rows, "fonts": pdf.font_css()},
    )
    appendix = render_to_string(
        "reports/audit_trail.html",
        {
            "reference": decision.reference,
            "events": [
                {**e, "time": queries.local(e["at"]), "role_label": queries.role_label(e["role"])} for e in events
            ],
            "fonts": pdf.font_css(),
        },
    )
    # As in the archive dossier: the ARC dossier already ends with the audit trail.
    trail_in_arc = "附录　审计记录" in sources[-1].html
    parts = [body_of(cover), *(body_of(s.html) for s in sources), *([] if trail_in_arc else [body_of(appendix)])]
    joined = "".join(f"<div class='part'>{part}</div>" for part in parts)
    return f"<!DOCTYPE html><html lang='zh-CN'><head>{style}</head><body>{joined}</body></html>"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="SQLite")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--renders", type=int, default=100)
    parser.add_argument("--catalogue", type=int, default=50)
    args = parser.parse_args()

    open_profile()
    cast = build_cast(code="bench", name="基准市人民政府", profile="bench-open")
    decision = archived_decision(cast, "基准测试：全流程决策事项")
    dossiers.render_pending(decision)
    stage = {d.stage_record_id: d for d in Dossier.objects.filter(decision=decision, kind=Dossier.Kind.STAGE)}
    # A typical stage dossier: the one closest to 10 pages.
    typical = min(stage.values(), key=lambda d: (abs(d.pages - 10), d.pk))
    command = f"bench/run-dossiers --runs {args.runs} --renders {args.renders} --catalogue {args.catalogue}"
    lines = Lines(
        f"\n## Dossiers — {args.label}, {time.strftime('%Y-%m-%d %H:%M')} (median of {args.runs})\n"
        f"Command: `{command}` ({os.cpu_count()} cores).\n"
    )

    # (1) a typical stage dossier: our pipeline against a plain WeasyPrint render of the same HTML
    source = pdf.stage_dossier_source(typical.signoff)
    pdf.stage_dossier_pdf(typical.signoff)  # warm: the stamp font is rendered once per process
    plain_times, our_times = [], []
    for _ in range(args.runs):  # interleaved, so that drift of the machine hits both alike
        plain_t, plain = timed(lambda: pdf.render_html(source.html, attachments=source.attachments), 1)
        ours_t, ours = timed(lambda: pdf.stage_dossier_pdf(typical.signoff), 1)
        plain_times.append(plain_t)
        our_times.append(ours_t)
    plain_t, ours_t = statistics.median(plain_times), statistics.median(our_times)
    plain_pages = len(pikepdf.open(io.BytesIO(plain)).pages)
    lines.append(
        f"- (1) stage dossier ({typical.stage_record.get_stage_display()}, {ours.pages} pages): pipeline "
        f"{ours_t:.2f} s vs plain WeasyPrint render of the same HTML and attached files ({plain_pages} pages) "
        f"{plain_t:.2f} s: "
        f"**ratio {ours_t / plain_t:.2f}** (target ≤ 1.10)"
    )

    # (2)(3) the archive dossier assembled from stored stage PDFs against rendering it whole
    sources = [
        pdf.stage_dossier_source(stage[r["record"]].signoff) for r in archive.archive_parts(decision) if r["dossier"]
    ]
    html = whole_html(decision, sources)
    attachments = [a for s in sources for a in s.attachments]
    whole_t, whole = timed(lambda: pdf.render_html(html, attachments=attachments), max(1, args.runs // 2))
    assembled_t, assembled = timed(lambda: archive.archive_dossier_pdf(decision), args.runs)
    whole_pages = len(pikepdf.open(io.BytesIO(whole)).pages)
    lines.append(
        f"- (2) archive dossier assembled from {len(sources)} stored stage PDFs ({assembled.pages} pages): "
        f"{assembled_t:.2f} s vs rendering it whole ({whole_pages} pages) {whole_t:.2f} s: "
        f"**{assembled_t / whole_t:.3f} of the whole render** ({whole_t / assembled_t:.0f}× faster; target ≤ 0.10)"
    )
    lines.append(
        f"- (3) archive dossier size {len(assembled.content) / 2**20:.2f} MiB vs whole render "
        f"{len(whole) / 2**20:.2f} MiB: **{len(assembled.content) / len(whole):.2f}×** (target ≤ 1.5×); "
        f"naive concatenation of the stored parts: {naive_size(decision) / len(whole):.2f}×"
    )

    # (4) one worker process over many consecutive renders: time and memory stay flat?
    lines.append(consecutive("our pipeline", lambda: pdf.stage_dossier_pdf(typical.signoff), args.renders))
    # The same for WeasyPrint alone, in the same process, to tell whose any drift is.
    plain_render = lambda: HTML(string=source.html).write_pdf(pdf_variant=pdf.PDF_VARIANT)  # noqa: E731
    lines.append(consecutive("plain WeasyPrint", plain_render, args.renders))

    # (5) a catalogue of N decisions: dossiers rendered, then the BagIt bundle exported and verified
    lines.append(catalogue_bundle(cast, args.catalogue))
    text = "\n".join(lines) + "\n"
    with open(Path(__file__).parent / "results.md", "a") as results:
        results.write(text)


def consecutive(label, render, count):
    times, rss = [], []
    for _ in range(count):
        started = time.perf_counter()
        render()
        times.append(time.perf_counter() - started)
        rss.append(rss_mb())
    head, tail = statistics.median(times[:10]), statistics.median(times[-10:])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"- (4) {count} consecutive renders in one process, {label}: median of the first 10 {head:.2f} s, "
        f"of the last 10 {tail:.2f} s (**×{tail / head:.2f}**); RSS after render 10 {rss[9]:.0f} MiB, "
        f"after render {count} {rss[-1]:.0f} MiB (**{rss[-1] - rss[9]:+.0f} MiB**); peak RSS so far {peak:.0f} MiB"
    )


def naive_size(decision):
    merged = pikepdf.new()
    for row in archive.archive_parts(decision):
        if row["dossier"]:
            with row["dossier"].file.open("rb") as stored:
                merged.pages.extend(pikepdf.open(io.BytesIO(stored.read())).pages)
    return len(pdf.save(merged))


def catalogue_bundle(cast, count):
    from catalog import walkthrough as catalog_walk
    from reports import bundle
    from reports.verify import verify_bundle

    started = time.perf_counter()
    made = [walk.propose(cast, title=f"基准目录事项 {i}") for i in range(count)]
    catalogue = catalog_walk.publish_catalogue(cast, decisions=made)
    for decision in made:
        walk.draft(cast, walk.initiate(cast, decision, co_units=[]))
    setup = time.perf_counter() - started
    started = time.perf_counter()
    rendered = dossiers.render_pending()
    render_t = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "catalogue.zip"
        started = time.perf_counter()
        bundle.export_catalogue_bundle(cast["SUPERVISOR"], catalogue, target)
        export_t = time.perf_counter() - started
        started = time.perf_counter()
        report = verify_bundle(target)
        verify_t = time.perf_counter() - started
        size = target.stat().st_size
    return (
        f"- (5) catalogue of {count} decisions (initiation and drafting dossiers, {len(rendered)} dossiers): "
        f"procedure {setup:.1f} s, rendering {render_t:.1f} s ({render_t / max(len(rendered), 1):.2f} s per dossier), "
        f"**export {export_t:.1f} s**, bundle {size / 2**20:.1f} MiB, verify {verify_t:.1f} s "
        f"({'intact' if report.ok else 'NOT intact'})"
    )


if __name__ == "__main__":
    main()
