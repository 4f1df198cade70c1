"""The public's pages of decisions (no login): what a citizen reads of a decision, the online comment form
(线上参与平台) that writes into the comments ledger, and the larger-text mode for older readers (适老化).

Personal information never reaches a public page: a commenter's phone, e-mail and ID number stay in the
ledger, and a name is shown only when its owner agreed."""

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from decisions import public
from decisions.models import AuditEvent, Comment, Decision, DocumentType, Role, Stage
from decisions.rules import ProcedureRefused
from decisions.rules import consultation as consultation_rules
from decisions.services import comments, consultation
from decisions.walkthrough import consultation as consultation_walk
from decisions.walkthrough import doc, legality, meeting
from decisions.walkthrough import initiation as walk

pytestmark = pytest.mark.django_db

PHONE, EMAIL, ID_NUMBER = "13812345678", "alice.wang@example.cn", "330102199001011234"
CONSENTED, PRIVATE = "李建国", "王晓丽"
PRIVATE_TEXT = "建议增加社区充电桩的布点"


@pytest.fixture(autouse=True)
def empty_cache():
    """The form's rate limit counts in the cache; each test starts from none."""
    cache.clear()
    yield
    cache.clear()


def drafted(cast, title="市本级新能源汽车推广应用地方补助实施办法"):
    return walk.draft(cast, walk.initiate(cast, walk.propose(cast, title=title)))


def consulting(cast, ended_days_ago=-10, title="市区停车收费管理办法"):
    """A decision in public participation with a comment notice open for `-ended_days_ago` more days."""
    decision = drafted(cast, title)
    consultation_walk.comment(cast, decision, ended_days_ago=ended_days_ago)
    return Decision.objects.get(pk=decision.pk)


def published_with_comments(cast):
    """A decision published after a consultation whose ledger holds a consented and a private commenter."""
    decision = drafted(cast)
    consultation_walk.comment(cast, decision, ended_days_ago=1)
    lead = cast[Role.UNDERTAKING_LEAD]
    received = consultation.today() - timedelta(days=2)
    agreed = comments.add_comment(
        lead,
        decision,
        text="建议提高补助标准",
        commenter_name=CONSENTED,
        name_public=True,
        received_on=received,
        channel="WEBSITE",
    )
    private = comments.add_comment(
        lead,
        decision,
        text=PRIVATE_TEXT,
        commenter_name=PRIVATE,
        phone=PHONE,
        email=EMAIL,
        id_number=ID_NUMBER,
        received_on=received,
        channel="EMAIL",
    )
    comments.answer(lead, decision, [agreed], disposition="ADOPTED", reason="已在草案第五条中采纳")
    comments.answer(lead, decision, [private], disposition="NOT_ADOPTED", reason="不属于本决策事项范围")
    # The rest of public participation as the walkthrough takes it (participate() without a second notice).
    consultation.record_participation_methods(lead, decision, ["FORUM"], documents=[doc(DocumentType.PP_METHOD_RECORD)])
    consultation.close_not_triggered(
        lead, decision, Stage.HEARING, reason_code=consultation_rules.OPTIONAL_NOT_HELD, reason_text="未要求听证"
    )
    consultation.complete_public_participation(
        lead, decision, documents=[doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)]
    )
    consultation_walk.skip_expert_review(cast, decision)
    consultation_walk.skip_risk_assessment(cast, decision)
    decision = legality.review(cast, Decision.objects.get(pk=decision.pk))
    decision = legality.to_ready_for_meeting(cast, decision)
    decision = meeting.decide(cast, decision)
    return meeting.publish(cast, decision)


def staff_names(cast):
    people = [user for user in [*cast.users.values(), cast.extra["gov_office_2"]] if user]
    return {user.username for user in people} | {user.first_name for user in people if user.first_name}


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def form_data(period, **fields):
    data = {"text": "建议延长夜间免费停车时段", "commenter_name": "", "submission": str(uuid.uuid4())}
    return {**data, **fields}


def send(client, period, **fields):
    return client.post(reverse("public:comment", args=[period.pk]), form_data(period, **fields))


def open_period(decision):
    return consultation_rules.comment_periods(decision.current_record(Stage.PP)).last()


# -- what the public reads ---------------------------------------------------------------------------


