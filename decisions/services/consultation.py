"""Public participation, hearing, expert review and risk assessment inside CONSULTATION (第十四条至第二十四条).

The decision stays in CONSULTATION while its PP, HEARING, EX and RA records move (P1). These
moves are not B5 decision steps: each service here locks the decision, gates the role, checks
the rules of decisions/rules/consultation.py, moves the stage record through the lifecycle
methods (common.open_stage / close_stage, StageRecordLifecycle) and audits every change.

Design choices the table leaves to the build:
* HEARING is PP's child: it opens only while PP is IN_PROGRESS, under either consultation order.
* A waiver is recorded by the UNDERTAKING_LEAD, approved by the role B6 names, and only then
  signed off by the UNDERTAKING_LEAD (`sign_off_waiver`), who closes the sub-stage WAIVED: the
  sign-off is the signing person's own act (P8), so approval by GOV_OFFICE or a LEGAL_ADVISER
  does not close the stage on the lead's behalf.
* Closing or waiving PP closes an open HEARING in the same step (B6 cascade): the HEARING record
  points to PP (`closed_with`) and to the same Waiver row; PP's sign-off covers both records.
* Reopening HEARING while PP is DONE reopens PP too, because a DONE PP needs a closed HEARING (T7).
"""

from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from decisions import lifecycle, personal
from decisions.calendar import localdate
from decisions.models import (
    AuditEvent,
    CommentPeriod,
    Decision,
    DecisionState,
    Document,
    DraftVersion,
    ExpertMember,
    Hearing,
    HearingParticipant,
    RiskAssessment,
    RiskLevel,
    Role,
    RoleAssignment,
    Stage,
    StageStatus,
    Waiver,
)
from decisions.permissions import role_counts_for
from decisions.rules import ProcedureRefused, evaluate, refuse, warnings
from decisions.rules import consultation as rules
from decisions.rules import initiation as initiation_rules
from decisions.services.common import (
    action,
    attach,
    close_stage,
    create_handover_tasks,
    create_stage,
    open_stage,
    record_event,
    sign_off,
    stage_manifest,
    store_upload,
)

LEAD = [Role.UNDERTAKING_LEAD]
# Who opens each sub-stage (B5 T7, T7b, T8, T9 "Opening").
OPEN_ROLES = {
    Stage.PP: [Role.UNDERTAKING_LEAD],
    Stage.HEARING: [Role.HEARING_ORG],
    Stage.EX: [Role.UNDERTAKING_LEAD],
    Stage.RA: [Role.UNDERTAKING_LEAD, Role.RISK_ASSESSOR],
}
HEARING_RUNNERS = [Role.HEARING_ORG]
OPINION_UPLOADERS = [Role.EXPERT, Role.UNDERTAKING_LEAD]
ASSESSORS = [Role.RISK_ASSESSOR]
WAIVER_APPROVERS = [Role.GOV_OFFICE, Role.LEGAL_ADVISER]
# Answers the lead may change after T6 (the T6 questionnaire, B6).
ANSWER_FIELDS = (
    *initiation_rules.TRIGGER_QUESTIONS,
    "major_interest_readjustment",
    "hearing_law_instrument",
    "hearing_law_article",
    "confidential_basis",
)
BOOLEAN_ANSWERS = (*initiation_rules.TRIGGER_QUESTIONS, "major_interest_readjustment")
HEARING_FIELDS = (
    "notice_published_on",
    "participants_selected",
    "selection_method_published_on",
    "selection_done_on",
    "participant_list_published_on",
    "place",
)
CLEAR_HEARING_FLAG = "consultation:clear_hearing_flag"


# -- shared checks ----------------------------------------------------------------------------------


def _require(ctx, rule_list, statuses=None):
    """Evaluate the guard clauses, then the decision state, then the record's status (P7); return warnings."""
    failures = evaluate(rule_list, ctx)
    if failures:
        raise ProcedureRefused(failures)
    decision = ctx.decision
    if decision.state != lifecycle.CONSULTATION:
        stage, label = lifecycle.first_open_stage(decision)
        state = DecisionState(decision.state).label
        raise ProcedureRefused(
            [
                rules.state_prerequisite(
                    f"决策处于“{named(state, 'zh-hans')}”，此事项只能在公众参与、专家论证、风险评估阶段办理"
                    f"(尚未完成的环节：{named(label, 'zh-hans') if label else '无'})",
                    stage or decision.state,
                    en=f"the decision is at “{named(state, 'en')}”; this action belongs to public participation, "
                    f"expert review and risk assessment (stage not yet closed: {named(label, 'en') if label else 'none'})",
                )
            ]
        )
    if statuses is not None:
        record = ctx.target
        if record is None or record.status not in statuses or record.frozen_at is not None:
            raise ProcedureRefused([_status_failure(record, ctx.get("stage"))])
    return warnings(rule_list, ctx)


def _status_failure(record, stage):
    if record is None:
        name = Stage(stage).label if stage in Stage.values else stage
        return rules.state_prerequisite(
            f"“{named(name, 'zh-hans')}”环节记录不存在",
            stage,
            en=f"there is no record of the stage “{named(name, 'en')}”",
        )
    stage_name, status = Stage(record.stage).label, StageStatus(record.status).label
    return rules.state_prerequisite(
        f"“{named(stage_name, 'zh-hans')}”环节当前为“{named(status, 'zh-hans')}”",
        f"{record.stage}:{record.status}",
        en=f"the stage “{named(stage_name, 'en')}” is now “{named(status, 'en')}”",
    )


def _substage(stage):
    if stage not in rules.SUBSTAGES:
        refuse(
            "STATE_PREREQUISITE_MISSING",
            "P1",
            f"“{stage}”不是公众参与、听证、专家论证或风险评估环节",
            f"{stage} is not a consultation sub-stage (PP, HEARING, EX, RA)",
        )
    return stage


def _live(ctx, stage):
    """Return the live record of `stage`, set as the action's target."""
    record = ctx.decision.current_record(stage)
    ctx.target = record
    ctx.params["stage"] = stage
    return record


def _draft_no(record):
    return record.draft_version.number if record is not None and record.draft_version_id else None


