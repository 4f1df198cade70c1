"""Collective decision (集体讨论决定, 第二十四条、第二十六条、第三十条; T19–T20b).

A meeting of the organ is created with the members present; the government office
puts the decision on its agenda (T19, which opens the agenda item's CD record),
records each member's statement in speaking order and the chief's decision last,
and records the outcome (T20), which closes and signs off the CD record whatever
the outcome. Statements are stored exactly as given: dissent stays verbatim in the
minutes and in the signed record (第三十条, 第三十八条).

A legality review shorter than the profile's working days (第二十六条 "一般不少于7个
工作日") is overridden only for one meeting date: `record_time_override` (GOV_OFFICE,
with the reason) and `acknowledge_time_override` (LEGAL_REVIEWER) both act on a
not yet scheduled agenda item of that meeting, which T19 then takes up (B2a).
"""

from django.db import transaction
from django.utils import timezone

from decisions import audit, lifecycle, seals
from decisions.models import (
    AgendaItem,
    CollectiveOutcome,
    Meeting,
    MeetingStatement,
    Position,
    Role,
    Stage,
    StageStatus,
)
from decisions.permissions import require_organ_role, roles_for
from decisions.rules import meeting as rules
from decisions.rules import refuse, warnings
from decisions.rules.facts import filled, live_record, param
from decisions.services.common import (
    action,
    attach,
    close_stage,
    create_stage,
    freeze_stage,
    open_stage,
    record_event,
    take_step,
)
from decisions.services.documents import new_draft_version

# T20: the state each outcome leads to (第三十条; S10 同意/不同意/修改/暂缓/再次讨论).
OUTCOME_STATES = {
    Position.APPROVE: lifecycle.DECIDED,
    Position.REJECT: lifecycle.REJECTED,
    Position.DEFER: lifecycle.DEFERRED,
    Position.MODIFY: lifecycle.REVISING,
    Position.REDISCUSS: lifecycle.READY_FOR_MEETING,
}
MEETING_ROLES = (Role.CHIEF, Role.MEETING_MEMBER)
# States in which GOV_OFFICE may explain a legality review shorter than required for a coming meeting.
OVERRIDE_STATES = (
    lifecycle.LEGAL_REVIEW_SUBMITTED,
    lifecycle.LEGAL_REVIEW_RETURNED,
    lifecycle.LEGAL_REVIEW_IN_PROGRESS,
    lifecycle.LEGAL_REVIEW_DONE,
    lifecycle.REVISING,
    lifecycle.READY_FOR_MEETING,
    lifecycle.DEFERRED,
)


# -- meetings -----------------------------------------------------------------------------------


def _check_members(organ, members):
    """Refuse anyone who is not a member of the organ's meetings (the chief or a 会议组成人员)."""
    from decisions.models import RoleAssignment

    members = list(members or [])
    eligible = set(
        RoleAssignment.objects.filter(organisation=organ, role__in=MEETING_ROLES).values_list("user_id", flat=True)
    )
    strangers = [m for m in members if m.pk not in eligible]
    if strangers:
        refuse(
            "MEETING_MEMBER_INVALID",
            "第三十条",
            "出席人员须为决策机关的会议组成人员(含行政首长)",
            "Only the organ's meeting members (the head included) can be recorded as present",
            detail="、".join(str(m) for m in strangers),
        )
    return members


def create_meeting(actor, organ, *, meeting_type, title, date, members_present=()):
    """Create a meeting of the organ; its members_total is the organ's number of members now (B3)."""
    if meeting_type not in Meeting.Type.values:
        refuse("MEETING_TYPE_UNKNOWN", "第三十条", "会议类型不正确", f"Unknown meeting type {meeting_type!r}")
    if not filled(title) or date is None:
        refuse("MEETING_DETAILS_MISSING", "第三十条", "须填写会议名称和日期", "A meeting needs a title and a date")
    with transaction.atomic():
        role = require_organ_role(actor, organ, [Role.GOV_OFFICE])
        members = _check_members(organ, members_present)
        meeting = Meeting.objects.create(
            organ=organ,
            meeting_type=meeting_type,
            title=title.strip(),
            date=date,
            members_total=organ.meeting_members_total,
            created_by=actor,
        )
        meeting.members_present.set(members)
        audit.append(
            actor=actor,
            role=role,
            action="meeting:create",
            obj=meeting,
            payload={
                "organ": organ.code,
                "type": meeting_type,
                "title": meeting.title,
                "date": date,
                "members_total": meeting.members_total,
                "present": [m.pk for m in members],
            },
        )
    return meeting


