"""Shared pieces of every service: lock, gate, step, stage records, documents, sign-offs.

A service is one transaction: lock the decision row, check the actor's role, check
the rules, change the records, append the audit events. A refusal raises before
anything is written, and the transaction rolls back whatever was.
"""

import errno
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from decisions import audit, lifecycle, seals, signing, uploads
from decisions.models import (
    CLOSED_STAGE_STATUSES,
    AuditEvent,
    Decision,
    Document,
    DocumentType,
    HandoverTask,
    Role,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
)
from decisions.permissions import require_role
from decisions.rules import Context, ProcedureRefused, refuse
from decisions.signals import announce_change, stage_signed_off


@contextmanager
def action(actor, decision, tid=None, roles=None, allow_closed=False, **params):
    """Open a transaction, lock the decision, gate the actor and yield the rule context.

    A closed decision refuses everything but archiving here, before any upload is stored (P7 (3)).
    """
    with transaction.atomic():
        locked = lock(decision)
        allowed = tuple(roles or lifecycle.STEPS[tid].roles)
        if allowed == (lifecycle.SYSTEM,):
            role = lifecycle.SYSTEM
        else:
            role = require_role(actor, locked, allowed)
        ctx = Context(decision=locked, actor=actor if getattr(actor, "pk", None) else None, role=role, params=params)
        if not allow_closed:
            closed = lifecycle.closed_refusal(locked, tid)
            if closed:
                raise ProcedureRefused([closed])
        yield ctx
        announce_change(locked.pk)  # after commit: the workflows re-route its tasks


@contextmanager
def public_action(decision):
    """The public's variant of action() (公众, no login): the same transaction and lock, no role to check.

    What a member of the public may do is decided by the service that uses it (an open comment period …);
    a closed decision refuses everything here, as in action().
    """
    with transaction.atomic():
        locked = lock(decision)
        ctx = Context(decision=locked, actor=None, role=Role.PUBLIC)
        closed = lifecycle.closed_refusal(locked, None)
        if closed:
            raise ProcedureRefused([closed])
        yield ctx
        announce_change(locked.pk)  # after commit: the lead unit's tasks see the new comment


def lock(decision):
    """Return a fresh copy of `decision` with its row locked until the transaction ends."""
    pk = decision.pk if isinstance(decision, Decision) else decision
    return Decision.objects.select_for_update(of=("self",)).select_related("organ", "profile", "lead_unit").get(pk=pk)


def take_step(ctx, tid, *args, payload=None, **kwargs):
    """Perform step `tid` on ctx.decision and append its audit event; return the fsm result."""
    source, target, result = lifecycle.perform(ctx.decision, tid, ctx, *args, **kwargs)
    audit.append(
        actor=ctx.actor,
        role=ctx.role,
        action=f"transition:{tid}",
        obj=ctx.decision,
        decision=ctx.decision,
        payload={"step": tid, "from": source, "to": target, **(payload or {})},
    )
    return result


def record_event(ctx, action_name, obj, payload=None):
    """Append a non-transition event (upload, supersession, waiver, override, sign-off …)."""
    return audit.append(
        actor=ctx.actor, role=ctx.role, action=action_name, obj=obj, decision=ctx.decision, payload=payload or {}
    )


# -- stage records ------------------------------------------------------------------------------


def create_stage(ctx, stage, *, round=None, supersedes=None):
    """Create a PENDING record for `stage` and audit it."""
    record = StageRecord.objects.create(decision=ctx.decision, stage=stage, round=round, supersedes=supersedes)
    record_event(
        ctx, "stage:create", record, {"stage": stage, "round": round, "supersedes": getattr(supersedes, "pk", None)}
    )
    return record


def open_stage(ctx, record):
    """Move a record PENDING → IN_PROGRESS, pinned to the current draft."""
    record.open(ctx.decision.current_draft, ctx.now)
    record.save()
    record_event(ctx, "stage:open", record, {"stage": record.stage, "draft": _draft_no(record)})
    return record