def test_a_citizen_reads_a_published_decision_with_how_the_comments_were_adopted(client, open_cast):
    decision = published_with_comments(open_cast)
    index = page(client, reverse("public:decisions"))
    assert decision.title in index and reverse("public:decision", args=[decision.reference]) in index
    text = page(client, reverse("public:decision", args=[decision.reference]))
    assert decision.title in text and decision.organ.name in text and decision.lead_unit.name in text
    assert "公众意见采纳情况" in text and "共收到意见 2 条" in text
    assert "采纳：1" in text and "不采纳：1" in text
    assert "已在草案第五条中采纳" in text and PRIVATE_TEXT in text
    assert CONSENTED in text  # the commenter agreed to be named
    assert "匿名" in text


def test_no_public_page_shows_personal_information_or_staff_names(client, open_cast):
    decision = published_with_comments(open_cast)
    texts = [
        page(client, reverse("public:decisions")),
        page(client, reverse("public:decision", args=[decision.reference])),
        json.dumps(public.public_decision(decision), default=str, ensure_ascii=False),
    ]
    for text in texts:
        for secret in (PHONE, EMAIL, ID_NUMBER, PRIVATE, *staff_names(open_cast)):
            assert secret not in text, secret


def test_the_public_dict_holds_publication_catalogue_notices_and_the_ledger(open_cast):
    decision = published_with_comments(open_cast)
    shown = public.public_decision(decision)
    assert shown["reference"] == decision.reference and shown["published"] is True
    assert shown["phase"] == "公布"
    (publication,) = shown["publications"]
    assert publication["channels"] and publication["final_document"]["title"] == "决策文件"
    assert shown["ledger"]["total"] == 2 and shown["ledger"]["counts"]["ADOPTED"] == 1
    assert [row["commenter"] for row in shown["ledger"]["rows"]] == [CONSENTED, "匿名"]
    assert shown["ledger"]["periods"][0]["channels"] == "政府网站"
    assert shown["open_consultations"] == []


def test_decisions_not_yet_published_issued_without_publication_or_withheld_by_law_are_not_found(client, open_cast):
    drafting = drafted(open_cast, "尚在起草的办法")
    closed_notice = consulting(open_cast, ended_days_ago=1, title="征求意见已截止的办法")
    issued = meeting.issue_not_public(
        open_cast,
        meeting.decide(
            open_cast,
            legality.to_ready_for_meeting(
                open_cast,
                legality.review(open_cast, consultation_walk.consult(open_cast, drafted(open_cast, "不公开"))),
            ),
        ),
    )
    assert issued.state == "ISSUED_NOT_PUBLIC"
    for decision in (drafting, closed_notice, issued):
        page(client, reverse("public:decision", args=[decision.reference]), status=404)
        assert public.public_decision(decision) is None
    index = page(client, reverse("public:decisions"))
    assert all(d.title not in index for d in (drafting, closed_notice, issued))
    # Published, then found to be withheld by law: gone from the public at once.
    published = published_with_comments(open_cast)
    Decision.objects.filter(pk=published.pk).update(confidential_by_law=True)
    page(client, reverse("public:decision", args=[published.reference]), status=404)
    assert not public.published_decisions().filter(pk=published.pk).exists()


def test_a_decision_open_for_comment_shows_its_notice_and_form_but_not_its_record(client, open_cast):
    decision = consulting(open_cast)
    comments.add_comment(
        open_cast[Role.UNDERTAKING_LEAD],
        decision,
        text=PRIVATE_TEXT,
        commenter_name=PRIVATE,
        phone=PHONE,
        received_on=consultation.today(),
        channel="LETTER",
    )
    period = open_period(decision)
    index = page(client, reverse("public:decisions"))
    assert decision.title in index and reverse("public:comment", args=[period.pk]) in index
    assert public.readable_ids([decision.pk]) == {decision.pk}
    text = page(client, reverse("public:decision", args=[decision.reference]))
    assert "公开征求意见" in text and reverse("public:comment", args=[period.pk]) in text
    assert "通过政府网站留言" in text  # how to comment, as the notice says
    assert PRIVATE_TEXT not in text and PRIVATE not in text and "公众意见采纳情况" not in text
    shown = public.public_decision(decision)
    assert shown["published"] is False and "ledger" not in shown and shown["open_consultations"][0]["id"] == period.pk


