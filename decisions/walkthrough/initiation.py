"""Take a decision from proposal to CONSULTATION (T1, T3 via the catalogue, T4–T6)."""

from decisions.models import Decision, DocumentType
from decisions.services import documents, initiation
from decisions.walkthrough import doc

QUESTIONNAIRE_NO = {
    "affects_specific_group": False,
    "public_concern": False,
    "highly_technical": False,
    "stability_or_safety_impact": False,
    "market_affecting": False,
    "confidential_by_law": False,
    "direct_vital_interest": False,
    "major_disagreement": False,
    "major_interest_readjustment": False,
    "hearing_required_by_law": False,
}

PROPOSAL_FIELDS = {
    "problem": "现行补助标准与实际需求不匹配",
    "reasons_and_basis": "依据《重大行政决策程序暂行条例》及有关政策",
    "preliminary_plan": "调整补助标准并明确申领程序",
    "necessity": "群众反映集中，亟需规范",
    "feasibility": "财政可承受，部门已具备实施条件",
}


def propose(cast, title="市本级新能源汽车推广应用地方补助实施办法", source=Decision.SourceType.DEPARTMENT, **extra):
    """T1: the lead unit registers a department proposal with the 第十条(二) fields."""
    fields = {**PROPOSAL_FIELDS, **extra}
    return initiation.register_proposal(
        cast["UNDERTAKING_LEAD"],
        cast.organ,
        title=title,
        source_type=source,
        category=Decision.Category.PUBLIC_POLICY,
        documents=[doc(DocumentType.PROPOSAL, title)],
        **fields,
    )


def initiate(cast, decision, co_units=None):
    """T4 (or T3b when no catalogue is required): the organ starts it and names the units."""
    decision = Decision.objects.get(pk=decision.pk)  # the catalogue may have listed it meanwhile
    step = initiation.initiate if decision.state == "LISTED" else initiation.start_without_catalogue
    return step(
        cast["GOV_OFFICE"],
        decision,
        lead_unit=cast.lead_unit,
        co_units=cast.co_units if co_units is None else co_units,
        documents=[doc(DocumentType.START_DECISION), doc(DocumentType.STUDY_OPINION)],
    )


def draft(cast, decision, answers=None):
    """T5 and T6: draft v1 with its research, mapping, consultation and explanation; open consultation."""
    decision = initiation.start_drafting(cast["UNDERTAKING_LEAD"], decision)
    documents.add_draft_version(
        cast["UNDERTAKING_LEAD"], decision, doc(DocumentType.DRAFT, "v1"), change_summary="初稿"
    )
    return initiation.open_consultation(
        cast["UNDERTAKING_LEAD"],
        decision,
        answers={**QUESTIONNAIRE_NO, **(answers or {})},
        documents=[
            doc(DocumentType.RESEARCH_REPORT),
            doc(DocumentType.LAW_POLICY_LIST),
            doc(DocumentType.CONSULTATION_RECORD),
            doc(DocumentType.DRAFT_EXPLANATION),
        ],
    )