def close_stage(
    ctx, record, how, *, outcome="", reason_code="", reason_text="", subject=None, version=None, extra=None
):
    """Close a record (complete / not triggered / waived), sign it off and audit both.

    P8: the sign-off stores the hash of what it signs; the stage closes with it. `version` pins a
    record closed straight from PENDING (default: the current draft); `extra` returns more content
    for the sign-off (the minutes of a meeting …), read once the record is closed.
    """
    if how == StageStatus.DONE:
        if record.status == StageStatus.PENDING:
            record.open(version or ctx.decision.current_draft, ctx.now)
        record.complete(ctx.now, outcome)
    elif how == StageStatus.NOT_TRIGGERED:
        record.close_not_triggered(reason_code, reason_text, ctx.now, ctx.decision.current_draft)
    elif how == StageStatus.WAIVED:
        record.waive(reason_code, reason_text, ctx.now, ctx.decision.current_draft)
    else:
        raise ValueError(how)
    record.save()
    record_event(
        ctx,
        "stage:close",
        record,
        {
            "stage": record.stage,
            "status": record.status,
            "outcome": outcome,
            "reason_code": reason_code,
            "draft": _draft_no(record),
        },
    )
    manifest = {**stage_manifest(record), **extra()} if extra else None
    signoff = sign_off(ctx, record, subject or f"{record.get_stage_display()} {record.get_status_display()}", manifest)
    create_handover_tasks(ctx, record)
    return signoff


def freeze_stage(ctx, record, reason):
    """Make a record that ends without closing read-only (T16a, T19a, T27b, T28, T29)."""
    record.freeze(reason, ctx.now)
    record.save()
    record_event(ctx, "stage:freeze", record, {"stage": record.stage, "status": record.status, "reason": reason})


# The stages co-units work on (第十一条、第十三条): drafting and the consultation sub-stages.
HANDOVER_STAGES = (Stage.DRAFTING, Stage.PP, Stage.HEARING, Stage.EX, Stage.RA)


def create_handover_tasks(ctx, record):
    """P18: each co-unit gets one hand-over task per stage it worked on, when that stage closes."""
    if record.stage not in HANDOVER_STAGES:
        return
    for unit in ctx.decision.co_units.all():
        task, created = HandoverTask.objects.get_or_create(decision=ctx.decision, unit=unit, stage_record=record)
        if created:
            record_event(ctx, "handover:create", task, {"unit": unit.pk, "stage_record": record.pk})


def _draft_no(record):
    return record.draft_version.number if record.draft_version_id else None


# -- sign-offs ----------------------------------------------------------------------------------


def stage_manifest(record):
    """Return what a stage sign-off attests: the record and the hashes of its documents."""
    return {
        "decision": record.decision.reference,
        "stage_record": record.pk,
        "stage": record.stage,
        "round": record.round,
        "status": record.status,
        "outcome": record.outcome,
        "reason_code": record.reason_code,
        "reason_text": record.reason_text,
        "draft_version": _draft_no(record),
        "started_at": record.started_at,
        "completed_at": record.completed_at,
        "documents": [
            {"id": d.pk, "type": d.doc_type, "title": d.title, "sha256": d.sha256}
            for d in record.documents.order_by("pk")
        ],
        "waivers": [
            {"code": w.reason_code, "basis": w.legal_basis, "approved_by": w.approved_by_id}
            for w in record.waivers.order_by("pk")
        ],
    }


def sign_off(ctx, record, subject, manifest=None, supersedes=None):
    """Record who signed what, in which role, when, with the SHA-256 of what was signed.

    What is signed is the stage's manifest plus its context (signing_context): everything the
    dossier's cover sheet shows. The dossier embeds this manifest, so its hash binds the PDF.
    The signer's signature over its digest (不可否认性) and the record MAC: decisions/signing.py.
    """
    manifest = manifest if manifest is not None else stage_manifest(record)
    manifest = audit.normalise({**manifest, **signing_context(ctx, record, subject)})
    text = audit.canonical(manifest)
    digest = hashlib.sha256(text.encode()).hexdigest()
    signoff = SignOff(
        decision=ctx.decision,
        stage_record=record,
        user=ctx.actor,
        role=ctx.role,
        at=ctx.now,
        subject=subject,
        manifest=manifest,
        content_sha256=digest,
        supersedes=supersedes,
    )
    # 国密 SM3, the signer's signature (JUECE_SIGN_OFFS) and the record MAC; a signature that fails refuses here.
    signing.seal(ctx, signoff, text)
    signoff.save()
    record_event(
        ctx,
        "signoff",
        signoff,
        {
            "subject": subject,
            "sha256": digest,
            "stage_record": getattr(record, "pk", None),
            **signing.event_details(signoff),
        },
    )
    if isinstance(record, StageRecord):
        # The dossier is requested in this transaction: a rolled-back close requests nothing.
        stage_signed_off.send(sender=SignOff, signoff=signoff, record=record)
    return signoff


