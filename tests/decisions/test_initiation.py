"""Proposal, applicability, initiation and drafting (T1–T6)."""

import pytest

from decisions.models import AuditEvent, Decision, DocumentType, Stage, StageRecord, StageStatus
from decisions.permissions import NotPermitted
from decisions.rules import ProcedureRefused
from decisions.services import initiation
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk
from tests.records import record_events


def test_department_proposal_is_registered_in_proposed_and_pinned_to_the_profile(cast):
    decision = walk.propose(cast)
    assert decision.state == "PROPOSED"
    assert decision.profile.code == "huzhou"
    assert decision.reference.startswith(f"{cast.organ.code}-")
    assert decision.current_record(Stage.INITIATION).documents.filter(doc_type=DocumentType.PROPOSAL).count() == 1
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="decision:register").exists()


@pytest.mark.parametrize("missing", ["problem", "necessity", "feasibility"])
def test_department_proposal_without_required_fields_is_refused_and_nothing_is_written(cast, missing):
    before = (Decision.objects.count(), record_events().count(), StageRecord.objects.count())
    with pytest.raises(ProcedureRefused) as refused:
        walk.propose(cast, **{missing: ""})
    assert refused.value.code == "PROPOSAL_FIELDS_MISSING"
    assert "第十条" in refused.value.failures[0].rule.citation
    assert (Decision.objects.count(), record_events().count(), StageRecord.objects.count()) == before


def test_leader_proposal_needs_no_department_fields(cast):
    decision = initiation.register_proposal(
        cast["GOV_OFFICE"], cast.organ, title="领导交办事项", source_type=Decision.SourceType.LEADER
    )
    assert decision.state == "PROPOSED"


def test_a_citizen_may_submit_a_written_proposal_without_an_account(cast):
    from django.contrib.auth.models import AnonymousUser

    decision = initiation.register_proposal(
        AnonymousUser(), cast.organ, title="关于增设公交线路的建议", source_type=Decision.SourceType.CITIZEN
    )
    assert decision.source_type == "CITIZEN"


def test_a_unit_of_another_organ_cannot_register_for_this_organ(cast_factory):
    here, elsewhere = cast_factory(), cast_factory()
    with pytest.raises(NotPermitted):
        initiation.register_proposal(
            elsewhere["UNDERTAKING_LEAD"],
            here.organ,
            title="x",
            source_type=Decision.SourceType.DEPARTMENT,
            **walk.PROPOSAL_FIELDS,
        )


@pytest.mark.parametrize("reason", ["MACRO_CONTROL", "LEGISLATION", "EMERGENCY_RESPONSE"])
def test_applicability_check_closes_excluded_matters(cast, reason):
    decision = initiation.declare_not_applicable(cast["GOV_OFFICE"], walk.propose(cast), reason=reason)
    assert decision.state == "NOT_APPLICABLE"


@pytest.mark.parametrize("reason", ["ZJ_ART3_LIST", "OTHER_LAW_PROCEDURE", ""])
def test_applicability_check_refuses_reasons_outside_the_second_sentence(cast, reason):
    decision = walk.propose(cast)
    with pytest.raises(ProcedureRefused) as refused:
        initiation.declare_not_applicable(cast["GOV_OFFICE"], decision, reason=reason)
    assert refused.value.code == "APPLICABILITY_REASON_INVALID"
    decision.refresh_from_db()
    assert decision.state == "PROPOSED"


def test_a_not_applicable_matter_refuses_every_further_step_as_closed(open_cast):
    decision = walk.propose(open_cast)
    initiation.declare_not_applicable(open_cast["GOV_OFFICE"], decision, reason="EMERGENCY_RESPONSE")
    with pytest.raises(ProcedureRefused) as refused:
        walk.initiate(open_cast, decision)
    assert refused.value.code == "DECISION_CLOSED"


def test_decline_needs_the_organs_record_and_a_reason(cast):
    decision = walk.propose(cast)
    with pytest.raises(ProcedureRefused) as refused:
        initiation.decline(cast["GOV_OFFICE"], decision, reason="")
    assert refused.value.codes == ["DOSSIER_ITEM_MISSING", "REASON_REQUIRED"]
    declined = initiation.decline(
        cast["GOV_OFFICE"], decision, reason="不列入本年度目录", documents=[doc(DocumentType.DECLINE_RECORD)]
    )
    assert declined.state == "DECLINED"


def test_starting_without_the_catalogue_is_refused_where_the_profile_requires_it(cast):
    decision = walk.propose(cast)
    with pytest.raises(ProcedureRefused) as refused:
        walk.initiate(cast, decision)
    assert refused.value.code == "CATALOGUE_LISTING_REQUIRED"


def test_initiation_without_lead_unit_is_refused(open_cast):
    decision = walk.propose(open_cast)
    with pytest.raises(ProcedureRefused) as refused:
        initiation.start_without_catalogue(
            open_cast["GOV_OFFICE"],
            decision,
            lead_unit=None,
            documents=[doc(DocumentType.START_DECISION), doc(DocumentType.STUDY_OPINION)],
        )
    assert refused.value.code == "LEAD_UNIT_MISSING"
    decision.refresh_from_db()
    assert decision.state == "PROPOSED"
    assert not decision.current_record(Stage.INITIATION).documents.filter(doc_type=DocumentType.START_DECISION).exists()


def test_initiation_signs_off_the_initiation_stage_and_opens_drafting(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    assert decision.state == "INITIATED"
    record = decision.current_record(Stage.INITIATION)
    assert record.status == StageStatus.DONE
    signoff = record.signoffs.get()
    assert signoff.user == open_cast["GOV_OFFICE"]
    assert signoff.role == "GOV_OFFICE"
    assert len(signoff.content_sha256) == 64
    assert {d["type"] for d in signoff.manifest["documents"]} >= {"START_DECISION", "STUDY_OPINION"}
    assert decision.current_record(Stage.DRAFTING).status == StageStatus.PENDING


def test_consultation_opens_only_with_drafting_records_and_the_questionnaire(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    initiation.start_drafting(open_cast["UNDERTAKING_LEAD"], decision)
    with pytest.raises(ProcedureRefused) as refused:
        initiation.open_consultation(open_cast["UNDERTAKING_LEAD"], decision, answers={})
    assert refused.value.codes == ["DOSSIER_ITEM_MISSING"] * 5 + ["TRIGGER_QUESTIONNAIRE_INCOMPLETE"]


def test_a_full_drafting_opens_the_four_consultation_records(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    assert decision.state == "CONSULTATION"
    for stage in ("PP", "HEARING", "EX", "RA"):
        assert decision.current_record(stage).status == StageStatus.PENDING
    assert decision.current_record(Stage.DRAFTING).status == StageStatus.DONE


def test_starting_without_a_catalogue_needs_the_decisions_category(open_cast):
    decision = initiation.register_proposal(
        open_cast["GOV_OFFICE"], open_cast.organ, title="未分类的事项", source_type=Decision.SourceType.LEADER
    )
    with pytest.raises(ProcedureRefused) as refused:
        walk.initiate(open_cast, decision)
    assert refused.value.codes == ["DECISION_CATEGORY_MISSING"]
    assert "第三条第一款" in refused.value.failures[0].rule.citation
    decision.refresh_from_db()
    assert decision.state == "PROPOSED"
