"""Rules of the collective decision (集体讨论决定, 第二十四条至第三十条; T19–T20b).

The risk gate (P5), the meeting record (quorum, statements, the chief last, the chief's
reason) and the controllability judgement are defined once here; the stop procedure (T28)
reuses the meeting-type and meeting-record rules (`MEETING_RECORD`). The opinion and
risk-staleness rules and the 第29条 package come from rules/legality.py.

"The chief's decision differs from the majority" (第三十条) is read strictly: the outcome
differs unless it is the position of more than half of the other present members who
stated a position (an explicit NO_OPINION is not a position). A tie or a split without a
majority therefore needs the chief's reason; when no other member stated a position
there is no majority to differ from.
"""

from decisions.models import (
    AgendaItem,
    CollectiveOutcome,
    DocumentType,
    LegalityReview,
    Position,
    RiskLevel,
    Stage,
    StageStatus,
)
from decisions.rules import legality, rule
from decisions.rules.facts import filled, has_document, live_record, param

ALREADY_ASSESSED = "ALREADY_ASSESSED_UNDER_OTHER_RULES"
NO_IMPACT = "NO_STABILITY_OR_SAFETY_IMPACT"
# 第二十四条; P5: with NOT_CONTROLLABLE (or no judgement where one is due) only these outcomes.
OUTCOMES_WITHOUT_CONTROLLABILITY = (Position.REJECT, Position.DEFER, Position.MODIFY)
DECIDING_POSITIONS = tuple(p for p in Position.values if p != Position.NO_OPINION)


# -- facts of the meeting ---------------------------------------------------------------------


def latest_opinion(decision):
    """Return the decision's latest issued legality opinion on the draft, or None."""
    return legality.latest_opinion(decision)


def review_count(decision, meeting_date):
    """Return the last round's review clock up to `meeting_date` as a calendar.Count (第二十六条; B2)."""
    from decisions.services.legality import review_clock

    count, _complete_on = review_clock(decision, meeting_date)
    return count


def live_item(decision):
    """Return the agenda item the decision is on now (scheduled, not taken off), or None."""
    return (
        AgendaItem.objects.filter(
            decision=decision,
            subject=LegalityReview.Subject.DRAFT,
            stage_record__isnull=False,
            removed_at__isnull=True,
        )
        .select_related("meeting", "stage_record")
        .order_by("-id")
        .first()
    )


def pending_item(decision, meeting):
    """Return the not yet scheduled item that carries a time override for (decision, meeting), or None."""
    return (
        AgendaItem.objects.filter(
            decision=decision,
            meeting=meeting,
            subject=LegalityReview.Subject.DRAFT,
            stage_record__isnull=True,
            removed_at__isnull=True,
        )
        .order_by("-id")
        .first()
    )


def _item(ctx):
    """The agenda item a meeting-record rule looks at: the one given, else the live one."""
    item = ctx.get("agenda_item")
    if item is None and ctx.decision is not None:
        item = live_item(ctx.decision)
    if item is not None and CollectiveOutcome.objects.filter(agenda_item=item).exists():
        return None  # already decided: nothing left to check on it
    return item


def final_positions(item):
    """Return {member id: position} from each member's last statement on the item (chief excluded)."""
    positions = {}
    for statement in item.statements.filter(is_chief=False).order_by("seq"):
        positions[statement.member_id] = statement.position
    return positions


def chief_statement(item):
    """Return the chief's last statement on the item, or None."""
    return item.statements.filter(is_chief=True).order_by("-seq").first()


def chief_differs_from_majority(item, outcome):
    """Return True unless `outcome` is the position of more than half of the other members who stated one."""
    stated = [p for p in final_positions(item).values() if p != Position.NO_OPINION]
    if not stated:
        return False
    return sum(1 for p in stated if p == outcome) * 2 <= len(stated)


def outcome_of(ctx, item):
    """Return the outcome under check: the one given, else the chief's position."""
    outcome = ctx.get("outcome")
    if outcome:
        return outcome
    chief = chief_statement(item) if item is not None else None
    return chief.position if chief else None


