"""The annual catalogue from the call for proposals to publication (第三条第三款; B9; scenarios 1, 2, 7, 8)."""

from datetime import timedelta

import pytest

from catalog import services
from catalog.models import AnnualCatalogue, CatalogueDocument, CatalogueEntry
from decisions.models import AuditEvent, Decision
from decisions.services import initiation
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk
from tests.catalog.conftest import ORDER, upload


def test_opening_a_catalogue_collects_and_pins_the_profile(kit):
    catalogue = kit.open()
    assert catalogue.state == "COLLECTING"
    assert (catalogue.profile.code, catalogue.profile.version) == ("huzhou", 1)
    assert catalogue.version == 0
    call = catalogue.documents_of(CatalogueDocument.Kind.CALL_FOR_PROPOSALS).get()
    assert len(call.document.sha256) == 64
    assert AuditEvent.objects.filter(action="catalogue:open", object_id=str(catalogue.pk)).exists()


def test_a_second_open_catalogue_for_the_same_year_is_refused(kit, refused):
    kit.open()
    failure = refused(kit.open)
    assert failure.code == "CATALOGUE_ALREADY_OPEN"
    assert "P2" in failure.failures[0].rule.citation


def test_another_year_may_be_opened_while_one_is_open(kit):
    kit.open()
    assert kit.open(kit.year + 1).state == "COLLECTING"


def test_a_closed_catalogue_no_longer_blocks_its_year(kit):
    kit.build("CLOSED")
    assert kit.open().state == "COLLECTING"
    assert AnnualCatalogue.objects.filter(organ=kit.cast.organ, year=kit.year).count() == 2


def test_opening_needs_the_call_for_proposals(kit, refused):
    failure = refused(services.open_catalogue, kit.office, kit.cast.organ, kit.year, call_for_proposals=None)
    assert failure.codes == ["DOSSIER_ITEM_MISSING"]


# -- entries --------------------------------------------------------------------------------------


def test_entries_are_numbered_and_audited(kit):
    catalogue = kit.open()
    first = kit.add(catalogue, name="甲")
    second = kit.add(catalogue, name="乙", co_units=kit.cast.co_units)
    assert (first.seq_no, second.seq_no) == (1, 2)
    assert first.key != second.key
    assert set(second.co_units.all()) == set(kit.cast.co_units)
    assert AuditEvent.objects.filter(action="catalogue:entry_add").count() == 2


def test_an_entry_may_be_changed_or_taken_out_while_collecting(kit):
    catalogue = kit.open()
    entry = kit.add(catalogue)
    services.update_entry(kit.office, entry, name="新名称", planned_submission_text="10月份")
    entry.refresh_from_db()
    assert entry.name == "新名称"
    services.remove_entry(kit.office, entry)
    assert not catalogue.entries.exists()


@pytest.mark.parametrize("state", ORDER[1:6])
def test_entries_cannot_be_added_or_changed_after_collection(kit, refused, state):
    catalogue = kit.build(state)
    entry = catalogue.entries.get()
    assert refused(kit.add, catalogue).code == "STATE_PREREQUISITE_MISSING"
    assert refused(services.update_entry, kit.office, entry, name="x").code == "STATE_PREREQUISITE_MISSING"
    assert refused(services.remove_entry, kit.office, entry).code == "STATE_PREREQUISITE_MISSING"


def test_a_proposal_form_is_kept_with_its_entry(kit):
    catalogue = kit.open()
    entry = services.add_entry(kit.office, catalogue, proposal_form=upload("建议项目表"), **kit.item())
    form = CatalogueDocument.objects.get(kind="PROPOSAL_FORM")
    assert form.entry_key == entry.key


@pytest.mark.parametrize("reason", ["EMERGENCY_RESPONSE", "MACRO_CONTROL", "LEGISLATION"])
def test_a_not_applicable_matter_cannot_be_linked_to_an_entry(kit, refused, reason):
    # Scenario 8: an excluded matter cannot be listed in the catalogue.
    decision = kit.proposal()
    initiation.declare_not_applicable(kit.office, decision, reason=reason)
    assert refused(kit.add, kit.open(), decision=decision).code == "MATTER_NOT_APPLICABLE"


