"""Excel in, Excel out for the annual catalogue: the published layout read and checked row by row,
all rows imported or none, exports that read back to the same file (catalog/workbook.py, catalog/imports.py).

Workbooks are built here with openpyxl, as an office would fill them in Excel or WPS.
"""

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from django_tasks_db.models import DBTaskResult

from catalog import imports, periods, services, workbook
from catalog.models import CatalogueEntry, CatalogueImport
from decisions.models import AuditEvent, Decision
from decisions.permissions import NotPermitted
from decisions.rules import ProcedureRefused
from decisions.services import initiation
from decisions.walkthrough import doc
from tests.records import record_events

# The header of a published catalogue, with the names A5 saw in the wild (承办职能办, 履行程序要求,
# 决策中是否需听证, 拟提交市政府常务会议审议时间) rather than the template's.
PUBLISHED_HEADER = [
    "序号",
    "决策事项名称",
    "主要内容",
    "事项类别",
    "决策主体",
    "承办职能办",
    "协办单位",
    "法律政策依据",
    "履行程序要求",
    "决策中是否需听证",
    "拟提交市政府常务会议审议时间",
    "计划完成时间",
    "提出主体类别",
    "备注",
]
LETTER = {name: openpyxl.utils.get_column_letter(i) for i, name in enumerate(PUBLISHED_HEADER, 1)}
FIRST_ROW = 3  # title on row 1, header on row 2


def build(rows, header=PUBLISHED_HEADER, title="测试市2026年度重大行政决策事项目录", merge=(), sheet_name="目录"):
    """Return .xlsx bytes: a title row (when given), the header, then `rows` (lists, or dicts by header)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheet_name
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) for h in header] if isinstance(row, dict) else row)
    for cells in merge:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def a5_rows(cast, year):
    """The A5 example rows (湖州 2020, 东湖街道 2025, 海门 2025, 昭化 2022), with the test organ's unit names."""
    lead, eco, trans = cast.lead_unit, cast.co_units[0], cast.co_units[1]
    return [
        {
            "序号": 1,
            "决策事项名称": "市本级新能源汽车推广应用地方补助实施办法",
            "事项类别": "(一)",
            "决策主体": cast.organ.name,
            "承办职能办": lead.name,
            "履行程序要求": "公众参与、合法性审查、集体讨论决定",
            "决策中是否需听证": "否",
            "拟提交市政府常务会议审议时间": "8月份",
            "提出主体类别": "政府工作部门提出",
        },
        {
            "序号": 2,
            "决策事项名称": "皋马线至高平村道路改造提升工程",
            "主要内容": "为深入贯彻落实“千万工程”战略部署，扎实推进“四好农村路”建设，…重点对道路实施“白改黑”改造、"
            "排水设施改造提升及绿化环境提档升级。",
            "事项类别": "第三条第一款(四) 重大公共建设项目",
            "决策主体": cast.organ.name,
            "承办职能办": trans.name,
            "协办单位": eco.name,
            "法律政策依据": "《重大行政决策程序暂行条例》(国务院令第713号)、《浙江省重大行政决策程序规定》(省政府令第337号)",
            "履行程序要求": "公众参与、合法性审查、集体讨论决定",
            "决策中是否需听证": "否",
            "拟提交市政府常务会议审议时间": f"{year}年12月",
            "计划完成时间": f"{year}年12月",
            "提出主体类别": "政府工作部门提出",
        },
        {
            "序号": 3,
            "决策事项名称": "“十五五”规划《纲要》",
            "事项类别": "(二) 重要规划",
            "承办职能办": "发改委",  # the short name, as 海门 wrote it
            "协办单位": f"{eco.name}、{trans.name}",
            "履行程序要求": "公众参与、专家论证、风险评估、合法性审查、集体讨论",
            "决策中是否需听证": "是",
            "拟提交市政府常务会议审议时间": f"{year - 1}.12—{year}.01",
            "提出主体类别": "决策机关领导人员提出",
            "备注": "跨年度",
        },
        {
            "序号": 4,
            "决策事项名称": "法治建设系列规划",
            "事项类别": "(二)",
            "承办职能办": cast.justice.name,
            "履行程序要求": "合法性审查、集体讨论决定",
            "拟提交市政府常务会议审议时间": "下半年",
            "提出主体类别": "政府工作部门提出",
        },
    ]


@pytest.fixture
def cast(cast_factory):
    cast = cast_factory()
    cast.lead_unit.short_name = "发改委"
    cast.lead_unit.save(update_fields=["short_name"])
    return cast


@pytest.fixture
def catalogue(kit):
    return kit.open()


