"""Rules of public participation, hearing, expert review and risk assessment (第十四条至第二十四条; T6a–T9, B6).

PP, HEARING, EX and RA are sub-stages of the one state CONSULTATION (P1): their moves are not
decision steps, so the services here evaluate these lists themselves. Each list keeps the order
in which B5 names the clauses; rules read the stage record under work from `ctx.target`.
"""

from django.utils.translation import gettext_noop

from decisions import lifecycle
from decisions.calendar import calendar_days_between, localdate
from decisions.models import CommentPeriod, DocumentType, ExpertMember, RiskLevel, Role, Stage, StageStatus
from decisions.rules import Failure, Rule, rule
from decisions.rules.facts import catalogue_entry, filled, has_document, live_record, param, record_documents

SUBSTAGES = (Stage.PP, Stage.HEARING, Stage.EX, Stage.RA)
# P1: the order of the sequential profile; HEARING is PP's child and has no place of its own.
ORDER = (Stage.PP, Stage.EX, Stage.RA)
CLOSED = (StageStatus.DONE, StageStatus.NOT_TRIGGERED, StageStatus.WAIVED)
OPEN = (StageStatus.PENDING, StageStatus.IN_PROGRESS)

OTHER_LAW_PROCEDURE = "OTHER_LAW_PROCEDURE"
NO_DIRECT_INTEREST = "NO_DIRECT_INTEREST_AND_NO_MAJOR_DISAGREEMENT"
OPTIONAL_NOT_HELD = "OPTIONAL_NOT_HELD"
NOT_HIGHLY_SPECIALISED = "NOT_HIGHLY_SPECIALISED"
NO_STABILITY_IMPACT = "NO_STABILITY_OR_SAFETY_IMPACT"
ALREADY_ASSESSED = "ALREADY_ASSESSED_UNDER_OTHER_RULES"
CONFIDENTIAL_BY_LAW = "CONFIDENTIAL_BY_LAW"
ZJ_ART7_URGENT = "ZJ_ART7_URGENT"

# B6: the NOT_TRIGGERED reason codes each sub-stage allows. LR, CD and PARTY_REPORT allow none.
NOT_TRIGGERED_CODES = {
    Stage.PP: (OTHER_LAW_PROCEDURE,),
    Stage.HEARING: (NO_DIRECT_INTEREST, OPTIONAL_NOT_HELD, OTHER_LAW_PROCEDURE),
    Stage.EX: (NOT_HIGHLY_SPECIALISED, OTHER_LAW_PROCEDURE),
    Stage.RA: (NO_STABILITY_IMPACT, ALREADY_ASSESSED, OTHER_LAW_PROCEDURE),
}
# B6: the waiver codes each sub-stage allows (HEARING only through the PP cascade).
WAIVER_CODES = {
    Stage.PP: (CONFIDENTIAL_BY_LAW, ZJ_ART7_URGENT),
    Stage.EX: (ZJ_ART7_URGENT,),
    Stage.RA: (ZJ_ART7_URGENT,),
}
# B6 "Who approves": the role that approves each waiver code, never the recorder.
WAIVER_APPROVER = {CONFIDENTIAL_BY_LAW: Role.GOV_OFFICE, ZJ_ART7_URGENT: Role.LEGAL_ADVISER}
# Kept in Chinese (statements, refusals); pages translate them when shown.
REASON_LABELS = {
    OTHER_LAW_PROCEDURE: gettext_noop("法律、行政法规另有规定的程序"),
    NO_DIRECT_INTEREST: gettext_noop("不直接涉及群众切身利益且无重大分歧"),
    OPTIONAL_NOT_HELD: gettext_noop("依法可以听证，未举行(法律、法规、规章未要求)"),
    NOT_HIGHLY_SPECIALISED: gettext_noop("专业性、技术性不强"),
    NO_STABILITY_IMPACT: gettext_noop("不会对社会稳定、公共安全等方面造成不利影响"),
    ALREADY_ASSESSED: gettext_noop("已按照有关规定进行风险评估，不作重复评估"),
    CONFIDENTIAL_BY_LAW: gettext_noop("依法不予公开的决策事项"),
    ZJ_ART7_URGENT: gettext_noop("浙江省政府令第337号第七条：依法保密或情况紧急"),
}
# 第三条第二款 first sentence: only a 法律 or 行政法规 displaces the Decree's procedure (a 规章 does not).
OTHER_LAW_LEVELS = {"法律": "法律", "LAW": "法律", "行政法规": "行政法规", "ADMINISTRATIVE_REGULATION": "行政法规"}
# 第十四条第二款: the ways of hearing the public, stored as codes in StageRecord.methods.
# Labels kept in Chinese (the services name them in refusals); pages translate them when shown.
PP_METHODS = {
    "FORUM": gettext_noop("座谈会"),
    "HEARING": gettext_noop("听证会"),
    "SITE_VISIT": gettext_noop("实地走访"),
    "WRITTEN": gettext_noop("书面征求意见"),
    "PUBLIC_COMMENT": gettext_noop("向社会公开征求意见"),
    "QUESTIONNAIRE": gettext_noop("问卷调查"),
    "OPINION_POLL": gettext_noop("民意调查"),
}
NAMED_CHANNELS = tuple(c for c in CommentPeriod.Channel.values if c != CommentPeriod.Channel.OTHER)
ZJ_HEARING_FLAGS = ("major_disagreement", "major_interest_readjustment")
# States before the APPROVE (T20) of the current run, in which an author may mark an RA stale (P14, B2a).
BEFORE_APPROVE_STATES = tuple(s for s in lifecycle.RERUN_STATES if s != lifecycle.DECIDED)


