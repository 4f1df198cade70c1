"""The public comments ledger (公众意见台账, 第十八条) and the 采纳情况说明 made from it.

The lead unit records each comment, imports a ledger file (all rows or none, every bad cell named), answers
comments in bulk and makes the adoption statement that T7 asks for; personal information stays out of
the audit chain and is masked for every reader until the lead unit reveals it (tests/decisions/test_personal_data.py)."""

import codecs
import csv
import io
import json
import subprocess
from datetime import timedelta

import openpyxl
import pypdf
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from decisions import audit, comment_input
from decisions.actions.comments import LEDGER_ACTIONS
from decisions.models import AuditEvent, Comment, Decision, Document, DocumentType, Role, Stage
from decisions.personal import id_number_problem, mask_email, mask_id_number, mask_phone
from decisions.rules import ProcedureRefused
from decisions.rules import consultation as consultation_rules
from decisions.services import comments, consultation, documents
from decisions.walkthrough import consultation as consultation_walk
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk

pytestmark = pytest.mark.django_db

PHONE, EMAIL, ID_NUMBER = "13812345678", "alice.wang@example.cn", "330102199001011234"
WRONG_ID_NUMBER = "330102199001011237"  # its check character should be 4
NAME = "王晓丽"
HEADERS = [
    "序号",
    "意见内容",
    "提出人",
    "单位",
    "联系电话",
    "电子邮箱",
    "身份证号",
    "是否同意公开姓名",
    "收到日期",
    "渠道",
]


def consulting(cast, ended_days_ago=-10):
    """Take a new decision to PP IN_PROGRESS with a published comment notice ending `ended_days_ago` days ago."""
    decision = walk.propose(cast)
    walk.initiate(cast, decision)
    walk.draft(cast, decision)
    consultation_walk.comment(cast, decision, ended_days_ago=ended_days_ago)
    return Decision.objects.get(pk=decision.pk)


@pytest.fixture
def decision(open_cast):
    return consulting(open_cast)


def lead(cast):
    return cast[Role.UNDERTAKING_LEAD]


def received(days_ago=2):
    return consultation.today() - timedelta(days=days_ago)


def add(cast, decision, **fields):
    values = {"text": "建议提高补助标准", "commenter_name": "匿名", "received_on": received(), "channel": "WEBSITE"}
    return comments.add_comment(lead(cast), decision, **{**values, **fields})


def add_personal(cast, decision, **fields):
    personal = {"commenter_name": NAME, "phone": PHONE, "email": EMAIL, "id_number": ID_NUMBER}
    return add(cast, decision, **{**personal, **fields})


def refusal(call):
    with pytest.raises(ProcedureRefused) as refused:
        call()
    return refused.value


def xlsx(rows, headers=HEADERS):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding, headers=HEADERS):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def good_rows():
    day = received(3)
    return [
        [1, "建议将补助申领时限延长至六个月", NAME, "", PHONE, EMAIL, ID_NUMBER, "是", day, "网站留言"],
        [
            2,
            "建议明确二手车是否适用",
            "李四",
            "湖州某汽车销售公司",
            "0572-2345678",
            "",
            "",
            "否",
            day.isoformat(),
            "信函",
        ],
        [3, "补助标准过低", "匿名", "", "", "", "", "", day.strftime("%Y/%m/%d"), "电话"],
    ]


def payloads(decision):
    return [json.dumps(e.payload, ensure_ascii=False) for e in AuditEvent.objects.filter(decision_id_ref=decision.pk)]


# -- personal information ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "value", "shown"),
    [
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "0572-2345678", "057****5678"),
        (mask_phone, "", ""),
        (mask_email, "alice@example.cn", "a***@example.cn"),
        (mask_email, "not-an-address", "***"),
        (mask_id_number, "330102199001011234", "3301**********1234"),
        (mask_id_number, "33010219900101X", "3301*******101X"),
        (mask_id_number, "", ""),
    ],
)
def test_personal_information_is_masked_keeping_only_its_ends(mask, value, shown):
    assert mask(value) == shown