def _stored_if(ctx, record, statuses, upload):
    """Store `upload` on `record` if the record may take it now; otherwise leave it to the status check."""
    if record is None or record.status not in statuses or record.frozen_at is not None:
        return None
    return _document(ctx, record, upload)


def _document(ctx, record, upload):
    """Store an Upload on `record`, or return an existing Document of this decision unchanged."""
    if upload is None:
        return None
    if isinstance(upload, Document):
        if upload.decision_id != ctx.decision.pk:
            refuse("DOSSIER_ITEM_MISSING", "B8", "所附材料不属于本决策", "The document belongs to another decision")
        return upload
    return store_upload(ctx, upload, record=record)


# -- opening a sub-stage (P1) ----------------------------------------------------------------------


def open_substage(actor, decision, stage):
    """Open PP, HEARING, EX or RA (PENDING → IN_PROGRESS), pinned to the current draft; P1 order guard."""
    roles = OPEN_ROLES.get(stage, LEAD)
    with action(actor, decision, roles=roles, stage=stage) as ctx:
        _substage(stage)
        record = _live(ctx, stage)
        _require(ctx, rules.OPEN_SUBSTAGE, statuses=(StageStatus.PENDING,))
        open_stage(ctx, record)
        return record


# -- T6a: not triggered ---------------------------------------------------------------------------


def close_not_triggered(
    actor,
    decision,
    stage,
    *,
    reason_code,
    reason_text,
    other_law_instrument="",
    other_law_level="",
    other_law_article="",
    prior_assessment_level="",
    documents=(),
):
    """T6a: close a sub-stage NOT_TRIGGERED with a B6 reason code; closing PP closes its HEARING too."""
    params = {
        "stage": stage,
        "reason_code": reason_code,
        "reason_text": reason_text,
        "other_law_instrument": other_law_instrument,
        "other_law_level": other_law_level,
        "other_law_article": other_law_article,
        "prior_assessment_level": prior_assessment_level,
    }
    with action(actor, decision, roles=LEAD, **params) as ctx:
        record = _live(ctx, stage) if stage in Stage.values else None
        ctx.target = record
        if record is not None and record.status in rules.OPEN:
            attach(ctx, record, documents)
        _require(ctx, rules.T6A, statuses=rules.OPEN)
        _set_closure_details(record, ctx.params)
        _close_with_cascade(ctx, record, StageStatus.NOT_TRIGGERED, reason_code, str(reason_text).strip())
        return ctx.decision


def _set_closure_details(record, params):
    if params["reason_code"] == rules.OTHER_LAW_PROCEDURE:
        record.other_law_instrument = str(params["other_law_instrument"]).strip()
        record.other_law_level = rules.OTHER_LAW_LEVELS[str(params["other_law_level"]).strip()]
        record.other_law_article = str(params["other_law_article"]).strip()
    if params["reason_code"] == rules.ALREADY_ASSESSED:
        record.prior_assessment_level = params["prior_assessment_level"]


def _close_with_cascade(ctx, record, how, reason_code, reason_text, waiver=None):
    """Close `record` NOT_TRIGGERED or WAIVED; for PP, close an open HEARING in the same step (B6).

    PP's sign-off covers the HEARING child: its manifest lists both records (B6, Recording).
    """
    child = None
    if record.stage == Stage.PP:
        hearing = ctx.decision.current_record(Stage.HEARING)
        if hearing is not None and hearing.status in rules.OPEN and hearing.frozen_at is None:
            child = hearing
    if child is None:
        record.waiver = waiver
        close_stage(ctx, record, how, reason_code=reason_code, reason_text=reason_text)
        return
    for target in (child, record):
        _move_closed(ctx, target, how, reason_code, reason_text)
        target.waiver = waiver
        if target is child:
            target.closed_with = record
            for name in ("other_law_instrument", "other_law_level", "other_law_article"):
                setattr(target, name, getattr(record, name))
        target.save()
        record_event(
            ctx,
            "stage:close",
            target,
            {
                "stage": target.stage,
                "status": target.status,
                "reason_code": reason_code,
                "draft": _draft_no(target),
                "cascade_from": record.pk if target is child else None,
                "waiver": getattr(waiver, "pk", None),
            },
        )
    manifest = {**stage_manifest(record), "cascade": [stage_manifest(child)]}
    sign_off(ctx, record, f"{record.get_stage_display()}(含听证) {record.get_status_display()}", manifest=manifest)
    create_handover_tasks(ctx, child)
    create_handover_tasks(ctx, record)


def _move_closed(ctx, record, how, reason_code, reason_text):
    if how == StageStatus.NOT_TRIGGERED:
        record.close_not_triggered(reason_code, reason_text, ctx.now, ctx.decision.current_draft)
    else:
        record.waive(reason_code, reason_text, ctx.now, ctx.decision.current_draft)


# -- T6b: waivers --------------------------------------------------------------------------------


def record_waiver(actor, decision, stage, *, reason_code, legal_basis, evidence=None):
    """T6b: record a Waiver (依法免予) for PP, EX or RA; the sub-stage keeps its status until approval and sign-off."""
    with action(actor, decision, roles=LEAD, stage=stage, reason_code=reason_code, legal_basis=legal_basis) as ctx:
        record = _live(ctx, stage) if stage in Stage.values else None
        ctx.target = record
        document = _stored_if(ctx, record, rules.OPEN, evidence)
        ctx.params["evidence"] = document or evidence
        _require(ctx, rules.T6B_RECORD, statuses=rules.OPEN)
        waiver = Waiver.objects.create(
            stage_record=record,
            reason_code=reason_code,
            legal_basis=legal_basis.strip(),
            evidence=document,
            recorded_by=ctx.actor,
            recorded_role=ctx.role,
            recorded_at=ctx.now,
        )
        record_event(
            ctx,
            "waiver:record",
            waiver,
            {
                "stage": stage,
                "code": reason_code,
                "basis": waiver.legal_basis,
                "evidence": getattr(document, "pk", None),
                "stage_record": record.pk,
            },
        )
        return waiver


def _pending_waiver(record):
    if record is None:
        return None
    return record.waivers.filter(approved_at__isnull=True).order_by("-id").first()