# -- facts --------------------------------------------------------------------------------------


def record_of(ctx):
    """Return the stage record the action is about."""
    return ctx.target


def status_of(decision, stage):
    record = live_record(decision, stage)
    return record.status if record is not None else None


def zj_hearing_rule(decision):
    return param(decision, "hearing_mandatory_rule") == "zj_flags"


def hearing_required(decision):
    """Return True if a law, regulation or rule (第十六条), or the ZJ profile condition (P11), requires a hearing."""
    if decision.hearing_required_by_law:
        return True
    return zj_hearing_rule(decision) and any(getattr(decision, f) for f in ZJ_HEARING_FLAGS)


def hearing_flags(decision):
    """Return the questionnaire answers that make a hearing mandatory under the decision's profile (P11)."""
    return ("hearing_required_by_law", *ZJ_HEARING_FLAGS) if zj_hearing_rule(decision) else ("hearing_required_by_law",)


def zj_exception_enabled(decision):
    return bool(param(decision, "zj_art7_urgent_exception_enabled"))


def closure_contradicts_answers(record):
    """Return True if a NOT_TRIGGERED record's reason no longer fits the trigger questionnaire (T6a, T6c)."""
    decision = record.decision
    if record.status != StageStatus.NOT_TRIGGERED or record.closed_with_id:
        return False  # the PP cascade is exempt (B6, Recording)
    code = record.reason_code
    if record.stage == Stage.EX:
        return code == NOT_HIGHLY_SPECIALISED and bool(decision.highly_technical)
    if record.stage == Stage.RA:
        return code == NO_STABILITY_IMPACT and bool(decision.stability_or_safety_impact)
    if record.stage == Stage.HEARING:
        if hearing_required(decision):
            return True
        return code == NO_DIRECT_INTEREST and bool(decision.direct_vital_interest or decision.major_disagreement)
    return False


def comment_periods(record):
    """Return the published comment notices of a PP record, oldest first."""
    if record is None:
        return CommentPeriod.objects.none()
    return record.comment_periods.filter(published_at__isnull=False).order_by("published_at", "id")


def last_deadline(record):
    periods = list(comment_periods(record))
    return max((p.deadline_date for p in periods), default=None)


def comment_period_days(period, first_publish_date=None):
    """Return the period in calendar days, start day not counted, from the original publish date (P4, P13)."""
    return calendar_days_between(first_publish_date or period.publish_date, period.deadline_date)


def hearing_of(record):
    return getattr(record, "hearing", None) if record is not None and record.pk else None


def late_participants(hearing, lead_days):
    """Return the participants whose materials lack a receipt or arrived fewer than `lead_days` before (第十六条)."""
    late = []
    for participant in hearing.participants.order_by("id"):
        delivered = participant.receipt_id is not None and participant.delivery_date is not None
        if not delivered or calendar_days_between(participant.delivery_date, hearing.hearing_date) < lead_days:
            late.append(participant)
    return late


def latest_assessment(record):
    """Return the newest RiskAssessment recorded on an RA record, or None."""
    if record is None:
        return None
    return record.risk_assessments.order_by("-id").first()


def assessment_complete(assessment, report=None):
    """第二十三条: risk points, prevention measures, contingency plan, departments heard, a level and the report."""
    return (
        assessment is not None
        and assessment.level in RiskLevel.values
        and filled(assessment.risk_points, assessment.prevention_measures, assessment.contingency_plan)
        and assessment.departments_heard
        and (assessment.report_id is not None or report is not None)
    )


def _doc_rule(code, article, doc_type, zh, en, name):
    @rule(code, article, zh, en, name=name)
    def check(ctx):
        return has_document(record_of(ctx), doc_type)

    return check


def state_prerequisite(label, detail="", en=""):
    """Return the STATE_PREREQUISITE_MISSING failure naming what is not ready (P7 (2)); `en` says it in English."""
    prerequisite = Rule(
        name="STATE_PREREQUISITE_MISSING",
        code="STATE_PREREQUISITE_MISSING",
        article="P7",
        zh=f"当前状态不能办理此事项：{label}",
        en=f"This action is not possible now: {en or label}",
        check=lambda ctx: False,
    )
    return Failure(prerequisite, detail)


# -- opening a sub-stage (P1) --------------------------------------------------------------------


