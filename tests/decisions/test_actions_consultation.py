"""The forms of public participation, hearing, expert review and risk assessment (decisions/actions/consultation.py).

A clerk takes a decision through consultation without knowing an article number: each form calls one
service, a date out of order is named at its field, and what the law refuses is refused by the service
with its code and article, saving nothing."""

import inspect
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from decisions import actions, progress
from decisions.actions import consultation as consultation_actions
from decisions.models import (
    CommentPeriod,
    Decision,
    Document,
    ExpertMember,
    HearingParticipant,
    RiskAssessment,
    Role,
    RoleAssignment,
    Stage,
    StageStatus,
    Waiver,
)
from decisions.permissions import roles_for
from decisions.services import consultation
from decisions.walkthrough import consultation as consult_walk
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import pdf_bytes
from tests.records import record_events

pytestmark = pytest.mark.django_db

CONSULTATION_SUBSTAGES = ("PP", "HEARING", "EX", "RA")


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def act(decision, name):
    return reverse("decisions:act", args=[decision.reference, name])


def send(client, user, decision, name, data=None):
    client.force_login(user)
    return client.post(act(decision, name), data or {})


def done(response):
    """Assert the form was taken (redirected to the decision page), showing its errors otherwise."""
    errors = response.context["form"].errors if response.context and "form" in response.context else ""
    assert response.status_code == 302, errors
    return response


def refusal(response):
    assert response.status_code == 409
    return " ".join(response.context["form"].non_field_errors())


def fresh(decision):
    return Decision.objects.get(pk=decision.pk)


def statuses(decision):
    current = fresh(decision)
    return {stage: current.current_record(stage).status for stage in CONSULTATION_SUBSTAGES}


def iso(value):
    return value.isoformat()


@pytest.fixture
def consulting_factory(open_cast):
    """Return a factory: a decision in CONSULTATION (huzhou rules, no catalogue) with the given T6 answers."""

    def make(**answers):
        decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)), answers=answers)
        return fresh(decision)

    return make


@pytest.fixture
def consulting(consulting_factory):
    return consulting_factory()


@pytest.fixture
def participated(open_cast, consulting):
    """A decision whose public participation is done (comment notice, forum, hearing not held)."""
    consult_walk.participate(open_cast, consulting)
    return fresh(consulting)


def notice(today, *, days=30, **extra):
    deadline = today - timedelta(days=1)
    return {
        "channels": ["GOV_WEBSITE"],
        "publish_date": iso(deadline - timedelta(days=days)),
        "deadline_date": iso(deadline),
        "includes_draft": "on",
        "includes_explanation": "on",
        "how_to_comment": "通过政府网站留言或电子邮件提出意见",
        **extra,
    }


def take_participation_through_the_forms(client, cast, decision):
    lead = cast[Role.UNDERTAKING_LEAD]
    done(send(client, lead, decision, "open-participation"))
    data = notice(consultation.today(), comment_notice=pdf("公告.pdf"), publication_proof=pdf("网页快照.pdf"))
    done(send(client, lead, decision, "comment-notice", data))
    done(send(client, lead, decision, "participation-methods", {"methods": ["FORUM"], "method_record": pdf()}))
    not_held = {
        "reason_code": "OPTIONAL_NOT_HELD",
        "reason_text": "法律、法规、规章未要求听证，已通过公开征求意见和座谈会听取意见",
    }
    done(send(client, lead, decision, "not-triggered-hearing", not_held))
    closing = {"opinion_summary": pdf("意见汇总.pdf"), "adoption_statement": pdf("采纳情况说明.pdf")}
    done(send(client, lead, decision, "complete-participation", closing))