def approve_waiver(actor, decision, stage):
    """T6b: approve the stage's pending waiver by the role B6 names (GOV_OFFICE or LEGAL_ADVISER), never its recorder."""
    pending = (
        _pending_waiver(Decision.objects.get(pk=decision.pk).current_record(stage)) if stage in Stage.values else None
    )
    preferred = rules.WAIVER_APPROVER.get(getattr(pending, "reason_code", None))
    # A person holding both roles acts in the one B6 names for this code; the rule checks it either way.
    roles = [preferred, *[r for r in WAIVER_APPROVERS if r != preferred]] if preferred else WAIVER_APPROVERS
    with action(actor, decision, roles=roles, stage=stage) as ctx:
        record = _live(ctx, stage) if stage in Stage.values else None
        ctx.target = record
        waiver = _pending_waiver(record)
        if waiver is None:
            raise ProcedureRefused(
                [rules.state_prerequisite("没有待批准的免予程序", stage, en="there is no waiver awaiting approval")]
            )
        waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
        ctx.params["waiver"] = waiver
        _require(ctx, rules.T6B_APPROVE, statuses=rules.OPEN)
        waiver.approved_by = ctx.actor
        waiver.approved_role = ctx.role
        waiver.approved_at = ctx.now
        waiver.save(update_fields=["approved_by", "approved_role", "approved_at"])
        record_event(ctx, "waiver:approve", waiver, {"stage": record.stage, "code": waiver.reason_code})
        return waiver


def sign_off_waiver(actor, decision, stage):
    """T6b: the UNDERTAKING_LEAD signs off an approved waiver and the sub-stage becomes WAIVED (PP: with HEARING)."""
    with action(actor, decision, roles=LEAD, stage=stage) as ctx:
        record = _live(ctx, stage) if stage in Stage.values else None
        ctx.target = record
        waiver = None
        if record is not None:
            waiver = record.waivers.filter(approved_at__isnull=False).order_by("-approved_at", "-id").first()
            waiver = waiver or record.waivers.order_by("-id").first()
        if waiver is None:
            raise ProcedureRefused(
                [rules.state_prerequisite("没有已登记的免予程序", stage, en="no waiver is recorded")]
            )
        ctx.params.update(
            waiver=waiver, reason_code=waiver.reason_code, legal_basis=waiver.legal_basis, evidence=waiver.evidence
        )
        _require(ctx, rules.T6B_SIGN, statuses=rules.OPEN)
        _close_with_cascade(ctx, record, StageStatus.WAIVED, waiver.reason_code, waiver.legal_basis, waiver=waiver)
        return ctx.decision


# -- T6c: reopen ---------------------------------------------------------------------------------


def reopen(actor, decision, stage, *, reason, draft_version=None, stale_result=""):
    """T6c: reopen a closed sub-stage as a new PENDING record superseding the old one (PP reopens HEARING).

    A DONE sub-stage reopens only on a newer `draft_version` (a DraftVersion or its number) or a
    named `stale_result`.
    """
    with action(actor, decision, roles=LEAD, stage=stage, reason=reason, stale_result=stale_result) as ctx:
        _substage(stage)
        record = _live(ctx, stage)
        if isinstance(draft_version, int):
            draft_version = DraftVersion.objects.filter(decision=ctx.decision, number=draft_version).first()
        ctx.params["draft_version"] = draft_version
        records = _reopen_set(ctx.decision, record)
        ctx.params["records"] = records
        _require(ctx, rules.T6C, statuses=rules.CLOSED)
        basis = {"draft_version": getattr(draft_version, "number", None), "stale_result": stale_result}
        return _reopen_records(ctx, records, reason.strip(), basis)[0]


def _reopen_set(decision, record):
    """Return the records a reopening of `record` reopens, the asked-for one first (T6c; module docstring)."""
    if record is None:
        return []
    pp = decision.current_record(Stage.PP)
    hearing = decision.current_record(Stage.HEARING)
    if record.stage == Stage.PP:
        extra = [hearing] if hearing is not None and hearing.status in rules.CLOSED else []
        return [record, *extra]
    if record.stage == Stage.HEARING and pp is not None and pp.status == StageStatus.DONE:
        return [record, pp]
    return [record]


def _reopen_records(ctx, records, reason, basis, by_system=False):
    created = []
    for old in records:
        new = create_stage(ctx, old.stage, supersedes=old)
        new.reopen_reason = reason
        new.save(update_fields=["reopen_reason"])
        record_event(
            ctx,
            "stage:reopen",
            new,
            {
                "stage": old.stage,
                "old_record": old.pk,
                "old_status": old.status,
                "reason": reason,
                "by": lifecycle.SYSTEM if by_system else ctx.role,
                **basis,
            },
        )
        created.append(new)
    return created


def rerun_substages(ctx, stages, reason):
    """Reset closed sub-stages to new PENDING records inside another service's action (T16a, P20).

    Reopening PP reopens HEARING; a record still open is left as it is. Returns the new records.
    """
    created = []
    for stage in stages:
        record = ctx.decision.current_record(_substage(stage))
        if record is None or record.status not in rules.CLOSED:
            continue
        created += _reopen_records(ctx, _reopen_set(ctx.decision, record), reason, {"rerun": True}, by_system=True)
    return created


def update_trigger_answers(actor, decision, *, reason="", **answers):
    """Change T6 questionnaire answers in CONSULTATION; a closure the new answers contradict is reopened (T6a, T6c).

    Clearing a flag that requires a hearing needs a reason and is refused once HEARING is
    IN_PROGRESS or DONE (P11); the clearing is listed in the procedure-performance statement.
    """
    unknown = set(answers) - set(ANSWER_FIELDS)
    if unknown:
        raise TypeError(f"unknown questionnaire fields: {sorted(unknown)}")
    with action(actor, decision, roles=LEAD, reason=reason) as ctx:
        d = ctx.decision
        # Not a procedure step: the answers exist only from T6, so the state is checked first.
        _require(ctx, [])
        if any(name in BOOLEAN_ANSWERS and not isinstance(value, bool) for name, value in answers.items()):
            refuse(
                "TRIGGER_QUESTIONNAIRE_INCOMPLETE",
                "B6",
                "程序触发问卷的答案须为“是”或“否”",
                "Each questionnaire answer must be yes or no",
            )
        changes = {name: (getattr(d, name), value) for name, value in answers.items() if getattr(d, name) != value}
        ctx.params["changes"] = changes
        cleared = rules.cleared_hearing_flags(ctx)
        for name, (_old, new) in changes.items():
            setattr(d, name, new)
        _require(ctx, [*rules.TRIGGER_UPDATE, initiation_rules.questionnaire_answered])
        if not changes:
            return d
        d.save(update_fields=list(changes))
        record_event(
            ctx,
            "decision:trigger_answers",
            d,
            {
                "changes": {k: {"from": old, "to": new} for k, (old, new) in changes.items()},
                "reason": reason,
            },
        )
        if cleared:
            record_event(ctx, CLEAR_HEARING_FLAG, d, {"flags": cleared, "reason": reason.strip()})
        _reopen_contradicted(ctx, changes)
        return d