@pytest.fixture
def good(cast, kit):
    return build(a5_rows(cast, kit.year))


@pytest.fixture
def written():
    """What an import must leave alone when it is refused: the entries and the audit chain."""

    def count():
        return CatalogueEntry.objects.count(), record_events().count()

    return count


def with_cell(cast, year, row, header, value):
    """The A5 workbook with one cell of one data row (0-based) changed."""
    rows = a5_rows(cast, year)
    rows[row][header] = value
    return build(rows)


# -- the published layout, read -------------------------------------------------------------------


def test_a_published_catalogue_with_a5_rows_reads_into_entries_ready_for_the_service(cast, kit, catalogue, good):
    preview = workbook.parse(good, catalogue)

    assert preview.errors == []
    assert (preview.sheet, preview.header_row) == ("目录", 2)
    assert [row.number for row in preview.rows] == [3, 4, 5, 6]
    first, road, plan, law = (row.fields for row in preview.rows)
    assert first["category"] == Decision.Category.PUBLIC_POLICY
    assert first["lead_unit"] == cast.lead_unit
    assert first["required_procedures"] == ["PP", "LR", "CD"]
    assert first["planned_submission_text"] == "8月份"
    assert (first["planned_submission_from"], first["planned_submission_to"]) == (
        date(kit.year, 8, 1),
        date(kit.year, 8, 31),
    )
    assert first["proposer_type"] == Decision.SourceType.DEPARTMENT
    assert road["category"] == Decision.Category.PUBLIC_PROJECT and road["co_units"] == [cast.co_units[0]]
    assert road["main_content"].startswith("为深入贯彻落实")
    assert plan["lead_unit"] == cast.lead_unit  # found by its short name 发改委
    assert plan["required_procedures"] == ["PP", "HEARING", "EX", "RA", "LR", "CD"]
    assert (plan["planned_submission_from"], plan["planned_submission_to"]) == (
        date(kit.year - 1, 12, 1),
        date(kit.year, 1, 31),
    )
    assert plan["remarks"] == "跨年度" and plan["proposer_type"] == Decision.SourceType.LEADER
    assert law["lead_unit"] == cast.justice and law["category"] == Decision.Category.PLAN
    # Every row is accepted by the entry service as it is.
    entry = services.add_entry(kit.office, catalogue, **road)
    assert entry.co_units.get() == cast.co_units[0] and entry.decision_body == cast.organ.name


def test_the_office_previews_then_confirms_and_the_worker_adds_every_row_with_one_import_event(
    cast, kit, catalogue, good, written
):
    before = written()
    job = imports.preview_upload(kit.office, catalogue, "2026年度目录.xlsx", good)
    assert (job.status, job.total, job.errors) == ("PREVIEWED", 4, [])
    assert written() == before, "a preview writes no entry and no audit event"
    assert [r["name"] for r in imports.preview_rows(job)][0] == "市本级新能源汽车推广应用地方补助实施办法"

    imports.confirm(kit.office, job)
    job = imports.run(job.pk)

    assert (job.status, job.entries_created, job.done, job.total) == ("DONE", 4, 4, 4)
    entries = list(catalogue.draft_entries().order_by("seq_no"))
    assert [e.seq_no for e in entries] == [1, 2, 3, 4]
    assert entries[2].requires("HEARING") and entries[2].lead_unit == cast.lead_unit
    assert set(entries[2].co_units.all()) == set(cast.co_units)
    events = AuditEvent.objects.filter(seq__gt=0).order_by("seq")
    assert [e.action for e in events][-5:] == ["catalogue:entry_add"] * 4 + ["catalogue:import"]
    imported = events.last()
    assert imported.payload["file"] == "2026年度目录.xlsx" and imported.payload["sha256"] == job.sha256
    assert imported.payload["rows"] == 4 and imported.actor == kit.office


def test_the_uploaded_file_is_kept_under_catalogue_imports_with_its_sha256(kit, catalogue, good):
    job = imports.preview_upload(kit.office, catalogue, "目录.xlsx", good)
    assert job.file.name.startswith(f"catalogue-imports/{catalogue.pk}/")
    with job.file.open("rb") as stored:
        assert stored.read() == good
    assert job.original_name == "目录.xlsx" and job.size == len(good)


def test_a_title_row_is_optional_and_headers_may_come_in_any_order(cast, kit, catalogue):
    rows = a5_rows(cast, kit.year)
    header = list(reversed(PUBLISHED_HEADER))
    preview = workbook.parse(build(rows, header=header, title=None), catalogue)
    assert preview.errors == [] and preview.header_row == 1 and len(preview.rows) == 4


