"""The publication notice of an annual catalogue (目录公布通知): rendered as PDF, stored and attested (B8 item 1, B9).

Each published version of a catalogue gets one notice: version 1 when the catalogue is published,
version n+1 when an adjustment is published. The notice is requested in the publishing transaction
(`catalog.signals.catalogue_published`), so a rolled-back or refused publication requests nothing,
and rendered by the `pdf` worker (`reports.tasks.render_catalogue_notice`). The file is stored
content-addressed under `notices/` and the row marked DONE with its SHA-256 and a
`catalogue:notice_issued` audit event in one transaction; a DONE row never changes. A failed render
is recorded with its error and retried like a dossier (JUECE_RENDER_ATTEMPTS), then left FAILED.

API:

* `catalogue_notice_pdf(catalogue, version=None) -> bytes`: render the notice now, store nothing.
  The notice text (发文机关, title, 文号, date, preamble), the catalogue table as at `version`
  (default: the current version), and 附件 目录调整情况 for each adjustment up to `version`.
* `latest_notice(catalogue, version=None) -> CatalogueNotice | None`: the DONE notice of `version`,
  or with no version the DONE notice of the highest version (compare its `.version` with
  `catalogue.version`: the newest may still be rendering). Serve `notice.file`, named `notice.filename`.
* `ensure_notice(catalogue, version=None) -> CatalogueNotice`: render synchronously when the version has
  no DONE notice yet (management use, catalogues published before notices existed); returns the row,
  DONE unless the render failed (see `.error`) or a worker is rendering it at the same moment.
* `render_pending(catalogue=None)`, `retry_failed(catalogue=None)`, `recover_stalled()`: the queue,
  for `manage.py render_notices`.
"""

import hashlib
import io
import logging
import traceback
from datetime import timedelta

import pikepdf
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from catalog import versions as catalogue_versions
from catalog.models import CatalogueDocument, RequiredProcedure
from decisions import audit
from decisions.models import Organisation
from reports.dossiers import SYSTEM_ROLE, max_attempts, retry_delay
from reports.models import CatalogueNotice
from reports.pdf import Rendered, render_template

logger = logging.getLogger(__name__)

TEMPLATE = "reports/catalogue_notice.html"
ISSUED_ACTION = "catalogue:notice_issued"
CHINESE_DIGITS = "〇一二三四五六七八九"

# 主送机关 by the level of the issuing government (公文格式 GB/T 9704); anything else: 各有关单位.
ADDRESSEES = {
    Organisation.Level.PROVINCE: "各市、县（市、区）人民政府，省政府直属各单位：",
    Organisation.Level.CITY: "各区县人民政府，市政府各部门、各直属单位：",
    Organisation.Level.COUNTY: "各乡镇人民政府、街道办事处，区县政府各部门、各直属单位：",
    Organisation.Level.TOWNSHIP: "各村（居）民委员会，各办（站、所）：",
}
REQUIREMENTS = (
    "列入目录的决策事项，承办单位应当严格按照《重大行政决策程序暂行条例》（国务院令第713号）等规定，"
    "履行公众参与、专家论证、风险评估、合法性审查和集体讨论决定等程序，按计划时间提交审议。",
    "目录确需调整的，由承办单位按程序提出，经审核、批准后公布。",
    "承办单位应当全面、准确记录决策过程，按规定做好决策材料的归档工作。",
)


# -- the document ------------------------------------------------------------------------------------


def chinese_date(value, numerals=False):
    """Return `value` as 2026年3月4日, or with `numerals` as 二〇二六年三月四日 ("" for None)."""
    if value is None:
        return ""
    if not numerals:
        return f"{value.year}年{value.month}月{value.day}日"
    year = "".join(CHINESE_DIGITS[int(d)] for d in str(value.year))
    return f"{year}年{_chinese_number(value.month)}月{_chinese_number(value.day)}日"


def _chinese_number(n):
    if not 0 <= n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if not tens:
        return CHINESE_DIGITS[ones]
    return f"{'' if tens == 1 else CHINESE_DIGITS[tens]}十{CHINESE_DIGITS[ones] if ones else ''}"


def catalogue_name(catalogue):
    """The catalogue as a notice names it: 湖州市2026年度… rather than 湖州市人民政府2026年度…."""
    organ = catalogue.organ.name
    title = catalogue.title
    if organ.endswith("人民政府") and title.startswith(organ) and title[len(organ) : len(organ) + 1].isdigit():
        return organ.removesuffix("人民政府") + title[len(organ) :]
    return title


def notice_title(catalogue):
    """Return the notice's title: 湖州市人民政府关于印发湖州市2026年度重大行政决策事项目录的通知."""
    return f"{catalogue.organ.name}关于印发{catalogue_name(catalogue)}的通知"


def _planned(row):
    """The 计划完成时间/拟提交审议时间 cell: the published wording, else the planned months."""
    values = catalogue_versions.display_values(row)
    start, end = values["planned_submission_from"], values["planned_submission_to"]
    submission = row.planned_submission_text or (f"{start}至{end}" if start and end and start != end else start or end)
    if submission and row.planned_completion:
        return [f"拟提交审议：{submission}", f"计划完成：{row.planned_completion}"]
    return [submission or row.planned_completion or "—"]