def signing_context(ctx, record, subject):
    """Return what the cover sheet adds to a stage's manifest (B8): who, under which rules, after what."""
    decision = ctx.decision
    previous = decision.signoffs.select_related("user").order_by("-id").first()
    return {
        "subject": subject,
        "signed_at": ctx.now,
        "signer": {"user": ctx.actor.get_username() if ctx.actor else "system", "role": ctx.role},
        "decision_info": {
            "reference": decision.reference,
            "title": decision.title,
            "organ": decision.organ.name,
            "lead_unit": decision.lead_unit.name if decision.lead_unit_id else "",
            "state": decision.state,
        },
        "catalogue_entries": [
            {"catalogue": str(e.catalogue), "key": str(e.key), "seq_no": e.seq_no, "name": e.name}
            for e in decision.catalogue_entries.filter(valid_to__isnull=True).select_related("catalogue")
        ],
        "profile": {"code": decision.profile.code, "version": decision.profile.version, "name": decision.profile.name},
        "guards": [
            {
                "rule": rule.name,
                "code": rule.code,
                "article": rule.citation,
                "zh": rule.zh,
                "held": held,
                "warning": rule.warning,
            }
            for rule, held in _unique_evaluations(ctx)
        ],
        "actors": stage_actors(record),
        "previous_signoff": previous
        and {
            "id": previous.pk,
            "subject": previous.subject,
            "user": previous.user.get_username(),
            "role": previous.role,
            "at": previous.at,
            "sha256": previous.content_sha256,
        },
    }


def _unique_evaluations(ctx):
    """Return each rule once, with its last result (a rule may be asked again after an upload)."""
    seen = {}
    for rule, held in getattr(ctx, "evaluated", ()):
        seen.pop(rule.name, None)
        seen[rule.name] = (rule, held)
    return list(seen.values())


def stage_actors(record):
    """Return each person who acted on `record`, in the role they acted in, with what they did."""
    if not isinstance(record, StageRecord):
        return []
    document_ids = {str(pk) for pk in record.documents.values_list("pk", flat=True)}
    actors = {}
    events = AuditEvent.objects.filter(decision_id_ref=record.decision_id).order_by("seq")
    for event in events.only("actor_label", "role", "action", "object_type", "object_id", "payload"):
        own = event.object_type == StageRecord._meta.label and event.object_id == str(record.pk)
        touches = event.object_type == Document._meta.label and event.object_id in document_ids
        if not (own or touches or (event.payload or {}).get("stage_record") == record.pk):
            continue
        entry = actors.setdefault((event.actor_label, event.role), [])
        if event.action not in entry:
            entry.append(event.action)
    return [{"actor": label, "role": role, "actions": done} for (label, role), done in actors.items()]


# -- documents ----------------------------------------------------------------------------------


def check_upload(name, content):
    """B10: refuse a file of a type not accepted, empty, too large, or whose content is not what its name says."""
    extension = uploads.extension_of(name)
    if extension not in settings.JUECE_UPLOAD_EXTENSIONS:
        refuse(
            "DOCUMENT_TYPE_NOT_ALLOWED",
            "B10",
            f"不接受 .{extension or '(无扩展名)'} 文件；可上传：{'、'.join(settings.JUECE_UPLOAD_EXTENSIONS)}",
            f"Files of type .{extension} are not accepted",
        )
    if not content:
        refuse("DOCUMENT_EMPTY", "B10", "文件为空", "The file is empty")
    if len(content) > settings.JUECE_UPLOAD_MAX_BYTES:
        refuse(
            "DOCUMENT_TOO_LARGE",
            "B10",
            f"文件超过 {settings.JUECE_UPLOAD_MAX_BYTES // (1024 * 1024)} MB 上限",
            "The file is larger than the upload limit",
        )
    mismatch = uploads.mismatch(name, content)
    if mismatch:
        refuse("DOCUMENT_CONTENT_MISMATCH", "B10", mismatch.zh, mismatch.en)


