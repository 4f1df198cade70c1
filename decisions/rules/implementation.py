"""Rules after publication and at the ends: execution, suspension, post-evaluation, adjustment,
stop, withdrawal and archiving (第三十三条至第三十七条; T23–T30a, B7, B8 items 10–13).

Rules that look at the records a step has just attached read them from `ctx.target`, the stage
record the service opened for the step (IMPL, PE, ADJ or ARC); without a target they fail, so
that asking the table about a step (lifecycle.check) never passes a document guard by accident.
"""

from datetime import date

from django.db.models import Exists, OuterRef, Q

from decisions import lifecycle
from decisions.models import (
    CLOSED_STAGE_STATUSES,
    CollectiveOutcome,
    Document,
    DocumentType,
    ExpertMember,
    HandoverTask,
    ImplementationClosure,
    LegalityReview,
    Organisation,
    Position,
    PostEvaluation,
    RiskAssessment,
    Role,
    RoleAssignment,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
    Suspension,
)
from decisions.rules import meeting as meeting_rules
from decisions.rules import rule
from decisions.rules.facts import filled, has_document, param
from decisions.rules.initiation import catalogue_not_required

# Stages a post-T27 re-run works on; their open records are frozen when the re-run ends (T27b, T28).
RERUN_STAGES = (
    Stage.DRAFTING,
    Stage.PP,
    Stage.HEARING,
    Stage.EX,
    Stage.RA,
    Stage.LR,
    Stage.CD,
    Stage.PARTY_REPORT,
    Stage.PUB,
)


# -- facts of this area (read-only) ----------------------------------------------------------------


def target_has(ctx, doc_type, *, uploaded_role=None):
    """Return True if the step's own stage record (ctx.target) carries a current `doc_type` document."""
    record = ctx.target
    if not isinstance(record, StageRecord):
        return False
    if uploaded_role is None:
        return has_document(record, doc_type)
    return record.documents.filter(doc_type=doc_type, uploaded_role=uploaded_role, superseded_by__isnull=True).exists()


def in_force(decision):
    """Return True if a decision text is in force (P16): published or issued, not yet stopped or closed."""
    return decision.in_force_version_id is not None


def open_suspension(decision):
    return decision.suspensions.filter(ended_at__isnull=True).order_by("-at", "-id").first()


def open_adjustment(decision):
    return decision.adjustments.filter(closed_as="").order_by("-at", "-id").first()


def open_post_evaluation(decision):
    return decision.post_evaluations.filter(closed_at__isnull=True).order_by("-started_at", "-id").first()


def open_records(decision, stages=None, *, exclude=()):
    """Return the records that are neither closed nor frozen (PENDING or IN_PROGRESS), oldest first."""
    records = decision.stage_records.filter(frozen_at__isnull=True).exclude(status__in=CLOSED_STAGE_STATUSES)
    if stages is not None:
        records = records.filter(stage__in=stages)
    return records.exclude(stage__in=exclude).order_by("id")


def open_stop_record(decision):
    """Return the ADJ record of a stop being prepared (T28), or None.

    T27 and T27b create and close their ADJ record in one step, so an ADJ record still
    IN_PROGRESS is always the dossier of a stop under way (its legality opinion and minutes).
    """
    return (
        decision.stage_records.filter(stage=Stage.ADJ, status=StageStatus.IN_PROGRESS, frozen_at__isnull=True)
        .order_by("-id")
        .first()
    )


def stop_review(decision):
    """Return the latest legality opinion on the stop under way (LegalityReview, subject STOP), or None."""
    record = open_stop_record(decision)
    if record is None:
        return None
    return (
        LegalityReview.objects.filter(
            decision=decision, subject=LegalityReview.Subject.STOP, issued_at__gte=record.started_at
        )
        .order_by("-issued_at", "-id")
        .first()
    )


def stop_outcome(decision):
    """Return the latest collective outcome on the stop under way (agenda item subject STOP), or None."""
    record = open_stop_record(decision)
    if record is None:
        return None
    return (
        CollectiveOutcome.objects.filter(
            agenda_item__decision=decision,
            agenda_item__subject=LegalityReview.Subject.STOP,
            recorded_at__gte=record.started_at,
        )
        .order_by("-recorded_at", "-id")
        .first()
    )


