"""Concurrent steps on PostgreSQL, each thread with its own connection (row locks are real only there)."""

import pytest

from decisions import audit
from decisions.models import AuditEvent
from decisions.services import initiation
from decisions.walkthrough import initiation as walk
from tests.records import record_events
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_steps_across_decisions_leave_a_valid_chain(open_cast):
    decisions = [
        walk.initiate(open_cast, walk.propose(open_cast, title=f"并发事项{i}"), co_units=[]) for i in range(20)
    ]
    before = record_events().count()
    lead = open_cast["UNDERTAKING_LEAD"]
    results, errors = run_together([lambda d=d: initiation.start_drafting(lead, d) for d in decisions])
    assert errors == [None] * 20
    assert {r.state for r in results} == {"DRAFTING"}
    # Each step wrote its transition event and its stage-open event, all in one unbroken chain.
    assert record_events().count() == before + 40
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert audit.verify().ok


def test_the_same_step_taken_twice_at_once_succeeds_exactly_once(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast), co_units=[])
    lead = open_cast["UNDERTAKING_LEAD"]
    results, errors = run_together([lambda: initiation.start_drafting(lead, decision)] * 2)
    assert sum(r is not None for r in results) == 1
    refused = [e for e in errors if e is not None]
    assert len(refused) == 1 and refused[0].code == "STATE_PREREQUISITE_MISSING"
    assert audit.verify().ok
