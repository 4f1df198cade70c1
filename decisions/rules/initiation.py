"""Rules of proposal, applicability, listing, initiation and drafting (第三条、第十条至第十三条; T1–T6)."""

from decisions.models import Decision, DocumentType, Stage
from decisions.rules import rule
from decisions.rules.facts import catalogue_entry, filled, param, stage_has

INFO_FIELDS_SOURCES = (Decision.SourceType.DEPARTMENT, Decision.SourceType.LOWER_GOVERNMENT)
TRIGGER_QUESTIONS = (
    "affects_specific_group",
    "public_concern",
    "highly_technical",
    "stability_or_safety_impact",
    "market_affecting",
    "confidential_by_law",
    "direct_vital_interest",
    "major_disagreement",
    "hearing_required_by_law",
)


def _proposal_fields_filled(decision):
    return filled(
        decision.problem,
        decision.reasons_and_basis,
        decision.preliminary_plan,
        decision.necessity,
        decision.feasibility,
    )


@rule(
    "PROPOSAL_FIELDS_MISSING",
    "第十条第一款第(二)项",
    "部门或下一级人民政府提出的决策建议，应当说明拟解决的主要问题、建议理由和依据、解决问题的初步方案及其必要性、可行性",
    "A proposal from a department or lower government must state the problem, reasons and basis, "
    "a preliminary plan, its necessity and feasibility",
)
def proposal_fields_filled(ctx):
    decision = ctx.decision
    if decision.source_type not in INFO_FIELDS_SOURCES:
        return True
    return _proposal_fields_filled(decision)


@rule(
    "PROPOSAL_FIELDS_MISSING",
    "第十条第一款第(二)项; P25",
    "目录编制产生的决策事项由部门或下一级人民政府提出的，启动前应补齐第十条第(二)项所列内容",
    "A catalogue-compilation decision proposed by a department or lower government needs the 第10条(二) fields "
    "before it starts",
)
def compilation_proposal_fields_filled(ctx):
    decision = ctx.decision
    if decision.source_type != Decision.SourceType.CATALOGUE_COMPILATION:
        return True
    if decision.proposer_type not in INFO_FIELDS_SOURCES:
        return True
    return _proposal_fields_filled(decision)


T1 = [proposal_fields_filled]


@rule(
    "APPLICABILITY_REASON_INVALID",
    "第三条第二款",
    "不适用本条例的理由只能是宏观调控决策、政府立法决策或突发事件应急处置决策；其他法律程序只替代相应环节",
    "A decision is outside the Decree only for macro-control, legislation or emergency response; another law's "
    "procedure replaces single stages only",
)
def applicability_reason_valid(ctx):
    return ctx.get("reason") in Decision.ApplicabilityReason.values


T2 = [applicability_reason_valid]


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十条",
    "须上传决策机关不予启动的决定(领导批示或会议纪要)",
    "The organ's decision not to start must be attached",
)
def decline_record_attached(ctx):
    return stage_has(Stage.INITIATION, DocumentType.DECLINE_RECORD)(ctx)


@rule("REASON_REQUIRED", "第十条", "须说明不予启动的理由", "A reason for not starting is required")
def decline_reason_given(ctx):
    return filled(ctx.get("reason"))


T2A = [decline_record_attached, decline_reason_given]


@rule(
    "CATALOGUE_PARTY_CONSENT_MISSING",
    "第三条第三款",
    "决策事项目录(或其调整)须经同级党委同意后公布，方可列入目录",
    "A catalogue (or its adjustment) is published only with the party committee's consent",
)
def listed_with_party_consent(ctx):
    source = ctx.get("listing")
    return bool(source) and source.has_party_consent()


T3 = [listed_with_party_consent]


@rule(
    "CATALOGUE_LISTING_REQUIRED",
    "第三条第三款; P19",
    "本地实行决策事项目录管理，决策事项须经公布的目录(或目录调整)列入后方可启动或终止",
    "This profile requires the catalogue: a decision starts (or ends) only through a published catalogue",
)
def catalogue_not_required(ctx):
    return not param(ctx.decision, "catalogue_required")


@rule(
    "MATTER_NOT_APPLICABLE", "第三条第二款", "该事项不适用本条例，不能启动决策程序", "The matter is outside the Decree"
)
def matter_applicable(ctx):
    return not ctx.decision.applicability_reason


