"""Party report and publication (第八条、第三十一条、第三十二条; T21, T21a, T22).

PARTY_LIAISON records the 请示报告 on the standing APPROVE outcome (it opens the
PARTY_REPORT record) and the committee's reply (it closes and signs off the record
where `party_reply_required`; otherwise the report alone closes it). GOV_OFFICE then
publishes (T21) or, with a CONFIDENTIAL_BY_LAW waiver recorded by one office user and
approved by another, issues without publication (T22); a disagreeing reply sends the
decision back to REVISING (T21a) and marks the APPROVE superseded, deleting nothing.
"""

from decisions import lifecycle, seals
from decisions.models import (
    DocumentType,
    PartyReport,
    Publication,
    Role,
    Stage,
    StageStatus,
    Waiver,
)
from decisions.profiles import PUBLICATION_CHANNEL_LABELS
from decisions.rules import ProcedureRefused, evaluate, refuse, warnings
from decisions.rules import publication as rules
from decisions.rules.facts import filled, live_record, param
from decisions.services.common import (
    action,
    attach,
    close_stage,
    create_stage,
    freeze_stage,
    open_stage,
    record_event,
    store_document,
    take_step,
)
from decisions.services.meeting import close_adjustment


def _require_decided(ctx, zh, en):
    if ctx.decision.state != lifecycle.DECIDED:
        refuse("STATE_PREREQUISITE_MISSING", "P7", zh, en, detail=ctx.decision.get_state_display())


def _require_type(upload, doc_type, zh, en):
    if upload is None or upload.doc_type != doc_type:
        refuse("DOSSIER_ITEM_MISSING", "第三十一条; B8", zh, en)


def _check_date(ctx, value, zh, en):
    if value is None or value > ctx.today:
        refuse("DATE_INVALID", "第三十一条", zh, en, detail=str(value))


def _supersede_live(ctx, stage, reason):
    """Freeze the live record of `stage` if it is still open, and return it (the new record supersedes it)."""
    record = live_record(ctx.decision, stage)
    if record is not None and not record.is_closed:
        freeze_stage(ctx, record, reason)
    return record


# -- party report (第三十一条) -------------------------------------------------------------------


def record_party_report(actor, decision, *, document, reported_on):
    """Record the 请示报告 to the party committee on the standing APPROVE and open the PARTY_REPORT record."""
    with action(actor, decision, roles=[Role.PARTY_LIAISON]) as ctx:
        _require_decided(
            ctx,
            "请示报告在会议作出同意的决定后、公布或印发前记录",
            "The report is recorded after the APPROVE and before publication or issue",
        )
        approval = rules.current_approval(ctx.decision)
        if rules.current_report(ctx.decision) is not None:
            refuse(
                "PARTY_REPORT_ALREADY_RECORDED",
                "第三十一条",
                "本次决定的请示报告已记录；更正请替代原报告文件",
                "The report on this decision is on record; supersede its document to correct it",
            )
        _require_type(document, DocumentType.PARTY_REPORT, "须上传请示报告文件", "The report document is required")
        _check_date(ctx, reported_on, "报告日期不得晚于今日", "The report date cannot be in the future")
        previous = _supersede_live(ctx, Stage.PARTY_REPORT, "新的请示报告(第三十一条)")
        record = create_stage(ctx, Stage.PARTY_REPORT, supersedes=previous)
        open_stage(ctx, record)
        stored = attach(ctx, record, [document])[0]
        report = PartyReport.objects.create(
            decision=ctx.decision,
            document=stored,
            reported_on=reported_on,
            recorded_at=ctx.now,
            recorded_by=ctx.actor,
            outcome=approval,
            stage_record=record,
        )
        record_event(
            ctx, "party:report", report, {"reported_on": reported_on, "outcome": approval.pk, "document": stored.sha256}
        )
        if not param(ctx.decision, "party_reply_required"):
            close_stage(ctx, record, StageStatus.DONE, outcome="REPORTED", subject="向党委请示报告")
        return report