def test_the_template_names_are_read_as_well_as_the_published_synonyms(cast, kit, catalogue):
    header = [c.header for c in workbook.COLUMNS]
    renamed = {"承办职能办": "承办单位", "履行程序要求": "履行程序", "决策中是否需听证": "是否听证"}
    renamed["拟提交市政府常务会议审议时间"] = "拟提交审议时间"
    rows = [{renamed.get(k, k): v for k, v in row.items()} for row in a5_rows(cast, kit.year)]
    assert workbook.parse(build(rows, header=header), catalogue).errors == []


def test_a_row_may_link_a_registered_proposal_by_its_reference_and_then_needs_no_proposer_type(kit, catalogue):
    proposal = kit.proposal()
    header = [*PUBLISHED_HEADER, "决策编号"]
    row = a5_rows(kit.cast, kit.year)[0] | {"提出主体类别": None, "决策编号": proposal.reference}
    preview = workbook.parse(build([row], header=header), catalogue)
    assert preview.errors == []
    assert preview.rows[0].fields["decision"] == proposal
    assert preview.rows[0].fields["proposer_type"] == ""


def test_a_note_under_the_table_is_not_read_as_an_entry(cast, kit, catalogue):
    rows = [*a5_rows(cast, kit.year), ["注：本目录根据工作需要适时调整。"]]
    data = build(rows, merge=["A7:N7"])
    preview = workbook.parse(data, catalogue)
    assert preview.errors == [] and len(preview.rows) == 4


# -- every problem, pointed at its row and column, and nothing written -----------------------------


BAD_CELLS = [
    # (data row, header, value, message fragment)
    (0, "决策事项名称", None, "缺少决策事项名称"),
    (1, "事项类别", None, "缺少事项类别"),
    (1, "事项类别", "重大民生事项", "无法识别的事项类别“重大民生事项”"),
    (2, "承办职能办", None, "缺少承办单位"),
    (1, "协办单位", "不存在的局", "协办单位“不存在的局”不是"),
    (0, "履行程序要求", None, "缺少履行程序要求"),
    (0, "履行程序要求", "公众参与、领导拍板", "无法识别的程序“领导拍板”"),
    (0, "决策中是否需听证", "看情况", "是否听证应填“是”或“否”"),
    (3, "拟提交市政府常务会议审议时间", None, "缺少计划时间"),
    (3, "拟提交市政府常务会议审议时间", "2026年5月至2026年3月", "计划时间起止颠倒"),
    (0, "提出主体类别", None, "须注明提出主体类别"),
    (0, "提出主体类别", "上级领导", "无法识别的提出主体类别“上级领导”"),
    (1, "序号", "二", "序号应为正整数，现为“二”"),
    (1, "序号", 0, "序号应为正整数"),
    (1, "序号", 2.5, "序号应为正整数，现为“2.5”"),
    (1, "序号", 1, "序号 1 与第3行重复"),
    (1, "决策事项名称", "长" * 301, "决策事项名称超过300字"),
]


@pytest.mark.parametrize(
    ("index", "header", "value", "message"), BAD_CELLS, ids=[f"{c[1]}={c[2]!r}" for c in BAD_CELLS]
)
def test_a_bad_cell_is_reported_at_its_row_and_column_and_nothing_is_written(
    cast, kit, catalogue, written, index, header, value, message
):
    data = with_cell(cast, kit.year, index, header, value)
    before = written()

    job = imports.preview_upload(kit.office, catalogue, "目录.xlsx", data)

    [error] = job.errors
    assert message in error["message"]
    assert (error["sheet"], error["row"], error["column"]) == ("目录", FIRST_ROW + index, LETTER[header])
    assert error["where"] == f"第{FIRST_ROW + index}行 {LETTER[header]}列({header})"
    assert job.total == 3, "the row with the error is not among the rows to import"
    with pytest.raises(ProcedureRefused, match="处错误"):
        imports.confirm(kit.office, job)
    assert written() == before
    assert CatalogueImport.objects.get(pk=job.pk).status == "PREVIEWED"


def test_an_unknown_lead_unit_is_refused_with_the_closest_names(cast, kit, catalogue):
    data = with_cell(cast, kit.year, 0, "承办职能办", "测试市发展改革委")
    [error] = workbook.parse(data, catalogue).errors
    assert error.location == "第3行 F列(承办职能办)"
    assert f"相近的名称：{cast.lead_unit.name}" in error.message