# -- the online comment form -------------------------------------------------------------------------


def test_a_comment_sent_online_lands_in_the_ledger_and_the_receipt_gives_its_number(client, open_cast):
    decision = consulting(open_cast)
    period = open_period(decision)
    form = page(client, reverse("public:comment", args=[period.pk]))
    assert "身份证" not in form.replace("本页不收集身份证号", "")  # the ID number is not asked
    assert 'for="id_name_public"' in form and "个人信息如何使用" in form
    response = send(client, period, commenter_name=PRIVATE, phone=PHONE, email=EMAIL, commenter_organisation="某某公司")
    assert response.status_code == 302
    comment = Comment.objects.get(stage_record__decision=decision)
    assert comment.channel == Comment.Channel.ONLINE_FORM and comment.period == period
    assert comment.received_on == consultation.today() and comment.recorded_by is None
    assert (comment.commenter_name, comment.phone, comment.email) == (PRIVATE, PHONE, EMAIL)
    assert comment.name_public is False and comment.stage_record == decision.current_record(Stage.PP)
    receipt = page(client, response.url)
    assert f"序号为 <strong>{comment.seq}</strong>" in receipt
    assert comments.receipt_code(comment) in receipt and PHONE not in receipt and PRIVATE not in receipt
    (event,) = AuditEvent.objects.filter(action="comment:online", object_id=str(comment.pk))
    payload = json.dumps(event.payload, ensure_ascii=False)
    for secret in (PHONE, EMAIL, PRIVATE, "某某公司", comment.text):
        assert secret not in payload
    assert event.payload["channel"] == "ONLINE_FORM" and event.role == Role.PUBLIC and event.actor is None
    assert sorted(event.payload["given"]) == ["commenter_name", "commenter_organisation", "email", "phone"]


def test_a_comment_without_a_name_is_recorded_as_anonymous_and_a_consented_name_is_shown(client, open_cast):
    decision = consulting(open_cast)
    period = open_period(decision)
    assert send(client, period).status_code == 302
    response = send(client, period, commenter_name=CONSENTED, name_public="on")
    assert response.status_code == 302, response.content.decode()[-3000:]
    first, second = Comment.objects.filter(stage_record__decision=decision).order_by("seq")
    assert (first.commenter_name, first.name_public) == ("匿名", False)
    assert (second.commenter_name, second.name_public, second.seq) == (CONSENTED, True, 2)


def test_a_closed_notice_refuses_a_comment_with_the_article(client, open_cast):
    decision = consulting(open_cast, ended_days_ago=1)
    period = open_period(decision)
    with pytest.raises(ProcedureRefused) as refused:
        comments.submit_online_comment(period, text="迟到的意见")
    assert refused.value.code == "COMMENT_PERIOD_CLOSED" and "第十八条" in refused.value.failures[0].rule.citation
    # Once published, the closed notice's page says so, and a late form is refused with the article.
    published = published_with_comments(open_cast)
    late = open_period(published)
    text = page(client, reverse("public:comment", args=[late.pk]))
    assert "截止" in text and 'name="text"' not in text
    response = send(client, late)
    assert response.status_code == 409 and "第十八条" in response.content.decode()
    assert not Comment.objects.filter(channel=Comment.Channel.ONLINE_FORM).exists()
    # A notice of a decision the public may not read is not found at all.
    page(client, reverse("public:comment", args=[period.pk]), status=404)


def test_bad_input_is_shown_beside_each_field_and_nothing_is_saved(client, open_cast):
    decision = consulting(open_cast)
    period = open_period(decision)
    response = send(client, period, text="  ", phone="12ab", email="not-an-address", name_public="on")
    assert response.status_code == 200
    text = response.content.decode()
    assert "请填写意见内容。" in text
    assert "联系电话须为7至20位数字" in text and "电子邮箱格式不正确" in text
    assert "同意公开姓名或名称的，请填写姓名或名称。" in text
    for field in ("text", "phone", "email"):
        assert re.search(rf'name="{field}"[^>]*aria-describedby="id_{field}_error', text) or re.search(
            rf'aria-describedby="id_{field}_error[^"]*"[^>]*name="{field}"', text
        ), field
        assert f'id="id_{field}_error"' in text
    assert 'aria-invalid="true"' in text
    assert not Comment.objects.exists() and not AuditEvent.objects.filter(action="comment:online").exists()