def _reopen_contradicted(ctx, changes):
    """T6a: a NOT_TRIGGERED closure contradicted by the new answers is reopened by the system (T6c)."""
    decision = ctx.decision
    text = "程序触发问卷答案变更：" + "、".join(sorted(changes))
    for stage in (Stage.HEARING, Stage.EX, Stage.RA):
        record = decision.current_record(stage)
        if record is None or not rules.closure_contradicts_answers(record):
            continue
        _reopen_records(ctx, _reopen_set(decision, record), text, {"answers": sorted(changes)}, by_system=True)


def reopen_required_by_catalogue(decision, *, reason, actor=None):
    """P20: reopen (T6c) the NOT_TRIGGERED sub-stages a catalogue MODIFY now requires, while in CONSULTATION."""
    roles = [Role.GOV_OFFICE] if getattr(actor, "pk", None) else [lifecycle.SYSTEM]
    with action(actor, decision, roles=roles, reason=reason) as ctx:
        entry = rules.catalogue_entry(ctx.decision)
        if ctx.decision.state != lifecycle.CONSULTATION or entry is None:
            return []
        reopened = []
        for stage in rules.SUBSTAGES:
            record = ctx.decision.current_record(stage)
            if record is None or record.status != StageStatus.NOT_TRIGGERED or not entry.requires(stage):
                continue
            records = _reopen_set(ctx.decision, record)
            reopened += _reopen_records(ctx, records, reason, {"catalogue_entry": entry.pk}, by_system=True)
        return reopened


# -- T7: public participation -------------------------------------------------------------------------


def _running(ctx, stage, rule_list=()):
    """Return the live record of `stage` after checking it is IN_PROGRESS in CONSULTATION."""
    record = _live(ctx, stage)
    _require(ctx, list(rule_list), statuses=(StageStatus.IN_PROGRESS,))
    return record


def record_participation_methods(actor, decision, methods, documents=()):
    """Record the ways the public was heard (第十四条): codes of rules.PP_METHODS, added to the PP record."""
    unknown = [m for m in methods if m not in rules.PP_METHODS]
    if unknown or not methods:
        refuse(
            "DOSSIER_ITEM_MISSING",
            "第十四条",
            f"公众参与方式须为：{'、'.join(rules.PP_METHODS.values())}",
            f"Unknown participation method(s) {unknown}",
        )
    with action(actor, decision, roles=LEAD) as ctx:
        record = _running(ctx, Stage.PP)
        attach(ctx, record, documents)
        _add_methods(ctx, record, methods)
        return record


def _add_methods(ctx, record, methods):
    added = [m for m in methods if m not in (record.methods or [])]
    if not added:
        return
    record.methods = [*(record.methods or []), *added]
    record.save(update_fields=["methods"])
    record_event(ctx, "stage:methods", record, {"stage": record.stage, "added": added, "methods": record.methods})


def _notice(
    record,
    *,
    channels,
    publish_date,
    deadline_date,
    includes_draft,
    includes_explanation,
    how_to_comment,
    other_channel_text,
    shortening_reason,
    extends=None,
):
    return CommentPeriod(
        stage_record=record,
        channels=list(channels or []),
        other_channel_text=str(other_channel_text or "").strip(),
        includes_draft=bool(includes_draft),
        includes_explanation=bool(includes_explanation),
        how_to_comment=str(how_to_comment or "").strip(),
        publish_date=publish_date,
        deadline_date=deadline_date,
        shortening_reason=str(shortening_reason or "").strip(),
        extends=extends,
    )


def _period_payload(period):
    return {
        "channels": period.channels,
        "other_channel": period.other_channel_text,
        "publish_date": period.publish_date,
        "deadline_date": period.deadline_date,
        "days": rules.comment_period_days(period) if period.publish_date and period.deadline_date else None,
        "shortening_reason": period.shortening_reason,
        "extends": period.extends_id,
    }


def prepare_comment_notice(
    actor,
    decision,
    *,
    channels,
    publish_date,
    deadline_date,
    includes_draft=True,
    includes_explanation=True,
    how_to_comment="",
    other_channel_text="",
    shortening_reason="",
):
    """T7a: save a public-comment notice before publication (its shortening reason may still be set)."""
    with action(actor, decision, roles=LEAD) as ctx:
        record = _running(ctx, Stage.PP)
        period = _notice(
            record,
            channels=channels,
            publish_date=publish_date,
            deadline_date=deadline_date,
            includes_draft=includes_draft,
            includes_explanation=includes_explanation,
            how_to_comment=how_to_comment,
            other_channel_text=other_channel_text,
            shortening_reason=shortening_reason,
        )
        period.save()
        record_event(ctx, "comment_notice:prepare", period, _period_payload(period))
        return period


def set_shortening_reason(actor, decision, period, reason):
    """T7a: state why the period is shortened; refused once the notice is published (第十五条)."""
    with action(actor, decision, roles=LEAD) as ctx:
        period = CommentPeriod.objects.select_for_update().get(pk=period.pk, stage_record__decision=ctx.decision)
        ctx.params["period"] = period
        _running(ctx, Stage.PP, [rules.shortening_reason_not_locked])
        period.shortening_reason = str(reason or "").strip()
        period.save(update_fields=["shortening_reason"])
        record_event(ctx, "comment_notice:shortening_reason", period, {"reason": period.shortening_reason})
        return period