def test_every_problem_in_the_file_is_reported_not_only_the_first(cast, kit, catalogue):
    rows = a5_rows(cast, kit.year)
    rows[0]["事项类别"] = None
    rows[2]["承办职能办"] = "规划局"
    rows[3]["履行程序要求"] = "拍板"
    rows[3]["序号"] = 3
    preview = workbook.parse(build(rows), catalogue)
    assert [e.location for e in preview.errors] == [
        "第3行 D列(事项类别)",
        "第5行 F列(承办职能办)",
        "第6行 A列(序号)",
        "第6行 I列(履行程序要求)",
    ]
    assert [row.number for row in preview.rows] == [4]


def test_merged_cells_in_the_data_area_are_refused_pointing_at_the_range(cast, kit, catalogue, written):
    rows = a5_rows(cast, kit.year)
    rows[1]["承办职能办"] = rows[0]["承办职能办"]
    data = build(rows, merge=["F3:F4"])
    before = written()
    job = imports.preview_upload(kit.office, catalogue, "目录.xlsx", data)
    [error] = job.errors
    assert error["where"] == "第3行 F列(承办职能办)"
    assert "合并单元格 F3:F4(第3至4行)" in error["message"]
    assert written() == before


def test_a_sheet_without_the_catalogue_header_says_which_headers_were_found_and_which_are_missing(kit, catalogue):
    data = build([["1", "某事项", "某局"]], header=["序号", "项目", "负责人"], title="工作台账")
    [error] = workbook.parse(data, catalogue).errors
    assert "没有找到目录表" in error.message
    assert "找到的表头：“目录”第2行：序号、项目、负责人" in error.message
    assert "缺少：决策事项名称、事项类别、承办单位、履行程序" in error.message


def test_a_header_lacking_required_columns_names_them_at_the_header_row(cast, kit, catalogue):
    header = [h for h in PUBLISHED_HEADER if h not in ("事项类别", "提出主体类别")]
    [error] = workbook.parse(build(a5_rows(cast, kit.year), header=header), catalogue).errors
    assert error.row == 2 and error.sheet == "目录"
    assert "表头缺少：事项类别、提出主体类别" in error.message
    assert "找到的表头：序号、决策事项名称" in error.message


def test_the_catalogue_sheet_is_found_after_other_sheets(cast, kit, catalogue):
    book = openpyxl.load_workbook(io.BytesIO(build(a5_rows(cast, kit.year))))
    cover = book.create_sheet("封面", 0)
    cover.append(["某市人民政府办公室"])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = workbook.parse(buffer.getvalue(), catalogue)
    assert preview.errors == [] and preview.sheet == "目录"


def test_an_empty_table_is_refused(kit, catalogue):
    [error] = workbook.parse(build([]), catalogue).errors
    assert error.message == "表中没有数据行"


def test_a_catalogue_past_collection_refuses_the_file_at_preview(cast, kit, good):
    catalogue = kit.build("COMPILED")
    messages = [e.message for e in workbook.parse(good, catalogue).errors]
    assert messages == ["目录处于“已汇总”，不能导入事项(须处于：征集中)"]


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def zip_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


NOT_XLSX = {
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "旧版 Excel 97-2003 工作簿(.xls)"),
    "csv": ("序号,决策事项名称,承办单位\n1,某事项,某局\n".encode("gb18030"), "文本文件(如 CSV)"),
    "docx": (docx_bytes(), "Word 文档(.docx)"),
    "pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF 文件"),
    "zip": (zip_bytes(), "ZIP 压缩包"),
    "random": (bytes(range(256)) * 8, "不是 Excel 工作簿(.xlsx)文件"),
    "empty": (b"", "文件为空"),
    "truncated": (b"PK\x03\x04" + bytes(100), "文件已损坏"),
}


@pytest.mark.parametrize("kind", list(NOT_XLSX))
def test_a_file_that_is_not_an_xlsx_is_refused_before_parsing_with_a_clear_message(
    kit, catalogue, written, monkeypatch, kind
):
    data, message = NOT_XLSX[kind]

    def never(*args, **kwargs):
        raise AssertionError("openpyxl was asked to parse a file that is not an .xlsx")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    before = written()
    job = imports.preview_upload(kit.office, catalogue, f"目录.{kind}", data)
    [error] = job.errors
    assert message in error["message"] and error["row"] is None
    assert job.total == 0 and written() == before


def test_a_damaged_workbook_is_reported_not_raised(kit, catalogue):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook>not really")
    [error] = workbook.parse(buffer.getvalue(), catalogue).errors
    assert error.message.startswith("工作簿已损坏或格式不正确，无法读取")


# -- planned times in the wording offices use ------------------------------------------------------