def record_party_reply(actor, decision, *, document, reply_on, agrees):
    """Record the party committee's reply; where a reply is required it closes the PARTY_REPORT record."""
    if not isinstance(agrees, bool):
        refuse("PARTY_REPLY_MISSING", "第三十一条; P9", "须载明党委是否同意", "Say whether the committee agrees")
    with action(actor, decision, roles=[Role.PARTY_LIAISON]) as ctx:
        _require_decided(
            ctx,
            "党委答复在请示报告之后、公布或印发前记录",
            "The reply is recorded after the report and before publication or issue",
        )
        report = rules.current_report(ctx.decision)
        if report is None:
            raise ProcedureRefused(evaluate([rules.party_report_recorded], ctx))
        if report.reply_agrees is not None:
            refuse(
                "PARTY_REPLY_ALREADY_RECORDED",
                "第三十一条",
                "党委答复已记录；更正请替代原答复文件",
                "The reply is on record; supersede its document to correct it",
            )
        _require_type(document, DocumentType.PARTY_REPLY, "须上传党委答复文件", "The reply document is required")
        _check_date(ctx, reply_on, "答复日期不得晚于今日", "The reply date cannot be in the future")
        if reply_on < report.reported_on:
            refuse("DATE_INVALID", "第三十一条", "答复日期不得早于报告日期", "The reply cannot predate the report")
        record = report.stage_record
        open_record = record is not None and not record.is_closed
        # A reply that is not required arrives after the report closed its record: kept beside it (B10).
        stored = store_document(
            ctx,
            document.doc_type,
            document.name,
            document.content,
            record=record if open_record else None,
            title=document.title,
        )
        report.reply_document = stored
        report.reply_on = reply_on
        report.reply_agrees = agrees
        report.reply_recorded_at = ctx.now
        report.save(update_fields=["reply_document", "reply_on", "reply_agrees", "reply_recorded_at"])
        record_event(ctx, "party:reply", report, {"reply_on": reply_on, "agrees": agrees, "document": stored.sha256})
        if open_record:
            close_stage(
                ctx,
                record,
                StageStatus.DONE,
                outcome="AGREED" if agrees else "NOT_AGREED",
                subject="向党委请示报告及答复",
            )
        return report


def return_after_party_reply(actor, decision, *, reason):
    """T21a: the committee did not agree; back to REVISING, the APPROVE marked superseded (P27)."""
    with action(actor, decision, "T21a", reason=reason) as ctx:
        approval = rules.current_approval(ctx.decision)
        take_step(ctx, "T21a", payload={"reason": reason, "outcome": getattr(approval, "pk", None)})
        approval.superseded_by_party_reply = True
        approval.superseded_reason = reason
        approval.superseded_at = ctx.now
        approval.save(update_fields=["superseded_by_party_reply", "superseded_reason", "superseded_at"])
        record_event(ctx, "meeting:outcome_superseded", approval, {"reason": reason})
        _supersede_live(ctx, Stage.PUB, "党委不同意，退回修改(T21a)")
        return ctx.decision


# -- publication (T21) and issue without publication (T22) --------------------------------------


def _new_pub_record(ctx):
    previous = _supersede_live(ctx, Stage.PUB, "由新的公布记录取代")
    return create_stage(ctx, Stage.PUB, supersedes=previous)


def _end_suspension(ctx):
    """P16: publication (or issue) of the adjusted decision ends a suspension that lasted through the re-run."""
    d = ctx.decision
    if not d.suspended:
        return
    for suspension in d.suspensions.filter(ended_at__isnull=True).order_by("id"):
        suspension.ended_at = ctx.now
        suspension.ended_by = "ADJUSTED_PUBLISHED"
        suspension.end_reason = "调整后的决策已公布或印发(P16)"
        suspension.save(update_fields=["ended_at", "ended_by", "end_reason"])
        record_event(ctx, "suspension:end", suspension, {"ended_by": "ADJUSTED_PUBLISHED"})
    d.set_suspended_flag(False)
    d.save(update_fields=["suspended"])


def _adopt(ctx):
    close_adjustment(ctx, "ADOPTED")
    _end_suspension(ctx)


def publish(
    actor,
    decision,
    *,
    channels,
    proofs,
    final_decision,
    interpretation=None,
    npc_report=None,
    public_concern=False,
    highly_technical=False,
):
    """T21: publish the decision through the profile's channels (第三十二条) and put its text in force.

    `proofs` maps each channel code to the Upload proving publication there. `public_concern`
    and `highly_technical` may be raised here (never cleared), which asks for an interpretation.
    The returned decision carries `warnings` (publication later than the profile's limit, P23).
    """
    channels = list(dict.fromkeys(channels or []))
    proofs = dict(proofs or {})
    unknown = [c for c in [*channels, *proofs] if c not in PUBLICATION_CHANNEL_LABELS]
    if unknown or set(proofs) - set(channels):
        refuse(
            "PUBLICATION_CHANNEL_UNKNOWN",
            "第三十二条",
            "公布渠道不正确(证明须对应所列渠道)",
            "Unknown publication channel, or a proof for a channel not listed",
            detail=", ".join(unknown),
        )
    with action(actor, decision, "T21", channels=channels) as ctx:
        d = ctx.decision
        raised = [
            name
            for name, value in (("public_concern", public_concern), ("highly_technical", highly_technical))
            if value and not getattr(d, name)
        ]
        for name in raised:
            setattr(d, name, True)
        if raised:
            d.save(update_fields=raised)
            record_event(ctx, "decision:flags", d, dict.fromkeys(raised, True))
        record = _new_pub_record(ctx)
        final_doc = attach(ctx, record, [final_decision])[0] if final_decision else None
        interpretation_doc = attach(ctx, record, [interpretation])[0] if interpretation else None
        attach(ctx, record, [npc_report] if npc_report else [])
        proof_docs = {channel: attach(ctx, record, [upload])[0] for channel, upload in proofs.items()}
        ctx.params.update(pub_record=record, proof_docs=proof_docs)
        version = d.current_draft
        take_step(ctx, "T21", version, payload={"channels": channels, "version": getattr(version, "number", None)})
        found = [f.as_dict() for f in warnings(rules.T21, ctx)]
        close_stage(ctx, record, StageStatus.DONE, outcome="PUBLISHED", subject="决策公布")
        publication = seals.create(
            Publication,
            decision=d,
            channels=channels,
            published_at=ctx.now,
            recorded_by=ctx.actor,
            stage_record=record,
            draft_version=version,
            final_document=final_doc,
            interpretation_document=interpretation_doc,
            proofs={channel: doc.pk for channel, doc in proof_docs.items()},
        )
        record_event(
            ctx,
            "publication:publish",
            publication,
            {"channels": channels, "version": version.number, "warnings": found},
        )
        _adopt(ctx)
        d.warnings = found
        return d