@rule(
    "CONSULTATION_ORDER",
    "P1",
    "按本地规则，公众参与、专家论证、风险评估须依次进行：前一环节完成(或未触发、依法免予)后方可开始下一环节",
    "Under the sequential profile PP, EX and RA open in that order: each earlier sub-stage must be closed first",
)
def consultation_order_respected(ctx):
    stage = ctx.get("stage")
    if param(ctx.decision, "consultation_order") == "any" or stage not in ORDER:
        return True
    earlier = ORDER[: ORDER.index(stage)]
    if not earlier:
        return True
    return all(status_of(ctx.decision, s) in CLOSED for s in (*earlier, Stage.HEARING))


@rule(
    "CONSULTATION_ORDER",
    "第十四条、第十六条; P1",
    "听证会是公众参与的一种方式：须在公众参与进行中时组织听证",
    "A hearing is a form of public participation: it opens only while PP is in progress",
)
def hearing_within_participation(ctx):
    if ctx.get("stage") != Stage.HEARING:
        return True
    return status_of(ctx.decision, Stage.PP) == StageStatus.IN_PROGRESS


OPEN_SUBSTAGE = [consultation_order_respected, hearing_within_participation]


# -- T6a: close as not triggered -------------------------------------------------------------------


@rule(
    "STAGE_CANNOT_BE_SKIPPED",
    "B6; 第二十五条、第三十条、第三十一条",
    "该环节不能以此理由认定为未触发(合法性审查、集体讨论决定、向党委请示报告不得跳过；公众参与仅限其他法律、行政法规另有程序)",
    "This stage cannot be closed as not triggered with this reason code (B6)",
)
def not_triggered_code_allowed(ctx):
    return ctx.get("reason_code") in NOT_TRIGGERED_CODES.get(ctx.get("stage"), ())


@rule("REASON_REQUIRED", "B6; P7", "须填写未触发的理由说明", "A reason text is required")
def not_triggered_reason_given(ctx):
    return filled(ctx.get("reason_text"))


@rule(
    "REASON_REQUIRED",
    "第二十二条第一款",
    "以“不会对社会稳定、公共安全等方面造成不利影响”为由的，理由须分别说明社会稳定、公共安全等方面",
    "The reason must address social stability and public safety (and comparable areas)",
)
def stability_reason_addresses_both(ctx):
    if ctx.get("reason_code") != NO_STABILITY_IMPACT:
        return True
    text = str(ctx.get("reason_text") or "")
    lowered = text.lower()
    return ("稳定" in text or "stability" in lowered) and ("安全" in text or "safety" in lowered)


@rule(
    "STAGE_REQUIRED_BY_CATALOGUE",
    "P12",
    "决策事项目录明确要求履行该程序(含听证)，不得认定为未触发；只能通过目录调整(修改)取消",
    "The catalogue entry requires this procedure (hearing included); only a MODIFY adjustment removes it",
)
def not_required_by_catalogue(ctx):
    entry = catalogue_entry(ctx.decision)
    if entry is None:
        return True
    stage = ctx.get("stage")
    stages = [stage]
    if stage == Stage.PP and status_of(ctx.decision, Stage.HEARING) in OPEN:
        stages.append(Stage.HEARING)  # the cascade would close the hearing too
    return not any(entry.requires(s) for s in stages)


@rule(
    "HEARING_REQUIRED",
    "第十六条; P11",
    "法律、法规、规章要求听证，或(浙江)存在重大分歧、涉及重大利益调整的，应当举行听证会，不得认定为未触发",
    "A hearing is required by law, regulation or rule, or by the Zhejiang rule: it cannot be skipped",
)
def hearing_not_required(ctx):
    if ctx.get("stage") != Stage.HEARING:
        return True
    return not hearing_required(ctx.decision)


@rule(
    "STAGE_CANNOT_BE_SKIPPED",
    "第十六条",
    "决策事项直接涉及群众切身利益或存在重大分歧的，不能以“不涉及切身利益且无重大分歧”为由不举行听证",
    "The matter touches vital interests or has major disagreement: that reason code contradicts the answers",
)
def no_direct_interest_fits_answers(ctx):
    if ctx.get("reason_code") != NO_DIRECT_INTEREST:
        return True
    return not (ctx.decision.direct_vital_interest or ctx.decision.major_disagreement)


@rule(
    "STAGE_CANNOT_BE_SKIPPED",
    "第十九条",
    "决策事项专业性、技术性较强的，应当组织专家论证，不能以“专业性不强”为由跳过",
    "The matter is highly technical: expert review cannot be closed as not highly specialised",
)
def not_specialised_fits_answers(ctx):
    if ctx.get("reason_code") != NOT_HIGHLY_SPECIALISED:
        return True
    return not ctx.decision.highly_technical


@rule(
    "STAGE_CANNOT_BE_SKIPPED",
    "第二十二条第一款",
    "决策实施可能对社会稳定、公共安全等方面造成不利影响的，应当进行风险评估",
    "The matter may affect social stability or public safety: risk assessment cannot be closed as no impact",
)
def no_stability_impact_fits_answers(ctx):
    if ctx.get("reason_code") != NO_STABILITY_IMPACT:
        return True
    return not ctx.decision.stability_or_safety_impact


