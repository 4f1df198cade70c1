"""Every role against every step of the table (B1, B5 "A" column), through the one gate services use."""

import pytest

from decisions import lifecycle
from decisions.models import Role
from decisions.permissions import NotPermitted, require_role, roles_for
from decisions.services import initiation
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk

HUMAN_ROLES = [r for r in Role.values if r != Role.PUBLIC]


@pytest.fixture
def started(open_cast):
    """A decision with its lead unit and co-unit named, and the cast whose users hold every role."""
    return open_cast, walk.initiate(open_cast, walk.propose(open_cast))


def test_each_user_of_the_cast_holds_their_role_for_the_decision(started):
    cast, decision = started
    for role in HUMAN_ROLES:
        assert role in roles_for(cast[role], decision), role


@pytest.mark.parametrize("tid", sorted(t for t, s in lifecycle.STEPS.items() if s.roles != (lifecycle.SYSTEM,)))
def test_only_the_roles_the_table_names_pass_the_gate_for_each_step(started, tid):
    cast, decision = started
    allowed = lifecycle.STEPS[tid].roles
    for role in HUMAN_ROLES:
        if role in allowed:
            assert require_role(cast[role], decision, allowed) == role
        elif not set(allowed) & roles_for(cast[role], decision):
            with pytest.raises(NotPermitted) as refused:
                require_role(cast[role], decision, allowed)
            assert refused.value.code == "ROLE_NOT_PERMITTED"


def test_a_role_held_for_another_organ_does_not_count(cast_factory, profile_variant):
    profile = profile_variant("huzhou", catalogue_required=False)
    here, elsewhere = cast_factory(profile=profile.code), cast_factory(profile=profile.code)
    decision = walk.initiate(here, walk.propose(here))
    for role in HUMAN_ROLES:
        assert roles_for(elsewhere[role], decision) == set(), role


ACTIONS = {
    "T2 declare_not_applicable": lambda d, u: initiation.declare_not_applicable(u, d, reason="LEGISLATION"),
    "T2a decline": lambda d, u: initiation.decline(u, d, reason="r"),
    "T5 start_drafting": lambda d, u: initiation.start_drafting(u, d),
    "T6 open_consultation": lambda d, u: initiation.open_consultation(u, d, answers={}),
    "drafting uploads": lambda d, u: initiation.upload_drafting_documents(u, d, [doc("RESEARCH_REPORT")]),
    "proposal fields": lambda d, u: initiation.complete_proposal_fields(u, d, problem="x"),
}
ALLOWED = {
    "T2 declare_not_applicable": {Role.GOV_OFFICE},
    "T2a decline": {Role.GOV_OFFICE},
    "T5 start_drafting": {Role.UNDERTAKING_LEAD},
    "T6 open_consultation": {Role.UNDERTAKING_LEAD},
    "drafting uploads": {Role.UNDERTAKING_LEAD, Role.UNDERTAKING_CO},
    "proposal fields": {Role.GOV_OFFICE, Role.UNDERTAKING_LEAD},
}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_initiation_services_refuse_every_role_but_their_own(started, name):
    cast, decision = started
    # The executor and hearing organiser sit in the lead unit but hold only their own roles.
    for role in HUMAN_ROLES:
        held = roles_for(cast[role], decision)
        if held & ALLOWED[name]:
            continue
        with pytest.raises(NotPermitted):
            ACTIONS[name](decision, cast[role])
    decision.refresh_from_db()
    assert decision.state == "INITIATED"
