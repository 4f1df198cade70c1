"""The main path in a real browser: a demo decision from LISTED to PUBLISHED through the pages, as each role.

Debian's Chromium (/usr/bin/chromium, headless) driven by Playwright; nothing downloads a browser. The
demo data come from `seed_demo`; every step is taken through the forms a clerk uses, by the person whose
task it is, and each step's page is saved as a screenshot under the test's output folder
(`<tmp_path>/screenshots`, printed at the end). An out-of-order action is tried on the way and must
show the refusal with the article it would break."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from decisions.models import Decision
from decisions.walkthrough import pdf_bytes

PASSWORD = "Juece-Demo-2026"
REFERENCE = "hz-2026-0010"  # the demo's listed decision (湖州市公共数据开放管理办法)

pytestmark = pytest.mark.django_db(transaction=True)


class Clerk:
    """One demo user in their own browser context: logs in, opens pages, fills forms, saves screenshots."""

    counter = iter(range(1, 1000))

    def __init__(self, browser, base, username, shots, files, csp_violations):
        self.base, self.username, self.shots, self.files = base, username, shots, files
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.page = csp_violations.watch(self.context.new_page())
        self.page.goto(f"{base}/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main form[action$='/accounts/login/'] button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        assert "/accounts/login/" not in self.page.url, f"{username} could not log in"

    def shot(self, name):
        path = self.shots / f"{next(self.counter):02d}-{self.username}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def open(self, path, name=None):
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        if name:
            self.shot(name)
        return self.page

    def act(self, action, fields=None, *, upload=(), expect_ok=True):
        """Fill the form of `action` on the decision's page and send it; return the text shown after."""
        page = self.open(f"/decisions/{REFERENCE}/act/{action}/")
        form = page.locator("main form.card")
        for name, value in (fields or {}).items():
            target = form.locator(f"[name='{name}']")
            kind = target.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
            if kind.startswith("select"):
                if value == "*":  # every option of a multiple choice (all members present)
                    target.first.select_option(target.first.evaluate("e => [...e.options].map(o => o.value)"))
                elif isinstance(value, str) and value.startswith("~"):  # the option whose label contains the text
                    found = target.first.evaluate(
                        "(e, text) => [...e.options].find(o => o.text.includes(text)).value", value[1:]
                    )
                    target.first.select_option(found)
                elif isinstance(value, int):
                    target.first.select_option(index=value)
                else:
                    target.first.select_option(value)
            elif kind.endswith(":checkbox") and value == "*":
                for index in range(target.count()):
                    target.nth(index).check()
            elif kind.endswith(":radio") or kind.endswith(":checkbox"):
                values = value if isinstance(value, (list, tuple)) else [value]
                if kind.endswith(":checkbox") and value is False:
                    target.first.uncheck()
                    continue
                for item in values:
                    (form.locator(f"[name='{name}'][value='{item}']") if item is not True else target.first).check()
            else:
                target.first.fill(str(value))
        # Every file the form requires (and those asked for) gets a small real PDF.
        for index in range(form.locator("input[type=file]").count()):
            field = form.locator("input[type=file]").nth(index)
            name = field.get_attribute("name")
            if field.get_attribute("required") is not None or name in upload or upload == "all":
                field.set_input_files(str(self.files))
        self.shot(f"{action}-form")
        with page.expect_navigation():
            form.locator("button[type=submit]").last.click()
        page.wait_for_load_state("networkidle")
        self.shot(f"{action}-sent")
        text = page.locator("main").inner_text()
        if expect_ok:
            assert f"/decisions/{REFERENCE}/" in page.url and "/act/" not in page.url, (
                f"{action} was not taken:\n{text[:1500]}"
            )
        return text


