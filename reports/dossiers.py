"""Dossier requests and rendering: requested with the sign-off, rendered by the `pdf` worker (B8, P8).

A stage's dossier is requested in the transaction that signs the stage off, so a rolled-back close
requests nothing. The worker renders outside any transaction, then stores the PDF (content-addressed,
never overwritten) and marks the dossier DONE with its SHA-256 and a `dossier:issued` audit event in
one transaction. A failed render is recorded on the dossier and retried; a killed one is found by
`recover_stalled()` and requeued. Nothing half-written: a dossier is DONE with its file, hash and
audit event, or it is not DONE.
"""

import hashlib
import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from decisions import audit
from decisions.models import AuditEvent, Role, Stage, StageStatus
from decisions.permissions import require_role
from decisions.rules import refuse
from decisions.services.common import save_file
from reports.models import Dossier

logger = logging.getLogger(__name__)

SYSTEM_ROLE = "SYSTEM"
REGENERATORS = (Role.ARCHIVIST, Role.GOV_OFFICE)
PREVIEWERS = (Role.UNDERTAKING_LEAD, Role.UNDERTAKING_CO, Role.LEGAL_REVIEWER)


def max_attempts():
    return settings.JUECE_RENDER_ATTEMPTS


def retry_delay(attempt):
    return timedelta(seconds=settings.JUECE_RENDER_RETRY_SECONDS * 2 ** (attempt - 1))


# -- requests ------------------------------------------------------------------------------------------


def on_stage_signed_off(sender, signoff, record, **kwargs):
    """Request the dossier of a stage record that was just signed off (and, at archiving, the whole)."""
    request_stage_dossier(signoff)
    if record.stage == Stage.ARC and record.status == StageStatus.DONE:
        request_archive_dossier(record.decision)


def _next_version(**lookup):
    return (Dossier.objects.filter(**lookup).aggregate(v=Max("version"))["v"] or 0) + 1


def request_stage_dossier(signoff, *, user=None, reason=""):
    """Create a PENDING dossier for the record `signoff` signed, and queue its render."""
    record = signoff.stage_record
    previous = Dossier.objects.filter(stage_record=record).order_by("-version").first()
    dossier = Dossier.objects.create(
        kind=Dossier.Kind.STAGE,
        decision_id=record.decision_id,
        stage_record=record,
        signoff=signoff,
        version=_next_version(stage_record=record),
        supersedes=previous,
        reason=reason,
        requested_by=user,
        manifest_sha256=signoff.content_sha256,
    )
    enqueue(dossier)
    return dossier


def request_archive_dossier(decision, *, user=None, reason=""):
    """Create a PENDING archive dossier (归档案卷) for `decision` and queue its assembly."""
    lookup = {"decision": decision, "kind": Dossier.Kind.ARCHIVE, "stage_record__isnull": True}
    previous = Dossier.objects.filter(**lookup).order_by("-version").first()
    dossier = Dossier.objects.create(
        kind=Dossier.Kind.ARCHIVE,
        decision=decision,
        version=_next_version(**lookup),
        supersedes=previous,
        reason=reason,
        requested_by=user,
    )
    enqueue(dossier)
    return dossier


def regenerate(user, dossier, reason):
    """Render a dossier again as a new version; the old version stays (ARCHIVIST or GOV_OFFICE)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        role = require_role(user, dossier.decision, REGENERATORS)
        if not reason:
            refuse("REASON_REQUIRED", "B10", "重新生成案卷须说明理由", "Regenerating a dossier needs a reason")
        if dossier.kind == Dossier.Kind.STAGE:
            new = request_stage_dossier(dossier.signoff, user=user, reason=reason)
        else:
            new = request_archive_dossier(dossier.decision, user=user, reason=reason)
        audit.append(
            actor=user,
            role=role,
            action="dossier:regenerate",
            obj=new,
            decision=dossier.decision,
            payload={"supersedes": dossier.pk, "version": new.version, "reason": reason},
        )
    return new


def readers():
    """Who may read a decision's dossiers: its READERS and those who preview them while working."""
    from decisions.queries import READERS

    return (*READERS, *PREVIEWERS)


def open_for_reading(user, dossier):
    """Return a finished dossier's PDF, opened, for a reader of its decision; the download is audited."""
    role = require_role(user, dossier.decision, readers())
    with transaction.atomic():
        audit.append(
            actor=user,
            role=role,
            action="dossier:download",
            obj=dossier,
            decision=dossier.decision,
            payload={"sha256": dossier.sha256, "version": dossier.version},
        )
    return dossier.file.open("rb")