def take_expert_review_through_the_forms(client, cast, decision):
    lead, expert = cast[Role.UNDERTAKING_LEAD], cast[Role.EXPERT]
    done(send(client, lead, decision, "open-expert-review"))
    done(send(client, lead, decision, "expert-review-mode", {"mode": "MEETING", "selection_record": pdf()}))
    for name, agency in (("交通规划专家", False), ("城市发展研究院", True)):
        panel = {"expert_name": name, "no_interest_declared": "on", "declaration": pdf("声明.pdf")}
        if agency:
            panel["is_agency"] = "on"
        else:
            panel["holds_dissenting_view"] = "on"
        done(send(client, lead, decision, "add-expert", panel))
    for member in ExpertMember.objects.filter(stage_record__decision=decision):
        opinion = {"member": member.pk, "opinion": pdf("意见.pdf"), "signed": "on"}
        if member.is_agency:
            opinion["sealed"] = "on"
        done(send(client, expert, decision, "expert-opinion", opinion))
    done(send(client, lead, decision, "complete-expert-review", {"adoption_statement": pdf()}))


def risk_report(**extra):
    return {
        "level": "LOW",
        "risk_points": "补助标准调整可能引发部分群体不满",
        "prevention_measures": "提前开展政策解读，设置过渡期",
        "contingency_plan": "建立舆情监测和信访快速处置机制",
        "departments_heard": "on",
        "report": pdf("风险评估报告.pdf"),
        "plan": pdf("评估方案.pdf"),
        "evidence": pdf("走访记录.pdf"),
        "department_opinions": pdf("部门意见.pdf"),
        **extra,
    }


def take_risk_assessment_through_the_forms(client, cast, decision):
    assessor, lead = cast[Role.RISK_ASSESSOR], cast[Role.UNDERTAKING_LEAD]
    done(send(client, assessor, decision, "open-risk-assessment"))
    done(send(client, assessor, decision, "risk-assessment", risk_report()))
    done(send(client, lead, decision, "complete-risk-assessment"))


@pytest.mark.parametrize("held", [True, False], ids=["experts-and-risk-done", "experts-and-risk-not-triggered"])
def test_a_clerk_takes_a_decision_through_consultation_entirely_through_the_forms(client, open_cast, consulting, held):
    lead = open_cast[Role.UNDERTAKING_LEAD]
    take_participation_through_the_forms(client, open_cast, consulting)
    if held:
        take_expert_review_through_the_forms(client, open_cast, consulting)
        take_risk_assessment_through_the_forms(client, open_cast, consulting)
    else:
        specialised = {"reason_code": "NOT_HIGHLY_SPECIALISED", "reason_text": "事项为补助标准调整，专业性、技术性不强"}
        done(send(client, lead, consulting, "not-triggered-expert-review", specialised))
        stable = {
            "reason_code": "NO_STABILITY_OR_SAFETY_IMPACT",
            "reason_text": "经分析，不会对社会稳定、公共安全等方面造成不利影响",
        }
        done(send(client, lead, consulting, "not-triggered-risk-assessment", stable))

    closed = "DONE" if held else "NOT_TRIGGERED"
    assert statuses(consulting) == {"PP": "DONE", "HEARING": "NOT_TRIGGERED", "EX": closed, "RA": closed}
    decision = fresh(consulting)
    assert decision.state == "CONSULTATION"
    period = CommentPeriod.objects.get(stage_record=decision.current_record(Stage.PP))
    assert period.published_at is not None and (period.deadline_date - period.publish_date).days == 30
    assert decision.current_record(Stage.PP).methods == ["PUBLIC_COMMENT", "FORUM"]
    if held:
        assert decision.current_record(Stage.RA).outcome == "LOW"
        assert {d.signed for d in Document.objects.filter(decision=decision, doc_type="EXPERT_OPINION")} == {True}
    offered = {a.name for a in actions.offered_actions(decision, roles_for(lead, decision))}
    assert not {n for n in offered if n.startswith(("open-", "complete-", "not-triggered-", "waiver-"))}
    assert {"reopen-participation", "reopen-hearing", "reopen-expert-review", "reopen-risk-assessment"} <= offered