def test_a_declined_matter_cannot_be_linked_to_an_entry(kit, refused):
    decision = kit.proposal()
    initiation.decline(kit.office, decision, reason="不列入", documents=[doc("DECLINE_RECORD")])
    assert refused(kit.add, kit.open(), decision=decision).code == "MATTER_NOT_APPLICABLE"


def test_a_decision_is_linked_to_one_entry_only(kit, refused):
    catalogue, decision = kit.open(), kit.proposal()
    kit.add(catalogue, decision=decision)
    failure = refused(kit.add, catalogue, decision=decision, name="重复")
    assert failure.code == "CATALOGUE_ENTRY_INVALID"
    assert decision.reference in failure.failures[0].detail


def test_a_decision_of_another_organ_cannot_be_linked(kit, cast_factory, refused):
    other = walk.propose(cast_factory())
    assert refused(kit.add, kit.open(), decision=other).code == "CATALOGUE_ENTRY_INVALID"


def test_a_decision_already_under_way_is_linked_only_as_a_carry_over(kit_for, refused):
    kit = kit_for(catalogue_required=False)
    running = walk.initiate(kit.cast, kit.proposal())
    assert running.state == "INITIATED"
    failure = refused(kit.add, kit.open(), decision=running)
    assert failure.code == "CATALOGUE_ENTRY_INVALID"
    assert "结转" in failure.failures[0].rule.zh


def test_a_decision_of_an_earlier_catalogue_may_be_linked_next_year(kit):
    carried = kit.proposal()
    kit.build("PUBLISHED", decisions=[carried])
    carried.refresh_from_db()
    walk.initiate(kit.cast, carried)
    entry = kit.add(kit.open(kit.year + 1), decision=carried)
    assert entry.decision == carried


# -- compilation (scenario 7) -------------------------------------------------------------------------


def test_compilation_lists_every_invalid_entry(kit, refused):
    catalogue = kit.open()
    kit.add(catalogue, name="完整的事项", decision=kit.proposal())
    kit.add(catalogue, name="缺类别和单位", category="", lead_unit=None, decision=kit.proposal("二"))
    kit.add(catalogue, name="缺时间", planned_submission_text="", decision=kit.proposal("三"))
    failure = refused(kit.compile, catalogue)
    assert failure.code == "CATALOGUE_ENTRY_INVALID"
    assert "第三条第一款" in failure.failures[0].rule.citation
    detail = failure.failures[0].detail
    assert "缺类别和单位" in detail and "缺少承办单位" in detail and "缺少事项类别" in detail
    assert "缺时间" in detail and "计划时间" in detail
    assert "完整的事项" not in detail


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"name": ""}, "事项名称"),
        ({"lead_unit": None}, "承办单位"),
        ({"category": ""}, "事项类别"),
        ({"category": "3-9"}, "事项类别"),
        ({"planned_submission_text": ""}, "计划时间"),
        ({"required_procedures": []}, "履行程序要求"),
        ({"required_procedures": ["PP", "SURVEY"]}, "SURVEY"),
    ],
)
def test_compilation_refuses_an_entry_lacking_a_required_field(kit, refused, change, named):
    catalogue = kit.open()
    kit.add(catalogue, decision=kit.proposal(), **change)
    failure = refused(kit.compile, catalogue)
    assert failure.codes == ["CATALOGUE_ENTRY_INVALID"]
    assert named in failure.failures[0].detail


@pytest.mark.parametrize(
    "period",
    [
        {"planned_submission_text": "8月份"},
        {"planned_completion": "2026年12月"},
        {"planned_submission_text": "", "planned_submission_from": "2026-08-01", "planned_submission_to": "2026-09-30"},
    ],
)
def test_a_planned_period_may_be_given_in_any_published_form(kit, period):
    catalogue = kit.open()
    kit.add(catalogue, decision=kit.proposal(), **{"planned_submission_text": "", **period})
    assert kit.compile(catalogue).state == "COMPILED"