@pytest.mark.parametrize(
    ("number", "valid"),
    [(ID_NUMBER, True), ("11010519491231002x", True), (WRONG_ID_NUMBER, False), ("3301021990", False)],
)
def test_an_id_number_is_checked_by_its_length_and_check_character(number, valid):
    assert (id_number_problem(number) == "") is valid


# -- recording one comment -------------------------------------------------------------------------------------


def test_the_lead_unit_records_a_comment_linked_to_the_notice_it_answered(open_cast, decision):
    comment = add_personal(open_cast, decision, name_public=True, commenter_organisation="湖州某公司")
    pp = decision.current_record(Stage.PP)
    assert (comment.stage_record, comment.seq, comment.disposition) == (pp, 1, "PENDING")
    assert comment.period == consultation_rules.comment_periods(pp).get()
    assert (comment.phone, comment.email, comment.id_number) == (PHONE, EMAIL, ID_NUMBER)
    assert add(open_cast, decision).seq == 2
    (event,) = AuditEvent.objects.filter(action="comment:add", object_id=str(comment.pk))
    assert event.payload["given"] == ["commenter_name", "commenter_organisation", "phone", "email", "id_number"]
    assert event.role == Role.UNDERTAKING_LEAD


def test_a_comment_without_its_name_or_dated_tomorrow_is_refused_naming_each_field(open_cast, decision):
    refused = refusal(lambda: add(open_cast, decision, commenter_name=" ", received_on=received(-1), email="x@"))
    details = " ".join(f.detail for f in refused.failures)
    assert refused.code == "COMMENT_INVALID"
    assert "提出人：必填" in details and "收到日期" in details and "电子邮箱：电子邮箱格式不正确" in details
    assert not Comment.objects.exists()


def test_a_comment_naming_another_decisions_notice_is_refused(open_cast, decision):
    other = consulting(open_cast)
    notice = consultation_rules.comment_periods(other.current_record(Stage.PP)).get()
    refused = refusal(lambda: add(open_cast, decision, period=notice))
    assert refused.code == "COMMENT_INVALID" and "征求意见公告" in refused.failures[0].detail


def test_a_comment_received_outside_every_notice_is_linked_to_none(open_cast, decision):
    period = consultation_rules.comment_periods(decision.current_record(Stage.PP)).get()
    early = add(open_cast, decision, received_on=period.publish_date - timedelta(days=1))
    assert early.period is None


def test_no_comment_is_recorded_before_public_participation_starts(open_cast):
    decision = walk.propose(open_cast)
    walk.initiate(open_cast, decision)
    walk.draft(open_cast, decision)
    refused = refusal(lambda: add(open_cast, decision))
    assert refused.code == "STATE_PREREQUISITE_MISSING"


@pytest.mark.parametrize("role", [Role.UNDERTAKING_CO, Role.GOV_OFFICE, Role.HEARING_ORG, Role.SUPERVISOR])
def test_only_the_lead_unit_records_comments(open_cast, decision, role):
    refused = refusal(
        lambda: comments.add_comment(
            open_cast[role], decision, text="意见", commenter_name="匿名", received_on=received(), channel="EMAIL"
        )
    )
    assert refused.code == "ROLE_NOT_PERMITTED"


def test_a_comment_is_never_deleted(open_cast, decision):
    comment = add(open_cast, decision)
    with pytest.raises(PermissionError):
        comment.delete()
    assert Comment.objects.filter(pk=comment.pk).exists()