def record_not_public(actor, decision, *, legal_basis, evidence):
    """Record the CONFIDENTIAL_BY_LAW waiver of publication (第三十二条 "依法不予公开"); another office user approves it at T22."""
    with action(actor, decision, roles=[Role.GOV_OFFICE]) as ctx:
        _require_decided(ctx, "依法不予公开在会议作出同意的决定后记录", "Withholding is recorded after the APPROVE")
        if rules.pending_waiver(ctx) is not None:
            refuse(
                "WAIVER_ALREADY_RECORDED",
                "第三十二条",
                "不予公开的理由已记录，待另一名工作人员审核",
                "A waiver is already on record, awaiting approval",
            )
        if not filled(legal_basis) or evidence is None:
            raise ProcedureRefused(evaluate([rules.not_public_basis_recorded], ctx))
        live = live_record(ctx.decision, Stage.PUB)
        record = live if live is not None and live.status == StageStatus.PENDING and not live.is_closed else None
        record = record or _new_pub_record(ctx)
        stored = attach(ctx, record, [evidence])[0]
        waiver = Waiver.objects.create(
            stage_record=record,
            reason_code=rules.CONFIDENTIAL_BY_LAW,
            legal_basis=legal_basis.strip(),
            evidence=stored,
            recorded_by=ctx.actor,
            recorded_role=ctx.role,
            recorded_at=ctx.now,
        )
        record_event(
            ctx, "waiver:record", waiver, {"stage": Stage.PUB, "code": waiver.reason_code, "basis": waiver.legal_basis}
        )
        return waiver


def issue_not_public(actor, decision, *, final_decision, npc_report=None):
    """T22: approve the recorded waiver and issue without publication; the PUB record closes WAIVED."""
    with action(actor, decision, "T22") as ctx:
        d = ctx.decision
        record = live_record(d, Stage.PUB)
        if record is not None and not record.is_closed:
            attach(ctx, record, [u for u in (final_decision, npc_report) if u is not None])
            ctx.params["pub_record"] = record
        waiver = rules.pending_waiver(ctx)
        version = d.current_draft
        take_step(
            ctx,
            "T22",
            version,
            payload={"version": getattr(version, "number", None), "waiver": getattr(waiver, "pk", None)},
        )
        waiver.approved_by = ctx.actor
        waiver.approved_role = ctx.role
        waiver.approved_at = ctx.now
        waiver.save(update_fields=["approved_by", "approved_role", "approved_at"])
        record_event(ctx, "waiver:approve", waiver, {"stage": Stage.PUB, "code": waiver.reason_code})
        close_stage(
            ctx,
            record,
            StageStatus.WAIVED,
            reason_code=waiver.reason_code,
            reason_text=waiver.legal_basis,
            subject="决策依法不予公开",
        )
        final_doc = record.documents.filter(doc_type=DocumentType.FINAL_DECISION).order_by("-id").first()
        publication = seals.create(
            Publication,
            decision=d,
            channels=[],
            published_at=ctx.now,
            not_public_basis=waiver.legal_basis,
            recorded_by=ctx.actor,
            stage_record=record,
            draft_version=version,
            final_document=final_doc,
        )
        record_event(
            ctx, "publication:issue_not_public", publication, {"version": version.number, "basis": waiver.legal_basis}
        )
        _adopt(ctx)
        return d


__all__ = [
    "record_party_report",
    "record_party_reply",
    "return_after_party_reply",
    "publish",
    "record_not_public",
    "issue_not_public",
]
