"""Adjustments of a published catalogue (目录调整; P20, P24, B9; scenarios 3 and 4)."""

from datetime import timedelta

import pytest

from catalog import services
from catalog.models import CatalogueAdjustment, CatalogueEntry
from decisions import lifecycle
from decisions.models import AuditEvent, Decision, HandoverTask, Position, Stage, StageStatus
from decisions.services import initiation
from decisions.walkthrough import consultation as consult_walk
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import meeting as meeting_walk
from tests.catalog.conftest import upload

ADD, REMOVE, MODIFY = CatalogueAdjustment.Kind.ADD, CatalogueAdjustment.Kind.REMOVE, CatalogueAdjustment.Kind.MODIFY


@pytest.fixture
def published(kit):
    """A published catalogue with one LISTED decision; returns (catalogue, entry, decision)."""
    decision = kit.proposal()
    catalogue = kit.build("PUBLISHED", decisions=[decision])
    decision.refresh_from_db()
    return catalogue, catalogue.entries_at().get(), decision


def through(kit, adjustment):
    for step in (kit.review, kit.approve_adjustment, kit.consent_adjustment, kit.publish_adjustment):
        adjustment = step(adjustment)
    return adjustment


# -- scenario 3: ADD ------------------------------------------------------------------------------------


def test_an_added_entry_makes_a_new_version_and_lists_its_decision(kit, published):
    # Scenario 3.
    catalogue, entry, _ = published
    old_rows = list(catalogue.entries_at(1).values())
    added = kit.proposal("年中新增事项")
    adjustment = kit.propose(
        catalogue, ADD, actor=kit.cast["UNDERTAKING_LEAD"], decision=added, data=kit.item(name="年中新增事项")
    )
    assert adjustment.state == "PROPOSED"
    assert not adjustment.has_party_consent()
    adjustment = through(kit, adjustment)
    catalogue.refresh_from_db()
    assert adjustment.state == "PUBLISHED" and adjustment.published_version == 2
    assert adjustment.has_party_consent()
    assert catalogue.version == 2 and catalogue.state == "PUBLISHED"
    assert list(catalogue.entries_at(1).values()) == old_rows  # version 1 is preserved as it was
    assert {e.name for e in catalogue.entries_at(2)} == {entry.name, "年中新增事项"}
    row = catalogue.entries_at(2).get(decision=added)
    assert (row.valid_from, row.valid_to, row.key) == (2, None, adjustment.entry_key)
    added.refresh_from_db()
    assert added.state == "LISTED"
    listing = AuditEvent.objects.get(decision_id_ref=added.pk, action="transition:T3")
    assert listing.payload["listing_type"] == "catalog.CatalogueAdjustment"


def test_an_added_entry_without_a_decision_gets_one_created_in_proposed_then_listed(kit, published):
    catalogue, _, _ = published
    data = kit.item(
        name="新增：老旧小区改造计划", proposer_type="LOWER_GOVERNMENT", proposal_fields=walk.PROPOSAL_FIELDS
    )
    adjustment = through(kit, kit.propose(catalogue, ADD, data=data))
    decision = Decision.objects.get(pk=adjustment.decision_id)
    assert decision.source_type == "CATALOGUE_COMPILATION" and decision.proposer_type == "LOWER_GOVERNMENT"
    assert decision.state == "LISTED"


@pytest.mark.parametrize("reason", ["EMERGENCY_RESPONSE", "MACRO_CONTROL"])
def test_a_not_applicable_matter_cannot_be_added(kit, published, refused, reason):
    catalogue, _, _ = published
    decision = kit.proposal("应急处置")
    initiation.declare_not_applicable(kit.office, decision, reason=reason)
    failure = refused(kit.propose, catalogue, ADD, decision=decision, data=kit.item())
    assert failure.code == "MATTER_NOT_APPLICABLE"


