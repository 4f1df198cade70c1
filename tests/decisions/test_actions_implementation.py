"""The forms after publication, through the pages (decisions/actions/implementation.py).

The office names the executor; the chief alone suspends, and only when it is urgent; an evaluation
is never done by a unit that assessed the decision before it was made; a stop goes through its
legality opinion and a meeting; nothing is archived while a co-unit has records to hand over.
A refusal names its rule and article and leaves nothing behind."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from decisions import actions
from decisions.actions import implementation as implementation_actions
from decisions.models import (
    Decision,
    DecisionAdjustment,
    Document,
    DocumentType,
    HandoverTask,
    ImplementationClosure,
    LegalityReview,
    MeetingStatement,
    Position,
    PostEvaluation,
    Role,
    Stage,
    StopDecision,
    Suspension,
)
from decisions.walkthrough import consultation as walk_consultation
from decisions.walkthrough import implementation as walk_impl
from decisions.walkthrough import initiation as walk_init
from decisions.walkthrough import legality as walk_legal
from decisions.walkthrough import meeting as walk_meeting
from decisions.walkthrough import pdf_bytes
from tests.records import record_events

pytestmark = pytest.mark.django_db


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def act(decision, name):
    return reverse("decisions:act", args=[decision.reference, name])


def fresh(decision):
    return Decision.objects.get(pk=decision.pk)


def decide(cast, outcome=Position.APPROVE, full=False):
    """Return a decision through the meeting; `full`: with an expert review and a risk assessment by the
    cast's third party (the pre-decision assessor of 第三十六条第二款)."""
    decision = walk_init.draft(cast, walk_init.initiate(cast, walk_init.propose(cast)))
    walk_consultation.consult(cast, decision, expert=full, risk=full)
    walk_legal.review(cast, decision)
    return walk_meeting.decide(cast, walk_legal.to_ready_for_meeting(cast, decision), outcome)


@pytest.fixture
def published(open_cast):
    return walk_meeting.publish(open_cast, decide(open_cast))


@pytest.fixture
def implementing(open_cast, published):
    return walk_impl.implement(open_cast, published)


def saved(decision):
    """What a refused or invalid form must leave unchanged."""
    d = fresh(decision)
    return (
        d.state,
        d.suspended,
        d.executor_id,
        d.in_force_version_id,
        Document.objects.filter(decision=d).count(),
        Suspension.objects.filter(decision=d).count(),
        PostEvaluation.objects.filter(decision=d).count(),
        LegalityReview.objects.filter(decision=d).count(),
        MeetingStatement.objects.filter(agenda_item__decision=d).count(),
        HandoverTask.objects.filter(decision=d, closed_at__isnull=True).count(),
        record_events().count(),
    )


def errors_of(response):
    return " ".join(response.context["form"].non_field_errors())


def as_role(client, cast, role):
    client.force_login(cast[role])
    return client


# -- T23 and the execution record ----------------------------------------------------------------


def test_the_office_names_an_executor_among_the_organs_departments_and_implementation_starts(
    client, open_cast, published
):
    as_role(client, open_cast, Role.GOV_OFFICE)
    form = client.get(act(published, "start-implementation")).context["form"]
    choices = set(form.fields["executor"].queryset)
    assert open_cast.co_units[0] in choices and open_cast.third_party not in choices and open_cast.organ not in choices
    assert form.fields["executor"].initial == open_cast.lead_unit.pk
    due = timezone.localdate() + timedelta(days=90)
    response = client.post(
        act(published, "start-implementation"),
        {
            "executor": open_cast.co_units[0].pk,
            "report_every_months": "3",
            "first_report_due": str(due),
            "designation": pdf("执行单位确定文件.pdf"),
        },
    )
    assert response.status_code == 302
    decision = fresh(published)
    assert decision.state == "IMPLEMENTING" and decision.executor == open_cast.co_units[0]
    assert decision.report_every_months == 3 and decision.first_report_due == due
    record = decision.current_record(Stage.IMPL)
    assert record.documents.filter(doc_type=DocumentType.EXECUTOR_DESIGNATION).count() == 1