Y = 2026
PERIODS = [
    ("2026年8月", date(Y, 8, 1), date(Y, 8, 31)),
    ("8月份", date(Y, 8, 1), date(Y, 8, 31)),
    ("八月", date(Y, 8, 1), date(Y, 8, 31)),
    ("2026.08", date(Y, 8, 1), date(Y, 8, 31)),
    ("2026-08", date(Y, 8, 1), date(Y, 8, 31)),
    ("2026/8", date(Y, 8, 1), date(Y, 8, 31)),
    ("２０２６年８月", date(Y, 8, 1), date(Y, 8, 31)),
    ("2026年8月15日", date(Y, 8, 15), date(Y, 8, 15)),
    ("2026-08-15", date(Y, 8, 15), date(Y, 8, 15)),
    ("2025.12—2026.01", date(2025, 12, 1), date(Y, 1, 31)),
    ("2025.12-2026.01", date(2025, 12, 1), date(Y, 1, 31)),
    ("2026年3月至5月", date(Y, 3, 1), date(Y, 5, 31)),
    ("3-5月", date(Y, 3, 1), date(Y, 5, 31)),
    ("12月至次年2月", date(Y, 12, 1), date(Y + 1, 2, 28)),
    ("2026年第三季度", date(Y, 7, 1), date(Y, 9, 30)),
    ("三季度", date(Y, 7, 1), date(Y, 9, 30)),
    ("第1季度", date(Y, 1, 1), date(Y, 3, 31)),
    ("上半年", date(Y, 1, 1), date(Y, 6, 30)),
    ("下半年", date(Y, 7, 1), date(Y, 12, 31)),
    ("2026年下半年", date(Y, 7, 1), date(Y, 12, 31)),
    ("年内", date(Y, 1, 1), date(Y, 12, 31)),
    ("年底前", None, date(Y, 12, 31)),
    ("12月底前", None, date(Y, 12, 31)),
    ("8月15日前", None, date(Y, 8, 15)),
    ("年底", date(Y, 12, 1), date(Y, 12, 31)),
    ("8月下旬", date(Y, 8, 21), date(Y, 8, 31)),
    ("9月左右", date(Y, 9, 1), date(Y, 9, 30)),
]


@pytest.mark.parametrize(("text", "start", "end"), PERIODS, ids=[p[0] for p in PERIODS])
def test_a_planned_time_in_common_chinese_wording_is_read_as_a_period(text, start, end):
    assert periods.parse_period(text, Y) == (start, end)


@pytest.mark.parametrize("text", ["8月前", "视情况而定", "待定", "2026", "十三五期间"])
def test_wording_that_is_no_clear_period_is_not_guessed(text):
    assert periods.parse_period(text, Y) is None


@pytest.mark.parametrize(("start", "end"), [(s, e) for _, s, e in PERIODS])
def test_a_period_written_by_the_export_reads_back_to_the_same_dates(start, end):
    assert periods.parse_period(periods.format_period(start, end), Y) == (start, end)


def test_wording_that_cannot_be_read_is_kept_verbatim_with_a_warning_not_an_error(cast, kit, catalogue):
    data = with_cell(cast, kit.year, 0, "拟提交市政府常务会议审议时间", "视前期工作进展情况确定")
    preview = workbook.parse(data, catalogue)
    assert preview.errors == []
    [warning] = preview.warnings
    assert warning.location == "第3行 K列(拟提交市政府常务会议审议时间)"
    assert "无法识别为日期" in warning.message
    fields = preview.rows[0].fields
    assert fields["planned_submission_text"] == "视前期工作进展情况确定"
    assert fields["planned_submission_from"] is None and fields["planned_submission_to"] is None


def test_a_planned_completion_alone_is_enough_for_the_planned_time(cast, kit, catalogue):
    rows = a5_rows(cast, kit.year)
    rows[0] |= {"拟提交市政府常务会议审议时间": None, "计划完成时间": "年底前"}
    preview = workbook.parse(build(rows), catalogue)
    assert preview.errors == [] and preview.rows[0].fields["planned_completion"] == "年底前"


@pytest.mark.parametrize(
    ("number_format", "text", "start", "end"),
    [
        ('yyyy"年"m"月"', "2026年8月", date(2026, 8, 1), date(2026, 8, 31)),
        ("yyyy-mm", "2026年8月", date(2026, 8, 1), date(2026, 8, 31)),
        ("yyyy-mm-dd", "2026年8月15日", date(2026, 8, 15), date(2026, 8, 15)),
        ('yyyy"年"m"月"d"日"', "2026年8月15日", date(2026, 8, 15), date(2026, 8, 15)),
    ],
)
def test_an_excel_date_cell_is_read_to_the_precision_it_shows(cast, kit, catalogue, number_format, text, start, end):
    book = openpyxl.load_workbook(io.BytesIO(build(a5_rows(cast, kit.year)[:1])))
    cell = book.active[f"{LETTER['拟提交市政府常务会议审议时间']}{FIRST_ROW}"]
    cell.value = datetime(2026, 8, 1 if start.day == 1 else 15)
    cell.number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    [row] = workbook.parse(buffer.getvalue(), catalogue).rows
    assert row.fields["planned_submission_text"] == text
    assert (row.fields["planned_submission_from"], row.fields["planned_submission_to"]) == (start, end)