def test_a_matter_excluded_after_the_add_was_proposed_blocks_its_publication(kit, published, refused):
    catalogue, _, _ = published
    decision = kit.proposal("后被排除")
    adjustment = kit.adjustment_at(catalogue, "PARTY_CONSENTED", ADD, decision=decision, data=kit.item())
    initiation.declare_not_applicable(kit.office, decision, reason="LEGISLATION")
    assert refused(kit.publish_adjustment, adjustment).code == "MATTER_NOT_APPLICABLE"


def test_an_added_entry_must_be_complete(kit, published, refused):
    catalogue, _, _ = published
    failure = refused(kit.propose, catalogue, ADD, decision=kit.proposal("x"), data=kit.item(category="", name=""))
    assert failure.code == "CATALOGUE_ENTRY_INVALID"
    assert "事项类别" in failure.failures[0].detail and "事项名称" in failure.failures[0].detail


def test_a_listed_decision_cannot_be_added_twice(kit, published, refused):
    catalogue, _, decision = published
    failure = refused(kit.propose, catalogue, ADD, decision=decision, data=kit.item())
    assert failure.code == "CATALOGUE_ENTRY_INVALID"


# -- MODIFY ---------------------------------------------------------------------------------------------


def test_a_modification_keeps_the_key_and_the_old_row(kit, published):
    catalogue, entry, decision = published
    adjustment = through(
        kit,
        kit.propose(catalogue, MODIFY, entry=entry, data={"name": "更名后的事项", "planned_submission_text": "11月份"}),
    )
    catalogue.refresh_from_db()
    old = CatalogueEntry.objects.get(pk=entry.pk)
    new = catalogue.entries_at().get()
    assert (old.valid_from, old.valid_to, old.name) == (1, 2, entry.name)
    assert (new.valid_from, new.valid_to, new.key, new.seq_no) == (2, None, entry.key, entry.seq_no)
    assert (new.name, new.planned_submission_text, new.decision) == ("更名后的事项", "11月份", decision)
    assert new.lead_unit == entry.lead_unit and new.required_procedures == entry.required_procedures
    assert catalogue.entries_at(1).get().name == entry.name
    assert adjustment.published_version == 2


def test_a_modified_lead_unit_before_initiation_is_what_t4_proposes(kit, published):
    catalogue, entry, decision = published
    new_unit = kit.cast.co_units[0]
    through(kit, kit.propose(catalogue, MODIFY, entry=entry, data={"lead_unit": new_unit}))
    decision.refresh_from_db()
    assert decision.lead_unit is None
    from decisions.walkthrough import doc

    started = initiation.initiate(
        kit.office, decision, lead_unit=new_unit, documents=[doc("START_DECISION"), doc("STUDY_OPINION")]
    )
    assert started.lead_unit == new_unit and started.lead_unit_change_reason == ""


def test_a_modified_lead_unit_moves_the_decision_and_hands_over_from_the_old_unit(kit, published):
    catalogue, entry, decision = published
    decision = kit.advance(decision, "CONSULTATION")
    old_unit, new_unit = kit.cast.lead_unit, kit.cast.co_units[-1]
    through(kit, kit.propose(catalogue, MODIFY, entry=entry, data={"lead_unit": new_unit}))
    decision.refresh_from_db()
    assert decision.lead_unit == new_unit
    task = HandoverTask.objects.get(decision=decision, unit=old_unit)
    assert task.closed_at is None
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="decision:lead_unit").exists()


def test_reassigning_the_lead_unit_needs_a_reason(kit, published, refused):
    _, _, decision = published
    decision = kit.advance(decision, "INITIATED")
    failure = refused(services.reassign_lead_unit, kit.office, decision, lead_unit=kit.cast.co_units[0], reason="")
    assert failure.code == "REASON_REQUIRED"


def test_a_modification_requiring_a_skipped_stage_reopens_it_in_consultation(kit, published):
    catalogue, entry, decision = published
    decision = kit.advance(decision, "CONSULTATION")
    consult_walk.skip_expert_review(kit.cast, decision)
    old = decision.current_record(Stage.EX)
    assert old.status == StageStatus.NOT_TRIGGERED
    through(kit, kit.propose(catalogue, MODIFY, entry=entry, data={"required_procedures": ["PP", "EX", "LR", "CD"]}))
    decision.refresh_from_db()
    reopened = decision.current_record(Stage.EX)
    assert reopened.pk != old.pk and reopened.status == StageStatus.PENDING and reopened.supersedes_id == old.pk


