"""Rules of legality review (合法性审查, 第二十五条至第二十九条; T10–T18) and the 第29条 meeting package.

A review *round* runs from one submission (T10, T16) to one opinion (T14); it is one LR stage
record with one `LegalityReview` row. Returns inside a round (T11/T12, T13a) keep the round and
replace the receipt date; the clock starts at the receipt date of the submission accepted as
complete (T13, B2). Documents the actor hands to a step are "pending uploads" (`ctx.params["uploads"]`):
the rules count them with what is already on record, so that a refusal stores nothing.
"""

import dataclasses

from decisions import lifecycle
from decisions.models import (
    AuditEvent,
    Document,
    DocumentType,
    LegalityReview,
    RiskLevel,
    Role,
    Stage,
    StageStatus,
)
from decisions.rules import rule
from decisions.rules.facts import filled, has_document, live_record

Outcome = LegalityReview.Outcome
SUB_STAGES = (Stage.PP, Stage.HEARING, Stage.EX, Stage.RA)
# P6: the outcomes that let the draft go to the meeting as reviewed (T18) …
MEETING_OUTCOMES = (Outcome.LAWFUL, Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED)
# … and those after which the unit revises (T15).
REVISING_OUTCOMES = (Outcome.UNLAWFUL, Outcome.LAWFUL_WITH_MODIFICATIONS)
# T17(b): REVISING entered from the meeting side: a MODIFY outcome (T20), a pull-back (T20b) or a
# negative party reply (T21a, P27). T15 is the entry after an opinion.
MEETING_SIDE_ENTRIES = ("T20", "T20b", "T21a")
ALREADY_ASSESSED = "ALREADY_ASSESSED_UNDER_OTHER_RULES"

# -- facts ---------------------------------------------------------------------------------------


def round_record(decision):
    """Return the LR record of the latest draft-review round (live, i.e. not superseded), or None."""
    return (
        decision.stage_records.filter(
            stage=Stage.LR, superseded_by__isnull=True, legality_review__subject=LegalityReview.Subject.DRAFT
        )
        .order_by("-id")
        .first()
    )


def current_review(decision):
    """Return the `LegalityReview` of the latest round, or None."""
    record = round_record(decision)
    return LegalityReview.objects.filter(stage_record=record).first() if record else None


def latest_opinion(decision):
    """Return the last legality opinion on the draft (a round with an outcome), or None."""
    return (
        LegalityReview.objects.filter(decision=decision, subject=LegalityReview.Subject.DRAFT)
        .exclude(outcome="")
        .select_related("draft_version")
        .order_by("-round", "-id")
        .first()
    )


def next_round(decision):
    """Return the number of the next review round: the previous maximum plus one (B10)."""
    last = (
        LegalityReview.objects.filter(decision=decision, subject=LegalityReview.Subject.DRAFT)
        .order_by("-round")
        .values_list("round", flat=True)
        .first()
    )
    return (last or 0) + 1


def _number(version):
    return version.number if version is not None else 0


def last_meeting_version(decision):
    """Return the draft the last collective-decision record considered, or None."""
    record = (
        decision.stage_records.filter(stage=Stage.CD, draft_version__isnull=False)
        .select_related("draft_version")
        .order_by("-id")
        .first()
    )
    return record.draft_version if record else None


def modified_version(decision):
    """Return the current draft if it is newer than the reviewed draft and the draft last put to a meeting.

    T17 needs "the new draft version": one made after the opinion (and after the meeting whose
    MODIFY sent the decision back), assessed by the LEGAL_REVIEWER.
    """
    opinion, current = latest_opinion(decision), decision.current_draft
    if opinion is None or current is None:
        return None
    floor = max(_number(opinion.draft_version), _number(last_meeting_version(decision)))
    return current if current.number > floor else None


