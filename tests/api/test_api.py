"""The JSON API: the same gates, rules and services as the pages, answered as JSON.

A system signs in with a token, a browser with its session; a refused step comes back with the
rule's code and article (409), a role the step does not take with 403, malformed input with 400.
"""

import io
import uuid

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from decisions.models import AuditEvent, Comment, Decision, Document, Role
from decisions.services import comments as comment_service
from decisions.walkthrough import consultation as consult
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import pdf_bytes
from tests.records import record_events

pytestmark = pytest.mark.django_db


def api(user=None, token=True):
    client = APIClient()
    if user is not None:
        if token:
            key, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {key.key}")
        else:
            client.force_login(user)
    return client


def consulting(cast):
    return walk.draft(cast, walk.initiate(cast, walk.propose(cast)))


def pdf_file(name="材料.pdf"):
    handle = io.BytesIO(pdf_bytes(name))
    handle.name = name
    return handle


# -- the schema --------------------------------------------------------------------------------------


def test_the_openapi_schema_is_served_to_anyone_and_describes_every_action_with_its_fields():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for listed in ("/api/v1/decisions/", "/api/v1/catalogues/", "/api/v1/public/catalogues/", "/api/v1/exports/"):
        assert listed in paths
    action = paths["/api/v1/decisions/{reference}/actions/submit-for-legality-review/"]["post"]
    assert {"400", "403", "404", "409"} <= set(action["responses"])
    body = action["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "submission_letter" in schema["components"]["schemas"][body]["properties"]
    docs = APIClient().get("/api/docs/")
    assert docs.status_code == 200 and b"cdn.jsdelivr" not in docs.content  # served from our static files


# -- authentication and reading ------------------------------------------------------------------------


def test_a_system_with_a_token_lists_its_decisions_and_none_of_another_government(cast_factory, open_cast):
    mine = consulting(open_cast)
    theirs = walk.propose(cast_factory(), title="别的政府的决策事项")
    response = api(open_cast["GOV_OFFICE"]).get("/api/v1/decisions/")
    assert response.status_code == 200
    references = [d["reference"] for d in response.json()["results"]]
    assert mine.reference in references and theirs.reference not in references


def test_without_credentials_the_api_answers_401_and_a_wrong_token_is_refused(open_cast):
    consulting(open_cast)
    assert APIClient().get("/api/v1/decisions/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get("/api/v1/decisions/")
    assert response.status_code == 401 and response.json()["code"] == "NOT_AUTHENTICATED"


def test_the_list_filters_by_state_and_words_and_orders(open_cast):
    consulting_one = consulting(open_cast)
    proposed = walk.propose(open_cast, title="城区停车收费管理办法")
    client = api(open_cast["GOV_OFFICE"])
    by_state = client.get("/api/v1/decisions/", {"state": "CONSULTATION"}).json()["results"]
    assert [d["reference"] for d in by_state] == [consulting_one.reference]
    by_words = client.get("/api/v1/decisions/", {"q": "停车"}).json()["results"]
    assert [d["reference"] for d in by_words] == [proposed.reference]
    ordered = client.get("/api/v1/decisions/", {"ordering": "reference"}).json()["results"]
    assert [d["reference"] for d in ordered] == sorted(d["reference"] for d in ordered)
    assert client.get("/api/v1/decisions/", {"state": "NO_SUCH_STATE"}).status_code == 400


def test_a_decision_shows_its_stages_and_what_blocks_the_next_step_with_the_article(open_cast):
    decision = consulting(open_cast)
    body = api(open_cast["UNDERTAKING_LEAD"]).get(f"/api/v1/decisions/{decision.reference}/").json()
    assert body["state"] == "CONSULTATION" and "UNDERTAKING_LEAD" in body["your_roles"]
    assert {r["stage"] for r in body["stage_records"]} >= {"PP", "EX", "RA"}
    legality = next(s for s in body["next_steps"] if s["tid"] == "T10")
    blockers = [c for c in legality["conditions"] if c["state"] == "blocker"]
    assert blockers and all(c["article"] for c in blockers)


def test_another_governments_user_gets_403_with_the_code_and_an_unknown_decision_404(cast_factory, open_cast):
    decision = consulting(open_cast)
    outsider = cast_factory()["GOV_OFFICE"]
    response = api(outsider).get(f"/api/v1/decisions/{decision.reference}/")
    assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_PERMITTED"
    for part in ("stage-records", "documents", "signoffs", "audit-events", "comments", "dossiers", "actions"):
        assert api(outsider).get(f"/api/v1/decisions/{decision.reference}/{part}/").status_code == 403, part
    assert api(outsider).get("/api/v1/decisions/NO-SUCH/").status_code == 404


# -- actions ---------------------------------------------------------------------------------------


def test_an_out_of_order_step_is_refused_409_citing_the_article_and_nothing_changes(open_cast):
    decision = consulting(open_cast)
    events = record_events().count()
    response = api(open_cast["UNDERTAKING_LEAD"]).post(
        f"/api/v1/decisions/{decision.reference}/actions/submit-for-legality-review/",
        {"submission_letter": pdf_file(), "legal_basis_list": pdf_file(), "procedure_statement": pdf_file()},
        format="multipart",
    )
    assert response.status_code == 409
    body = response.json()
    codes = [f["code"] for f in body["failures"]]
    assert "PRIOR_STAGES_INCOMPLETE" in codes
    prior = next(f for f in body["failures"] if f["code"] == "PRIOR_STAGES_INCOMPLETE")
    assert "第二十六条" in prior["article"] and prior["message"]["zh"] and prior["message"]["en"]
    assert Decision.objects.get(pk=decision.pk).state == "CONSULTATION"
    assert record_events().count() == events


def test_a_step_the_role_does_not_take_is_refused_403_and_malformed_input_400_field_by_field(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    url = f"/api/v1/decisions/{decision.reference}/actions/start-drafting/"
    refused = api(open_cast["MEETING_MEMBER"]).post(url, {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_NOT_PERMITTED"
    draft_url = f"/api/v1/decisions/{decision.reference}/actions/decline/"
    events = record_events().count()
    malformed = api(open_cast["GOV_OFFICE"]).post(draft_url, {"reason": ""}, format="multipart")
    assert malformed.status_code == 400 and malformed.json()["code"] == "INVALID_INPUT"
    errors = malformed.json()["errors"]
    assert {"reason", "record"} <= set(errors) and errors["reason"][0]["message"]
    assert record_events().count() == events and Decision.objects.get(pk=decision.pk).state == "INITIATED"


def test_a_step_taken_through_the_api_is_the_services_step_audited_once_per_idempotency_key(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    client = api(open_cast["UNDERTAKING_LEAD"])
    url = f"/api/v1/decisions/{decision.reference}/actions/start-drafting/"
    key = str(uuid.uuid4())
    done = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert done.status_code == 200, done.json()
    assert done.json()["decision"]["state"] == "DRAFTING"
    assert Decision.objects.get(pk=decision.pk).state == "DRAFTING"
    steps = AuditEvent.objects.filter(decision_id_ref=decision.pk, action="transition:T5").count()
    again = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_SUBMITTED"
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="transition:T5").count() == steps == 1
    assert client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="not-a-uuid").status_code == 400


def test_the_actions_list_says_which_are_in_place_and_yours(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    offered = api(open_cast["UNDERTAKING_LEAD"]).get(
        f"/api/v1/decisions/{decision.reference}/actions/", {"offered": "true"}
    )
    names = [a["name"] for a in offered.json()]
    assert "start-drafting" in names and "decline" not in names


# -- documents, comments, the record ---------------------------------------------------------------------


def test_a_document_uploaded_through_the_api_is_stored_with_its_hash_and_each_download_is_audited(open_cast):
    decision = consulting(open_cast)
    client = api(open_cast["UNDERTAKING_LEAD"])
    created = client.post(
        f"/api/v1/decisions/{decision.reference}/documents/",
        {"stage": "PP", "doc_type": "OTHER", "title": "座谈会记录", "file": pdf_file("座谈会记录.pdf")},
        format="multipart",
    )
    assert created.status_code == 201, created.json()
    document = Document.objects.get(pk=created.json()["id"])
    assert created.json()["sha256"] == document.sha256
    reader = api(open_cast["SUPERVISOR"])
    download = reader.get(f"/api/v1/documents/{document.pk}/file/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == document.file.open("rb").read()
    event = AuditEvent.objects.filter(action="document:download").latest("seq")
    assert event.actor == open_cast["SUPERVISOR"] and event.payload["sha256"] == document.sha256
    wrong = client.post(
        f"/api/v1/decisions/{decision.reference}/documents/",
        {"stage": "PP", "doc_type": "OTHER", "title": "x", "file": io.BytesIO(b"MZ")},
        format="multipart",
    )
    assert wrong.status_code == 400 and "file" in wrong.json()["errors"]


def test_commenters_contact_details_are_masked_in_the_api_until_the_lead_unit_reveals_them(open_cast):
    decision = consulting(open_cast)
    consult.comment(open_cast, decision, ended_days_ago=-5)
    from django.utils import timezone

    comment_service.add_comment(
        open_cast["UNDERTAKING_LEAD"],
        Decision.objects.get(pk=decision.pk),
        text="建议延长补助期限",
        commenter_name="张三",
        received_on=timezone.localdate(),
        channel=Comment.Channel.EMAIL,
        phone="13812345678",
        email="zhangsan@example.cn",
    )
    url = f"/api/v1/decisions/{decision.reference}/comments/"
    lead = api(open_cast["UNDERTAKING_LEAD"]).get(url).json()["results"][0]
    office = api(open_cast["GOV_OFFICE"]).get(url).json()["results"][0]
    assert lead["phone"] == office["phone"] == "138****5678" and lead["email"] == "z***@example.cn"
    assert "13812345678" not in str(office) and "zhangsan@example.cn" not in str(office)
    revealed = api(open_cast["UNDERTAKING_LEAD"]).post(f"{url}{lead['id']}/reveal/").json()
    assert revealed["phone"] == "13812345678" and revealed["email"] == "zhangsan@example.cn"
    assert api(open_cast["GOV_OFFICE"]).post(f"{url}{lead['id']}/reveal/").status_code == 403


def test_the_audit_events_of_a_decision_come_in_chain_order_with_their_macs(open_cast):
    decision = consulting(open_cast)
    events = api(open_cast["SUPERVISOR"]).get(f"/api/v1/decisions/{decision.reference}/audit-events/").json()
    seqs = [e["seq"] for e in events["results"]]
    assert seqs == sorted(seqs) and all(e["mac"] for e in events["results"])


# -- constant queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/decisions/",
        "/api/v1/decisions/{ref}/stage-records/",
        "/api/v1/decisions/{ref}/documents/",
        "/api/v1/decisions/{ref}/audit-events/",
        "/api/v1/decisions/{ref}/signoffs/",
    ],
)
def test_list_endpoints_run_the_same_number_of_queries_whatever_the_page_size(open_cast, url):
    decisions = [consulting(open_cast) for _ in range(2)] + [walk.propose(open_cast) for _ in range(6)]
    target = url.format(ref=decisions[0].reference)
    client = api(open_cast["GOV_OFFICE"])
    counts = []
    for size in (1, 5, 50):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(target, {"page_size": size}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts


def test_roles_who_hold_no_assignment_see_an_empty_list(cast_factory):
    cast = cast_factory()
    walk.propose(cast)
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="x")
    assert api(nobody).get("/api/v1/decisions/").json()["results"] == []
    assert Role.SUPERVISOR in Role.values
