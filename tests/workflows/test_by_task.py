"""Whole decisions driven by task: each step is taken by the person whose inbox shows it, from its task page.

A `Desk` is one person at work: it finds the decision's task among their tasks or their unit's queue,
claims it, checks that the form is offered on the task's page, and sends the form (through the same
view a browser uses). After each committed step the flow re-routes, so the next person's desk finds
the next task. Covered: all five procedures; a waiver; a return for supplements; an unlawful opinion
followed by revision and a new round; a deferral."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from decisions import actions
from decisions.actions.meeting import meeting_members
from decisions.models import Decision, DecisionState, ExpertMember, Meeting, Role
from decisions.services import consultation
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import pdf_bytes

pytestmark = pytest.mark.django_db

NO = dict.fromkeys(
    [
        "affects_specific_group",
        "public_concern",
        "direct_vital_interest",
        "major_disagreement",
        "hearing_required_by_law",
        "highly_technical",
        "stability_or_safety_impact",
        "market_affecting",
        "confidential_by_law",
        "major_interest_readjustment",
    ],
    "False",
)
OPINION = {
    "authority": "属于本级人民政府法定职权范围",
    "procedure": "已依法履行相关程序",
    "content": "内容符合法律、法规、规章和国家政策",
}


def iso(day):
    return day.isoformat()


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


class Desk:
    """One person working through their inbox."""

    def __init__(self, client, user, commit):
        self.client, self.user, self.commit = client, user, commit

    def task(self, decision):
        """Return the open task of this person (or their unit) on `decision`, claimed by them."""
        self.client.force_login(self.user)
        page = self.client.get(reverse("workflows:inbox"))
        rows = [r for r in page.context["mine"].rows + page.context["queue"].rows if r.decision.pk == decision.pk]
        assert rows, (
            f"{self.user.username} has no task on {decision.reference} ({Decision.objects.get(pk=decision.pk).state})"
        )
        task = rows[0].task
        if task.owner_id is None:
            with self.commit():
                assert self.client.post(reverse("workflows:claim", args=[task.pk])).status_code == 302
        return task

    def do(self, decision, action, data=None):
        """Take `action` from this person's task on the decision; fail with the page's errors if refused."""
        task = self.task(decision)
        offered = [a.name for a in self.client.get(reverse("workflows:task", args=[task.pk])).context["actions"]]
        assert action in offered, f"{action} is not offered to {self.user.username}: {offered}"
        form = actions.REGISTRY[action]
        data = dict(data or {})
        for name, field in form.base_fields.items():
            if isinstance(field, actions.UploadField) and field.required and name not in data:
                data[name] = pdf(f"{name}.pdf")
        with self.commit():
            response = self.client.post(reverse("decisions:act", args=[decision.reference, action]), data)
        if response.status_code != 302:
            form = response.context["form"]
            raise AssertionError(f"{action} refused: {form.errors.as_text()}")
        return Decision.objects.get(pk=decision.pk)


class Desks(dict):
    """Everyone's desk, by role, and the cast they belong to."""


@pytest.fixture
def desks(client, open_cast, django_capture_on_commit_callbacks):
    commit = lambda: django_capture_on_commit_callbacks(execute=True)  # noqa: E731
    found = Desks({role: Desk(client, open_cast[role], commit) for role in Role.values if role != Role.PUBLIC})
    found.cast = open_cast
    return found, commit


def registered(open_cast, commit):
    with commit():
        return walk.propose(open_cast)


def started(desks, decision):
    office, lead = desks[Role.GOV_OFFICE], desks[Role.UNDERTAKING_LEAD]
    office.do(decision, "start-without-catalogue", {"lead_unit": desks.cast.lead_unit.pk})
    lead.do(decision, "start-drafting")
    lead.do(
        decision,
        "drafting-records",
        {
            "research_report": pdf(),
            "law_policy_list": pdf(),
            "consultation_record": pdf(),
            "draft_explanation": pdf(),
        },
    )
    lead.do(decision, "draft-version", {"change_summary": "初稿"})


