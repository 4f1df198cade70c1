"""The decision page: who may open it, its timeline, and the "why can't I advance?" panel (decisions.progress).

The panel judges each next step with the rule objects the services enforce; these tests check that what
it says matches what the service then does."""

import pytest
from django.urls import reverse

from decisions import progress
from decisions.models import Decision, Role
from decisions.permissions import roles_for, visible_decisions
from decisions.rules import ProcedureRefused
from decisions.services import legality
from decisions.walkthrough import consultation as consult
from decisions.walkthrough import implementation as implementation_walk
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as legality_walk
from decisions.walkthrough import meeting as meeting_walk

pytestmark = pytest.mark.django_db


def consulting(cast):
    return walk.draft(cast, walk.initiate(cast, walk.propose(cast)))


def under_review(cast):
    decision = consulting(cast)
    consult.consult(cast, decision, expert=False, risk=False)
    decision = legality_walk.submit(cast, Decision.objects.get(pk=decision.pk))
    return legality.accept_submission(cast["LEGAL_REVIEWER"], decision)


def by_stage(decision, steps=None):
    return {v.stage: v for v in progress.timeline(Decision.objects.get(pk=decision.pk), steps)}


# -- who may open it -------------------------------------------------------------------------------


def test_the_anonymous_public_is_sent_to_the_login_page(client, open_cast):
    decision = walk.propose(open_cast)
    response = client.get(reverse("decisions:detail", args=[decision.reference]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PUBLIC])
def test_every_role_of_the_organ_opens_the_page_and_no_role_of_another_government_does(
    client, cast_factory, open_cast, role
):
    decision = consulting(open_cast)
    other = cast_factory()
    if open_cast[role] is not None:
        client.force_login(open_cast[role])
        page = client.get(reverse("decisions:detail", args=[decision.reference]))
        assert page.status_code == 200 and decision.title in page.content.decode()
    if other[role] is not None:
        client.force_login(other[role])
        assert client.get(reverse("decisions:detail", args=[decision.reference])).status_code == 403


def test_the_list_shows_the_decisions_a_user_has_a_role_for_and_filters_them(client, cast_factory, open_cast):
    mine = [consulting(open_cast), walk.propose(open_cast, title="城区停车收费管理办法")]
    theirs = walk.propose(cast_factory(), title="别的政府的决策事项")
    client.force_login(open_cast["GOV_OFFICE"])
    page = client.get(reverse("decisions:index")).content.decode()
    assert all(d.reference in page for d in mine) and theirs.reference not in page
    filtered = client.get(reverse("decisions:index"), {"q": "停车"}).content.decode()
    assert mine[1].reference in filtered and mine[0].reference not in filtered
    by_state = client.get(reverse("decisions:index"), {"state": "CONSULTATION"}).content.decode()
    assert mine[0].reference in by_state and mine[1].reference not in by_state


def test_the_decisions_listed_for_a_user_are_those_the_role_gate_counts(cast_factory, open_cast):
    """visible_decisions() filters in the database what roles_for() decides in Python: they must agree."""
    county = cast_factory(profile=open_cast.organ.profile_code, parent=open_cast.organ, level="COUNTY")
    decisions = [
        walk.propose(open_cast),  # no lead unit yet
        consulting(open_cast),  # lead unit and co-units named
        walk.propose(county),
        consulting(county),
    ]
    implemented = meeting_walk.publish(
        open_cast,
        meeting_walk.decide(
            open_cast,
            meeting_walk.schedule(open_cast, legality_walk.to_ready_for_meeting(open_cast, _reviewed(open_cast))),
        ),
    )
    decisions.append(implementation_walk.implement(open_cast, implemented))
    users = {user for cast in (open_cast, county) for user in cast.users.values() if user is not None}
    for user in users:
        expected = {d.pk for d in decisions if roles_for(user, Decision.objects.get(pk=d.pk))}
        listed = set(visible_decisions(user).filter(pk__in=[d.pk for d in decisions]).values_list("pk", flat=True))
        assert listed == expected, user.username


def _reviewed(cast):
    decision = consulting(cast)
    consult.consult(cast, decision, expert=False, risk=False)
    return legality_walk.review(cast, Decision.objects.get(pk=decision.pk))


# -- the timeline ----------------------------------------------------------------------------------


def test_the_timeline_shows_what_is_done_not_triggered_current_and_to_come(open_cast):
    decision = under_review(open_cast)
    stages = by_stage(decision)
    assert [stages[s].status for s in ("INITIATION", "DRAFTING", "PP")] == ["done", "done", "done"]
    assert stages["HEARING"].status == "not_triggered" and stages["HEARING"].detail
    assert stages["EX"].status == stages["RA"].status == "not_triggered"
    assert stages["LR"].status == "current"
    assert stages["CD"].status == stages["ARC"].status == "todo"