# -- importing a ledger file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("台账.xlsx", lambda rows: xlsx(rows)),
        ("台账.csv", lambda rows: csv_bytes(rows, "gb18030")),
        ("台账.csv", lambda rows: codecs.BOM_UTF8 + csv_bytes(rows, "utf-8")),
        ("台账.csv", lambda rows: csv_bytes(rows, "utf-8")),
    ],
    ids=["xlsx", "csv-gb18030", "csv-utf8-bom", "csv-utf8"],
)
def test_a_good_ledger_file_is_imported_row_by_row(open_cast, decision, name, make):
    add(open_cast, decision)
    saved = comments.import_comments(lead(open_cast), decision, name, make(good_rows()))
    assert [c.seq for c in saved] == [2, 3, 4]
    first, second, third = saved
    assert (first.text, first.commenter_name, first.phone, first.email, first.id_number) == (
        "建议将补助申领时限延长至六个月",
        NAME,
        PHONE,
        EMAIL,
        ID_NUMBER,
    )
    assert first.name_public and not second.name_public and not third.name_public
    assert (first.channel, second.channel, third.channel) == ("WEBSITE", "LETTER", "PHONE")
    assert {c.received_on for c in saved} == {received(3)}
    assert second.commenter_organisation == "湖州某汽车销售公司" and second.phone == "0572-2345678"
    assert all(c.period is not None and c.import_batch == first.import_batch for c in saved)
    (event,) = AuditEvent.objects.filter(action="comment:import", decision_id_ref=decision.pk)
    assert event.payload["rows"] == 3 and [c["seq"] for c in event.payload["comments"]] == [2, 3, 4]


def test_an_imported_row_may_carry_its_answer(open_cast, decision):
    headers = [*HEADERS, "采纳情况", "理由"]
    rows = [[*good_rows()[0], "不采纳", "与上位法规定不符"], [*good_rows()[2], "", ""]]
    answered, pending = comments.import_comments(lead(open_cast), decision, "台账.xlsx", xlsx(rows, headers))
    assert (answered.disposition, answered.reason, answered.answered_by) == (
        "NOT_ADOPTED",
        "与上位法规定不符",
        lead(open_cast),
    )
    assert pending.disposition == "PENDING" and pending.answered_at is None


def test_the_downloaded_template_filled_in_is_imported(open_cast, decision):
    book = openpyxl.load_workbook(io.BytesIO(comment_input.comments_template()))
    sheet = book["公众意见台账"]
    assert [c.value for c in sheet[1]][:10] == HEADERS
    assert "说明" in book.sheetnames
    sheet.append([1, "建议增加充电桩建设补助", "赵六", "", PHONE, "", ID_NUMBER, "否", received(1), "电子邮件"])
    out = io.BytesIO()
    book.save(out)
    (comment,) = comments.import_comments(lead(open_cast), decision, "模板.xlsx", out.getvalue())
    assert (comment.commenter_name, comment.id_number, comment.channel) == ("赵六", ID_NUMBER, "EMAIL")


def test_a_bad_ledger_file_names_every_bad_cell_by_row_and_column_and_imports_nothing(open_cast, decision):
    headers = [*HEADERS, "采纳情况", "理由"]
    rows = [
        [1, "建议一", NAME, "", "", "", "", "是", received(2), "网站留言", "", ""],
        [2, "", "李四", "", "", "", "", "否", "2026-13-45", "信函", "", ""],  # blank text, bad date
        [3, "建议三", "王五", "", "12", "", WRONG_ID_NUMBER, "也许", received(2), "微信", "已采用", ""],
        [4, "建议四", "赵六", "", "", "", "", "", received(2), "电话", "采纳", "已在草案第X条中采纳"],
    ]
    for name, content in (("坏.xlsx", xlsx(rows, headers)), ("坏.csv", csv_bytes(rows, "gb18030", headers))):
        refused = refusal(lambda n=name, c=content: comments.import_comments(lead(open_cast), decision, n, c))
        assert refused.code == "COMMENT_IMPORT_INVALID"
        problems = [f.detail for f in refused.failures]
        expected = [
            "第3行 B列(意见内容)：必填",
            "第3行 I列(收到日期)：“2026-13-45”不是有效日期",
            "第4行 E列(联系电话)：联系电话须为7至20位数字",
            "第4行 G列(身份证号)：身份证号校验位不正确",
            "第4行 H列(是否同意公开姓名)：“也许”无法识别",
            "第4行 J列(渠道)：“微信”不是有效的渠道",
            "第4行 K列(采纳情况)：“已采用”不是有效的采纳情况",
            "第5行 L列(理由)：请将理由中的“第X条”改为草案的具体条款",
        ]
        for start in expected:
            assert any(p.startswith(start) for p in problems), (start, problems)
        assert len(problems) == len(expected)
    assert not Comment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="comment:").exists()


