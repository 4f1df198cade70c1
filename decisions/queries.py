"""Read-only views of a decision's record: the archive index (归档目录) and the full record that a
supervisor or auditor reads (第三十三条, B8 item 13, scenario 59). Nothing here writes anything.
"""

from decisions.models import AgendaItem, AuditEvent, ImplementationClosure, Role, StageStatus, Waiver
from decisions.permissions import require_role

NOT_REACHED = "未进行(not reached)"

# Scenario 59: the supervisor (上级行政机关、审计机关) and the organ's own roles read the whole record.
READERS = (Role.SUPERVISOR, Role.GOV_OFFICE, Role.CHIEF, Role.MEETING_MEMBER, Role.PARTY_LIAISON, Role.ARCHIVIST)


def _signoff(signoff):
    return {
        "id": signoff.pk,
        "stage_record": signoff.stage_record_id,
        "user": signoff.user_id,
        "user_label": str(signoff.user),
        "role": signoff.role,
        "at": signoff.at,
        "subject": signoff.subject,
        "sha256": signoff.content_sha256,
        "supersedes": signoff.supersedes_id,
    }


def _document(document):
    return {
        "id": document.pk,
        "stage_record": document.stage_record_id,
        "type": document.doc_type,
        "title": document.title,
        "name": document.original_name,
        "sha256": document.sha256,
        "size": document.size,
        "signed": document.signed,
        "sealed": document.sealed,
        "uploaded_by": document.uploaded_by_id,
        "uploaded_role": document.uploaded_role,
        "uploaded_at": document.uploaded_at,
        "supersedes": document.supersedes_id,
        "supersede_reason": document.supersede_reason,
        "superseded": hasattr(document, "superseded_by"),
    }


def archive_index(decision):
    """Return the archive index (归档目录): every stage record in order, never-reached ones marked "not reached".

    Each entry names the record's stage, round, status, draft version, whether it was frozen
    (and why), what superseded it, its sign-offs with their hashes and its current documents.
    """
    index = []
    records = decision.stage_records.select_related("draft_version").prefetch_related("signoffs", "documents")
    for number, record in enumerate(records.order_by("id"), start=1):
        reached = record.status != StageStatus.PENDING
        if not reached:
            note = NOT_REACHED
        elif record.frozen_at is not None:
            note = f"冻结：{record.frozen_reason}"
        else:
            note = ""
        index.append(
            {
                "no": number,
                "stage_record": record.pk,
                "stage": record.stage,
                "stage_label": str(record.get_stage_display()),
                "round": record.round,
                "status": record.status,
                "status_label": str(record.get_status_display()),
                "reached": reached,
                "note": note,
                "draft_version": record.draft_version.number if record.draft_version_id else None,
                "outcome": record.outcome,
                "reason_code": record.reason_code,
                "started_at": record.started_at,
                "completed_at": record.completed_at,
                "frozen_at": record.frozen_at,
                "frozen_reason": record.frozen_reason,
                "supersedes": record.supersedes_id,
                "signoffs": [_signoff(s) for s in record.signoffs.all()],
                "documents": [
                    {"id": d.pk, "type": d.doc_type, "title": d.title, "sha256": d.sha256}
                    for d in record.documents.all()
                ],
            }
        )
    return index


def decision_record(user, decision):
    """Return the whole record of a decision for reading: stage records, documents, sign-offs, waivers,
    overrides and the audit log (scenario 59). SUPERVISOR and the organ's roles only (NotPermitted otherwise).
    """
    role = require_role(user, decision, READERS)
    overrides = AgendaItem.objects.filter(decision=decision).exclude(time_override_reason="").order_by("id")
    return {
        "read_as": role,
        "decision": {
            "id": decision.pk,
            "reference": decision.reference,
            "title": decision.title,
            "state": decision.state,
            "state_label": str(decision.get_state_display()),
            "organ": decision.organ_id,
            "profile": str(decision.profile),
            "lead_unit": decision.lead_unit_id,
            "co_units": list(decision.co_units.values_list("pk", flat=True)),
            "executor": decision.executor_id,
            "in_force_version": decision.in_force_version.number if decision.in_force_version_id else None,
            "suspended": decision.suspended,
            "closing_reason": decision.closing_reason,
            "supersedes": decision.supersedes_id,
        },
        "draft_versions": [
            {
                "number": v.number,
                "document": v.document_id,
                "summary": v.change_summary,
                "at": v.created_at,
                "adopted_at_meeting": v.adopted_at_meeting,
            }
            for v in decision.draft_versions.order_by("number")
        ],
        "stage_records": archive_index(decision),
        "documents": [_document(d) for d in decision.documents.order_by("id")],
        "signoffs": [_signoff(s) for s in decision.signoffs.order_by("id")],
        "waivers": [
            {
                "id": w.pk,
                "stage_record": w.stage_record_id,
                "code": w.reason_code,
                "basis": w.legal_basis,
                "evidence": w.evidence_id,
                "recorded_by": w.recorded_by_id,
                "approved_by": w.approved_by_id,
                "approved_at": w.approved_at,
            }
            for w in Waiver.objects.filter(stage_record__decision=decision).order_by("id")
        ],
        "overrides": [
            {
                "agenda_item": item.pk,
                "meeting": item.meeting_id,
                "reason": item.time_override_reason,
                "by": item.time_override_by_id,
                "acknowledged_by": item.time_override_acknowledged_by_id,
            }
            for item in overrides
        ],
        "suspensions": list(decision.suspensions.order_by("id").values()),
        "adjustments": list(decision.adjustments.order_by("id").values()),
        "stops": list(decision.stops.order_by("id").values()),
        "post_evaluations": list(decision.post_evaluations.order_by("id").values()),
        "implementation_closure": ImplementationClosure.objects.filter(decision=decision).values().first(),
        "handover_tasks": list(decision.handover_tasks.order_by("id").values()),
        "audit_events": [
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor_label,
                "role": e.role,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "payload": e.payload,
            }
            for e in AuditEvent.objects.filter(decision_id_ref=decision.pk).order_by("seq")
        ],
    }