def mark_comment_notice_published(actor, decision, period, documents=()):
    """T7a: mark a prepared notice published; its stored fields are the notice (with any snapshot attached)."""
    with action(actor, decision, roles=LEAD) as ctx:
        period = CommentPeriod.objects.select_for_update().get(pk=period.pk, stage_record__decision=ctx.decision)
        if period.published_at is not None:
            refuse("COMMENT_NOTICE_INCOMPLETE", "第十五条", "该公告已经发布", "The notice is already published")
        return _publish(ctx, period, documents)


def _publish(ctx, period, documents):
    record = ctx.decision.current_record(Stage.PP)
    ctx.target = record
    ctx.params.update(period=period, stage=Stage.PP)
    if record is not None and record.status == StageStatus.IN_PROGRESS and period.stage_record_id == record.pk:
        stored = attach(ctx, record, documents)
        notice = next((d for d in stored if d.doc_type == "COMMENT_NOTICE"), None)
        period.notice_document = notice or period.notice_document
    warned = _require(ctx, rules.T7A, statuses=(StageStatus.IN_PROGRESS,))
    if period.stage_record_id != record.pk:
        raise ProcedureRefused([_status_failure(period.stage_record, Stage.PP)])
    period.published_at = ctx.now
    period.save()
    record_event(
        ctx,
        "comment_notice:publish",
        period,
        {
            **_period_payload(period),
            "warnings": [w.code for w in warned],
        },
    )
    _add_methods(ctx, record, ["PUBLIC_COMMENT"])
    period.warnings = warned
    return period


def publish_comment_notice(
    actor,
    decision,
    *,
    channels,
    publish_date,
    deadline_date,
    includes_draft=True,
    includes_explanation=True,
    how_to_comment="",
    other_channel_text="",
    shortening_reason="",
    documents=(),
):
    """T7a: publish a public-comment notice (公开征求意见) in one step; returns the CommentPeriod (`.warnings`)."""
    with action(actor, decision, roles=LEAD) as ctx:
        record = _live(ctx, Stage.PP)
        period = _notice(
            record,
            channels=channels,
            publish_date=publish_date,
            deadline_date=deadline_date,
            includes_draft=includes_draft,
            includes_explanation=includes_explanation,
            how_to_comment=how_to_comment,
            other_channel_text=other_channel_text,
            shortening_reason=shortening_reason,
        )
        return _publish(ctx, period, documents)


def extend_comment_period(actor, decision, *, deadline_date, documents=()):
    """P13: republish the last notice with a later deadline; the period still runs from the original publish date."""
    with action(actor, decision, roles=LEAD) as ctx:
        record = _live(ctx, Stage.PP)
        periods = list(rules.comment_periods(record)) if record is not None else []
        previous = periods[-1] if periods else None
        first = periods[0].publish_date if periods else None
        if previous is None:
            period = CommentPeriod(stage_record=record, publish_date=None, deadline_date=deadline_date)
        else:
            period = _notice(
                record,
                channels=previous.channels,
                publish_date=first,
                deadline_date=deadline_date,
                includes_draft=previous.includes_draft,
                includes_explanation=previous.includes_explanation,
                how_to_comment=previous.how_to_comment,
                other_channel_text=previous.other_channel_text,
                shortening_reason=previous.shortening_reason,
                extends=previous,
            )
        ctx.params.update(period=period, previous=previous, first_publish_date=first)
        _require(ctx, rules.COMMENT_EXTEND, statuses=(StageStatus.IN_PROGRESS,))
        stored = attach(ctx, record, documents)
        period.notice_document = next((d for d in stored if d.doc_type == "COMMENT_NOTICE"), None)
        period.published_at = ctx.now
        period.save()
        record_event(ctx, "comment_notice:extend", period, _period_payload(period))
        return period


def complete_public_participation(actor, decision, documents=()):
    """T7: close PP DONE once the methods, opinions, adoption statement, hearing and comment period allow it."""
    with action(actor, decision, roles=LEAD) as ctx:
        record = _live(ctx, Stage.PP)
        if record is not None and record.status == StageStatus.IN_PROGRESS:
            attach(ctx, record, documents)
        _require(ctx, rules.T7, statuses=(StageStatus.IN_PROGRESS,))
        close_stage(ctx, record, StageStatus.DONE, subject="公众参与")
        return ctx.decision


# -- T7b: hearing ---------------------------------------------------------------------------------


def _hearing_payload(hearing):
    return {name: getattr(hearing, name) for name in (*HEARING_FIELDS, "hearing_date")}


def schedule_hearing(
    actor,
    decision,
    *,
    hearing_date,
    place,
    participants_selected=True,
    notice_published_on=None,
    selection_method_published_on=None,
    selection_done_on=None,
    participant_list_published_on=None,
    documents=(),
):
    """T7b: register the hearing (听证会): date, place and the publication dates of 第十六条."""
    with action(actor, decision, roles=HEARING_RUNNERS) as ctx:
        record = _running(ctx, Stage.HEARING)
        if rules.hearing_of(record) is not None:
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "第十六条",
                "听证会已登记，请修改或改期",
                "The hearing is already scheduled",
            )
        if hearing_date is None or not str(place or "").strip():
            refuse(
                "DOSSIER_ITEM_MISSING", "第十六条", "须填写听证时间和地点", "The hearing date and place are required"
            )
        attach(ctx, record, documents)
        hearing = Hearing.objects.create(
            stage_record=record,
            hearing_date=hearing_date,
            place=place.strip(),
            participants_selected=participants_selected,
            notice_published_on=notice_published_on,
            selection_method_published_on=selection_method_published_on,
            selection_done_on=selection_done_on,
            participant_list_published_on=participant_list_published_on,
        )
        record_event(ctx, "hearing:schedule", hearing, _hearing_payload(hearing))
        return hearing


def _running_hearing(ctx):
    record = _running(ctx, Stage.HEARING)
    hearing = rules.hearing_of(record)
    if hearing is None:
        refuse("DOSSIER_ITEM_MISSING", "第十六条", "须先登记听证会", "Schedule the hearing first")
    return record, Hearing.objects.select_for_update().get(pk=hearing.pk)


