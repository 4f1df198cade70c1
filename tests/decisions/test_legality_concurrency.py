"""Two reviewers issue an opinion on the same decision at once: exactly one wins (PostgreSQL row locks)."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from decisions import audit
from decisions.models import AuditEvent, LegalityReview, Role, RoleAssignment, SignOff, Stage
from decisions.permissions import NotPermitted
from decisions.rules import ProcedureRefused
from decisions.services import documents, legality
from decisions.walkthrough import consultation, doc
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as lr
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("outcomes", [("LAWFUL", "LAWFUL"), ("LAWFUL", "UNLAWFUL")])
def test_two_reviewers_issuing_at_once_leave_exactly_one_opinion(open_cast, outcomes):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast), co_units=[]))
    consultation.consult(open_cast, decision)
    decision.refresh_from_db()
    lr.submit(open_cast, decision, received_on=date(2025, 4, 7))
    legality.accept_submission(open_cast["LEGAL_REVIEWER"], decision)
    lr_record = decision.current_record(Stage.LR)
    # A second reviewer of the same justice bureau.
    second = get_user_model().objects.create(username=f"{open_cast.organ.code}_legal_reviewer_b")
    RoleAssignment.objects.create(user=second, organisation=open_cast.justice, role=Role.LEGAL_REVIEWER)
    documents.upload(
        open_cast["LEGAL_ADVISER"], decision, Stage.LR, doc("LEGAL_ADVISER_OPINION", "法律意见", signed=True)
    )

    def issuer(user, outcome):
        return lambda: legality.issue_legality_opinion(
            user,
            decision,
            outcome=outcome,
            **lr.OPINION_TEXTS,
            documents=[doc("LEGALITY_OPINION", f"审查意见书 {user.username}", sealed=True)],
        )

    results, errors = run_together([issuer(open_cast["LEGAL_REVIEWER"], outcomes[0]), issuer(second, outcomes[1])])
    assert sum(r is not None for r in results) == 1
    refusals = [e for e in errors if e is not None]
    assert len(refusals) == 1
    assert isinstance(refusals[0], ProcedureRefused) and not isinstance(refusals[0], NotPermitted)
    assert refusals[0].code == "STATE_PREREQUISITE_MISSING"
    winner = outcomes[0] if results[0] is not None else outcomes[1]
    decision.refresh_from_db()
    assert decision.state == ("LEGAL_REVIEW_DONE" if winner == "LAWFUL" else "REVISING")
    assert SignOff.objects.filter(stage_record=lr_record).count() == 1
    review = LegalityReview.objects.get(decision=decision)
    assert review.outcome == winner
    assert lr_record.documents.filter(doc_type="LEGALITY_OPINION").count() == 1
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="transition:T14").count() == 1
    assert audit.verify().ok