def test_a_modification_requiring_a_skipped_stage_later_is_flagged_for_the_office(kit, published):
    catalogue, entry, decision = published
    decision = kit.advance(decision, "LEGAL_REVIEW_DONE")
    assert decision.current_record(Stage.RA).status == StageStatus.NOT_TRIGGERED
    through(kit, kit.propose(catalogue, MODIFY, entry=entry, data={"required_procedures": ["PP", "RA", "LR", "CD"]}))
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_DONE"
    assert decision.current_record(Stage.RA).status == StageStatus.NOT_TRIGGERED
    flag = AuditEvent.objects.get(decision_id_ref=decision.pk, action="catalogue:required_stage_added")
    assert flag.payload["stages"] == ["RA"]


def test_a_modification_must_leave_a_complete_entry(kit, published, refused):
    catalogue, entry, _ = published
    failure = refused(kit.propose, catalogue, MODIFY, entry=entry, data={"required_procedures": []})
    assert failure.code == "CATALOGUE_ENTRY_INVALID"


# -- REMOVE (scenario 4) ----------------------------------------------------------------------------------


def test_a_published_removal_withdraws_a_decision_in_consultation(kit, published):
    # Scenario 4.
    catalogue, entry, decision = published
    decision = kit.advance(decision, "CONSULTATION")
    adjustment = through(kit, kit.propose(catalogue, REMOVE, entry=entry, reason="上级政策调整，不再作出决策"))
    catalogue.refresh_from_db()
    decision.refresh_from_db()
    assert decision.state == "WITHDRAWN"
    assert catalogue.version == 2 and not catalogue.entries_at(2).exists()
    assert catalogue.entries_at(1).get().pk == entry.pk
    assert CatalogueEntry.objects.get(pk=entry.pk).valid_to == 2
    for record in decision.stage_records.all():
        assert record.is_closed
    assert lifecycle.steps_from(decision.state) == ["T30"]
    t29 = AuditEvent.objects.get(decision_id_ref=decision.pk, action="transition:T29")
    assert t29.payload["source_type"] == "catalog.CatalogueAdjustment" and t29.payload["source_id"] == adjustment.pk


def test_removal_is_refused_once_the_decision_is_scheduled_or_decided(kit, published, refused):
    catalogue, entry, decision = published
    decision = kit.advance(decision, "SCHEDULED")
    assert refused(kit.propose, catalogue, REMOVE, entry=entry).code == "CATALOGUE_REMOVE_AFTER_DECISION"
    advance_decided = meeting_walk.decide(kit.cast, decision, Position.APPROVE)
    assert advance_decided.state == "DECIDED"
    failure = refused(kit.propose, catalogue, REMOVE, entry=entry)
    assert failure.code == "CATALOGUE_REMOVE_AFTER_DECISION"
    assert "P20" in failure.failures[0].rule.citation


def test_an_open_removal_blocks_scheduling_until_it_is_rejected(kit, published, refused):
    catalogue, entry, decision = published
    decision = kit.advance(decision, "READY_FOR_MEETING")
    adjustment = kit.adjustment_at(catalogue, "PARTY_CONSENTED", REMOVE, entry=entry)
    # P24: while the removal is open, the decision cannot be scheduled.
    meeting = meeting_walk.hold_meeting(kit.cast)
    failure = refused(meeting_walk.schedule, kit.cast, decision, meeting_obj=meeting)
    assert failure.code == "CATALOGUE_ADJUSTMENT_OPEN"
    services.reject_adjustment(kit.office, adjustment, reason="撤回调整申请")
    meeting_walk.schedule(kit.cast, decision, meeting_obj=meeting)
    second = kit.adjustment_at(catalogue, "PROPOSED", MODIFY, entry=entry, data={"remarks": "备注"})
    assert second.state == "PROPOSED"