def test_a_year_month_typed_as_a_number_that_excel_shortened_is_not_guessed(cast, kit, catalogue):
    # “2026.10” typed into a General cell is stored as 2026.1: January and October look the same.
    data = with_cell(cast, kit.year, 0, "拟提交市政府常务会议审议时间", 2026.1)
    preview = workbook.parse(data, catalogue)
    assert preview.errors == [] and "无法分辨1月还是10月" in preview.warnings[0].message
    assert preview.rows[0].fields["planned_submission_to"] is None


# -- template and export --------------------------------------------------------------------------


def cell_values(data):
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def test_the_template_has_a_title_the_columns_an_instructions_sheet_and_drop_downs():
    data = workbook.template()
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["决策事项目录", "说明"]
    sheet = book["决策事项目录"]
    assert sheet["A1"].value == "××××年度重大行政决策事项目录"
    assert [c.value for c in sheet[2]] == [c.header for c in workbook.COLUMNS]
    assert sheet.freeze_panes == "A3"
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["D3"].startswith('"第三条第一款(一) 重大公共政策和措施,')
    assert lists["J3"] == '"是,否"'
    assert "政府工作部门提出" in lists["M3"] and "目录编制" not in lists["M3"]
    instructions = [row[0] for row in book["说明"].iter_rows(values_only=True)]
    assert "拟提交审议时间" in instructions and "决策编号" in instructions
    assert "2025.12—2026.01、2026年3月至5月、3-5月、12月至次年2月" in instructions


def test_a_template_for_a_catalogue_lists_the_organs_units_and_is_read_back_empty(cast, catalogue):
    data = workbook.template(catalogue)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book["决策事项目录"]["A1"].value == catalogue.title
    units = [row[0] for row in book["单位名称"].iter_rows(min_row=2, values_only=True)]
    assert cast.lead_unit.name in units and cast.justice.name in units
    assert [e.message for e in workbook.parse(data, catalogue).errors] == ["表中没有数据行"]


def test_a_filled_in_template_imports(cast, kit, catalogue):
    book = openpyxl.load_workbook(io.BytesIO(workbook.template(catalogue)))
    sheet = book["决策事项目录"]
    headers = [c.value for c in sheet[2]]
    for offset, row in enumerate(a5_rows(cast, kit.year)):
        row = {
            {"承办职能办": "承办单位", "履行程序要求": "履行程序", "决策中是否需听证": "是否听证"}.get(k, k): v
            for k, v in row.items()
        }
        row["拟提交审议时间"] = row.pop("拟提交市政府常务会议审议时间")
        for index, header in enumerate(headers, 1):
            sheet.cell(3 + offset, index, row.get(header))
    buffer = io.BytesIO()
    book.save(buffer)
    preview = workbook.parse(buffer.getvalue(), catalogue)
    assert preview.errors == [] and len(preview.rows) == 4


def test_the_same_entries_export_to_the_same_bytes(kit, catalogue, good):
    imports.import_entries(kit.office, catalogue, workbook.parse(good, catalogue).rows)
    first = workbook.export(catalogue)
    assert workbook.export(catalogue) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {workbook.ZIP_DATE}
        assert b"2020-01-01T00:00:00Z" in archive.read("docProps/core.xml")


def close(kit, catalogue):
    for step in (kit.compile, kit.approve, kit.consent, kit.publish, kit.report, kit.close):
        step(catalogue)
        catalogue.refresh_from_db()
    assert catalogue.state == "CLOSED"


def test_an_export_imported_into_an_empty_catalogue_of_the_same_organ_exports_to_the_same_file(kit, catalogue, good):
    imports.import_entries(kit.office, catalogue, workbook.parse(good, catalogue).rows)
    exported = workbook.export(catalogue)
    close(kit, catalogue)  # one catalogue per organ and year is open at a time (B9)
    assert workbook.export(catalogue, version=1) == exported, "publication changes nothing in the file"

    empty = kit.open()
    preview = workbook.parse(exported, empty)
    assert preview.errors == [] and preview.warnings == []
    imports.import_entries(kit.office, empty, preview.rows)
    again = workbook.export(empty)

    assert cell_values(again) == cell_values(exported)
    assert again == exported