@rule(
    "OTHER_LAW_CITATION_MISSING",
    "第三条第二款",
    "以其他法律程序替代的，须注明法律或行政法规的名称、层级(仅限法律、行政法规；规章不足以替代)和条款",
    "Name the 法律 or 行政法规 (a 规章 is not enough), its level and the article whose procedure applies",
)
def other_law_cited(ctx):
    if ctx.get("reason_code") != OTHER_LAW_PROCEDURE:
        return True
    level = OTHER_LAW_LEVELS.get(str(ctx.get("other_law_level") or "").strip())
    return level is not None and filled(ctx.get("other_law_instrument"), ctx.get("other_law_article"))


@rule(
    "PRIOR_ASSESSMENT_REFERENCE_MISSING",
    "第二十二条第二款",
    "以“已按有关规定评估，不作重复评估”为由的，须附已有的风险评估报告并注明其风险等级",
    "Attach the prior assessment report and state its risk level",
)
def prior_assessment_referenced(ctx):
    if ctx.get("reason_code") != ALREADY_ASSESSED:
        return True
    return has_document(record_of(ctx), DocumentType.PRIOR_ASSESSMENT) and ctx.get("prior_assessment_level") in (
        RiskLevel.values
    )


T6A = [
    not_triggered_code_allowed,
    not_triggered_reason_given,
    stability_reason_addresses_both,
    not_required_by_catalogue,
    hearing_not_required,
    no_direct_interest_fits_answers,
    not_specialised_fits_answers,
    no_stability_impact_fits_answers,
    other_law_cited,
    prior_assessment_referenced,
]


# -- T6b: waivers --------------------------------------------------------------------------------


@rule(
    "STAGE_CANNOT_BE_SKIPPED",
    "B6; 第十四条; 浙江省政府令第337号第七条",
    "该环节不能以此理由免予履行(公众参与：依法不予公开，或浙江第七条紧急情形；专家论证、风险评估：仅浙江第七条紧急情形；听证只随公众参与一并免予)",
    "This stage cannot be waived with this code (B6)",
)
def waiver_code_allowed(ctx):
    code = ctx.get("reason_code")
    if code not in WAIVER_CODES.get(ctx.get("stage"), ()):
        return False
    return code != ZJ_ART7_URGENT or zj_exception_enabled(ctx.decision)


@rule(
    "WAIVER_BASIS_MISSING",
    "第十四条、第三十二条",
    "免予履行程序须注明法律依据(文件及条款)并附证明材料",
    "A waiver needs its legal basis (instrument and article) and evidence",
)
def waiver_basis_given(ctx):
    return filled(ctx.get("legal_basis")) and ctx.get("evidence") is not None


@rule(
    "WAIVER_BASIS_MISSING",
    "第十四条",
    "以“依法不予公开”免予公众参与的，须在程序触发问卷中认定该事项依法不予公开",
    "CONFIDENTIAL_BY_LAW needs the decision to be recorded as confidential by law",
)
def confidential_matter(ctx):
    if ctx.get("reason_code") != CONFIDENTIAL_BY_LAW:
        return True
    return bool(ctx.decision.confidential_by_law)


T6B_RECORD = [waiver_code_allowed, waiver_basis_given, confidential_matter]


@rule(
    "WAIVER_APPROVER_INVALID",
    "P12; B6",
    "免予程序须由规定的角色批准(依法不予公开：政府办公室；浙江第七条紧急情形：法律顾问/公职律师)",
    "The waiver must be approved by the role B6 names (CONFIDENTIAL_BY_LAW: GOV_OFFICE; ZJ_ART7_URGENT: LEGAL_ADVISER)",
)
def approver_role_valid(ctx):
    waiver = ctx.get("waiver")
    return ctx.role == WAIVER_APPROVER.get(waiver.reason_code)


@rule(
    "WAIVER_APPROVER_INVALID",
    "P12",
    "免予程序的批准人不得是登记人本人",
    "The approver must be a person other than the one who recorded the waiver",
)
def approver_not_recorder(ctx):
    waiver = ctx.get("waiver")
    return ctx.actor is not None and ctx.actor.pk != waiver.recorded_by_id


T6B_APPROVE = [approver_role_valid, approver_not_recorder]


@rule(
    "WAIVER_APPROVER_INVALID",
    "P12; B6",
    "免予程序尚未经规定的角色批准，不能签署办结",
    "The waiver has not been approved by the role B6 names",
)
def waiver_approved(ctx):
    waiver = ctx.get("waiver")
    return (
        waiver is not None
        and waiver.approved_at is not None
        and waiver.approved_role == WAIVER_APPROVER.get(waiver.reason_code)
        and waiver.approved_by_id != waiver.recorded_by_id
    )


T6B_SIGN = [*T6B_RECORD, waiver_approved]


# -- T6c: reopen --------------------------------------------------------------------------------


@rule("REASON_REQUIRED", "第二十七条第(二)项; B6", "重新开启环节须说明理由", "Reopening a stage needs a reason")
def reopen_reason_given(ctx):
    return filled(ctx.get("reason"))