def test_a_removal_published_after_the_decision_was_decided_is_refused(kit, published, refused):
    catalogue, entry, decision = published
    decision = kit.advance(decision, "READY_FOR_MEETING")
    adjustment = kit.adjustment_at(catalogue, "PARTY_CONSENTED", REMOVE, entry=entry)
    services.reject_adjustment(kit.office, adjustment, reason="先行上会")
    decision = meeting_walk.decide(kit.cast, decision)
    assert decision.state == "DECIDED"
    assert refused(kit.propose, catalogue, REMOVE, entry=entry).code == "CATALOGUE_REMOVE_AFTER_DECISION"


# -- proposal guards -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": "RENAME", "reason": "x"}, "REASON_REQUIRED"),
        ({"kind": MODIFY, "reason": " ", "data": {"remarks": "x"}}, "REASON_REQUIRED"),
        ({"kind": REMOVE, "reason": "x", "entry": None}, "REASON_REQUIRED"),
        ({"kind": ADD, "reason": "x", "data": {}}, "REASON_REQUIRED"),
        ({"kind": MODIFY, "reason": "x", "data": {}}, "REASON_REQUIRED"),
    ],
)
def test_a_proposal_names_its_kind_reason_and_entry(kit, published, refused, kwargs, code):
    catalogue, entry, _ = published
    kwargs = {"entry": entry, **kwargs}
    failure = refused(services.propose_adjustment, kit.office, catalogue, **kwargs)
    assert failure.code == code


def test_one_open_adjustment_per_entry(kit, published, refused):
    catalogue, entry, _ = published
    kit.propose(catalogue, MODIFY, entry=entry, data={"remarks": "一"})
    failure = refused(kit.propose, catalogue, REMOVE, entry=entry)
    assert failure.code == "CATALOGUE_ADJUSTMENT_OPEN"


def test_several_adjustments_may_be_open_on_different_entries(kit):
    first, second = kit.proposal("一"), kit.proposal("二")
    catalogue = kit.build("PUBLISHED", decisions=[first, second])
    for entry in catalogue.entries_at():
        kit.propose(catalogue, MODIFY, entry=entry, data={"remarks": "调整"})
    assert catalogue.adjustments.filter(state="PROPOSED").count() == 2
    catalogue.refresh_from_db()
    assert catalogue.state == "PUBLISHED"


def test_the_same_decision_cannot_be_added_by_two_open_adjustments(kit, published, refused):
    catalogue, _, _ = published
    decision = kit.proposal("新增")
    kit.propose(catalogue, ADD, decision=decision, data=kit.item())
    assert refused(kit.propose, catalogue, ADD, decision=decision, data=kit.item()).code == "CATALOGUE_ADJUSTMENT_OPEN"


@pytest.mark.parametrize(
    "state", ["COLLECTING", "COMPILED", "GOV_APPROVED", "PARTY_CONSENTED", "YEAR_END_REPORTED", "CLOSED"]
)
def test_only_a_published_catalogue_accepts_adjustments(kit, refused, state):
    catalogue = kit.build(state)
    entry = catalogue.current_entries().get()
    failure = refused(kit.propose, catalogue, MODIFY, entry=entry, data={"remarks": "x"})
    assert failure.code in ("CATALOGUE_CLOSED", "REASON_REQUIRED")
    if state in ("YEAR_END_REPORTED", "CLOSED"):
        assert failure.code == "CATALOGUE_CLOSED"


def test_a_catalogue_of_a_past_year_accepts_no_adjustment(kit, refused):
    catalogue = kit.build("PUBLISHED", year=kit.year - 1)
    entry = catalogue.entries_at().get()
    failure = refused(kit.propose, catalogue, MODIFY, entry=entry, data={"remarks": "x"})
    assert failure.code == "CATALOGUE_CLOSED"
    assert "P21" in failure.failures[0].rule.citation


# -- the adjustment's own steps ---------------------------------------------------------------------------


