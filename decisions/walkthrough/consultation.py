"""Take a decision through CONSULTATION: public participation (and hearing), expert review, risk assessment.

Every function calls the services as the right person with the records the rules ask for, and
leaves the decision in CONSULTATION; the legality walkthrough takes it on (T10). Dates are set
in the past so that the comment period and the hearing are over today (Asia/Shanghai).
"""

from datetime import timedelta

from decisions.models import Decision, DocumentType, Role, Stage
from decisions.rules import consultation as rules
from decisions.services import consultation
from decisions.walkthrough import doc

HEARING_PARTICIPANTS = ("居民代表甲", "企业代表乙", "社会组织代表丙")


def _fresh(decision):
    return Decision.objects.get(pk=decision.pk)


def comment(cast, decision, *, days=30, channels=("GOV_WEBSITE",), shortening_reason="", ended_days_ago=1):
    """T7a: open PP if needed and publish a public-comment notice whose deadline has passed."""
    lead = cast[Role.UNDERTAKING_LEAD]
    if _fresh(decision).current_record(Stage.PP).status == "PENDING":
        consultation.open_substage(lead, decision, Stage.PP)
    deadline = consultation.today() - timedelta(days=ended_days_ago)
    if days < 30 and not shortening_reason:
        shortening_reason = f"因情况紧急，征求意见期限缩短为{days}日"
    return consultation.publish_comment_notice(
        lead,
        decision,
        channels=list(channels),
        publish_date=deadline - timedelta(days=days),
        deadline_date=deadline,
        how_to_comment="通过政府网站留言、电子邮件或信函提出意见",
        shortening_reason=shortening_reason,
        documents=[doc(DocumentType.COMMENT_NOTICE), doc(DocumentType.PUBLICATION_PROOF)],
    )


def hold_hearing(cast, decision, *, held_days_ago=2, lead_days=10):
    """T7b: open HEARING, publish notice, selection method and list, deliver materials, hold it and close it."""
    organiser, lead = cast[Role.HEARING_ORG], cast[Role.UNDERTAKING_LEAD]
    consultation.open_substage(organiser, decision, Stage.HEARING)
    held = consultation.today() - timedelta(days=held_days_ago)
    consultation.schedule_hearing(
        organiser,
        decision,
        hearing_date=held,
        place="市民服务中心听证室",
        notice_published_on=held - timedelta(days=30),
        selection_method_published_on=held - timedelta(days=28),
        selection_done_on=held - timedelta(days=20),
        participant_list_published_on=held - timedelta(days=15),
        documents=[
            doc(DocumentType.HEARING_NOTICE),
            doc(DocumentType.HEARING_SELECTION_METHOD),
            doc(DocumentType.HEARING_PARTICIPANT_LIST),
        ],
    )
    for name in HEARING_PARTICIPANTS:
        consultation.add_hearing_participant(
            organiser,
            decision,
            name=name,
            delivery_date=held - timedelta(days=lead_days),
            receipt=doc(DocumentType.HEARING_RECEIPT, name),
        )
    return consultation.complete_hearing(
        lead, decision, documents=[doc(DocumentType.HEARING_RECORD, signed=True), doc(DocumentType.HEARING_REPORT)]
    )


def participate(cast, decision, *, hearing=None, days=30):
    """T7: public comment plus a forum; the hearing is held when `hearing` (None: when the law requires one)."""
    lead = cast[Role.UNDERTAKING_LEAD]
    comment(cast, decision, days=days)
    consultation.record_participation_methods(lead, decision, ["FORUM"], documents=[doc(DocumentType.PP_METHOD_RECORD)])
    current = _fresh(decision)
    if hearing is None:
        hearing = rules.hearing_required(current)
    if hearing:
        hold_hearing(cast, decision)
    else:
        consultation.close_not_triggered(
            lead,
            decision,
            Stage.HEARING,
            reason_code=rules.OPTIONAL_NOT_HELD,
            reason_text="法律、法规、规章未要求听证，已通过公开征求意见和座谈会充分听取意见",
        )
    documents = [doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)]
    if current.affects_specific_group:
        documents.append(doc(DocumentType.SPECIFIC_GROUP_CONSULTATION))
    return consultation.complete_public_participation(lead, decision, documents=documents)