def refuse_if_closed(record, decision, archival=False):
    """B10: nothing is added to, changed in or deleted from a closed or frozen record.

    `archival`: the archive's own records (归档目录, 移交记录) still go onto an open ARC record of a
    closed decision, since archiving is what a closed decision waits for (P7 (3)).
    """
    closed = record is not None and (record.status in CLOSED_STAGE_STATUSES or record.frozen_at is not None)
    if closed or (decision.state in lifecycle.CLOSED_STATES and not archival):
        refuse(
            "DOCUMENT_IMMUTABLE",
            "第三十九条",
            "该环节已办结(或决策已终结)，材料不得增删改，只能以说明理由的新版本替代",
            "The stage is closed: its documents cannot be added, edited or deleted, only superseded with a reason",
        )


def store_document(
    ctx,
    doc_type,
    name,
    content,
    *,
    record=None,
    title="",
    signed=False,
    sealed=False,
    supersedes=None,
    reason="",
    archival=False,
):
    """Validate and store one upload with its SHA-256 (and SM3 under 国密), sealed (decisions/seals.py), and audit it."""
    if doc_type not in DocumentType.values:
        refuse("DOCUMENT_TYPE_UNKNOWN", "B8", f"未知的材料类型 {doc_type}", f"Unknown document type {doc_type}")
    check_upload(name, content)
    if supersedes is None:
        refuse_if_closed(record, ctx.decision, archival=archival)
    digest = hashlib.sha256(content).hexdigest()
    document = Document(
        decision=ctx.decision,
        stage_record=record,
        doc_type=doc_type,
        title=title or PurePath(name).stem,
        original_name=PurePath(name).name,
        size=len(content),
        sha256=digest,
        signed=signed,
        sealed=sealed,
        uploaded_by=ctx.actor,
        uploaded_role=ctx.role,
        uploaded_at=ctx.now,
        supersedes=supersedes,
        supersede_reason=reason,
    )
    save_file(document.file, PurePath(name).name, content)
    seals.seal_document(document, content)  # after the file is stored: the seal covers where it is
    # Stored content-addressed: a rolled-back upload leaves at most an unreferenced copy, never a wrong one.
    document.save()
    record_event(
        ctx,
        "document:supersede" if supersedes else "document:upload",
        document,
        {
            "type": doc_type,
            "name": document.original_name,
            "sha256": digest,
            "size": len(content),
            "stage_record": getattr(record, "pk", None),
            "supersedes": getattr(supersedes, "pk", None),
            "reason": reason,
        },
    )
    return document


class StorageFull(OSError):
    """The file store has no room left (ENOSPC): nothing was recorded; the same step may be sent again later."""

    message_zh = "存储空间不足，文件未能保存，本次操作未记录任何内容；请联系系统管理员清理或扩容后重试。"
    message_en = (
        "The file store is full: the file was not saved and nothing was recorded. Try again once there is room."
    )

    def __init__(self, name=""):
        super().__init__(errno.ENOSPC, f"{self.message_zh} ({self.message_en})", name)


def save_file(field_file, name, content):
    """Store `content` as `field_file` (not saving its row); a full disk raises StorageFull and leaves no partial file.

    Every stored record (documents, catalogue records, dossiers) goes through here, so a write cut off by a full disk
    never leaves a truncated file where a later row could point to it.
    """
    storage = field_file.storage
    target = field_file.field.generate_filename(field_file.instance, name)
    existed = storage.exists(target)
    try:
        field_file.save(name, ContentFile(content), save=False)
    except OSError as failure:
        if failure.errno != errno.ENOSPC:
            raise
        if not existed and storage.exists(target):
            storage.delete(target)  # the truncated copy FileSystemStorage left behind
        raise StorageFull(target) from failure


@dataclass(frozen=True)
class Upload:
    """A file handed to a service: stored with its SHA-256 before the step's rules are checked."""

    doc_type: str
    name: str
    content: bytes
    title: str = ""
    signed: bool = False
    sealed: bool = False


def store_upload(ctx, upload, *, record=None, **options):
    """Store one Upload on `record` (options as for store_document) and return the document."""
    return store_document(
        ctx,
        upload.doc_type,
        upload.name,
        upload.content,
        record=record,
        title=upload.title,
        signed=upload.signed,
        sealed=upload.sealed,
        **options,
    )


def attach(ctx, record, uploads):
    """Store each upload on `record` and return the documents, in order."""
    return [store_upload(ctx, u, record=record) for u in uploads or ()]