def test_a_published_version_exports_its_entries_and_who_proposed_linked_decisions(kit):
    catalogue = kit.build("PUBLISHED")
    [row] = cell_values(workbook.export(catalogue))["决策事项目录"][2:]
    assert row[:2] == [1, "关于调整公交票价的决策建议"]
    assert row[[c.key for c in workbook.COLUMNS].index("proposer_type")] == "政府工作部门提出"
    with pytest.raises(ValueError, match="没有第2版"):
        workbook.export(catalogue, version=2)


def test_an_export_of_a_version_shows_the_entries_of_that_version(kit):
    catalogue = kit.build("PUBLISHED")
    [entry] = catalogue.entries_at()
    adjustment = kit.adjustment_at(catalogue, "PUBLISHED", "MODIFY", entry=entry, data={"name": "调整后的名称"})
    assert adjustment.published_version == 2
    catalogue.refresh_from_db()
    assert cell_values(workbook.export(catalogue, 1))["决策事项目录"][2][1] == "关于调整公交票价的决策建议"
    assert cell_values(workbook.export(catalogue))["决策事项目录"][2][1] == "调整后的名称"


# -- all rows or none -----------------------------------------------------------------------------


def test_when_the_service_refuses_the_third_row_no_row_is_kept_and_the_refusal_names_the_row(
    cast, kit, catalogue, written
):
    proposal = kit.proposal()
    header = [*PUBLISHED_HEADER, "决策编号"]
    rows = a5_rows(cast, kit.year)
    rows[2] |= {"决策编号": proposal.reference}
    preview = workbook.parse(build(rows, header=header), catalogue)
    assert preview.errors == []
    # Between the preview and the commit the organ declines the proposal (T2a): the entry service refuses it.
    initiation.decline(kit.office, proposal, reason="不列入", documents=[doc("DECLINE_RECORD")])
    before = written()

    with pytest.raises(imports.RowRefused) as refused:
        imports.import_entries(kit.office, catalogue, preview.rows)

    assert refused.value.code == "MATTER_NOT_APPLICABLE"
    assert refused.value.problem.row == 5 and "“十五五”规划《纲要》" in refused.value.problem.message
    assert written() == before


def test_a_file_that_no_longer_checks_out_when_the_worker_runs_fails_and_writes_nothing(cast, kit, catalogue, written):
    proposal = kit.proposal()
    header = [*PUBLISHED_HEADER, "决策编号"]
    rows = a5_rows(cast, kit.year)
    rows[2] |= {"决策编号": proposal.reference}
    job = imports.confirm(
        kit.office, imports.preview_upload(kit.office, catalogue, "目录.xlsx", build(rows, header=header))
    )
    kit.add(catalogue, decision=proposal)  # entered by hand meanwhile
    before = written()

    job = imports.run(job.pk)

    assert job.status == "FAILED" and job.entries_created == 0
    [error] = job.errors
    assert error["where"] == "第5行 O列(决策编号)" and "已列入本目录" in error["message"]
    assert written() == before


def test_a_refusal_while_the_worker_commits_marks_the_import_failed_against_the_row(
    cast, kit, catalogue, written, monkeypatch
):
    job = imports.confirm(
        kit.office, imports.preview_upload(kit.office, catalogue, "目录.xlsx", build(a5_rows(cast, kit.year)))
    )
    add_entry, calls = services.add_entry, []

    def refusing_the_third(actor, catalogue, **fields):
        calls.append(fields["name"])
        if len(calls) == 3:
            # What a concurrent change would make the service say (here: the catalogue went on to compilation).
            services._refuse_state(catalogue, ["COLLECTING"], "增加目录事项")
        return add_entry(actor, catalogue, **fields)

    monkeypatch.setattr(services, "add_entry", refusing_the_third)
    before = written()
    job = imports.run(job.pk)
    assert job.status == "FAILED" and written() == before
    assert job.errors[0]["row"] == 5 and "STATE_PREREQUISITE_MISSING" in job.errors[0]["message"]
    assert "全部未导入" in job.error


# -- the worker: queue, progress, done -------------------------------------------------------------