def opinion_stale(decision):
    """Return True if the latest opinion no longer covers the current draft (B7; 第二十七条第(三)项).

    Stale when its author marked it so, or when the draft changed after it and the current
    version is not one the LEGAL_REVIEWER assessed as not a substantive change (a confirmed
    modification, T17).
    """
    opinion = latest_opinion(decision)
    if opinion is None:
        return False
    if opinion.stale_marked_at:
        return True
    current = decision.current_draft
    if current is None or current.pk == opinion.draft_version_id:
        return False
    return not (current.number > _number(opinion.draft_version) and current.substantive_change is False)


def latest_risk_assessment(decision):
    return decision.risk_assessments.select_related("draft_version").order_by("-id").first()


def risk_assessment_stale(decision):
    """Return True if the latest risk assessment was marked stale by its author (P14, B2a)."""
    assessment = latest_risk_assessment(decision)
    return assessment is not None and assessment.stale_marked_at is not None


def effective_risk_assessment(decision):
    """Return the risk assessment that counts (P5): one after a HIGH counts only on a later draft."""
    counted = None
    for assessment in decision.risk_assessments.select_related("draft_version").order_by("id"):
        if (
            counted is not None
            and counted.level == RiskLevel.HIGH
            and _number(assessment.draft_version) <= _number(counted.draft_version)
        ):
            continue
        counted = assessment
    return counted


def revising_entry(decision):
    """Return (step, at) of the last transition into REVISING, read from the audit chain; (None, None).

    The audit event of each transition carries {"step", "from", "to"}: T15 (after an opinion),
    T20 (meeting MODIFY), T20b (pull-back) or T21a (party reply does not agree).
    """
    event = (
        AuditEvent.objects.filter(
            decision_id_ref=decision.pk, action__startswith="transition:", payload__to=lifecycle.REVISING
        )
        .order_by("-seq")
        .first()
    )
    return (event.payload.get("step"), event.at) if event else (None, None)


def sub_stage_closed(decision, stage):
    """Return True if a PP/HEARING/EX/RA record is DONE, NOT_TRIGGERED with a reason, or WAIVED with an approved basis."""
    record = live_record(decision, stage)
    if record is None or record.frozen_at is not None:
        return False
    if record.status == StageStatus.DONE:
        return True
    parent = live_record(decision, Stage.PP) if stage == Stage.HEARING else None
    if record.status == StageStatus.NOT_TRIGGERED:
        if not filled(record.reason_code):
            return False
        # A HEARING closed in PP's cascade carries PP's code; PP's record holds the text (B6, Recording).
        cascaded = parent is not None and parent.status == StageStatus.NOT_TRIGGERED and filled(parent.reason_text)
        return filled(record.reason_text) or cascaded
    if record.status == StageStatus.WAIVED:
        # The approved Waiver that closed it (PP's row is shared by its HEARING child, B6).
        holders = [record] + ([parent] if parent is not None else [])
        for holder in holders:
            waiver = holder.waiver if holder.waiver_id else holder.waivers.order_by("-id").first()
            if waiver is not None and waiver.approved_at is not None:
                return True
    return False


def pending_uploads(ctx):
    return ctx.get("uploads") or ()


def uploaded(ctx, doc_type):
    """Return True if the actor hands a document of `doc_type` to this step."""
    return any(u.doc_type == doc_type for u in pending_uploads(ctx))


def submission_record(ctx):
    """Return the LR record the submission's documents are on: none yet when a step opens a new round."""
    return None if ctx.get("new_round") else round_record(ctx.decision)


def submitted(ctx, doc_type, *stages):
    """Return True if `doc_type` is handed in now, on this round's record, or on the live record of a stage."""
    if uploaded(ctx, doc_type) or has_document(submission_record(ctx), doc_type):
        return True
    return any(has_document(live_record(ctx.decision, stage), doc_type) for stage in stages)