def test_a_comment_period_that_ended_without_the_summary_shows_participation_as_late(open_cast):
    decision = consulting(open_cast)
    consult.comment(open_cast, decision, ended_days_ago=3)
    pp = by_stage(decision)["PP"]
    assert pp.status == "late" and "截止" in pp.detail
    running = consulting(open_cast)
    consult.comment(open_cast, running, ended_days_ago=-5)
    assert by_stage(running)["PP"].status == "current" and by_stage(running)["PP"].due is not None


def test_a_withdrawn_decision_shows_its_open_stages_frozen_and_the_rest_not_reached(open_cast):
    decision = consulting(open_cast)
    decision = implementation_walk_end(open_cast, decision)
    stages = by_stage(decision)
    assert stages["PP"].status == "frozen" and stages["LR"].status == "not_reached"
    assert stages["ARC"].status == "todo"  # archiving is what remains (T30)


def implementation_walk_end(cast, decision):
    from decisions.services import implementation

    return implementation.end_without_catalogue(cast["GOV_OFFICE"], decision, reason="情况变化，终止决策程序")


# -- why can't I advance? --------------------------------------------------------------------------


def test_legality_review_without_a_legal_advisers_opinion_is_shown_blocked_citing_article_28(client, open_cast):
    decision = under_review(open_cast)
    steps = progress.next_steps(decision, roles_for(open_cast["LEGAL_REVIEWER"], decision))
    opinion = next(s for s in steps if s.tid == "T14")
    assert opinion.yours and not opinion.ready
    assert [c.code for c in opinion.hard_blockers] == ["LEGAL_ADVISER_OPINION_MISSING"]
    assert "第二十八条" in opinion.hard_blockers[0].article
    assert {c.code for c in opinion.inputs} >= {"LEGALITY_OPINION_INCOMPLETE"}  # what the form will ask
    # The service refuses for the same reason.
    with pytest.raises(ProcedureRefused) as refused:
        legality.issue_legality_opinion(
            open_cast["LEGAL_REVIEWER"], decision, outcome="LAWFUL", **legality_walk.OPINION_TEXTS
        )
    assert refused.value.code == "LEGAL_ADVISER_OPINION_MISSING"

    client.force_login(open_cast["LEGAL_REVIEWER"])
    page = client.get(reverse("decisions:detail", args=[decision.reference])).content.decode()
    assert "LEGAL_ADVISER_OPINION_MISSING" in page and "第二十八条" in page and "尚不能办理" in page
    assert by_stage(decision, steps)["LR"].status == "blocked"


def test_a_step_that_is_ready_is_shown_ready_and_the_service_takes_it(open_cast):
    decision = under_review(open_cast)
    steps = progress.next_steps(decision, roles_for(open_cast["LEGAL_REVIEWER"], decision))
    supplement = next(s for s in steps if s.tid == "T13a")
    assert supplement.ready and [c.code for c in supplement.inputs] == ["REASON_REQUIRED"]
    legality.request_supplement(open_cast["LEGAL_REVIEWER"], decision, reason="请补充风险评估相关说明")
    assert Decision.objects.get(pk=decision.pk).state == "LEGAL_REVIEW_RETURNED"


def test_steps_that_are_not_for_this_decision_are_not_offered(open_cast):
    decision = under_review(open_cast)
    tids = {s.tid for s in progress.next_steps(decision)}
    assert "T27b" not in tids and "T28" not in tids  # no decision in force to adjust or stop
    assert {"T13a", "T14"} <= tids


def test_a_missing_document_is_asked_for_with_the_step_not_shown_as_a_blocker_elsewhere(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    from decisions.services import initiation

    decision = initiation.start_drafting(open_cast["UNDERTAKING_LEAD"], decision)
    (step,) = [s for s in progress.next_steps(decision, {"UNDERTAKING_LEAD"}) if s.tid == "T6"]
    assert step.blockers and not step.hard_blockers  # documents the form uploads
    assert by_stage(decision, [step])["DRAFTING"].status == "current"


def test_the_closing_step_of_an_open_sub_stage_is_judged_on_that_stage(open_cast):
    decision = consulting(open_cast)
    consult.comment(open_cast, decision, ended_days_ago=-10)
    steps = progress.next_steps(Decision.objects.get(pk=decision.pk), {"UNDERTAKING_LEAD"})
    (close_pp,) = [s for s in steps if s.tid == "T7"]
    assert close_pp.stage == "PP" and "COMMENT_PERIOD_OPEN" in {c.code for c in close_pp.blockers}


def test_a_closed_decision_offers_only_archiving(open_cast):
    decision = implementation_walk_end(open_cast, consulting(open_cast))
    assert [s.tid for s in progress.next_steps(decision)] == ["T30"]
