"""Importing catalogue entries from Excel: preview first, then commit all rows or none (procedure.md B9).

catalog/workbook.py reads the file; this module stores it, commits its rows through
catalog.services.add_entry (so every rule, role gate and audit event is the one a hand-entered
entry gets) and follows the commit on the worker, since a large file takes longer than a request.

For the upload, preview and progress pages:

    job = preview_upload(actor, catalogue, name, data)   # GOV_OFFICE of the organ; stores the file and the
                                                         # parse result (job.errors, job.warnings: lists of
                                                         # dicts with sheet, row, column, header, message,
                                                         # where); writes no entry
    preview_rows(job)                                    # the rows as read, for the preview table
    confirm(actor, job)                                  # refused while the preview has errors; QUEUED
    job.status, job.done, job.total, job.percent         # poll; DONE (job.entries_created) or FAILED
                                                         # (job.errors says which row and why; job.error)

`run(import_id)` is the worker's task body (catalog.tasks.import_catalogue_task).
`import_entries(actor, catalogue, rows)` is the commit itself, used by `run` and by
`manage.py import_catalogue`.
"""

import hashlib
import threading
import traceback
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from catalog import services, workbook
from catalog.models import CatalogueImport, CatalogueState
from decisions import audit
from decisions.models import Role
from decisions.permissions import require_organ_role
from decisions.rules import ProcedureRefused, refuse

PROGRESS_EVERY = 50  # rows between two progress reports (each is a write the progress page polls)
Status = CatalogueImport.Status


class RowRefused(ProcedureRefused):
    """The services refused one row, so nothing of the import was kept; `problem` says which row."""

    def __init__(self, problem, refusal):
        super().__init__(refusal.failures)
        self.problem = problem
        self.refusal = refusal


def _fields(row):
    """Accept a workbook.Row or a plain dict of add_entry arguments."""
    if isinstance(row, workbook.Row):
        return row.number, dict(row.fields)
    return None, dict(row)


def import_entries(actor, catalogue, rows, progress=None, *, source=None):
    """Add every row to a catalogue being collected, in one transaction: all rows or none.

    Each row is a workbook.Row (or a dict of add_entry arguments); each goes through
    catalog.services.add_entry. A refusal rolls back every row and is raised as RowRefused,
    naming the row. `progress(done, total, label)` is called every PROGRESS_EVERY rows and at
    the end. `source` ({"name", "sha256", "import"}) describes the file in the one
    `catalogue:import` audit event appended after the entries. Return the entries created.
    """
    rows = list(rows)
    total = len(rows)
    with transaction.atomic():
        # Gate once before the first row, so that a user without the role is not told “row 3 refused”.
        role = require_organ_role(actor, catalogue.organ, [Role.GOV_OFFICE])
        if not rows:
            refuse("CATALOGUE_ENTRY_INVALID", "B9", "没有可导入的事项", "Nothing to import")
        created = []
        for done, row in enumerate(rows, 1):
            number, fields = _fields(row)
            try:
                created.append(services.add_entry(actor, catalogue, **fields))
            except ProcedureRefused as refusal:
                problem = workbook.Problem(
                    f"{fields.get('name') or '该行'}：{refusal.message('zh')}",
                    sheet=(source or {}).get("sheet", ""),
                    row=number or done,
                )
                raise RowRefused(problem, refusal) from refusal
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                progress(done, total, fields.get("name") or "")
        audit.append(
            actor=actor,
            role=role,
            action="catalogue:import",
            obj=catalogue,
            payload={
                "catalogue": catalogue.pk,
                "file": (source or {}).get("name", ""),
                "sha256": (source or {}).get("sha256", ""),
                "import": (source or {}).get("import"),
                "rows": total,
                "seq_from": created[0].seq_no,
                "seq_to": created[-1].seq_no,
            },
        )
    return created


def _problems(items):
    return [item.as_dict() if isinstance(item, workbook.Problem) else item for item in items]


def preview_upload(actor, catalogue, name, data):
    """Store an uploaded workbook for `catalogue` with what parsing it found; write no entry.

    Only the organ's GOV_OFFICE may import (NotPermitted otherwise). The result is a PREVIEWED
    CatalogueImport whose `errors` and `warnings` say what to fix; a file that is not an .xlsx
    is reported there too. A file larger than JUECE_UPLOAD_MAX_BYTES is refused outright.
    """
    require_organ_role(actor, catalogue.organ, [Role.GOV_OFFICE])
    if len(data) > settings.JUECE_UPLOAD_MAX_BYTES:
        refuse(
            "DOCUMENT_TOO_LARGE",
            "B10",
            f"文件超过 {settings.JUECE_UPLOAD_MAX_BYTES // 2**20} MB 上限",
            "The file is larger than the upload limit",
        )
    digest = hashlib.sha256(data).hexdigest()
    preview = workbook.parse(data, catalogue)
    warnings = list(preview.warnings)
    earlier = catalogue.imports.filter(sha256=digest, status=Status.DONE).order_by("-id").first()
    if earlier is not None:
        warnings.insert(
            0,
            workbook.Problem(
                f"同一文件已于{timezone.localtime(earlier.finished_at):%Y-%m-%d %H:%M}导入过"
                f"({earlier.entries_created}项)；再次导入会重复添加"
            ),
        )
    job = CatalogueImport(
        catalogue=catalogue,
        requested_by=actor,
        original_name=PurePath(name).name[:255] or "catalogue.xlsx",
        sha256=digest,
        size=len(data),
        total=len(preview.rows),
        errors=_problems(preview.errors),
        warnings=_problems(warnings),
    )
    job.file.save(f"{digest}.xlsx", ContentFile(data), save=False)
    job.save()
    return job


