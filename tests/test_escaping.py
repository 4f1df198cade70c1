"""No user input is rendered unescaped, in pages or in PDFs (issue 8, security).

A title, a unit's name or a citizen's comment may contain markup, by mistake or on purpose. Every page
shows it as text: the markup arrives escaped and never as an element. A PDF shows it as the characters
typed (WeasyPrint parses HTML: an unescaped `<script>` would vanish from the page text).
"""

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from pypdf import PdfReader

from decisions.models import Decision, Role, Stage
from decisions.rules import consultation as consultation_rules
from decisions.services import comments, consultation
from decisions.walkthrough import consultation as consultation_walk
from decisions.walkthrough import initiation as walk
from reports import adoption

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("xss")</script>'
IMAGE = "<img src=x onerror=alert(1)>"
HOSTILE_TITLE = f"停车收费{SCRIPT}办法"
HOSTILE_COMMENT = f"建议{IMAGE}延长免费时段"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def consulting(open_cast):
    """A decision with a hostile title in public participation, its ledger holding a hostile comment."""
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast, title=HOSTILE_TITLE)))
    consultation_walk.comment(open_cast, decision, ended_days_ago=-10)
    lead = open_cast[Role.UNDERTAKING_LEAD]
    comment = comments.add_comment(
        lead,
        decision,
        text=HOSTILE_COMMENT,
        commenter_name=f"张三{IMAGE}",
        name_public=True,
        received_on=consultation.today() - timedelta(days=1),
        channel="WEBSITE",
    )
    comments.answer(lead, decision, [comment], disposition="ADOPTED", reason=f"采纳{SCRIPT}")
    return Decision.objects.get(pk=decision.pk)


def assert_escaped(html, where):
    for markup in (SCRIPT, IMAGE):
        assert markup not in html, f"{where} renders {markup!r} unescaped"
    assert "&lt;script&gt;" in html or "&lt;img" in html, f"{where} does not show the input as text"


def test_staff_pages_show_a_hostile_title_and_comment_as_text(client, open_cast, consulting):
    client.force_login(open_cast[Role.UNDERTAKING_LEAD])
    for name in ("decisions:detail", "decisions:comments"):
        response = client.get(reverse(name, args=[consulting.reference]))
        assert response.status_code == 200
        assert_escaped(response.content.decode(), name)
    listing = client.get(reverse("decisions:index"), {"q": "停车收费"})
    assert_escaped(listing.content.decode(), "decisions:index")


def test_public_pages_show_a_hostile_title_as_text(client, consulting):
    period = consultation_rules.comment_periods(consulting.current_record(Stage.PP)).last()
    # An open comment notice is public: the list names it, and its page shows the notice.
    for url in (reverse("public:decisions"), reverse("public:decision", args=[consulting.reference])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.content.decode(), url)
    form = client.get(reverse("public:comment", args=[period.pk]))
    assert form.status_code == 200
    assert_escaped(form.content.decode(), "public:comment")


def test_the_api_returns_hostile_text_as_data_not_markup(client, open_cast, consulting):
    client.force_login(open_cast[Role.UNDERTAKING_LEAD])
    response = client.get(f"/api/v1/decisions/{consulting.reference}/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["title"] == HOSTILE_TITLE


def test_a_pdf_shows_hostile_text_as_the_characters_typed(consulting):
    summary = comments.adoption_summary(consulting)
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(adoption.adoption_statement_pdf(summary))).pages
    )
    flat = "".join(text.split())
    # The markup's characters are on the page: it was text, not an element WeasyPrint swallowed.
    assert "<script>" in flat and "onerror=alert(1)" in flat