def test_a_file_longer_than_the_limit_is_refused_whole(open_cast, decision, monkeypatch):
    monkeypatch.setattr(comment_input, "MAX_ROWS", 2)
    refused = refusal(lambda: comments.import_comments(lead(open_cast), decision, "a.xlsx", xlsx(good_rows())))
    assert [f.detail for f in refused.failures] == ["一次最多导入2条意见，请分批导入"]
    assert not Comment.objects.exists()


def test_a_file_missing_a_required_column_is_refused_naming_the_column(open_cast, decision):
    content = xlsx([["建议", received(1)]], headers=["意见内容", "收到日期"])
    problems = [
        f.detail
        for f in refusal(lambda: comments.import_comments(lead(open_cast), decision, "a.xlsx", content)).failures
    ]
    assert problems == ["第1行：表头缺少必填列：提出人、渠道"]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("意见.pdf", doc(DocumentType.OTHER).content, "只能导入 Excel 工作簿(.xlsx)或 CSV 文件(.csv)"),
        ("意见.xlsx", b"this is plain text, not a workbook", "不是 Excel 工作簿(.xlsx)文件"),
        ("意见.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "旧版 Excel 97-2003"),
        ("意见.csv", xlsx([]), "不是文本格式的 CSV"),
        ("意见.csv", b"\xff\xfe\x00\x00\x81", "不是文本格式的 CSV"),
        ("意见.csv", "序号,提出人\n1,张三\n".encode(), "没有含“意见内容”列的表头"),
    ],
    ids=["pdf", "text-as-xlsx", "xls", "xlsx-as-csv", "binary-csv", "no-header"],
)
def test_a_file_that_is_not_a_ledger_is_refused_and_nothing_is_saved(open_cast, decision, name, content, says):
    refused = refusal(lambda: comments.import_comments(lead(open_cast), decision, name, content))
    assert refused.code == "COMMENT_IMPORT_INVALID" and says in refused.failures[0].detail
    assert not Comment.objects.exists()


# -- answering ----------------------------------------------------------------------------------------------


def test_several_comments_are_answered_at_once_with_one_reason(open_cast, decision):
    first, second, third = (add(open_cast, decision, text=f"意见{n}") for n in range(3))
    comments.answer(
        lead(open_cast), decision, [first.pk, third], disposition="NOT_ADOPTED", reason="不属于本决策事项范围"
    )
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert (first.disposition, third.disposition, second.disposition) == ("NOT_ADOPTED", "NOT_ADOPTED", "PENDING")
    assert first.reason == third.reason == "不属于本决策事项范围"
    assert first.answered_by == lead(open_cast) and first.answered_at is not None
    (event,) = AuditEvent.objects.filter(action="comment:answer", decision_id_ref=decision.pk)
    assert [(c["seq"], c["from"]) for c in event.payload["comments"]] == [(1, "PENDING"), (3, "PENDING")]
    assert comments.REASON_TEMPLATES[:1] == ("已在草案第X条中采纳",)


@pytest.mark.parametrize(
    ("disposition", "reason", "code"),
    [
        ("ADOPTED", "", "REASON_REQUIRED"),
        ("ADOPTED", "已在草案第X条中采纳", "REASON_REQUIRED"),
        ("PENDING", "还在研究", "COMMENT_INVALID"),
    ],
)
def test_an_answer_needs_a_disposition_and_a_reason_with_its_template_filled_in(
    open_cast, decision, disposition, reason, code
):
    comment = add(open_cast, decision)
    refused = refusal(
        lambda: comments.answer(lead(open_cast), decision, [comment.pk], disposition=disposition, reason=reason)
    )
    assert refused.code == code
    comment.refresh_from_db()
    assert comment.disposition == "PENDING"