def test_a_planned_period_that_ends_before_it_starts_is_invalid(kit, refused):
    catalogue = kit.open()
    kit.add(
        catalogue, decision=kit.proposal(), planned_submission_from="2026-09-01", planned_submission_to="2026-08-01"
    )
    assert "起止颠倒" in refused(kit.compile, catalogue).failures[0].detail


def test_compilation_needs_an_entry_and_the_compiled_list(kit, refused):
    catalogue = kit.open()
    assert refused(kit.compile, catalogue).code == "CATALOGUE_ENTRY_INVALID"
    kit.add(catalogue, decision=kit.proposal())
    failure = refused(services.compile, kit.office, catalogue, compiled_list=None)
    assert failure.codes == ["DOSSIER_ITEM_MISSING"]


@pytest.mark.parametrize("how", ["not_applicable", "declined"])
def test_compilation_refuses_a_matter_excluded_after_it_was_entered(kit, refused, how):
    # Scenario 8: the applicability check on the proposal keeps it out of the catalogue.
    catalogue, decision = kit.open(), kit.proposal()
    kit.add(catalogue, decision=decision)
    if how == "not_applicable":
        initiation.declare_not_applicable(kit.office, decision, reason="EMERGENCY_RESPONSE")
    else:
        initiation.decline(kit.office, decision, reason="不列入", documents=[doc("DECLINE_RECORD")])
    failure = refused(kit.compile, catalogue)
    assert failure.code == "MATTER_NOT_APPLICABLE"
    assert decision.reference in failure.failures[0].detail


def test_compilation_refuses_a_decision_entered_twice(kit, refused):
    catalogue, decision = kit.open(), kit.proposal()
    kit.add(catalogue, decision=decision)
    # A second row for the same decision, written past the entry service, is still caught at compilation.
    CatalogueEntry.objects.create(
        catalogue=catalogue,
        seq_no=2,
        name="重复",
        decision=decision,
        lead_unit=kit.cast.lead_unit,
        category="3-1",
        required_procedures=["LR"],
        planned_submission_text="9月",
    )
    failure = refused(kit.compile, catalogue)
    assert failure.code == "CATALOGUE_ENTRY_INVALID"
    assert decision.reference in failure.failures[0].detail


def test_compilation_creates_a_proposed_decision_for_an_entry_without_one(kit):
    catalogue = kit.open()
    entry = services.add_entry(
        kit.office,
        catalogue,
        **kit.item(name="城区停车收费标准调整", proposer_type="DEPARTMENT", proposal_fields=walk.PROPOSAL_FIELDS),
    )
    kit.compile(catalogue)
    entry.refresh_from_db()
    decision = entry.decision
    assert decision.state == "PROPOSED"
    assert decision.source_type == Decision.SourceType.CATALOGUE_COMPILATION
    assert decision.proposer_type == "DEPARTMENT"
    assert decision.title == "城区停车收费标准调整"
    assert decision.category == "3-1"
    assert decision.problem == walk.PROPOSAL_FIELDS["problem"]
    assert decision.profile == catalogue.profile


def test_an_entry_without_a_decision_must_say_who_put_it_forward(kit, refused):
    catalogue = kit.open()
    services.add_entry(kit.office, catalogue, **kit.item())
    assert "提出主体类别" in refused(kit.compile, catalogue).failures[0].detail


# -- vetting, approval, return, consent ---------------------------------------------------------------


def test_vetting_is_optional_by_default(kit):
    assert kit.approve(kit.build("COMPILED")).state == "GOV_APPROVED"
    assert kit.approve(kit.build("VETTED", year=kit.year + 1)).state == "GOV_APPROVED"


def test_where_vetting_is_required_approval_waits_for_the_vetting_opinion(kit_for, refused):
    kit = kit_for(catalogue_vetting_required=True)
    catalogue = kit.build("COMPILED")
    failure = refused(kit.approve, catalogue)
    assert failure.codes == ["DOSSIER_ITEM_MISSING"]
    assert "catalogue_vetting_required" in failure.failures[0].rule.citation
    kit.vet(catalogue)
    assert kit.approve(catalogue).state == "GOV_APPROVED"