def record_attendance(actor, meeting, members_present):
    """Replace the list of members present; refused once an outcome was recorded at the meeting."""
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        role = require_organ_role(actor, meeting.organ, [Role.GOV_OFFICE])
        if CollectiveOutcome.objects.filter(agenda_item__meeting=meeting).exists():
            refuse(
                "DOCUMENT_IMMUTABLE",
                "第三十三条",
                "会议已作出决定，出席情况不得更改",
                "An outcome was recorded at this meeting: its attendance cannot change",
            )
        members = _check_members(meeting.organ, members_present)
        meeting.members_present.set(members)
        audit.append(
            actor=actor,
            role=role,
            action="meeting:attendance",
            obj=meeting,
            payload={"present": [m.pk for m in members]},
        )
    return meeting


def _same_organ(decision, meeting):
    if meeting is None or meeting.organ_id != decision.organ_id:
        refuse(
            "MEETING_ORGAN_MISMATCH",
            "第三十条",
            "决策草案须经本决策机关的会议讨论",
            "The meeting must be one of the decision organ's own meetings",
        )


# -- the legality-review time override (第二十六条 "一般") ----------------------------------------


def record_time_override(actor, decision, *, meeting, reason):
    """Record GOV_OFFICE's reason for a review shorter than required, for this meeting's date (B2a)."""
    if not filled(reason):
        refuse("REASON_REQUIRED", "第二十六条", "审查时间不足须说明理由", "A shorter review needs a reason")
    with action(actor, decision, roles=[Role.GOV_OFFICE]) as ctx:
        _same_organ(ctx.decision, meeting)
        if ctx.decision.state not in OVERRIDE_STATES:
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "P7",
                "只能在送请合法性审查之后、列入会议议题之前说明审查时间不足的理由",
                "A shorter review is explained after the submission for review and before scheduling",
                detail=ctx.decision.get_state_display(),
            )
        if not param(ctx.decision, "legality_review_allow_override_with_reason"):
            refuse(
                "LEGALITY_REVIEW_TIME_INSUFFICIENT",
                "第二十六条",
                "规则配置不允许以说明理由的方式缩短合法性审查时间",
                "The profile does not allow a shorter review with a reason",
            )
        item = rules.pending_item(ctx.decision, meeting) or AgendaItem(decision=ctx.decision, meeting=meeting)
        item.time_override_reason = reason
        item.time_override_by = ctx.actor
        item.time_override_at = ctx.now
        item.time_override_for_date = meeting.date
        # A new reason needs a new acknowledgement.
        item.time_override_acknowledged_by = None
        item.time_override_acknowledged_at = None
        item.save()
        record_event(
            ctx, "meeting:time_override", item, {"meeting": meeting.pk, "meeting_date": meeting.date, "reason": reason}
        )
        return item


def acknowledge_time_override(actor, decision, *, meeting):
    """The LEGAL_REVIEWER acknowledges the override reason for this meeting's date (第二十六条)."""
    with action(actor, decision, roles=[Role.LEGAL_REVIEWER]) as ctx:
        item = rules.pending_item(ctx.decision, meeting)
        if item is None or not filled(item.time_override_reason):
            refuse(
                "REASON_REQUIRED",
                "第二十六条",
                "政府办公室尚未就本次会议记录审查时间不足的理由",
                "No override reason was recorded for this meeting",
            )
        if item.time_override_for_date != meeting.date:
            refuse(
                "LEGALITY_REVIEW_TIME_INSUFFICIENT",
                "第二十六条; B2a",
                "说明理由针对的是此前的会议日期，须就新的会议日期重新说明",
                "The reason was recorded for an earlier meeting date: record it again for this date",
            )
        item.time_override_acknowledged_by = ctx.actor
        item.time_override_acknowledged_at = ctx.now
        item.save(update_fields=["time_override_acknowledged_by", "time_override_acknowledged_at"])
        record_event(
            ctx, "meeting:time_override_acknowledged", item, {"meeting": meeting.pk, "meeting_date": meeting.date}
        )
        return item