def test_each_adjustment_step_needs_its_record(kit, published, refused):
    catalogue, entry, _ = published
    adjustment = kit.propose(catalogue, MODIFY, entry=entry, data={"remarks": "x"})
    assert refused(services.review_adjustment, kit.office, adjustment, review=None).codes == ["DOSSIER_ITEM_MISSING"]
    adjustment = kit.review(adjustment)
    assert refused(services.approve_adjustment, kit.office, adjustment, approval=None).codes == ["DOSSIER_ITEM_MISSING"]
    adjustment = kit.approve_adjustment(adjustment)
    failure = refused(
        services.record_adjustment_consent,
        kit.cast["PARTY_LIAISON"],
        adjustment,
        consent=None,
        issued_on=None,
        issued_by="",
    )
    assert failure.codes == ["CATALOGUE_PARTY_CONSENT_MISSING"] * 3
    adjustment = kit.consent_adjustment(adjustment)
    failure = refused(kit.publish_adjustment, adjustment, notice_number="", notice_url="", notice_date=None)
    assert failure.codes == ["DOSSIER_ITEM_MISSING"] * 3


def test_an_adjustment_is_not_published_without_party_consent(kit, published, refused):
    # P3: catalogue_adjustment_requires_party_consent.
    catalogue, entry, _ = published
    adjustment = kit.adjustment_at(catalogue, "GOV_APPROVED", MODIFY, entry=entry, data={"remarks": "x"})
    failure = refused(kit.publish_adjustment, adjustment)
    assert failure.codes == ["CATALOGUE_PARTY_CONSENT_MISSING"]


def test_an_adjustment_published_before_its_consent_is_refused(kit, published, refused):
    catalogue, entry, _ = published
    adjustment = kit.adjustment_at(catalogue, "GOV_APPROVED", MODIFY, entry=entry, data={"remarks": "x"})
    kit.consent_adjustment(adjustment, issued_on=kit.today)
    failure = refused(kit.publish_adjustment, adjustment, notice_date=kit.today - timedelta(days=1))
    assert failure.code == "CATALOGUE_PARTY_CONSENT_MISSING"


def test_without_the_consent_requirement_an_approved_adjustment_is_published(kit_for):
    kit = kit_for(catalogue_adjustment_requires_party_consent=False)
    decision = kit.proposal()
    catalogue = kit.build("PUBLISHED", decisions=[decision])
    added = kit.proposal("新增")
    adjustment = kit.adjustment_at(catalogue, "GOV_APPROVED", ADD, decision=added, data=kit.item(name="新增"))
    adjustment = kit.publish_adjustment(adjustment)
    assert adjustment.state == "PUBLISHED" and adjustment.has_party_consent()
    added.refresh_from_db()
    assert added.state == "LISTED"


@pytest.mark.parametrize("state", ["PROPOSED", "REVIEWED", "GOV_APPROVED", "PARTY_CONSENTED"])
def test_an_open_adjustment_may_be_rejected_with_a_reason_and_makes_no_version(kit, published, refused, state):
    catalogue, entry, decision = published
    adjustment = kit.adjustment_at(catalogue, state, REMOVE, entry=entry)
    assert refused(services.reject_adjustment, kit.office, adjustment, reason="").code == "REASON_REQUIRED"
    adjustment = services.reject_adjustment(kit.office, adjustment, reason="不予调整")
    catalogue.refresh_from_db()
    decision.refresh_from_db()
    assert adjustment.state == "REJECTED" and adjustment.rejection_reason == "不予调整"
    assert catalogue.version == 1 and decision.state == "LISTED"


def test_the_party_liaison_records_non_consent_only_after_government_approval(kit, published, refused):
    from decisions.permissions import NotPermitted

    catalogue, entry, _ = published
    adjustment = kit.adjustment_at(catalogue, "REVIEWED", MODIFY, entry=entry, data={"remarks": "x"})
    with pytest.raises(NotPermitted):
        services.reject_adjustment(kit.cast["PARTY_LIAISON"], adjustment, reason="不同意")
    adjustment = kit.approve_adjustment(adjustment)
    adjustment = services.reject_adjustment(
        kit.cast["PARTY_LIAISON"], adjustment, reason="党委不同意", document=upload("党委意见")
    )
    assert adjustment.state == "REJECTED"
    assert adjustment.documents_of("PARTY_NON_CONSENT").exists()