def risk_gate_applies(decision):
    """P5: the level gate is skipped only when RA was closed NOT_TRIGGERED for no stability or safety impact."""
    record = live_record(decision, Stage.RA)
    return not (record and record.status == StageStatus.NOT_TRIGGERED and record.reason_code == NO_IMPACT)


def judgement_required(decision):
    """第二十四条: the organ records its controllability judgement when RA was done or a prior assessment used."""
    record = live_record(decision, Stage.RA)
    if record is None:
        return False
    return record.status == StageStatus.DONE or (
        record.status == StageStatus.NOT_TRIGGERED and record.reason_code == ALREADY_ASSESSED
    )


def risk_levels(decision):
    """Return the decision's risk levels, oldest first, as (level, draft number, stage record)."""
    levels = [
        (ra.level, ra.draft_version.number if ra.draft_version_id else 0, ra.stage_record)
        for ra in decision.risk_assessments.select_related("draft_version", "stage_record").order_by("id")
    ]
    record = live_record(decision, Stage.RA)
    if (
        record is not None
        and record.status == StageStatus.NOT_TRIGGERED
        and record.reason_code == ALREADY_ASSESSED
        and record.prior_assessment_level
        and not record.risk_assessments.exists()
    ):
        # 第二十二条第二款: the prior assessment's level is the level of the live record.
        number = record.draft_version.number if record.draft_version_id else 0
        levels.append((record.prior_assessment_level, number, record))
    return levels


# -- T19 ------------------------------------------------------------------------------------


@rule(
    "LEGALITY_REVIEW_MISSING",
    "第二十五条",
    "决策草案未经合法性审查，不得提交决策机关讨论",
    "The draft has no legality opinion: it may not be put to the organ",
)
def legality_opinion_exists(ctx):
    return latest_opinion(ctx.decision) is not None


def allowed_meeting_types(decision):
    return decision.profile.for_organ("allowed_decision_meeting_types", decision.organ)


@rule(
    "PROFILE_NOT_CONFIGURED",
    "P15",
    "规则配置尚未为此类决策机关(部门、乡镇)设定可以作出决策的会议类型",
    "The rule profile does not set the meeting types allowed for this kind of organ",
)
def meeting_types_configured(ctx):
    return allowed_meeting_types(ctx.decision) is not None


@rule(
    "MEETING_TYPE_NOT_ALLOWED",
    "第三十条",
    "决策草案应当经决策机关常务会议或者全体会议讨论(以规则配置允许的会议类型为准)",
    "The draft must be discussed at the organ's executive or plenary meeting (the types the profile allows)",
)
def meeting_type_allowed(ctx):
    allowed = allowed_meeting_types(ctx.decision)
    if allowed is None:
        return True
    meeting = ctx.get("meeting")
    return meeting is not None and meeting.meeting_type in allowed


def time_override_holds(decision, meeting):
    """B2a: an override reason recorded by GOV_OFFICE and acknowledged by LEGAL_REVIEWER for this meeting date."""
    if not param(decision, "legality_review_allow_override_with_reason"):
        return False
    item = pending_item(decision, meeting)
    return (
        item is not None
        and filled(item.time_override_reason)
        and item.time_override_by_id is not None
        and item.time_override_acknowledged_by_id is not None
        and item.time_override_for_date == meeting.date
    )


@rule(
    "LEGALITY_REVIEW_TIME_INSUFFICIENT",
    "第二十六条",
    "送请合法性审查应当保证必要的审查时间，一般不少于7个工作日(材料齐全之日与会议日期之间)；不足的，须由政府办公室"
    "说明理由并经合法性审查部门就本次会议日期确认",
    "The legality review had fewer working days than required before this meeting date, and no override reason "
    "was recorded and acknowledged for this date",
)
def review_time_sufficient(ctx):
    meeting = ctx.get("meeting")
    if meeting is None or latest_opinion(ctx.decision) is None:
        return True  # no meeting: MEETING_TYPE_NOT_ALLOWED; no opinion: LEGALITY_REVIEW_MISSING
    count = review_count(ctx.decision, meeting.date)
    if count.days >= param(ctx.decision, "legality_review_min_working_days"):
        return True
    return time_override_holds(ctx.decision, meeting)


