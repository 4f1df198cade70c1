"""Who may take each legality-review action (B1, B5 "A"): only the allowed roles pass the gate."""

import pytest
from django.contrib.auth.models import AnonymousUser

from decisions.models import DocumentType, Role
from decisions.permissions import NotPermitted
from decisions.rules import ProcedureRefused
from decisions.services import legality
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk
from tests.records import record_events

LEAD = {Role.UNDERTAKING_LEAD}
REVIEWER = {Role.LEGAL_REVIEWER}
ACTIONS = {
    "T10 submit_for_legality_review": (LEAD, lambda u, d: legality.submit_for_legality_review(u, d)),
    "T11 return_submission": (REVIEWER, lambda u, d: legality.return_submission(u, d, reason="缺材料")),
    "T12 resubmit": (LEAD, lambda u, d: legality.resubmit(u, d)),
    "T13 accept_submission": (REVIEWER, lambda u, d: legality.accept_submission(u, d)),
    "T13a request_supplement": (REVIEWER, lambda u, d: legality.request_supplement(u, d, reason="补充")),
    "T14 issue_legality_opinion": (
        REVIEWER,
        lambda u, d: legality.issue_legality_opinion(u, d, outcome="LAWFUL", authority="a", procedure="p", content="c"),
    ),
    "record_draft_assessment": (
        REVIEWER,
        lambda u, d: legality.record_draft_assessment(u, d, substantive_change=False, reason="文字调整"),
    ),
    "mark_opinion_stale": (REVIEWER, lambda u, d: legality.mark_opinion_stale(u, d, reason="上位法修订")),
    "T16 resubmit_new_round": (LEAD, lambda u, d: legality.resubmit_new_round(u, d)),
    "T16a rerun_procedures": (
        LEAD,
        lambda u, d: legality.rerun_procedures(
            u, d, rerun_stages=["RA"], keep_justification="不受影响", draft=doc(DocumentType.DRAFT, "v2")
        ),
    ),
    "T17 confirm_modifications": (LEAD, lambda u, d: legality.confirm_modifications(u, d)),
    "T18 proceed_to_meeting": (LEAD, lambda u, d: legality.proceed_to_meeting(u, d)),
}


@pytest.mark.parametrize("role", list(Role.values))
def test_each_legality_action_admits_only_its_roles(open_cast, role):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    user = AnonymousUser() if role == Role.PUBLIC else open_cast.users[role]
    for name, (allowed, call) in ACTIONS.items():
        before = (record_events().count(), decision.state)
        with pytest.raises(ProcedureRefused) as caught:  # in CONSULTATION none of them can succeed
            call(user, decision)
        decision.refresh_from_db()
        assert (record_events().count(), decision.state) == before, name
        if role in allowed:
            assert not isinstance(caught.value, NotPermitted), name
        else:
            assert isinstance(caught.value, NotPermitted), name


def test_a_reviewer_of_another_organ_is_not_the_legality_review_department(cast_factory, profile_variant):
    code = profile_variant("huzhou", catalogue_required=False).code
    here, elsewhere = cast_factory(profile=code), cast_factory(profile=code)
    decision = walk.draft(here, walk.initiate(here, walk.propose(here)))
    with pytest.raises(NotPermitted):
        legality.accept_submission(elsewhere["LEGAL_REVIEWER"], decision)