@rule(
    "REASON_REQUIRED",
    "第二十七条第(二)项; P12",
    "已完成的环节只有在草案出现新版本或原结论失效时才能重新开启：须注明新的草案版本或失效的结论",
    "A DONE stage reopens only with a reason naming the new draft version or the stale result",
)
def done_reopen_names_basis(ctx):
    records = [r for r in ctx.get("records", ()) if r.status == StageStatus.DONE]
    if not records:
        return True
    if filled(ctx.get("stale_result")):
        return True
    version = ctx.get("draft_version")
    if version is None or version.decision_id != ctx.decision.pk:
        return False
    return all(r.draft_version_id is None or version.number > r.draft_version.number for r in records)


T6C = [reopen_reason_given, done_reopen_names_basis]


# -- trigger answers after T6 (P11, T6a) --------------------------------------------------------------


def cleared_hearing_flags(ctx):
    """Return the hearing flags this change of answers turns from true to false (P11)."""
    decision = ctx.decision
    changes = ctx.get("changes", {})
    return [f for f in hearing_flags(decision) if f in changes and changes[f][0] and not changes[f][1]]


@rule(
    "REASON_REQUIRED",
    "第十六条; P11",
    "取消“须听证”情形(法定听证，或浙江的重大分歧、重大利益调整)须说明理由",
    "Clearing a flag that requires a hearing needs a reason",
)
def hearing_flag_clearing_explained(ctx):
    return not cleared_hearing_flags(ctx) or filled(ctx.get("reason"))


@rule(
    "HEARING_REQUIRED",
    "第十六条; P11",
    "听证已开始或已完成，不能再取消“须听证”情形",
    "The hearing is in progress or done: a flag requiring it can no longer be cleared",
)
def hearing_flag_not_cleared_after_start(ctx):
    if not cleared_hearing_flags(ctx):
        return True
    return status_of(ctx.decision, Stage.HEARING) not in (StageStatus.IN_PROGRESS, StageStatus.DONE)


TRIGGER_UPDATE = [hearing_flag_clearing_explained, hearing_flag_not_cleared_after_start]


# -- T7a: public comment notice -------------------------------------------------------------------


def _period(ctx):
    return ctx.get("period")


@rule(
    "COMMENT_NOTICE_INCOMPLETE",
    "第十五条",
    "公开征求意见须公布决策草案及其说明，并明确提出意见的方式和期限，通过政府网站、政务新媒体、报刊、广播、电视等途径发布",
    "The notice must publish the draft and its explanation, how to comment and the deadline, on a listed channel",
)
def comment_notice_complete(ctx):
    period = _period(ctx)
    channels = list(period.channels or [])
    if not channels or any(c not in CommentPeriod.Channel.values for c in channels):
        return False
    if CommentPeriod.Channel.OTHER in channels and not filled(period.other_channel_text):
        return False
    if not (period.includes_draft and period.includes_explanation and filled(period.how_to_comment)):
        return False
    return (
        period.publish_date is not None
        and period.deadline_date is not None
        and (period.deadline_date > period.publish_date)
    )


@rule(
    "COMMENT_PERIOD_TOO_SHORT_NO_REASON",
    "第十五条",
    "公开征求意见的期限一般不少于30日；因情况紧急等原因需要缩短期限的，公开征求意见时应当予以说明",
    "A comment period shorter than the minimum needs a reason stated in the notice when it is published",
)
def comment_period_long_enough_or_explained(ctx):
    period = _period(ctx)
    if period.publish_date is None or period.deadline_date is None:
        return True  # the notice rule names the missing dates
    days = comment_period_days(period, ctx.get("first_publish_date"))
    if days >= param(ctx.decision, "comment_period_min_days"):
        return True
    if not param(ctx.decision, "comment_period_shortening_requires_reason_in_notice"):
        return True
    return filled(period.shortening_reason)


@rule(
    "COMMENT_CHANNEL_NOT_NAMED",
    "第十五条; P13",
    "未使用第十五条列明的发布途径(政府网站、政务新媒体、报刊、广播、电视)，请确认所用途径便于社会公众知晓",
    "None of the channels named in 第15条 is used: check that the channel reaches the public",
    warning=True,
)
def named_channel_used(ctx):
    return any(c in NAMED_CHANNELS for c in _period(ctx).channels or [])


T7A = [comment_notice_complete, comment_period_long_enough_or_explained, named_channel_used]


@rule(
    "COMMENT_PERIOD_TOO_SHORT_NO_REASON",
    "第十五条",
    "缩短期限的理由须在公开征求意见时说明，发布后不得补充或修改",
    "The shortening reason must be stated when the notice is published; it cannot be added or changed afterwards",
)
def shortening_reason_not_locked(ctx):
    return _period(ctx).published_at is None


@rule(
    "COMMENT_NOTICE_INCOMPLETE",
    "第十五条; P13",
    "延长征求意见期限须重新发布，截止日期须晚于原截止日期",
    "An extension republishes the notice with a deadline later than the last one",
)
def extension_deadline_later(ctx):
    period, previous = _period(ctx), ctx.get("previous")
    return previous is not None and period.deadline_date is not None and period.deadline_date > previous.deadline_date


