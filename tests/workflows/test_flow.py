"""The decision's flow gives each person the task that is theirs, and follows the decision wherever it changes.

Decisions are moved with the services (as every page, command and API does); after each committed change
the flow re-routes (`decisions.signals.decision_changed`). The tests read the open tasks: which role,
which organisation, what to do, by when."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from decisions.models import AuditEvent, Decision, Position, Role
from decisions.services import consultation as consultation_service
from decisions.services import documents, legality
from decisions.walkthrough import consultation as consult
from decisions.walkthrough import doc
from decisions.walkthrough import implementation as implementation_walk
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as legality_walk
from decisions.walkthrough import meeting as meeting_walk
from workflows import services, timers
from workflows.flows import DecisionFlow, open_tasks
from workflows.models import DecisionProcess, UnitHead

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed(django_capture_on_commit_callbacks):
    """Run the after-commit routing of whatever the block changed, as a committed transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def tasks(decision):
    process = DecisionProcess.objects.get(decision_id=decision.pk)
    return {t.data["role"]: t for t in open_tasks(process)}


def roles(decision):
    return sorted(tasks(decision))


def test_a_registered_proposal_is_the_offices_task_at_its_organ(open_cast, routed):
    with routed():
        decision = walk.propose(open_cast)
    (task,) = tasks(decision).values()
    assert task.data["role"] == Role.GOV_OFFICE and task.data["anchor"] == open_cast.organ.pk
    assert task.owner_permission == f"workflows.work_gov_office_{open_cast.organ.pk}"
    assert task.flow_task == DecisionFlow.gov_office and task.data["label"] == "不经目录启动决策"


def test_each_stage_goes_to_whoever_must_act_and_the_process_ends_with_the_archive(open_cast, routed):
    lead, justice = open_cast.lead_unit, open_cast.justice
    with routed():
        decision = walk.propose(open_cast)
    with routed():
        decision = walk.initiate(open_cast, decision)
    assert (
        roles(decision) == [Role.UNDERTAKING_LEAD] and tasks(decision)[Role.UNDERTAKING_LEAD].data["anchor"] == lead.pk
    )
    with routed():
        decision = walk.draft(open_cast, decision, answers={"stability_or_safety_impact": True})
        consult.participate(open_cast, decision)
        consult.skip_expert_review(open_cast, decision)
        consultation_service.open_substage(open_cast[Role.RISK_ASSESSOR], decision, "RA")
    # The risk assessor reports while the unit waits to close the stage (第二十二条).
    assert roles(decision) == [Role.RISK_ASSESSOR, Role.UNDERTAKING_LEAD]
    assert tasks(decision)[Role.RISK_ASSESSOR].data["anchor"] == open_cast.organ.pk
    with routed():
        consultation_service.record_risk_assessment(
            open_cast[Role.RISK_ASSESSOR],
            decision,
            level="LOW",
            risk_points="补助标准调整可能引发部分群体不满",
            prevention_measures="提前开展政策解读",
            contingency_plan="建立舆情监测和信访快速处置机制",
            departments_heard=True,
            report=doc("RISK_REPORT"),
            documents=[doc("RISK_PLAN"), doc("RISK_EVIDENCE"), doc("DEPARTMENT_OPINIONS")],
        )
    assert roles(decision) == [Role.UNDERTAKING_LEAD]  # reported: the unit closes the stage
    with routed():
        consultation_service.complete_risk_assessment(open_cast[Role.UNDERTAKING_LEAD], decision)
        decision = legality_walk.submit(open_cast, Decision.objects.get(pk=decision.pk))
    assert (
        roles(decision) == [Role.LEGAL_REVIEWER] and tasks(decision)[Role.LEGAL_REVIEWER].data["anchor"] == justice.pk
    )
    with routed():
        decision = legality.accept_submission(open_cast[Role.LEGAL_REVIEWER], decision)
    # The opinion needs a legal adviser's (第二十八条): the advisers get their task, the reviewer keeps his.
    assert roles(decision) == [Role.LEGAL_ADVISER, Role.LEGAL_REVIEWER]
    review_due = tasks(decision)[Role.LEGAL_REVIEWER].data
    assert review_due["due"] and "第二十六条" in review_due["basis"]
    with routed():
        documents.upload(
            open_cast[Role.LEGAL_ADVISER], decision, "LR", doc("LEGAL_ADVISER_OPINION", "法律意见", signed=True)
        )
    assert roles(decision) == [Role.LEGAL_REVIEWER]
    with routed():
        legality_walk.issue(open_cast, decision)
        decision = legality.proceed_to_meeting(open_cast[Role.UNDERTAKING_LEAD], Decision.objects.get(pk=decision.pk))
    assert roles(decision) == [Role.GOV_OFFICE]
    with routed():
        decision = meeting_walk.decide(open_cast, meeting_walk.schedule(open_cast, decision), Position.APPROVE)
    assert roles(decision) == [Role.GOV_OFFICE, Role.PARTY_LIAISON]
    assert "第三十二条" in tasks(decision)[Role.GOV_OFFICE].data["basis"]  # publish in time
    with routed():
        decision = meeting_walk.publish(open_cast, decision)
        decision = implementation_walk.implement(open_cast, decision)
    assert roles(decision) == [Role.EXECUTOR] and tasks(decision)[Role.EXECUTOR].data["due"]
    with routed():
        implementation_walk.archive(open_cast, decision)
    process = DecisionProcess.objects.get(decision_id=decision.pk)
    assert Decision.objects.get(pk=decision.pk).state == "ARCHIVED"
    assert not open_tasks(process).exists() and process.finished is not None
    # Routing again after every change does not nest tokens: they stay short however long the procedure.
    assert process.task_set.count() > 20 and max(len(str(t.token)) for t in process.task_set.all()) < 30