def on_decision(decision, doc_type, *stages):
    """Return True if a current `doc_type` is on the live record of one of `stages`, or on any review round."""
    documents = Document.objects.filter(decision=decision, doc_type=doc_type, superseded_by__isnull=True)
    if documents.filter(stage_record__stage=Stage.LR).exists():
        return True
    return any(has_document(live_record(decision, stage), doc_type) for stage in stages)


def adviser_opinions(record):
    """Return the current legal opinions of 法律顾问/公职律师 on a round's record (第二十八条)."""
    if record is None:
        return Document.objects.none()
    return record.documents.filter(
        doc_type=DocumentType.LEGAL_ADVISER_OPINION, uploaded_role=Role.LEGAL_ADVISER, superseded_by__isnull=True
    )


def exploratory_flag(ctx):
    """Return the exploratory-reform flag as the step would leave it (P17)."""
    value = ctx.get("exploratory_reform")
    return ctx.decision.exploratory_reform if value is None else bool(value)


def modification_path(decision):
    """Return "a" or "b" when T17's clause (a) or (b) holds, else "" (B5 T17)."""
    opinion, version = latest_opinion(decision), modified_version(decision)
    if opinion is None or version is None or version.substantive_change is not False:
        return ""
    if opinion.outcome == Outcome.LAWFUL_WITH_MODIFICATIONS and version.implements_opinion is True:
        return "a"
    step, _at = revising_entry(decision)
    if step in MEETING_SIDE_ENTRIES and opinion.outcome in MEETING_OUTCOMES:
        risk = effective_risk_assessment(decision)
        if not risk_assessment_stale(decision) and (risk is None or risk.level != RiskLevel.HIGH):
            return "b"
    return ""


# -- T10: send for review (opens a round) --------------------------------------------------------


def _sub_stage_rule(stage):
    label = Stage(stage).label

    @rule(
        "PRIOR_STAGES_INCOMPLETE",
        "第二十六条、第二十七条第(二)项",
        f"“{label}”尚未办结(已完成、未触发并说明理由或依法免予)，不能送请合法性审查",
        f"{stage} is not closed (done, not triggered with a reason, or waived with an approved basis): "
        "the draft cannot be sent for legality review",
        name=f"prior_{stage.lower()}_closed",
    )
    def check(ctx):
        return sub_stage_closed(ctx.decision, stage)

    return check


PRIOR_STAGES = [_sub_stage_rule(stage) for stage in SUB_STAGES]


@rule("DOSSIER_ITEM_MISSING", "第二十六条", "送审材料须包括决策草案", "The submission must include the draft")
def draft_submitted(ctx):
    current = ctx.decision.current_draft
    return current is not None and current.document_id is not None


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十六条",
    "送审材料须包括决策草案的法律依据清单",
    "The submission must include the list of the draft's legal basis",
)
def legal_basis_list_submitted(ctx):
    return submitted(ctx, DocumentType.LEGAL_BASIS_LIST)


@rule(
    "PROCEDURE_STATEMENT_MISSING",
    "第二十六条",
    "送审材料须包括履行决策法定程序的说明(载明公众参与、听证、专家论证、风险评估各环节的办理情况、理由或免予依据及所依据的草案版本)",
    "The submission must include the statement of the statutory procedures performed (status, reason or waiver "
    "and draft version of PP, hearing, expert review and risk assessment)",
)
def procedure_statement_submitted(ctx):
    return submitted(ctx, DocumentType.PROCEDURE_STATEMENT)


@rule("DOSSIER_ITEM_MISSING", "第二十六条; B8", "须附送审函", "The submission letter (送审函) must be attached")
def submission_letter_submitted(ctx):
    return submitted(ctx, DocumentType.SUBMISSION_LETTER)


@rule(
    "LEGALITY_REVIEW_REPLACED_BY_COMMENT",
    "第二十五条",
    "决策草案须送负责合法性审查的部门审查，不得以征求意见等方式代替合法性审查",
    "The draft must go to the organ's legality-review department; a request for comments does not replace "
    "legality review",
)
def sent_to_legality_review_dept(ctx):
    dept_id = ctx.decision.organ.legality_review_dept_id
    reviewer = ctx.get("reviewer")
    return dept_id is not None and reviewer is not None and reviewer.pk == dept_id