def test_a_listed_decision_is_taken_to_published_through_the_pages_by_each_role(
    browser, live_server, tmp_path, csp_violations
):
    call_command("seed_demo", verbosity=0)
    decision = Decision.objects.get(reference=REFERENCE)
    assert decision.state == "LISTED"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    files = tmp_path / "材料.pdf"
    files.write_bytes(pdf_bytes("juece e2e"))
    today = timezone.localdate()

    def clerk(username):
        return Clerk(browser, live_server.url, username, shots, files, csp_violations)

    office, lead = clerk("hz_gov_office"), clerk("hz_undertaking_lead")
    reviewer, adviser, liaison = clerk("hz_legal_reviewer"), clerk("hz_legal_adviser"), clerk("hz_party_liaison")

    # The office finds the decision in its inbox and starts it (T4).
    inbox = office.open("/workflows/", "inbox").locator("main").inner_text()
    assert REFERENCE in inbox
    office.open(f"/decisions/{REFERENCE}/", "decision-listed")
    office.act("initiate")  # the unit the catalogue names is proposed (P18)

    # The lead unit drafts and opens consultation (T5, T6).
    assert REFERENCE in lead.open("/workflows/", "inbox").locator("main").inner_text()
    lead.act("start-drafting")
    lead.act("drafting-records", upload="all")
    lead.act("draft-version", {"change_summary": "初稿"})
    questions = [
        "affects_specific_group",
        "public_concern",
        "direct_vital_interest",
        "major_disagreement",
        "hearing_required_by_law",
        "highly_technical",
        "stability_or_safety_impact",
        "market_affecting",
        "confidential_by_law",
        "major_interest_readjustment",
    ]
    lead.act("open-consultation", dict.fromkeys(questions, "False"))

    # Out of order: legality review before public participation is refused, citing the articles.
    refused = lead.act(
        "submit-for-legality-review", {}, upload=("submission_letter", "legal_basis_list", "procedure_statement"),
        expect_ok=False,
    )  # fmt: skip
    assert "PRIOR_STAGES_INCOMPLETE" in refused and "第二十六条" in refused
    assert Decision.objects.get(pk=decision.pk).state == "CONSULTATION"

    # Public participation with a 35-day comment notice now over, no hearing, no expert review or risk assessment.
    lead.act("open-participation")
    lead.act(
        "comment-notice",
        {
            "channels": ["GOV_WEBSITE"],
            "publish_date": (today - timedelta(days=40)).isoformat(),
            "deadline_date": (today - timedelta(days=5)).isoformat(),
            "how_to_comment": "通过政府网站留言或电子邮件提出意见",
        },
        upload="all",
    )
    lead.act(
        "not-triggered-hearing",
        {"reason_code": "OPTIONAL_NOT_HELD", "reason_text": "不涉及群众切身利益且无较大分歧，未举行听证"},
    )
    lead.act("complete-participation", upload=("opinion_summary", "adoption_statement"))
    lead.act(
        "not-triggered-expert-review",
        {"reason_code": "NOT_HIGHLY_SPECIALISED", "reason_text": "事项不涉及专业性、技术性较强的问题"},
    )
    lead.act(
        "not-triggered-risk-assessment",
        {
            "reason_code": "NO_STABILITY_OR_SAFETY_IMPACT",
            "reason_text": "经分析，决策实施不会对社会稳定、公共安全、生态环境等方面造成不利影响",
        },
    )
    lead.open(f"/decisions/{REFERENCE}/", "consultation-done")

    # Legality review: submitted, accepted, a legal adviser's opinion, the opinion (T10, T13, 第二十八条, T14).
    lead.act("submit-for-legality-review", upload=("submission_letter", "legal_basis_list", "procedure_statement"))
    assert REFERENCE in reviewer.open("/workflows/", "inbox").locator("main").inner_text()
    reviewer.act("accept-submission")
    assert REFERENCE in adviser.open("/workflows/", "inbox").locator("main").inner_text()
    adviser.act("legal-adviser-opinion")
    reviewer.act(
        "issue-legality-opinion",
        {
            "outcome": "LAWFUL",
            "authority": "属于本级人民政府法定职权范围",
            "procedure": "已依法履行公众参与等程序，专家论证、风险评估依法未触发",
            "content": "内容符合法律、法规、规章和国家政策",
        },
    )
    lead.act("proceed-to-meeting")

    # The office arranges an executive meeting three weeks on (≥7 working days of review) and schedules it (T19).
    office.act(
        "create-meeting",
        {
            "meeting_type": "EXECUTIVE",
            "title": "市政府第二十次常务会议",
            "date": (today + timedelta(days=21)).isoformat(),
            "members_present": "*",
        },
    )
    office.act("schedule-for-meeting", {"meeting": "~第二十次常务会议"}, upload="all")
    # Every member present states an opinion, the chief last; then the chief's decision (T20, 第三十条).
    page = office.open(f"/decisions/{REFERENCE}/act/record-statement/")
    speakers = page.locator("main form.card select[name=member] option").all_inner_texts()[1:]
    assert len(speakers) >= 3
    chief = next(s for s in speakers if "行政首长" in s)
    values = dict(
        zip(
            speakers,
            page.locator("main form.card select[name=member] option").evaluate_all("os => os.map(o => o.value)")[1:],
        )
    )
    for speaker in [s for s in speakers if s != chief] + [chief]:
        fields = {"member": values[speaker], "position": "APPROVE", "text": f"{speaker}：同意。"}
        if speaker == chief:
            fields["is_chief"] = True
        office.act("record-statement", fields)
    office.act("record-meeting-outcome", {"outcome": "APPROVE"})
    assert Decision.objects.get(pk=decision.pk).state == "DECIDED"

    # The party liaison reports to the party committee and records its reply (第三十一条); the office publishes.
    liaison.act("party-report", {"reported_on": today.isoformat()})
    liaison.act("party-reply", {"agrees": "True", "reply_on": today.isoformat()})
    office.act("publish", upload="all")
    assert Decision.objects.get(pk=decision.pk).state == "PUBLISHED"
    final = office.open(f"/decisions/{REFERENCE}/", "published").locator("main").inner_text()
    assert "公布" in final
    print(f"\nscreenshots: {shots} ({len(list(shots.iterdir()))} pages)")
    # Every page on the way works under the Content-Security-Policy: nothing was refused.
    assert csp_violations == [], "\n".join(csp_violations)
