"""Take a decision through legality review (T10–T18): from CONSULTATION to READY_FOR_MEETING."""

from datetime import timedelta

from django.utils import timezone

from decisions import lifecycle
from decisions.models import DocumentType, LegalityReview, Stage
from decisions.rules import legality as rules
from decisions.services import documents, legality
from decisions.services.common import Upload
from decisions.services.consultation import procedure_statement as build
from decisions.walkthrough import doc, pdf_bytes

Outcome = LegalityReview.Outcome
# Far enough back that a meeting tomorrow leaves ≥7 working days even across a long holiday (第二十六条).
RECEIVED_DAYS_BACK = 30
OPINION_TEXTS = {
    "authority": "属于本级人民政府法定职权范围",
    "procedure": "已依法履行公众参与、专家论证、风险评估等程序",
    "content": "内容符合法律、法规、规章和国家政策",
}
LEGAL_RISK = "国家尚无明确规定，存在被上位法调整的法律风险，建议设置评估调整条款"
EXPLORATORY_STATEMENT = "国家尚无明确规定，本事项属于探索性改革"


def default_received_on():
    return timezone.localdate() - timedelta(days=RECEIVED_DAYS_BACK)


def procedure_statement(decision):
    """Return the procedure-performance statement (履行决策法定程序的说明) as an upload."""
    statement = build(decision)
    if isinstance(statement, Upload):
        return statement
    pins = " ".join(f"{e['stage']}:{e.get('status')}:v{e.get('draft_version')}" for e in statement)
    return Upload(
        DocumentType.PROCEDURE_STATEMENT, "procedure_statement.pdf", pdf_bytes(pins), title="履行决策法定程序的说明"
    )


def submission(decision, exploratory=False):
    """Return the documents of a submission (第二十六条): letter, legal basis, procedure statement, and the
    fair-competition review and exploratory statement where they apply."""
    uploads = [
        doc(DocumentType.SUBMISSION_LETTER, "送审函"),
        doc(DocumentType.LEGAL_BASIS_LIST, "法律依据清单"),
        procedure_statement(decision),
    ]
    if decision.market_affecting:
        uploads.append(doc(DocumentType.FAIR_COMPETITION_REVIEW, "公平竞争审查意见"))
    if exploratory or decision.exploratory_reform:
        uploads.append(doc(DocumentType.EXPLORATORY_STATEMENT, "探索性改革事项说明"))
    return uploads


def submit(cast, decision, received_on=None, exploratory=False):
    """T10 from CONSULTATION, or T16 from REVISING: send the current draft for a new round."""
    decision.refresh_from_db()
    step = legality.resubmit_new_round if decision.state == lifecycle.REVISING else legality.submit_for_legality_review
    flags = {"exploratory_reform": True, "exploratory_statement": EXPLORATORY_STATEMENT} if exploratory else {}
    return step(
        cast["UNDERTAKING_LEAD"],
        decision,
        documents=submission(decision, exploratory),
        received_on=received_on or default_received_on(),
        **flags,
    )


def issue(cast, decision, outcome=Outcome.LAWFUL):
    """A legal adviser gives an opinion (第二十八条), then the reviewer issues the opinion (T14, + T15)."""
    documents.upload(
        cast["LEGAL_ADVISER"],
        decision,
        Stage.LR,
        doc(DocumentType.LEGAL_ADVISER_OPINION, "法律顾问法律意见", signed=True),
    )
    exploratory = outcome == Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED
    return legality.issue_legality_opinion(
        cast["LEGAL_REVIEWER"],
        decision,
        outcome=outcome,
        **OPINION_TEXTS,
        legal_risk_statement=LEGAL_RISK if exploratory else "",
        documents=[doc(DocumentType.LEGALITY_OPINION, "合法性审查意见书", sealed=True)],
    )


def review(cast, decision, outcome=Outcome.LAWFUL, received_on=None):
    """T10 (or T16), T13 and T14: from CONSULTATION with every sub-stage closed (or from REVISING)
    to LEGAL_REVIEW_DONE, or REVISING for UNLAWFUL / LAWFUL_WITH_MODIFICATIONS."""
    decision.refresh_from_db()
    if decision.state == lifecycle.REVISING and rules.modified_version(decision) is None:
        revise(cast, decision, substantive=True)
    exploratory = outcome == Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED and not decision.exploratory_reform
    decision = submit(cast, decision, received_on, exploratory=exploratory)
    decision = legality.accept_submission(cast["LEGAL_REVIEWER"], decision)
    return issue(cast, decision, outcome)


def revise(cast, decision, substantive=False, implements_opinion=True):
    """In REVISING: the unit puts a new draft on record and the reviewer assesses it (T16/T17)."""
    version = documents.add_draft_version(
        cast["UNDERTAKING_LEAD"], decision, doc(DocumentType.DRAFT, "revised"), change_summary="根据审查意见修改"
    )
    legality.record_draft_assessment(
        cast["LEGAL_REVIEWER"],
        decision,
        substantive_change=substantive,
        implements_opinion=implements_opinion,
        reason="修改涉及审查意见所列事项" if substantive else "文字调整，未改变权限、程序和实体内容",
    )
    return version


def to_ready_for_meeting(cast, decision):
    """T18 from LEGAL_REVIEW_DONE; from REVISING, T17 on a confirmed modification, or a new round after UNLAWFUL."""
    decision.refresh_from_db()
    if decision.state == lifecycle.REVISING:
        opinion = rules.latest_opinion(decision)
        if opinion is not None and opinion.outcome == Outcome.UNLAWFUL:
            decision = review(cast, decision, Outcome.LAWFUL)
        else:
            if rules.modification_path(decision) == "":
                revise(cast, decision)
            return legality.confirm_modifications(
                cast["UNDERTAKING_LEAD"], decision, documents=[doc(DocumentType.MODIFICATION_STATEMENT, "修改情况说明")]
            )
    return legality.proceed_to_meeting(cast["UNDERTAKING_LEAD"], decision)
