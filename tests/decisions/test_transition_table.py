"""Every step of the B5 table from every state: allowed where the table allows it, otherwise refused
with a named rule (P7), never with a bare "transition not allowed"."""

import pytest
from django_fsm import can_proceed

from decisions import lifecycle
from decisions.models import Decision, DecisionState
from decisions.rules import PROCEDURE_CODES, Context, ProcedureRefused
from decisions.walkthrough import initiation as walk

ALL_STATES = list(DecisionState.values)


def test_every_state_of_b4_has_a_way_out_except_the_final_ones():
    sources = {s for step in lifecycle.STEPS.values() for s in step.sources}
    assert sources <= set(ALL_STATES)
    assert set(ALL_STATES) - sources == {"NOT_APPLICABLE", "DECLINED", "ARCHIVED"}


def _force_state(decision, state):
    # Test-only: put the row in a state to ask the table about it; the lifecycle never does this.
    Decision.objects.filter(pk=decision.pk).update(state=state)
    return Decision.objects.get(pk=decision.pk)


@pytest.mark.parametrize("tid", sorted(lifecycle.STEPS))
def test_each_step_is_refused_with_a_named_rule_from_every_state_the_table_does_not_list(open_cast, tid):
    step = lifecycle.STEPS[tid]
    decision = walk.propose(open_cast)
    for state in ALL_STATES:
        decision = _force_state(decision, state)
        ctx = Context(decision=decision, actor=open_cast["GOV_OFFICE"], role=step.roles[0])
        failures = lifecycle.check(decision, tid, ctx)
        archiving = tid == "T30" and state in step.sources  # the one step a closed decision still takes
        if state in lifecycle.CLOSED_STATES and not archiving:
            assert [f.code for f in failures] == ["DECISION_CLOSED"], (tid, state)
        elif state not in step.sources:
            assert failures, (tid, state)
            assert {f.code for f in failures} <= PROCEDURE_CODES, (tid, state, [f.code for f in failures])
            with pytest.raises(ProcedureRefused):
                lifecycle.perform(decision, tid, ctx)
            assert Decision.objects.get(pk=decision.pk).state == state
        else:
            assert can_proceed(getattr(decision, step.method), check_conditions=False), (tid, state)
            assert all(f.code in PROCEDURE_CODES for f in failures), (tid, state)


def test_a_step_tried_out_of_order_without_a_failing_guard_names_the_first_open_stage(open_cast):
    decision = walk.propose(open_cast)
    ctx = Context(decision=decision, actor=open_cast["UNDERTAKING_LEAD"], role="UNDERTAKING_LEAD")
    # T5 (start drafting) from PROPOSED: the lead unit guard fails first (scenario-independent P7 (1)).
    assert lifecycle.check(decision, "T5", ctx)[0].code == "LEAD_UNIT_MISSING"
    decision.lead_unit = open_cast.lead_unit
    failures = lifecycle.check(decision, "T5", ctx)
    assert [f.code for f in failures] == ["STATE_PREREQUISITE_MISSING"]
    assert failures[0].detail == "INITIATION"
