"""Every decision endpoint of the API against every role, with the pages as the measure.

"Exactly the same permissions and jurisdiction as the UI": for each role (held in the decision's own
government, and in another government) and for the anonymous public, each API read answers as the
page showing the same thing answers the same user (200 ↔ 200, 403 ↔ 403, a login redirect ↔ 401),
and each action of the procedure is refused over the API (403) exactly when its page is refused.
The expectation is read from the page, not copied from the permission code, so it holds as a property.
"""

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from decisions import actions
from decisions.models import Comment, Decision, Document, Role
from decisions.permissions import roles_for
from decisions.services import comments as comment_service
from decisions.walkthrough import consultation as consult
from reports import dossiers
from reports.models import Dossier
from tests.api.test_api import api, consulting

pytestmark = pytest.mark.django_db

EVERY_ROLE = [r for r in Role.values if r != Role.PUBLIC]


@pytest.fixture
def decision(open_cast):
    """A decision in public participation with a document, a comment and finished dossiers."""
    from django.utils import timezone

    decision = consulting(open_cast)
    consult.comment(open_cast, decision, ended_days_ago=-5)
    comment_service.add_comment(
        open_cast[Role.UNDERTAKING_LEAD],
        Decision.objects.get(pk=decision.pk),
        text="建议延长补助期限",
        commenter_name="张三",
        received_on=timezone.localdate(),
        channel=Comment.Channel.EMAIL,
        phone="13812345678",
    )
    dossiers.render_pending(decision)
    return Decision.objects.get(pk=decision.pk)


def reads(decision):
    """Each API read of a decision with the page that shows the same thing to the same user."""
    ref = decision.reference
    page = reverse("decisions:detail", args=[ref])
    document = Document.objects.filter(decision=decision).first()
    dossier = Dossier.objects.filter(decision=decision, status=Dossier.Status.DONE).first()
    assert document is not None and dossier is not None
    return [
        ("/api/v1/decisions/", reverse("decisions:index")),
        (f"/api/v1/decisions/{ref}/", page),
        (f"/api/v1/decisions/{ref}/stage-records/", page),
        (f"/api/v1/decisions/{ref}/documents/", page),
        (f"/api/v1/decisions/{ref}/signoffs/", page),
        (f"/api/v1/decisions/{ref}/audit-events/", page),
        (f"/api/v1/decisions/{ref}/actions/", page),
        (f"/api/v1/documents/{document.pk}/file/", page),
        (f"/api/v1/decisions/{ref}/comments/", reverse("decisions:comments", args=[ref])),
        (f"/api/v1/decisions/{ref}/dossiers/", reverse("reports:decision_dossiers", args=[ref])),
        (f"/api/v1/dossiers/{dossier.pk}/file/", reverse("reports:dossier_file", args=[dossier.pk])),
    ]


def answer(response):
    """The status, with a page's redirect to the login page read as 'not authenticated'."""
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    # (the test client closes the response itself: closing it again would close the database connection)
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return "login"
    return response.status_code


API_FOR_PAGE = {200: 200, 403: 403, "login": 401}


