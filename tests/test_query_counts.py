"""The pages people open every day ask the database a fixed number of questions, however much is recorded.

Each test opens a page on a small province, then records several times more (decisions in the county's
catalogue, whole governments under the city, the audit events all that writes) and opens it again under the
same ceiling. A page that asked one question per row (N+1) would pass the first count and fail the second.
Speed itself is measured by bench/province.py (bench/results-province.md), never here.
"""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from catalog import walkthrough as catalogue_walk
from catalog.models import AnnualCatalogue
from decisions.models import AuditEvent, Decision, Organisation, Role
from decisions.walkthrough import initiation as walk

# The most queries each page may ask: what each asked on the seeded province (bench/results-province.md) plus two.
CEILINGS = {
    "inbox": 16,
    "decision list": 14,
    "decision page": 40,  # a decision in consultation (33 on SQLite): its open steps are judged by their rules
    "county dashboard": 20,
    "city dashboard": 22,
    "API decision list": 8,
    "public catalogue": 15,
}


def _decisions(cast, year, count, worked_on):
    """`count` decisions listed in the cast's catalogue; the first `worked_on` initiated and drafted (tasks, documents,
    sign-offs)."""
    titles = [f"{cast.organ.name}第{Decision.objects.count() + i + 1}项决策事项" for i in range(count)]
    decisions = [walk.propose(cast, title=title) for title in titles]
    catalogue_walk.publish_catalogue(cast, year, entries=[{"decision": d, "name": d.title} for d in decisions])
    for decision in decisions[:worked_on]:
        walk.draft(cast, walk.initiate(cast, decision))
    return decisions


@pytest.fixture
def province(cast_factory):
    city = cast_factory(code="qc", name="查询市人民政府")
    county = cast_factory(code="qc-a", name="查询市甲县人民政府", level=Organisation.Level.COUNTY, parent=city.organ)
    year = 2026
    first = _decisions(county, year, 2, worked_on=1)
    _decisions(city, year, 1, worked_on=0)
    return city, county, year, Decision.objects.get(pk=first[0].pk)


def _grow(city, county, year, cast_factory):
    """Several times more of everything: the county's catalogue, more counties under the city, their audit events."""
    events = AuditEvent.objects.count()
    _decisions(county, year, 4, worked_on=2)
    for n in (2, 3):
        other = cast_factory(
            code=f"qc-{n}", name=f"查询市{n}号县人民政府", level=Organisation.Level.COUNTY, parent=city.organ
        )
        _decisions(other, year, 2, worked_on=1)
    assert AuditEvent.objects.count() > 3 * events  # the record really grew


def _pages(city, county, year, decision):
    county_catalogue = AnnualCatalogue.objects.filter(organ=county.organ, year=year).order_by("-version").first()
    query = f"state={decision.state}&q={county.organ.code}-{year}"
    return [
        ("inbox", county[Role.UNDERTAKING_LEAD], reverse("workflows:inbox")),
        ("decision list", county[Role.GOV_OFFICE], reverse("decisions:index") + "?" + query),
        ("decision page", county[Role.UNDERTAKING_LEAD], reverse("decisions:detail", args=[decision.reference])),
        (
            "county dashboard",
            county[Role.GOV_OFFICE],
            reverse("catalog:government_dashboard", args=[county.organ.code, year]),
        ),
        (
            "city dashboard",
            city[Role.GOV_OFFICE],
            reverse("catalog:government_dashboard", args=[city.organ.code, year]),
        ),
        ("API decision list", ("token", county[Role.UNDERTAKING_LEAD]), "/api/v1/decisions/?" + query),
        ("public catalogue", None, reverse("public:catalogue", args=[county_catalogue.pk])),
    ]


def _open(name, who, path, django_assert_max_num_queries):
    client, headers = Client(), {}
    if isinstance(who, tuple):
        headers["Authorization"] = f"Token {Token.objects.get_or_create(user=who[1])[0].key}"
    elif who is not None:
        client.force_login(get_user_model().objects.get(pk=who.pk))
    client.get(path, headers=headers)  # first visit: sessions, caches and the like, not the page's own questions
    with django_assert_max_num_queries(CEILINGS[name], info=name):
        response = client.get(path, headers=headers)
    assert response.status_code == 200, name
    return response


def test_each_page_asks_the_same_number_of_queries_when_the_province_grows(
    province, cast_factory, django_assert_max_num_queries
):
    city, county, year, decision = province
    before = {name: _open(name, who, path, django_assert_max_num_queries) for name, who, path in _pages(*province)}
    _grow(city, county, year, cast_factory)
    after = {name: _open(name, who, path, django_assert_max_num_queries) for name, who, path in _pages(*province)}
    for name in ("county dashboard", "city dashboard", "public catalogue", "decision list"):
        assert after[name].content != before[name].content, name  # the page does show the grown record
