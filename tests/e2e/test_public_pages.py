"""The public's pages in a real browser, as a citizen without a login uses them, in normal and larger-text mode.

Every public page (the catalogues, one catalogue, the decisions, a published decision, the online comment
form, the form with its errors, the receipt) is opened in Debian's Chromium and checked with axe-core
(WCAG 2.1 AA): no violation of impact "serious" or "critical" may remain. The larger-text mode (长者模式)
is switched on with its button, without JavaScript, and must make the text larger. Each page is saved as a
screenshot under the test's output folder (`<tmp_path>/screenshots`, printed at the end). The demo data come
from `seed_demo`, whose decision in public participation is open for comment today."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from django.core.management import call_command

from catalog.public import published as published_catalogues
from decisions import public
from decisions.models import Comment

pytestmark = pytest.mark.django_db(transaction=True)

BLOCKING_IMPACTS = ("serious", "critical")


def blocking(results):
    """The violations that fail the page, each with the elements it was found on."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(f"{', '.join(n['target'])}: {n['html'][:200]}" for n in v["nodes"])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


class Citizen:
    """A reader of the public pages in their own browser context: opens pages, checks and saves each."""

    def __init__(self, browser, base, shots, csp_violations):
        self.base, self.shots = base, shots
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.page = csp_violations.watch(self.context.new_page())
        self.axe = Axe()
        self.mode = "normal"
        self.count = 0
        self.problems = {}

    def check(self, name):
        """Run axe on the page shown and save its screenshot."""
        self.count += 1
        self.page.screenshot(path=str(self.shots / f"{self.count:02d}-{self.mode}-{name}.png"), full_page=True)
        found = blocking(self.axe.run(self.page))
        if found:
            self.problems[f"{self.mode}/{name} {self.page.url}"] = found

    def open(self, path, name):
        response = self.page.goto(self.base + path)
        assert response.status == 200, f"{path}: {response.status}"
        self.check(name)
        return self.page

    def larger_text(self):
        """Switch the mode with the button every public page shows (a plain form, no JavaScript)."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="长者模式 / Larger text").click()
        self.mode = "elderly"

    def body_font_size(self):
        return float(self.page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))


def test_every_public_page_passes_axe_in_normal_and_larger_text_mode(browser, live_server, tmp_path, csp_violations):
    call_command("seed_demo", verbosity=0)
    cache.clear()  # the comment form's rate limit
    decision = public.published_decisions().order_by("pk").first()
    catalogue = published_catalogues().filter(entries__decision=decision).first()
    period = public.open_consultations().first()
    assert catalogue is not None and decision is not None, "seed_demo publishes a catalogue and a decision"
    assert period is not None, "seed_demo's decision in public participation is open for comment today"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    citizen = Citizen(browser, live_server.url, shots, csp_violations)
    javascript_off = browser.new_context(java_script_enabled=False, locale="zh-CN")

    for mode in ("normal", "elderly"):
        page = citizen.open("/public/catalogues/", "catalogues")
        if mode == "elderly":
            normal_size = citizen.body_font_size()
            citizen.larger_text()
            assert citizen.body_font_size() >= 20 > normal_size
            assert page.evaluate("document.documentElement.className") == "elderly"
            line_height = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
            assert line_height / citizen.body_font_size() >= 1.8
            citizen.check("catalogues")
        page = citizen.open(f"/public/catalogues/{catalogue.pk}/", "catalogue")
        assert page.locator(f"main a[href='/public/decisions/{decision.reference}/']").count() == 1
        page = citizen.open("/public/decisions/", "decisions")
        assert decision.title in page.locator("main").inner_text()
        citizen.open(f"/public/decisions/{decision.reference}/", "published-decision")
        page = citizen.open(f"/public/decisions/{period.stage_record.decision.reference}/", "open-consultation")
        page.get_by_role("link", name="在线提出意见").first.click()
        page.wait_for_load_state("networkidle")
        citizen.check("comment-form")

        # A form with errors: the messages stand beside their fields and name them.
        page.get_by_label("联系电话(可不填)").fill("12ab")
        with page.expect_navigation():
            page.get_by_role("button", name="提交意见").click()
        assert "请填写意见内容。" in page.locator("main").inner_text()
        assert page.get_by_label("意见内容").get_attribute("aria-describedby").startswith("id_text_error")
        citizen.check("comment-form-errors")

        page.get_by_label("意见内容").fill(f"建议在学区调整前充分公示（{mode}）")
        page.get_by_label("联系电话(可不填)").fill("")
        page.get_by_label("姓名或名称", exact=True).fill("张市民")
        page.get_by_label("我同意在意见采纳情况说明中公开我的姓名或名称").check()
        with page.expect_navigation():
            page.get_by_role("button", name="提交意见").click()
        assert "您的意见已收到" in page.locator("main").inner_text()
        citizen.check("receipt")

    assert Comment.objects.filter(channel=Comment.Channel.ONLINE_FORM, commenter_name="张市民").count() == 2
    # Without JavaScript the switch still works: it is a plain form.
    plain = csp_violations.watch(javascript_off.new_page())
    plain.goto(f"{live_server.url}/public/decisions/")
    with plain.expect_navigation():
        plain.get_by_role("button", name="长者模式 / Larger text").click()
    assert '<html lang="zh-Hans" class="elderly">' in plain.content()
    javascript_off.close()
    citizen.context.close()
    print(f"\nscreenshots: {shots} ({len(list(shots.iterdir()))} pages)")
    assert citizen.problems == {}, "\n\n".join(
        f"{where}:\n  " + "\n  ".join(found) for where, found in citizen.problems.items()
    )
    # Every public page works under the Content-Security-Policy: nothing was refused.
    assert csp_violations == [], "\n".join(csp_violations)