def _table_row(row):
    values = catalogue_versions.display_values(row)
    procedures = [code for code in row.required_procedures or () if code != RequiredProcedure.HEARING]
    lead = values["lead_unit"] + (f"（协办：{values['co_units']}）" if values["co_units"] else "")
    return {
        "seq_no": row.seq_no,
        "name": row.name,
        "main_content": row.main_content,
        "lead_unit": lead,
        "legal_policy_basis": row.legal_policy_basis,
        "procedures": catalogue_versions.procedure_names(procedures),
        "hearing": "是" if row.requires(RequiredProcedure.HEARING) else "否",
        "planned": _planned(row),
    }


def _party_committee(catalogue):
    consent = catalogue.documents_of(CatalogueDocument.Kind.PARTY_CONSENT).exclude(issued_by="").last()
    return consent.issued_by if consent is not None else ""


def notice_context(catalogue, version=None):
    """Return the template context of the notice of `version` (default: the current version); no rendering."""
    version = catalogue.version if version is None else version
    if not 1 <= version <= catalogue.version:
        raise ValueError(f"{catalogue} has no published version {version} (current: {catalogue.version})")
    published = catalogue_versions.versions(catalogue)[:version]
    adjustments = []
    for number, item in enumerate(published[1:], start=1):
        diff = catalogue_versions.changes(catalogue, item.number)
        adjustments.append(
            {
                "ordinal": _chinese_number(number),
                "version": item,
                "date": chinese_date(item.date),
                "notice_date": chinese_date(item.notice_date),
                "changes": diff,
            }
        )
    name = catalogue_name(catalogue)
    party = _party_committee(catalogue)
    approved = f"已经{catalogue.organ.name}审定" + (f"，并经{party}同意" if party else "")
    rows = catalogue_versions.entry_rows(catalogue, version)
    return {
        "catalogue": catalogue,
        "organ": catalogue.organ.name,
        "title": notice_title(catalogue),
        "catalogue_name": name,
        "notice_number": catalogue.notice_number,
        "notice_date": chinese_date(catalogue.notice_date),
        "notice_url": catalogue.notice_url,
        "version": version,
        "current": published[-1],
        "as_of": chinese_date(published[-1].date),
        "addressees": ADDRESSEES.get(catalogue.organ.level, "各有关单位："),
        "preamble": f"《{name}》{approved}，现印发给你们，请认真组织实施。",
        "requirements": [f"{_chinese_number(n)}、{text}" for n, text in enumerate(REQUIREMENTS, start=1)],
        "rows": [_table_row(row) for row in rows],
        "adjustments": adjustments,
    }


def catalogue_notice_pdf(catalogue, version=None):
    """Render the publication notice of `version` (default: current) as PDF/A bytes; nothing is stored."""
    return render_template(TEMPLATE, notice_context(catalogue, version))


def build(notice):
    """Return the Rendered notice of a CatalogueNotice row (no database writes)."""
    content = catalogue_notice_pdf(notice.catalogue, notice.version)
    with pikepdf.open(io.BytesIO(content)) as pdf:
        pages = len(pdf.pages)
    return Rendered(content, pages)


# -- requests ----------------------------------------------------------------------------------------


def on_catalogue_published(sender, catalogue, version, adjustment=None, **kwargs):
    """Request the notice of the version just published (`catalog.signals.catalogue_published`)."""
    request_notice(catalogue, version)


def request_notice(catalogue, version):
    """Create the PENDING notice of `version` and queue its render, in the caller's transaction."""
    notice = CatalogueNotice.objects.create(catalogue_id=catalogue.pk, version=version)
    enqueue(notice)
    return notice


def enqueue(notice, run_after=None):
    """Queue the render of `notice` on the `pdf` worker (in the caller's transaction)."""
    from reports.tasks import render_catalogue_notice

    task = render_catalogue_notice.using(run_after=run_after) if run_after else render_catalogue_notice
    result = task.enqueue(notice.pk)
    CatalogueNotice.objects.filter(pk=notice.pk).update(task_id=str(result.id))
    return result


# -- rendering ---------------------------------------------------------------------------------------


def render(notice_id):
    """Render notice `notice_id` if it is still to do; record a failure and retry it later."""
    recover_stalled()
    with transaction.atomic():
        notice = CatalogueNotice.objects.select_for_update().get(pk=notice_id)  # the notice only, not its catalogue
        if notice.status in (CatalogueNotice.Status.DONE, CatalogueNotice.Status.RENDERING):
            return notice
        notice.status = CatalogueNotice.Status.RENDERING
        notice.started_at = timezone.now()
        notice.attempts += 1
        notice.error = ""
        notice.save(update_fields=["status", "started_at", "attempts", "error"])
    try:
        rendered = build(notice)
    except Exception as exc:
        logger.exception("rendering catalogue notice %s failed", notice_id)
        return _failed(notice, exc)
    return _store(notice, rendered)


