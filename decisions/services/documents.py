"""Documents and draft versions: upload, supersede, delete while allowed (B10, 第三十九条)."""

import hashlib

from decisions import lifecycle
from decisions.models import CLOSED_STAGE_STATUSES, Document, DocumentType, DraftVersion, Role, Stage
from decisions.rules import refuse
from decisions.services.common import action, record_event, refuse_if_closed, store_document

# Who may add records to each stage's live record (B1, B8).
STAGE_UPLOADERS = {
    Stage.INITIATION: [Role.GOV_OFFICE, Role.UNDERTAKING_LEAD],
    Stage.DRAFTING: [Role.UNDERTAKING_LEAD, Role.UNDERTAKING_CO],
    Stage.PP: [Role.UNDERTAKING_LEAD, Role.UNDERTAKING_CO],
    Stage.HEARING: [Role.HEARING_ORG, Role.UNDERTAKING_LEAD],
    Stage.EX: [Role.UNDERTAKING_LEAD, Role.EXPERT],
    Stage.RA: [Role.UNDERTAKING_LEAD, Role.RISK_ASSESSOR],
    Stage.LR: [Role.LEGAL_REVIEWER, Role.LEGAL_ADVISER, Role.UNDERTAKING_LEAD],
    Stage.CD: [Role.GOV_OFFICE],
    Stage.PARTY_REPORT: [Role.PARTY_LIAISON],
    Stage.PUB: [Role.GOV_OFFICE],
    Stage.IMPL: [Role.GOV_OFFICE, Role.EXECUTOR],
    Stage.PE: [Role.GOV_OFFICE, Role.POST_EVALUATOR],
    Stage.ADJ: [Role.GOV_OFFICE],
    Stage.ARC: [Role.ARCHIVIST, Role.UNDERTAKING_CO, Role.UNDERTAKING_LEAD],
}

# States in which the undertaking unit may put a new draft version on record.
DRAFTABLE_STATES = (
    lifecycle.DRAFTING,
    lifecycle.CONSULTATION,
    lifecycle.LEGAL_REVIEW_RETURNED,
    lifecycle.LEGAL_REVIEW_DONE,
    lifecycle.REVISING,
    lifecycle.READY_FOR_MEETING,
    lifecycle.DEFERRED,
)
DECIDED_STATES = (
    lifecycle.DECIDED,
    lifecycle.PUBLISHED,
    lifecycle.ISSUED_NOT_PUBLIC,
    lifecycle.IMPLEMENTING,
    lifecycle.SUSPENDED,
    lifecycle.POST_EVALUATION,
)


def upload(actor, decision, stage, upload):
    """Add one record to the live record of `stage` (refused once that record is closed)."""
    with action(actor, decision, roles=STAGE_UPLOADERS[stage]) as ctx:
        record = ctx.decision.current_record(stage)
        if record is None:
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "P7",
                f"“{Stage(stage).label}”环节尚未开始，不能上传材料",
                f"The {stage} stage has not started",
            )
        return store_document(
            ctx,
            upload.doc_type,
            upload.name,
            upload.content,
            record=record,
            title=upload.title,
            signed=upload.signed,
            sealed=upload.sealed,
        )


def supersede(actor, document, upload, *, reason):
    """Add a corrected version of a document; the old one stays, marked superseded (第三十九条)."""
    if not str(reason or "").strip():
        refuse("REASON_REQUIRED", "第三十九条", "替代材料须说明理由", "Superseding a document needs a reason")
    record = document.stage_record
    roles = STAGE_UPLOADERS[record.stage] if record else [Role.UNDERTAKING_LEAD, Role.GOV_OFFICE]
    with action(actor, document.decision, roles=roles, allow_closed=True) as ctx:
        old = Document.objects.select_for_update().get(pk=document.pk)
        if hasattr(old, "superseded_by"):
            refuse(
                "DOCUMENT_ALREADY_SUPERSEDED",
                "B10",
                "该材料已被替代，请替代其最新版本",
                "The document was already superseded",
            )
        return store_document(
            ctx,
            upload.doc_type or old.doc_type,
            upload.name,
            upload.content,
            record=record,
            title=upload.title or old.title,
            signed=upload.signed,
            sealed=upload.sealed,
            supersedes=old,
            reason=reason,
        )