COMMENT_EXTEND = [extension_deadline_later, comment_period_long_enough_or_explained]


# -- T7: complete public participation ---------------------------------------------------------------


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十四条",
    "须记录至少一种公众参与方式(座谈会、听证会、实地走访、书面征求意见、向社会公开征求意见、问卷调查、民意调查等)",
    "At least one form of public participation must be recorded",
)
def pp_method_recorded(ctx):
    record = record_of(ctx)
    return record is not None and bool(record.methods)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十五条; B8",
    "采用向社会公开征求意见方式的，须有已发布的征求意见公告及发布证明(网页快照或报纸版面)",
    "Public comment needs a published notice and the proof of its publication",
)
def comment_notice_on_record(ctx):
    record = record_of(ctx)
    if record is None:
        return True
    used = "PUBLIC_COMMENT" in (record.methods or []) or record.comment_periods.exists()
    if not used:
        return True
    return comment_periods(record).exists() and has_document(record, DocumentType.PUBLICATION_PROOF)


@rule(
    "SPECIFIC_GROUP_CONSULTATION_MISSING",
    "第十四条第三款",
    "决策事项涉及特定群体利益的，应当与相关人民团体、社会组织以及群众代表进行沟通协商，须上传协商记录",
    "The matter affects a specific group: the consultation record with its organisations is required",
)
def specific_group_consulted(ctx):
    if not ctx.decision.affects_specific_group:
        return True
    return has_document(record_of(ctx), DocumentType.SPECIFIC_GROUP_CONSULTATION)


opinion_summary_attached = _doc_rule(
    "DOSSIER_ITEM_MISSING",
    "第十八条",
    DocumentType.OPINION_SUMMARY,
    "须上传公众意见汇总",
    "The summary of public opinions is required",
    "pp_opinion_summary_attached",
)
adoption_statement_attached = _doc_rule(
    "DOSSIER_ITEM_MISSING",
    "第十八条、第二十九条",
    DocumentType.ADOPTION_STATEMENT,
    "须上传公众意见采纳情况说明",
    "The statement on the adoption of opinions is required",
    "pp_adoption_statement_attached",
)


@rule(
    "HEARING_REQUIRED",
    "第十六条",
    "听证环节尚未办结(须举行听证并完成，或认定未触发)；采用听证会方式的，听证须已完成",
    "The hearing record must be done or not triggered (done, if a hearing is among the methods)",
)
def hearing_closed_for_participation(ctx):
    status = status_of(ctx.decision, Stage.HEARING)
    record = record_of(ctx)
    if record is not None and "HEARING" in (record.methods or []):
        return status == StageStatus.DONE
    return status in (StageStatus.DONE, StageStatus.NOT_TRIGGERED)


@rule(
    "COMMENT_PERIOD_OPEN",
    "第十五条、第十八条; P13",
    "征求意见期限尚未届满(截止日24时前仍可提出意见)，或意见汇总形成于截止日之前，未涵盖全部意见",
    "The comment period is still open (comments are accepted until 24:00 of the deadline), "
    "or the opinion summary predates the deadline",
)
def comment_period_closed(ctx):
    record = record_of(ctx)
    deadline = last_deadline(record)
    if deadline is None:
        return True
    if localdate(ctx.now) <= deadline:
        return False
    summary = record_documents(record, DocumentType.OPINION_SUMMARY).order_by("-uploaded_at").first()
    return summary is None or localdate(summary.uploaded_at) > deadline


T7 = [
    pp_method_recorded,
    comment_notice_on_record,
    specific_group_consulted,
    opinion_summary_attached,
    adoption_statement_attached,
    hearing_closed_for_participation,
    comment_period_closed,
]


# -- T7b: hearing --------------------------------------------------------------------------------


def _hearing(ctx):
    return hearing_of(record_of(ctx))


@rule("DOSSIER_ITEM_MISSING", "第十六条", "须登记听证会的时间和地点", "The hearing's date and place must be recorded")
def hearing_scheduled(ctx):
    return _hearing(ctx) is not None


@rule("DOSSIER_ITEM_MISSING", "第十七条", "听证会尚未召开(听证日期晚于今日)", "The hearing has not been held yet")
def hearing_held(ctx):
    hearing = _hearing(ctx)
    return hearing is None or hearing.hearing_date <= localdate(ctx.now)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十六条第二款",
    "须在听证会召开前公布决策草案及其说明、听证时间和地点，并上传听证公告",
    "The draft, its explanation, the time and place must be published before the hearing (notice attached)",
)
def hearing_notice_published_before(ctx):
    hearing = _hearing(ctx)
    if hearing is None:
        return True
    if hearing.notice_published_on is None or not has_document(record_of(ctx), DocumentType.HEARING_NOTICE):
        return False
    lead = calendar_days_between(hearing.notice_published_on, hearing.hearing_date)
    return lead >= max(1, param(ctx.decision, "hearing_notice_lead_days") or 0)