def test_a_return_sends_the_work_back_to_the_unit_and_resubmission_to_the_reviewer(open_cast, routed):
    with routed():
        decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
        consult.consult(open_cast, decision, expert=False, risk=False)
        decision = legality_walk.submit(open_cast, Decision.objects.get(pk=decision.pk))
    first = tasks(decision)[Role.LEGAL_REVIEWER]
    with routed():
        decision = legality.return_submission(open_cast[Role.LEGAL_REVIEWER], decision, reason="缺少部门协商记录")
    assert roles(decision) == [Role.UNDERTAKING_LEAD]
    first.refresh_from_db()
    assert first.status == "DONE" and first.finished is not None
    with routed():
        legality.resubmit(open_cast[Role.UNDERTAKING_LEAD], decision, documents=[doc("CONSULTATION_RECORD")])
    assert roles(decision) == [Role.LEGAL_REVIEWER] and tasks(decision)[Role.LEGAL_REVIEWER].pk != first.pk


def test_an_unlawful_opinion_goes_back_to_the_unit_for_a_new_draft_and_round(open_cast, routed):
    with routed():
        decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
        consult.consult(open_cast, decision, expert=False, risk=False)
        decision = legality_walk.review(open_cast, Decision.objects.get(pk=decision.pk), outcome="UNLAWFUL")
    assert decision.state == "REVISING" and roles(decision) == [Role.UNDERTAKING_LEAD]


def test_a_deferral_gives_the_office_the_task_of_bringing_it_back(open_cast, routed):
    with routed():
        decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
        consult.consult(open_cast, decision, expert=False, risk=False)
        decision = legality_walk.to_ready_for_meeting(open_cast, legality_walk.review(open_cast, decision))
        decision = meeting_walk.decide(open_cast, meeting_walk.schedule(open_cast, decision), Position.DEFER)
    assert decision.state == "DEFERRED" and roles(decision) == [Role.GOV_OFFICE]
    assert "暂缓后重新提请审议" in tasks(decision)[Role.GOV_OFFICE].data["label"]


# -- who holds a task ------------------------------------------------------------------------------


