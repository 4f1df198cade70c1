"""The English switch: Chinese is the source language and the default; English mode is English where people work.

A person switches with the toolbar's form (Django's set_language); every page a clerk, an auditor or the
public works in then shows its headings, labels, buttons and the rules' refusals in English, while the
record stays in Chinese: titles and names (data), the articles a rule cites, the codes, and whatever an
action writes (documents, audit payloads). Without the switch the pages are Chinese as before.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from catalog import walkthrough as catalogue_walk
from decisions import deadlines, progress
from decisions.models import AuditEvent, Decision, Document, Role, SignOff, Stage
from decisions.rules import Failure, Rule, in_language
from decisions.rules import initiation as initiation_rules
from decisions.walkthrough import initiation as walk
from tests.decisions.test_actions_initiation import pdf
from workflows import routing
from workflows.templatetags.task_text import task_text

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"
PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def back_to_chinese():
    """A request in English leaves English active in this thread: every test ends in the default language."""
    yield
    translation.deactivate()


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """The pages read the compiled catalogue: scripts/setup.sh makes it from the .po."""
    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime, (
        f"{mo} is missing or older than its .po: run scripts/setup.sh (manage.py compilemessages)"
    )


@pytest.fixture
def listed(cast):
    """A decision of the huzhou cast listed in its published catalogue, routed to the office's inbox."""
    decision = walk.propose(cast)
    catalogue_walk.publish_catalogue(cast, decisions=[decision])
    return Decision.objects.get(pk=decision.pk)


def english(client):
    """Switch the client's session to English through the toolbar's form; return the redirect."""
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return response


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status
    return response.content.decode()


def absent(text, words):
    return [w for w in words if w in text]


def open_consultation_too_early(client, decision):
    """Send T6 (open consultation) on a LISTED decision with every question answered: refused, out of order."""
    url = reverse("decisions:act", args=[decision.reference, "open-consultation"])
    form = client.get(url).context["form"]
    radios = [name for name, field in form.fields.items() if getattr(field.widget, "input_type", "") == "radio"]
    return client.post(url, dict.fromkeys(radios, "False"))


# -- the pages in English ----------------------------------------------------------------------------

# Chinese words of the page chrome that are UI, never data.
CHROME = ["待办事项", "退出登录", "案卷与审计导出", "年度决策事项目录", "打开导航菜单"]