def comment_period(desks, decision):
    lead = desks[Role.UNDERTAKING_LEAD]
    lead.do(decision, "open-participation")
    today = consultation.today()
    lead.do(
        decision,
        "comment-notice",
        {
            "channels": ["GOV_WEBSITE"],
            "publish_date": iso(today - timedelta(days=35)),
            "deadline_date": iso(today - timedelta(days=2)),
            "includes_draft": "on",
            "includes_explanation": "on",
            "how_to_comment": "通过政府网站留言提出意见",
            "comment_notice": pdf(),
            "publication_proof": pdf(),
        },
    )
    lead.do(
        decision,
        "not-triggered-hearing",
        {"reason_code": "OPTIONAL_NOT_HELD", "reason_text": "法律、法规、规章未要求听证，已公开征求意见"},
    )
    lead.do(decision, "complete-participation", {"opinion_summary": pdf(), "adoption_statement": pdf()})


def legality_review(desks, decision, outcome="LAWFUL", *, action="submit-for-legality-review"):
    lead, reviewer = desks[Role.UNDERTAKING_LEAD], desks[Role.LEGAL_REVIEWER]
    decision = lead.do(decision, action)
    decision = reviewer.do(decision, "accept-submission")
    decision = desks[Role.LEGAL_ADVISER].do(decision, "legal-adviser-opinion")
    return reviewer.do(decision, "issue-legality-opinion", {"outcome": outcome, **OPINION})


def meeting(desks, decision, outcome, *, title):
    office = desks[Role.GOV_OFFICE]
    date = timezone.localdate() + timedelta(days=21)
    present = list(meeting_members(decision.organ))
    office.do(
        decision,
        "create-meeting",
        {"meeting_type": "EXECUTIVE", "title": title, "date": iso(date), "members_present": [u.pk for u in present]},
    )
    held = Meeting.objects.get(title=title)
    decision = office.do(decision, "schedule-for-meeting", {"meeting": held.pk})
    chief = next(u for u in present if u.role_assignments.filter(role=Role.CHIEF).exists())
    for member in [u for u in present if u != chief] + [chief]:
        statement = {"member": member.pk, "position": outcome, "text": f"{member.first_name}：意见为{outcome}"}
        if member == chief:
            statement["is_chief"] = "on"
        decision = office.do(decision, "record-statement", statement)
    outcome_record = {
        "outcome": outcome,
        "controllability_judgement": "CONTROLLABLE",  # asked only where a risk assessment was done (第二十四条)
        "deliberation_request": pdf(),
        "meeting_notice": pdf(),
    }
    return office.do(decision, "record-meeting-outcome", outcome_record)


def publication(desks, decision):
    liaison = desks[Role.PARTY_LIAISON]
    today = iso(timezone.localdate())
    liaison.do(decision, "party-report", {"reported_on": today})
    liaison.do(decision, "party-reply", {"agrees": "True", "reply_on": today})
    form = actions.REGISTRY["publish"](decision=Decision.objects.get(pk=decision.pk), user=None)
    proofs = {name: pdf() for name, field in form.fields.items() if isinstance(field, actions.UploadField)}
    channels = form.fields["channels"].initial or [c for c, _label in form.fields["channels"].choices]
    return desks[Role.GOV_OFFICE].do(decision, "publish", {"channels": channels, **proofs})


def test_a_decision_with_all_five_procedures_is_taken_by_task_from_start_to_publication(open_cast, desks):
    desks, commit = desks
    decision = registered(open_cast, commit)
    started(desks, decision)
    lead = desks[Role.UNDERTAKING_LEAD]
    lead.do(decision, "open-consultation", {**NO, "highly_technical": "True", "stability_or_safety_impact": "True"})
    comment_period(desks, decision)
    # Expert review: the unit forms the panel, each expert's opinion comes from the expert's own task (第十九条).
    lead.do(decision, "open-expert-review")
    lead.do(decision, "expert-review-mode", {"mode": "MEETING", "selection_record": pdf()})
    lead.do(
        decision,
        "add-expert",
        {
            "expert_name": "交通规划专家",
            "no_interest_declared": "on",
            "declaration": pdf(),
            "holds_dissenting_view": "on",
        },
    )
    for member in ExpertMember.objects.filter(stage_record__decision=decision):
        desks[Role.EXPERT].do(decision, "expert-opinion", {"member": member.pk, "opinion": pdf(), "signed": "on"})
    lead.do(decision, "complete-expert-review", {"adoption_statement": pdf()})
    # Risk assessment: opened and reported by the assessor, closed by the unit (第二十二、二十三条).
    assessor = desks[Role.RISK_ASSESSOR]
    lead.do(decision, "open-risk-assessment")
    assessor.do(
        decision,
        "risk-assessment",
        {
            "level": "LOW",
            "risk_points": "补助标准调整可能引发部分群体不满",
            "prevention_measures": "提前开展政策解读",
            "contingency_plan": "建立舆情监测和信访快速处置机制",
            "departments_heard": "on",
            "report": pdf(),
            "plan": pdf(),
            "evidence": pdf(),
            "department_opinions": pdf(),
        },
    )
    lead.do(decision, "complete-risk-assessment")
    decision = legality_review(desks, decision)
    decision = lead.do(decision, "proceed-to-meeting")
    decision = meeting(desks, decision, "APPROVE", title="第一次常务会议")
    assert decision.state == DecisionState.DECIDED
    decision = publication(desks, decision)
    assert decision.state == DecisionState.PUBLISHED
    statuses = {r.stage: r.status for r in decision.stage_records.filter(superseded_by__isnull=True)}
    assert {statuses[s] for s in ("PP", "EX", "RA", "LR", "CD")} == {"DONE"}


