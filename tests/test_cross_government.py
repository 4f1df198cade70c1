"""Another government sees and changes nothing of this one's record, through any page or API operation.

Government A (甲市) holds a rich record (tests/cross_government.py). Every role of an unrelated city
(乙市), and the overseeing roles of a county under A (甲市东县: a lower government does not read its
superior), requests every
URL pattern of the project (pages, the admin, accounts, the public pages) and every operation of the
API schema, filled with A's objects: GET, then POST with a plausible body. No answer
may carry a marker of A's record (the public pages may carry what A published), and A's record must
be as it was. The anonymous public does the same and must never meet what A did not publish.

New URL patterns and API operations are included by themselves: a parameter the helper cannot fill with
an A object fails the test until tests/cross_government.py says which objects fill it.
"""

import json
from collections.abc import Iterable

import pytest
from django.db import transaction
from django.db.models import Q
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from decisions.models import AuditEvent, Role
from tests import cross_government as cg

pytestmark = pytest.mark.django_db

# Statuses that say "not for you", "nothing here" or "fill in the form": anything else (a 5xx) is a failure too.
ANSWERED = {200, 301, 302, 400, 401, 403, 404, 405, 409, 422}
# The API's decision actions and catalogue steps, asked with A's objects, must be refused.
REFUSED = {401, 403, 404, 405, 409}
# What anyone may write to A's record as the public (no login needed, so staff of another government too):
# an online comment in an open consultation and a citizen's proposal. They are still requested and read for
# markers; the row they add is the public's, so the row comparison leaves the public's comments aside.
PUBLIC_WRITES = ("/public/consultations/", "/public/proposals/", "/api/v1/public/consultations/")
NO_RATE_LIMIT = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture(scope="module")
def record(django_db_setup, django_db_blocker, tmp_path_factory):
    """A's record and the outsiders, made once for the module inside a transaction rolled back at its end."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, CACHES=NO_RATE_LIMIT):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            made = cg.build_record()
            made.media_root = media
            yield made
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def media_in_tmp(record, settings):
    """The record's files stay where the module's record stored them (replaces the conftest's per-test folder)."""
    settings.MEDIA_ROOT = record.media_root
    settings.CACHES = NO_RATE_LIMIT


def plausible(record):
    """A body with the fields forms and actions commonly take, pointing at A's objects."""
    return {
        "reason": "外单位提交",
        "text": "外单位提交",
        "title": "外单位提交",
        "name": "外单位提交",
        "confirm": "on",
        "decision": record.decisions["reviewed"].reference,
        "catalogue": record.catalogues["published"].pk,
        "disposition": "ADOPTED",
        "to": record.user_pk,
        "year": 2030,
    }


def schema_operations(record):
    """(method, path template, url) of every operation of the served OpenAPI schema, filled with A's objects."""
    schema = APIClient().get("/api/schema/?format=json").json()
    found = []
    for template, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            enums = {p["name"]: p["schema"].get("enum") for p in operation.get("parameters", []) if p["in"] == "path"}
            route = template.lstrip("/").replace("{", "<").replace("}", ">")
            fixed = {"name": enums["name"]} if enums.get("name") else None
            for _route, url in cg.expanded_urls(record, [(route, None)], fixed):
                found.append((method, template, url))
    return found


def page_routes():
    """Every URL pattern but the API operations the schema describes (the API test asks those, by method)."""
    schema = APIClient().get("/api/schema/?format=json").json()["paths"]
    routes, unexplained = [], []
    for route, callback in cg.patterns():
        if route.startswith("api/v1/"):
            template = "/" + cg.PARAMETER.sub(lambda m: "{" + (m["name"] or m["rname"]) + "}", route)
            template = template.replace("{pk}", "{id}")  # drf-spectacular names a pk "id" (COERCE_PATH_PK)
            if template not in schema:
                unexplained.append(route)
            continue
        routes.append((route, callback))
    assert unexplained == [], "API routes missing from the schema would go unchecked"
    return routes


def body(response):
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return content + response.get("Location", "").encode()


def record_changes_count(record):
    """Events of the record, and any event about A's decisions: one query, asked around every write."""
    about_a = [d.pk for d in record.decisions.values()] + record.pks(cg.Decision)
    return AuditEvent.objects.filter(~Q(action__startswith="security:") | Q(decision_id_ref__in=about_a)).count()


class Findings:
    def __init__(self):
        self.leaks, self.odd, self.changed, self.asked = [], [], [], 0

    def check(self, what, response, markers, allowed=ANSWERED):
        self.asked += 1
        if response.status_code not in allowed:
            self.odd.append((*what, response.status_code))
        found = cg.leaked(body(response), markers, what[1])
        if found:
            self.leaks.append((*what, response.status_code, found))

    def assert_clean(self, snapshot=None):
        changes = snapshot.changes_since() if snapshot else []
        message = json.dumps(
            {"leaks": self.leaks, "unexpected status": self.odd, "changed by": self.changed, "rows": changes},
            ensure_ascii=False,
            indent=1,
            default=str,
        )
        assert not (self.leaks or self.odd or self.changed or changes), message


def ask_pages(client, record, findings, *, private_only, relogin=None):
    data = plausible(record)
    for _route, url in cg.expanded_urls(record, page_routes()):
        public = url.startswith("/public/")
        markers = record.markers.private if (public or private_only) else record.markers.private | record.markers.public
        findings.check(("GET", url), client.get(url), markers)
        # One POST per URL: the plausible body (the admin, which refuses every business user and the public at one
        # gate, an empty one). A body the form would take is what could change something.
        for sent in ({},) if url.startswith("/admin/") else (data,):
            before = record_changes_count(record)
            findings.check(("POST", url), client.post(url, sent), markers)
            if record_changes_count(record) != before and not url.startswith(PUBLIC_WRITES):
                findings.changed.append(("POST", url, sorted(sent)))
            if relogin:
                relogin()


def ask_api(client, record, findings, *, private_only):
    data = plausible(record)
    for method, template, url in schema_operations(record):
        public = template.startswith("/api/v1/public/")
        markers = record.markers.private if (public or private_only) else record.markers.private | record.markers.public
        if method == "get":
            findings.check(("GET", url), client.get(url), markers)
            continue
        acting = "/actions/" in template or "/steps/" in template
        for sent in (data,):
            before = record_changes_count(record)
            response = getattr(client, method)(url, sent, format="json")
            allowed = REFUSED if acting else ANSWERED | ({201} if url.startswith(PUBLIC_WRITES) else set())
            findings.check((method.upper(), url), response, markers, allowed)
            if record_changes_count(record) != before and not url.startswith(PUBLIC_WRITES):
                findings.changed.append((method.upper(), url, sorted(sent)))


# Every role of an unrelated government; of the government below, the roles that oversee or carry decisions there
# (its office, its supervisors, an undertaking unit): a lower government's other roles hold no more than these.
BELOW_ROLES = [Role.GOV_OFFICE, Role.SUPERVISOR, Role.UNDERTAKING_LEAD]
OUTSIDERS = [("peer", role) for role in cg.BUSINESS_ROLES] + [("below", role) for role in BELOW_ROLES]


def _ids(pairs: Iterable) -> list[str]:
    return [f"{government}-{role}" for government, role in pairs]


@pytest.mark.parametrize(("government", "role"), OUTSIDERS, ids=_ids(OUTSIDERS))
def test_every_page_shows_and_changes_nothing_of_another_government(record, government, role):
    user = record.outsiders[government][role]
    client = Client()
    client.force_login(user)

    def relogin():  # logout and the MFA pages may end the session; the next URL is asked signed in again
        if "_auth_user_id" not in client.session:
            client.force_login(user)

    # The outsider is signed in and works: their own inbox and decision list answer (so the test can fail).
    assert client.get("/decisions/").status_code == 200
    snapshot, findings = cg.Snapshot(record), Findings()
    ask_pages(client, record, findings, private_only=False, relogin=relogin)
    findings.assert_clean(snapshot)


@pytest.mark.parametrize(("government", "role"), OUTSIDERS, ids=_ids(OUTSIDERS))
def test_every_api_operation_shows_and_changes_nothing_of_another_government(record, government, role):
    user = record.outsiders[government][role]
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/decisions/").status_code == 200
    snapshot, findings = cg.Snapshot(record), Findings()
    ask_api(client, record, findings, private_only=False)
    findings.assert_clean(snapshot)


def test_the_anonymous_public_meets_only_what_the_government_published(record):
    findings = Findings()
    ask_pages(Client(), record, findings, private_only=True)
    ask_api(APIClient(), record, findings, private_only=True)
    findings.assert_clean()


def test_the_record_has_something_behind_every_marker_the_outsiders_must_not_meet(record):
    """The markers are really in A's record: A's own office reads them where the outsiders must not."""
    office = Client()
    office.force_login(record.a["GOV_OFFICE"])
    reviewed = record.decisions["reviewed"]
    page = office.get(f"/decisions/{reviewed.reference}/", follow=True).content
    assert cg.leaked(page, record.markers.private), "A's own office must see its private markers"
    ledger = office.get(f"/decisions/{record.decisions['consulting'].reference}/comments/", follow=True).content
    assert cg.leaked(ledger, record.markers.private)