def decided_record_exists(decision):
    """Return True if the decision was ever DECIDED: a move into DECIDED in its audit history, or an APPROVE."""
    from decisions.models import AuditEvent

    moved = AuditEvent.objects.filter(
        decision_id_ref=decision.pk, action__startswith="transition:", payload__to=lifecycle.DECIDED
    ).exists()
    approved = CollectiveOutcome.objects.filter(
        agenda_item__decision=decision, agenda_item__subject=LegalityReview.Subject.DRAFT, outcome=Position.APPROVE
    ).exists()
    return moved or approved


def records_missing_signoff(decision):
    """Return the records that left PENDING, are not frozen and carry no sign-off (ARC aside: T30 closes it).

    P8: a closed stage's sign-off stores the hash of its dossier; until the PDF dossiers are
    rendered, the sign-off (with its manifest hash) stands in for "the record has its dossier".
    Frozen records are signed off by the ARCHIVIST at T30 itself (T29: "the ARCHIVIST signs them off").
    """
    signed = SignOff.objects.filter(stage_record=OuterRef("pk"))
    return list(
        decision.stage_records.exclude(status=StageStatus.PENDING)
        .filter(frozen_at__isnull=True)
        .exclude(stage=Stage.ARC)
        .exclude(Exists(signed))  # one query, however many records the decision has
        .order_by("id")
    )


def open_handover_tasks(decision):
    return HandoverTask.objects.filter(decision=decision, closed_at__isnull=True)