@rule(
    "FAIR_COMPETITION_REVIEW_MISSING",
    "第二十九条第(一)项",
    "决策事项涉及市场主体经济活动的，须附公平竞争审查意见",
    "A decision affecting market entities' economic activity needs its fair-competition review",
)
def fair_competition_submitted(ctx):
    if not ctx.decision.market_affecting:
        return True
    return submitted(ctx, DocumentType.FAIR_COMPETITION_REVIEW)


@rule(
    "REASON_REQUIRED",
    "第二十五条第二款; P17",
    "探索性改革决策事项须说明国家尚无明确规定的情况，并附探索性改革事项说明",
    "An exploratory-reform decision needs the statement of why 国家尚无明确规定, with the statement document",
)
def exploratory_statement_given(ctx):
    if not exploratory_flag(ctx):
        return True
    text = ctx.get("exploratory_statement")
    text = ctx.decision.exploratory_statement if text is None else text
    return filled(text) and submitted(ctx, DocumentType.EXPLORATORY_STATEMENT)


SUBMISSION = [
    draft_submitted,
    legal_basis_list_submitted,
    procedure_statement_submitted,
    submission_letter_submitted,
    sent_to_legality_review_dept,
    fair_competition_submitted,
    exploratory_statement_given,
]
T10 = [*PRIOR_STAGES, *SUBMISSION]


# -- T11 / T13a: return or ask for supplements ----------------------------------------------------


@rule(
    "REASON_REQUIRED",
    "第二十六条",
    "退回或要求补充材料的，须说明理由并列明所缺材料",
    "A return or a request for supplements must give the reason and list the missing items",
)
def return_reason_given(ctx):
    return filled(ctx.get("reason"))


T11 = [return_reason_given]
T13A = [return_reason_given]


# -- T13: intake checklist ----------------------------------------------------------------------


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十六条",
    "送审材料须包括决策草案起草说明",
    "The submission must include the drafting explanation",
)
def draft_explanation_submitted(ctx):
    return submitted(ctx, DocumentType.DRAFT_EXPLANATION, Stage.DRAFTING)


def _adoption_rule(stage, doc_type, article, zh, en):
    @rule("DOSSIER_ITEM_MISSING", article, zh, en, name=f"{stage.lower()}_adoption_statement_submitted")
    def check(ctx):
        record = live_record(ctx.decision, stage)
        if record is None or record.status != StageStatus.DONE:
            return True
        return submitted(ctx, doc_type, stage)

    return check


pp_adoption_submitted = _adoption_rule(
    Stage.PP,
    DocumentType.ADOPTION_STATEMENT,
    "第十八条、第二十六条",
    "已开展公众参与的，送审材料须包括公众意见采纳情况说明",
    "After public participation the submission must include the statement of how opinions were adopted",
)
ex_adoption_submitted = _adoption_rule(
    Stage.EX,
    DocumentType.EXPERT_ADOPTION_STATEMENT,
    "第十九条、第二十六条",
    "已开展专家论证的，送审材料须包括专家论证意见采纳情况说明",
    "After expert review the submission must include the statement of how expert opinions were adopted",
)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十三条、第二十六条",
    "已开展风险评估的，送审材料须包括风险评估报告(依其他规定已评估的，须附已有评估报告)",
    "After a risk assessment the submission must include its report (or the prior report when already assessed)",
)
def risk_report_submitted(ctx):
    record = live_record(ctx.decision, Stage.RA)
    if record is None:
        return True
    if record.status == StageStatus.DONE:
        return submitted(ctx, DocumentType.RISK_REPORT, Stage.RA)
    if record.status == StageStatus.NOT_TRIGGERED and record.reason_code == ALREADY_ASSESSED:
        return submitted(ctx, DocumentType.PRIOR_ASSESSMENT, Stage.RA)
    return True


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十三条、第二十六条",
    "送审材料须包括与有关部门、下级政府的协商记录及分歧说明",
    "The submission must include the inter-department consultation record (第13条)",
)
def consultation_record_submitted(ctx):
    return submitted(ctx, DocumentType.CONSULTATION_RECORD, Stage.DRAFTING)