@rule(
    "WORKING_DAYS_PROVISIONAL",
    "P4",
    "审查期间所在年度的国务院节假日安排尚未载入，工作日暂按周一至周五计算；载入后将重新核算",
    "The holiday notice for a year in the review period is not loaded: working days are counted by the weekday "
    "rule for now and will be re-checked",
    warning=True,
)
def review_count_final(ctx):
    meeting = ctx.get("meeting")
    if meeting is None or latest_opinion(ctx.decision) is None:
        return True
    return not review_count(ctx.decision, meeting.date).provisional


@rule(
    "RISK_NOT_CONTROLLABLE",
    "第二十四条; P5",
    "风险等级为高，须调整决策草案并重新评估(针对新版本草案评为中或低风险)后方可列入会议",
    "The risk is rated HIGH: adjust the draft and re-assess it (a new assessment of a later draft rated MEDIUM or "
    "LOW) before scheduling",
)
def risk_level_allows(ctx):
    if not risk_gate_applies(ctx.decision):
        return True
    levels = risk_levels(ctx.decision)
    if not levels:
        return True
    level, number, _record = levels[-1]
    if level == RiskLevel.HIGH:
        return False
    highs = [n for lvl, n, _r in levels[:-1] if lvl == RiskLevel.HIGH]
    # An assessment that follows a HIGH one counts only if it judged a later draft (P5).
    return not highs or number > max(highs)


@rule(
    "RISK_MITIGATION_PLAN_MISSING",
    "P5",
    "风险等级为中，须附风险防范化解方案",
    "The risk is rated MEDIUM: the risk mitigation plan must be attached",
)
def mitigation_plan_attached(ctx):
    decision = ctx.decision
    if not risk_gate_applies(decision) or not param(decision, "risk_medium_requires_mitigation_plan"):
        return True
    levels = risk_levels(decision)
    if not levels or levels[-1][0] != RiskLevel.MEDIUM:
        return True
    records = {levels[-1][2], live_record(decision, Stage.RA)}
    return any(has_document(r, DocumentType.RISK_MITIGATION_PLAN) for r in records if r is not None)


def open_remove_adjustments(decision):
    """Return the open REMOVE adjustments for the decision or its catalogue entry (P24)."""
    from catalog.models import OPEN_ADJUSTMENT_STATES, CatalogueAdjustment

    keys = list(decision.catalogue_entries.values_list("key", flat=True))
    by_decision = CatalogueAdjustment.objects.filter(decision=decision)
    by_entry = CatalogueAdjustment.objects.filter(entry_key__in=keys)
    return (by_decision | by_entry).filter(kind=CatalogueAdjustment.Kind.REMOVE, state__in=OPEN_ADJUSTMENT_STATES)


@rule(
    "CATALOGUE_ADJUSTMENT_OPEN",
    "P24",
    "该事项的目录撤出调整正在办理中，须待调整公布或不予通过后方可列入会议",
    "A catalogue adjustment removing this decision's entry is open: it must be published or rejected first",
)
def no_open_remove_adjustment(ctx):
    return not open_remove_adjustments(ctx.decision).exists()


RISK_GATE = [risk_level_allows, mitigation_plan_attached]

T19 = [
    legality_opinion_exists,
    legality.opinion_not_unlawful,
    legality.opinion_current,
    meeting_types_configured,
    meeting_type_allowed,
    review_time_sufficient,
    review_count_final,
    legality.risk_assessments_current,
    *RISK_GATE,
    no_open_remove_adjustment,
]


# -- T19a -----------------------------------------------------------------------------------


@rule("REASON_REQUIRED", "第三十条", "撤出会议议题须说明理由", "Taking the item off the agenda needs a reason")
def unschedule_reason_given(ctx):
    return filled(ctx.get("reason"))


T19A = [unschedule_reason_given]


# -- T20 ------------------------------------------------------------------------------------