def expert_review(cast, decision, *, mode="MEETING"):
    """T8: a panel of one expert and one agency (the expert dissenting), signed and sealed opinions."""
    lead, expert = cast[Role.UNDERTAKING_LEAD], cast[Role.EXPERT]
    consultation.open_substage(lead, decision, Stage.EX)
    consultation.set_expert_review_mode(lead, decision, mode, documents=[doc(DocumentType.EXPERT_SELECTION)])
    if mode == "COMMISSIONED":
        consultation.set_expert_review_mode(lead, decision, mode, documents=[doc(DocumentType.COMMISSION_CONTRACT)])
    members = [
        consultation.add_expert(
            lead,
            decision,
            name="交通规划专家",
            field="交通规划",
            holds_dissenting_view=True,
            declaration=doc(DocumentType.EXPERT_DECLARATION, "expert"),
        ),
        consultation.add_expert(
            lead,
            decision,
            name="城市发展研究院",
            is_agency=True,
            field="公共政策",
            declaration=doc(DocumentType.EXPERT_DECLARATION, "agency"),
        ),
    ]
    for member in members:
        opinion = doc(DocumentType.EXPERT_OPINION, member.name, signed=True, sealed=member.is_agency)
        consultation.upload_expert_opinion(expert, decision, member, opinion)
    return consultation.complete_expert_review(lead, decision, documents=[doc(DocumentType.EXPERT_ADOPTION_STATEMENT)])


def assess_risk(cast, decision, *, level="LOW", third_party=False):
    """T9: the assessor reports (risk points, measures, contingency plan, departments heard); the lead closes RA."""
    lead, assessor = cast[Role.UNDERTAKING_LEAD], cast[Role.RISK_ASSESSOR]
    consultation.open_substage(assessor, decision, Stage.RA)
    consultation.record_risk_assessment(
        assessor,
        decision,
        level=level,
        risk_points="补助标准调整可能引发部分群体不满",
        prevention_measures="提前开展政策解读，设置过渡期",
        contingency_plan="建立舆情监测和信访快速处置机制",
        departments_heard=True,
        third_party=third_party,
        report=doc(DocumentType.RISK_REPORT, level),
        documents=[doc(DocumentType.RISK_PLAN), doc(DocumentType.RISK_EVIDENCE), doc(DocumentType.DEPARTMENT_OPINIONS)],
    )
    documents = []
    if level == "MEDIUM":
        documents.append(doc(DocumentType.RISK_MITIGATION_PLAN))
    if third_party:
        documents.append(doc(DocumentType.COMMISSION_CONTRACT))
    return consultation.complete_risk_assessment(lead, decision, documents=documents)


def skip_expert_review(cast, decision):
    """T6a: close EX NOT_TRIGGERED as not highly specialised (第十九条)."""
    return consultation.close_not_triggered(
        cast[Role.UNDERTAKING_LEAD],
        decision,
        Stage.EX,
        reason_code=rules.NOT_HIGHLY_SPECIALISED,
        reason_text="事项为补助标准调整，不涉及专业性、技术性较强的问题",
    )


def skip_risk_assessment(cast, decision):
    """T6a: close RA NOT_TRIGGERED: no adverse effect on social stability, public safety and the like (第二十二条)."""
    return consultation.close_not_triggered(
        cast[Role.UNDERTAKING_LEAD],
        decision,
        Stage.RA,
        reason_code=rules.NO_STABILITY_IMPACT,
        reason_text="经分析，决策实施不会对社会稳定、公共安全、生态环境等方面造成不利影响",
    )


def skip_all(cast, decision):
    """T6a: close EX and RA NOT_TRIGGERED with valid reasons (PP cannot be skipped, B6)."""
    skip_expert_review(cast, decision)
    return skip_risk_assessment(cast, decision)


def waive_participation(cast, decision, *, code=rules.CONFIDENTIAL_BY_LAW):
    """T6b: waive PP (and HEARING with it): the lead records, the B6 approver approves, the lead signs off."""
    lead = cast[Role.UNDERTAKING_LEAD]
    basis = {
        rules.CONFIDENTIAL_BY_LAW: "《中华人民共和国保守国家秘密法》第九条；《重大行政决策程序暂行条例》第十四条",
        rules.ZJ_ART7_URGENT: "《浙江省重大行政决策程序规定》(省政府令第337号)第七条",
    }[code]
    consultation.record_waiver(
        lead, decision, Stage.PP, reason_code=code, legal_basis=basis, evidence=doc(DocumentType.WAIVER_EVIDENCE)
    )
    consultation.approve_waiver(cast[rules.WAIVER_APPROVER[code]], decision, Stage.PP)
    return consultation.sign_off_waiver(lead, decision, Stage.PP)


def consult(cast, decision, *, risk_level="LOW", hearing=None, expert=True, risk=True, third_party=False):
    """Close PP (DONE), HEARING (held when `hearing`, or when required; else not triggered), EX and RA.

    `expert=False` / `risk=False` close EX / RA NOT_TRIGGERED instead. The decision stays in CONSULTATION.
    """
    participate(cast, decision, hearing=hearing)
    if expert:
        expert_review(cast, decision)
    else:
        skip_expert_review(cast, decision)
    if risk:
        return assess_risk(cast, decision, level=risk_level, third_party=third_party)
    return skip_risk_assessment(cast, decision)