ADJ_STEPS = {
    "review": ("PROPOSED", "REVIEWED"),
    "approve_adjustment": ("REVIEWED", "GOV_APPROVED"),
    "consent_adjustment": ("GOV_APPROVED", "PARTY_CONSENTED"),
    "publish_adjustment": ("PARTY_CONSENTED", "PUBLISHED"),
}


@pytest.mark.parametrize("state", ["PROPOSED", "REVIEWED", "GOV_APPROVED", "PARTY_CONSENTED", "PUBLISHED", "REJECTED"])
@pytest.mark.parametrize("step", list(ADJ_STEPS))
def test_each_adjustment_step_is_taken_only_from_its_state(kit, published, refused, step, state):
    catalogue, entry, _ = published
    if state == "REJECTED":
        adjustment = services.reject_adjustment(
            kit.office, kit.propose(catalogue, MODIFY, entry=entry, data={"remarks": "x"}), reason="否"
        )
    else:
        adjustment = kit.adjustment_at(catalogue, state, MODIFY, entry=entry, data={"remarks": "x"})
    source, target = ADJ_STEPS[step]
    if state == source:
        assert getattr(kit, step)(adjustment).state == target
    else:
        failure = refused(getattr(kit, step), adjustment)
        assert failure.code in ("STATE_PREREQUISITE_MISSING", "CATALOGUE_PARTY_CONSENT_MISSING")


def test_a_rejected_or_published_adjustment_cannot_be_rejected(kit, published, refused):
    catalogue, entry, _ = published
    adjustment = kit.adjustment_at(catalogue, "PUBLISHED", MODIFY, entry=entry, data={"remarks": "x"})
    assert (
        refused(services.reject_adjustment, kit.office, adjustment, reason="晚了").code == "STATE_PREREQUISITE_MISSING"
    )


def test_an_adjustment_still_open_after_its_year_is_refused_and_lapses(kit, refused):
    catalogue = kit.build("PUBLISHED", year=kit.year)
    entry = catalogue.entries_at().get()
    adjustment = kit.adjustment_at(catalogue, "REVIEWED", MODIFY, entry=entry, data={"remarks": "x"})
    from catalog.rules import year_end

    lapsed = services.close_if_due(year_end(kit.year) + timedelta(minutes=1))
    assert lapsed == []  # not reported yet: the catalogue stays PUBLISHED
    adjustment.refresh_from_db()
    assert adjustment.state == "REJECTED" and adjustment.rejection_reason == "year end"
    event = AuditEvent.objects.get(action="adjustment:reject", object_id=str(adjustment.pk))
    assert event.role == "SYSTEM" and event.payload["lapsed"] is True


def test_an_entry_keeps_its_history_across_versions(kit, published):
    from catalog import lifecycle as catalogue_lifecycle

    catalogue, entry, _ = published
    through(kit, kit.propose(catalogue, MODIFY, entry=entry, data={"name": "第二版名称"}))
    through(kit, kit.propose(catalogue, MODIFY, entry=entry, data={"name": "第三版名称"}))
    catalogue.refresh_from_db()
    current = catalogue.entries_at().get()
    assert [(r.name, r.valid_from, r.valid_to) for r in current.history()] == [
        (entry.name, 1, 2),
        ("第二版名称", 2, 3),
        ("第三版名称", 3, None),
    ]
    assert [e.name for v in (1, 2, 3) for e in catalogue.entries_at(v)] == [entry.name, "第二版名称", "第三版名称"]
    assert current.adjustments().count() == 2
    assert catalogue_lifecycle.steps_from(catalogue) == ["catalogue.year_end"]
    assert catalogue_lifecycle.steps_from(current.adjustments().first()) == []