# -- T19, T19a ----------------------------------------------------------------------------------


def _as_warnings(failures):
    return [f.as_dict() for f in failures]


def schedule_for_meeting(actor, decision, *, meeting, documents=()):
    """T19: put the decision on a meeting's agenda and open the agenda item's CD record.

    The returned decision carries `warnings` (e.g. a provisional working-day count, P4).
    """
    with action(actor, decision, "T19", meeting=meeting) as ctx:
        d = ctx.decision
        _same_organ(d, meeting)
        count = rules.review_count(d, meeting.date) if rules.latest_opinion(d) is not None else None
        item = rules.pending_item(d, meeting)
        override = count is not None and count.days < param(d, "legality_review_min_working_days")
        take_step(
            ctx,
            "T19",
            payload={
                "meeting": meeting.pk,
                "meeting_date": meeting.date,
                "review_working_days": getattr(count, "days", None),
                "time_override": override,
            },
        )
        found = _as_warnings(warnings(rules.T19, ctx))
        if item is None:
            item = AgendaItem(decision=d, meeting=meeting)
        record = create_stage(ctx, Stage.CD, supersedes=live_record(d, Stage.CD))
        open_stage(ctx, record)
        attach(ctx, record, documents)
        item.stage_record = record
        item.review_working_days = getattr(count, "days", None)
        item.review_days_provisional = bool(count and count.provisional)
        item.review_complete_on = rules.latest_opinion(d).complete_on if count is not None else None
        item.save()
        record_event(
            ctx, "meeting:schedule", item, {"meeting": meeting.pk, "stage_record": record.pk, "warnings": found}
        )
        d.warnings = found
        return d


def unschedule(actor, decision, *, reason):
    """T19a: take the item off the agenda (meeting cancelled or item removed); no outcome, CD record frozen."""
    with action(actor, decision, "T19a", reason=reason) as ctx:
        item = rules.live_item(ctx.decision)
        take_step(ctx, "T19a", payload={"reason": reason, "agenda_item": getattr(item, "pk", None)})
        freeze_stage(ctx, item.stage_record, "撤出会议议题(T19a)")
        item.removed_reason = reason
        item.removed_at = ctx.now
        item.save(update_fields=["removed_reason", "removed_at"])
        record_event(ctx, "meeting:unschedule", item, {"reason": reason})
        return ctx.decision


# -- statements and the outcome (T20) -----------------------------------------------------------


def _scheduled_item(ctx, agenda_item=None):
    d = ctx.decision
    item = agenda_item or rules.live_item(d)
    if agenda_item is None and d.state != lifecycle.SCHEDULED:
        item = None
    if item is None or item.decision_id != d.pk or item.removed_at is not None:
        refuse(
            "STATE_PREREQUISITE_MISSING",
            "P7",
            "该决策未列入会议议题，不能记录会议发言",
            "The decision is not on a meeting agenda",
        )
    if CollectiveOutcome.objects.filter(agenda_item=item).exists():
        refuse(
            "DOCUMENT_IMMUTABLE",
            "第三十三条",
            "该议题已作出决定，会议记录不得更改",
            "The item was decided: its record cannot change",
        )
    return item