def test_opening_a_substage_is_offered_only_while_its_record_is_pending(client, open_cast, consulting):
    lead = open_cast[Role.UNDERTAKING_LEAD]
    before = {a.name for a in actions.offered_actions(consulting, roles_for(lead, consulting))}
    assert "open-participation" in before and "comment-notice" not in before
    client.force_login(lead)
    page = client.get(reverse("decisions:detail", args=[consulting.reference])).content.decode()
    assert act(consulting, "open-participation") in page and act(consulting, "comment-notice") not in page
    done(send(client, lead, consulting, "open-participation"))
    decision = fresh(consulting)
    after = {a.name for a in actions.offered_actions(decision, roles_for(lead, decision))}
    assert "open-participation" not in after and {"comment-notice", "complete-participation"} <= after
    organiser = open_cast[Role.HEARING_ORG]
    assert "open-hearing" in {a.name for a in actions.offered_actions(decision, roles_for(organiser, decision))}


def test_a_15_day_notice_without_a_shortening_reason_is_refused_citing_article_15_and_saves_nothing(
    client, open_cast, consulting
):
    lead = open_cast[Role.UNDERTAKING_LEAD]
    done(send(client, lead, consulting, "open-participation"))
    documents, events = Document.objects.count(), record_events().count()
    data = notice(consultation.today(), days=15, comment_notice=pdf(), publication_proof=pdf())
    errors = refusal(send(client, lead, consulting, "comment-notice", data))
    assert "COMMENT_PERIOD_TOO_SHORT_NO_REASON" in errors and "第十五条" in errors
    assert not CommentPeriod.objects.exists()
    assert Document.objects.count() == documents and record_events().count() == events
    assert fresh(consulting).current_record(Stage.PP).methods == []


def test_a_shortened_notice_is_prepared_given_its_reason_and_published_and_the_reason_is_then_locked(
    client, open_cast, consulting
):
    lead = open_cast[Role.UNDERTAKING_LEAD]
    done(send(client, lead, consulting, "open-participation"))
    done(send(client, lead, consulting, "comment-notice-draft", notice(consultation.today(), days=20)))
    period = CommentPeriod.objects.get()
    assert period.published_at is None and period.shortening_reason == ""
    reason = {"period": period.pk, "reason": "因防汛形势紧急，征求意见期限缩短为20日"}
    done(send(client, lead, consulting, "comment-notice-shortening-reason", reason))
    done(send(client, lead, consulting, "comment-notice-published", {"period": period.pk, "publication_proof": pdf()}))
    period.refresh_from_db()
    assert period.published_at is not None and period.shortening_reason.startswith("因防汛形势紧急")
    errors = refusal(send(client, lead, consulting, "comment-notice-shortening-reason", {**reason, "reason": "改写"}))
    assert "COMMENT_PERIOD_TOO_SHORT_NO_REASON" in errors
    period.refresh_from_db()
    assert period.shortening_reason.startswith("因防汛形势紧急")


def test_a_comment_period_is_extended_from_its_original_publish_date(client, open_cast, consulting):
    consult_walk.comment(open_cast, consulting)
    first = CommentPeriod.objects.get()
    later = first.deadline_date + timedelta(days=10)
    data = {"deadline_date": iso(later), "comment_notice": pdf("重新发布的公告.pdf")}
    done(send(client, open_cast[Role.UNDERTAKING_LEAD], consulting, "comment-period-extension", data))
    extension = CommentPeriod.objects.exclude(pk=first.pk).get()
    assert extension.extends == first and extension.publish_date == first.publish_date
    assert extension.deadline_date == later