def test_an_answer_to_another_decisions_comment_is_refused(open_cast, decision):
    other = consulting(open_cast)
    theirs = add(open_cast, other)
    refused = refusal(
        lambda: comments.answer(
            lead(open_cast), decision, [theirs], disposition="ADOPTED", reason="已在草案第3条中采纳"
        )
    )
    assert refused.code == "COMMENT_UNKNOWN"


def close_participation_not_triggered(cast, decision):
    """T6a with OTHER_LAW_PROCEDURE: the one way PP closes while its comment period still runs."""
    consultation.close_not_triggered(
        lead(cast),
        decision,
        Stage.PP,
        reason_code=consultation_rules.OTHER_LAW_PROCEDURE,
        reason_text="《中华人民共和国城乡规划法》规定了公开征求意见程序",
        other_law_instrument="中华人民共和国城乡规划法",
        other_law_level="法律",
        other_law_article="第二十六条",
    )


def test_once_public_participation_is_closed_its_comments_cannot_be_added_or_changed(open_cast, decision):
    answered = add(open_cast, decision)
    comments.answer(lead(open_cast), decision, [answered], disposition="ADOPTED", reason="已在草案第3条中采纳")
    close_participation_not_triggered(open_cast, decision)
    calls = [
        lambda: comments.answer(
            lead(open_cast), decision, [answered], disposition="NOT_ADOPTED", reason="已有相关规定"
        ),
        lambda: add(open_cast, decision),
        lambda: comments.import_comments(lead(open_cast), decision, "台账.xlsx", xlsx(good_rows())),
    ]
    for call in calls:
        refused = refusal(call)
        assert refused.code == "DOCUMENT_IMMUTABLE" and "第三十九条" in refused.failures[0].rule.citation
    answered.refresh_from_db()
    assert (answered.disposition, Comment.objects.count()) == ("ADOPTED", 1)


# -- the ledger page -------------------------------------------------------------------------------------------


def ledger_url(decision, **query):
    url = reverse("decisions:comments", args=[decision.reference])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PUBLIC])
def test_the_ledger_masks_personal_information_for_every_role_until_revealed(client, open_cast, decision, role):
    comment = add_personal(open_cast, decision)
    client.force_login(open_cast[role])
    page = client.get(ledger_url(decision))
    assert page.status_code == 200
    html = page.content.decode()
    assert NAME in html and "建议提高补助标准" in html
    full = (PHONE, EMAIL, ID_NUMBER)
    masked = ("138****5678", "a***@example.cn", "3301**********1234")
    assert all(value in html for value in masked)
    assert not any(value in html for value in full)
    revealed = client.post(ledger_url(decision), {"reveal": comment.pk})  # the lead unit's audited button
    if role == Role.UNDERTAKING_LEAD:
        assert all(value in revealed.content.decode() for value in full)
    else:
        assert revealed.status_code == 403


def test_the_ledger_is_closed_to_someone_without_a_role_for_the_decision(client, decision):
    client.force_login(get_user_model().objects.create_user("outsider"))
    assert client.get(ledger_url(decision)).status_code == 403


def test_the_ledger_filters_by_disposition(client, open_cast, decision):
    adopted = add(open_cast, decision, text="建议甲：延长申领时限")
    add(open_cast, decision, text="建议乙：提高补助标准")
    comments.answer(lead(open_cast), decision, [adopted], disposition="ADOPTED", reason="已在草案第5条中采纳")
    client.force_login(open_cast[Role.SUPERVISOR])
    page = client.get(ledger_url(decision, disposition="ADOPTED"))
    html = page.content.decode()
    assert "建议甲" in html and "建议乙" not in html
    assert [(code, count) for code, _label, count in page.context["figures"]] == [
        ("PENDING", 1),
        ("ADOPTED", 1),
        ("PARTLY_ADOPTED", 0),
        ("NOT_ADOPTED", 0),
    ]
    html = client.get(ledger_url(decision, disposition="PENDING")).content.decode()
    assert "建议乙" in html and "建议甲" not in html
    assert "建议甲" in client.get(ledger_url(decision)).content.decode()


