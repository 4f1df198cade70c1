"""Collective decision: meetings, the agenda (T19, T19a), statements and the outcome (T20), T20a, T20b."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from catalog import services as catalog_services
from catalog import walkthrough as catalog_walk
from decisions import calendar, lifecycle
from decisions.models import (
    AgendaItem,
    AuditEvent,
    CollectiveOutcome,
    Decision,
    DocumentType,
    Meeting,
    Organisation,
    Position,
    Role,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
    WorkingCalendarYear,
)
from decisions.permissions import NotPermitted
from decisions.rules import ProcedureRefused
from decisions.services import consultation, documents, legality
from decisions.services import meeting as svc
from decisions.walkthrough import consultation as walk_consultation
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk_init
from decisions.walkthrough import legality as walk_legal
from decisions.walkthrough import meeting as walk
from tests.records import record_events

APPROVE, REJECT, DEFER, MODIFY, REDISCUSS, NO_OPINION = (
    Position.APPROVE,
    Position.REJECT,
    Position.DEFER,
    Position.MODIFY,
    Position.REDISCUSS,
    Position.NO_OPINION,
)
CONTROLLABLE, NOT_CONTROLLABLE = "CONTROLLABLE", "NOT_CONTROLLABLE"


# -- helpers ------------------------------------------------------------------------------------


def consulted(cast, *, risk_level="LOW", risk=True, answers=None, listed=None):
    """Return a decision in CONSULTATION with every sub-stage closed."""
    decision = listed or walk_init.propose(cast)
    decision = walk_init.draft(cast, walk_init.initiate(cast, decision), answers=answers)
    return walk_consultation.consult(cast, decision, risk_level=risk_level, risk=risk, expert=False)


def ready(cast, *, received_on=None, **options):
    """Return a decision in READY_FOR_MEETING (reviewed LAWFUL, materials received 30 days ago by default)."""
    decision = consulted(cast, **options)
    walk_legal.review(cast, decision, received_on=received_on)
    return walk_legal.to_ready_for_meeting(cast, decision)


def fresh(decision):
    return Decision.objects.get(pk=decision.pk)


def snapshot(decision):
    """What a refused call must leave untouched."""
    return (
        fresh(decision).state,
        record_events().count(),
        StageRecord.objects.filter(decision=decision).count(),
        AgendaItem.objects.filter(decision=decision).count(),
        decision.documents.count(),
        CollectiveOutcome.objects.count(),
        SignOff.objects.count(),
        decision.draft_versions.count(),
    )


def refused(call, *args, **kwargs):
    with pytest.raises(ProcedureRefused) as caught:
        call(*args, **kwargs)
    assert not isinstance(caught.value, NotPermitted)
    return caught.value


def members(cast):
    """The chief and the other meeting members (six in all)."""
    return [cast[Role.CHIEF], *cast.extra["members"]]


def schedule(cast, decision, **meeting_options):
    return walk.schedule(cast, decision, **meeting_options)


def speak(cast, decision, positions, chief=APPROVE, texts=None):
    """Record the other members' positions in order, then the chief's."""
    item = walk.meeting_rules.live_item(decision)
    others = [m for m in item.meeting.members_present.order_by("pk") if m.pk != cast[Role.CHIEF].pk]
    for n, (member, position) in enumerate(zip(others, positions, strict=False)):
        text = (texts or {}).get(n, f"意见{n}")
        svc.record_statement(cast[Role.GOV_OFFICE], decision, member=member, position=position, text=text)
    if chief is not None:
        svc.record_statement(
            cast[Role.GOV_OFFICE], decision, member=cast[Role.CHIEF], position=chief, text="行政首长意见", is_chief=True
        )


def outcome(cast, decision, *, minutes=True, **options):
    options.setdefault("documents", [doc(DocumentType.MINUTES)] if minutes else [])
    return svc.record_meeting_outcome(cast[Role.GOV_OFFICE], decision, **options)


# -- meetings -----------------------------------------------------------------------------------


def test_a_meeting_snapshots_the_organs_number_of_members(open_cast):
    meeting = walk.hold_meeting(open_cast)
    assert meeting.members_total == 6
    assert set(meeting.members_present.all()) == set(members(open_cast))
    open_cast.organ.meeting_members_total = 9
    open_cast.organ.save()
    meeting.refresh_from_db()
    assert meeting.members_total == 6
    assert AuditEvent.objects.filter(action="meeting:create", object_id=str(meeting.pk)).exists()


def test_a_meeting_refuses_people_who_are_not_members_and_writes_nothing(open_cast):
    before = (Meeting.objects.count(), record_events().count())
    error = refused(walk.hold_meeting, open_cast, present=[open_cast[Role.CHIEF], open_cast[Role.UNDERTAKING_LEAD]])
    assert error.code == "MEETING_MEMBER_INVALID"
    assert (Meeting.objects.count(), record_events().count()) == before


def test_attendance_can_be_corrected_until_an_outcome_is_recorded(open_cast):
    decision = ready(open_cast)
    meeting = walk.hold_meeting(open_cast, present=members(open_cast)[:4])
    svc.record_attendance(open_cast[Role.GOV_OFFICE], meeting, members(open_cast))
    assert meeting.members_present.count() == 6
    walk.decide(open_cast, decision, meeting_obj=meeting)
    assert refused(svc.record_attendance, open_cast[Role.GOV_OFFICE], meeting, members(open_cast)[:4]).code == (
        "DOCUMENT_IMMUTABLE"
    )


# -- T19 ----------------------------------------------------------------------------------------


def test_scheduling_opens_the_agenda_items_cd_record_pinned_to_the_current_draft(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    assert decision.state == "SCHEDULED"
    item = AgendaItem.objects.get(decision=decision)
    record = item.stage_record
    assert (record.stage, record.status) == (Stage.CD, StageStatus.IN_PROGRESS)
    assert record.draft_version == decision.current_draft
    assert item.review_working_days >= 7
    assert {d.doc_type for d in record.documents.all()} == {"DELIBERATION_REQUEST", "MEETING_NOTICE"}
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="transition:T19").count() == 1


def test_scenario_27_scheduling_without_a_legality_opinion_is_refused(open_cast):
    decision = consulted(open_cast)
    meeting = walk.hold_meeting(open_cast)
    before = snapshot(decision)
    error = refused(svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=meeting)
    assert error.codes == ["LEGALITY_REVIEW_MISSING"]
    assert "第二十五条" in error.failures[0].rule.citation
    assert snapshot(decision) == before


def test_scheduling_after_an_unlawful_opinion_is_refused_as_unlawful(open_cast):
    decision = consulted(open_cast)
    walk_legal.review(open_cast, decision, outcome="UNLAWFUL")
    assert fresh(decision).state == "REVISING"
    error = refused(
        svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=walk.hold_meeting(open_cast)
    )
    assert error.code == "LEGALITY_UNLAWFUL"


def test_a_stale_legality_opinion_blocks_scheduling(open_cast):
    decision = ready(open_cast)
    legality.mark_opinion_stale(open_cast[Role.LEGAL_REVIEWER], decision, reason="上位法已修改")
    error = refused(
        svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=walk.hold_meeting(open_cast)
    )
    assert error.code == "LEGALITY_OPINION_STALE"


def test_a_draft_changed_after_the_opinion_blocks_scheduling(open_cast):
    decision = ready(open_cast)
    documents.add_draft_version(open_cast[Role.UNDERTAKING_LEAD], decision, doc(DocumentType.DRAFT, "v2"))
    error = refused(
        svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=walk.hold_meeting(open_cast)
    )
    assert error.code == "LEGALITY_OPINION_STALE"


@pytest.mark.parametrize("meeting_type", ["THEMATIC", "MAYORS_OFFICE", "CIRCULATION"])
def test_scenario_43_only_executive_or_plenary_meetings_may_decide(open_cast, meeting_type):
    decision = ready(open_cast)
    meeting = walk.hold_meeting(open_cast, meeting_type=meeting_type)
    before = snapshot(decision)
    error = refused(svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=meeting)
    assert error.code == "MEETING_TYPE_NOT_ALLOWED"
    assert "第三十条" in error.failures[0].rule.citation
    assert snapshot(decision) == before


@pytest.mark.parametrize("meeting_type", ["EXECUTIVE", "PLENARY"])
def test_an_executive_or_plenary_meeting_may_decide(open_cast, meeting_type):
    decision = schedule(open_cast, ready(open_cast), meeting_type=meeting_type)
    assert decision.state == "SCHEDULED"


def test_a_township_organ_needs_its_meeting_types_set_in_the_profile(cast_factory, profile_variant):
    unset = profile_variant("huzhou", catalogue_required=False)
    township = cast_factory(profile=unset.code, level=Organisation.Level.TOWNSHIP)
    decision = ready(township)
    error = refused(svc.schedule_for_meeting, township[Role.GOV_OFFICE], decision, meeting=walk.hold_meeting(township))
    assert error.code == "PROFILE_NOT_CONFIGURED"

    types = {"government": ["EXECUTIVE", "PLENARY"], "township": ["EXECUTIVE"]}
    configured = profile_variant("huzhou", catalogue_required=False, allowed_decision_meeting_types=types)
    township = cast_factory(profile=configured.code, level=Organisation.Level.TOWNSHIP)
    assert schedule(township, ready(township)).state == "SCHEDULED"


def test_a_meeting_of_another_organ_is_refused(cast_factory, profile_variant):
    profile = profile_variant("huzhou", catalogue_required=False)
    here, there = cast_factory(profile=profile.code), cast_factory(profile=profile.code)
    decision = ready(here)
    error = refused(svc.schedule_for_meeting, here[Role.GOV_OFFICE], decision, meeting=walk.hold_meeting(there))
    assert error.code == "MEETING_ORGAN_MISMATCH"


def test_scenario_30_seven_working_days_strictly_between_pass(open_cast):
    decision = ready(open_cast, received_on=date(2025, 4, 7))
    decision = schedule(open_cast, decision, date=date(2025, 4, 17))
    assert decision.state == "SCHEDULED"
    assert AgendaItem.objects.get(decision=decision).review_working_days == 7


def test_scenario_31_three_working_days_are_refused_without_an_acknowledged_override(open_cast):
    decision = ready(open_cast, received_on=date(2025, 4, 14))
    meeting = walk.hold_meeting(open_cast, date=date(2025, 4, 18))
    before = snapshot(decision)
    error = refused(svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=meeting)
    assert error.code == "LEGALITY_REVIEW_TIME_INSUFFICIENT"
    assert "第二十六条" in error.failures[0].rule.citation
    assert snapshot(decision) == before

    svc.record_time_override(open_cast[Role.GOV_OFFICE], decision, meeting=meeting, reason="上级要求本周内审议")
    assert refused(svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=meeting).code == (
        "LEGALITY_REVIEW_TIME_INSUFFICIENT"
    )
    svc.acknowledge_time_override(open_cast[Role.LEGAL_REVIEWER], decision, meeting=meeting)
    decision = svc.schedule_for_meeting(open_cast[Role.GOV_OFFICE], decision, meeting=meeting)
    assert decision.state == "SCHEDULED"
    item = AgendaItem.objects.get(decision=decision)
    assert item.stage_record is not None and item.review_working_days == 3
    assert item.time_override_acknowledged_by == open_cast[Role.LEGAL_REVIEWER]
    assert item.time_override_for_date == date(2025, 4, 18)


def test_an_override_for_an_earlier_meeting_date_does_not_carry_over(open_cast):
    decision = ready(open_cast, received_on=date(2025, 4, 14))
    first = walk.hold_meeting(open_cast, date=date(2025, 4, 18))
    svc.record_time_override(open_cast[Role.GOV_OFFICE], decision, meeting=first, reason="上级要求尽快审议")
    svc.acknowledge_time_override(open_cast[Role.LEGAL_REVIEWER], decision, meeting=first)
    schedule(open_cast, decision, meeting_obj=first)
    svc.unschedule(open_cast[Role.GOV_OFFICE], decision, reason="会议取消")
    second = walk.hold_meeting(open_cast, date=date(2025, 4, 21))
    error = refused(svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=second)
    assert error.code == "LEGALITY_REVIEW_TIME_INSUFFICIENT"


def test_an_override_needs_a_reason_and_the_profile_allowing_it(open_cast, cast_factory, profile_variant):
    decision = ready(open_cast)
    meeting = walk.hold_meeting(open_cast)
    assert refused(
        svc.record_time_override, open_cast[Role.GOV_OFFICE], decision, meeting=meeting, reason=" "
    ).code == ("REASON_REQUIRED")
    assert refused(svc.acknowledge_time_override, open_cast[Role.LEGAL_REVIEWER], decision, meeting=meeting).code == (
        "REASON_REQUIRED"
    )
    early = walk_init.propose(open_cast)
    error = refused(svc.record_time_override, open_cast[Role.GOV_OFFICE], early, meeting=meeting, reason="紧急")
    assert error.code == "STATE_PREREQUISITE_MISSING"
    strict = cast_factory(
        profile=profile_variant(
            "huzhou", catalogue_required=False, legality_review_allow_override_with_reason=False
        ).code
    )
    other = ready(strict)
    error = refused(
        svc.record_time_override, strict[Role.GOV_OFFICE], other, meeting=walk.hold_meeting(strict), reason="紧急"
    )
    assert error.code == "LEGALITY_REVIEW_TIME_INSUFFICIENT"


def test_holidays_of_the_loaded_calendar_count_against_the_review_time(open_cast):
    calendar.load_shipped()
    # 2025-09-26 to 2025-10-10: the National Day holiday leaves 4 working days (9 by the weekday rule).
    decision = ready(open_cast, received_on=date(2025, 9, 26))
    meeting = walk.hold_meeting(open_cast, date=date(2025, 10, 10))
    assert refused(svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=meeting).code == (
        "LEGALITY_REVIEW_TIME_INSUFFICIENT"
    )


def test_a_provisional_working_day_count_schedules_with_a_warning(open_cast):
    WorkingCalendarYear.objects.filter(year=2025).delete()
    decision = ready(open_cast, received_on=date(2025, 4, 7))
    decision = schedule(open_cast, decision, date=date(2025, 4, 17))
    assert [w["code"] for w in decision.warnings] == ["WORKING_DAYS_PROVISIONAL"]
    assert AgendaItem.objects.get(decision=decision).review_days_provisional is True


def test_a_loaded_calendar_schedules_without_a_warning(open_cast):
    calendar.load_shipped()
    decision = schedule(open_cast, ready(open_cast, received_on=date(2025, 4, 7)), date=date(2025, 4, 17))
    assert decision.warnings == []
    assert AgendaItem.objects.get(decision=decision).review_days_provisional is False


def test_scenario_41_a_high_risk_blocks_scheduling(open_cast):
    decision = ready(open_cast, risk_level="HIGH")
    meeting = walk.hold_meeting(open_cast)
    before = snapshot(decision)
    error = refused(svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=meeting)
    assert error.code == "RISK_NOT_CONTROLLABLE"
    assert snapshot(decision) == before
    assert "T20b" in lifecycle.steps_from(fresh(decision).state)


def test_scenario_42_a_new_medium_assessment_of_a_later_draft_opens_the_way(open_cast):
    decision = ready(open_cast, risk_level="HIGH")
    svc.pull_back_for_revision(open_cast[Role.GOV_OFFICE], decision, reason="高风险，调整草案并重新评估")
    legality.rerun_procedures(
        open_cast[Role.UNDERTAKING_LEAD],
        decision,
        rerun_stages=[Stage.RA],
        keep_justification="未作实质调整",
        draft=doc(DocumentType.DRAFT, "v-adjusted"),
        change_summary="调整补助标准",
        reason="降低风险",
    )
    walk_consultation.assess_risk(open_cast, decision, level="MEDIUM")
    walk_legal.review(open_cast, decision)
    decision = walk_legal.to_ready_for_meeting(open_cast, decision)
    decision = walk.decide(open_cast, decision, controllability=CONTROLLABLE)
    assert decision.state == "DECIDED"
    result = CollectiveOutcome.objects.get(agenda_item__decision=decision)
    assert result.controllability_judgement == CONTROLLABLE


def test_a_later_assessment_of_the_same_draft_does_not_lift_a_high_risk(open_cast):
    decision = consulted(open_cast, risk=False)
    consultation.reopen(open_cast[Role.UNDERTAKING_LEAD], decision, Stage.RA, reason="补充评估")
    walk_consultation.assess_risk(open_cast, decision, level="HIGH")
    consultation.reopen(
        open_cast[Role.UNDERTAKING_LEAD], decision, Stage.RA, reason="再次评估", stale_result="高风险评估结论待复核"
    )
    walk_consultation.assess_risk(open_cast, decision, level="LOW")
    walk_legal.review(open_cast, decision)
    decision = walk_legal.to_ready_for_meeting(open_cast, decision)
    error = refused(
        svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=walk.hold_meeting(open_cast)
    )
    assert error.code == "RISK_NOT_CONTROLLABLE"


def prior_assessment(cast, level):
    """A decision whose RA was closed NOT_TRIGGERED as already assessed under other rules, at `level`."""
    decision = walk_init.draft(cast, walk_init.initiate(cast, walk_init.propose(cast)))
    walk_consultation.participate(cast, decision)
    walk_consultation.skip_expert_review(cast, decision)
    consultation.close_not_triggered(
        cast[Role.UNDERTAKING_LEAD],
        decision,
        Stage.RA,
        reason_code="ALREADY_ASSESSED_UNDER_OTHER_RULES",
        reason_text="项目已按发改投资〔2012〕2492号开展社会稳定风险评估",
        prior_assessment_level=level,
        documents=[doc(DocumentType.PRIOR_ASSESSMENT)],
    )
    walk_legal.review(cast, decision)
    return walk_legal.to_ready_for_meeting(cast, decision)


@pytest.mark.parametrize(
    ("level", "code"), [("HIGH", "RISK_NOT_CONTROLLABLE"), ("MEDIUM", "RISK_MITIGATION_PLAN_MISSING")]
)
def test_a_prior_assessments_level_passes_through_the_risk_gate(open_cast, level, code):
    decision = prior_assessment(open_cast, level)
    error = refused(
        svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=walk.hold_meeting(open_cast)
    )
    assert error.code == code


def test_a_prior_low_assessment_schedules_and_needs_the_organs_judgement(open_cast):
    decision = schedule(open_cast, prior_assessment(open_cast, "LOW"))
    speak(open_cast, decision, [APPROVE] * 5)
    assert refused(outcome, open_cast, decision).code == "RISK_NOT_CONTROLLABLE"
    assert outcome(open_cast, decision, controllability_judgement=CONTROLLABLE).state == "DECIDED"


def test_no_risk_gate_and_no_judgement_when_risk_assessment_was_not_triggered(open_cast):
    decision = schedule(open_cast, ready(open_cast, risk=False))
    speak(open_cast, decision, [APPROVE] * 5)
    assert outcome(open_cast, decision).state == "DECIDED"


def test_a_risk_assessment_marked_stale_blocks_scheduling(open_cast):
    decision = ready(open_cast)
    consultation.mark_assessment_stale(open_cast[Role.RISK_ASSESSOR], decision, reason="实施条件发生变化")
    error = refused(
        svc.schedule_for_meeting, open_cast[Role.GOV_OFFICE], decision, meeting=walk.hold_meeting(open_cast)
    )
    assert error.code == "RISK_ASSESSMENT_STALE"


def test_an_open_catalogue_removal_blocks_scheduling(cast):
    decision = walk_init.propose(cast)
    catalogue = catalog_walk.publish_catalogue(cast, decisions=[decision])
    decision = ready(cast, listed=fresh(decision))
    entry = catalogue.entries_at().get(decision=decision)
    catalog_services.propose_adjustment(cast[Role.GOV_OFFICE], catalogue, kind="REMOVE", reason="不再决策", entry=entry)
    meeting = walk.hold_meeting(cast)
    before = snapshot(decision)
    error = refused(svc.schedule_for_meeting, cast[Role.GOV_OFFICE], decision, meeting=meeting)
    assert error.code == "CATALOGUE_ADJUSTMENT_OPEN"
    assert snapshot(decision) == before


# -- T19a ---------------------------------------------------------------------------------------


def test_unscheduling_needs_a_reason_and_freezes_the_cd_record(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    before = snapshot(decision)
    assert refused(svc.unschedule, open_cast[Role.GOV_OFFICE], decision, reason="").code == "REASON_REQUIRED"
    assert snapshot(decision) == before

    decision = svc.unschedule(open_cast[Role.GOV_OFFICE], decision, reason="会议延期")
    assert decision.state == "READY_FOR_MEETING"
    item = AgendaItem.objects.get(decision=decision)
    assert item.removed_reason == "会议延期" and not CollectiveOutcome.objects.filter(agenda_item=item).exists()
    record = StageRecord.objects.get(pk=item.stage_record_id)
    assert record.status == StageStatus.IN_PROGRESS and record.frozen_at is not None
    upload = refused(documents.upload, open_cast[Role.GOV_OFFICE], decision, Stage.CD, doc(DocumentType.MINUTES))
    assert upload.code in ("DOCUMENT_IMMUTABLE", "STATE_PREREQUISITE_MISSING")

    decision = schedule(open_cast, decision)
    assert decision.state == "SCHEDULED"
    new = decision.current_record(Stage.CD)
    assert new.supersedes_id == record.pk and new.status == StageStatus.IN_PROGRESS


# -- statements ---------------------------------------------------------------------------------


def test_statements_are_numbered_in_speaking_order_and_kept_verbatim(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    text = "  我保留意见：补助资金来源不明确。\n请记录在案。  "
    first = svc.record_statement(
        open_cast[Role.GOV_OFFICE], decision, member=open_cast.extra["members"][0], position=REJECT, text=text
    )
    second = svc.record_statement(
        open_cast[Role.GOV_OFFICE], decision, member=open_cast.extra["members"][1], position=NO_OPINION
    )
    assert (first.seq, second.seq) == (1, 2)
    first.refresh_from_db()
    assert first.text == text


def test_a_statement_is_refused_from_someone_absent_or_falsely_marked_as_chief(open_cast):
    decision = ready(open_cast)
    meeting = walk.hold_meeting(open_cast, present=members(open_cast)[:5])
    decision = schedule(open_cast, decision, meeting_obj=meeting)
    absent = members(open_cast)[5]
    assert refused(
        svc.record_statement, open_cast[Role.GOV_OFFICE], decision, member=absent, position=APPROVE
    ).code == ("MEMBER_NOT_PRESENT")
    error = refused(
        svc.record_statement,
        open_cast[Role.GOV_OFFICE],
        decision,
        member=members(open_cast)[1],
        position=APPROVE,
        is_chief=True,
    )
    assert error.code == "CHIEF_ROLE_MISSING"
    assert refused(
        svc.record_statement, open_cast[Role.GOV_OFFICE], decision, member=absent, position="MAYBE"
    ).code == ("POSITION_INVALID")


def test_a_statement_needs_the_decision_on_an_agenda(open_cast):
    decision = ready(open_cast)
    error = refused(
        svc.record_statement, open_cast[Role.GOV_OFFICE], decision, member=open_cast[Role.CHIEF], position=APPROVE
    )
    assert error.code == "STATE_PREREQUISITE_MISSING"


# -- T20 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("present", "passes"), [(3, False), (4, True)])
def test_quorum_is_more_than_half_of_the_members(open_cast, present, passes):
    decision = ready(open_cast)
    meeting = walk.hold_meeting(open_cast, present=members(open_cast)[:present])
    decision = schedule(open_cast, decision, meeting_obj=meeting)
    speak(open_cast, decision, [APPROVE] * (present - 1))
    if passes:
        assert outcome(open_cast, decision, controllability_judgement=CONTROLLABLE).state == "DECIDED"
    else:
        before = snapshot(decision)
        assert refused(outcome, open_cast, decision, controllability_judgement=CONTROLLABLE).code == "QUORUM_NOT_MET"
        assert snapshot(decision) == before


def test_every_present_member_must_state_a_position_or_no_opinion(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, [APPROVE] * 4)
    before = snapshot(decision)
    error = refused(outcome, open_cast, decision, controllability_judgement=CONTROLLABLE)
    assert error.code == "MEMBER_STATEMENT_MISSING"
    assert snapshot(decision) == before


def test_an_explicit_no_opinion_counts_as_a_statement(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, [APPROVE, APPROVE, APPROVE, NO_OPINION, NO_OPINION])
    assert outcome(open_cast, decision, controllability_judgement=CONTROLLABLE).state == "DECIDED"


def test_the_chief_must_speak_last(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, [APPROVE] * 4)
    svc.record_statement(
        open_cast[Role.GOV_OFFICE], decision, member=open_cast[Role.CHIEF], position=APPROVE, is_chief=True
    )
    svc.record_statement(open_cast[Role.GOV_OFFICE], decision, member=open_cast.extra["members"][4], position=APPROVE)
    assert refused(outcome, open_cast, decision, controllability_judgement=CONTROLLABLE).code == "CHIEF_NOT_LAST"
    svc.record_statement(
        open_cast[Role.GOV_OFFICE],
        decision,
        member=open_cast[Role.CHIEF],
        position=APPROVE,
        is_chief=True,
        text="综合意见，同意",
    )
    assert outcome(open_cast, decision, controllability_judgement=CONTROLLABLE).state == "DECIDED"


def test_without_the_chiefs_statement_the_outcome_is_refused_as_chief_not_last(open_cast):
    decision = ready(open_cast)
    meeting = walk.hold_meeting(open_cast, present=open_cast.extra["members"])
    decision = schedule(open_cast, decision, meeting_obj=meeting)
    speak(open_cast, decision, [APPROVE] * 5, chief=None)
    error = refused(outcome, open_cast, decision, outcome=APPROVE, controllability_judgement=CONTROLLABLE)
    assert error.codes == ["CHIEF_NOT_LAST"]


@pytest.mark.parametrize(
    ("positions", "chief", "differs"),
    [
        ([APPROVE] * 5, APPROVE, False),
        ([APPROVE, APPROVE, APPROVE, REJECT, REJECT], APPROVE, False),
        ([APPROVE, APPROVE, REJECT, REJECT, REJECT], APPROVE, True),
        ([APPROVE, APPROVE, DEFER, DEFER, REJECT], APPROVE, True),
        ([NO_OPINION] * 5, APPROVE, False),
        ([APPROVE, APPROVE, NO_OPINION, NO_OPINION, NO_OPINION], APPROVE, False),
        ([REJECT, NO_OPINION, NO_OPINION, NO_OPINION, NO_OPINION], APPROVE, True),
        ([APPROVE, APPROVE, REJECT, REJECT, NO_OPINION], APPROVE, True),
        ([APPROVE] * 5, DEFER, True),
    ],
)
def test_a_chief_deciding_against_the_majority_must_give_a_reason(open_cast, positions, chief, differs):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, positions, chief=chief)
    if differs:
        error = refused(outcome, open_cast, decision, controllability_judgement=CONTROLLABLE)
        assert error.code == "CHIEF_REASON_MISSING"
        outcome(open_cast, decision, controllability_judgement=CONTROLLABLE, chief_reason="综合考虑财政承受能力")
    else:
        outcome(open_cast, decision, controllability_judgement=CONTROLLABLE)
    result = CollectiveOutcome.objects.get(agenda_item__decision=decision)
    assert result.outcome == chief
    assert result.chief_differs_from_majority is differs


def test_the_outcome_is_the_chiefs_decision(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, [APPROVE] * 5)
    error = refused(outcome, open_cast, decision, outcome=REJECT, controllability_judgement=CONTROLLABLE)
    assert error.code == "OUTCOME_NOT_CHIEF_DECISION"


@pytest.mark.parametrize(
    ("judgement", "chief", "allowed"),
    [
        ("", APPROVE, False),
        (NOT_CONTROLLABLE, APPROVE, False),
        (NOT_CONTROLLABLE, REDISCUSS, False),
        (CONTROLLABLE, APPROVE, True),
        (NOT_CONTROLLABLE, REJECT, True),
        (NOT_CONTROLLABLE, DEFER, True),
        (NOT_CONTROLLABLE, MODIFY, True),
        ("", REJECT, True),
    ],
)
def test_approve_needs_the_organs_controllable_judgement(open_cast, judgement, chief, allowed):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, [chief] * 5, chief=chief)
    if allowed:
        outcome(open_cast, decision, controllability_judgement=judgement)
    else:
        before = snapshot(decision)
        error = refused(outcome, open_cast, decision, controllability_judgement=judgement)
        assert error.code == "RISK_NOT_CONTROLLABLE"
        assert "第二十四条" in error.failures[0].rule.citation
        assert snapshot(decision) == before


@pytest.mark.parametrize(
    ("chief", "state"),
    [
        (APPROVE, "DECIDED"),
        (REJECT, "REJECTED"),
        (DEFER, "DEFERRED"),
        (MODIFY, "REVISING"),
        (REDISCUSS, "READY_FOR_MEETING"),
    ],
)
def test_each_outcome_leads_to_its_state_and_closes_the_cd_record_signed_by_the_office(open_cast, chief, state):
    decision = walk.decide(open_cast, ready(open_cast), chief, controllability=CONTROLLABLE)
    assert decision.state == state
    record = AgendaItem.objects.get(decision=decision).stage_record
    record.refresh_from_db()
    assert (record.status, record.outcome) == (StageStatus.DONE, chief)
    signoff = record.signoffs.get()
    assert (signoff.user, signoff.role) == (open_cast[Role.GOV_OFFICE], "GOV_OFFICE")
    assert signoff.manifest["minutes"]["outcome"] == chief
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="transition:T20").count() == 1


def test_the_minutes_document_is_required_to_close_the_cd_record(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, [APPROVE] * 5)
    error = refused(outcome, open_cast, decision, controllability_judgement=CONTROLLABLE, minutes=False)
    assert error.codes == ["DOSSIER_ITEM_MISSING"]
    assert "会议纪要" in error.failures[0].rule.zh


def test_scenario_46_two_dissents_appear_verbatim_in_the_minutes_and_the_signed_record(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    dissent = {0: "我不同意：资金来源不明确。", 1: "反对。建议暂缓，先开展试点。"}
    speak(open_cast, decision, [REJECT, REJECT, APPROVE, APPROVE, APPROVE], texts=dissent)
    decision = outcome(open_cast, decision, controllability_judgement=CONTROLLABLE)
    minutes = svc.minutes(decision)[-1]
    assert [d["text"] for d in minutes["dissent"]] == [dissent[0], dissent[1]]
    assert minutes["meeting"]["quorum_met"] and len(minutes["statements"]) == 6
    assert minutes["statements"][-1]["is_chief"]
    signed = AgendaItem.objects.get(decision=decision).stage_record.signoffs.get().manifest["minutes"]
    assert [d["text"] for d in signed["dissent"]] == [dissent[0], dissent[1]]


def test_scenario_48_a_rejected_decision_can_only_be_archived(open_cast):
    decision = walk.decide(open_cast, ready(open_cast), REJECT, controllability=CONTROLLABLE)
    assert decision.state == "REJECTED"
    assert lifecycle.steps_from("REJECTED") == ["T30"]
    error = refused(walk.publish, open_cast, decision)
    assert error.code == "DECISION_CLOSED"


def test_approve_with_amended_wording_stores_the_adopted_text(open_cast):
    decision = ready(open_cast)
    reviewed = decision.current_draft
    decision = walk.decide(open_cast, decision, controllability=CONTROLLABLE, amendments="第三条“三年”改为“五年”")
    adopted = decision.current_draft
    assert adopted.number == reviewed.number + 1 and adopted.adopted_at_meeting
    result = CollectiveOutcome.objects.get(agenda_item__decision=decision)
    assert result.adopted_version == adopted and result.amendments == "第三条“三年”改为“五年”"
    assert AgendaItem.objects.get(decision=decision).stage_record.draft_version == reviewed


def test_amended_wording_needs_both_the_changes_and_the_adopted_text(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, [APPROVE] * 5)
    before = snapshot(decision)
    error = refused(outcome, open_cast, decision, controllability_judgement=CONTROLLABLE, amendments="改一处")
    assert error.code == "DOSSIER_ITEM_MISSING"
    error = refused(
        outcome,
        open_cast,
        decision,
        controllability_judgement=CONTROLLABLE,
        adopted_draft=doc(DocumentType.DRAFT, "adopted"),
    )
    assert error.code == "DOSSIER_ITEM_MISSING"
    assert snapshot(decision) == before


def test_an_adopted_text_goes_with_approve_only(open_cast):
    decision = schedule(open_cast, ready(open_cast))
    speak(open_cast, decision, [DEFER] * 5, chief=DEFER)
    error = refused(outcome, open_cast, decision, amendments="改一处", adopted_draft=doc(DocumentType.DRAFT, "x"))
    assert error.code == "OUTCOME_INVALID"


def test_rejecting_an_adjusted_draft_returns_the_decision_in_force_to_execution(open_cast):
    from decisions.walkthrough import implementation as walk_impl

    decision = walk.publish(open_cast, walk.decide(open_cast, ready(open_cast), controllability=CONTROLLABLE))
    in_force = decision.in_force_version
    decision = walk_impl.adjust(open_cast, walk_impl.implement(open_cast, decision))
    assert decision.state == "DRAFTING"
    decision = rerun_to_ready(open_cast, decision)
    decision = walk.decide(open_cast, decision, REJECT, controllability=CONTROLLABLE)
    assert decision.state == "IMPLEMENTING"
    assert decision.in_force_version == in_force
    assert decision.adjustments.get().closed_as == "REJECTED"


def rerun_to_ready(cast, decision):
    """From DRAFTING after T27: open consultation again, close the sub-stages, review, ready."""
    from decisions.services import initiation

    initiation.open_consultation(
        cast[Role.UNDERTAKING_LEAD],
        decision,
        answers=dict(walk_init.QUESTIONNAIRE_NO),
        documents=[
            doc(DocumentType.RESEARCH_REPORT),
            doc(DocumentType.LAW_POLICY_LIST),
            doc(DocumentType.CONSULTATION_RECORD),
            doc(DocumentType.DRAFT_EXPLANATION),
        ],
    )
    walk_consultation.consult(cast, decision, expert=False)
    walk_legal.review(cast, decision)
    return walk_legal.to_ready_for_meeting(cast, decision)


# -- T20a, T20b ---------------------------------------------------------------------------------


def test_a_deferred_decision_comes_back_to_a_new_meeting(open_cast):
    decision = walk.decide(open_cast, ready(open_cast), DEFER, controllability=CONTROLLABLE)
    decision = svc.bring_back_after_deferral(open_cast[Role.GOV_OFFICE], decision)
    assert decision.state == "READY_FOR_MEETING"
    decision = walk.decide(
        open_cast, decision, controllability=CONTROLLABLE, date=timezone.localdate() + timedelta(days=7)
    )
    assert decision.state == "DECIDED"
    assert AgendaItem.objects.filter(decision=decision).count() == 2
    assert [m["outcome"] for m in svc.minutes(decision)] == [DEFER, APPROVE]


def test_bringing_back_a_deferred_decision_rechecks_the_opinion(open_cast):
    decision = walk.decide(open_cast, ready(open_cast), DEFER, controllability=CONTROLLABLE)
    legality.mark_opinion_stale(open_cast[Role.LEGAL_REVIEWER], decision, reason="情况变化")
    before = snapshot(decision)
    error = refused(svc.bring_back_after_deferral, open_cast[Role.GOV_OFFICE], decision)
    assert error.code == "LEGALITY_OPINION_STALE"
    assert snapshot(decision) == before


@pytest.mark.parametrize("where", ["LEGAL_REVIEW_DONE", "READY_FOR_MEETING", "DEFERRED"])
def test_pulling_back_for_revision_needs_a_reason(open_cast, where):
    decision = consulted(open_cast)
    walk_legal.review(open_cast, decision)
    if where != "LEGAL_REVIEW_DONE":
        decision = walk_legal.to_ready_for_meeting(open_cast, decision)
    if where == "DEFERRED":
        decision = walk.decide(open_cast, decision, DEFER, controllability=CONTROLLABLE)
    assert fresh(decision).state == where
    before = snapshot(decision)
    assert refused(svc.pull_back_for_revision, open_cast[Role.GOV_OFFICE], decision, reason=" ").code == (
        "REASON_REQUIRED"
    )
    assert snapshot(decision) == before
    assert svc.pull_back_for_revision(open_cast[Role.GOV_OFFICE], decision, reason="草案须调整").state == "REVISING"


# -- who may do what ----------------------------------------------------------------------------


def _calls(cast, decision, meeting):
    office = {Role.GOV_OFFICE}
    return [
        (office, lambda u: svc.create_meeting(u, cast.organ, meeting_type="EXECUTIVE", title="会", date=date.today())),
        (office, lambda u: svc.record_attendance(u, meeting, members(cast))),
        (office, lambda u: svc.record_time_override(u, decision, meeting=meeting, reason="紧急")),
        ({Role.LEGAL_REVIEWER}, lambda u: svc.acknowledge_time_override(u, decision, meeting=meeting)),
        (office, lambda u: svc.schedule_for_meeting(u, decision, meeting=meeting)),
        (office, lambda u: svc.unschedule(u, decision, reason="取消")),
        (office, lambda u: svc.record_statement(u, decision, member=cast[Role.CHIEF], position=APPROVE)),
        (office, lambda u: svc.record_meeting_outcome(u, decision, outcome=APPROVE)),
        (office, lambda u: svc.bring_back_after_deferral(u, decision)),
        (office, lambda u: svc.pull_back_for_revision(u, decision, reason="修改")),
    ]


@pytest.mark.parametrize("role", Role.values)
def test_only_the_roles_of_the_table_may_act_on_the_meeting(open_cast, role):
    decision = walk_init.propose(open_cast)
    meeting = walk.hold_meeting(open_cast)
    user = AnonymousUser() if role == Role.PUBLIC else open_cast[role]
    for allowed, call in _calls(open_cast, decision, meeting):
        if role in allowed:
            try:
                call(user)
            except NotPermitted:  # pragma: no cover - a failure message
                pytest.fail(f"{role} was refused a step it may take")
            except ProcedureRefused:
                pass
        else:
            with pytest.raises(NotPermitted):
                call(user)