def enqueue(dossier, run_after=None):
    """Queue the render of `dossier` on the `pdf` worker (in the caller's transaction)."""
    from reports.tasks import render_dossier

    task = render_dossier.using(run_after=run_after) if run_after else render_dossier
    result = task.enqueue(dossier.pk)
    Dossier.objects.filter(pk=dossier.pk).update(task_id=str(result.id))
    return result


# -- rendering -----------------------------------------------------------------------------------------


class NotReady(Exception):
    """The archive dossier waits for a stage dossier that is not rendered yet."""


def render(dossier_id):
    """Render dossier `dossier_id` if it is still to do; record a failure and retry it later."""
    recover_stalled()  # every render looks for renders a killed worker left behind
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=dossier_id)
        if dossier.status in (Dossier.Status.DONE, Dossier.Status.RENDERING):
            return dossier
        dossier.status = Dossier.Status.RENDERING
        dossier.started_at = timezone.now()
        dossier.attempts += 1
        dossier.error = ""
        dossier.save(update_fields=["status", "started_at", "attempts", "error"])
        watch(dossier)
    try:
        # Storing is inside: a full disk is a failed attempt with its reason and a retry, not a stuck render.
        return _store(dossier, build(dossier))
    except NotReady as waiting:
        return _requeue(dossier, str(waiting), count_attempt=False)
    except Exception as exc:
        logger.exception("rendering dossier %s failed", dossier_id)
        return _failed(dossier, exc)


def watch(dossier):
    """Queue a check just after this render's timeout: if the worker was killed meanwhile, the next worker to pick the
    check up requeues and renders the dossier (recover_stalled), with no one running `render_dossiers` by hand."""
    from reports.tasks import render_dossier

    timeout = timedelta(seconds=settings.JUECE_RENDER_TIMEOUT_SECONDS + 1)
    render_dossier.using(run_after=dossier.started_at + timeout).enqueue(dossier.pk)


def build(dossier):
    """Return the Rendered PDF of `dossier` (no database writes)."""
    from reports import pdf

    if dossier.kind == Dossier.Kind.STAGE:
        edition = (dossier.version, dossier.reason) if dossier.version > 1 else None
        return pdf.stage_dossier_pdf(dossier.signoff, edition=edition)
    from reports import archive

    return archive.archive_dossier_pdf(dossier.decision)


def _store(dossier, rendered):
    digest = hashlib.sha256(rendered.content).hexdigest()
    with transaction.atomic():
        current = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if current.status != Dossier.Status.RENDERING or current.attempts != dossier.attempts:
            return current  # recovered and taken by another worker meanwhile: its result counts
        current.sha256 = digest
        save_file(current.file, "dossier.pdf", rendered.content)
        current.size = len(rendered.content)
        current.pages = rendered.pages
        current.status = Dossier.Status.DONE
        current.finished_at = timezone.now()
        current.save()
        audit.append(
            actor=None,
            role=SYSTEM_ROLE,
            action="dossier:issued",
            obj=current,
            decision=current.decision_id,
            payload={
                "kind": current.kind,
                "stage_record": current.stage_record_id,
                "signoff": current.signoff_id,
                "version": current.version,
                "supersedes": current.supersedes_id,
                "sha256": digest,
                "manifest_sha256": current.manifest_sha256,
                "pages": rendered.pages,
                "size": len(rendered.content),
            },
        )
    return current


def _failed(dossier, exc):
    message = "".join(traceback.format_exception_only(exc)).strip()
    if dossier.attempts >= max_attempts():
        with transaction.atomic():
            Dossier.objects.filter(pk=dossier.pk).update(
                status=Dossier.Status.FAILED, error=message, finished_at=timezone.now()
            )
        return Dossier.objects.get(pk=dossier.pk)
    return _requeue(dossier, message, count_attempt=True)


def _requeue(dossier, message, count_attempt):
    with transaction.atomic():
        attempts = dossier.attempts if count_attempt else dossier.attempts - 1
        Dossier.objects.filter(pk=dossier.pk).update(status=Dossier.Status.PENDING, error=message, attempts=attempts)
        delay = retry_delay(max(attempts, 1)) if count_attempt else timedelta(seconds=5)
        enqueue(dossier, run_after=timezone.now() + delay)
    return Dossier.objects.get(pk=dossier.pk)