def _store(notice, rendered):
    digest = hashlib.sha256(rendered.content).hexdigest()
    with transaction.atomic():
        current = CatalogueNotice.objects.select_for_update().get(pk=notice.pk)
        if current.status != CatalogueNotice.Status.RENDERING or current.attempts != notice.attempts:
            return current  # recovered and taken by another worker meanwhile: its result counts
        current.sha256 = digest
        current.file.save("notice.pdf", ContentFile(rendered.content), save=False)
        current.size = len(rendered.content)
        current.pages = rendered.pages
        current.status = CatalogueNotice.Status.DONE
        current.finished_at = timezone.now()
        current.save()
        audit.append(
            actor=None,
            role=SYSTEM_ROLE,
            action=ISSUED_ACTION,
            obj=current,
            payload={
                "catalogue": current.catalogue_id,
                "version": current.version,
                "sha256": digest,
                "pages": rendered.pages,
                "size": len(rendered.content),
            },
        )
    return current


def _failed(notice, exc):
    message = "".join(traceback.format_exception_only(exc)).strip()
    with transaction.atomic():
        if notice.attempts >= max_attempts():
            CatalogueNotice.objects.filter(pk=notice.pk).update(
                status=CatalogueNotice.Status.FAILED, error=message, finished_at=timezone.now()
            )
        else:
            CatalogueNotice.objects.filter(pk=notice.pk).update(status=CatalogueNotice.Status.PENDING, error=message)
            enqueue(notice, run_after=timezone.now() + retry_delay(notice.attempts))
    return CatalogueNotice.objects.get(pk=notice.pk)


def recover_stalled(timeout=None):
    """Requeue notices whose render was killed (RENDERING for longer than `timeout`); return them."""
    if timeout is None:
        timeout = timedelta(seconds=settings.JUECE_RENDER_TIMEOUT_SECONDS)
    stalled = list(
        CatalogueNotice.objects.filter(
            status=CatalogueNotice.Status.RENDERING, started_at__lt=timezone.now() - timeout
        ).order_by("pk")
    )
    for notice in stalled:
        with transaction.atomic():
            if CatalogueNotice.objects.filter(pk=notice.pk, status=CatalogueNotice.Status.RENDERING).update(
                status=CatalogueNotice.Status.PENDING,
                error="渲染进程中断，已重新排队 (the render was interrupted; requeued)",
            ):
                enqueue(notice)
    return stalled


def retry_failed(catalogue=None):
    """Requeue FAILED notices (after the cause was fixed, e.g. a font installed); return how many."""
    failed = CatalogueNotice.objects.filter(status=CatalogueNotice.Status.FAILED)
    if catalogue is not None:
        failed = failed.filter(catalogue_id=catalogue.pk)
    count = 0
    for notice in failed.order_by("pk"):
        with transaction.atomic():
            if CatalogueNotice.objects.filter(pk=notice.pk, status=CatalogueNotice.Status.FAILED).update(
                status=CatalogueNotice.Status.PENDING, attempts=0
            ):
                enqueue(notice)
                count += 1
    return count


def render_pending(catalogue=None, progress=None):
    """Render every PENDING notice now, in this process (tests, CLI, a worker-less laptop); return them."""
    pending = CatalogueNotice.objects.filter(status=CatalogueNotice.Status.PENDING)
    if catalogue is not None:
        pending = pending.filter(catalogue_id=catalogue.pk)
    ids = list(pending.order_by("catalogue_id", "version").values_list("pk", flat=True))
    done = []
    for number, pk in enumerate(ids, start=1):
        done.append(render(pk))
        if progress:
            progress(number, len(ids), str(done[-1]))
    return done


# -- for the public page and management --------------------------------------------------------------


def latest_notice(catalogue, version=None):
    """Return the DONE notice of `version`, or without one the DONE notice of the highest version; else None."""
    done = CatalogueNotice.objects.filter(catalogue_id=catalogue.pk, status=CatalogueNotice.Status.DONE)
    if version is not None:
        done = done.filter(version=version)
    return done.select_related("catalogue").order_by("-version").first()


def ensure_notice(catalogue, version=None):
    """Return the notice of `version` (default: current), rendering it now if it is not DONE yet."""
    version = catalogue.version if version is None else version
    if not 1 <= version <= catalogue.version:
        raise ValueError(f"{catalogue} has no published version {version} (current: {catalogue.version})")
    with transaction.atomic():
        notice, _ = CatalogueNotice.objects.get_or_create(catalogue_id=catalogue.pk, version=version)
        if notice.status == CatalogueNotice.Status.FAILED:
            # Asked for by hand: try again from the start rather than report the old failure.
            CatalogueNotice.objects.filter(pk=notice.pk).update(status=CatalogueNotice.Status.PENDING, attempts=0)
    if notice.status == CatalogueNotice.Status.DONE:
        return notice
    return render(notice.pk)


__all__ = [
    "catalogue_notice_pdf",
    "chinese_date",
    "ensure_notice",
    "latest_notice",
    "notice_context",
    "notice_title",
    "on_catalogue_published",
    "recover_stalled",
    "render",
    "render_pending",
    "request_notice",
    "retry_failed",
]