def test_the_unit_sees_its_task_in_the_queue_claims_it_and_delegates_it_with_a_logged_reason(
    client, open_cast, routed, django_user_model
):
    with routed():
        decision = walk.initiate(open_cast, walk.propose(open_cast))
    task = tasks(decision)[Role.UNDERTAKING_LEAD]
    lead = open_cast[Role.UNDERTAKING_LEAD]
    client.force_login(lead)
    inbox = client.get(reverse("workflows:inbox")).content.decode()
    assert decision.reference in inbox and "本单位待认领" in inbox
    client.force_login(open_cast[Role.LEGAL_REVIEWER])  # another unit: neither sees nor takes it
    assert decision.reference not in client.get(reverse("workflows:inbox")).content.decode()
    assert client.get(reverse("workflows:task", args=[task.pk])).status_code == 403
    assert client.post(reverse("workflows:claim", args=[task.pk])).status_code == 403

    client.force_login(lead)
    assert client.post(reverse("workflows:claim", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.owner == lead and task.status == "ASSIGNED"
    colleague = django_user_model.objects.create_user("lead_colleague", first_name="同事")
    from decisions.models import RoleAssignment

    RoleAssignment.objects.create(user=colleague, organisation=open_cast.lead_unit, role=Role.UNDERTAKING_LEAD)
    client.post(reverse("workflows:delegate", args=[task.pk]), {"to": colleague.pk, "reason": ""})
    task.refresh_from_db()
    assert task.owner == lead  # a delegation without a reason is refused
    client.post(reverse("workflows:delegate", args=[task.pk]), {"to": colleague.pk, "reason": "本人出差，由同事办理"})
    task.refresh_from_db()
    assert task.owner == colleague
    event = AuditEvent.objects.filter(action="task:delegate").get()
    assert event.payload["reason"] == "本人出差，由同事办理" and event.actor == lead
    assert event.decision_id_ref == decision.pk
    page = client.get(reverse("workflows:task", args=[task.pk])).content.decode()
    assert "开始拟订决策草案" in page and reverse("decisions:act", args=[decision.reference, "start-drafting"]) in page


def test_nobody_outside_the_unit_can_receive_a_delegated_task(open_cast, cast_factory, routed):
    with routed():
        decision = walk.initiate(open_cast, walk.propose(open_cast))
    task = tasks(decision)[Role.UNDERTAKING_LEAD]
    from decisions.rules import ProcedureRefused

    with pytest.raises(ProcedureRefused) as refused:
        services.delegate(open_cast[Role.UNDERTAKING_LEAD], task, cast_factory()[Role.UNDERTAKING_LEAD], reason="x")
    assert refused.value.code == "ROLE_NOT_PERMITTED"


# -- deadlines, reminders, escalation ------------------------------------------------------------------


def test_reminders_come_before_the_deadline_and_escalation_after_it_once_each(open_cast, routed, settings):
    settings.JUECE_REMIND_DAYS, settings.JUECE_ESCALATE_DAYS = 3, 3
    with routed():
        decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
        consult.consult(open_cast, decision, expert=False, risk=False)
        decision = legality_walk.submit(open_cast, Decision.objects.get(pk=decision.pk))
        decision = legality.accept_submission(open_cast[Role.LEGAL_REVIEWER], decision)
        documents.upload(open_cast[Role.LEGAL_ADVISER], decision, "LR", doc("LEGAL_ADVISER_OPINION", signed=True))
    task = tasks(decision)[Role.LEGAL_REVIEWER]
    from datetime import date

    due = date.fromisoformat(task.data["due"])
    reviewer, office = open_cast[Role.LEGAL_REVIEWER], open_cast[Role.GOV_OFFICE]
    for user in (reviewer, office):
        user.email = f"{user.username}@example.gov.cn"
        user.save()
    head = open_cast.extra["gov_office_2"]
    head.email = "head@example.gov.cn"
    head.save()
    UnitHead.objects.create(organisation=open_cast.justice, user=head)

    assert timers.run(due - timedelta(days=4)) == []
    (reminder,) = timers.run(due - timedelta(days=3))
    assert reminder.kind == "remind" and reminder.recipients == (reviewer.pk,)
    assert mail.outbox[-1].to == [reviewer.email] and "即将到期" in mail.outbox[-1].subject
    assert timers.run(due - timedelta(days=1)) == [] and timers.run(due) == []  # a run repeats nothing
    (late,) = timers.run(due + timedelta(days=1))
    assert late.kind == "head" and mail.outbox[-1].to == ["head@example.gov.cn"]
    (office_notice,) = timers.run(due + timedelta(days=4))
    assert office_notice.kind == "office" and office.email in mail.outbox[-1].to
    task.refresh_from_db()
    assert task.data["escalation"] == 2
    assert AuditEvent.objects.filter(action__in=["task:remind", "task:head", "task:office"]).count() == 3


def test_a_finished_task_is_never_reminded(open_cast, routed):
    with routed():
        decision = walk.propose(open_cast)
    with routed():
        decision = walk.draft(open_cast, walk.initiate(open_cast, decision))
    process = DecisionProcess.objects.get(decision_id=decision.pk)
    closed = process.task_set.filter(flow_task_type="HUMAN").exclude(finished=None)
    assert closed.exists()
    closed.update(data={"role": "GOV_OFFICE", "due": "2000-01-01"})
    assert all(n.task_id not in set(closed.values_list("pk", flat=True)) for n in timers.run())


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PUBLIC])
def test_every_role_opens_and_claims_only_the_tasks_of_its_own_place(client, open_cast, cast_factory, routed, role):
    """Against every open task of a decision in legality review (reviewer and advisers) and of one listed (office)."""
    with routed():
        reviewing = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
        consult.consult(open_cast, reviewing, expert=False, risk=False)
        reviewing = legality_walk.submit(open_cast, Decision.objects.get(pk=reviewing.pk))
        reviewing = legality.accept_submission(open_cast[Role.LEGAL_REVIEWER], reviewing)
    with routed():
        proposed = walk.propose(open_cast, title="第二项")
    open_ = [*tasks(reviewing).values(), *tasks(proposed).values()]
    assert sorted(t.data["role"] for t in open_) == [Role.GOV_OFFICE, Role.LEGAL_ADVISER, Role.LEGAL_REVIEWER]
    for user in (open_cast[role], cast_factory(profile=open_cast.organ.profile_code)[role]):
        if user is None:
            continue
        client.force_login(user)
        for task in open_:
            ours = user in open_cast.users.values() and task.data["role"] == role
            assert client.get(reverse("workflows:task", args=[task.pk])).status_code == (200 if ours else 403)
            if not ours:
                assert client.post(reverse("workflows:claim", args=[task.pk])).status_code == 403


def test_the_inbox_lists_the_soonest_deadline_first_and_pages_a_long_queue(client, open_cast, routed, monkeypatch):
    from workflows import views

    monkeypatch.setattr(views, "INBOX_PAGE_SIZE", 2)
    with routed():
        decisions = [walk.propose(open_cast, title=f"第{n}项决策") for n in range(3)]
    queued = [tasks(d)[Role.GOV_OFFICE] for d in decisions]
    for task, due in zip(queued, ["2026-03-01", None, "2026-01-15"], strict=True):
        task.data = {**task.data, "due": due} if due else {k: v for k, v in task.data.items() if k != "due"}
        task.save()
    client.force_login(open_cast[Role.GOV_OFFICE])
    first = client.get(reverse("workflows:inbox")).content.decode()
    second = client.get(reverse("workflows:inbox"), {"queue": 2}).content.decode()
    refs = [d.reference for d in decisions]
    # 15 January before 1 March on the first page; the task without a deadline on the second
    assert refs[2] in first and refs[0] in first and refs[1] not in first
    assert first.index(refs[2]) < first.index(refs[0])
    assert refs[1] in second and refs[0] not in second
    assert "第 1 / 2 页" in first and "<strong>3</strong>" in first