def test_participation_records_are_uploaded_to_the_open_participation_record(client, open_cast, consulting):
    consult_walk.comment(open_cast, consulting)
    lead = open_cast[Role.UNDERTAKING_LEAD]
    response = send(client, lead, consulting, "participation-records")
    assert response.status_code == 200 and "请至少上传一份材料" in str(response.context["form"].non_field_errors())
    records = {"opinion_summary": pdf("意见汇总.pdf"), "adoption_statement": pdf("采纳情况说明.pdf")}
    done(send(client, lead, consulting, "participation-records", records))
    record = fresh(consulting).current_record(Stage.PP)
    assert {"OPINION_SUMMARY", "ADOPTION_STATEMENT"} <= set(record.documents.values_list("doc_type", flat=True))


def test_an_unsigned_expert_opinion_is_refused_when_expert_review_is_completed(client, open_cast, participated):
    lead, expert = open_cast[Role.UNDERTAKING_LEAD], open_cast[Role.EXPERT]
    done(send(client, lead, participated, "open-expert-review"))
    done(send(client, lead, participated, "expert-review-mode", {"mode": "WRITTEN", "selection_record": pdf()}))
    panel = {"expert_name": "交通规划专家", "no_interest_declared": "on", "declaration": pdf()}
    done(send(client, lead, participated, "add-expert", panel))
    member = ExpertMember.objects.get(stage_record__decision=participated)
    done(send(client, expert, participated, "expert-opinion", {"member": member.pk, "opinion": pdf()}))
    errors = refusal(send(client, lead, participated, "complete-expert-review", {"adoption_statement": pdf()}))
    assert "EXPERT_OPINION_UNSIGNED" in errors and "第十九条" in errors
    assert statuses(participated)["EX"] == StageStatus.IN_PROGRESS
    assert not Document.objects.filter(decision=participated, doc_type="EXPERT_ADOPTION_STATEMENT").exists()

    # The expert sends the signed opinion: it replaces the unsigned one (kept, superseded) and the stage closes.
    unsigned = ExpertMember.objects.get(pk=member.pk).opinion
    done(send(client, expert, participated, "expert-opinion", {"member": member.pk, "opinion": pdf(), "signed": "on"}))
    assert ExpertMember.objects.get(pk=member.pk).opinion.supersedes == unsigned
    done(send(client, lead, participated, "complete-expert-review", {"adoption_statement": pdf()}))
    assert statuses(participated)["EX"] == StageStatus.DONE


def test_an_expert_without_a_no_interest_declaration_is_not_put_on_the_panel(client, open_cast, participated):
    lead = open_cast[Role.UNDERTAKING_LEAD]
    done(send(client, lead, participated, "open-expert-review"))
    errors = refusal(send(client, lead, participated, "add-expert", {"expert_name": "某专家", "declaration": pdf()}))
    assert "EXPERT_CONFLICT_OF_INTEREST" in errors and "第二十条" in errors
    assert not ExpertMember.objects.exists()


def test_a_risk_report_without_a_contingency_plan_is_refused_and_nothing_is_kept(client, open_cast, participated):
    consult_walk.skip_expert_review(open_cast, participated)
    assessor = open_cast[Role.RISK_ASSESSOR]
    done(send(client, assessor, participated, "open-risk-assessment"))
    record = fresh(participated).current_record(Stage.RA)
    errors = refusal(send(client, assessor, participated, "risk-assessment", risk_report(contingency_plan="")))
    assert "RISK_REPORT_INCOMPLETE" in errors and "第二十三条" in errors
    assert not RiskAssessment.objects.exists() and not record.documents.exists()


def test_a_medium_risk_is_completed_only_with_its_mitigation_plan(client, open_cast, participated):
    consult_walk.skip_expert_review(open_cast, participated)
    assessor, lead = open_cast[Role.RISK_ASSESSOR], open_cast[Role.UNDERTAKING_LEAD]
    done(send(client, assessor, participated, "open-risk-assessment"))
    done(send(client, assessor, participated, "risk-assessment", risk_report(level="MEDIUM")))
    errors = refusal(send(client, lead, participated, "complete-risk-assessment"))
    assert "RISK_MITIGATION_PLAN_MISSING" in errors
    done(send(client, lead, participated, "complete-risk-assessment", {"mitigation_plan": pdf("化解方案.pdf")}))
    assert fresh(participated).current_record(Stage.RA).outcome == "MEDIUM"