def many_rows(cast, count):
    units = [cast.lead_unit.name, cast.co_units[0].name, cast.co_units[1].name, cast.justice.name]
    categories = [str(label) for label in Decision.Category.labels]
    times = ["8月份", "2026.08", "2026年3月至5月", "三季度", "下半年", "年底前"]
    return [
        [
            n,
            f"第{n}号重大行政决策事项",
            "主要内容" * (n % 5),
            categories[n % 5],
            cast.organ.name,
            units[n % 4],
            units[(n + 1) % 4],
            "《重大行政决策程序暂行条例》",
            "公众参与、专家论证、合法性审查、集体讨论决定",
            "是" if n % 7 == 0 else "否",
            times[n % 6],
            "",
            "政府工作部门提出",
            "",
        ]
        for n in range(1, count + 1)
    ]


def test_confirming_queues_the_import_on_the_default_queue(cast, kit, catalogue, good):
    job = imports.confirm(kit.office, imports.preview_upload(kit.office, catalogue, "目录.xlsx", good))
    assert job.status == "QUEUED" and job.confirmed_by == kit.office
    task = DBTaskResult.objects.get(task_path="catalog.tasks.import_catalogue_task")
    assert task.queue_name == "default" and task.args_kwargs["args"] == [job.pk]
    with pytest.raises(ProcedureRefused, match="不能再次确认"):
        imports.confirm(kit.office, job)


@pytest.mark.django_db(transaction=True)
def test_the_worker_saves_its_progress_where_the_progress_page_reads_it_and_ends_done(cast, kit, catalogue):
    job = imports.confirm(
        kit.office, imports.preview_upload(kit.office, catalogue, "目录.xlsx", build(many_rows(cast, 120)))
    )
    seen = []

    def progress(done, total, label):
        # Read back as the progress page does (on PostgreSQL the worker writes it from another connection).
        seen.append((done, total, CatalogueImport.objects.values_list("done", flat=True).get(pk=job.pk)))

    job = imports.run(job.pk, progress=progress)

    assert seen == [(50, 120, 50), (100, 120, 100), (120, 120, 120)]
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.entries_created, job.percent) == ("DONE", 120, 120, 120, 100)
    assert job.finished_at is not None and catalogue.draft_entries().count() == 120


def test_the_task_runs_the_import_once(cast, kit, catalogue, good):
    from catalog.tasks import import_catalogue_task

    job = imports.confirm(kit.office, imports.preview_upload(kit.office, catalogue, "目录.xlsx", good))
    result = import_catalogue_task.call(job.pk)
    assert result == {"import": job.pk, "status": "DONE", "entries": 4}
    assert import_catalogue_task.call(job.pk)["status"] == "DONE"  # a second delivery adds nothing
    assert catalogue.draft_entries().count() == 4


def test_five_thousand_rows_are_parsed_and_imported_by_the_worker(cast, kit, catalogue):
    # Large input: what the worker is for. No time is asserted here; bench/catalogue_io.py measures it.
    data = build(many_rows(cast, 5000))
    job = imports.preview_upload(kit.office, catalogue, "大目录.xlsx", data)
    assert job.errors == [] and job.total == 5000
    job = imports.run(imports.confirm(kit.office, job).pk)
    assert (job.status, job.done, job.entries_created) == ("DONE", 5000, 5000)
    assert catalogue.draft_entries().count() == 5000
    assert AuditEvent.objects.filter(action="catalogue:import").get().payload["rows"] == 5000


# -- who may import -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["UNDERTAKING_LEAD", "LEGAL_REVIEWER", "CHIEF", "other government's office"])
def test_only_the_organs_own_office_may_preview_or_confirm_an_import(cast_factory, cast, kit, catalogue, good, who):
    actor = cast_factory()["GOV_OFFICE"] if who == "other government's office" else cast[who]
    with pytest.raises(NotPermitted):
        imports.preview_upload(actor, catalogue, "目录.xlsx", good)
    assert not CatalogueImport.objects.exists()

    job = imports.preview_upload(kit.office, catalogue, "目录.xlsx", good)
    with pytest.raises(NotPermitted):
        imports.confirm(actor, job)
    job.refresh_from_db()
    assert job.status == "PREVIEWED" and not DBTaskResult.objects.exists()
    with pytest.raises(NotPermitted):
        imports.import_entries(actor, catalogue, workbook.parse(good, catalogue).rows)
    assert not CatalogueEntry.objects.exists()


def test_uploading_the_same_file_again_warns_that_it_was_imported(kit, catalogue, good):
    imports.run(imports.confirm(kit.office, imports.preview_upload(kit.office, catalogue, "目录.xlsx", good)).pk)
    again = imports.preview_upload(kit.office, catalogue, "目录(1).xlsx", good)
    assert "已于" in again.warnings[0]["message"] and "再次导入会重复添加" in again.warnings[0]["message"]
    assert any("目录中已有同名事项" in w["message"] for w in again.warnings)
