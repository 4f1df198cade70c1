"""Jurisdiction: a county office sees and edits only its own catalogue, the city office reads its counties'
catalogues without being able to change them, and the public reads nothing through the staff side."""

import pytest
from django.contrib.auth.models import AnonymousUser

from catalog import access, services
from catalog.models import CatalogueEntry
from decisions.models import Organisation, Role
from decisions.permissions import NotPermitted
from tests.catalog.conftest import Kit, upload

EVERY_ROLE = [r for r in Role.values if r != Role.PUBLIC]
OVERSIGHT = {Role.GOV_OFFICE, Role.SUPERVISOR}


@pytest.fixture
def province(cast_factory):
    """A city government with two counties under it, each with a user for every role."""
    city = cast_factory(code="city", name="甲市人民政府", level=Organisation.Level.CITY)
    east = cast_factory(code="east", name="甲市东县人民政府", level=Organisation.Level.COUNTY, parent=city.organ)
    west = cast_factory(code="west", name="甲市西县人民政府", level=Organisation.Level.COUNTY, parent=city.organ)
    return city, east, west


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_every_role_of_a_county_reads_only_its_own_county(province, role):
    city, east, west = province
    user = east.users.get(role)
    if user is None:
        pytest.skip(f"the cast has no {role} user")
    assert access.readable_organ_ids(user) == {east.organ.pk}


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_city_office_and_supervisors_read_the_counties_other_city_roles_only_the_city(province, role):
    city, east, west = province
    user = city.users.get(role)
    if user is None:
        pytest.skip(f"the cast has no {role} user")
    expected = {city.organ.pk, east.organ.pk, west.organ.pk} if role in OVERSIGHT else {city.organ.pk}
    assert access.readable_organ_ids(user) == expected


def test_the_anonymous_public_reads_no_catalogue_through_the_staff_side(province):
    assert access.readable_organ_ids(AnonymousUser()) == set()
    assert access.readable_organ_ids(None) == set()


def test_a_township_under_a_county_is_overseen_by_the_city(cast_factory, province):
    city, east, _west = province
    town = cast_factory(code="town", name="东县甲镇人民政府", level=Organisation.Level.TOWNSHIP, parent=east.organ)
    assert town.organ.pk in access.readable_organ_ids(city[Role.GOV_OFFICE])
    assert town.organ.pk in access.readable_organ_ids(east[Role.SUPERVISOR])
    assert town.organ.pk not in access.readable_organ_ids(east[Role.CHIEF])


def test_visible_catalogues_follow_jurisdiction(province):
    city, east, west = province
    catalogues = {cast.organ.code: Kit(cast).open() for cast in province}
    assert set(access.visible_catalogues(east[Role.GOV_OFFICE])) == {catalogues["east"]}
    assert set(access.visible_catalogues(city[Role.GOV_OFFICE])) == set(catalogues.values())
    assert set(access.visible_catalogues(city[Role.UNDERTAKING_LEAD])) == {catalogues["city"]}


def test_the_city_office_cannot_change_a_county_catalogue(province):
    city, east, _west = province
    county_catalogue = Kit(east).open()
    with pytest.raises(NotPermitted):
        services.add_entry(city[Role.GOV_OFFICE], county_catalogue, **Kit(east).item())
    with pytest.raises(NotPermitted):
        services.compile(city[Role.GOV_OFFICE], county_catalogue, compiled_list=upload())
    assert CatalogueEntry.objects.filter(catalogue=county_catalogue).count() == 0


def test_a_county_office_cannot_open_or_edit_another_governments_catalogue(province):
    city, east, west = province
    with pytest.raises(NotPermitted):
        services.open_catalogue(east[Role.GOV_OFFICE], west.organ, 2026, call_for_proposals=upload())
    with pytest.raises(NotPermitted):
        services.open_catalogue(east[Role.GOV_OFFICE], city.organ, 2026, call_for_proposals=upload())
    west_catalogue = Kit(west).open()
    with pytest.raises(NotPermitted):
        services.add_entry(east[Role.GOV_OFFICE], west_catalogue, **Kit(west).item())


def test_acting_roles_at_an_organ_are_those_the_services_accept(province):
    city, east, _west = province
    assert access.acting_roles(city[Role.GOV_OFFICE], city.organ) == {Role.GOV_OFFICE}
    assert access.acting_roles(city[Role.GOV_OFFICE], east.organ) == set()
    assert access.acting_roles(east[Role.LEGAL_REVIEWER], east.organ) == {Role.LEGAL_REVIEWER}
    assert access.acting_roles(east[Role.UNDERTAKING_LEAD], east.organ) >= {Role.UNDERTAKING_LEAD}