def record_statement(actor, decision, *, member, position, text="", is_chief=False, agenda_item=None):
    """Record one member's statement in speaking order; the text is kept exactly as given (第三十条)."""
    if position not in Position.values:
        refuse(
            "POSITION_INVALID",
            "第三十条",
            "发言意见须为同意、不同意、修改、暂缓、再次讨论或无意见",
            f"Unknown position {position!r}",
        )
    with action(actor, decision, roles=[Role.GOV_OFFICE]) as ctx:
        item = _scheduled_item(ctx, agenda_item)
        if not item.meeting.members_present.filter(pk=member.pk).exists():
            refuse(
                "MEMBER_NOT_PRESENT",
                "第三十条",
                "发言人须为出席会议的组成人员",
                "The speaker must be a member recorded as present",
                detail=str(member),
            )
        if is_chief and Role.CHIEF not in roles_for(member, ctx.decision):
            refuse(
                "CHIEF_ROLE_MISSING",
                "第三十条",
                "标记为行政首长的发言人须为决策机关行政首长",
                "The speaker marked as the head must hold the CHIEF role",
                detail=str(member),
            )
        last = item.statements.order_by("-seq").first()
        statement = MeetingStatement.objects.create(
            agenda_item=item,
            member=member,
            seq=(last.seq + 1) if last else 1,
            position=position,
            text=text or "",
            is_chief=bool(is_chief),
        )
        record_event(
            ctx,
            "meeting:statement",
            statement,
            {
                "agenda_item": item.pk,
                "seq": statement.seq,
                "member": member.pk,
                "position": position,
                "text": statement.text,
                "is_chief": statement.is_chief,
            },
        )
        return statement


def _next_state(decision, outcome):
    if outcome == Position.REJECT and decision.in_force_version_id:
        # P16: rejecting the adjusted draft returns the decision in force to execution.
        return lifecycle.SUSPENDED if decision.suspended else lifecycle.IMPLEMENTING
    return OUTCOME_STATES[outcome]


def _member_label(user):
    return user.get_full_name() or user.first_name or user.username


def item_minutes(item):
    """Return the record of one agenda item: attendance, statements verbatim, dissent, outcome (第三十条)."""
    meeting = item.meeting
    outcome = CollectiveOutcome.objects.filter(agenda_item=item).select_related("adopted_version").first()
    statements = [
        {
            "seq": s.seq,
            "member_id": s.member_id,
            "member": _member_label(s.member),
            "position": s.position,
            "position_label": str(Position(s.position).label),
            "text": s.text,
            "is_chief": s.is_chief,
        }
        for s in item.statements.select_related("member").order_by("seq")
    ]
    decided = outcome.outcome if outcome else None
    dissent = [
        s for s in statements if decided and not s["is_chief"] and s["position"] not in (decided, Position.NO_OPINION)
    ]
    present = list(meeting.members_present.order_by("pk"))
    return {
        "agenda_item": item.pk,
        "subject": item.subject,
        "meeting": {
            "id": meeting.pk,
            "title": meeting.title,
            "type": meeting.meeting_type,
            "type_label": str(Meeting.Type(meeting.meeting_type).label),
            "date": meeting.date,
            "members_total": meeting.members_total,
            "present": [{"id": m.pk, "name": _member_label(m)} for m in present],
            "quorum_met": len(present) * 2 > meeting.members_total,
        },
        "review_working_days": item.review_working_days,
        "review_days_provisional": item.review_days_provisional,
        "time_override": {
            "reason": item.time_override_reason,
            "by": item.time_override_by_id,
            "acknowledged_by": item.time_override_acknowledged_by_id,
            "for_date": item.time_override_for_date,
        }
        if item.time_override_reason
        else None,
        "removed_reason": item.removed_reason,
        "statements": statements,
        "dissent": dissent,
        "outcome": decided,
        "outcome_label": str(Position(decided).label) if decided else "",
        "controllability_judgement": outcome.controllability_judgement if outcome else "",
        "chief_differs_from_majority": outcome.chief_differs_from_majority if outcome else False,
        "chief_reason": outcome.chief_reason if outcome else "",
        "amendments": outcome.amendments if outcome else "",
        "adopted_version": outcome.adopted_version.number if outcome and outcome.adopted_version_id else None,
        "superseded_by_party_reply": outcome.superseded_by_party_reply if outcome else False,
    }