def test_vetting_and_approval_need_their_records(kit, refused):
    catalogue = kit.build("COMPILED")
    assert refused(services.vet, kit.cast["LEGAL_REVIEWER"], catalogue, opinion=None).code == "DOSSIER_ITEM_MISSING"
    failure = refused(services.approve_by_government, kit.office, catalogue, approval=None)
    assert failure.codes == ["DOSSIER_ITEM_MISSING"]


@pytest.mark.parametrize("state", ["COMPILED", "VETTED"])
def test_the_compiled_catalogue_may_be_returned_for_collection_with_a_reason(kit, refused, state):
    catalogue = kit.build(state)
    assert refused(services.return_to_collecting, kit.office, catalogue, reason=" ").code == "REASON_REQUIRED"
    catalogue = kit.return_(catalogue)
    assert catalogue.state == "COLLECTING"
    assert catalogue.return_reason
    kit.add(catalogue, name="补充事项", decision=kit.proposal("补充"))
    assert kit.compile(catalogue).state == "COMPILED"


@pytest.mark.parametrize(
    ("change", "fails"),
    [
        ({"consent": None}, 1),
        ({"issued_on": None}, 1),
        ({"issued_by": ""}, 1),
        ({"consent": None, "issued_on": None, "issued_by": ""}, 3),
    ],
)
def test_party_consent_needs_its_document_date_and_issuing_body(kit, refused, change, fails):
    catalogue = kit.build("GOV_APPROVED")
    data = {"consent": upload("党委同意"), "issued_on": kit.today, "issued_by": "中共某市委", **change}
    failure = refused(services.record_party_consent, kit.cast["PARTY_LIAISON"], catalogue, **data)
    assert failure.codes == ["CATALOGUE_PARTY_CONSENT_MISSING"] * fails
    assert "第三条第三款" in failure.failures[0].rule.citation


def test_a_consent_dated_in_the_future_is_refused(kit, refused):
    catalogue = kit.build("GOV_APPROVED")
    failure = refused(kit.consent, catalogue, issued_on=kit.today + timedelta(days=1))
    assert failure.code == "CATALOGUE_PARTY_CONSENT_MISSING"


def test_consent_is_recorded_with_date_and_issuer(kit):
    catalogue = kit.consent(kit.build("GOV_APPROVED"))
    assert catalogue.state == "PARTY_CONSENTED"
    consent = catalogue.documents_of("PARTY_CONSENT").get()
    assert (consent.issued_on, consent.issued_by) == (kit.today, "中共某市委")


def test_party_non_consent_sends_the_catalogue_back_for_a_new_approval(kit, refused):
    catalogue = kit.build("GOV_APPROVED")
    failure = refused(services.record_party_non_consent, kit.cast["PARTY_LIAISON"], catalogue, reason="")
    assert failure.code == "REASON_REQUIRED"
    catalogue = kit.non_consent(catalogue)
    assert catalogue.state == "COMPILED"
    assert refused(kit.publish, catalogue).code == "CATALOGUE_PARTY_CONSENT_MISSING"
    kit.approve(catalogue)
    assert catalogue.documents_of("GOV_APPROVAL").count() == 2
    kit.consent(catalogue)
    assert kit.publish(catalogue).state == "PUBLISHED"


# -- publication (scenarios 1 and 2) ---------------------------------------------------------------------


def test_publication_lists_each_proposed_decision(kit):
    # Scenario 1.
    first, second = kit.proposal("一"), kit.proposal("二")
    catalogue = kit.build("PARTY_CONSENTED", decisions=[first, second])
    assert not catalogue.has_party_consent()
    catalogue = kit.publish(catalogue)
    assert catalogue.state == "PUBLISHED"
    assert catalogue.version == 1
    assert catalogue.has_party_consent()
    assert catalogue.notice_number and catalogue.notice_date == kit.today and catalogue.notice_url
    assert list(catalogue.entries_at(1).values_list("valid_from", flat=True)) == [1, 1]
    for decision in (first, second):
        decision.refresh_from_db()
        assert decision.state == "LISTED"
        listing = AuditEvent.objects.get(decision_id_ref=decision.pk, action="transition:T3")
        assert listing.payload["listing_type"] == "catalog.AnnualCatalogue"
        assert listing.role == "SYSTEM"