@rule(
    "HEARING_NOTICE_SHORT",
    "第十六条; B2",
    "听证公告距听证会不足7日，请确认公众有足够时间知晓",
    "The hearing notice was published fewer than 7 days before the hearing",
    warning=True,
)
def hearing_notice_lead_reasonable(ctx):
    hearing = _hearing(ctx)
    if hearing is None or hearing.notice_published_on is None:
        return True
    return calendar_days_between(hearing.notice_published_on, hearing.hearing_date) >= 7


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十六条第二款",
    "遴选听证参加人的，须在遴选前公布遴选办法(上传遴选办法并登记公布日期和遴选日期)",
    "Where participants are selected, the selection method is published before the selection",
)
def selection_method_published_before(ctx):
    hearing = _hearing(ctx)
    if hearing is None or not hearing.participants_selected:
        return True
    if not has_document(record_of(ctx), DocumentType.HEARING_SELECTION_METHOD):
        return False
    published, selected = hearing.selection_method_published_on, hearing.selection_done_on
    return published is not None and selected is not None and published < selected <= hearing.hearing_date


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十六条第二款",
    "须在听证会召开前公布听证参加人名单(上传名单并登记公布日期)",
    "The participant list must be published before the hearing",
)
def participant_list_published_before(ctx):
    hearing = _hearing(ctx)
    if hearing is None:
        return True
    if not has_document(record_of(ctx), DocumentType.HEARING_PARTICIPANT_LIST) or not hearing.participants.exists():
        return False
    published = hearing.participant_list_published_on
    return published is not None and published < hearing.hearing_date


@rule(
    "HEARING_MATERIALS_LATE",
    "第十六条第二款",
    "听证会材料应当于召开听证会7日前送达听证参加人(以回执日期为准，每位参加人均须有回执)",
    "Hearing materials must reach every participant the required days before the hearing, by receipt date",
)
def materials_delivered_in_time(ctx):
    hearing = _hearing(ctx)
    if hearing is None:
        return True
    return not late_participants(hearing, param(ctx.decision, "hearing_material_lead_days"))


@rule(
    "HEARING_RECORD_UNSIGNED",
    "第十七条第(三)项",
    "听证会记录须经听证参加人确认并签字",
    "The hearing record must be confirmed and signed by the participants",
)
def hearing_record_signed(ctx):
    return record_documents(record_of(ctx), DocumentType.HEARING_RECORD).filter(signed=True).exists()


T7B = [
    hearing_scheduled,
    hearing_held,
    hearing_notice_published_before,
    hearing_notice_lead_reasonable,
    selection_method_published_before,
    participant_list_published_before,
    materials_delivered_in_time,
    hearing_record_signed,
]


# -- T8: expert review ----------------------------------------------------------------------------


@rule(
    "EXPERT_CONFLICT_OF_INTEREST",
    "第二十条",
    "不得选择与决策事项有直接利害关系的专家、专业机构：须上传无直接利害关系声明",
    "An expert or agency with a direct interest may not be chosen: a no-interest declaration is required",
)
def expert_declared_no_interest(ctx):
    return (
        bool(ctx.get("no_interest_declared"))
        and ctx.get("declaration") is not None
        and not ctx.get("has_direct_interest")
    )


EXPERT_ADD = [expert_declared_no_interest]


def _members(ctx):
    record = record_of(ctx)
    return list(record.experts.order_by("id")) if record is not None and record.pk else []


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十条",
    "须记录论证方式(论证会、书面咨询或委托咨询论证)",
    "The form of review (meeting, written consultation or commissioned review) must be recorded",
)
def expert_mode_recorded(ctx):
    record = record_of(ctx)
    return record is not None and any(m in ExpertMember.Mode.values for m in record.methods or [])


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十条; B8",
    "须登记论证专家(专业机构)并上传专家遴选记录(专业性、代表性、中立性)",
    "The experts and the panel selection record are required",
)
def expert_panel_recorded(ctx):
    return bool(_members(ctx)) and has_document(record_of(ctx), DocumentType.EXPERT_SELECTION)


@rule(
    "EXPERT_CONFLICT_OF_INTEREST",
    "第二十条",
    "每位专家、专业机构均须声明与决策事项无直接利害关系",
    "Every expert and agency must have a no-direct-interest declaration",
)
def experts_declared(ctx):
    return all(m.no_interest_declared and m.declaration_id for m in _members(ctx))


def _opinion_signed(member):
    opinion = member.opinion
    return opinion.signed and (opinion.sealed or not member.is_agency)


