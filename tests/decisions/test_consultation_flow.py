"""The walkthrough through CONSULTATION and what closing a sub-stage leaves behind (T6a–T9; B8, B10, P18)."""

import pytest

from decisions.models import Decision, HandoverTask, RiskAssessment, Stage, StageStatus
from decisions.services import consultation
from decisions.walkthrough import consultation as consult_walk
from decisions.walkthrough import initiation as walk


def consulting(cast, **answers):
    return walk.draft(cast, walk.initiate(cast, walk.propose(cast)), answers=answers)


def statuses(decision):
    fresh = Decision.objects.get(pk=decision.pk)
    return {s: fresh.current_record(s).status for s in ("PP", "HEARING", "EX", "RA")}


def test_consult_closes_all_four_substages_and_stays_in_consultation(open_cast):
    decision = consult_walk.consult(open_cast, consulting(open_cast), risk_level="MEDIUM", hearing=True)
    assert decision.state == "CONSULTATION"
    assert set(statuses(decision).values()) == {StageStatus.DONE}
    statement = consultation.procedure_statement(decision)
    assert [e["stage"] for e in statement] == ["PP", "HEARING", "EX", "RA"]
    assert statement[3]["risk_level"] == "MEDIUM"


def test_consult_without_a_hearing_closes_it_as_optional_not_held(open_cast):
    decision = consult_walk.consult(open_cast, consulting(open_cast))
    assert statuses(decision)["HEARING"] == StageStatus.NOT_TRIGGERED
    assert decision.current_record(Stage.HEARING).reason_code == "OPTIONAL_NOT_HELD"


def test_consult_holds_the_hearing_the_zhejiang_rule_requires(open_cast):
    decision = consult_walk.consult(open_cast, consulting(open_cast, major_interest_readjustment=True))
    assert statuses(decision)["HEARING"] == StageStatus.DONE


@pytest.mark.parametrize("risk_level", ["LOW", "MEDIUM", "HIGH"])
def test_consult_records_the_risk_level_on_a_national_organ(national_open_cast, risk_level):
    decision = consult_walk.consult(national_open_cast, consulting(national_open_cast), risk_level=risk_level)
    assert decision.current_record(Stage.RA).outcome == risk_level
    assert RiskAssessment.objects.get(decision=decision).level == risk_level


def test_consult_may_skip_expert_review_and_risk_assessment(open_cast):
    decision = consult_walk.consult(open_cast, consulting(open_cast), expert=False, risk=False)
    assert statuses(decision) == {
        "PP": "DONE",
        "HEARING": "NOT_TRIGGERED",
        "EX": "NOT_TRIGGERED",
        "RA": "NOT_TRIGGERED",
    }


def test_consult_with_a_third_party_assessor_attaches_the_contract(open_cast):
    decision = consult_walk.consult(open_cast, consulting(open_cast), third_party=True)
    assert RiskAssessment.objects.get(decision=decision).third_party is True


@pytest.mark.parametrize("code", ["CONFIDENTIAL_BY_LAW", "ZJ_ART7_URGENT"])
def test_waive_participation_closes_pp_and_hearing_with_one_waiver(open_cast, code):
    decision = consulting(open_cast, confidential_by_law=True)
    consult_walk.waive_participation(open_cast, decision, code=code)
    consult_walk.skip_all(open_cast, decision)
    assert statuses(decision) == {"PP": "WAIVED", "HEARING": "WAIVED", "EX": "NOT_TRIGGERED", "RA": "NOT_TRIGGERED"}
    fresh = Decision.objects.get(pk=decision.pk)
    assert (
        fresh.current_record(Stage.PP).waiver.approved_role
        == {"CONFIDENTIAL_BY_LAW": "GOV_OFFICE", "ZJ_ART7_URGENT": "LEGAL_ADVISER"}[code]
    )


def test_each_co_unit_gets_a_handover_task_for_every_closed_substage(open_cast):
    decision = consulting(open_cast, confidential_by_law=True)
    consult_walk.waive_participation(open_cast, decision)
    consult_walk.skip_all(open_cast, decision)
    fresh = Decision.objects.get(pk=decision.pk)
    for stage in ("PP", "HEARING", "EX", "RA"):
        record = fresh.current_record(stage)
        assert HandoverTask.objects.filter(stage_record=record).count() == len(open_cast.co_units)
