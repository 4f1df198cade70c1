"""The archive dossier (归档案卷): cover and contents, every stage dossier in order, the audit trail.

Assembled from the stored stage PDFs, never re-rendered: their own page stamps are taken off and
the whole is stamped once (one numbering), and the font subsets every part brought are merged.
"""

import io

import pikepdf
from django.utils import timezone

from decisions.models import Stage, StageStatus
from reports import pdf, queries
from reports.dossiers import NotReady
from reports.models import Dossier

# The contents print at most this many rows a page (each row is at most two lines high), so that the
# cover's length, and with it every page number in the contents, is known before it is rendered.
TOC_ROWS_PER_PAGE = 14
APPENDIX = "附录　审计记录"


def archive_parts(decision):
    """Return the contents rows in the archive index's order (decisions.queries.archive_index: the order
    the records were made, so a re-run after an adjustment follows the first run), each with its latest
    DONE dossier."""
    rows = []
    for record in decision.stage_records.order_by("id"):
        title = record.get_stage_display() + (f"（第{record.round}轮）" if record.round else "")
        dossier = Dossier.objects.filter(stage_record=record, status=Dossier.Status.DONE).order_by("-version").first()
        signed = record.signoffs.exists()
        if signed and dossier is None:
            if Dossier.objects.filter(stage_record=record, status=Dossier.Status.FAILED).exists():
                # Waiting would never end: fail, visibly, until the stage dossier is rendered again.
                raise RuntimeError(f"环节案卷生成失败，归档案卷无法组卷：{title}")
            raise NotReady(f"环节案卷尚未生成：{title}")
        if record.status == StageStatus.PENDING and not signed:
            note = "未进行（not reached）"
        elif not signed:
            note = "进行中，尚未签署"
        else:
            note = ""
        rows.append(
            {
                "title": title,
                "status": record.get_status_display() + ("（已冻结）" if record.frozen_at else ""),
                "dossier": dossier,
                "sha256": dossier.sha256 if dossier else "",
                "note": note,
                "record": record.pk,
                "stage": record.stage,
            }
        )
    return rows


def archive_dossier_pdf(decision):
    """Assemble the archive dossier of `decision` from its stored stage dossiers."""
    rows = archive_parts(decision)
    parts = []
    for row in rows:
        if row["dossier"] is None:
            continue
        with row["dossier"].file.open("rb") as stored:
            part = pikepdf.open(io.BytesIO(stored.read()))
        parts.append((row, pdf.unstamp(part)))
    events = queries.audit_trail(decision)
    # An archived decision's ARC dossier already ends with the audit trail up to its sign-off;
    # a decision assembled before archiving gets the trail rendered here.
    trail_in_arc = bool(parts) and parts[-1][0]["stage"] == Stage.ARC
    appendix = None if trail_in_arc else pikepdf.open(io.BytesIO(_render_appendix(decision)))
    context = _cover_context(decision, rows, events)
    toc_length = len(rows) + (appendix is not None)
    cover_pages = 1 + -(-toc_length // TOC_ROWS_PER_PAGE)
    for _ in range(3):  # rendered again only if a row unexpectedly took more room than planned
        appendix_page = _number(parts, cover_pages)
        toc = rows if appendix is None else [*rows, _appendix_row(appendix_page)]
        for number, row in enumerate(toc, start=1):
            row["number"] = number
        context["toc_pages"] = [toc[i : i + TOC_ROWS_PER_PAGE] for i in range(0, len(toc), TOC_ROWS_PER_PAGE)]
        cover_bytes = pdf.render_template(
            "reports/archive_cover.html", context, attachments=[_index_file(decision, rows, events)]
        )
        cover = pikepdf.open(io.BytesIO(cover_bytes))
        if len(cover.pages) == cover_pages:
            break
        cover_pages = len(cover.pages)
    pdf.append_parts(cover, [(row["title"], part) for row, part in parts])
    if appendix is not None:
        pdf.append_parts(cover, [(APPENDIX, appendix)])
    _carry_attachments(cover, parts)
    pdf.stamp(cover, decision.reference)
    pdf.merge_fonts(cover)
    return pdf.Rendered(pdf.save(cover), len(cover.pages))


def _number(parts, cover_pages):
    """Set each part's first page in the whole; return the appendix's first page."""
    page = cover_pages + 1
    for row, part in parts:
        row["page"] = page
        page += len(part.pages)
    return page


def _cover_context(decision, rows, events):
    return {
        "reference": decision.reference,
        "decision": decision,
        "co_units": list(decision.co_units.order_by("name")),
        "entries": list(decision.catalogue_entries.filter(valid_to__isnull=True).select_related("catalogue")),
        "toc": rows,
        "assembled_at": queries.local(timezone.now()),
        "event_count": len(events),
        "first_seq": events[0]["seq"] if events else "—",
        "last_seq": events[-1]["seq"] if events else "—",
        "lean": True,  # one font for the cover: every extra CJK font costs a subsetting pass
    }


def _appendix_row(page):
    return {"title": APPENDIX, "status": "", "sha256": "", "note": "", "page": page}


def _render_appendix(decision):
    events = queries.trail_rows(decision)
    return pdf.render_template("reports/audit_trail.html", {"reference": decision.reference, "events": events})


def _index_file(decision, rows, events):
    data = {
        "format": "juece.archive-dossier/1",
        "decision": decision.reference,
        "parts": [
            {
                "title": r["title"],
                "stage_record": r.get("record"),
                "dossier": r["dossier"].pk if r.get("dossier") else None,
                "version": r["dossier"].version if r.get("dossier") else None,
                "sha256": r["sha256"],
                "first_page": r.get("page"),
                "note": r["note"],
            }
            for r in rows
        ],
        "audit_events": [{"seq": e["seq"], "action": e["action"], "mac": e["mac"]} for e in events],
    }
    return pdf.Attached("archive.json", pdf.canonical_json(data).encode(), "归档目录（结构化数据）", "Data")


def _carry_attachments(target, parts):
    """Carry every part's embedded files (its dossier.json, non-PDF originals) into the archive dossier."""
    af = target.Root.get("/AF")
    if af is None:
        target.Root.AF = af = pikepdf.Array()
    for number, (row, part) in enumerate(parts, start=1):
        for name, spec in part.attachments.items():
            data = spec.get_file().read_bytes()
            new = pikepdf.AttachedFileSpec(
                target,
                data,
                description=f"{row['title']}：{spec.description or name}",
                filename=f"{number:02d}-{row['record']}/{name}",
                mime_type=str(spec.get_file().mime_type or "application/octet-stream"),
                relationship=pikepdf.Name.Data if name == "dossier.json" else pikepdf.Name.Source,
            )
            target.attachments[f"{number:02d}-{row['record']}/{name}"] = new
            af.append(new.obj)