@rule(
    "EXPERT_OPINION_UNSIGNED",
    "第十九条第二款",
    "提供书面论证意见的，应当署名、盖章(专家署名；专业机构署名并盖章)",
    "Written opinions carry the expert's signature; an agency's also carries its seal",
)
def expert_opinions_signed(ctx):
    members = _members(ctx)
    for member in members:
        if member.opinion_id and not _opinion_signed(member):
            return False
    linked = {m.opinion_id for m in members}
    loose = record_documents(record_of(ctx), DocumentType.EXPERT_OPINION).exclude(pk__in=linked)
    return not loose.filter(signed=False).exists()


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十九条; B8",
    "须上传专家论证意见(书面咨询、委托论证的，每位专家或机构均须提交书面意见)",
    "Expert opinions are required (for written or commissioned review, one from each expert or agency)",
)
def expert_opinions_present(ctx):
    members = _members(ctx)
    record = record_of(ctx)
    if not members:
        return True  # the panel rule names this
    written = any(m in (ExpertMember.Mode.WRITTEN, ExpertMember.Mode.COMMISSIONED) for m in record.methods or [])
    if written:
        return all(m.opinion_id for m in members)
    return any(m.opinion_id for m in members) or has_document(record, DocumentType.EXPERT_OPINION)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十条; B8",
    "委托专业机构论证的，须上传委托合同",
    "A commissioned review needs the commission contract",
)
def expert_commission_contract(ctx):
    record = record_of(ctx)
    if record is None or ExpertMember.Mode.COMMISSIONED not in (record.methods or []):
        return True
    return has_document(record, DocumentType.COMMISSION_CONTRACT)


expert_adoption_attached = _doc_rule(
    "DOSSIER_ITEM_MISSING",
    "第二十九条第(三)项",
    DocumentType.EXPERT_ADOPTION_STATEMENT,
    "须上传专家论证意见采纳情况说明",
    "The statement on the adoption of expert opinions is required",
    "expert_adoption_attached",
)


@rule(
    "EXPERT_NO_DISSENTING_VIEW",
    "第二十条",
    "论证专家中没有持不同意见的专家，请确认遴选时已考虑持不同意见的专家",
    "No expert is marked as holding a dissenting view",
    warning=True,
)
def dissenting_view_represented(ctx):
    return any(m.holds_dissenting_view for m in _members(ctx))


T8 = [
    expert_mode_recorded,
    expert_panel_recorded,
    experts_declared,
    expert_opinions_signed,
    expert_opinions_present,
    expert_commission_contract,
    expert_adoption_attached,
    dissenting_view_represented,
]


# -- T9: risk assessment ---------------------------------------------------------------------------


@rule(
    "RISK_REPORT_INCOMPLETE",
    "第二十三条",
    "风险评估报告须明确风险点、提出防范措施和处置预案、听取有关部门意见、确定风险等级，并上传报告及有关部门意见",
    "The risk report must set out risk points, prevention measures and a contingency plan, record that the "
    "departments were heard (with their opinions), set the level and be attached",
)
def risk_report_complete(ctx):
    assessment = ctx.get("assessment") or latest_assessment(record_of(ctx))
    heard = has_document(record_of(ctx), DocumentType.DEPARTMENT_OPINIONS) or any(
        getattr(u, "doc_type", None) == DocumentType.DEPARTMENT_OPINIONS for u in ctx.get("documents", ())
    )
    return assessment_complete(assessment, ctx.get("report")) and heard


RA_RECORD = [risk_report_complete]


@rule(
    "RISK_ASSESSMENT_STALE",
    "第二十四条; P14",
    "最新的风险评估已被标记为失效，须重新评估",
    "The latest risk assessment was marked stale: a new assessment is needed",
)
def latest_assessment_current(ctx):
    assessment = latest_assessment(record_of(ctx))
    return assessment is None or not assessment.stale_marked_at


risk_plan_attached = _doc_rule(
    "DOSSIER_ITEM_MISSING",
    "第二十三条; B8",
    DocumentType.RISK_PLAN,
    "须上传风险评估方案",
    "The assessment plan is required",
    "risk_plan_attached",
)
risk_evidence_attached = _doc_rule(
    "DOSSIER_ITEM_MISSING",
    "第二十三条; B8",
    DocumentType.RISK_EVIDENCE,
    "须上传风险评估过程材料(舆情跟踪、重点走访、会商分析等)",
    "The assessment evidence is required",
    "risk_evidence_attached",
)


@rule(
    "RISK_MITIGATION_PLAN_MISSING",
    "P5",
    "风险等级为中风险的，须上传风险防范化解方案",
    "A MEDIUM risk needs a risk mitigation plan",
)
def medium_risk_has_mitigation_plan(ctx):
    assessment = latest_assessment(record_of(ctx))
    if assessment is None or assessment.level != RiskLevel.MEDIUM:
        return True
    if not param(ctx.decision, "risk_medium_requires_mitigation_plan"):
        return True
    return has_document(record_of(ctx), DocumentType.RISK_MITIGATION_PLAN)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十三条",
    "委托第三方评估的，须上传委托合同",
    "A third-party assessment needs the contract",
)
def third_party_contract_attached(ctx):
    assessment = latest_assessment(record_of(ctx))
    if assessment is None or not assessment.third_party:
        return True
    return has_document(record_of(ctx), DocumentType.COMMISSION_CONTRACT)


T9 = [
    risk_report_complete,
    latest_assessment_current,
    risk_plan_attached,
    risk_evidence_attached,
    medium_risk_has_mitigation_plan,
    third_party_contract_attached,
]


@rule("REASON_REQUIRED", "P14; B2a", "标记风险评估失效须说明理由", "Marking an assessment stale needs a reason")
def stale_reason_given(ctx):
    return filled(ctx.get("reason"))


RA_STALE = [stale_reason_given]