T13 = [
    draft_submitted,
    draft_explanation_submitted,
    legal_basis_list_submitted,
    procedure_statement_submitted,
    pp_adoption_submitted,
    ex_adoption_submitted,
    risk_report_submitted,
    consultation_record_submitted,
    fair_competition_submitted,
]


def _as_missing_item(r):
    return dataclasses.replace(r, code="DOSSIER_ITEM_MISSING", name=f"supplied_{r.name}")


# T12: the items the reviewer found missing are supplied; the simplest faithful check is the intake list.
T12 = [_as_missing_item(r) for r in T13]


# -- T14: the opinion ----------------------------------------------------------------------------


@rule(
    "LEGALITY_REVIEW_REPLACED_BY_COMMENT",
    "第二十五条",
    "审查意见须由决策机关确定的负责合法性审查的部门出具，不得以征求意见等方式代替",
    "The opinion must come from the organ's legality-review department, not from a request for comments",
)
def reviewed_by_legality_review_dept(ctx):
    review = current_review(ctx.decision)
    dept_id = ctx.decision.organ.legality_review_dept_id
    return review is not None and dept_id is not None and review.reviewer_dept_id == dept_id


@rule(
    "LEGAL_ADVISER_OPINION_MISSING",
    "第二十八条",
    "合法性审查过程中应当组织法律顾问、公职律师提出法律意见：须至少附一份由法律顾问或公职律师上传的法律意见",
    "At least one legal opinion uploaded by a legal adviser or public-sector lawyer must be attached",
)
def adviser_opinion_attached(ctx):
    return adviser_opinions(round_record(ctx.decision)).exists()


def _opinion_text_rule(field, label, en_label):
    @rule(
        "LEGALITY_OPINION_INCOMPLETE",
        "第二十七条",
        f"审查意见须载明对{label}的审查意见",
        f"The opinion must state its finding on {en_label}",
        name=f"opinion_{field}_stated",
    )
    def check(ctx):
        return filled(ctx.get(field))

    return check


opinion_authority_stated = _opinion_text_rule(
    "authority", "决策权限(第二十七条第(一)项)", "legal authority (第27条(一))"
)
opinion_procedure_stated = _opinion_text_rule(
    "procedure", "决策程序(第二十七条第(二)项)", "the statutory procedures (第27条(二))"
)
opinion_content_stated = _opinion_text_rule("content", "决策内容(第二十七条第(三)项)", "the content (第27条(三))")


@rule(
    "LEGALITY_OPINION_INCOMPLETE",
    "第二十五条; P6",
    "审查结论须为合法、修改后合法、不合法或探索性改革明示法律风险之一",
    "The conclusion must be LAWFUL, LAWFUL_WITH_MODIFICATIONS, UNLAWFUL or EXPLORATORY_LEGAL_RISK_DISCLOSED",
)
def opinion_outcome_valid(ctx):
    return ctx.get("outcome") in Outcome.values


@rule(
    "EXPLORATORY_NOT_FLAGGED",
    "第二十五条第二款",
    "只有标记为探索性改革(国家尚无明确规定)的决策事项才能出具“明示法律风险”的结论，且须载明法律风险提示",
    "EXPLORATORY_LEGAL_RISK_DISCLOSED is only for a decision flagged exploratory reform, with a legal-risk statement",
)
def exploratory_outcome_allowed(ctx):
    if ctx.get("outcome") != Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED:
        return True
    flagged = ctx.decision.exploratory_reform and not ctx.get("clear_exploratory_reform")
    return flagged and filled(ctx.get("legal_risk_statement"))


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十八条; B8",
    "须附合法性审查意见书",
    "The legality opinion document must be attached",
)
def opinion_document_attached(ctx):
    return submitted(ctx, DocumentType.LEGALITY_OPINION)