def add_months(day, months):
    """Return `day` moved by whole months, clamped to the month's last day (a report due on 31 January → 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def report_due_dates(decision, until):
    """Return the execution-report due dates on or before `until` (第三十四条 reporting schedule)."""
    first, every = decision.first_report_due, decision.report_every_months
    if first is None or not every:
        return []
    dates, n = [], 0
    while (due := add_months(first, n * every)) <= until:
        dates.append(due)
        n += 1
    return dates


def pre_decision_assessors(decision):
    """Return the units that did the main pre-decision expert review or risk assessment (第三十六条第二款).

    Defined as: (1) every unit recorded as `RiskAssessment.assessor` for the decision; (2) every unit
    at which the uploader of an expert opinion (EXPERT) or risk report (RISK_ASSESSOR) of the decision
    holds that role; (3) every registered unit whose name is that of an expert agency (专业机构) on one
    of the decision's expert panels. Individual experts' employers are not units that did the work and
    are not excluded. All runs count (a post-T27 re-run adds its assessors). Returns {org id: [grounds]}
    and the agency names, so that the check can be stored with the evaluation (B8 item 11).
    """
    grounds = {}

    def add(org_id, ground):
        grounds.setdefault(org_id, [])
        if ground not in grounds[org_id]:
            grounds[org_id].append(ground)

    for org_id in RiskAssessment.objects.filter(decision=decision, assessor__isnull=False).values_list(
        "assessor_id", flat=True
    ):
        add(org_id, "RISK_ASSESSOR_OF_RECORD")
    uploads = Document.objects.filter(
        decision=decision,
        doc_type__in=[DocumentType.EXPERT_OPINION, DocumentType.RISK_REPORT, DocumentType.PRIOR_ASSESSMENT],
        uploaded_role__in=[Role.EXPERT, Role.RISK_ASSESSOR],
    ).values_list("uploaded_by_id", "uploaded_role")
    from decisions.permissions import role_counts_for

    for user_id, role in set(uploads):
        for assignment in RoleAssignment.objects.filter(user_id=user_id, role=role).select_related("organisation"):
            if role_counts_for(assignment, decision):
                add(assignment.organisation_id, f"{role}_UPLOADER")
    agencies = sorted(
        set(
            ExpertMember.objects.filter(stage_record__decision=decision, is_agency=True)
            .exclude(name="")
            .values_list("name", flat=True)
        )
    )
    if agencies:
        for org_id in Organisation.objects.filter(Q(name__in=agencies) | Q(short_name__in=agencies)).values_list(
            "pk", flat=True
        ):
            add(org_id, "EXPERT_AGENCY")
    return grounds, agencies


def independence_check(decision, evaluator, commissioned):
    """Return the 第36条第2款 check of `evaluator` as stored on the PostEvaluation."""
    applies = bool(commissioned) or bool(param(decision, "post_eval_exclude_pre_decision_assessors"))
    grounds, agencies = pre_decision_assessors(decision)
    evaluator_id = getattr(evaluator, "pk", None)
    return {
        "applies": applies,
        "basis": "第三十六条第二款" + ("" if commissioned else "; P23 post_eval_exclude_pre_decision_assessors"),
        "evaluator": evaluator_id,
        "excluded_units": {str(k): v for k, v in sorted(grounds.items())},
        "expert_agencies": agencies,
        "independent": not applies or evaluator_id not in grounds,
    }


# -- T23 start implementation ---------------------------------------------------------------------


@rule("DOSSIER_ITEM_MISSING", "第三十四条", "须确定决策执行单位", "The executing unit must be named")
def executor_named(ctx):
    return isinstance(ctx.get("executor"), Organisation)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十四条",
    "须确定执行情况报告周期(以月计)",
    "The reporting period (in months) must be set",
)
def report_period_set(ctx):
    months = ctx.get("report_every_months")
    return isinstance(months, int) and not isinstance(months, bool) and months > 0


@rule("DOSSIER_ITEM_MISSING", "第三十四条", "须确定首次执行情况报告日期", "The first report's due date must be set")
def first_report_due_set(ctx):
    return isinstance(ctx.get("first_report_due"), date)


@rule("DOSSIER_ITEM_MISSING", "第三十四条", "须上传确定决策执行单位的文件", "The executor designation must be attached")
def executor_designation_attached(ctx):
    return target_has(ctx, DocumentType.EXECUTOR_DESIGNATION)


T23 = [executor_named, report_period_set, first_report_due_set, executor_designation_attached]


@rule(
    "STATE_PREREQUISITE_MISSING",
    "第三十四条; P16",
    "决策尚未组织执行或已不在执行中，不能报送执行情况",
    "The decision is not being executed: no execution record can be added",
)
def execution_running(ctx):
    d = ctx.decision
    record = d.current_record(Stage.IMPL)
    running = d.state in lifecycle.IN_FORCE_STATES or in_force(d)
    return running and record is not None and not record.is_closed


@rule("DOSSIER_ITEM_MISSING", "第三十五条", "须说明第三十五条所列情形", "The 第35条 situation must be named")
def issue_situation_named(ctx):
    return ctx.get("situation") in Suspension.Situation.values


EXECUTION_REPORT = [execution_running]
ISSUE_REPORT = [issue_situation_named, execution_running]


# -- T24 suspend, T25 resume ---------------------------------------------------------------------


@rule(
    "SUSPENSION_NOT_ALLOWED",
    "第三十五条、第三十七条",
    "中止执行须记录第三十五条所列情形(执行中发现重大问题、客观情况发生重大变化或不可抗力)",
    "A suspension needs a 第35条 situation: a major problem, a major change of circumstances or force majeure",
)
def suspension_situation_recorded(ctx):
    return ctx.get("situation") in Suspension.Situation.values


@rule(
    "SUSPENSION_NOT_ALLOWED",
    "第三十七条",
    "只有情况紧急的，行政首长方可先决定中止执行",
    "The chief may suspend execution only when the situation is urgent",
)
def suspension_urgent(ctx):
    return ctx.get("urgent") is True


@rule("SUSPENSION_NOT_ALLOWED", "第三十七条", "决策已处于中止执行状态", "Execution is already suspended")
def not_already_suspended(ctx):
    return not ctx.decision.suspended


@rule(
    "STATE_PREREQUISITE_MISSING",
    "P16",
    "决策尚无现行有效文本(未公布或印发，或已停止执行)，不能办理此事项",
    "No decision text is in force (not published or issued, or stopped)",
)
def decision_in_force(ctx):
    return in_force(ctx.decision)


T24 = [suspension_situation_recorded, suspension_urgent, not_already_suspended, decision_in_force]


@rule("REASON_REQUIRED", "第三十七条", "恢复执行须说明理由", "A reason for resuming is required")
def resume_reason_given(ctx):
    return filled(ctx.get("reason"))


@rule(
    "ADJUSTMENT_REQUIRES_PROCEDURE",
    "第三十七条",
    "恢复执行不得改变决策内容：现行有效文本须与中止时一致，变更须依法履行重大调整程序",
    "Resuming keeps the decision unchanged: the text in force must be the one in force at suspension; "
    "a change goes through the adjustment procedure",
)
def resume_keeps_text(ctx):
    suspension = open_suspension(ctx.decision)
    return suspension is None or suspension.in_force_version_id == ctx.decision.in_force_version_id


T25 = [resume_reason_given, resume_keeps_text]


# -- T26 post-evaluation -------------------------------------------------------------------------


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十六条第一款",
    "须记录启动后评估的情形：(一)明显未达到预期效果；(二)公民、法人或者其他组织提出较多意见；(三)决策机关认为有必要",
    "The evaluation's trigger must be 1 (below expectation), 2 (many opinions) or 3 (organ deems it necessary)",
)
def evaluation_trigger_recorded(ctx):
    return ctx.get("trigger") in PostEvaluation.Trigger.values


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十六条",
    "须上传决策机关启动后评估的决定",
    "The organ's decision to evaluate must be attached",
)
def evaluation_start_decision_attached(ctx):
    return target_has(ctx, DocumentType.PE_START_DECISION)


@rule("DOSSIER_ITEM_MISSING", "第三十六条", "须确定决策后评估单位", "The evaluating unit must be named")
def evaluator_named(ctx):
    return isinstance(ctx.get("evaluator"), Organisation)


@rule(
    "POST_EVALUATOR_NOT_INDEPENDENT",
    "第三十六条第二款; P23",
    "决策作出前承担主要论证评估工作的单位(专家论证的专业机构、风险评估单位)不得承担决策后评估",
    "A unit that did the main pre-decision expert review or risk assessment may not carry out the post-evaluation",
)
def evaluator_independent(ctx):
    evaluator = ctx.get("evaluator")
    if not isinstance(evaluator, Organisation):
        return True  # evaluator_named reports the missing evaluator
    return independence_check(ctx.decision, evaluator, ctx.get("commissioned", False))["independent"]


@rule("DOSSIER_ITEM_MISSING", "第三十六条", "须上传决策后评估方案", "The evaluation plan must be attached")
def evaluation_plan_attached(ctx):
    return target_has(ctx, DocumentType.PE_PLAN)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十六条第三款",
    "后评估方案须安排听取社会公众意见，并有人大代表、政协委员、人民团体、基层组织、社会组织等参与",
    "The plan must provide for public input and for NPC deputies, CPPCC members and organisations to take part",
)
def evaluation_plan_participatory(ctx):
    return ctx.get("plan_public_participation") is True and ctx.get("plan_npc_cppcc_participation") is True


T26 = [
    evaluation_trigger_recorded,
    evaluation_start_decision_attached,
    evaluator_named,
    evaluator_independent,
    evaluation_plan_attached,
    evaluation_plan_participatory,
]


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十六条",
    "须由决策后评估单位上传评估报告",
    "The evaluation report must be uploaded by the post-evaluator",
)
def evaluation_report_attached(ctx):
    return target_has(ctx, DocumentType.PE_REPORT, uploaded_role=Role.POST_EVALUATOR)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十六条第三款",
    "须上传公众及人大代表、政协委员等参与评估的记录",
    "The records of public and NPC/CPPCC participation must be attached",
)
def evaluation_participation_attached(ctx):
    return target_has(ctx, DocumentType.PE_PARTICIPATION)


PE_REPORT = [evaluation_report_attached, evaluation_participation_attached]


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十六条",
    "后评估单位尚未提交评估报告",
    "The post-evaluator has not submitted the evaluation report",
)
def evaluation_report_submitted(ctx):
    record = ctx.decision.current_record(Stage.PE)
    return (
        record is not None
        and record.status == StageStatus.DONE
        and record.documents.filter(doc_type=DocumentType.PE_REPORT, uploaded_role=Role.POST_EVALUATOR).exists()
    )


@rule("DOSSIER_ITEM_MISSING", "第三十六条", "须记录决策机关对评估报告的结论", "The organ's conclusion must be recorded")
def evaluation_conclusion_recorded(ctx):
    return filled(ctx.get("conclusion"))


T26A = [evaluation_report_submitted, evaluation_conclusion_recorded]


# -- T27 adjust, T27b abandon --------------------------------------------------------------------


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十七条",
    "须上传决策机关作出重大调整的决定(常务会议或全体会议纪要，或行政首长签署的决定)",
    "The organ's adjustment decision (minutes of an executive or plenary meeting, or the chief's signed decision) "
    "must be attached",
)
def adjustment_decision_attached(ctx):
    return target_has(ctx, DocumentType.ADJUSTMENT_DECISION)


@rule(
    "REASON_REQUIRED",
    "第三十六条、第三十七条",
    "须说明调整理由(如后评估报告、第三十五条报告)",
    "A reason for the adjustment (an evaluation report, a 第35条 report …) is required",
)
def adjustment_reason_given(ctx):
    return filled(ctx.get("reason"))


@rule("DOSSIER_ITEM_MISSING", "第三十七条", "须提交调整后的决策草案", "The adjusted draft must be supplied")
def adjusted_draft_supplied(ctx):
    return ctx.get("draft") is not None


T27 = [adjustment_decision_attached, adjustment_reason_given, adjusted_draft_supplied]


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十七条",
    "须上传决策机关放弃调整的决定",
    "The organ's decision to abandon the adjustment must be attached",
)
def abandonment_decision_attached(ctx):
    return target_has(ctx, DocumentType.ADJUSTMENT_DECISION)


@rule("REASON_REQUIRED", "第三十七条", "须说明放弃调整的理由", "A reason for abandoning the adjustment is required")
def abandonment_reason_given(ctx):
    return filled(ctx.get("reason"))


@rule(
    "STATE_PREREQUISITE_MISSING",
    "第三十条; P7",
    "调整后的草案已列入会议议题，须先撤出议题(T19a)",
    "The adjusted draft is on a meeting agenda: take it off the agenda first (T19a)",
)
def not_on_agenda(ctx):
    return ctx.decision.state != lifecycle.SCHEDULED


T27B = [abandonment_decision_attached, abandonment_reason_given, not_on_agenda, decision_in_force]


# -- T28 stop ------------------------------------------------------------------------------------


@rule(
    "LEGALITY_REVIEW_REPLACED_BY_COMMENT",
    "第二十五条",
    "停止执行的合法性审查须由负责合法性审查的部门进行",
    "The stop's legality review is done by the organ's legality-review department",
)
def stop_reviewer_is_legality_dept(ctx):
    return ctx.decision.organ.legality_review_dept_id is not None


@rule(
    "LEGAL_ADVISER_OPINION_MISSING",
    "第二十八条",
    "合法性审查中须组织法律顾问、公职律师提出法律意见",
    "A legal adviser's or public lawyer's opinion must be attached",
)
def stop_adviser_opinion_attached(ctx):
    return target_has(ctx, DocumentType.LEGAL_ADVISER_OPINION)


@rule(
    "LEGALITY_OPINION_INCOMPLETE",
    "第二十七条",
    "审查意见须就决策权限、决策程序、决策内容分别提出意见，并给出审查结论",
    "The opinion must address authority, procedure and content, and state its outcome",
)
def stop_opinion_complete(ctx):
    return filled(ctx.get("authority"), ctx.get("procedure"), ctx.get("content")) and (
        ctx.get("outcome") in LegalityReview.Outcome.values
    )


@rule(
    "EXPLORATORY_NOT_FLAGGED",
    "第二十五条第二款",
    "仅对国家尚无明确规定的探索性改革决策事项可以明示法律风险，并须附法律风险提示",
    "The exploratory outcome is only for a flagged exploratory reform, with a legal-risk statement",
)
def stop_exploratory_allowed(ctx):
    if ctx.get("outcome") != LegalityReview.Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED:
        return True
    return ctx.decision.exploratory_reform and filled(ctx.get("legal_risk_statement"))


@rule("DOSSIER_ITEM_MISSING", "第二十八条", "须上传合法性审查意见书", "The legality opinion must be attached")
def stop_opinion_attached(ctx):
    return target_has(ctx, DocumentType.LEGALITY_OPINION)


# T14's guards, applied to the stop's LegalityReview (T28).
STOP_REVIEW = [
    stop_reviewer_is_legality_dept,
    stop_adviser_opinion_attached,
    stop_opinion_complete,
    stop_exploratory_allowed,
    stop_opinion_attached,
    decision_in_force,
]


@rule(
    "LEGALITY_REVIEW_MISSING",
    "第二十五条",
    "停止执行事项未经合法性审查，不得提交决策机关讨论",
    "A stop is not put to the organ before its legality review",
)
def stop_reviewed_before_meeting(ctx):
    return stop_review(ctx.decision) is not None


@rule(
    "LEGALITY_UNLAWFUL",
    "第二十五条",
    "停止执行经审查不合法，不得提交决策机关讨论",
    "A stop found unlawful is not put to the organ",
)
def stop_review_not_unlawful(ctx):
    review = stop_review(ctx.decision)
    return review is None or review.outcome != LegalityReview.Outcome.UNLAWFUL


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十条",
    "须记录会议决定：同意、不同意、修改、暂缓或再次讨论",
    "The meeting's outcome must be APPROVE, REJECT, MODIFY, DEFER or REDISCUSS",
)
def stop_meeting_outcome_valid(ctx):
    return ctx.get("outcome") in set(Position.values) - {Position.NO_OPINION}


@rule("DOSSIER_ITEM_MISSING", "第三十条", "须上传会议纪要", "The minutes must be attached")
def stop_minutes_attached(ctx):
    record = open_stop_record(ctx.decision)
    return record is not None and has_document(record, DocumentType.MINUTES)


# T19's meeting-type and T20's quorum, statement, chief-last and chief-reason guards (one copy, in
# decisions/rules/meeting.py), applied to the stop's meeting (T28). They read ctx `meeting`,
# `agenda_item`, `outcome` and `chief_reason`, and are checked before the outcome is stored.
STOP_MEETING = [
    stop_reviewed_before_meeting,
    stop_review_not_unlawful,
    stop_meeting_outcome_valid,
    meeting_rules.meeting_types_configured,
    meeting_rules.meeting_type_allowed,
    *meeting_rules.MEETING_RECORD,
    stop_minutes_attached,
    decision_in_force,
]


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十七条",
    "须上传决策机关停止执行的决定",
    "The organ's decision to stop execution must be attached",
)
def stop_decision_attached(ctx):
    return target_has(ctx, DocumentType.STOP_DECISION)


@rule(
    "ADJUSTMENT_REQUIRES_PROCEDURE",
    "第三十七条",
    "依法作出的重大行政决策，未经法定程序不得停止执行：须有负责合法性审查的部门对停止执行出具的合法意见",
    "A decision is stopped only through the legal procedure: a LAWFUL legality opinion on the stop is required",
)
def stop_found_lawful(ctx):
    review = stop_review(ctx.decision)
    return review is not None and review.outcome == LegalityReview.Outcome.LAWFUL


@rule(
    "ADJUSTMENT_REQUIRES_PROCEDURE",
    "第三十条、第三十七条",
    "依法作出的重大行政决策，未经法定程序不得停止执行：须经常务会议或者全体会议讨论同意停止执行",
    "A decision is stopped only through the legal procedure: an executive or plenary meeting must approve the stop",
)
def stop_approved_by_meeting(ctx):
    # The meeting's type, quorum and statements were checked when its outcome was recorded (STOP_MEETING).
    outcome = stop_outcome(ctx.decision)
    return outcome is not None and outcome.outcome == Position.APPROVE


@rule("REASON_REQUIRED", "第三十七条", "须说明停止执行的理由", "A reason for stopping execution is required")
def stop_reason_given(ctx):
    return filled(ctx.get("reason"))


T28 = [stop_decision_attached, stop_found_lawful, stop_approved_by_meeting, stop_reason_given, decision_in_force]


# -- T29 withdraw, T29b end without a catalogue ---------------------------------------------------


@rule(
    "CATALOGUE_REMOVE_AFTER_DECISION",
    "第三条第三款; P20",
    "决策机关已作出决定(有“作出决定”记录)的事项不能撤出目录或撤回",
    "A decision that has been decided (a DECIDED record exists) cannot be removed or withdrawn",
)
def never_decided(ctx):
    return not decided_record_exists(ctx.decision)


@rule(
    "CATALOGUE_REMOVE_AFTER_DECISION",
    "第三条第三款; P20",
    "已列入会议议题的事项不能撤回，须先撤出议题(T19a)",
    "A scheduled decision cannot be withdrawn: take it off the agenda first (T19a)",
)
def not_scheduled(ctx):
    return ctx.decision.state != lifecycle.SCHEDULED


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三条第三款; P21",
    "撤回须依据已公布的目录调整(撤出)，或已公布年终报告中标注“拟撤出”的目录事项",
    "Withdrawal needs a published REMOVE adjustment, or the entry marked REMOVE_PENDING in a published year-end report",
)
def removal_published(ctx):
    # decisions does not import catalog: the catalogue object answers for itself (catalog.rules).
    source = ctx.get("source")
    return (
        source is not None and hasattr(source, "authorises_withdrawal") and source.authorises_withdrawal(ctx.decision)
    )


T29 = [never_decided, not_scheduled, removal_published]


@rule("REASON_REQUIRED", "第十条", "须说明终止决策程序的理由", "A reason for ending the procedure is required")
def ending_reason_given(ctx):
    return filled(ctx.get("reason"))


T29B = [catalogue_not_required, ending_reason_given, never_decided, not_scheduled]


# -- T30 archive, T30a archive after implementation -------------------------------------------------


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十三条; P8",
    "已开始的环节均须办结并签署(形成环节档案)后方可归档",
    "Every stage record that left PENDING must be closed and signed off (its dossier) before archiving",
)
def stage_records_signed_off(ctx):
    return not records_missing_signoff(ctx.decision)


@rule("DOSSIER_ITEM_MISSING", "第三十三条", "须上传归档目录", "The archive index must be attached")
def archive_index_attached(ctx):
    return target_has(ctx, DocumentType.ARCHIVE_INDEX)


@rule(
    "COUNIT_HANDOVER_OPEN",
    "第三十三条; P18",
    "协办单位尚有未移交的环节材料，不能归档",
    "A co-unit still has records to hand over",
)
def handovers_closed(ctx):
    return not open_handover_tasks(ctx.decision).exists()


T30 = [stage_records_signed_off, archive_index_attached, handovers_closed]


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十四条; P16",
    "须先由政府办公室记录执行终结(执行完毕、有效期届满、被取代或其他)",
    "The end of implementation must be recorded by the government office first",
)
def implementation_closure_recorded(ctx):
    return ImplementationClosure.objects.filter(decision=ctx.decision).exists()


T30A = [implementation_closure_recorded, *T30]


@rule(
    "DOSSIER_ITEM_MISSING",
    "P16",
    "须说明执行终结的原因：执行完毕、有效期届满、被新决策取代或其他",
    "The reason must be COMPLETED, EXPIRED, REPLACED or OTHER",
)
def closure_reason_valid(ctx):
    return ctx.get("reason") in ImplementationClosure.Reason.values


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十四条; P16",
    "须上传执行终结记录",
    "The implementation-closure record must be attached",
)
def closure_document_attached(ctx):
    return target_has(ctx, DocumentType.IMPLEMENTATION_CLOSURE)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十四条; B8",
    "执行终结前，已到期的执行情况报告均须报送",
    "Every execution report due before the closure must be on record",
)
def due_reports_filed(ctx):
    record = ctx.target
    if not isinstance(record, StageRecord):
        return False
    due = report_due_dates(ctx.decision, ctx.today)
    return record.documents.filter(doc_type=DocumentType.EXECUTION_REPORT).count() >= len(due)


@rule(
    "STATE_PREREQUISITE_MISSING",
    "第三十四条; P16",
    "只有执行中的决策可以记录执行终结(中止执行的须先恢复或依法停止)",
    "Only a decision being implemented can be closed (a suspended one is resumed or stopped first)",
)
def implementing_now(ctx):
    return (
        ctx.decision.state == lifecycle.IMPLEMENTING
        and not ImplementationClosure.objects.filter(decision=ctx.decision).exists()
    )


CLOSURE = [closure_reason_valid, closure_document_attached, due_reports_filed, implementing_now]


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十三条; P18",
    "须上传协办单位的移交记录",
    "The co-unit's hand-over record must be attached",
)
def handover_record_supplied(ctx):
    upload = ctx.get("upload")
    return upload is not None and getattr(upload, "doc_type", None) == DocumentType.HANDOVER_RECORD


HANDOVER = [handover_record_supplied]