def test_the_risk_assessor_marks_an_assessment_stale_with_a_reason(client, open_cast, participated):
    consult_walk.skip_expert_review(open_cast, participated)
    consult_walk.assess_risk(open_cast, participated)
    assessor = open_cast[Role.RISK_ASSESSOR]
    assert "assessment-stale" in {a.name for a in actions.offered_actions(participated, {Role.RISK_ASSESSOR})}
    done(send(client, assessor, participated, "assessment-stale", {"reason": "评估所依据的补助标准已调整"}))
    assessment = RiskAssessment.objects.get()
    assert assessment.stale_marked_by == assessor and assessment.stale_reason == "评估所依据的补助标准已调整"


def test_a_waiver_approved_by_its_own_recorder_is_refused_and_another_office_user_approves_it(
    client, open_cast, consulting_factory
):
    decision = consulting_factory(confidential_by_law=True)
    lead = open_cast[Role.UNDERTAKING_LEAD]
    RoleAssignment.objects.create(user=lead, organisation=open_cast.organ, role=Role.GOV_OFFICE)
    basis = "《中华人民共和国保守国家秘密法》第九条；《重大行政决策程序暂行条例》第十四条"
    waiver = {"reason_code": "CONFIDENTIAL_BY_LAW", "legal_basis": basis, "evidence": pdf("定密文件.pdf")}
    done(send(client, lead, decision, "waiver-participation", waiver))
    page = client.get(act(decision, "approve-waiver"))
    assert page.context["form"].fields["stage"].initial == "PP" and "保守国家秘密法" in page.content.decode()
    errors = refusal(send(client, lead, decision, "approve-waiver", {"stage": "PP"}))
    assert "WAIVER_APPROVER_INVALID" in errors
    assert Waiver.objects.get().approved_at is None
    done(send(client, open_cast[Role.GOV_OFFICE], decision, "approve-waiver", {"stage": "PP"}))
    done(send(client, lead, decision, "sign-off-waiver", {"stage": "PP"}))
    assert statuses(decision)["PP"] == statuses(decision)["HEARING"] == StageStatus.WAIVED


def test_a_waiver_without_its_evidence_is_refused_citing_article_14(client, open_cast, consulting_factory):
    decision = consulting_factory(confidential_by_law=True)
    waiver = {"reason_code": "CONFIDENTIAL_BY_LAW", "legal_basis": "《中华人民共和国保守国家秘密法》第九条"}
    errors = refusal(send(client, open_cast[Role.UNDERTAKING_LEAD], decision, "waiver-participation", waiver))
    assert "WAIVER_BASIS_MISSING" in errors and "第十四条" in errors
    assert not Waiver.objects.exists()


@pytest.fixture
def hearing_running(open_cast, consulting):
    """PP in progress with a published notice, HEARING open and scheduled 20 days ahead with one participant."""
    organiser, today = open_cast[Role.HEARING_ORG], consultation.today()
    consult_walk.comment(open_cast, consulting)
    consultation.open_substage(organiser, consulting, Stage.HEARING)
    consultation.schedule_hearing(
        organiser, consulting, hearing_date=today + timedelta(days=20), place="市民服务中心", notice_published_on=today
    )
    consultation.add_hearing_participant(organiser, consulting, name="居民代表甲")
    return fresh(consulting)


def _participant(decision):
    return HearingParticipant.objects.get(hearing__stage_record__decision=decision).pk