T14 = [
    reviewed_by_legality_review_dept,
    adviser_opinion_attached,
    opinion_authority_stated,
    opinion_procedure_stated,
    opinion_content_stated,
    opinion_outcome_valid,
    exploratory_outcome_allowed,
    opinion_document_attached,
]

# T15 is the system's move after an UNLAWFUL or LAWFUL_WITH_MODIFICATIONS opinion: no guard.
T15 = []


# -- opinion and risk gates shared with the meeting (T17–T20a) ----------------------------------


@rule(
    "LEGALITY_UNLAWFUL",
    "第二十五条",
    "经合法性审查不合法的决策草案，不得提交决策机关讨论；须修改后重新送审",
    "A draft found unlawful cannot go to the organ: it must be revised and reviewed again",
)
def opinion_not_unlawful(ctx):
    opinion = latest_opinion(ctx.decision)
    return opinion is None or opinion.outcome != Outcome.UNLAWFUL


@rule(
    "LEGALITY_UNLAWFUL",
    "第二十五条",
    "审查结论须为合法或探索性改革明示法律风险，方可直接提请审议(不合法的不得提交讨论；修改后合法的须先修改)",
    "Only a LAWFUL or EXPLORATORY_LEGAL_RISK_DISCLOSED opinion lets the draft go to the meeting as reviewed",
)
def opinion_allows_meeting(ctx):
    opinion = latest_opinion(ctx.decision)
    return opinion is None or opinion.outcome in MEETING_OUTCOMES


@rule(
    "LEGALITY_OPINION_STALE",
    "第二十七条第(三)项; B7",
    "合法性审查意见已失效(草案在审查后被修改且未经确认，或审查部门已标记失效)，须重新审查",
    "The legality opinion is stale (the draft changed after it without confirmation, or its author marked it "
    "stale): review again",
)
def opinion_current(ctx):
    return not opinion_stale(ctx.decision)


@rule(
    "LEGALITY_OPINION_STALE",
    "第二十七条第(三)项; B2a",
    "合法性审查部门已标记该审查意见失效，须重新审查",
    "The legality-review department marked its opinion stale: review again",
)
def opinion_not_marked_stale(ctx):
    opinion = latest_opinion(ctx.decision)
    return opinion is None or opinion.stale_marked_at is None


@rule(
    "RISK_ASSESSMENT_STALE",
    "第二十四条; P14",
    "风险评估已被评估单位标记失效，须重新评估",
    "The risk assessment was marked stale by its author: assess again",
)
def risk_assessments_current(ctx):
    return not risk_assessment_stale(ctx.decision)


# -- the 第29条 meeting package (T17, T18; reused by T20a) --------------------------------------


@rule(
    "MEETING_PACKAGE_INCOMPLETE",
    "第二十九条第(一)项",
    "提请审议材料须包括决策草案",
    "The meeting package must include the draft",
)
def package_draft(ctx):
    current = ctx.decision.current_draft
    return current is not None and current.document_id is not None


@rule(
    "MEETING_PACKAGE_INCOMPLETE",
    "第二十九条第(一)项",
    "提请审议材料须包括决策草案起草说明等相关材料",
    "The meeting package must include the drafting explanation",
)
def package_draft_explanation(ctx):
    return on_decision(ctx.decision, DocumentType.DRAFT_EXPLANATION, Stage.DRAFTING)