@rule(
    "QUORUM_NOT_MET",
    "P23",
    "出席会议的组成人员须超过全体组成人员的半数",
    "More than half of the meeting's members must be present",
)
def quorum_met(ctx):
    item = _item(ctx)
    if item is None:
        return True
    meeting = item.meeting
    return meeting.members_present.count() * 2 > meeting.members_total


@rule(
    "MEMBER_STATEMENT_MISSING",
    "第三十条",
    "会议组成人员应当充分发表意见：每位出席的组成人员须有发言记录或明确的“无意见”",
    "Each member present must have a statement on record, or an explicit NO_OPINION",
)
def statements_complete(ctx):
    item = _item(ctx)
    if item is None:
        return True
    present = set(item.meeting.members_present.values_list("pk", flat=True))
    spoke = set(item.statements.values_list("member_id", flat=True))
    return present <= spoke


@rule(
    "CHIEF_NOT_LAST",
    "第三十条",
    "行政首长应当最后发表意见",
    "The administrative head must speak last",
)
def chief_spoke_last(ctx):
    item = _item(ctx)
    if item is None:
        return True
    last = item.statements.order_by("-seq").first()
    return last is not None and last.is_chief


@rule(
    "CHIEF_REASON_MISSING",
    "第三十条",
    "行政首长拟作出的决定与会议组成人员多数人的意见不一致的，应当在会上说明理由",
    "The head's decision differs from the majority of the members: the reason must be recorded",
)
def chief_reason_given(ctx):
    item = _item(ctx)
    if item is None:
        return True
    outcome = outcome_of(ctx, item)
    if outcome is None or not chief_differs_from_majority(item, outcome):
        return True
    return filled(ctx.get("chief_reason"))


@rule(
    "RISK_NOT_CONTROLLABLE",
    "第二十四条",
    "决策机关认为风险可控的，方可作出同意的决定；认为风险不可控(或未作判断)的，只能作出不同意、暂缓或修改的决定",
    "APPROVE needs the organ's judgement that the risk is controllable; with NOT_CONTROLLABLE (or no judgement "
    "where one is due) only REJECT, DEFER or MODIFY",
    name="controllability_allows_outcome",
)
def controllability_allows_outcome(ctx):
    item = _item(ctx)
    if item is None:
        return True
    judgement = ctx.get("controllability_judgement") or ""
    if not judgement and not judgement_required(ctx.decision):
        return True
    if judgement == CollectiveOutcome.Controllability.CONTROLLABLE:
        return True
    return outcome_of(ctx, item) in OUTCOMES_WITHOUT_CONTROLLABILITY


def _cd_document(doc_type, zh, en):
    @rule("DOSSIER_ITEM_MISSING", "第三十三条; B8", zh, en, name=f"cd_{doc_type.lower()}")
    def check(ctx):
        item = _item(ctx)
        return item is None or has_document(item.stage_record, doc_type)

    return check


deliberation_request_attached = _cd_document(
    DocumentType.DELIBERATION_REQUEST, "须上传提请审议请示", "The request for deliberation must be attached"
)
meeting_notice_attached = _cd_document(
    DocumentType.MEETING_NOTICE, "须上传会议通知及议程", "The meeting notice and agenda must be attached"
)
minutes_attached = _cd_document(DocumentType.MINUTES, "须上传会议纪要", "The minutes (会议纪要) must be attached")

# T20's meeting-record guards, reused for a stop's meeting (T28).
MEETING_RECORD = [quorum_met, statements_complete, chief_spoke_last, chief_reason_given]

T20 = [
    *MEETING_RECORD,
    controllability_allows_outcome,
    deliberation_request_attached,
    meeting_notice_attached,
    minutes_attached,
]


# -- T20a, T20b -----------------------------------------------------------------------------


T20A = [legality.opinion_current, legality.risk_assessments_current, *legality.PACKAGE, *RISK_GATE]


@rule("REASON_REQUIRED", "第二十八条", "撤回修改须说明理由", "Pulling the draft back for revision needs a reason")
def pullback_reason_given(ctx):
    return filled(ctx.get("reason"))


T20B = [pullback_reason_given]