def test_the_switch_turns_the_inbox_english(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    english(client)
    text = page(client, reverse("workflows:inbox"))
    assert '<html lang="en"' in text
    assert "My tasks" in text and "Assigned to me" in text and "Unclaimed in my units" in text
    assert "Log out" in text and "Dossiers and audit exports" in text and "中文" in text  # the way back
    leftovers = ["我的待办", "我的任务", "本单位待认领", "没有待办任务", "认领", "办理单位", "期限", *CHROME]
    assert absent(text, leftovers) == []


def test_a_task_in_the_inbox_reads_in_english_though_its_data_is_kept_in_chinese(client, cast, routed):
    with routed():
        decision = walk.propose(cast, title="城区停车收费管理办法")
        catalogue_walk.publish_catalogue(cast, decisions=[decision])
    client.force_login(cast[Role.GOV_OFFICE])
    english(client)
    text = page(client, reverse("workflows:inbox"))
    assert decision.title in text and "Applications" in text  # data stays as it is
    assert (
        escape("Government office's task") in text
        and "Initiate the decision and designate the undertaking unit" in text
    )
    assert "Claim" in text
    assert absent(text, ["政府办公室办理", "决策启动，确定承办单位", "目录计划提交审议时间", "认领", "应用"]) == []


def test_the_decision_page_is_english_with_its_data_in_chinese(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    english(client)
    text = page(client, reverse("decisions:detail", args=[listed.reference]))
    assert listed.title in text
    for heading in ["Progress of the procedure", "Next steps", "Documents", "Sign-offs", "Audit trail"]:
        assert heading in text
    assert "Listed in the catalogue" in text and "Your roles for this decision: Government office" in text
    assert "Initiate the decision and designate the undertaking unit" in text  # the next step, by its label
    leftovers = ["办理进程", "下一步", "材料", "签署", "审计记录", "您在本事项中的身份", "状态：", "列入目录", "未开始"]
    assert absent(text, leftovers + CHROME) == []


def test_an_action_form_is_english(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    english(client)
    text = page(client, reverse("decisions:act", args=[listed.reference, "initiate"]))
    assert "Initiate the decision and designate the undertaking unit" in text
    for label in ["Lead undertaking unit", "Co-undertaking units", "Initiation decision", "Study opinion"]:
        assert label in text
    assert "Conditions of the procedure" in text and "Submit: " in text and "up to 50 MB" in text
    leftovers = ["牵头承办单位", "协办单位", "启动决定", "研究论证意见", "程序条件", "提交：", "依据：", "不超过"]
    assert absent(text, leftovers + CHROME) == []


def test_a_refusal_names_the_rule_in_english_with_its_code_and_article(client, cast, listed):
    client.force_login(cast[Role.UNDERTAKING_LEAD])
    english(client)
    response = open_consultation_too_early(client, listed)
    assert response.status_code == 409
    rule = next(r for r in initiation_rules.T6 if r.zh.startswith("须形成决策草案"))
    errors = list(response.context["form"].non_field_errors())
    shown = next(e for e in errors if rule.en in e)
    assert shown == f"{rule.en} ({rule.citation}; {rule.code})"  # the article and the code as they are
    text = response.content.decode()
    assert "Not done:" in text and absent(text, [rule.zh, "未能办理"]) == []
    assert Decision.objects.get(pk=listed.pk).state == "LISTED"


def test_the_next_steps_panel_gives_the_blockers_in_english(client, cast, listed):
    client.force_login(cast[Role.UNDERTAKING_LEAD])
    english(client)
    text = page(client, reverse("decisions:act", args=[listed.reference, "start-drafting"]))
    (blocker,) = [r for r in initiation_rules.T5 if r.code == "LEAD_UNIT_MISSING"]
    assert escape(blocker.en) in text and blocker.zh not in text and blocker.citation in text


def test_an_out_of_order_step_names_the_open_stage_in_the_language_of_each_message(cast):
    from decisions import lifecycle
    from decisions.rules import Context

    decision = Decision.objects.get(pk=walk.draft(cast, walk.initiate(cast, _listed_now(cast))).pk)
    assert decision.state == "CONSULTATION"
    (failure,) = lifecycle.check(decision, "T5", Context(decision=decision))  # drafting again, out of order
    assert failure.code == "STATE_PREREQUISITE_MISSING" and failure.detail == Stage.PP
    assert "前置环节“公众参与”" in failure.rule.zh and "the earlier stage Public participation" in failure.rule.en
    with translation.override("en"):
        assert failure.text == failure.rule.en
    assert failure.text == failure.rule.zh


def _listed_now(cast):
    decision = walk.propose(cast, title="村庄规划编制办法")
    catalogue_walk.publish_catalogue(cast, decisions=[decision])
    return Decision.objects.get(pk=decision.pk)


def test_the_catalogue_list_is_english(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    english(client)
    text = page(client, reverse("catalog:index"))
    assert "Annual catalogues of major administrative decisions" in text
    for label in ["Decision proposals", "Progress dashboard", "Current version", "Open adjustments", "Version 1"]:
        assert label in text
    assert listed.catalogue_entries.get().catalogue.title in text  # data, in Chinese
    leftovers = [
        "开启新年度目录征集",
        "决策建议",
        "进度看板",
        "下载 Excel 导入模板",
        "现行版本",
        "办理中的调整",
        "第 1 版",
    ]
    assert absent(text, leftovers + CHROME) == []


def test_the_public_catalogue_page_is_english_for_the_public(client, cast, listed):
    catalogue = listed.catalogue_entries.get().catalogue
    english(client)  # no login: the public switches too
    text = page(client, reverse("public:catalogue", args=[catalogue.pk]))
    assert '<html lang="en"' in text
    for label in ["Published catalogues of major administrative decisions", "All catalogues", "Version 1"]:
        assert label in text
    for label in ["Main content", "Undertaking unit", "Procedures", "Progress", "Propose a decision"]:
        assert label in text
    assert listed.title in text and "Public participation, Legality review, Collective decision" in text
    leftovers = [
        "全部目录",
        "办理进展",
        "主要内容",
        "承办单位",
        "第 1 版",
        "跳到正文",
        "首次公布",
        "提出决策建议",
        "公众参与",
    ]
    assert absent(text, leftovers) == []


def test_viewflows_own_text_is_chinese_by_default_and_english_on_the_switch(client, cast, cast_factory, listed):
    """viewflow's error page (its zh_Hans catalogue is nearly empty) gets its Chinese from juece's catalogue."""
    theirs = cast_factory()
    client.force_login(theirs[Role.GOV_OFFICE])
    url = reverse("catalog:detail", args=[listed.catalogue_entries.get().catalogue_id])
    text = page(client, url, status=403)
    assert "403 禁止访问" in text and "以其他用户身份登录" in text and "无权查看该目录" in text
    assert "Access Forbidden" not in text and "Log in as another user" not in text
    english(client)
    text = page(client, url, status=403)
    assert "403 Access Forbidden" in text and "You may not view this catalogue" in text
    assert absent(text, ["禁止访问", "无权查看该目录"]) == []


# -- the same pages by default: Chinese, as before -------------------------------------------------


def test_without_the_switch_the_pages_are_chinese(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    inbox = page(client, reverse("workflows:inbox"))
    assert "我的待办" in inbox and "本单位待认领" in inbox and "退出登录" in inbox and "My tasks" not in inbox
    detail = page(client, reverse("decisions:detail", args=[listed.reference]))
    assert "办理进程" in detail and "下一步" in detail and "审计记录" in detail and "状态：" in detail
    assert "Next steps" not in detail and "Listed in the catalogue" not in detail
    form = page(client, reverse("decisions:act", args=[listed.reference, "initiate"]))
    assert "牵头承办单位" in form and "程序条件（提交时系统再次审查）" in form and "Lead undertaking unit" not in form
    catalogues = page(client, reverse("catalog:index"))
    assert "年度重大行政决策事项目录" in catalogues and "进度看板" in catalogues and "第 1 版" in catalogues
    client.logout()
    public = page(client, reverse("public:catalogue", args=[listed.catalogue_entries.get().catalogue_id]))
    assert '<html lang="zh-Hans"' in public and "办理进展" in public and "全部目录" in public
    assert "All catalogues" not in public


def test_a_browser_set_to_english_still_gets_chinese_until_english_is_chosen(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    inbox = client.get(reverse("workflows:inbox"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "我的待办" in inbox and "My tasks" not in inbox


def test_a_refusal_is_chinese_by_default(client, cast, listed):
    client.force_login(cast[Role.UNDERTAKING_LEAD])
    response = open_consultation_too_early(client, listed)
    rule = next(r for r in initiation_rules.T6 if r.zh.startswith("须形成决策草案"))
    assert f"{rule.zh}（{rule.citation}；{rule.code}）" in response.context["form"].non_field_errors()


def test_switching_back_to_chinese_restores_the_chinese_pages(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    english(client)
    assert "My tasks" in page(client, reverse("workflows:inbox"))
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "我的待办" in page(client, reverse("workflows:inbox"))


# -- the record stays Chinese ----------------------------------------------------------------------


def test_an_action_taken_in_english_keeps_the_record_in_chinese(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    english(client)
    data = {"lead_unit": cast.lead_unit.pk, "start_decision": pdf("start.pdf"), "study_opinion": pdf("study.pdf")}
    response = client.post(reverse("decisions:act", args=[listed.reference, "initiate"]), data)
    assert response.status_code == 302
    assert "Done: Initiate the decision and designate the undertaking unit" in page(client, response["Location"])
    titles = set(Document.objects.filter(decision=listed).values_list("title", flat=True))
    assert {"启动决定(领导批示或会议纪要)", "研究论证意见"} <= titles  # the form's labels, in the source language
    payloads = " ".join(str(e.payload) for e in AuditEvent.objects.filter(decision_id_ref=listed.pk))
    assert "Initiation" not in payloads and "Lead undertaking" not in payloads
    subjects = list(SignOff.objects.filter(decision=listed).values_list("subject", flat=True))
    assert subjects and all(CJK.search(s) and "Initiation" not in s for s in subjects)


# -- the language helpers --------------------------------------------------------------------------


def test_a_rule_failure_and_condition_speak_the_active_language():
    rule = Rule(name="X", code="X_CODE", article="第十条", zh="须说明理由", en="A reason is required", check=bool)
    condition = progress.Condition(rule.code, rule.citation, rule.zh, rule.en, "blocker")
    assert (rule.text, Failure(rule).text, condition.text) == ("须说明理由",) * 3
    with translation.override("en"):
        assert (rule.text, Failure(rule).text, condition.text) == ("A reason is required",) * 3
        assert in_language("、", ", ") == ", "
    with translation.override("zh-hans"):
        assert in_language("、", ", ") == "、"


def test_the_inbox_reads_a_tasks_chinese_labels_and_deadline_bases_in_english():
    with translation.override("en"):
        assert task_text("决策公布；依法不予公开，印发执行") == (
            "Publication of the decision; Not disclosed by law: issue for implementation"
        )
        assert (
            task_text("出具专家论证意见(署名；专业机构盖章)")
            == "Give an expert opinion (signed; sealed by a professional body)"
        )
        assert task_text(deadlines.PUBLICATION_BASIS % {"days": 20}) == (
            "Publish promptly, within 20 working days of the meeting (Article 32 of the Decree)"
        )
        assert task_text(routing.WAIVER_APPROVAL % {"stage": "专家论证"}) == "Approve the waiver of Expert review"
        for form in deadlines.BASES:
            assert not CJK.search(task_text(form % {"days": 7}))
    assert task_text("决策公布；依法不予公开，印发执行") == "决策公布；依法不予公开，印发执行"


# -- the catalogue ---------------------------------------------------------------------------------


def _entries(path):
    """Yield (msgid, [msgstr …], flags) of a .po file (the plain format makemessages writes)."""
    text = path.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        flags = [f.strip() for line in lines if line.startswith("#,") for f in line[2:].split(",")]
        fields, current = {}, None
        for line in lines:
            found = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if found:
                current = found.group(1)
                fields[current] = found.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" in fields:
            yield fields["msgid"], [v for k, v in fields.items() if k.startswith("msgstr")], flags


def test_every_english_entry_is_translated_and_none_is_fuzzy():
    entries = [(msgid, msgstrs, flags) for msgid, msgstrs, flags in _entries(PO) if msgid]
    assert len(entries) > 1000
    assert [msgid for msgid, msgstrs, _ in entries if not all(msgstrs)] == []
    assert [msgid for msgid, _, flags in entries if "fuzzy" in flags] == []
    assert [
        msgid for msgid, msgstrs, _ in entries if any(CJK.search(s) and not _quotes_chinese(s) for s in msgstrs)
    ] == []


def _quotes_chinese(msgstr):
    """An English text may quote Chinese it refers to: an example of the expected input, or a legal name."""
    return bool(re.search(r"《|（|\(|“|e\.g\.|规章", msgstr))


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs gettext's msgfmt")
def test_msgfmt_counts_every_english_message_translated():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)], capture_output=True, text=True, check=True
    )
    assert re.fullmatch(r"\d+ translated messages\.", result.stderr.strip()), result.stderr


@pytest.fixture
def routed(django_capture_on_commit_callbacks):
    """Run the after-commit routing of whatever the block changed, as a committed transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