def test_the_lead_unit_downloads_the_blank_template_from_the_ledger(client, open_cast, decision):
    client.force_login(lead(open_cast))
    page = client.get(ledger_url(decision)).content.decode()
    for name in ("comment-add", "comment-import", "comment-answer"):
        assert reverse("decisions:act", args=[decision.reference, name]) in page
    assert reverse("reports:adoption_statement", args=[decision.reference]) in page
    response = client.get(ledger_url(decision, download="template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames[0] == "公众意见台账"


def test_no_personal_field_enters_the_audit_chain(client, open_cast, decision):
    comment = add_personal(open_cast, decision, commenter_organisation="湖州某公司")
    rows = [
        [9, "又一条意见", "钱七", "", "13900001111", "qian@example.cn", "11010519491231002X", "否", received(1), "信函"]
    ]
    comments.import_comments(lead(open_cast), decision, "台账.csv", csv_bytes(rows, "gb18030"))
    comments.answer(
        lead(open_cast), decision, [comment], disposition="PARTLY_ADOPTED", reason="已在草案第2条中部分采纳"
    )
    client.force_login(lead(open_cast))
    client.post(
        reverse("decisions:act", args=[decision.reference, "comment-add"]),
        {
            "text": "页面登记的意见",
            "commenter_name": "孙八",
            "received_on": received(1),
            "channel": "PHONE",
            "phone": "13700002222",
            "email": "sun@example.cn",
            "id_number": ID_NUMBER,
        },
    )
    assert Comment.objects.count() == 3
    texts = payloads(decision)
    secrets = (
        NAME,
        PHONE,
        EMAIL,
        ID_NUMBER,
        "湖州某公司",
        "钱七",
        "13900001111",
        "qian@example.cn",
        "11010519491231002X",
        "孙八",
        "13700002222",
        "sun@example.cn",
    )
    assert not [s for s in secrets if any(s in text for text in texts)]
    assert audit.verify().ok


# -- the forms --------------------------------------------------------------------------------------------


def act(decision, name):
    return reverse("decisions:act", args=[decision.reference, name])


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PUBLIC])
def test_the_ledger_forms_are_offered_to_the_lead_unit_alone(client, open_cast, decision, role):
    client.force_login(open_cast[role])
    statuses = {form.name: client.get(act(decision, form.name)).status_code for form in LEDGER_ACTIONS}
    expected = 200 if role == Role.UNDERTAKING_LEAD else 403
    assert statuses == dict.fromkeys(["comment-add", "comment-import", "comment-answer"], expected)
    detail = client.get(reverse("decisions:detail", args=[decision.reference])).content.decode()
    assert (act(decision, "comment-add") in detail) is (role == Role.UNDERTAKING_LEAD)


def test_the_lead_unit_adds_a_comment_through_its_form(client, open_cast, decision):
    client.force_login(lead(open_cast))
    form = client.get(act(decision, "comment-add")).context["form"]
    assert "ONLINE_FORM" not in dict(form.fields["channel"].choices)
    data = {
        "text": "建议增加公示环节",
        "commenter_name": "周九",
        "received_on": received(1),
        "channel": "LETTER",
        "id_number": WRONG_ID_NUMBER,
    }
    response = client.post(act(decision, "comment-add"), data)
    assert "身份证号校验位不正确" in str(response.context["form"].errors["id_number"])
    assert not Comment.objects.exists()
    response = client.post(act(decision, "comment-add"), {**data, "id_number": ID_NUMBER, "name_public": "on"})
    assert response.status_code == 302
    (comment,) = Comment.objects.all()
    assert comment.name_public and comment.channel == "LETTER" and comment.id_number == ID_NUMBER


