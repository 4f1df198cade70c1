"""The public's API (no login): published catalogues and decisions with their 采纳情况, open comment
notices, and comments sent online. Nothing unpublished and no personal information is ever returned."""

import json
import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from decisions import public
from decisions.models import AuditEvent, Comment
from tests.decisions.test_public_pages import (
    CONSENTED,
    EMAIL,
    ID_NUMBER,
    PHONE,
    PRIVATE,
    consulting,
    drafted,
    published_with_comments,
    staff_names,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def every_public_answer(client):
    """GET every public endpoint (lists and each item they name) and return the bodies, as text."""
    bodies = []
    for url in ("/api/v1/public/decisions/", "/api/v1/public/consultations/", "/api/v1/public/catalogues/"):
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append(response.content.decode())
        for item in response.json()["results"]:
            if "reference" in item:
                detail = f"/api/v1/public/decisions/{item['reference']}/"
            elif "decision" in item:
                detail = f"/api/v1/public/decisions/{item['decision']}/"
            else:
                detail = f"/api/v1/public/catalogues/{item['id']}/"
            answer = client.get(detail)
            assert answer.status_code == 200, detail
            bodies.append(answer.content.decode())
    return "\n".join(json.dumps(json.loads(b), ensure_ascii=False) for b in bodies)


def test_anyone_reads_a_published_decision_with_how_its_comments_were_answered(open_cast):
    decision = published_with_comments(open_cast)
    client = APIClient()
    listed = client.get("/api/v1/public/decisions/").json()["results"]
    assert [d["reference"] for d in listed] == [decision.reference]
    body = client.get(f"/api/v1/public/decisions/{decision.reference}/").json()
    assert body["published"] and body["publications"]
    ledger = body["ledger"]
    assert ledger["total"] == 2 and ledger["counts"]["ADOPTED"] == 1 and ledger["counts"]["NOT_ADOPTED"] == 1
    commenters = {row["commenter"] for row in ledger["rows"]}
    assert CONSENTED in commenters and PRIVATE not in commenters


def test_no_personal_information_and_no_staff_name_appears_on_any_public_endpoint(open_cast):
    published_with_comments(open_cast)
    consulting(open_cast)
    text = every_public_answer(APIClient())
    for secret in (PHONE, EMAIL, ID_NUMBER, PRIVATE, *staff_names(open_cast)):
        assert secret not in text, secret
    for field in ('"phone"', '"email"', '"id_number"', '"mac"', '"payload"', '"remarks"', '"key"'):
        assert field not in text, field


def test_an_unpublished_decision_is_not_found_and_not_listed(open_cast):
    hidden = drafted(open_cast, title="尚未公布的决策事项")
    client = APIClient()
    assert client.get(f"/api/v1/public/decisions/{hidden.reference}/").status_code == 404
    assert hidden.reference not in client.get("/api/v1/public/decisions/").content.decode()
    assert "尚未公布的决策事项" not in every_public_answer(client)


def test_a_decision_in_consultation_shows_only_its_open_notice(open_cast):
    decision = consulting(open_cast)
    client = APIClient()
    notices = client.get("/api/v1/public/consultations/").json()["results"]
    assert [n["decision"] for n in notices] == [decision.reference]
    body = client.get(f"/api/v1/public/decisions/{decision.reference}/").json()
    assert body["published"] is False and body["open_consultations"] and "ledger" not in body


def test_a_comment_sent_through_the_api_lands_in_the_ledger_with_a_receipt_and_once_per_token(open_cast):
    decision = consulting(open_cast)
    period = public.open_consultations().get(stage_record__decision=decision)
    client = APIClient()
    token = str(uuid.uuid4())
    data = {"text": "建议延长夜间免费停车时段", "phone": PHONE, "submission": token}
    sent = client.post(f"/api/v1/public/consultations/{period.pk}/comments/", data, format="json")
    assert sent.status_code == 201, sent.json()
    comment = Comment.objects.get(stage_record__decision=decision)
    assert comment.channel == Comment.Channel.ONLINE_FORM and comment.period_id == period.pk
    assert sent.json()["seq"] == comment.seq and sent.json()["receipt"]
    event = AuditEvent.objects.filter(action="comment:online").latest("seq")
    assert PHONE not in json.dumps(event.payload, ensure_ascii=False)
    again = client.post(f"/api/v1/public/consultations/{period.pk}/comments/", data, format="json")
    assert again.status_code == 201 and again.json()["seq"] == comment.seq
    assert Comment.objects.filter(stage_record__decision=decision).count() == 1


def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(open_cast):
    decision = consulting(open_cast)
    period = public.open_consultations().get(stage_record__decision=decision)
    response = APIClient().post(
        f"/api/v1/public/consultations/{period.pk}/comments/", {"text": "", "email": "不是邮箱"}, format="json"
    )
    assert response.status_code == 400 and {"text", "email"} <= set(response.json()["errors"])
    assert not Comment.objects.filter(stage_record__decision=decision).exists()


def test_a_closed_notice_refuses_a_comment_citing_the_article(open_cast):
    decision = consulting(open_cast, ended_days_ago=1)
    period = decision.current_record("PP").comment_periods.get()
    response = APIClient().post(
        f"/api/v1/public/consultations/{period.pk}/comments/", {"text": "迟到的意见"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "COMMENT_PERIOD_CLOSED" and "第十八条" in response.json()["article"]


def test_an_address_that_sends_too_many_comments_is_told_to_wait(open_cast):
    decision = consulting(open_cast)
    period = public.open_consultations().get(stage_record__decision=decision)
    client = APIClient()
    url = f"/api/v1/public/consultations/{period.pk}/comments/"
    answers = [
        client.post(url, {"text": f"意见{n}"}, format="json").status_code for n in range(public.COMMENTS_PER_HOUR + 1)
    ]
    assert answers[:-1] == [201] * public.COMMENTS_PER_HOUR and answers[-1] == 429
    assert Comment.objects.filter(stage_record__decision=decision).count() == public.COMMENTS_PER_HOUR


@pytest.mark.parametrize("url", ["/api/v1/public/consultations/", "/api/v1/public/decisions/"])
def test_public_lists_run_the_same_number_of_queries_whatever_the_page_size(open_cast, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        consulting(open_cast, title=f"征求意见的决策事项{n}")
    published_with_comments(open_cast)
    published_with_comments(open_cast)
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            response = APIClient().get(url, {"page_size": size})
            assert response.status_code == 200 and response.json()["count"] >= 2
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
