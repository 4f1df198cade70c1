"""三员分立 over the API: every operation of the served schema, for each administrator and a superuser.

An administrator holds no business role, so the API gives them nothing of any government: a list answers
200 and empty, anything else 403 or 404; every write (the decision actions, the catalogue and adjustment steps,
uploads, exports, erasing or revealing personal data …) is refused with 403, 404 or 405 and leaves the record
as it was. The public endpoints answer them exactly as they answer the anonymous public.
"""

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from decisions.accounts import admin_roles
from decisions.models import Comment, Decision, Document, HearingParticipant, Role
from decisions.services import comments as comment_service
from decisions.walkthrough import consultation as consult
from reports import dossiers, exports
from reports.models import Dossier
from tests.api.test_api import api, consulting
from tests.api.test_catalogue_api import ADD, unlinked
from tests.catalog.conftest import Kit
from tests.decisions.test_admin_separation import admins  # noqa: F401 (the administrators, as a fixture)
from tests.decisions.test_public_pages import published_with_comments
from tests.records import record_events

pytestmark = pytest.mark.django_db

WRITES = ("post", "put", "patch", "delete")
REFUSED_READ = {403, 404}
REFUSED_WRITE = {403, 404, 405}


@pytest.fixture
def government(open_cast):
    """One government with something behind every path: decisions, comments, a hearing, dossiers, an export, catalogues."""
    decision = consulting(open_cast)
    consult.comment(open_cast, decision, ended_days_ago=-5)
    comment = comment_service.add_comment(
        open_cast[Role.UNDERTAKING_LEAD],
        Decision.objects.get(pk=decision.pk),
        text="建议延长补助期限",
        commenter_name="张三",
        received_on=timezone.localdate(),
        channel=Comment.Channel.EMAIL,
        phone="13812345678",
    )
    consult.hold_hearing(open_cast, decision)
    dossiers.render_pending(decision)
    requested = api(open_cast[Role.SUPERVISOR]).post(
        "/api/v1/exports/", {"decision": decision.reference}, format="json"
    )
    assert requested.status_code == 202, requested.json()
    exports.run(requested.json()["id"])
    kit = Kit(open_cast)
    catalogue = kit.build("PUBLISHED")
    adjustment = kit.propose(catalogue, ADD, data=unlinked(kit, "年中新增事项"))
    published = published_with_comments(open_cast)
    period = decision.current_record("PP").comment_periods.get()
    return {
        "decision": decision.reference,
        "published": published.reference,
        "comment": comment.pk,
        "participant": HearingParticipant.objects.filter(hearing__stage_record__decision=decision)
        .values_list("pk", flat=True)
        .first(),
        "document": Document.objects.filter(decision=decision).values_list("pk", flat=True).first(),
        "dossier": Dossier.objects.filter(decision=decision, status=Dossier.Status.DONE).first().pk,
        "export": requested.json()["id"],
        "catalogue": catalogue.pk,
        "adjustment": adjustment.pk,
        "period": period.pk,
    }


def path_values(path, world):
    """The real objects of `world` a path's parameters name (by the collection before each parameter)."""
    by_collection = {
        "adjustments": world["adjustment"],
        "catalogues": world["catalogue"],
        "comments": world["comment"],
        "hearing-participants": world["participant"],
        "documents": world["document"],
        "dossiers": world["dossier"],
        "exports": world["export"],
        "consultations": world["period"],
        "versions": 1,
    }
    values, parts = {}, path.strip("/").split("/")
    for before, part in zip(parts, parts[1:], strict=False):
        if part.startswith("{") and part != "{name}":
            if part == "{reference}":
                values[part] = world["published" if "/public/" in path else "decision"]
            else:
                values[part] = by_collection[before]
    return values


def operations(world):
    """(method, url) for every operation of the served schema, a path's `{name}` taken by each value its enum allows."""
    schema = APIClient().get("/api/schema/?format=json").json()
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", *WRITES):
                continue
            names = [None]
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "name" and parameter["in"] == "path":
                    names = parameter["schema"]["enum"]
            url = path
            for placeholder, value in path_values(path, world).items():
                url = url.replace(placeholder, str(value))
            for name in names:
                found.append((method, url.replace("{name}", name) if name else url))
    assert not [url for _method, url in found if "{" in url], "a path parameter the test cannot fill"
    return found


def answer(response):
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


@pytest.fixture
def no_rate_limit(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    cache.clear()


@pytest.mark.parametrize("persona", [*admin_roles.ADMIN_ROLES, "superuser"])
def test_an_administrator_reads_no_business_data_and_changes_nothing_through_any_api_endpoint(
    admins,  # noqa: F811
    government,
    no_rate_limit,
    persona,
):
    administrator = admins[persona]
    caller, anonymous = api(administrator), APIClient()
    every = operations(government)
    assert len([1 for _m, url in every if "/actions/" in url]) > 50  # the decision actions are among them
    public_differs, read_given, write_taken = [], [], []
    for method, url in every:
        if url.startswith("/api/v1/public/"):
            if method == "get":
                mine, theirs = answer(caller.get(url)), answer(anonymous.get(url))
                if (mine.status_code, mine.content) != (theirs.status_code, theirs.content):
                    public_differs.append((url, mine.status_code, theirs.status_code))
            else:  # an empty comment: refused alike (a real one is the public's, whoever sends it)
                mine, theirs = getattr(caller, method)(url, {}, format="json"), getattr(anonymous, method)(url, {})
                if mine.status_code != theirs.status_code:
                    public_differs.append((method.upper(), url, mine.status_code, theirs.status_code))
            continue
        if method == "get":
            response = answer(caller.get(url))
            listing = response.status_code == 200 and "results" in response.json()
            if not (listing and response.json()["results"] == []) and response.status_code not in REFUSED_READ:
                read_given.append((url, response.status_code))
            continue
        before = record_events().count()
        body = (
            {"decision": government["decision"]} if url == "/api/v1/exports/" else {}
        )  # valid, so refused for the role
        response = answer(getattr(caller, method)(url, body, format="json"))
        if response.status_code not in REFUSED_WRITE or record_events().count() != before:
            write_taken.append((method.upper(), url, response.status_code))
    assert read_given == [] and write_taken == [] and public_differs == []
