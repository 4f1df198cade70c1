"""Who may act on the catalogue (B1, B9): every service against every role."""

import pytest
from django.contrib.auth.models import AnonymousUser

from catalog import services
from catalog.models import CatalogueAdjustment
from decisions.models import Role, RoleAssignment
from decisions.permissions import NotPermitted
from tests.catalog.conftest import upload

MODIFY = CatalogueAdjustment.Kind.MODIFY


def _catalogue_case(state, call):
    def setup(kit):
        catalogue = kit.build(state)
        return lambda actor: call(kit, actor, catalogue)

    return setup


def _adjustment_case(state, call):
    def setup(kit):
        catalogue = kit.build("PUBLISHED")
        adjustment = kit.adjustment_at(
            catalogue, state, MODIFY, entry=catalogue.entries_at().get(), data={"remarks": "调整"}
        )
        return lambda actor: call(kit, actor, adjustment)

    return setup


def _open(kit):
    return lambda actor: services.open_catalogue(actor, kit.cast.organ, kit.year, call_for_proposals=upload())


def _reassign(kit):
    decision = kit.proposal()
    kit.build("PUBLISHED", decisions=[decision])
    decision = kit.advance(decision, "INITIATED")
    return lambda actor: services.reassign_lead_unit(actor, decision, lead_unit=kit.cast.co_units[0], reason="调整分工")


G, L, P, R = Role.GOV_OFFICE, Role.UNDERTAKING_LEAD, Role.PARTY_LIAISON, Role.LEGAL_REVIEWER

CASES = {
    "open_catalogue": ({G}, _open),
    "add_entry": ({G}, _catalogue_case("COLLECTING", lambda k, a, c: services.add_entry(a, c, **k.item()))),
    "update_entry": (
        {G},
        _catalogue_case("COLLECTING", lambda k, a, c: services.update_entry(a, c.entries.get(), name="改名")),
    ),
    "remove_entry": ({G}, _catalogue_case("COLLECTING", lambda k, a, c: services.remove_entry(a, c.entries.get()))),
    "compile": ({G}, _catalogue_case("COLLECTING", lambda k, a, c: services.compile(a, c, compiled_list=upload()))),
    "vet": ({R}, _catalogue_case("COMPILED", lambda k, a, c: services.vet(a, c, opinion=upload()))),
    "approve_by_government": (
        {G},
        _catalogue_case("COMPILED", lambda k, a, c: services.approve_by_government(a, c, approval=upload())),
    ),
    "return_to_collecting": (
        {G},
        _catalogue_case("COMPILED", lambda k, a, c: services.return_to_collecting(a, c, reason="退回")),
    ),
    "record_party_consent": (
        {P},
        _catalogue_case(
            "GOV_APPROVED",
            lambda k, a, c: services.record_party_consent(
                a, c, consent=upload(), issued_on=k.today, issued_by="中共某市委"
            ),
        ),
    ),
    "record_party_non_consent": (
        {P},
        _catalogue_case("GOV_APPROVED", lambda k, a, c: services.record_party_non_consent(a, c, reason="要求修改")),
    ),
    "publish": ({G}, _catalogue_case("PARTY_CONSENTED", lambda k, a, c: services.publish(a, c, **k.notice()))),
    "set_year_end_disposition": (
        {G},
        _catalogue_case(
            "PUBLISHED", lambda k, a, c: services.set_year_end_disposition(a, c, c.entries_at().get(), "CARRY_OVER")
        ),
    ),
    "report_year_end": (
        {G},
        _catalogue_case(
            "PUBLISHED",
            lambda k, a, c: services.report_year_end(
                a, c, report=upload(), published_on=k.today, dispositions={c.entries_at().get().key: "CARRY_OVER"}
            ),
        ),
    ),
    "propose_adjustment": (
        {G, L},
        _catalogue_case(
            "PUBLISHED",
            lambda k, a, c: services.propose_adjustment(
                a, c, kind=MODIFY, reason="调整", entry=c.entries_at().get(), data={"remarks": "x"}
            ),
        ),
    ),
    "review_adjustment": (
        {G},
        _adjustment_case("PROPOSED", lambda k, a, j: services.review_adjustment(a, j, review=upload())),
    ),
    "approve_adjustment": (
        {G},
        _adjustment_case("REVIEWED", lambda k, a, j: services.approve_adjustment(a, j, approval=upload())),
    ),
    "record_adjustment_consent": (
        {P},
        _adjustment_case(
            "GOV_APPROVED",
            lambda k, a, j: services.record_adjustment_consent(
                a, j, consent=upload(), issued_on=k.today, issued_by="中共某市委"
            ),
        ),
    ),
    "publish_adjustment": (
        {G},
        _adjustment_case("PARTY_CONSENTED", lambda k, a, j: services.publish_adjustment(a, j, **k.notice())),
    ),
    "reject_adjustment": (
        {G, P},
        _adjustment_case("GOV_APPROVED", lambda k, a, j: services.reject_adjustment(a, j, reason="不同意")),
    ),
    "reassign_lead_unit": ({G}, _reassign),
}


def _actor(cast, role):
    return AnonymousUser() if role == Role.PUBLIC else cast[role]


@pytest.mark.parametrize("service", list(CASES))
def test_only_the_b9_roles_may_use_each_catalogue_service(kit_for, snapshot, service):
    allowed, setup = CASES[service]
    kit = kit_for()
    call = setup(kit)
    before = snapshot()
    for role in Role.values:
        if role in allowed:
            continue
        with pytest.raises(NotPermitted):
            call(_actor(kit.cast, role))
        assert snapshot() == before, role
    for role in sorted(allowed):
        fresh = kit_for()
        result = setup(fresh)(_actor(fresh.cast, role))
        assert result is not None


def test_the_office_of_another_organ_cannot_act_on_this_catalogue(kit, cast_factory, refused):
    other = cast_factory()
    catalogue = kit.build("PARTY_CONSENTED")
    with pytest.raises(NotPermitted):
        services.open_catalogue(other["GOV_OFFICE"], kit.cast.organ, kit.year + 1, call_for_proposals=upload())
    with pytest.raises(NotPermitted):
        services.publish(other["GOV_OFFICE"], catalogue, **kit.notice())


def test_an_undertaking_unit_adjusts_only_the_entries_it_leads(kit, snapshot):
    catalogue = kit.build("PUBLISHED")
    entry = catalogue.entries_at().get()
    other_lead = kit.cast["UNDERTAKING_CO"]
    RoleAssignment.objects.create(user=other_lead, organisation=kit.cast.co_units[0], role=Role.UNDERTAKING_LEAD)
    before = snapshot()
    with pytest.raises(NotPermitted):
        services.propose_adjustment(other_lead, catalogue, kind=MODIFY, reason="x", entry=entry, data={"remarks": "x"})
    assert snapshot() == before
    adjustment = services.propose_adjustment(
        kit.cast["UNDERTAKING_LEAD"], catalogue, kind=MODIFY, reason="x", entry=entry, data={"remarks": "x"}
    )
    assert adjustment.proposed_by == kit.cast["UNDERTAKING_LEAD"]
