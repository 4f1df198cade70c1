"""The catalogue API: staff read within their jurisdiction and take the pages' steps; the public reads
only what was published, and nothing more of it than the published notice says."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import AnnualCatalogue, CatalogueDocument, CatalogueEntry, CatalogueState
from decisions.models import AuditEvent, Decision, Organisation, Role
from decisions.walkthrough import consultation as consult
from decisions.walkthrough import initiation as walk
from tests.api.test_api import api, pdf_file
from tests.catalog.conftest import Kit
from tests.records import record_events

pytestmark = pytest.mark.django_db

ADD = "ADD"


@pytest.fixture
def kit(cast):
    """Catalogue helpers for an organ under the huzhou profile (as tests/catalog has them)."""
    return Kit(cast)


@pytest.fixture
def province(cast_factory):
    """A city government with two counties under it, each with a user for every role."""
    city = cast_factory(code="city", name="甲市人民政府", level=Organisation.Level.CITY)
    east = cast_factory(code="east", name="甲市东县人民政府", level=Organisation.Level.COUNTY, parent=city.organ)
    west = cast_factory(code="west", name="甲市西县人民政府", level=Organisation.Level.COUNTY, parent=city.organ)
    return city, east, west


def ids(response):
    assert response.status_code == 200, response.json()
    return {c["id"] for c in response.json()["results"]}


def entry_input(kit, **overrides):
    data = {
        "name": "县域农村生活污水治理三年行动方案",
        "category": Decision.Category.PUBLIC_POLICY,
        "lead_unit": kit.cast.lead_unit.pk,
        "proposer_type": Decision.SourceType.DEPARTMENT,
        "required_procedures": ["PP", "LR", "CD"],
        "planned_submission_text": "9月份",
        "remarks": "内部备注：需与财政局协调资金",
    }
    data.update(overrides)
    return data


def unlinked_fields():
    """What an entry without a decision of its own carries, so that compiling can create one (P25)."""
    return {"proposer_type": Decision.SourceType.DEPARTMENT, "proposal_fields": walk.PROPOSAL_FIELDS}


def unlinked(kit, name):
    return kit.item(name=name, **unlinked_fields())


# -- staff: jurisdiction -------------------------------------------------------------------------------


def test_a_county_office_lists_only_its_own_catalogues_and_the_city_office_also_its_counties(province):
    city, east, west = province
    catalogues = {cast.organ.code: Kit(cast).open() for cast in province}
    assert ids(api(east[Role.GOV_OFFICE]).get("/api/v1/catalogues/")) == {catalogues["east"].pk}
    assert ids(api(city[Role.GOV_OFFICE]).get("/api/v1/catalogues/")) == {c.pk for c in catalogues.values()}
    # A city role that does not oversee the counties reads only the city's own.
    assert ids(api(city[Role.UNDERTAKING_LEAD]).get("/api/v1/catalogues/")) == {catalogues["city"].pk}
    assert ids(api(east[Role.GOV_OFFICE]).get("/api/v1/catalogues/", {"organ": "west"})) == set()


def test_the_city_office_reads_a_county_catalogue_but_may_not_change_it(province):
    city, east, _west = province
    kit = Kit(east)
    county = kit.open()
    client = api(city[Role.GOV_OFFICE])
    assert client.get(f"/api/v1/catalogues/{county.pk}/").status_code == 200
    assert client.get(f"/api/v1/catalogues/{county.pk}/entries/").status_code == 200
    added = client.post(f"/api/v1/catalogues/{county.pk}/entries/", entry_input(kit), format="json")
    assert added.status_code == 403 and added.json()["code"] == "ROLE_NOT_PERMITTED", added.json()
    compiled = client.post(f"/api/v1/catalogues/{county.pk}/steps/compile/", {"document": pdf_file()})
    assert compiled.status_code == 403 and compiled.json()["code"] == "ROLE_NOT_PERMITTED"
    county.refresh_from_db()
    assert county.state == CatalogueState.COLLECTING and not county.entries.exists()


@pytest.mark.parametrize("part", ["", "entries/", "adjustments/"])
def test_another_governments_user_is_refused_a_catalogue_and_its_entries_and_adjustments(province, part):
    _city, east, west = province
    catalogue = Kit(east).build("PUBLISHED")
    for role in (Role.GOV_OFFICE, Role.SUPERVISOR, Role.UNDERTAKING_LEAD):
        response = api(west[role]).get(f"/api/v1/catalogues/{catalogue.pk}/{part}")
        assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_PERMITTED", role
    assert api(east[Role.GOV_OFFICE]).get(f"/api/v1/catalogues/{catalogue.pk}/{part}").status_code == 200
    assert APIClient().get(f"/api/v1/catalogues/{catalogue.pk}/{part}").status_code == 401


def test_an_unknown_catalogue_is_404(kit):
    assert api(kit.office).get("/api/v1/catalogues/999999/").status_code == 404


# -- staff: entries -------------------------------------------------------------------------------------


def test_the_entries_of_a_published_catalogue_can_be_read_at_each_version(kit):
    catalogue = kit.build("PUBLISHED")
    first = [e.name for e in catalogue.entries_at(1)]
    kit.adjustment_at(catalogue, "PUBLISHED", ADD, data=unlinked(kit, "年中新增：城市更新专项规划"))
    catalogue.refresh_from_db()
    assert catalogue.version == 2
    client = api(kit.office)
    at_one = client.get(f"/api/v1/catalogues/{catalogue.pk}/entries/", {"version": 1}).json()["results"]
    at_two = client.get(f"/api/v1/catalogues/{catalogue.pk}/entries/", {"version": 2}).json()["results"]
    newest = client.get(f"/api/v1/catalogues/{catalogue.pk}/entries/").json()["results"]
    assert [e["name"] for e in at_one] == first
    assert "年中新增：城市更新专项规划" in [e["name"] for e in at_two] and newest == at_two
    assert client.get(f"/api/v1/catalogues/{catalogue.pk}/entries/", {"version": 3}).status_code == 404
    detail = client.get(f"/api/v1/catalogues/{catalogue.pk}/").json()
    assert [v["number"] for v in detail["versions"]] == [1, 2]


def test_an_entry_added_through_the_api_is_saved_and_a_malformed_one_is_refused_field_by_field(kit):
    catalogue = kit.open()
    client = api(kit.office)
    url = f"/api/v1/catalogues/{catalogue.pk}/entries/"
    created = client.post(url, entry_input(kit), format="json")
    assert created.status_code == 201, created.json()["errors"]
    entry = CatalogueEntry.objects.get(pk=created.json()["id"])
    assert entry.catalogue == catalogue and entry.name == "县域农村生活污水治理三年行动方案"
    assert created.json()["lead_unit"]["id"] == kit.cast.lead_unit.pk
    entries, events = CatalogueEntry.objects.count(), record_events().count()
    malformed = client.post(
        url, {"name": "", "category": "NO_SUCH_CATEGORY", "lead_unit": kit.cast.organ.pk}, format="json"
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "INVALID_INPUT"
    errors = malformed.json()["errors"]
    assert {"name", "category", "lead_unit", "required_procedures", "planned_submission_text"} <= set(errors)
    assert all(e[0]["message"] for e in errors.values())
    assert CatalogueEntry.objects.count() == entries and record_events().count() == events


def test_an_entry_cannot_be_added_once_the_catalogue_is_compiled(kit):
    catalogue = kit.build("COMPILED")
    response = api(kit.office).post(f"/api/v1/catalogues/{catalogue.pk}/entries/", entry_input(kit), format="json")
    assert response.status_code == 409 and response.json()["code"] and response.json()["article"]


# -- staff: steps -----------------------------------------------------------------------------------------


def test_compiling_through_the_api_moves_the_catalogue_as_the_page_does(kit, client):
    by_api, by_page = kit.open(), kit.open(year=kit.year + 1)
    for catalogue in (by_api, by_page):
        kit.add(catalogue, decision=kit.proposal(f"{catalogue.year}年事项"), name=f"{catalogue.year}年事项")
    response = api(kit.office).post(
        f"/api/v1/catalogues/{by_api.pk}/steps/compile/",
        {"document": pdf_file("汇总清单.pdf"), "title": "汇总清单"},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == CatalogueState.COMPILED and response.json()["state_label"]
    client.force_login(kit.office)
    page = client.post(reverse("catalog:act", args=[by_page.pk, "compile"]), {"document": pdf_file("汇总清单.pdf")})
    assert page.status_code == 302
    for catalogue in (by_api, by_page):
        catalogue.refresh_from_db()
        assert catalogue.state == CatalogueState.COMPILED
        assert catalogue.documents_of(CatalogueDocument.Kind.COMPILED_LIST).count() == 1
        # P25: compiling gives each entry its decision, whichever way it was taken.
        assert not catalogue.draft_entries().filter(decision__isnull=True).exists()
        assert AuditEvent.objects.filter(action="catalogue:compile", object_id=str(catalogue.pk)).count() == 1


def test_the_detail_offers_the_steps_the_user_may_take_now(kit):
    catalogue = kit.build("COMPILED")
    office = api(kit.office).get(f"/api/v1/catalogues/{catalogue.pk}/").json()
    reviewer = api(kit.cast[Role.LEGAL_REVIEWER]).get(f"/api/v1/catalogues/{catalogue.pk}/").json()
    assert "approve" in [a["name"] for a in office["actions"]] and "vet" not in [a["name"] for a in office["actions"]]
    assert "vet" in [a["name"] for a in reviewer["actions"]]
    assert "approve" not in [a["name"] for a in reviewer["actions"]]


def test_a_step_by_a_role_that_may_not_take_it_is_refused_403_and_nothing_moves(kit):
    catalogue = kit.build("COLLECTING")
    events = record_events().count()
    response = api(kit.cast[Role.CHIEF]).post(
        f"/api/v1/catalogues/{catalogue.pk}/steps/compile/", {"document": pdf_file()}, format="multipart"
    )
    assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_PERMITTED"
    assert response.json()["article"] == "B1"
    catalogue.refresh_from_db()
    assert catalogue.state == CatalogueState.COLLECTING and record_events().count() == events


def test_a_step_out_of_order_is_refused_409_with_its_code_and_article(kit):
    catalogue = kit.build("COLLECTING")
    events = record_events().count()
    response = api(kit.office).post(
        f"/api/v1/catalogues/{catalogue.pk}/steps/publish/",
        {
            "notice_number": "湖政办发〔2026〕21号",
            "notice_date": kit.today.isoformat(),
            "notice_url": "https://www.huzhou.gov.cn/art/catalogue",
            "document": pdf_file("公布通知.pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] and body["article"] and body["message"]["zh"] and body["message"]["en"]
    assert body["code"] != "ROLE_NOT_PERMITTED"
    catalogue.refresh_from_db()
    assert catalogue.state == CatalogueState.COLLECTING and catalogue.version == 0
    assert record_events().count() == events


def test_a_step_with_missing_input_is_400_and_an_unknown_step_404(kit):
    catalogue = kit.build("COLLECTING")
    client = api(kit.office)
    missing = client.post(f"/api/v1/catalogues/{catalogue.pk}/steps/compile/", {}, format="multipart")
    assert missing.status_code == 400 and "document" in missing.json()["errors"]
    unknown = client.post(f"/api/v1/catalogues/{catalogue.pk}/steps/no-such-step/", {}, format="multipart")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"
    catalogue.refresh_from_db()
    assert catalogue.state == CatalogueState.COLLECTING


def test_an_adjustment_step_is_taken_through_the_api_and_listed_with_the_catalogue(kit):
    catalogue = kit.build("PUBLISHED")
    adjustment = kit.propose(catalogue, ADD, data=unlinked(kit, "年中新增事项"))
    client = api(kit.office)
    reviewed = client.post(f"/api/v1/adjustments/{adjustment.pk}/steps/review/", {"document": pdf_file()})
    assert reviewed.status_code == 200 and reviewed.json()["state"] == "REVIEWED", reviewed.json()
    listed = client.get(f"/api/v1/catalogues/{catalogue.pk}/adjustments/").json()["results"]
    assert [(a["id"], a["state"], a["kind"]) for a in listed] == [(adjustment.pk, "REVIEWED", ADD)]


# -- public -------------------------------------------------------------------------------------------------


@pytest.fixture
def public_setting(kit):
    """A published catalogue (with remarks on its entry and a proposed ADD), plus one collecting and one compiled."""
    published = kit.build(
        "PUBLISHED",
        entries=[{**unlinked_fields(), "name": "公开事项：公交线网优化方案", "remarks": "内部备注：勿公开"}],
    )
    kit.propose(published, ADD, data=unlinked(kit, "未公布的新增事项"))
    collecting = kit.build("COLLECTING", year=kit.year + 1)
    compiled = kit.build("COMPILED", year=kit.year + 2)
    return published, collecting, compiled


def test_the_anonymous_public_reads_a_published_catalogue_and_its_versions(public_setting):
    published, _collecting, _compiled = public_setting
    anonymous = APIClient()
    listing = anonymous.get("/api/v1/public/catalogues/")
    assert listing.status_code == 200 and ids(listing) == {published.pk}
    detail = anonymous.get(f"/api/v1/public/catalogues/{published.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["version"] == 1 and [v["number"] for v in body["versions"]] == [1]
    assert "公开事项：公交线网优化方案" in [e["name"] for e in body["entries"]]
    assert all(e["phase"] for e in body["entries"])
    version = anonymous.get(f"/api/v1/public/catalogues/{published.pk}/versions/1/")
    assert version.status_code == 200 and version.json()["entries"] == body["entries"]
    assert anonymous.get(f"/api/v1/public/catalogues/{published.pk}/versions/2/").status_code == 404


def test_a_catalogue_not_yet_published_is_not_found_by_the_public(public_setting):
    _published, collecting, compiled = public_setting
    anonymous = APIClient()
    for catalogue in (collecting, compiled):
        assert anonymous.get(f"/api/v1/public/catalogues/{catalogue.pk}/").status_code == 404
        assert anonymous.get(f"/api/v1/public/catalogues/{catalogue.pk}/versions/1/").status_code == 404


def test_nothing_unpublished_appears_on_the_public_endpoints(public_setting):
    published, collecting, compiled = public_setting
    anonymous = APIClient()
    listed = anonymous.get("/api/v1/public/catalogues/").json()["results"]
    assert {c["state"] for c in listed} <= {"PUBLISHED", "YEAR_END_REPORTED", "CLOSED"}
    assert collecting.pk not in {c["id"] for c in listed} and compiled.pk not in {c["id"] for c in listed}
    for state in ("COLLECTING", "COMPILED"):
        filtered = anonymous.get("/api/v1/public/catalogues/", {"state": state}).json()["results"]
        assert filtered == []
    detail = anonymous.get(f"/api/v1/public/catalogues/{published.pk}/")
    text = detail.content.decode()
    for entry in detail.json()["entries"]:
        assert "key" not in entry and "remarks" not in entry
    assert "内部备注" not in text
    assert "未公布的新增事项" not in text
    staff_entries = CatalogueEntry.objects.filter(catalogue=published)
    assert not any(str(e.key) in text for e in staff_entries)


def test_a_listed_decision_is_named_publicly_only_once_the_public_may_open_it_as_on_the_public_page(kit):
    consulting, quiet = kit.proposal("公开征求意见的事项"), kit.proposal("尚未公开的事项")
    catalogue = kit.build("PUBLISHED", decisions=[consulting, quiet])
    kit.advance(consulting, "CONSULTATION")
    consult.comment(kit.cast, consulting, ended_days_ago=-5)  # its comment notice is open today
    response = APIClient().get(f"/api/v1/public/catalogues/{catalogue.pk}/")
    entries = {e["name"]: e for e in response.json()["entries"]}
    assert entries["公开征求意见的事项"]["decision"] == consulting.reference
    assert entries["尚未公开的事项"]["decision"] is None
    assert quiet.reference not in response.content.decode()
    page = APIClient().get(reverse("public:catalogue", args=[catalogue.pk])).content.decode()
    assert consulting.reference in page and quiet.reference not in page


def test_the_public_endpoints_need_no_login_and_the_staff_ones_do(public_setting):
    published, _collecting, _compiled = public_setting
    anonymous = APIClient()
    assert anonymous.get("/api/v1/public/catalogues/").status_code == 200
    assert anonymous.get("/api/v1/catalogues/").status_code == 401
    assert anonymous.get(f"/api/v1/catalogues/{published.pk}/entries/").status_code == 401
    assert AnnualCatalogue.objects.count() == 3


def test_catalogue_lists_and_entries_run_the_same_number_of_queries_whatever_the_page_size(cast_factory, kit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    catalogue = kit.open()
    for n in range(4):
        kit.add(catalogue, name=f"决策事项{n}", co_units=[kit.cast.co_units[0]] if kit.cast.co_units else [])
    for year in (kit.year - 1, kit.year - 2):
        kit.open(year)
    client = api(kit.office)
    for url in ("/api/v1/catalogues/", f"/api/v1/catalogues/{catalogue.pk}/entries/"):
        counts = []
        for size in (1, 50):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, {"page_size": size})
                assert response.status_code == 200 and response.json()["count"] >= 3
            counts.append(len(queries))
        assert counts[0] == counts[1], (url, counts)