def test_publication_without_party_consent_is_refused(kit, refused):
    # Scenario 2: 第三条第三款 "经同级党委同意后向社会公布".
    decision = kit.proposal()
    catalogue = kit.build("GOV_APPROVED", decisions=[decision])
    failure = refused(kit.publish, catalogue)
    assert failure.codes == ["CATALOGUE_PARTY_CONSENT_MISSING"]
    assert "第三条第三款" in failure.failures[0].rule.citation
    decision.refresh_from_db()
    assert decision.state == "PROPOSED"


@pytest.mark.parametrize("missing", ["notice_number", "notice_date", "notice_url", "notice"])
def test_publication_needs_the_notice_number_date_url_and_notice(kit, refused, missing):
    catalogue = kit.build("PARTY_CONSENTED")
    failure = refused(kit.publish, catalogue, **{missing: None})
    assert failure.codes == ["DOSSIER_ITEM_MISSING"]


def test_a_publication_date_before_the_consent_is_refused(kit, refused):
    catalogue = kit.build("GOV_APPROVED")
    kit.consent(catalogue, issued_on=kit.today - timedelta(days=1))
    failure = refused(kit.publish, catalogue, notice_date=kit.today - timedelta(days=2))
    assert failure.code == "CATALOGUE_PARTY_CONSENT_MISSING"


def test_a_profile_without_the_consent_requirement_publishes_after_approval(kit_for):
    kit = kit_for(catalogue_requires_party_consent=False)
    decision = kit.proposal()
    catalogue = kit.publish(kit.build("GOV_APPROVED", decisions=[decision]))
    assert catalogue.state == "PUBLISHED"
    assert catalogue.has_party_consent()
    decision.refresh_from_db()
    assert decision.state == "LISTED"


def test_a_matter_excluded_after_consent_blocks_publication(kit, refused):
    decision = kit.proposal()
    catalogue = kit.build("PARTY_CONSENTED", decisions=[decision])
    initiation.declare_not_applicable(kit.office, decision, reason="LEGISLATION")
    assert refused(kit.publish, catalogue).code == "MATTER_NOT_APPLICABLE"


def test_a_listed_decision_may_then_be_started(kit):
    decision = kit.proposal()
    kit.build("PUBLISHED", decisions=[decision])
    decision.refresh_from_db()
    started = walk.initiate(kit.cast, decision)
    assert started.state == "INITIATED"


# -- the table: every step from every state ----------------------------------------------------------

STEPS = {
    "compile": ("COLLECTING", "COMPILED"),
    "vet": ("COMPILED", "VETTED"),
    "approve": ("COMPILED VETTED", "GOV_APPROVED"),
    "return_": ("COMPILED VETTED", "COLLECTING"),
    "consent": ("GOV_APPROVED", "PARTY_CONSENTED"),
    "non_consent": ("GOV_APPROVED", "COMPILED"),
    "publish": ("PARTY_CONSENTED", "PUBLISHED"),
    "report": ("PUBLISHED", "YEAR_END_REPORTED"),
}


@pytest.mark.parametrize("state", ORDER)
@pytest.mark.parametrize("step", list(STEPS))
def test_each_catalogue_step_is_taken_only_from_its_states(kit, refused, step, state, snapshot):
    catalogue = kit.build(state)
    sources, target = STEPS[step]
    if state in sources.split():
        before = AuditEvent.objects.filter(object_type="catalog.AnnualCatalogue", object_id=str(catalogue.pk)).count()
        moved = getattr(kit, step)(catalogue)
        assert moved.state == target
        assert AnnualCatalogue.objects.get(pk=catalogue.pk).state == target
        after = AuditEvent.objects.filter(object_type="catalog.AnnualCatalogue", object_id=str(catalogue.pk)).count()
        assert after > before
    else:
        failure = refused(getattr(kit, step), catalogue)
        assert failure.code in (
            "STATE_PREREQUISITE_MISSING",
            "CATALOGUE_PARTY_CONSENT_MISSING",
            "CATALOGUE_ENTRY_INVALID",
        )