def test_a_waiver_a_return_an_unlawful_opinion_with_revision_and_a_deferral_are_each_routed(open_cast, desks):
    desks, commit = desks
    decision = registered(open_cast, commit)
    started(desks, decision)
    lead, office, reviewer = desks[Role.UNDERTAKING_LEAD], desks[Role.GOV_OFFICE], desks[Role.LEGAL_REVIEWER]
    confidential = {**NO, "confidential_by_law": "True", "confidential_basis": "《中华人民共和国保守国家秘密法》第九条"}
    lead.do(decision, "open-consultation", confidential)
    # Public participation waived (依法不予公开): recorded by the unit, approved by the office, signed off (T6b).
    lead.do(
        decision,
        "waiver-participation",
        {
            "reason_code": "CONFIDENTIAL_BY_LAW",
            "legal_basis": "《中华人民共和国保守国家秘密法》第九条",
            "evidence": pdf(),
        },
    )
    office.do(decision, "approve-waiver", {"stage": "PP"})
    lead.do(decision, "sign-off-waiver", {"stage": "PP"})
    lead.do(
        decision, "not-triggered-expert-review", {"reason_code": "NOT_HIGHLY_SPECIALISED", "reason_text": "专业性不强"}
    )
    lead.do(
        decision,
        "not-triggered-risk-assessment",
        {"reason_code": "NO_STABILITY_OR_SAFETY_IMPACT", "reason_text": "不会对社会稳定、公共安全等方面造成不利影响"},
    )
    # A return for supplements goes back to the unit's desk, and the resubmission to the reviewer's (T11, T12).
    decision = lead.do(decision, "submit-for-legality-review")
    decision = reviewer.do(decision, "return-submission", {"reason": "请补充部门协商记录"})
    assert decision.state == DecisionState.LEGAL_REVIEW_RETURNED
    decision = lead.do(decision, "resubmit", {"consultation_record": pdf()})
    decision = reviewer.do(decision, "accept-submission")
    decision = desks[Role.LEGAL_ADVISER].do(decision, "legal-adviser-opinion")
    # An unlawful opinion: the unit revises, the reviewer judges the new draft, a new round (T15, T16).
    decision = reviewer.do(decision, "issue-legality-opinion", {"outcome": "UNLAWFUL", **OPINION})
    assert decision.state == DecisionState.REVISING
    decision = lead.do(decision, "draft-version", {"change_summary": "根据审查意见修改"})
    decision = reviewer.do(decision, "assess-revised-draft", {"substantive_change": "True", "reason": "修改了决策内容"})
    decision = legality_review(desks, decision, action="resubmit-new-round")
    decision = lead.do(decision, "proceed-to-meeting")
    # Deferred at the meeting, brought back by the office, approved at the next one (T20 DEFER, T20a).
    decision = meeting(desks, decision, "DEFER", title="第一次常务会议")
    assert decision.state == DecisionState.DEFERRED
    decision = office.do(decision, "bring-back-after-deferral")
    decision = meeting(desks, decision, "APPROVE", title="第二次常务会议")
    assert decision.state == DecisionState.DECIDED