def delete(actor, document):
    """Delete a document of a stage still open; refused once the stage has left IN_PROGRESS (B10)."""
    record = document.stage_record
    roles = STAGE_UPLOADERS[record.stage] if record else [Role.UNDERTAKING_LEAD]
    with action(actor, document.decision, roles=roles, allow_closed=True) as ctx:
        if record is not None:
            record.refresh_from_db()
        refuse_if_closed(record, ctx.decision)
        if record is None or hasattr(document, "superseded_by") or document.supersedes_id:
            refuse(
                "DOCUMENT_IMMUTABLE",
                "第三十九条",
                "草案及已替代的材料不得删除",
                "Drafts and superseded documents cannot be deleted",
            )
        in_use = DraftVersion.objects.filter(document=document).exists()
        if in_use:
            refuse("DOCUMENT_IMMUTABLE", "第三十九条", "草案文本不得删除", "A draft text cannot be deleted")
        record_event(
            ctx,
            "document:delete",
            document,
            {
                "type": document.doc_type,
                "name": document.original_name,
                "sha256": document.sha256,
                "stage_record": record.pk,
            },
        )
        document.delete()


def add_draft_version(actor, decision, upload, *, change_summary=""):
    """Put a new version of the draft on record (决策草案第N版)."""
    with action(actor, decision, roles=[Role.UNDERTAKING_LEAD]) as ctx:
        d = ctx.decision
        if d.state in DECIDED_STATES:
            refuse(
                "ADJUSTMENT_REQUIRES_PROCEDURE",
                "第三十七条",
                "依法作出的重大行政决策，未经法定程序不得随意变更；须通过重大调整程序修改",
                "A decision in force cannot be changed directly: use the adjustment procedure",
            )
        if d.state not in DRAFTABLE_STATES:
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "P7",
                f"决策处于“{d.get_state_display()}”状态，不能修改草案",
                f"The draft cannot change in state {d.state}",
            )
        return new_draft_version(ctx, upload, change_summary)


def new_draft_version(ctx, upload, change_summary, adopted_at_meeting=False):
    """Store a draft document and number it as the next version (used by several steps)."""
    d = ctx.decision
    document = store_document(
        ctx, DocumentType.DRAFT, upload.name, upload.content, title=upload.title or f"{d.title}(草案)"
    )
    last = d.draft_versions.order_by("-number").first()
    version = DraftVersion.objects.create(
        decision=d,
        number=(last.number + 1) if last else 1,
        document=document,
        change_summary=change_summary,
        created_at=ctx.now,
        created_by=ctx.actor,
        adopted_at_meeting=adopted_at_meeting,
    )
    record_event(
        ctx,
        "draft:new_version",
        version,
        {"number": version.number, "sha256": document.sha256, "adopted_at_meeting": adopted_at_meeting},
    )
    return version


__all__ = [
    "upload",
    "supersede",
    "delete",
    "add_draft_version",
    "new_draft_version",
    "verify_stored",
    "CLOSED_STAGE_STATUSES",
]


def open_for_reading(actor, document):
    """Return the stored file of a decision's document, opened, for someone holding a role for the decision.

    Every reading is an audit event (document:download), for the pages and the API alike: who read
    which file, as which role, and the file's SHA-256.
    """
    from django.db import transaction

    from decisions import audit
    from decisions.permissions import require_role

    role = require_role(actor, document.decision, Role.values)
    with transaction.atomic():
        audit.append(
            actor=actor,
            role=role,
            action="document:download",
            obj=document,
            decision=document.decision,
            payload={"sha256": document.sha256, "name": document.original_name},
        )
    return document.file.open("rb")


def verify_stored():
    """Re-hash every stored document; return (checked, problems) where each problem names the document.

    A stored file must still hash to its row's SHA-256 (and SM3, when stored under 国密), and the row must
    still match its seal (decisions/seals.py), so a file swapped together with its recorded hash is caught too.
    """
    from decisions import crypto, seals

    checked, problems = 0, []
    for document in Document.objects.order_by("pk").iterator(chunk_size=500):
        checked += 1
        try:
            with document.file.open("rb") as stored:
                sha256, sm3 = hashlib.sha256(), bytearray()
                for chunk in iter(lambda: stored.read(1 << 20), b""):
                    sha256.update(chunk)
                    if document.digest_sm3:
                        sm3 += chunk
        except FileNotFoundError:
            problems.append((document, "文件缺失 (the file is missing)"))
            continue
        if sha256.hexdigest() != document.sha256:
            problems.append((document, "文件内容已被改动 (the file does not match its SHA-256)"))
        elif document.digest_sm3 and crypto.digest_with("SM3", bytes(sm3)) != document.digest_sm3:
            problems.append((document, "文件内容已被改动 (the file does not match its SM3)"))
        elif seals.problems_of(document):
            problems.append((document, "记录封签不符 (the row does not match its seal)"))
    return checked, problems