def compare(user, decision):
    """Return [(api url, how it was called, page answer, api answer)] for every read answering unlike its page.

    The API is called both as a system (token) and as the browser (the page's own session).
    """
    page_client = APIClient()
    if user is not None:
        page_client.force_login(user)
    callers = {"token": api(user), "session": page_client}
    differing = []
    for api_url, page_url in reads(decision):
        page_response = page_client.get(page_url)
        listing = page_response.status_code == 200 and not page_response.streaming
        page_text = page_response.content.decode() if listing else ""
        page = answer(page_response)
        for how, caller in callers.items():
            response = caller.get(api_url)
            got = answer(response)
            if got != API_FOR_PAGE.get(page, f"page answered {page}"):
                differing.append((api_url, how, page, got))
            elif got == 403:
                assert response.json()["code"] == "ROLE_NOT_PERMITTED", api_url
            elif got == 401:
                assert response.json()["code"] == "NOT_AUTHENTICATED", api_url
            elif api_url == "/api/v1/decisions/":  # the same jurisdiction: listed by the API exactly when by the page
                listed = decision.reference in [d["reference"] for d in response.json()["results"]]
                if listed != (decision.reference in page_text):
                    differing.append((api_url, how, f"page lists it: {not listed}", f"api lists it: {listed}"))
    return differing


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_every_role_of_the_deciding_government_reads_through_the_api_exactly_what_its_pages_show(
    open_cast, decision, role
):
    user = open_cast.users.get(role)
    if user is None:
        pytest.skip(f"the cast has no {role} user")
    assert compare(user, decision) == []


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_the_same_role_in_another_government_is_refused_by_the_api_as_by_the_pages(cast_factory, decision, role):
    user = cast_factory().users.get(role)
    if user is None:
        pytest.skip(f"the cast has no {role} user")
    assert compare(user, decision) == []
    # Refused everywhere but the list, which is theirs (and does not name this decision).
    listed = api(user).get("/api/v1/decisions/").json()["results"]
    assert decision.reference not in [d["reference"] for d in listed]


def test_the_anonymous_public_is_asked_to_sign_in_by_the_api_where_the_pages_send_it_to_login(decision):
    assert compare(None, decision) == []


def test_the_comparison_tells_a_refusal_from_a_reading(open_cast, decision):
    """The measure itself: the pages do refuse some roles here, so agreement above is not agreement of 200s."""
    refused = APIClient()
    refused.force_login(open_cast[Role.EXPERT])
    assert answer(refused.get(reverse("reports:decision_dossiers", args=[decision.reference]))) == 403
    assert answer(api(open_cast[Role.EXPERT]).get(f"/api/v1/decisions/{decision.reference}/dossiers/")) == 403
    assert answer(api(open_cast[Role.EXPERT]).get(f"/api/v1/decisions/{decision.reference}/")) == 200


# -- every action against every role ------------------------------------------------------------------


@pytest.fixture
def consulting_decision(open_cast):
    """A decision in consultation, its lead and co-units named (roles for actions do not depend on more)."""
    return Decision.objects.get(pk=consulting(open_cast).pk)


def try_every_action(user, decision):
    """POST each action with an empty body (undone afterwards) and GET its page; return what each answered."""
    page_client = APIClient()
    if user is not None:
        page_client.force_login(user)
    api_client = api(user)
    answers = {}
    for name in actions.load():
        page = answer(page_client.get(reverse("decisions:act", args=[decision.reference, name])))
        with transaction.atomic():  # whatever an empty POST manages to do is rolled back
            got = answer(api_client.post(f"/api/v1/decisions/{decision.reference}/actions/{name}/", {}))
            transaction.set_rollback(True)
        answers[name] = (page, got)
    return answers


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_an_action_is_refused_over_the_api_exactly_when_its_page_is_refused_to_the_same_role(
    open_cast, consulting_decision, role
):
    decision = consulting_decision
    user = open_cast.users.get(role)
    if user is None:
        pytest.skip(f"the cast has no {role} user")
    roles = roles_for(user, decision)
    registry = actions.load()
    assert len(registry) > 50
    answers = try_every_action(user, decision)
    assert Decision.objects.get(pk=decision.pk).state == decision.state
    mismatched = {n: a for n, a in answers.items() if (a[0] == 403) != (a[1] == 403)}
    assert mismatched == {}
    wrong_reason = {n: a for n, a in answers.items() if (a[1] == 403) == registry[n].may(roles)}
    assert wrong_reason == {}
    unexpected = {n: a for n, a in answers.items() if a[1] not in (200, 400, 403, 409) or a[0] not in (200, 403)}
    assert unexpected == {}


def test_every_action_is_refused_to_another_governments_office_and_the_anonymous_must_sign_in(
    cast_factory, consulting_decision
):
    decision = consulting_decision
    outsider = try_every_action(cast_factory()[Role.GOV_OFFICE], decision)
    assert set(outsider.values()) == {(403, 403)}
    anonymous = try_every_action(None, decision)
    assert set(anonymous.values()) == {("login", 401)}
