"""The forms of the collective decision, through the pages (decisions/actions/meeting.py).

The office schedules a meeting of the organ and puts the reviewed draft on its agenda, records each
member's statement as spoken and the chief's last, and the chief's decision; a refusal names the rule and
its article and writes nothing; dissent is kept word for word in the minutes (第三十条)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from decisions import actions
from decisions.actions import meeting as meeting_actions  # imported: registers the forms
from decisions.models import AgendaItem, CollectiveOutcome, Decision, DocumentType, Meeting, Position, Role
from decisions.permissions import roles_for
from decisions.rules import meeting as meeting_rules
from decisions.services import legality
from decisions.services import meeting as service
from decisions.walkthrough import consultation as walk_consultation
from decisions.walkthrough import doc, pdf_bytes
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as walk_legal
from decisions.walkthrough import meeting as walk_meeting

pytestmark = pytest.mark.django_db
APPROVE, REJECT, DEFER = Position.APPROVE, Position.REJECT, Position.DEFER
DISSENTS = (
    "我不同意。该方案对财政负担估计不足，\n建议暂缓，并请记录在案。",
    "  不同意：补助对象范围过宽（第三条），请如实载明。 ",
)


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def act(decision, name):
    return reverse("decisions:act", args=[decision.reference, name])


def fresh(decision):
    return Decision.objects.get(pk=decision.pk)


def today(offset=0):
    return timezone.localdate() + timedelta(days=offset)


def errors(response):
    return " ".join(response.context["form"].non_field_errors())


def post(client, cast, role, decision, name, data=None):
    client.force_login(cast[role])
    return client.post(act(decision, name), data or {})


def consulted(cast):
    decision = walk.draft(cast, walk.initiate(cast, walk.propose(cast)))
    walk_consultation.consult(cast, decision, expert=False)
    return fresh(decision)


def ready(cast, received_on=None):
    """A decision reviewed LAWFUL and READY_FOR_MEETING (materials complete 30 days ago by default)."""
    decision = consulted(cast)
    walk_legal.review(cast, decision, received_on=received_on)
    return fresh(walk_legal.to_ready_for_meeting(cast, decision))


def members(cast):
    return [cast[Role.CHIEF], *cast.extra["members"]]


def create_meeting(client, cast, decision, meeting_type=Meeting.Type.EXECUTIVE, date=None, present=None):
    data = {
        "meeting_type": meeting_type,
        "title": "市政府第12次常务会议",
        "date": (date or today()).isoformat(),
        "members_present": [m.pk for m in (members(cast) if present is None else present)],
    }
    response = post(client, cast, Role.GOV_OFFICE, decision, "create-meeting", data)
    assert response.status_code == 302, response.context["form"].errors
    return Meeting.objects.filter(organ=cast.organ).latest("id")


def schedule(client, cast, decision, meeting):
    data = {
        "meeting": meeting.pk,
        "deliberation_request": pdf("提请审议请示.pdf"),
        "meeting_notice": pdf("会议通知.pdf"),
    }
    return post(client, cast, Role.GOV_OFFICE, decision, "schedule-for-meeting", data)


def speak(client, cast, decision, member, position, text="同意承办单位的汇报意见。", chief=False):
    data = {"member": member.pk, "position": position, "text": text, **({"is_chief": "on"} if chief else {})}
    response = post(client, cast, Role.GOV_OFFICE, decision, "record-statement", data)
    assert response.status_code == 302, response.context["form"].errors
    return response


def statements(client, cast, decision, outcome, dissents=()):
    """Every other member speaks (the first ones dissenting with `dissents`), then the chief, last."""
    others = cast.extra["members"]
    for n, member in enumerate(others):
        if n < len(dissents):
            speak(client, cast, decision, member, REJECT, dissents[n])
        else:
            speak(client, cast, decision, member, outcome)
    speak(client, cast, decision, cast[Role.CHIEF], outcome, "综合大家意见，同意。", chief=True)


def record_outcome(client, cast, decision, outcome=APPROVE, **extra):
    data = {"outcome": outcome, "controllability_judgement": "CONTROLLABLE", "minutes": pdf("会议纪要.pdf"), **extra}
    return post(client, cast, Role.GOV_OFFICE, decision, "record-meeting-outcome", data)


def test_a_clerk_schedules_a_meeting_and_takes_the_decision_to_decided_through_the_forms(client, open_cast):
    decision = ready(open_cast)
    meeting = create_meeting(client, open_cast, decision)
    assert (meeting.meeting_type, meeting.members_total) == ("EXECUTIVE", 6)
    assert set(meeting.members_present.all()) == set(members(open_cast))

    client.force_login(open_cast[Role.GOV_OFFICE])
    form = client.get(act(decision, "schedule-for-meeting")).context["form"]
    choices = [str(label) for value, label in form.fields["meeting"].choices if value]
    count, complete_on = legality.review_clock(decision, meeting.date)
    assert choices == [f"{meeting.date:%Y-%m-%d} 常务会议：市政府第12次常务会议（审查工作日 {count.days} 个）"]
    assert complete_on.isoformat() in str(form.fields["meeting"].help_text)

    assert schedule(client, open_cast, decision, meeting).status_code == 302
    decision = fresh(decision)
    assert decision.state == "SCHEDULED"
    item = meeting_rules.live_item(decision)
    assert item.meeting == meeting and item.review_working_days == count.days

    statements(client, open_cast, decision, APPROVE)
    response = record_outcome(
        client, open_cast, decision, amendments="第五条“三年”改为“五年”", adopted_draft=pdf("会议审定文本.pdf")
    )
    assert response.status_code == 302
    decision = fresh(decision)
    assert decision.state == "DECIDED"
    result = CollectiveOutcome.objects.get(agenda_item=item)
    assert (result.outcome, result.controllability_judgement) == ("APPROVE", "CONTROLLABLE")
    assert result.adopted_version.adopted_at_meeting and decision.current_draft == result.adopted_version
    assert item.stage_record.documents.filter(doc_type="MINUTES").exists()


def test_scenario_27_scheduling_a_decision_with_no_legality_opinion_is_refused_citing_article_25(client, open_cast):
    decision = consulted(open_cast)
    meeting = walk_meeting.hold_meeting(open_cast)
    client.force_login(open_cast[Role.GOV_OFFICE])
    page = client.get(act(decision, "schedule-for-meeting"))
    assert not page.context["in_place"]
    assert "决策草案未经合法性审查，不得提交决策机关讨论" in page.content.decode()
    response = schedule(client, open_cast, decision, meeting)
    assert response.status_code == 409
    first = response.context["form"].non_field_errors()[0]  # P7 (1): the first failing rule of T19 names it
    assert "LEGALITY_REVIEW_MISSING" in first and "第二十五条" in first
    assert fresh(decision).state == "CONSULTATION"
    assert not AgendaItem.objects.filter(decision=decision).exists()


def test_scenario_43_a_thematic_meeting_is_refused_citing_article_30(client, open_cast):
    decision = ready(open_cast)
    meeting = create_meeting(client, open_cast, decision, meeting_type=Meeting.Type.THEMATIC)
    response = schedule(client, open_cast, decision, meeting)
    assert response.status_code == 409
    assert "MEETING_TYPE_NOT_ALLOWED" in errors(response) and "第三十条" in errors(response)
    assert fresh(decision).state == "READY_FOR_MEETING"
    assert not AgendaItem.objects.filter(decision=decision).exists()


def test_scenario_31_a_short_review_is_refused_until_the_reason_is_recorded_and_acknowledged(client, open_cast):
    decision = ready(open_cast, received_on=today(-1))
    meeting = create_meeting(client, open_cast, decision, date=today(3))
    assert legality.review_clock(decision, meeting.date)[0].days < 7

    client.force_login(open_cast[Role.GOV_OFFICE])
    form = client.get(act(decision, "schedule-for-meeting")).context["form"]
    assert "不足 7 个" in " ".join(str(label) for _value, label in form.fields["meeting"].choices)
    response = schedule(client, open_cast, decision, meeting)
    assert response.status_code == 409
    assert "LEGALITY_REVIEW_TIME_INSUFFICIENT" in errors(response) and "第二十六条" in errors(response)

    reviewer_roles = {Role.LEGAL_REVIEWER}
    # Nothing to acknowledge yet: the reviewer is not offered the acknowledgement.
    assert "acknowledge-time-override" not in {a.name for a in actions.offered_actions(fresh(decision), reviewer_roles)}
    reason = "上级要求本周内审议，审查部门已提前介入"
    data = {"meeting": meeting.pk, "reason": reason}
    assert post(client, open_cast, Role.GOV_OFFICE, decision, "record-time-override", data).status_code == 302
    assert "acknowledge-time-override" in {a.name for a in actions.offered_actions(fresh(decision), reviewer_roles)}
    response = schedule(client, open_cast, decision, meeting)
    assert response.status_code == 409 and "LEGALITY_REVIEW_TIME_INSUFFICIENT" in errors(response)

    client.force_login(open_cast[Role.LEGAL_REVIEWER])
    form = client.get(act(decision, "acknowledge-time-override")).context["form"]
    assert reason in " ".join(str(label) for _value, label in form.fields["meeting"].choices)
    data = {"meeting": meeting.pk}
    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "acknowledge-time-override", data).status_code == 302

    assert schedule(client, open_cast, decision, meeting).status_code == 302
    item = meeting_rules.live_item(fresh(decision))
    assert fresh(decision).state == "SCHEDULED"
    assert (item.time_override_reason, item.time_override_acknowledged_by) == (reason, open_cast[Role.LEGAL_REVIEWER])


def test_statements_with_the_chief_not_last_are_refused_citing_article_30(client, open_cast):
    decision = ready(open_cast)
    meeting = create_meeting(client, open_cast, decision)
    assert schedule(client, open_cast, decision, meeting).status_code == 302
    others = open_cast.extra["members"]
    speak(client, open_cast, decision, others[0], APPROVE)
    speak(client, open_cast, decision, open_cast[Role.CHIEF], APPROVE, "同意。", chief=True)
    for member in others[1:]:
        speak(client, open_cast, decision, member, APPROVE)

    response = record_outcome(client, open_cast, decision)
    assert response.status_code == 409
    assert "CHIEF_NOT_LAST" in errors(response) and "第三十条" in errors(response)
    assert fresh(decision).state == "SCHEDULED"
    assert not CollectiveOutcome.objects.filter(agenda_item__decision=decision).exists()


def test_two_dissents_are_kept_word_for_word_in_the_minutes(client, open_cast):
    decision = ready(open_cast)
    meeting = create_meeting(client, open_cast, decision)
    assert schedule(client, open_cast, decision, meeting).status_code == 302
    statements(client, open_cast, decision, APPROVE, dissents=DISSENTS)

    client.force_login(open_cast[Role.GOV_OFFICE])
    page = client.get(act(decision, "record-meeting-outcome"))
    assert page.context["form"].fields["outcome"].initial == APPROVE  # the chief's last position
    assert DISSENTS[0] in page.content.decode()

    assert record_outcome(client, open_cast, decision).status_code == 302
    assert fresh(decision).state == "DECIDED"
    [record] = service.minutes(decision)
    assert [s["text"] for s in record["dissent"]] == list(DISSENTS)
    assert [s["position"] for s in record["dissent"]] == [REJECT, REJECT]


def test_a_chief_deciding_against_the_majority_must_give_the_reason(client, open_cast):
    decision = ready(open_cast)
    meeting = create_meeting(client, open_cast, decision)
    assert schedule(client, open_cast, decision, meeting).status_code == 302
    statements(client, open_cast, decision, APPROVE, dissents=DISSENTS + ("不同意。", "不同意。"))

    client.force_login(open_cast[Role.GOV_OFFICE])
    form = client.get(act(decision, "record-meeting-outcome")).context["form"]
    assert "与会议组成人员多数人的意见不一致" in str(form.fields["chief_reason"].help_text)
    response = record_outcome(client, open_cast, decision)
    assert response.status_code == 409 and "CHIEF_REASON_MISSING" in errors(response)
    response = record_outcome(client, open_cast, decision, chief_reason="群众呼声强烈，财政已有安排")
    assert response.status_code == 302 and fresh(decision).state == "DECIDED"


def test_a_wrong_or_missing_input_is_refused_at_its_field_and_nothing_is_saved(client, open_cast):
    decision = ready(open_cast)
    response = post(
        client,
        open_cast,
        Role.GOV_OFFICE,
        decision,
        "create-meeting",
        {"meeting_type": "EXECUTIVE", "title": "", "date": "2026-02-30"},
    )
    assert set(response.context["form"].errors) == {"title", "date"}
    assert not Meeting.objects.filter(organ=open_cast.organ).exists()

    past = walk_meeting.hold_meeting(open_cast, date=today(-1))
    response = post(client, open_cast, Role.GOV_OFFICE, decision, "schedule-for-meeting", {"meeting": past.pk})
    assert list(response.context["form"].errors) == ["meeting"]  # the chooser lists meetings from today on
    assert fresh(decision).state == "READY_FOR_MEETING"

    meeting = create_meeting(client, open_cast, decision, present=members(open_cast)[:4])
    assert schedule(client, open_cast, decision, meeting).status_code == 302
    absent = open_cast.extra["members"][-1]
    data = {"member": absent.pk, "position": APPROVE, "text": "同意"}
    response = post(client, open_cast, Role.GOV_OFFICE, decision, "record-statement", data)
    assert list(response.context["form"].errors) == ["member"]  # only members present may speak
    response = post(
        client, open_cast, Role.GOV_OFFICE, decision, "record-statement", {"member": members(open_cast)[1].pk}
    )
    assert list(response.context["form"].errors) == ["position"]
    assert not meeting_rules.live_item(fresh(decision)).statements.exists()

    response = record_outcome(client, open_cast, decision, amendments="第五条修改", minutes="")
    assert set(response.context["form"].errors) == {"adopted_draft", "minutes"}
    assert fresh(decision).state == "SCHEDULED" and not CollectiveOutcome.objects.exists()


def test_attendance_is_corrected_through_its_form(client, open_cast):
    decision = ready(open_cast)
    meeting = create_meeting(client, open_cast, decision, present=members(open_cast)[:2])
    data = {"meeting": meeting.pk, "members_present": [m.pk for m in members(open_cast)[:5]]}
    assert post(client, open_cast, Role.GOV_OFFICE, decision, "record-attendance", data).status_code == 302
    assert meeting.members_present.count() == 5
    data = {"meeting": meeting.pk, "members_present": [open_cast[Role.UNDERTAKING_LEAD].pk]}
    response = post(client, open_cast, Role.GOV_OFFICE, decision, "record-attendance", data)
    assert list(response.context["form"].errors) == ["members_present"]
    assert meeting.members_present.count() == 5


def test_a_deferred_decision_comes_back_and_a_scheduled_one_is_taken_off_or_pulled_back(client, open_cast):
    decision = ready(open_cast)
    meeting = create_meeting(client, open_cast, decision)
    assert schedule(client, open_cast, decision, meeting).status_code == 302
    response = post(client, open_cast, Role.GOV_OFFICE, decision, "unschedule", {"reason": ""})
    assert list(response.context["form"].errors) == ["reason"]
    data = {"reason": "会议取消"}
    assert post(client, open_cast, Role.GOV_OFFICE, decision, "unschedule", data).status_code == 302
    assert fresh(decision).state == "READY_FOR_MEETING"

    assert schedule(client, open_cast, decision, meeting).status_code == 302
    statements(client, open_cast, decision, DEFER)
    assert record_outcome(client, open_cast, decision, DEFER).status_code == 302
    assert fresh(decision).state == "DEFERRED"
    assert post(client, open_cast, Role.GOV_OFFICE, decision, "bring-back-after-deferral").status_code == 302
    assert fresh(decision).state == "READY_FOR_MEETING"

    data = {"reason": "暂缓期间情况变化，草案须修改"}
    assert post(client, open_cast, Role.GOV_OFFICE, decision, "pull-back-for-revision", data).status_code == 302
    assert fresh(decision).state == "REVISING"


def test_the_meeting_forms_are_offered_where_they_belong(open_cast):
    decision = ready(open_cast)
    office = {a.name for a in actions.offered_actions(decision, {Role.GOV_OFFICE})}
    assert {"create-meeting", "schedule-for-meeting", "record-time-override"} <= office
    assert "record-statement" not in office and "record-meeting-outcome" not in office
    walk_meeting.schedule(open_cast, decision)
    office = {a.name for a in actions.offered_actions(fresh(decision), {Role.GOV_OFFICE})}
    assert {"record-statement", "record-meeting-outcome", "unschedule"} <= office
    assert "schedule-for-meeting" not in office and "create-meeting" not in office


AREA = sorted(name for name, form in actions.load().items() if form.__module__ == meeting_actions.__name__)


def test_every_meeting_form_opens_before_during_and_after_a_deferral(client, open_cast):
    decision = ready(open_cast, received_on=today(-1))
    meeting = walk_meeting.hold_meeting(open_cast, date=today(2))
    service.record_time_override(open_cast[Role.GOV_OFFICE], decision, meeting=meeting, reason="上级要求尽快审议")
    steps = [
        lambda: None,
        lambda: service.acknowledge_time_override(open_cast[Role.LEGAL_REVIEWER], decision, meeting=meeting),
        lambda: walk_meeting.schedule(open_cast, decision, meeting_obj=meeting),
        lambda: walk_meeting.statements(open_cast, decision, DEFER, dissent=1),
        lambda: service.record_meeting_outcome(
            open_cast[Role.GOV_OFFICE],
            decision,
            outcome=DEFER,
            controllability_judgement="CONTROLLABLE",
            documents=[doc(DocumentType.MINUTES, "会议纪要")],
        ),
    ]
    for step in steps:
        step()
        decision = fresh(decision)
        for name in AREA:
            client.force_login(open_cast[actions.REGISTRY[name].placement.roles[0]])
            assert client.get(act(decision, name)).status_code == 200, (decision.state, name)
    assert decision.state == "DEFERRED"


def test_each_meeting_form_is_refused_to_every_role_it_is_not_for_on_a_decision_on_an_agenda(client, open_cast):
    # One decision for the whole table: building one per role would cost more than the table itself.
    decision = fresh(walk_meeting.schedule(open_cast, ready(open_cast)))
    answers = set()
    for role in [r for r in Role.values if r != Role.PUBLIC and open_cast[r] is not None]:
        client.force_login(open_cast[role])
        held = roles_for(open_cast[role], decision)
        for name in AREA:
            form = actions.REGISTRY[name]
            response = client.get(act(decision, name))
            answers.add(response.status_code)
            if held & set(form.placement.roles):
                assert response.status_code == 200, (role, name)
            else:
                assert response.status_code == 403, (role, name)
                assert client.post(act(decision, name), {}).status_code == 403, (role, name)
    assert answers == {200, 403}