OUT_OF_ORDER = [
    (
        "comment-notice",
        "deadline_date",
        lambda d, today, held: notice(today, publish_date=iso(today), deadline_date=iso(today - timedelta(days=1))),
    ),
    ("comment-period-extension", "deadline_date", lambda d, today, held: {"deadline_date": iso(today - timedelta(5))}),
    (
        "schedule-hearing",
        "notice_published_on",
        lambda d, today, held: {
            "hearing_date": iso(held),
            "place": "市民服务中心",
            "participants_selected": "True",
            "notice_published_on": iso(held + timedelta(days=1)),
        },
    ),
    (
        "update-hearing",
        "selection_done_on",
        lambda d, today, held: {
            "place": "市民服务中心",
            "participants_selected": "True",
            "notice_published_on": iso(today),
            "selection_method_published_on": iso(today + timedelta(days=5)),
            "selection_done_on": iso(today + timedelta(days=3)),
        },
    ),
    ("hearing-date", "hearing_date", lambda d, today, held: {"hearing_date": iso(today), "reason": "场地调整"}),
    (
        "hearing-delivery",
        "delivery_date",
        lambda d, today, held: {
            "participant": _participant(d),
            "delivery_date": iso(held + timedelta(1)),
            "receipt": pdf(),
        },
    ),
    (
        "hearing-participant",
        "delivery_date",
        lambda d, today, held: {
            "participant_name": "企业代表乙",
            "delivery_date": iso(held + timedelta(1)),
            "receipt": pdf(),
        },
    ),
]


@pytest.mark.parametrize("name, field, data", OUT_OF_ORDER, ids=[case[0] for case in OUT_OF_ORDER])
def test_dates_out_of_order_are_named_at_their_field_and_nothing_is_saved(
    client, open_cast, hearing_running, name, field, data
):
    today = consultation.today()
    held = today + timedelta(days=20)
    user = open_cast[actions.REGISTRY[name].placement.roles[0]]
    events = record_events().count()
    response = send(client, user, hearing_running, name, data(hearing_running, today, held))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert record_events().count() == events


def test_every_consultation_form_opens_for_its_people_with_the_records_it_chooses_from(
    client, open_cast, hearing_running
):
    names = [n for n, cls in list(actions.REGISTRY.items()) if cls.__module__ == consultation_actions.__name__]
    assert len(names) > 30
    for name in names:
        client.force_login(open_cast[actions.REGISTRY[name].placement.roles[0]])
        page = client.get(act(hearing_running, name))
        assert page.status_code == 200, name
    client.force_login(open_cast[Role.HEARING_ORG])
    page = client.get(act(hearing_running, "hearing-delivery")).content.decode()
    assert "居民代表甲(未登记送达)" in page and "市民服务中心" in page


def test_the_hearing_forms_show_how_many_days_before_the_hearing_each_participant_had_the_materials(
    client, open_cast, hearing_running
):
    organiser = open_cast[Role.HEARING_ORG]
    held = fresh(hearing_running).current_record(Stage.HEARING).hearing.hearing_date
    delivery = {"participant": _participant(hearing_running), "delivery_date": iso(held - timedelta(days=5))}
    done(send(client, organiser, hearing_running, "hearing-delivery", {**delivery, "receipt": pdf("回执.pdf")}))
    page = client.get(act(hearing_running, "hearing-date")).content.decode()
    assert "距听证会 5 日" in page and "7日前送达" in page