def minutes(decision):
    """Return the record of every agenda item the decision was on, oldest first (for the CD dossiers)."""
    items = AgendaItem.objects.filter(decision=decision, stage_record__isnull=False).order_by("id")
    return [item_minutes(item) for item in items]


def _close_cd_record(ctx, item, outcome):
    """Close the agenda item's CD record and sign it off; the signed content includes the minutes (P8, 第三十条)."""
    return close_stage(
        ctx,
        item.stage_record,
        StageStatus.DONE,
        outcome=outcome,
        subject=f"集体讨论决定 {Position(outcome).label}",
        extra=lambda: {"minutes": item_minutes(item)},
    )


def record_meeting_outcome(
    actor,
    decision,
    *,
    outcome=None,
    controllability_judgement="",
    chief_reason="",
    amendments="",
    adopted_draft=None,
    documents=(),
):
    """T20: record the chief's decision on the item, close and sign off its CD record (第二十四条、第三十条).

    The outcome is the chief's position (his last statement); `outcome`, when given, must equal it.
    APPROVE with wording amended at the meeting stores `adopted_draft` as a new draft version
    marked adopted_at_meeting, and `amendments` lists each change verbatim (P10).
    """
    judgement = controllability_judgement or ""
    if judgement and judgement not in CollectiveOutcome.Controllability.values:
        refuse(
            "CONTROLLABILITY_INVALID",
            "第二十四条",
            "风险可控性判断须为“风险可控”或“风险不可控”",
            f"Unknown controllability judgement {judgement!r}",
        )
    with action(actor, decision, "T20", controllability_judgement=judgement, chief_reason=chief_reason) as ctx:
        d = ctx.decision
        item = rules.live_item(d) if d.state == lifecycle.SCHEDULED else None
        if item is not None:
            attach(ctx, item.stage_record, documents)
            chief = rules.chief_statement(item)
            if chief is not None:
                if chief.position == Position.NO_OPINION:
                    refuse(
                        "OUTCOME_INVALID",
                        "第三十条",
                        "行政首长须作出决定(同意、不同意、修改、暂缓或再次讨论)",
                        "The head must decide: approve, reject, modify, defer or discuss again",
                    )
                if outcome and outcome != chief.position:
                    refuse(
                        "OUTCOME_NOT_CHIEF_DECISION",
                        "第三十条",
                        "会议决定以行政首长最后发表的意见为准",
                        "The outcome is the head's decision",
                        detail=f"{outcome} ≠ {chief.position}",
                    )
                outcome = chief.position
        if outcome is not None and outcome not in rules.DECIDING_POSITIONS:
            refuse(
                "OUTCOME_INVALID",
                "第三十条",
                "会议决定须为同意、不同意、修改、暂缓或再次讨论",
                f"Unknown outcome {outcome!r}",
            )
        if adopted_draft is not None and outcome != Position.APPROVE:
            refuse(
                "OUTCOME_INVALID",
                "P10",
                "会议修改文字后审定文本仅适用于“同意”的决定；其他修改应作“修改”决定",
                "An adopted text goes with APPROVE only; any other change is a MODIFY outcome",
            )
        if outcome == Position.APPROVE and bool(filled(amendments)) != (adopted_draft is not None):
            refuse(
                "DOSSIER_ITEM_MISSING",
                "P10",
                "会议修改文字的，须逐项载明修改内容并上传审定文本",
                "Wording amended at the meeting needs both the list of changes and the adopted text",
            )
        ctx.params["outcome"] = outcome
        ctx.params["agenda_item"] = item
        target = _next_state(d, outcome) if outcome else None
        take_step(
            ctx,
            "T20",
            target,
            payload={"outcome": outcome, "agenda_item": getattr(item, "pk", None), "controllability": judgement},
        )
        differs = rules.chief_differs_from_majority(item, outcome)
        adopted = None
        if adopted_draft is not None:
            adopted = new_draft_version(ctx, adopted_draft, f"会议审定文本：{amendments}", adopted_at_meeting=True)
        result = seals.create(
            CollectiveOutcome,
            agenda_item=item,
            outcome=outcome,
            controllability_judgement=judgement,
            chief_differs_from_majority=differs,
            chief_reason=chief_reason or "",
            amendments=amendments or "",
            adopted_version=adopted,
            recorded_by=ctx.actor,
            recorded_at=ctx.now,
        )
        record_event(
            ctx,
            "meeting:outcome",
            result,
            {
                "agenda_item": item.pk,
                "outcome": outcome,
                "controllability": judgement,
                "chief_differs_from_majority": differs,
                "chief_reason": result.chief_reason,
                "amendments": result.amendments,
                "adopted_version": getattr(adopted, "number", None),
            },
        )
        _close_cd_record(ctx, item, outcome)
        if outcome == Position.REJECT and d.in_force_version_id:
            close_adjustment(ctx, "REJECTED")
        return d