def update_hearing(actor, decision, documents=(), **fields):
    """T7b: record the hearing's publication dates (notice, selection method, participant list) and place."""
    unknown = set(fields) - set(HEARING_FIELDS)
    if unknown:
        raise TypeError(f"unknown hearing fields: {sorted(unknown)}")
    with action(actor, decision, roles=HEARING_RUNNERS) as ctx:
        record, hearing = _running_hearing(ctx)
        if "place" in fields and not str(fields["place"] or "").strip():
            refuse("DOSSIER_ITEM_MISSING", "第十六条", "须填写听证地点", "The hearing place is required")
        attach(ctx, record, documents)
        for name, value in fields.items():
            setattr(hearing, name, value)
        hearing.save()
        record_event(ctx, "hearing:update", hearing, dict(fields))
        return hearing


def change_hearing_date(actor, decision, *, hearing_date, reason):
    """P13: move the hearing; the delivery check is re-run against the new date (late participants returned)."""
    if not str(reason or "").strip():
        refuse("REASON_REQUIRED", "第十六条; P13", "听证改期须说明理由", "Moving the hearing needs a reason")
    with action(actor, decision, roles=HEARING_RUNNERS) as ctx:
        _record, hearing = _running_hearing(ctx)
        old = hearing.hearing_date
        hearing.hearing_date = hearing_date
        hearing.save(update_fields=["hearing_date"])
        late = rules.late_participants(hearing, rules.param(ctx.decision, "hearing_material_lead_days"))
        record_event(
            ctx,
            "hearing:reschedule",
            hearing,
            {
                "from": old,
                "to": hearing_date,
                "reason": reason.strip(),
                "late_participants": [p.name for p in late],
            },
        )
        hearing.late_participants = late
        return hearing


def add_hearing_participant(
    actor, decision, *, name, delivery_date=None, receipt=None, phone="", email="", id_number=""
):
    """T7b: add a hearing participant (听证参加人), with the materials' delivery date and receipt if known.

    Contact details are optional, stored encrypted and masked (decisions.personal); the audit event says which
    were given, never their values.
    """
    if not str(name or "").strip():
        refuse("DOSSIER_ITEM_MISSING", "第十六条", "须填写听证参加人姓名或名称", "The participant's name is required")
    contact = personal.normalised_contact(phone, email, id_number)
    for field, problem in personal.contact_problems(contact):
        refuse("PARTICIPANT_CONTACT_INVALID", "第十六条", f"{personal.CONTACT_LABELS[field]}：{problem}", problem)
    with action(actor, decision, roles=HEARING_RUNNERS) as ctx:
        record, hearing = _running_hearing(ctx)
        document = _receipt(ctx, record, receipt)
        participant = HearingParticipant.objects.create(
            hearing=hearing, name=name.strip(), delivery_date=delivery_date, receipt=document, **contact
        )
        record_event(
            ctx,
            "hearing:participant",
            participant,
            {
                "name": participant.name,  # published on the participant list (第十六条)
                "given": [field for field, value in contact.items() if value],
                "delivery_date": delivery_date,
                "receipt": getattr(document, "pk", None),
            },
        )
        return participant


def _receipt(ctx, record, receipt):
    document = _document(ctx, record, receipt)
    if document is not None and document.doc_type != "HEARING_RECEIPT":
        refuse(
            "DOSSIER_ITEM_MISSING",
            "第十六条; P13",
            "送达回执的材料类型须为听证材料送达回执",
            "A delivery receipt must be of type HEARING_RECEIPT",
        )
    return document


def record_delivery(actor, decision, participant, *, delivery_date, receipt):
    """P13: record the date on a participant's receipt (signature, courier record or read-receipt)."""
    with action(actor, decision, roles=HEARING_RUNNERS) as ctx:
        record, hearing = _running_hearing(ctx)
        participant = HearingParticipant.objects.select_for_update().get(pk=participant.pk, hearing=hearing)
        document = _receipt(ctx, record, receipt)
        if document is None or delivery_date is None:
            refuse(
                "HEARING_MATERIALS_LATE",
                "第十六条; P13",
                "送达须登记回执日期并上传回执",
                "A delivery needs its receipt date and the receipt",
            )
        participant.delivery_date = delivery_date
        participant.receipt = document
        participant.save(update_fields=["delivery_date", "receipt"])
        record_event(ctx, "hearing:delivery", participant, {"delivery_date": delivery_date, "receipt": document.pk})
        return participant


def complete_hearing(actor, decision, documents=()):
    """T7b: close HEARING DONE once notice, selection, list, deliveries and the signed record are in order."""
    with action(actor, decision, roles=LEAD) as ctx:
        record = _live(ctx, Stage.HEARING)
        if record is not None and record.status == StageStatus.IN_PROGRESS:
            attach(ctx, record, documents)
        warned = _require(ctx, rules.T7B, statuses=(StageStatus.IN_PROGRESS,))
        hearing = Hearing.objects.select_for_update().get(pk=record.hearing.pk)
        hearing.record_signed = True
        hearing.save(update_fields=["record_signed"])
        record_event(ctx, "hearing:record_signed", hearing, {"warnings": [w.code for w in warned]})
        close_stage(ctx, record, StageStatus.DONE, subject="听证")
        pp = ctx.decision.current_record(Stage.PP)
        if pp is not None and pp.status == StageStatus.IN_PROGRESS:
            _add_methods(ctx, pp, ["HEARING"])
        return ctx.decision


# -- T8: expert review ----------------------------------------------------------------------------


def set_expert_review_mode(actor, decision, mode, documents=()):
    """T8: record the form of expert review (论证会、书面咨询、委托咨询论证; 第二十条)."""
    if mode not in ExpertMember.Mode.values:
        refuse(
            "DOSSIER_ITEM_MISSING",
            "第二十条",
            "论证方式须为论证会、书面咨询或委托咨询论证",
            f"Unknown review mode {mode!r}",
        )
    with action(actor, decision, roles=LEAD) as ctx:
        record = _running(ctx, Stage.EX)
        attach(ctx, record, documents)
        old = [m for m in record.methods or [] if m in ExpertMember.Mode.values]
        record.methods = [*[m for m in record.methods or [] if m not in ExpertMember.Mode.values], mode]
        record.save(update_fields=["methods"])
        record_event(ctx, "expert:mode", record, {"from": old, "to": mode})
        return record