def test_the_import_form_previews_every_bad_row_and_saves_nothing(client, open_cast, decision):
    client.force_login(lead(open_cast))
    rows = [[1, "", "甲", "", "", "", "", "", received(1), "信函"], [2, "意见", "", "", "", "", "", "", "昨天", "信函"]]
    upload = SimpleUploadedFile("台账.xlsx", xlsx(rows))
    response = client.post(act(decision, "comment-import"), {"file": upload})
    assert response.status_code == 200
    errors = list(response.context["form"].errors["file"])
    assert [e.split("：")[0] for e in errors] == ["第2行 B列(意见内容)", "第3行 C列(提出人)", "第3行 I列(收到日期)"]
    assert not Comment.objects.exists()
    good = SimpleUploadedFile("台账.csv", codecs.BOM_UTF8 + csv_bytes(good_rows(), "utf-8"))
    assert client.post(act(decision, "comment-import"), {"file": good}).status_code == 302
    assert Comment.objects.count() == 3


def test_the_answer_form_offers_pending_comments_and_the_reason_templates(client, open_cast, decision):
    first, second = add(open_cast, decision, text="意见甲"), add(open_cast, decision, text="意见乙")
    comments.answer(lead(open_cast), decision, [second], disposition="ADOPTED", reason="已在草案第4条中采纳")
    client.force_login(lead(open_cast))
    page = client.get(act(decision, "comment-answer"))
    assert list(page.context["form"].fields["comments"].queryset) == [first]
    html = page.content.decode()
    assert all(f'<option value="{text}">' in html for text in comments.REASON_TEMPLATES)
    data = {"comments": [first.pk], "disposition": "ADOPTED", "reason": "已在草案第X条中采纳"}
    response = client.post(act(decision, "comment-answer"), data)
    assert response.status_code == 409 and "REASON_REQUIRED" in " ".join(response.context["form"].non_field_errors())
    data["reason"] = "已在草案第七条中采纳"
    assert client.post(act(decision, "comment-answer"), data).status_code == 302
    first.refresh_from_db()
    assert (first.disposition, first.reason) == ("ADOPTED", "已在草案第七条中采纳")


# -- the adoption statement -----------------------------------------------------------------------------------


def pdf_text(content):
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "".join((page.extract_text() or "") for page in reader.pages).replace(" ", "").replace("\n", "")


def statement_url(decision):
    return reverse("reports:adoption_statement", args=[decision.reference])