def close_adjustment(ctx, closed_as):
    """Close the open major adjustment (DecisionAdjustment) of a re-run after T27 (P16)."""
    for adjustment in ctx.decision.adjustments.filter(closed_as="").order_by("id"):
        adjustment.closed_as = closed_as
        adjustment.closed_at = ctx.now
        adjustment.save(update_fields=["closed_as", "closed_at"])
        record_event(ctx, "adjustment:close", adjustment, {"closed_as": closed_as})


# -- T20a, T20b ---------------------------------------------------------------------------------


def bring_back_after_deferral(actor, decision):
    """T20a: bring a deferred decision back to READY_FOR_MEETING (the package and the gates re-checked)."""
    with action(actor, decision, "T20a") as ctx:
        take_step(ctx, "T20a")
        return ctx.decision


def pull_back_for_revision(actor, decision, *, reason):
    """T20b: take the draft back to REVISING for revision or re-assessment (第二十四条、第二十八条)."""
    with action(actor, decision, "T20b", reason=reason) as ctx:
        take_step(ctx, "T20b", payload={"reason": reason})
        return ctx.decision


__all__ = [
    "create_meeting",
    "record_attendance",
    "record_time_override",
    "acknowledge_time_override",
    "schedule_for_meeting",
    "unschedule",
    "record_statement",
    "record_meeting_outcome",
    "bring_back_after_deferral",
    "pull_back_for_revision",
    "minutes",
    "item_minutes",
    "close_adjustment",
]


def recheck_provisional_counts(years):
    """P4: after a holiday notice for `years` is loaded, re-run each provisional review count already used.

    A step already taken is not reversed; a count that now falls short of the minimum is reported to
    GOV_OFFICE and the LEGAL_REVIEWER (an audit event each, and the returned list), and the agenda
    item keeps both counts for the dossier.
    """
    from decisions import calendar

    years = set(years)
    findings = []
    items = AgendaItem.objects.filter(
        review_days_provisional=True, review_complete_on__isnull=False, stage_record__isnull=False
    ).select_related("meeting", "decision__profile")
    for item in items:
        span = set(range(item.review_complete_on.year, item.meeting.date.year + 1))
        if not span & years:
            continue
        count = calendar.working_days_between(item.review_complete_on, item.meeting.date)
        minimum = item.decision.profile.params["legality_review_min_working_days"]
        short = count.days < minimum and not item.time_override_acknowledged_by_id
        with transaction.atomic():
            AgendaItem.objects.filter(pk=item.pk).update(
                review_working_days_rechecked=count.days,
                review_days_provisional=count.provisional,
                review_rechecked_at=timezone.now(),
            )
            finding = {
                "decision": item.decision.reference,
                "agenda_item": item.pk,
                "meeting_date": item.meeting.date,
                "provisional_days": item.review_working_days,
                "rechecked_days": count.days,
                "minimum": minimum,
                "now_short": short,
                "notify": ["GOV_OFFICE", "LEGAL_REVIEWER"] if short else [],
            }
            audit.append(
                actor=None,
                role="SYSTEM",
                action="calendar:recheck",
                obj=item,
                decision=item.decision,
                payload=finding,
            )
        findings.append(finding)
    return findings