def test_a_hearing_is_held_through_the_forms_and_closed_only_with_a_signed_record(client, open_cast, consulting):
    organiser, lead = open_cast[Role.HEARING_ORG], open_cast[Role.UNDERTAKING_LEAD]
    consult_walk.comment(open_cast, consulting)
    held = consultation.today() - timedelta(days=2)
    done(send(client, organiser, consulting, "open-hearing"))
    schedule = {
        "hearing_date": iso(held + timedelta(days=1)),
        "place": "市民服务中心听证室",
        "participants_selected": "True",
        "notice_published_on": iso(held - timedelta(days=30)),
        "selection_method_published_on": iso(held - timedelta(days=28)),
        "selection_done_on": iso(held - timedelta(days=20)),
        "participant_list_published_on": iso(held - timedelta(days=15)),
        "notice": pdf("听证公告.pdf"),
        "selection_method": pdf("遴选办法.pdf"),
        "participant_list": pdf("名单.pdf"),
    }
    done(send(client, organiser, consulting, "schedule-hearing", schedule))
    done(
        send(client, organiser, consulting, "hearing-date", {"hearing_date": iso(held), "reason": "场地检修，提前一日"})
    )
    delivered = iso(held - timedelta(days=10))
    first = {"participant_name": "居民代表甲", "delivery_date": delivered, "receipt": pdf("回执甲.pdf")}
    done(send(client, organiser, consulting, "hearing-participant", first))
    done(send(client, organiser, consulting, "hearing-participant", {"participant_name": "企业代表乙"}))
    second = HearingParticipant.objects.get(name="企业代表乙")
    delivery = {"participant": second.pk, "delivery_date": delivered, "receipt": pdf("回执乙.pdf")}
    done(send(client, organiser, consulting, "hearing-delivery", delivery))

    decision = fresh(consulting)
    step = next(s for s in progress.next_steps(decision, {Role.UNDERTAKING_LEAD}) if s.tid == "T7b")
    assert [c.code for c in step.blockers] == ["HEARING_RECORD_UNSIGNED"] and not step.hard_blockers
    errors = refusal(send(client, lead, consulting, "complete-hearing", {"hearing_record": pdf("听证记录.pdf")}))
    assert "HEARING_RECORD_UNSIGNED" in errors and "第十七条" in errors
    signed = {"hearing_record": pdf("听证记录.pdf"), "record_signed": "on", "hearing_report": pdf("听证报告.pdf")}
    done(send(client, lead, consulting, "complete-hearing", signed))
    decision = fresh(consulting)
    assert decision.current_record(Stage.HEARING).status == StageStatus.DONE
    assert decision.current_record(Stage.HEARING).hearing.hearing_date == held
    assert "HEARING" in decision.current_record(Stage.PP).methods


def test_clearing_a_hearing_flag_needs_a_reason(client, open_cast, consulting_factory):
    decision = consulting_factory(major_disagreement=True)
    lead = open_cast[Role.UNDERTAKING_LEAD]
    client.force_login(lead)
    form = client.get(act(decision, "trigger-answers")).context["form"]
    answers = {
        name: str(field.initial)
        for name, field in form.fields.items()
        if getattr(field.widget, "input_type", "") == "radio"
    }
    assert answers["major_disagreement"] == "True" and answers["highly_technical"] == "False"
    errors = refusal(client.post(act(decision, "trigger-answers"), {**answers, "major_disagreement": "False"}))
    assert "REASON_REQUIRED" in errors and "第十六条" in errors
    assert fresh(decision).major_disagreement is True
    cleared = {**answers, "major_disagreement": "False", "reason": "经再次协商，各方意见已趋一致"}
    done(client.post(act(decision, "trigger-answers"), cleared))
    assert fresh(decision).major_disagreement is False


def test_a_stage_closed_as_not_triggered_is_reopened_with_a_reason(client, open_cast, participated):
    consult_walk.skip_expert_review(open_cast, participated)
    old = fresh(participated).current_record(Stage.EX)
    lead = open_cast[Role.UNDERTAKING_LEAD]
    response = send(client, lead, participated, "reopen-expert-review", {"reason": ""})
    assert "reason" in response.context["form"].errors
    done(send(client, lead, participated, "reopen-expert-review", {"reason": "草案新增技术标准条款，需要专家论证"}))
    new = fresh(participated).current_record(Stage.EX)
    assert new.status == StageStatus.PENDING and new.supersedes == old


def test_every_consultation_service_a_person_calls_has_its_form():
    source = inspect.getsource(consultation_actions)
    internal = {"reopen_required_by_catalogue", "rerun_substages", "procedure_statement"}
    for name in set(consultation.__all__) - internal:
        assert f"consultation.{name}(" in source, name