def test_the_adoption_statement_is_made_from_the_ledger_stored_on_pp_and_found_by_t7(client, open_cast):
    decision = consulting(open_cast, ended_days_ago=1)
    lead_user = lead(open_cast)
    named = add(open_cast, decision, text="建议将申领时限延长至六个月", commenter_name=NAME, name_public=True)
    unit = add(
        open_cast,
        decision,
        text="建议明确二手车是否适用",
        commenter_name="李经理",
        commenter_organisation="某汽车销售公司",
    )
    anonymous = add(open_cast, decision, text="补助标准过低", commenter_name="张三")
    comments.answer(lead_user, decision, [named], disposition="ADOPTED", reason="已在草案第五条中采纳")
    comments.answer(lead_user, decision, [unit, anonymous], disposition="NOT_ADOPTED", reason="不属于本决策事项范围")
    # Everything else T7 asks for is on record, so the statement is what it waits for.
    consultation.close_not_triggered(
        lead_user, decision, Stage.HEARING, reason_code=consultation_rules.OPTIONAL_NOT_HELD, reason_text="未要求听证"
    )
    documents.upload(lead_user, decision, Stage.PP, doc(DocumentType.OPINION_SUMMARY))
    refused = refusal(lambda: consultation.complete_public_participation(lead_user, decision))
    assert [f.rule.name for f in refused.failures] == ["pp_adoption_statement_attached"]

    client.force_login(open_cast[Role.UNDERTAKING_CO])
    assert client.post(statement_url(decision)).status_code == 403
    client.force_login(lead_user)
    assert client.get(statement_url(decision)).status_code == 405
    response = client.post(statement_url(decision), {"submission": "5f0c3c1e-9a39-4d55-9a43-6a1c4c0f0001"})
    assert response.status_code == 302 and response["Location"] == ledger_url(decision)
    again = client.post(statement_url(decision), {"submission": "5f0c3c1e-9a39-4d55-9a43-6a1c4c0f0001"})
    assert again.status_code == 302

    pp = decision.current_record(Stage.PP)
    (statement,) = Document.objects.filter(decision=decision, doc_type=DocumentType.ADOPTION_STATEMENT)
    assert statement.stage_record == pp and statement.uploaded_by == lead_user
    with statement.file.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    title = f"关于《{decision.title}》公开征求意见采纳情况的说明"
    assert title in text
    assert "共收到意见3条" in text and "采纳1条" in text and "不采纳2条" in text
    assert "建议将申领时限延长至六个月" in text and "已在草案第五条中采纳" in text
    assert NAME in text and "某单位" in text and "匿名" in text
    assert "李经理" not in text and "张三" not in text
    fonts = subprocess.run(["pdffonts", statement.file.path], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes yes yes " in line for line in cjk)

    consultation.complete_public_participation(lead_user, decision)
    pp.refresh_from_db()
    assert pp.status == "DONE"
    refused = refusal(
        lambda: comments.answer(lead_user, decision, [named], disposition="NOT_ADOPTED", reason="已有相关规定")
    )
    assert refused.code == "DOCUMENT_IMMUTABLE"


@pytest.mark.parametrize(
    ("ended_days_ago", "answered", "says"), [(1, False, "COMMENTS_UNANSWERED"), (-10, True, "COMMENT_PERIOD_OPEN")]
)
def test_no_statement_is_made_while_a_comment_waits_or_the_period_runs(
    client, open_cast, ended_days_ago, answered, says
):
    decision = consulting(open_cast, ended_days_ago=ended_days_ago)
    comment = add(open_cast, decision)
    if answered:
        comments.answer(lead(open_cast), decision, [comment], disposition="ADOPTED", reason="已在草案第1条中采纳")
    client.force_login(lead(open_cast))
    response = client.post(statement_url(decision), follow=True)
    assert says in response.content.decode()
    assert not Document.objects.filter(decision=decision, doc_type=DocumentType.ADOPTION_STATEMENT).exists()


def test_the_summary_counts_by_disposition_and_names_only_consenting_commenters(open_cast, decision):
    add(open_cast, decision, commenter_name=NAME, name_public=True, commenter_organisation="湖州某公司")
    add(open_cast, decision, commenter_name="李四", commenter_organisation="湖州某公司")
    add(open_cast, decision, commenter_name="王五")
    summary = comments.adoption_summary(decision)
    assert summary["total"] == 3 and summary["counts"]["PENDING"] == 3
    assert [r["commenter"] for r in summary["rows"]] == [f"{NAME}（湖州某公司）", "某单位", "匿名"]
    assert summary["statement_title"] == f"关于《{decision.title}》公开征求意见采纳情况的说明"
    assert [p["days"] for p in summary["periods"]] == [30]


def test_an_extended_notice_is_summarised_as_one_period_to_its_last_deadline(open_cast, decision):
    first = consultation_rules.comment_periods(decision.current_record(Stage.PP)).get()
    later = first.deadline_date + timedelta(days=10)
    consultation.extend_comment_period(
        lead(open_cast), decision, deadline_date=later, documents=[doc(DocumentType.COMMENT_NOTICE)]
    )
    (period,) = comments.adoption_summary(decision)["periods"]
    assert (period["publish_date"], period["deadline_date"], period["days"]) == (first.publish_date, later, 40)
    assert add(open_cast, decision).period.deadline_date == later