@rule(
    "DECISION_CATEGORY_MISSING",
    "第三条第一款",
    "须确定决策事项属于第三条第一款第(一)至(五)项中的哪一类",
    "The decision's category under 第3条第1款 (一)–(五) is required",
)
def category_recorded(ctx):
    return bool(ctx.decision.category)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十条",
    "须上传决策启动决定(领导批示或会议纪要)",
    "The start decision (leader's instruction or minutes) must be attached",
)
def start_decision_attached(ctx):
    return stage_has(Stage.INITIATION, DocumentType.START_DECISION)(ctx)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第十条",
    "须上传对决策建议的研究论证意见",
    "The study opinion on the proposal must be attached",
)
def study_opinion_attached(ctx):
    return stage_has(Stage.INITIATION, DocumentType.STUDY_OPINION)(ctx)


@rule(
    "LEAD_UNIT_MISSING",
    "第十一条",
    "决策机关启动决策程序时须确定决策承办单位(牵头单位)",
    "The lead undertaking unit must be named",
)
def lead_unit_named(ctx):
    return ctx.get("lead_unit", ctx.decision.lead_unit) is not None


@rule(
    "REASON_REQUIRED",
    "第十一条; P18",
    "确定的牵头承办单位与目录所列承办单位不一致的，须说明理由",
    "A lead unit other than the catalogue entry's needs a recorded reason",
)
def lead_unit_change_explained(ctx):
    entry = catalogue_entry(ctx.decision)
    lead = ctx.get("lead_unit")
    if entry is None or entry.lead_unit_id is None or lead is None or lead.pk == entry.lead_unit_id:
        return True
    return filled(ctx.get("lead_unit_change_reason"))


T4 = [
    start_decision_attached,
    study_opinion_attached,
    lead_unit_named,
    lead_unit_change_explained,
    compilation_proposal_fields_filled,
]
T3B = [catalogue_not_required, matter_applicable, category_recorded, *T4]


@rule("LEAD_UNIT_MISSING", "第十一条", "尚未确定牵头承办单位，不能开始拟订草案", "No lead unit is assigned")
def lead_unit_assigned(ctx):
    return ctx.decision.lead_unit_id is not None


T5 = [lead_unit_assigned]


def _drafting_doc(doc_type, article, zh, en):
    @rule("DOSSIER_ITEM_MISSING", article, zh, en, name=f"drafting_{doc_type.lower()}")
    def check(ctx):
        return stage_has(Stage.DRAFTING, doc_type)(ctx)

    return check


research_report_attached = _drafting_doc(
    DocumentType.RESEARCH_REPORT, "第十二条第一款", "须上传调研报告", "The research report must be attached"
)
law_policy_list_attached = _drafting_doc(
    DocumentType.LAW_POLICY_LIST,
    "第十二条第二款",
    "须上传与决策事项有关的法律、法规、规章和政策梳理清单",
    "The law and policy mapping list must be attached",
)
consultation_record_attached = _drafting_doc(
    DocumentType.CONSULTATION_RECORD,
    "第十三条",
    "须上传与有关部门、下级政府的协商记录及分歧说明",
    "The inter-department consultation record must be attached",
)
draft_explanation_attached = _drafting_doc(
    DocumentType.DRAFT_EXPLANATION, "第十二条", "须上传决策草案起草说明", "The drafting explanation must be attached"
)


@rule("DOSSIER_ITEM_MISSING", "第十二条", "须形成决策草案(第1版)", "A first draft version is required")
def draft_exists(ctx):
    return ctx.decision.draft_versions.exists()


@rule(
    "TRIGGER_QUESTIONNAIRE_INCOMPLETE",
    "第十四条第三款、第十六条、第十九条、第二十二条、第二十九条第(一)项、第三十二条",
    "须完成程序触发问卷(是否涉及特定群体、社会关注、专业性、稳定与安全、市场主体、依法不公开、切身利益、重大分歧、法定听证等)",
    "The trigger questionnaire (specific group, public concern, technicality, stability/safety, market impact, "
    "confidentiality, vital interests, disagreement, hearing required by law) must be answered",
)
def questionnaire_answered(ctx):
    decision = ctx.decision
    questions = list(TRIGGER_QUESTIONS)
    if param(decision, "hearing_mandatory_rule") == "zj_flags":
        questions.append("major_interest_readjustment")
    if any(getattr(decision, q) is None for q in questions):
        return False
    # 第十六条: a hearing required by 法律、法规、规章 is recorded with its instrument and article.
    return not decision.hearing_required_by_law or filled(decision.hearing_law_instrument, decision.hearing_law_article)


T6 = [
    draft_exists,
    research_report_attached,
    draft_explanation_attached,
    law_policy_list_attached,
    consultation_record_attached,
    questionnaire_answered,
]