def _package_stage_rule(stage, doc_type, article, zh, en):
    @rule("MEETING_PACKAGE_INCOMPLETE", article, zh, en, name=f"package_{stage.lower()}_{doc_type.lower()}")
    def check(ctx):
        record = live_record(ctx.decision, stage)
        if record is None or record.status != StageStatus.DONE:
            return True
        return on_decision(ctx.decision, doc_type, stage)

    return check


package_pp_adoption = _package_stage_rule(
    Stage.PP,
    DocumentType.ADOPTION_STATEMENT,
    "第二十九条第(二)项",
    "履行公众参与程序的，提请审议材料须包括公众意见研究采纳情况",
    "After public participation the package must state how public opinions were studied and adopted",
)
package_ex_adoption = _package_stage_rule(
    Stage.EX,
    DocumentType.EXPERT_ADOPTION_STATEMENT,
    "第二十九条第(三)项",
    "履行专家论证程序的，提请审议材料须包括专家论证意见研究采纳情况",
    "After expert review the package must state how expert opinions were studied and adopted",
)


@rule(
    "MEETING_PACKAGE_INCOMPLETE",
    "第二十九条第(四)项",
    "履行风险评估程序的，提请审议材料须包括风险评估报告等有关材料",
    "After a risk assessment the package must include the risk report",
)
def package_risk_report(ctx):
    record = live_record(ctx.decision, Stage.RA)
    if record is None:
        return True
    if record.status == StageStatus.DONE:
        return on_decision(ctx.decision, DocumentType.RISK_REPORT, Stage.RA)
    if record.status == StageStatus.NOT_TRIGGERED and record.reason_code == ALREADY_ASSESSED:
        return on_decision(ctx.decision, DocumentType.PRIOR_ASSESSMENT, Stage.RA)
    return True


@rule(
    "MEETING_PACKAGE_INCOMPLETE",
    "第二十九条第(五)项",
    "提请审议材料须包括合法性审查意见",
    "The meeting package must include the legality opinion",
)
def package_legality_opinion(ctx):
    opinion = latest_opinion(ctx.decision)
    return opinion is not None and has_document(opinion.stage_record, DocumentType.LEGALITY_OPINION)


@rule(
    "MEETING_PACKAGE_INCOMPLETE",
    "第二十五条第二款",
    "探索性改革事项的提请审议材料须包括审查部门明示的法律风险",
    "For an exploratory-reform decision the package must include the disclosed legal risk",
)
def package_legal_risk_statement(ctx):
    opinion = latest_opinion(ctx.decision)
    if opinion is None or opinion.outcome != Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED:
        return True
    return filled(opinion.legal_risk_statement)


@rule(
    "FAIR_COMPETITION_REVIEW_MISSING",
    "第二十九条第(一)项",
    "决策草案涉及市场主体经济活动的，提请审议材料须包括公平竞争审查意见",
    "A draft affecting market entities' economic activity needs the fair-competition review in the package",
)
def package_fair_competition(ctx):
    if not ctx.decision.market_affecting:
        return True
    return Document.objects.filter(
        decision=ctx.decision, doc_type=DocumentType.FAIR_COMPETITION_REVIEW, superseded_by__isnull=True
    ).exists()


# The 第29条 package, checked once here for T17, T18 and the meeting's T20a: `require(PACKAGE, ctx)`.
PACKAGE = [
    package_draft,
    package_draft_explanation,
    package_pp_adoption,
    package_ex_adoption,
    package_risk_report,
    package_legality_opinion,
    package_legal_risk_statement,
    package_fair_competition,
]


# -- T16: a new round; T16a: re-run procedures -------------------------------------------------