def add_expert(
    actor,
    decision,
    *,
    name,
    declaration,
    no_interest_declared=True,
    organisation_name="",
    field="",
    is_agency=False,
    holds_dissenting_view=False,
    has_direct_interest=False,
):
    """T8: put an expert or agency on the panel; refused without a no-direct-interest declaration (第二十条)."""
    if not str(name or "").strip():
        refuse("DOSSIER_ITEM_MISSING", "第二十条", "须填写专家姓名或机构名称", "The expert's name is required")
    with action(
        actor, decision, roles=LEAD, no_interest_declared=no_interest_declared, has_direct_interest=has_direct_interest
    ) as ctx:
        record = _live(ctx, Stage.EX)
        document = _stored_if(ctx, record, (StageStatus.IN_PROGRESS,), declaration)
        ctx.params["declaration"] = document or declaration
        _require(ctx, rules.EXPERT_ADD, statuses=(StageStatus.IN_PROGRESS,))
        member = ExpertMember.objects.create(
            stage_record=record,
            name=name.strip(),
            organisation_name=organisation_name,
            field=field,
            is_agency=is_agency,
            holds_dissenting_view=holds_dissenting_view,
            no_interest_declared=True,
            declaration=document,
        )
        record_event(
            ctx,
            "expert:add",
            member,
            {
                "name": member.name,
                "agency": is_agency,
                "dissenting": holds_dissenting_view,
                "declaration": document.pk,
            },
        )
        return member


def upload_expert_opinion(actor, decision, member, opinion):
    """T8: attach an expert's written opinion (signed; an agency's also sealed) to the panel member."""
    with action(actor, decision, roles=OPINION_UPLOADERS) as ctx:
        record = _running(ctx, Stage.EX)
        member = ExpertMember.objects.select_for_update().get(pk=member.pk, stage_record=record)
        document = _document(ctx, record, opinion)
        if document is None or document.doc_type != "EXPERT_OPINION":
            refuse(
                "DOSSIER_ITEM_MISSING",
                "第十九条",
                "论证意见的材料类型须为专家论证意见",
                "An opinion must be of type EXPERT_OPINION",
            )
        replaced = member.opinion
        if replaced is not None and replaced.pk != document.pk:
            # The expert's new opinion replaces the earlier one (an unsigned draft, say): the old stays on
            # record, superseded, and no longer counts as a loose unsigned opinion (第十九条, 第三十九条).
            document.supersedes = replaced
            document.supersede_reason = "同一专家(机构)重新提交的论证意见"
            document.save(update_fields=["supersedes", "supersede_reason"])
        member.opinion = document
        member.save(update_fields=["opinion"])
        record_event(
            ctx,
            "expert:opinion",
            member,
            {
                "opinion": document.pk,
                "signed": document.signed,
                "sealed": document.sealed,
                "replaces": getattr(replaced, "pk", None),
            },
        )
        return member


def complete_expert_review(actor, decision, documents=()):
    """T8: close EX DONE: mode, declarations, signed (and sealed) opinions and the adoption statement."""
    with action(actor, decision, roles=LEAD) as ctx:
        record = _live(ctx, Stage.EX)
        if record is not None and record.status == StageStatus.IN_PROGRESS:
            attach(ctx, record, documents)
        warned = _require(ctx, rules.T8, statuses=(StageStatus.IN_PROGRESS,))
        close_stage(ctx, record, StageStatus.DONE, subject="专家论证")
        if warned:
            record_event(ctx, "stage:warnings", record, {"warnings": [w.code for w in warned]})
        return ctx.decision


# -- T9: risk assessment ---------------------------------------------------------------------------


def record_risk_assessment(
    actor,
    decision,
    *,
    level,
    risk_points,
    prevention_measures,
    contingency_plan,
    departments_heard,
    report,
    third_party=False,
    documents=(),
):
    """T9: the RISK_ASSESSOR records the assessment (风险评估报告) pinned to the current draft, with its level."""
    with action(actor, decision, roles=ASSESSORS) as ctx:
        record = _live(ctx, Stage.RA)
        if record is not None and record.status == StageStatus.IN_PROGRESS:
            attach(ctx, record, documents)
        document = _stored_if(ctx, record, (StageStatus.IN_PROGRESS,), report)
        ctx.params.update(report=document or report, documents=list(documents))
        assessment = RiskAssessment(
            stage_record=record,
            decision=ctx.decision,
            draft_version=ctx.decision.current_draft,
            third_party=third_party,
            level=level if level in RiskLevel.values else "",
            risk_points=str(risk_points or "").strip(),
            prevention_measures=str(prevention_measures or "").strip(),
            contingency_plan=str(contingency_plan or "").strip(),
            departments_heard=bool(departments_heard),
            report=document,
            recorded_by=ctx.actor,
            recorded_at=ctx.now,
        )
        ctx.params["assessment"] = assessment
        _require(ctx, rules.RA_RECORD, statuses=(StageStatus.IN_PROGRESS,))
        assessment.assessor = _assessor_org(ctx)
        assessment.save()
        record_event(
            ctx,
            "risk:assessment",
            assessment,
            {
                "level": assessment.level,
                "draft": assessment.draft_version.number,
                "third_party": third_party,
                "report": document.pk,
            },
        )
        return assessment


def _assessor_org(ctx):
    """Return the organisation in which the acting RISK_ASSESSOR holds the role for this decision."""
    for assignment in RoleAssignment.objects.filter(user=ctx.actor, role=ctx.role).select_related("organisation"):
        if role_counts_for(assignment, ctx.decision):
            return assignment.organisation
    return None


def complete_risk_assessment(actor, decision, documents=()):
    """T9: the UNDERTAKING_LEAD closes RA DONE with the assessment's level as its outcome, and signs off."""
    with action(actor, decision, roles=LEAD) as ctx:
        record = _live(ctx, Stage.RA)
        if record is not None and record.status == StageStatus.IN_PROGRESS:
            attach(ctx, record, documents)
        _require(ctx, rules.T9, statuses=(StageStatus.IN_PROGRESS,))
        level = rules.latest_assessment(record).level
        close_stage(ctx, record, StageStatus.DONE, outcome=level, subject=f"风险评估({RiskLevel(level).label})")
        return ctx.decision