def preview_rows(job):
    """Return the rows of a previewed file without errors, for the preview table (re-read from the stored file)."""
    if job.status != Status.PREVIEWED or job.errors or not job.file:
        return []
    preview = workbook.parse(_stored(job), job.catalogue)
    return [
        {
            "number": row.number,
            "seq_no": row.seq_no or "",
            "name": row.fields["name"],
            "category": row.fields["category"],
            "lead_unit": row.fields["lead_unit"],
            "co_units": "、".join(unit.name for unit in row.fields["co_units"]),
            "procedures": row.fields["required_procedures"],
            "planned": row.fields["planned_submission_text"] or row.fields["planned_completion"],
            "decision": row.fields.get("decision"),
        }
        for row in preview.rows
    ]


def confirm(actor, job):
    """PREVIEWED → QUEUED: queue the commit of a file that previewed without errors, on the worker."""
    with transaction.atomic():
        job = CatalogueImport.objects.select_for_update().select_related("catalogue__organ").get(pk=job.pk)
        require_organ_role(actor, job.catalogue.organ, [Role.GOV_OFFICE])
        if job.status != Status.PREVIEWED:
            refuse(
                "CATALOGUE_ENTRY_INVALID",
                "B9",
                f"该导入已{job.get_status_display()}，不能再次确认",
                f"This import is already {job.status}",
            )
        if job.errors:
            refuse(
                "CATALOGUE_ENTRY_INVALID",
                "B9",
                f"文件有 {len(job.errors)} 处错误，改正后请重新上传",
                "The file has errors; correct them and upload it again",
            )
        if job.catalogue.state != CatalogueState.COLLECTING:
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "P7; B9",
                f"目录处于“{job.catalogue.get_state_display()}”，不能导入事项(须处于：{CatalogueState.COLLECTING.label})",
                f"Cannot import entries while the catalogue is {job.catalogue.state}",
            )
        job.status, job.confirmed_by, job.confirmed_at = Status.QUEUED, actor, timezone.now()
        job.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        from catalog.tasks import import_catalogue_task

        import_catalogue_task.enqueue(job.pk)
    return job


def _stored(job):
    with job.file.open("rb") as stored:
        return stored.read()


def run(import_id, progress=None):
    """Commit a confirmed import (the worker's task body): read the stored file again, add all rows or none.

    Progress is saved on the CatalogueImport every PROGRESS_EVERY rows (and passed to `progress`,
    if given). The import ends DONE, or FAILED with the problem in `errors` and `error`.
    """
    updated = CatalogueImport.objects.filter(pk=import_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), done=0
    )
    job = CatalogueImport.objects.select_related("catalogue__organ", "requested_by", "confirmed_by").get(pk=import_id)
    if not updated:
        return job  # already run, or being run by another worker
    try:
        data = _stored(job)
        if hashlib.sha256(data).hexdigest() != job.sha256:
            return _fail(job, [workbook.Problem("存储的文件与预览时不一致，请重新上传")])
        # Read again: units, linked decisions or the catalogue may have changed since the preview.
        preview = workbook.parse(data, job.catalogue)
        if preview.errors:
            return _fail(job, preview.errors, "文件在预览后已不能导入")
        source = {"name": job.original_name, "sha256": job.sha256, "import": job.pk, "sheet": preview.sheet}
        with transaction.atomic():
            created = import_entries(
                job.confirmed_by or job.requested_by,
                job.catalogue,
                preview.rows,
                progress=_reporter(job, progress),
                source=source,
            )
            # DONE in the same transaction as the entries: a crash cannot leave entries without it.
            job.status, job.finished_at = Status.DONE, timezone.now()
            job.done = job.total = len(created)
            job.entries_created = len(created)
            job.save(update_fields=["status", "finished_at", "done", "total", "entries_created"])
    except RowRefused as refused:
        _fail(job, [refused.problem], f"{refused.problem}；全部未导入")
    except ProcedureRefused as refused:
        _fail(job, [workbook.Problem(refused.message("zh"))])
    except Exception as exc:
        _fail(job, [workbook.Problem(f"导入出错：{exc}")], "".join(traceback.format_exception_only(exc)).strip())
    return job


def _fail(job, problems, summary=""):
    job.status, job.finished_at = Status.FAILED, timezone.now()
    job.done, job.entries_created = 0, 0
    job.errors = _problems(problems)
    job.error = summary or "；".join(str(p) for p in problems)
    job.save(update_fields=["status", "finished_at", "done", "entries_created", "errors", "error"])
    return job


def _reporter(job, also=None):
    def report(done, total, label):
        job.done, job.total = done, total
        if not (connection.in_atomic_block and connection.vendor == "postgresql"):
            # SQLite: one writer at a time, so the row is written in the import's own transaction.
            CatalogueImport.objects.filter(pk=job.pk).update(done=done, total=total)
        else:
            # PostgreSQL: write from another connection, so that the page polling the progress sees it now,
            # not when the import commits (the import's transaction does not touch this row until it ends).
            thread = threading.Thread(target=_update_elsewhere, args=(job.pk, done, total))
            thread.start()
            thread.join()
        if also is not None:
            also(done, total, label)

    return report


def _update_elsewhere(pk, done, total):
    try:
        CatalogueImport.objects.filter(pk=pk).update(done=done, total=total)
    finally:
        connection.close()


__all__ = ["RowRefused", "confirm", "import_entries", "preview_rows", "preview_upload", "run"]