def test_sending_the_same_form_twice_records_one_comment(client, open_cast):
    decision = consulting(open_cast)
    period = open_period(decision)
    data = form_data(period)
    first = client.post(reverse("public:comment", args=[period.pk]), data)
    again = client.post(reverse("public:comment", args=[period.pk]), data)
    assert first.status_code == again.status_code == 302 and first.url == again.url
    assert Comment.objects.filter(stage_record__decision=decision).count() == 1
    assert AuditEvent.objects.filter(action="comment:online").count() == 1


def test_comments_are_rate_limited_per_address(client, open_cast, monkeypatch):
    monkeypatch.setattr(public, "COMMENTS_PER_HOUR", 2)
    period = open_period(consulting(open_cast))
    assert send(client, period).status_code == 302
    assert send(client, period).status_code == 302
    response = send(client, period)
    assert response.status_code == 429 and "提交过于频繁" in response.content.decode()
    assert Comment.objects.count() == 2


def test_a_bot_filling_the_hidden_field_records_nothing(client, open_cast):
    period = open_period(consulting(open_cast))
    response = send(client, period, website="http://spam.example")
    assert response.status_code == 302 and not Comment.objects.exists()


# -- the larger-text mode (适老化) -------------------------------------------------------------------------


def test_the_larger_text_switch_is_remembered_and_changes_every_public_page(client, open_cast):
    decision = consulting(open_cast)
    assert 'class="elderly"' not in page(client, reverse("public:decisions"))
    back = reverse("public:decision", args=[decision.reference])
    response = client.post(reverse("public:display"), {"elderly": "1", "next": back})
    assert response.status_code == 302 and response.url == back
    assert response.cookies[public.ELDERLY_COOKIE].value == "1"
    for url in (back, reverse("public:decisions"), reverse("public:catalogues")):
        text = page(client, url)
        assert '<html lang="zh-Hans" class="elderly">' in text and 'aria-pressed="true"' in text
    response = client.post(reverse("public:display"), {"elderly": "0", "next": back})
    assert response.cookies[public.ELDERLY_COOKIE].value == ""
    assert 'class="elderly"' not in page(client, back)


def test_the_switch_does_not_follow_a_next_address_off_the_site(client, db):
    for bad in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(reverse("public:display"), {"elderly": "1", "next": bad})
        assert response.status_code == 302 and response.url == reverse("public:decisions"), bad
    assert client.get(reverse("public:display")).status_code == 405


# -- CSS the domestic (信创) browsers render: Chromium 90 ------------------------------------------------

PUBLIC_TEMPLATES = [
    Path(settings.BASE_DIR) / "catalog/templates/catalog/public",
    Path(settings.BASE_DIR) / "decisions/templates/decisions/public",
]
AFTER_CHROMIUM_90 = {
    ":has()": re.compile(r":has\("),
    "@container": re.compile(r"@container"),
    "@layer": re.compile(r"@layer"),
    "color-mix()": re.compile(r"color-mix\("),
    "dvh/svh/lvh units": re.compile(r"\d(?:dvh|svh|lvh|dvw|svw|lvw)\b"),
    "text-wrap": re.compile(r"text-wrap\s*:"),
}
AT_RULE_WRAPPERS = re.compile(r"@(?:media|supports)[^{]*\{")


def _nested(css):
    """True when a rule opens inside another rule's declarations (CSS nesting), @media/@supports aside."""
    return re.search(r"\{[^{}]*\{", AT_RULE_WRAPPERS.sub("", css)) is not None


def _styles(text):
    blocks = re.findall(r"<style[^>]*>(.*?)</style>", text, flags=re.S)
    inline = re.findall(r'style="([^"]*)"', text)
    return blocks + inline


def test_the_public_pages_css_works_in_chromium_90():
    files = [p for folder in PUBLIC_TEMPLATES for p in folder.glob("*.html")]
    assert len(files) >= 8
    found = []
    for path in files:
        for css in _styles(path.read_text()):
            css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
            for feature, pattern in AFTER_CHROMIUM_90.items():
                if pattern.search(css):
                    found.append(f"{path.name}: {feature}")
            if _nested(css):
                found.append(f"{path.name}: CSS nesting")
    assert found == []