@rule(
    "LEGALITY_UNLAWFUL",
    "第二十五条",
    "经审查不合法的草案版本不得原样再次送审，须提交修改后的新版本",
    "The version found unlawful cannot be submitted again: submit a revised version",
)
def unlawful_version_not_resubmitted(ctx):
    opinion, current = latest_opinion(ctx.decision), ctx.decision.current_draft
    if opinion is None or opinion.outcome != Outcome.UNLAWFUL or current is None:
        return True
    return current.pk != opinion.draft_version_id


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十五条、第二十八条",
    "重新送审须提交根据审查意见修改后的新版草案",
    "A new review round needs a new draft version",
)
def new_version_for_new_round(ctx):
    opinion, current = latest_opinion(ctx.decision), ctx.decision.current_draft
    if opinion is None or current is None or opinion.outcome == Outcome.UNLAWFUL:
        return True  # no opinion: nothing to compare; UNLAWFUL: the rule above names it
    # An opinion its author marked stale may be reviewed again on the same text (B2a).
    return current.number > _number(opinion.draft_version) or opinion.stale_marked_at is not None


T16 = [unlawful_version_not_resubmitted, new_version_for_new_round, *SUBMISSION]


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十八条、第二十七条第(二)项",
    "重新履行程序须提交新版决策草案",
    "Re-running procedures needs a new draft version",
)
def rerun_draft_given(ctx):
    return ctx.get("draft") is not None


def _kept_stage_rule(stage):
    label = Stage(stage).label

    @rule(
        "REASON_REQUIRED",
        "第二十七条第(二)项",
        f"不重新履行的“{label}”环节须说明保留原办理结果的理由",
        f"{stage} is not re-run: justify keeping its closure",
        name=f"keep_{stage.lower()}_justified",
    )
    def check(ctx):
        if stage in (ctx.get("rerun_stages") or ()):
            return True
        return filled((ctx.get("keep_justification") or {}).get(stage))

    return check


T16A = [rerun_draft_given, *[_kept_stage_rule(stage) for stage in SUB_STAGES]]


# -- T17: modifications confirmed; T18: proceed ------------------------------------------------


@rule(
    "RISK_NOT_CONTROLLABLE",
    "第二十四条; P5",
    "风险评估等级为高风险，须调整草案并重新评估后方可提请审议",
    "The risk level is HIGH: adjust the draft and assess again before going to the meeting",
)
def no_high_risk_on_meeting_path(ctx):
    decision = ctx.decision
    if modification_path(decision) == "a":
        return True
    step, _at = revising_entry(decision)
    if step not in MEETING_SIDE_ENTRIES:
        return True
    risk = effective_risk_assessment(decision)
    return risk is None or risk.level != RiskLevel.HIGH


@rule(
    "MODIFICATION_NOT_CONFIRMED",
    "第二十八条",
    "修改未经合法性审查部门确认：须由审查部门对新版草案确认已落实审查意见(修改后合法)或"
    "认定非实质性修改(会议决定修改或撤回修改)，否则须重新送审",
    "The modification is not confirmed: the reviewer must confirm the new version implements the opinion "
    "(LAWFUL_WITH_MODIFICATIONS) or record it as not substantive (after a meeting MODIFY or a pull-back); "
    "otherwise start a new review round",
)
def modification_confirmed(ctx):
    return modification_path(ctx.decision) != ""


@rule(
    "DOSSIER_ITEM_MISSING",
    "第二十八条",
    "须附根据审查意见(或会议意见)修改的情况说明",
    "The modification statement must be attached",
)
def modification_statement_attached(ctx):
    if uploaded(ctx, DocumentType.MODIFICATION_STATEMENT):
        return True
    _step, since = revising_entry(ctx.decision)
    documents = Document.objects.filter(
        decision=ctx.decision, doc_type=DocumentType.MODIFICATION_STATEMENT, superseded_by__isnull=True
    )
    if since is not None:
        documents = documents.filter(uploaded_at__gte=since)
    return documents.exists()


T17 = [
    opinion_not_unlawful,
    opinion_not_marked_stale,
    risk_assessments_current,
    no_high_risk_on_meeting_path,
    modification_confirmed,
    modification_statement_attached,
    *PACKAGE,
]

T18 = [opinion_allows_meeting, opinion_current, risk_assessments_current, *PACKAGE]