def test_a_schedule_without_its_period_due_date_or_designation_names_each_field_and_saves_nothing(
    client, open_cast, published
):
    before = saved(published)
    as_role(client, open_cast, Role.GOV_OFFICE)
    response = client.post(
        act(published, "start-implementation"),
        {
            "executor": open_cast.lead_unit.pk,
            "report_every_months": "0",
            "first_report_due": str(timezone.localdate() - timedelta(days=1)),
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"report_every_months", "first_report_due", "designation"}
    assert "不得早于今日" in str(errors["first_report_due"])
    assert saved(published) == before


def test_the_executor_reports_on_execution_and_on_a_problem_found(client, open_cast, implementing):
    as_role(client, open_cast, Role.EXECUTOR)
    response = client.post(
        act(implementing, "execution-report"), {"report": pdf("执行情况报告.pdf"), "period": "上半年"}
    )
    assert response.status_code == 302
    response = client.post(act(implementing, "execution-issue"), {"report": pdf("问题报告.pdf"), "description": "x"})
    assert response.status_code == 200 and "situation" in response.context["form"].errors
    data = {"situation": "MAJOR_CHANGE", "report": pdf("问题报告.pdf"), "description": "补助对象范围发生重大变化"}
    assert client.post(act(implementing, "execution-issue"), data).status_code == 302
    record = fresh(implementing).current_record(Stage.IMPL)
    assert {d.doc_type for d in record.documents.all()} >= {DocumentType.EXECUTION_REPORT, DocumentType.ISSUE_REPORT}


def test_record_keeping_of_execution_is_offered_only_while_a_decision_text_is_in_force(open_cast, implementing):
    form = actions.REGISTRY["execution-report"]
    assert form.offered(implementing, {Role.EXECUTOR})
    first_run = walk_init.draft(open_cast, walk_init.initiate(open_cast, walk_init.propose(open_cast)))
    assert first_run.state == "CONSULTATION" and not form.offered(first_run, {Role.EXECUTOR})
    adjusted = walk_impl.adjust(open_cast, implementing)
    assert adjusted.state == "DRAFTING" and form.offered(adjusted, {Role.EXECUTOR})  # the old text is still in force


# -- T24 suspend, T25 resume ---------------------------------------------------------------------


def suspension_data(urgent):
    return {
        "situation": "PROBLEM",
        "urgent": str(urgent),
        "reason": "执行中发现重大问题",
        "document": pdf("中止执行决定.pdf"),
    }


@pytest.mark.parametrize("role", [Role.GOV_OFFICE, Role.EXECUTOR, Role.MEETING_MEMBER])
def test_nobody_but_the_chief_may_suspend(client, open_cast, implementing, role):
    before = saved(implementing)
    as_role(client, open_cast, role)
    assert client.get(act(implementing, "suspend")).status_code == 403
    assert client.post(act(implementing, "suspend"), suspension_data(True)).status_code == 403
    assert saved(implementing) == before


def test_the_chief_suspends_only_when_it_is_urgent_and_resumes(client, open_cast, implementing):
    before = saved(implementing)
    as_role(client, open_cast, Role.CHIEF)
    response = client.post(act(implementing, "suspend"), suspension_data(False))
    assert response.status_code == 409
    errors = errors_of(response)
    assert "SUSPENSION_NOT_ALLOWED" in errors and "第三十七条" in errors and "情况紧急" in errors
    assert saved(implementing) == before
    assert client.post(act(implementing, "suspend"), suspension_data(True)).status_code == 302
    decision = fresh(implementing)
    assert decision.state == "SUSPENDED" and decision.suspended
    suspension = Suspension.objects.get(decision=decision)
    assert suspension.urgent and suspension.document.doc_type == DocumentType.SUSPENSION_DECISION
    assert not actions.REGISTRY["suspend"].offered(decision, {Role.CHIEF})
    assert actions.REGISTRY["resume"].offered(decision, {Role.CHIEF})
    assert client.post(act(decision, "resume"), {"reason": "问题已妥善处理"}).status_code == 302
    assert fresh(decision).state == "IMPLEMENTING" and Suspension.objects.get(decision=decision).ended_by == "RESUME"


# -- T26 post-evaluation -------------------------------------------------------------------------


def evaluation_data(evaluator, **extra):
    return {
        "trigger": "3",
        "evaluator": evaluator.pk,
        "plan_public_participation": "on",
        "plan_npc_cppcc_participation": "on",
        "start_decision": pdf("后评估启动决定.pdf"),
        "plan": pdf("后评估方案.pdf"),
        **extra,
    }


def test_a_post_evaluation_by_the_unit_that_assessed_the_risk_is_refused_citing_article_36(client, open_cast):
    decision = walk_impl.implement(open_cast, walk_meeting.publish(open_cast, decide(open_cast, full=True)))
    before = saved(decision)
    as_role(client, open_cast, Role.GOV_OFFICE)
    form = client.get(act(decision, "start-post-evaluation")).context["form"]
    assert open_cast.third_party in form.fields["evaluator"].queryset  # a registered third party may be chosen
    assert open_cast.third_party.name in str(form.fields["evaluator"].help_text)  # … but not this one
    response = client.post(
        act(decision, "start-post-evaluation"), evaluation_data(open_cast.third_party, commissioned="on")
    )
    assert response.status_code == 409
    errors = errors_of(response)
    assert "POST_EVALUATOR_NOT_INDEPENDENT" in errors and "第三十六条第二款" in errors
    assert saved(decision) == before


def test_an_independent_evaluation_runs_through_the_forms_and_implementation_goes_on(client, open_cast, implementing):
    evaluator = open_cast[Role.POST_EVALUATOR].role_assignments.get(role=Role.POST_EVALUATOR).organisation
    as_role(client, open_cast, Role.GOV_OFFICE)
    data = evaluation_data(evaluator)
    del data["plan_npc_cppcc_participation"]
    response = client.post(act(implementing, "start-post-evaluation"), data)
    assert response.status_code == 409 and "第三十六条第三款" in errors_of(response)
    assert client.post(act(implementing, "start-post-evaluation"), evaluation_data(evaluator)).status_code == 302
    assert fresh(implementing).state == "POST_EVALUATION"
    as_role(client, open_cast, Role.POST_EVALUATOR)
    response = client.post(
        act(implementing, "post-evaluation-report"),
        {"report": pdf("后评估报告.pdf"), "participation": pdf("参与记录.pdf")},
    )
    assert response.status_code == 302
    as_role(client, open_cast, Role.GOV_OFFICE)
    response = client.post(act(implementing, "close-post-evaluation"), {"conclusion": "决策效果良好，继续执行"})
    assert response.status_code == 302
    assert fresh(implementing).state == "IMPLEMENTING"
    evaluation = PostEvaluation.objects.get(decision=implementing)
    assert evaluation.evaluator == evaluator and evaluation.independence_check["independent"]
    assert evaluation.conclusion == "决策效果良好，继续执行"


# -- T27 adjust, T27b abandon --------------------------------------------------------------------


def test_an_adjustment_re_runs_the_procedure_and_can_be_abandoned(client, open_cast, implementing):
    in_force = fresh(implementing).in_force_version
    as_role(client, open_cast, Role.GOV_OFFICE)
    response = client.post(act(implementing, "adjust"), {"reason": "调整", "draft": pdf("调整草案.pdf")})
    assert response.status_code == 200 and set(response.context["form"].errors) == {"decision_document"}
    response = client.post(
        act(implementing, "adjust"),
        {
            "reason": "后评估报告建议调整补助标准",
            "draft": pdf("调整草案.pdf"),
            "decision_document": pdf("调整决定.pdf"),
        },
    )
    assert response.status_code == 302
    decision = fresh(implementing)
    assert decision.state == "DRAFTING" and decision.current_draft != in_force and decision.in_force_version == in_force
    response = client.post(
        act(decision, "abandon-adjustment"),
        {"reason": "调整方案不再必要", "decision_document": pdf("放弃调整决定.pdf")},
    )
    assert response.status_code == 302
    decision = fresh(decision)
    assert decision.state == "IMPLEMENTING" and decision.in_force_version == in_force
    assert DecisionAdjustment.objects.get(decision=decision).closed_as == "ABANDONED"


# -- T28 stop ------------------------------------------------------------------------------------


def statement_rows(cast, position=Position.APPROVE):
    """The rows of the meeting's statements: every member present, then the chief (第三十条)."""
    speakers = [*cast.extra["members"], cast[Role.CHIEF]]
    rows = {}
    for n, member in enumerate(speakers, start=1):
        rows.update({f"member_{n}": member.pk, f"position_{n}": position, f"text_{n}": f"第{n}位：同意停止执行"})
    return rows


def stop_statements(decision):
    return MeetingStatement.objects.filter(agenda_item__decision=decision, agenda_item__subject="STOP")


def test_a_stop_goes_through_its_legality_opinion_and_a_meeting_before_it_is_taken(client, open_cast, implementing):
    as_role(client, open_cast, Role.GOV_OFFICE)
    before = saved(implementing)
    response = client.post(act(implementing, "stop"), {"reason": "客观情况发生重大变化", "stop_decision": pdf()})
    assert response.status_code == 409
    errors = errors_of(response)
    assert "ADJUSTMENT_REQUIRES_PROCEDURE" in errors and "第三十七条" in errors
    assert saved(implementing) == before

    as_role(client, open_cast, Role.LEGAL_ADVISER)
    assert client.post(act(implementing, "stop-review-document"), {"opinion": pdf("法律意见.pdf")}).status_code == 302
    as_role(client, open_cast, Role.LEGAL_REVIEWER)
    opinion = {"outcome": "LAWFUL", "authority": "属于本机关职权", "procedure": "程序合法", "opinion": pdf()}
    response = client.post(act(implementing, "stop-legality-opinion"), opinion)
    assert response.status_code == 200 and set(response.context["form"].errors) == {"content"}
    opinion.update(content="停止执行不违反法律法规", opinion=pdf("合法性审查意见书.pdf"))
    assert client.post(act(implementing, "stop-legality-opinion"), opinion).status_code == 302

    meeting = walk_impl.stop_meeting(open_cast)
    as_role(client, open_cast, Role.GOV_OFFICE)
    form = client.get(act(implementing, "stop-meeting-outcome")).context["form"]
    assert meeting in form.fields["meeting"].queryset
    assert "行政首长" in dict(form.fields["member_1"].choices)[open_cast[Role.CHIEF].pk]
    base = {"meeting": meeting.pk, "outcome": Position.APPROVE, "minutes": pdf("会议纪要.pdf")}
    # The chief speaking before the others is the law's concern (第三十条), answered by the service.
    rows = statement_rows(open_cast)
    chief_first = {**rows, "member_1": rows[f"member_{len(open_cast.extra['members']) + 1}"]}
    chief_first[f"member_{len(open_cast.extra['members']) + 1}"] = rows["member_1"]
    response = client.post(act(implementing, "stop-meeting-outcome"), {**base, **chief_first})
    assert response.status_code == 409 and "CHIEF_NOT_LAST" in errors_of(response)
    assert not stop_statements(implementing).exists()
    base["minutes"] = pdf("会议纪要.pdf")
    response = client.post(act(implementing, "stop-meeting-outcome"), {**base, **statement_rows(open_cast)})
    assert response.status_code == 302
    statements = stop_statements(implementing).order_by("seq")
    assert [s.member for s in statements] == [*open_cast.extra["members"], open_cast[Role.CHIEF]]
    assert statements.last().is_chief and statements.first().text == "第1位：同意停止执行"

    response = client.post(
        act(implementing, "stop"), {"reason": "客观情况发生重大变化", "stop_decision": pdf("停止执行决定.pdf")}
    )
    assert response.status_code == 302
    decision = fresh(implementing)
    assert decision.state == "STOPPED" and decision.in_force_version is None
    stop = StopDecision.objects.get(decision=decision)
    assert stop.legality_review.outcome == "LAWFUL" and stop.collective_outcome.outcome == Position.APPROVE


def test_a_statement_row_without_its_speaker_or_position_is_refused_at_its_field(client, open_cast, implementing):
    meeting = walk_impl.stop_meeting(open_cast)
    before = saved(implementing)
    as_role(client, open_cast, Role.GOV_OFFICE)
    data = {"meeting": meeting.pk, "outcome": Position.APPROVE, "minutes": pdf("会议纪要.pdf")}
    response = client.post(act(implementing, "stop-meeting-outcome"), data)
    assert response.status_code == 200 and "member_1" in response.context["form"].errors  # no statement at all
    data.update(member_1=open_cast.extra["members"][0].pk, text_2="我同意", minutes=pdf("会议纪要.pdf"))
    response = client.post(act(implementing, "stop-meeting-outcome"), data)
    errors = response.context["form"].errors
    assert set(errors) == {"position_1", "member_2"}
    assert saved(implementing) == before


# -- hand-over, closure and archive --------------------------------------------------------------


def test_a_rejected_decision_is_archived_only_after_the_archivist_receives_every_co_unit_hand_over(client, open_cast):
    decision = decide(open_cast, Position.REJECT)
    assert decision.state == "REJECTED"
    open_tasks = list(HandoverTask.objects.filter(decision=decision, closed_at__isnull=True).order_by("id"))
    assert open_tasks and {t.unit for t in open_tasks} <= set(open_cast.co_units)
    before = saved(decision)
    as_role(client, open_cast, Role.ARCHIVIST)
    response = client.post(act(decision, "archive"), {"archive_index": pdf("归档目录.pdf")})
    assert response.status_code == 409
    errors = errors_of(response)
    assert "COUNIT_HANDOVER_OPEN" in errors and "第三十三条" in errors
    assert saved(decision) == before

    assert actions.REGISTRY["close-handover"].offered(decision, {Role.ARCHIVIST})  # a closed decision too (P7 (3))
    form = client.get(act(decision, "close-handover")).context["form"]
    assert list(form.fields["task"].queryset) == open_tasks
    response = client.post(act(decision, "close-handover"), {"task": open_tasks[0].pk})
    assert response.status_code == 200 and "record" in response.context["form"].errors
    for task in open_tasks:
        response = client.post(act(decision, "close-handover"), {"task": task.pk, "record": pdf("移交记录.pdf")})
        assert response.status_code == 302
    assert not actions.REGISTRY["close-handover"].offered(decision, {Role.ARCHIVIST})
    task = HandoverTask.objects.get(pk=open_tasks[0].pk)
    assert task.closed_by == open_cast[Role.ARCHIVIST] and task.document.doc_type == DocumentType.HANDOVER_RECORD

    assert client.post(act(decision, "archive"), {"archive_index": pdf("归档目录.pdf")}).status_code == 302
    assert fresh(decision).state == "ARCHIVED"


def test_implementation_is_closed_by_the_office_and_archived_by_the_archivist(client, open_cast, implementing):
    walk_impl.close_handovers(open_cast, implementing)
    as_role(client, open_cast, Role.ARCHIVIST)
    refused = client.post(act(implementing, "archive-after-implementation"), {"archive_index": pdf("归档目录.pdf")})
    assert refused.status_code == 409 and "须先由政府办公室记录执行终结" in errors_of(refused)
    as_role(client, open_cast, Role.GOV_OFFICE)
    response = client.post(
        act(implementing, "implementation-closure"), {"reason": "COMPLETED", "document": pdf("执行终结记录.pdf")}
    )
    assert response.status_code == 302
    assert ImplementationClosure.objects.get(decision=implementing).reason == "COMPLETED"
    as_role(client, open_cast, Role.ARCHIVIST)
    response = client.post(act(implementing, "archive-after-implementation"), {"archive_index": pdf("归档目录.pdf")})
    assert response.status_code == 302
    decision = fresh(implementing)
    assert decision.state == "ARCHIVED" and decision.in_force_version is None


def test_every_form_of_this_area_renders_for_its_roles_on_a_decision_in_force(client, open_cast, implementing):
    names = [
        name
        for name, form in actions.REGISTRY.items()
        if form.__module__ == implementation_actions.__name__ and form.placement.states
    ]
    assert "stop-meeting-outcome" in names and "suspend" in names
    for name in names:
        role = actions.REGISTRY[name].placement.roles[0]
        as_role(client, open_cast, role)
        page = client.get(act(implementing, name))
        assert page.status_code == 200, name
        assert str(actions.REGISTRY[name].label) in page.content.decode()