def mark_assessment_stale(actor, decision, *, reason, assessment=None):
    """P14: the RISK_ASSESSOR marks an assessment stale with a reason, only before the current run's APPROVE."""
    with action(actor, decision, roles=ASSESSORS, reason=reason) as ctx:
        d = ctx.decision
        if assessment is None:
            assessment = d.risk_assessments.filter(stale_marked_at__isnull=True).order_by("-id").first()
        else:
            assessment = RiskAssessment.objects.select_for_update().filter(pk=assessment.pk, decision=d).first()
        failures = evaluate(rules.RA_STALE, ctx)
        if failures:
            raise ProcedureRefused(failures)
        if d.state not in rules.BEFORE_APPROVE_STATES:
            raise ProcedureRefused(
                [
                    rules.state_prerequisite(
                        f"决策处于“{named(DecisionState(d.state).label, 'zh-hans')}”，"
                        "本轮集体讨论已作出决定，不能再标记风险评估失效",
                        d.state,
                        en=f"the decision is at “{named(DecisionState(d.state).label, 'en')}”: this round's collective "
                        "decision has been taken, so the risk assessment can no longer be marked stale",
                    )
                ]
            )
        if assessment is None or assessment.stale_marked_at is not None:
            raise ProcedureRefused(
                [rules.state_prerequisite("没有可标记失效的风险评估", en="there is no risk assessment to mark stale")]
            )
        assessment.stale_reason = reason.strip()
        assessment.stale_marked_at = ctx.now
        assessment.stale_marked_by = ctx.actor
        assessment.save(update_fields=["stale_reason", "stale_marked_at", "stale_marked_by"])
        record_event(ctx, "risk:stale", assessment, {"reason": assessment.stale_reason, "state": d.state})
        return assessment


# -- 第二十六条: the procedure-performance statement ---------------------------------------------------


def _waiver_entry(waiver):
    if waiver is None:
        return None
    return {
        "code": waiver.reason_code,
        "label": rules.REASON_LABELS.get(waiver.reason_code, waiver.reason_code),
        "legal_basis": waiver.legal_basis,
        "evidence": waiver.evidence_id,
        "recorded_by": str(waiver.recorded_by),
        "approved_by": str(waiver.approved_by) if waiver.approved_by_id else None,
        "approved_role": waiver.approved_role or None,
        "approved_at": waiver.approved_at,
    }


def procedure_statement(decision):
    """Return PP, HEARING, EX and RA as 履行决策法定程序的说明 lists them (第二十六条): status, reason or waiver, pin."""
    entries = []
    for stage in rules.SUBSTAGES:
        record = decision.current_record(stage)
        entry = {"stage": stage, "label": str(Stage(stage).label)}
        if record is None:
            entries.append({**entry, "status": None, "status_label": gettext_noop("未建立")})
            continue
        signoff = record.signoffs.order_by("-id").first() or (
            record.closed_with.signoffs.order_by("-id").first() if record.closed_with_id else None
        )
        entry.update(
            status=record.status,
            status_label=str(record.get_status_display()),
            draft_version=_draft_no(record),
            reason_code=record.reason_code or None,
            reason_label=rules.REASON_LABELS.get(record.reason_code) if record.reason_code else None,
            reason_text=record.reason_text or None,
            other_law=(
                {
                    "instrument": record.other_law_instrument,
                    "level": record.other_law_level,
                    "article": record.other_law_article,
                }
                if record.other_law_instrument
                else None
            ),
            prior_assessment_level=record.prior_assessment_level or None,
            waiver=_waiver_entry(record.waiver) if record.status == StageStatus.WAIVED else None,
            cascade_from=record.closed_with.stage if record.closed_with_id else None,
            methods=list(record.methods or []),
            reopened=bool(record.supersedes_id),
            reopen_reason=record.reopen_reason or None,
            completed_at=record.completed_at,
            signed_off_by=str(signoff.user) if signoff else None,
        )
        if stage == Stage.PP:
            entry["comment_periods"] = [
                {**_period_payload(p), "days": rules.comment_period_days(p)} for p in rules.comment_periods(record)
            ]
        if stage == Stage.HEARING:
            entry["hearing_flag_changes"] = [
                {"at": e.at, "flags": e.payload.get("flags"), "reason": e.payload.get("reason")}
                for e in AuditEvent.objects.filter(decision_id_ref=decision.pk, action=CLEAR_HEARING_FLAG).order_by(
                    "seq"
                )
            ]
        if stage == Stage.RA:
            assessment = rules.latest_assessment(record)
            entry["risk_level"] = assessment.level if assessment else None
            entry["assessment_draft_version"] = assessment.draft_version.number if assessment else None
            entry["assessment_stale"] = bool(assessment and assessment.stale_marked_at)
        entries.append(entry)
    return entries


def named(label, language):
    """Return a (lazily translated) name in `language`: each message of a refusal names it in its own language."""
    with translation.override(language):
        return str(label)


def today():
    """Return today's date in Asia/Shanghai (P4)."""
    return localdate(timezone.now())


__all__ = [
    "open_substage",
    "close_not_triggered",
    "record_waiver",
    "approve_waiver",
    "sign_off_waiver",
    "reopen",
    "update_trigger_answers",
    "reopen_required_by_catalogue",
    "rerun_substages",
    "record_participation_methods",
    "prepare_comment_notice",
    "set_shortening_reason",
    "mark_comment_notice_published",
    "publish_comment_notice",
    "extend_comment_period",
    "complete_public_participation",
    "schedule_hearing",
    "update_hearing",
    "change_hearing_date",
    "add_hearing_participant",
    "record_delivery",
    "complete_hearing",
    "set_expert_review_mode",
    "add_expert",
    "upload_expert_opinion",
    "complete_expert_review",
    "record_risk_assessment",
    "complete_risk_assessment",
    "mark_assessment_stale",
    "procedure_statement",
]