def recover_stalled(timeout=None):
    """Requeue dossiers whose render was killed (RENDERING for longer than `timeout`); return them."""
    if timeout is None:
        timeout = timedelta(seconds=settings.JUECE_RENDER_TIMEOUT_SECONDS)
    stalled = list(
        Dossier.objects.filter(status=Dossier.Status.RENDERING, started_at__lt=timezone.now() - timeout).order_by("pk")
    )
    for dossier in stalled:
        with transaction.atomic():
            updated = Dossier.objects.filter(pk=dossier.pk, status=Dossier.Status.RENDERING).update(
                status=Dossier.Status.PENDING, error="渲染进程中断，已重新排队 (the render was interrupted; requeued)"
            )
            if updated:
                enqueue(dossier)
    return stalled


def retry_failed(decision=None):
    """Requeue FAILED dossiers (after the cause was fixed, e.g. a font installed); return how many."""
    failed = Dossier.objects.filter(status=Dossier.Status.FAILED)
    if decision is not None:
        failed = failed.filter(decision=decision)
    count = 0
    for dossier in failed:
        with transaction.atomic():
            if Dossier.objects.filter(pk=dossier.pk, status=Dossier.Status.FAILED).update(
                status=Dossier.Status.PENDING, attempts=0
            ):
                enqueue(dossier)
                count += 1
    return count


def render_pending(decision=None, progress=None):
    """Render every PENDING dossier now, in this process (tests, CLI, a worker-less laptop)."""
    pending = Dossier.objects.filter(status=Dossier.Status.PENDING).order_by("kind", "pk")
    if decision is not None:
        pending = pending.filter(decision=decision)
    # Stage dossiers first: the archive dossier is assembled from them.
    ids = list(pending.filter(kind=Dossier.Kind.STAGE).values_list("pk", flat=True))
    ids += list(pending.filter(kind=Dossier.Kind.ARCHIVE).values_list("pk", flat=True))
    done = []
    for number, pk in enumerate(ids, start=1):
        done.append(render(pk))
        if progress:
            progress(number, len(ids), str(done[-1]))
    return done


def preview(user, record):
    """Return a 草稿-marked PDF of a stage as it stands, before sign-off; nothing is stored."""
    from decisions.models import SignOff
    from decisions.queries import READERS
    from decisions.rules import Context
    from decisions.services.common import signing_context, stage_manifest
    from reports import pdf, queries

    # Those who read the record, and those who work on and sign off stages, may see a draft.
    role = require_role(user, record.decision, (*READERS, *PREVIEWERS))
    ctx = Context(decision=record.decision, actor=user, role=role)
    manifest = audit.normalise({**stage_manifest(record), **signing_context(ctx, record, "尚未签署（草稿）")})
    unsigned = SignOff(
        decision=record.decision,
        stage_record=record,
        user=user,
        role=role,
        at=ctx.now,
        subject="尚未签署（草稿）",
        manifest=manifest,
        content_sha256=queries.manifest_sha256(manifest),
    )
    return pdf.stage_dossier_pdf(unsigned, draft=True).content


def verify_stored(decision=None):
    """Re-hash every rendered dossier; return (checked, problems) where each problem names the dossier.

    A stored PDF must still hash to its row's SHA-256, and that SHA-256 must be the one its
    `dossier:issued` audit event recorded (the chain vouches for the event: `verify_audit`).
    """
    rendered = Dossier.objects.filter(status=Dossier.Status.DONE).select_related("decision", "stage_record")
    if decision is not None:
        rendered = rendered.filter(decision=decision)
    issued = {
        e.object_id: e.payload.get("sha256")
        for e in AuditEvent.objects.filter(action="dossier:issued", object_type=Dossier._meta.label)
    }
    checked, problems = 0, []
    for dossier in rendered.order_by("pk"):
        checked += 1
        if issued.get(str(dossier.pk)) != dossier.sha256:
            problems.append(
                (dossier, "审计链中的生成事件与记录的哈希不符 (the chain's dossier:issued event disagrees)")
            )
            continue
        try:
            with dossier.file.open("rb") as stored:
                digest = hashlib.sha256()
                for chunk in iter(lambda: stored.read(1 << 20), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            problems.append((dossier, "文件缺失 (the file is missing)"))
            continue
        if digest.hexdigest() != dossier.sha256:
            problems.append((dossier, "文件内容已被改动 (the file does not match its SHA-256)"))
    return checked, problems
