"""Excel in, Excel out for the annual catalogue (年度重大行政决策事项目录; procedure.md A5, B9).

Offices keep their catalogues in Excel or WPS. This module reads and writes the published layout:

    template(catalogue=None) -> bytes           a blank .xlsx to fill in: title row, header row, 说明 sheet,
                                                drop-downs for 事项类别 / 是否听证 / 提出主体类别
    parse(data, catalogue) -> Preview           read an uploaded .xlsx and check every row; writes nothing
    export(catalogue, version=None) -> bytes    the entries (draft, or a published version) in the same layout

A `Preview` holds `rows` (each a `Row` whose `fields` are the keyword arguments of
catalog.services.add_entry), `errors` and `warnings` (each a `Problem` naming the sheet,
row, column letter and header, with a Chinese message). All problems are collected; any
error means nothing may be imported. catalog/imports.py commits the rows, all or none.

Headers are matched by name, with the synonyms seen in published catalogues (A5), and the
table may start under a title row. The planned submission time (拟提交审议时间) is kept verbatim
and also read into a period (from the first to the last day it names); wording that cannot be read
is kept with a warning, since the law asks only for a planned period.

Exports are reproducible: the same entries give the same bytes (fixed document timestamps and
ZIP entry dates), and an export imported into an empty catalogue of the same organ exports to the
same file. 序号 is written as the row's position, as in a published table.
"""

import difflib
import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.writer.excel import ExcelWriter

from catalog import rules as catalogue_rules
from catalog.entries import PROPOSER_TYPES
from catalog.models import CatalogueState, RequiredProcedure
from catalog.periods import format_period, parse_period
from decisions import uploads
from decisions.models import Decision, Organisation

SHEET_TITLE = "决策事项目录"
INSTRUCTIONS_SHEET = "说明"
UNITS_SHEET = "单位名称"
TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
HEADER_SCAN_ROWS = 10  # a published sheet may put a title, a date or a notice number above the header
MAX_ROWS = 10_000
MAX_UNCOMPRESSED_BYTES = 200 * 2**20  # refuse a ZIP bomb before openpyxl inflates it
VALIDATION_ROWS = 500  # drop-downs reach at least this many data rows
# Fixed, so that the same entries give the same bytes (document properties and ZIP entry dates).
FIXED_TIME = datetime(2020, 1, 1)
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
SEPARATORS = re.compile(r"[、,;/\n]+")  # after NFKC: ，；／ are , ; /


# -- the layout ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the published layout: the field it fills, its header and the synonyms seen in A5."""

    key: str
    header: str
    synonyms: tuple = ()
    width: int = 14
    required: str = ""  # why a value is required on every row, shown in the 说明 sheet
    help: str = ""
    example: str = ""


COLUMNS = (
    Column("seq_no", "序号", ("编号",), 6, help="正整数，不得重复。导入后按表中顺序依次编号。", example="1"),
    Column(
        "name",
        "决策事项名称",
        ("事项名称", "决策项目", "决策事项", "决策项目名称", "项目名称"),
        32,
        "必填",
        "不超过300字。",
        "市本级新能源汽车推广应用地方补助实施办法",
    ),
    Column("main_content", "主要内容", ("事项内容", "内容", "决策事项内容"), 40, help="可分行填写。"),
    Column(
        "category",
        "事项类别",
        ("类别", "决策类别", "事项类型"),
        26,
        "必填",
        "《重大行政决策程序暂行条例》第三条第一款第(一)至(五)项，从下拉列表选择；也可只填“(一)”至“(五)”。",
        str(Decision.Category.PUBLIC_POLICY.label),
    ),
    Column("decision_body", "决策主体", ("决策机关",), 18, help="如：某市人民政府。", example="湖州市人民政府"),
    Column(
        "lead_unit",
        "承办单位",
        ("申报单位", "责任单位", "承办职能办", "决策承办单位", "承办部门", "牵头单位", "牵头承办单位"),
        22,
        "必填",
        "本级政府的部门或单位，填写系统中登记的全称或简称(见“单位名称”表)。",
        "湖州市经济和信息化局",
    ),
    Column(
        "co_units",
        "协办单位",
        ("配合单位", "协同单位", "参与单位", "协办部门"),
        22,
        help="可填多个，用顿号“、”分隔；名称要求同承办单位。",
    ),
    Column("legal_policy_basis", "法律政策依据", ("政策依据", "法律依据", "决策依据"), 36),
    Column(
        "procedures",
        "履行程序",
        ("履行程序要求", "决策程序", "决策事项程序", "程序要求", "法定程序"),
        30,
        "必填",
        "用顿号“、”分隔：公众参与、专家论证、风险评估、合法性审查、集体讨论决定。",
        "公众参与、合法性审查、集体讨论决定",
    ),
    Column(
        "hearing",
        "是否听证",
        ("决策中是否需听证", "是否需听证", "是否需要听证", "是否举行听证", "听证"),
        10,
        help="是/否；不填视为否。",
        example="否",
    ),
    Column(
        "planned_submission",
        "拟提交审议时间",
        ("拟决策时间", "拟提交市政府常务会议审议时间", "拟提交常务会议审议时间", "决策时间", "计划提交审议时间"),
        18,
        "与计划完成时间至少填一项",
        "原文保留；可识别的写法见下表，无法识别的写法原文保留并提示。",
        "2026年8月",
    ),
    Column("planned_completion", "计划完成时间", ("完成时间", "计划完成"), 16, help="原文保留。", example="2026年12月"),
    Column(
        "proposer_type",
        "提出主体类别",
        ("提出主体", "建议来源", "提出主体类型"),
        24,
        "未关联决策编号的必填",
        "谁提出的建议(第十条)，从下拉列表选择。",
        str(Decision.SourceType.DEPARTMENT.label),
    ),
    Column("remarks", "备注", (), 18),
)
# Read when present, never written: links a row to a proposal already registered (T1) instead of
# letting the compilation create its decision (P25). An export leaves it out, so that the file can
# be imported into another catalogue.
DECISION_COLUMN = Column(
    "decision",
    "决策编号",
    ("关联决策编号", "关联决策"),
    16,
    help="可选，表中可加此列：系统中已登记的决策建议编号，事项将关联该决策。",
)
KEY_LABELS = {c.key: c.header for c in (*COLUMNS, DECISION_COLUMN)}
PLANNED_SUBMISSION_HEADER = re.compile(r"^拟提交.*(审议|决策)时间$")

PROCEDURE_NAMES = {
    "公众参与": RequiredProcedure.PP,
    "听证": RequiredProcedure.HEARING,
    "听证会": RequiredProcedure.HEARING,
    "举行听证": RequiredProcedure.HEARING,
    "专家论证": RequiredProcedure.EX,
    "专家咨询论证": RequiredProcedure.EX,
    "风险评估": RequiredProcedure.RA,
    "社会稳定风险评估": RequiredProcedure.RA,
    "稳定风险评估": RequiredProcedure.RA,
    "合法性审查": RequiredProcedure.LR,
    "集体讨论决定": RequiredProcedure.CD,
    "集体讨论": RequiredProcedure.CD,
    "集体讨论决策": RequiredProcedure.CD,
}
# The five procedures written in 履行程序; the hearing has its own column (是否听证).
WRITTEN_PROCEDURES = (
    RequiredProcedure.PP,
    RequiredProcedure.EX,
    RequiredProcedure.RA,
    RequiredProcedure.LR,
    RequiredProcedure.CD,
)
YES = {"是", "需", "需要", "要", "有", "√", "✓", "Y", "YES", "TRUE", "1"}
NO = {"否", "不", "不需", "不需要", "无需", "无", "不要", "×", "✗", "N", "NO", "FALSE", "0", "/", "—", "-"}


# -- what parse returns ----------------------------------------------------------------------------


@dataclass
class Problem:
    """One thing wrong (or worth a look) in the file, pointing at its sheet, row and column."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""  # the column letter, e.g. "D"
    header: str = ""  # the header as written in the file, e.g. "事项类别"

    @property
    def location(self):
        """Where, as a user reads it: “第7行 D列(事项类别)”."""
        parts = []
        if self.row:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"{self.column}列({self.header})" if self.header else f"{self.column}列")
        return " ".join(parts)

    def __str__(self):
        where = " ".join(p for p in (f"工作表“{self.sheet}”" if self.sheet else "", self.location) if p)
        return f"{where}：{self.message}" if where else self.message

    def as_dict(self):
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "message": self.message,
            "where": self.location,
        }


@dataclass
class Row:
    """One data row: where it is in the sheet, its 序号 as written, and the fields for add_entry."""

    number: int
    seq_no: int | None
    fields: dict


@dataclass
class Preview:
    """The result of reading a file: rows ready for catalog.services.add_entry, errors and warnings."""

    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    sheet: str = ""
    header_row: int | None = None

    @property
    def ok(self):
        return not self.errors


# -- refusing what is not an .xlsx -----------------------------------------------------------------

SAVE_AS = "请在 Excel 或 WPS 中“另存为”Excel 工作簿(.xlsx)后再上传"
# What to say of content that is not a workbook, by what decisions.uploads finds it is (one judge for every upload).
NOT_A_WORKBOOK = {
    uploads.ENCRYPTED_OFFICE: "文件设有打开密码，无法读取；请取消密码后另存为 .xlsx 再上传",
    uploads.OLE2: f"这是旧版 Excel 97-2003 工作簿(.xls)或 WPS 表格(.et)，不能直接导入；{SAVE_AS}",
    uploads.PDF: f"这是 PDF 文件，不是 Excel 工作簿；{SAVE_AS}",
    uploads.TEXT: f"这是文本文件(如 CSV)，不是 Excel 工作簿；{SAVE_AS}",
    uploads.HTML: f"这是网页(HTML)文件，不是 Excel 工作簿；{SAVE_AS}",
    uploads.DOCX: "这是 Word 文档(.docx)，不是 Excel 工作簿；请把表格复制到 Excel 或 WPS 表格中，另存为 .xlsx 后再上传",
    uploads.PPTX: f"这是 PowerPoint 演示文稿(.pptx)，不是 Excel 工作簿；{SAVE_AS}",
    uploads.OPENDOCUMENT: f"这是 OpenDocument 文件(.ods/.odt)，不是 Excel 工作簿；{SAVE_AS}",
    uploads.ZIP: f"这是 ZIP 压缩包，不是 Excel 工作簿(.xlsx)；{SAVE_AS}",
    uploads.DAMAGED_ZIP: f"文件已损坏(不是完整的 ZIP 压缩包)，无法读取；{SAVE_AS}",
}


def not_an_xlsx(data):
    """Return why `data` is not an .xlsx workbook (checked before any parsing), or ""."""
    if not data:
        return "文件为空"
    kind = uploads.identify(data)
    if kind != uploads.XLSX:
        return NOT_A_WORKBOOK.get(kind, f"不是 Excel 工作簿(.xlsx)文件(内容像是{kind.zh})；{SAVE_AS}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            inflated = sum(info.file_size for info in archive.infolist())  # sizes the directory declares
    except (zipfile.BadZipFile, OSError, ValueError):
        return f"文件已损坏(不是完整的 ZIP 压缩包)，无法读取；{SAVE_AS}"
    if "xl/workbook.xml" not in names:
        return f"工作簿不完整(缺少 xl/workbook.xml)，无法读取；{SAVE_AS}"
    if inflated > MAX_UNCOMPRESSED_BYTES:
        return f"工作簿解压后超过 {MAX_UNCOMPRESSED_BYTES // 2**20} MB，无法导入"
    return ""


# -- reading cells ---------------------------------------------------------------------------------


def _squash(text):
    """How names and choices are compared: NFKC (full-width to half-width), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


def _header_key(text):
    """Return the column key a header names (with the A5 synonyms), or ""."""
    name = re.sub(r"\(.*?\)", "", _squash(text)).strip("*※:：")
    for column in (*COLUMNS, DECISION_COLUMN):
        if name == column.header or name in column.synonyms:
            return column.key
    if PLANNED_SUBMISSION_HEADER.match(name):
        return "planned_submission"
    return ""


def _date_format_has_day(number_format):
    without_literals = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format or "").lower()
    return "d" in without_literals


def _text(cell):
    """A cell's value as text, stripped; dates in Chinese, whole numbers without “.0”."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime | date):
        if _date_format_has_day(cell.number_format):
            return f"{value.year}年{value.month}月{value.day}日"
        return f"{value.year}年{value.month}月"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ").replace("\xa0", " ")
    return "\n".join(line.strip() for line in text.strip().split("\n"))


def _one_line(text):
    """Names are one line: a line break typed to fit the cell is not part of the name."""
    return re.sub(r"\s*\n\s*", "", text)


def _choice(text, choices):
    """Return the value whose label or code `text` names: exact, then without spaces, then a unique fragment."""
    wanted = _squash(text)
    for value, label in choices:
        if wanted in (_squash(value), _squash(label)):
            return value
    fragments = [value for value, label in choices if len(wanted) >= 2 and wanted in _squash(label)]
    return fragments[0] if len(fragments) == 1 else None


def _category(text):
    found = _choice(text, Decision.Category.choices)
    if found:
        return found
    # “(一)”, “第(一)项”, “一”, “3-1” …: the item of 第三条第一款 is what counts.
    wanted = _squash(text)
    m = re.search(r"\(([一二三四五1-5])\)", wanted) or re.fullmatch(r"第?([一二三四五1-5])项?", wanted)
    if m:
        item = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}.get(m[1]) or int(m[1])
        return f"3-{item}"
    for value, label in Decision.Category.choices:
        description = str(label).split(" ", 1)[-1]
        if description in wanted:
            return value
    return None


def _proposer_type(text):
    choices = [(t, Decision.SourceType(t).label) for t in PROPOSER_TYPES]
    return _choice(text, choices) or _choice(re.sub(r"提出$", "", _squash(text)), choices)


def _positive_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value > 0 else None
    text = _squash(value)
    return int(text) if text.isdigit() and int(text) > 0 else None


class _Units:
    """The organ's departments and bodies (单位) by full name and short name, with suggestions for a typo."""

    def __init__(self, organ):
        self.units = list(Organisation.objects.filter(parent=organ).order_by("name"))
        full = {_squash(unit.name): unit for unit in self.units}
        short = {}
        for unit in self.units:
            if unit.short_name:
                short.setdefault(_squash(unit.short_name), []).append(unit)
        # A short name shared by two units names neither; a full name always wins over a short one.
        self.by_name = {name: units[0] for name, units in short.items() if len(units) == 1}
        self.by_name.update(full)

    def find(self, text):
        return self.by_name.get(_squash(text))

    def suggest(self, text, count=3):
        wanted = _squash(text)
        scored = []
        for unit in self.units:
            names = [_squash(unit.name)] + ([_squash(unit.short_name)] if unit.short_name else [])
            score = max(difflib.SequenceMatcher(None, wanted, name).ratio() for name in names)
            if any(_in_order(wanted, name) or _in_order(name, wanted) for name in names):
                score += 0.5  # “发改委” in “…发展和改革委员会”: the characters in order
            if score >= 0.45:
                scored.append((-score, unit.name))
        return [name for _, name in sorted(scored)[:count]]


def _in_order(short, long):
    rest = iter(long)
    return len(short) >= 2 and all(ch in rest for ch in short)


# -- parsing ---------------------------------------------------------------------------------------


@dataclass
class _Header:
    sheet: object
    row: int
    columns: dict = field(default_factory=dict)  # key -> (column index, header as written)
    texts: list = field(default_factory=list)  # every non-empty header cell as written
    unknown: list = field(default_factory=list)  # (column index, text)
    duplicates: list = field(default_factory=list)  # (key, column index, text, first column index)


def _read_header(sheet, row, cells):
    header = _Header(sheet, row)
    for cell in cells:
        text = _one_line(_text(cell))
        if not text:
            continue
        header.texts.append(text)
        key = _header_key(text)
        if not key:
            header.unknown.append((cell.column, text))
        elif key in header.columns:
            header.duplicates.append((key, cell.column, text, header.columns[key][0]))
        else:
            header.columns[key] = (cell.column, text)
    return header


def _find_header(book):
    """Return the first sheet's header row that names the entries (决策事项名称 and more), and the best seen."""
    best = None
    for sheet in book.worksheets:
        if sheet.title in (INSTRUCTIONS_SHEET, UNITS_SHEET):
            continue
        for row, cells in enumerate(sheet.iter_rows(min_row=1, max_row=min(sheet.max_row, HEADER_SCAN_ROWS)), 1):
            header = _read_header(sheet, row, cells)
            if "name" in header.columns and len(header.columns) >= 2:
                return header, header
            if best is None or len(header.columns) > len(best.columns):
                best = header
    return None, best


def _required_headers(columns):
    missing = [KEY_LABELS[k] for k in ("name", "category", "lead_unit", "procedures") if k not in columns]
    if "planned_submission" not in columns and "planned_completion" not in columns:
        missing.append("拟提交审议时间(或计划完成时间)")
    if "proposer_type" not in columns and "decision" not in columns:
        missing.append(KEY_LABELS["proposer_type"])
    return missing


def _last_row(sheet):
    """The last row holding a value (a sheet formatted to row 1,048,576 is not read that far)."""
    # openpyxl keeps the cells it loaded in `_cells`; asking for max_row would count formatted empty rows.
    rows = [r for (r, _c), cell in sheet._cells.items() if cell.value not in (None, "")]
    return max(rows, default=0)


def parse(data, catalogue):
    """Read an uploaded .xlsx for `catalogue` and check every row; write nothing. Return a Preview."""
    preview = Preview()
    refusal = not_an_xlsx(data)
    if refusal:
        preview.errors.append(Problem(refusal))
        return preview
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # “extension not supported” and the like: nothing the office can act on
            book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        preview.errors.append(Problem(f"工作簿已损坏或格式不正确，无法读取({type(exc).__name__})；{SAVE_AS}"))
        return preview
    if catalogue.state != CatalogueState.COLLECTING:
        preview.errors.append(
            Problem(
                f"目录处于“{catalogue.get_state_display()}”，不能导入事项(须处于：{CatalogueState.COLLECTING.label})"
            )
        )
    header, best = _find_header(book)
    if header is None:
        found = f"“{best.sheet.title}”第{best.row}行：{'、'.join(best.texts)}" if best and best.texts else "无"
        missing = _required_headers(best.columns if best else {})
        preview.errors.append(
            Problem(
                f"没有找到目录表：前{HEADER_SCAN_ROWS}行中没有含“决策事项名称”等列的表头。"
                f"找到的表头：{found}；缺少：{'、'.join(missing)}"
            )
        )
        return preview
    _Reader(preview, header, catalogue).read()
    return preview


class _Reader:
    """Reads the data rows under a header row, collecting every problem."""

    def __init__(self, preview, header, catalogue):
        self.preview, self.header, self.catalogue = preview, header, catalogue
        self.sheet = header.sheet
        preview.sheet, preview.header_row = self.sheet.title, header.row
        self.units = _Units(catalogue.organ)
        self.seq_rows = {}
        self.name_rows = {}
        self.decision_rows = {}
        self.existing_names = set(catalogue.draft_entries().values_list("name", flat=True))
        self.linked = set(catalogue.draft_entries().exclude(decision=None).values_list("decision_id", flat=True))

    # problems
    def _problem(self, message, row=None, key=None, column=None):
        if key is not None:
            column, header = self.header.columns[key]
        else:
            header = ""
        return Problem(
            message,
            sheet=self.sheet.title,
            row=row,
            column=get_column_letter(column) if column else "",
            header=header,
        )

    def error(self, message, row=None, key=None, column=None):
        self.preview.errors.append(self._problem(message, row, key, column))

    def warn(self, message, row=None, key=None, column=None):
        self.preview.warnings.append(self._problem(message, row, key, column))

    def read(self):
        header = self.header
        missing = _required_headers(header.columns)
        if missing:
            self.error(
                f"表头缺少：{'、'.join(missing)}。找到的表头：{'、'.join(header.texts)}",
                row=header.row,
            )
            return
        for key, column, text, first in header.duplicates:
            self.error(
                f"“{text}”与{get_column_letter(first)}列“{header.columns[key][1]}”都是{KEY_LABELS[key]}，只能保留一列",
                row=header.row,
                column=column,
            )
        for column, text in header.unknown:
            self.warn(f"不认识的列“{text}”，不导入", row=header.row, column=column)
        last = _last_row(self.sheet)
        if last - header.row > MAX_ROWS:
            self.error(f"数据超过 {MAX_ROWS} 行，请分批导入", row=header.row)
            return
        # One pass over the sheet: asking openpyxl for one row at a time measures the whole sheet each time.
        width = max(column for column, _text in header.columns.values())
        lines = dict(enumerate(self.sheet.iter_rows(min_row=header.row + 1, max_row=last), header.row + 1))
        notes = self._notes(lines)
        self._merged(notes)
        for row, cells in lines.items():
            if row not in notes:
                self._row(row, cells[:width])
        if not self.preview.rows and not self.preview.errors:
            self.error("表中没有数据行", row=header.row)
        self._numbering()

    def _notes(self, lines):
        """Rows such as “注：…” under the table: one cell of text that starts like a note."""
        notes = set()
        for row, cells in lines.items():
            texts = [t for t in (_text(c) for c in cells) if t]
            if len(texts) == 1 and re.match(r"^(注|备注|说明|附注)[:：\s]", texts[0]):
                notes.add(row)
        return notes

    def _merged(self, notes):
        """Merged cells under the header hide values from every row but the first: refuse them."""
        self.covered = set()
        for merged in sorted(self.sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
            if merged.max_row <= self.header.row or all(r in notes for r in range(merged.min_row, merged.max_row + 1)):
                continue
            first_row = max(merged.min_row, self.header.row + 1)
            key = next((k for k, (c, _t) in self.header.columns.items() if merged.min_col <= c <= merged.max_col), None)
            rows = f"第{first_row}行" if first_row == merged.max_row else f"第{first_row}至{merged.max_row}行"
            self.error(
                f"数据区有合并单元格 {merged.coord}({rows})：请取消合并，并在每一行填写完整",
                row=first_row,
                key=key,
                column=None if key else merged.min_col,
            )
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    if (r, c) != (merged.min_row, merged.min_col):
                        self.covered.add((r, c))

    def _blank(self, row, key, message):
        """A required value is missing; inside a refused merged range that is already said."""
        column = self.header.columns[key][0]
        if (row, column) not in self.covered:
            self.error(message, row, key)

    def _row(self, row, line):
        cells = {key: line[column - 1] for key, (column, _text) in self.header.columns.items()}
        text = {key: _text(cell) for key, cell in cells.items()}
        if not any(text.values()):
            return  # a blank line between rows
        errors_before = len(self.preview.errors)
        fields = {}
        seq_no = self._seq_no(row, cells.get("seq_no"), text.get("seq_no", ""))

        name = _one_line(text["name"])
        if not name:
            self._blank(row, "name", "缺少决策事项名称")
        elif len(name) > 300:
            self.error(f"决策事项名称超过300字(现有{len(name)}字)", row, "name")
        else:
            self._duplicate_name(row, name)
        fields["name"] = name
        fields["main_content"] = text.get("main_content", "")

        category = _category(text["category"]) if text["category"] else None
        if not text["category"]:
            self._blank(row, "category", "缺少事项类别(第三条第一款第(一)至(五)项)")
        elif category is None:
            choices = "、".join(str(label) for label in Decision.Category.labels)
            self.error(f"无法识别的事项类别“{text['category']}”，应为：{choices}", row, "category")
        fields["category"] = category or ""

        body = _one_line(text.get("decision_body", ""))
        if len(body) > 200:
            self.error(f"决策主体超过200字(现有{len(body)}字)", row, "decision_body")
        fields["decision_body"] = body

        fields["lead_unit"] = self._lead_unit(row, text["lead_unit"])
        fields["co_units"] = self._co_units(row, text.get("co_units", ""), fields["lead_unit"])
        fields["legal_policy_basis"] = text.get("legal_policy_basis", "")
        fields["required_procedures"] = self._procedures(row, text["procedures"], text.get("hearing", ""))
        fields.update(self._planned(row, cells, text))
        decision = self._decision(row, text.get("decision", ""))
        fields["proposer_type"] = self._proposer(row, text.get("proposer_type", ""), linked=decision is not None)
        fields["remarks"] = text.get("remarks", "")
        if decision is not None:
            fields["decision"] = decision
        if len(self.preview.errors) == errors_before:
            self.preview.rows.append(Row(number=row, seq_no=seq_no, fields=fields))

    def _seq_no(self, row, cell, text):
        if cell is None or not text:
            return None
        number = _positive_int(cell.value)
        if number is None:
            self.error(f"序号应为正整数，现为“{text}”", row, "seq_no")
            return None
        if number in self.seq_rows:
            self.error(f"序号 {number} 与第{self.seq_rows[number]}行重复", row, "seq_no")
            return None
        self.seq_rows[number] = row
        return number

    def _duplicate_name(self, row, name):
        if name in self.name_rows:
            self.warn(f"与第{self.name_rows[name]}行的事项名称相同", row, "name")
        elif name in self.existing_names:
            self.warn("目录中已有同名事项", row, "name")
        self.name_rows.setdefault(name, row)

    def _unit(self, row, key, name, what):
        unit = self.units.find(name)
        if unit is None:
            close = self.units.suggest(name)
            hint = f"相近的名称：{'、'.join(close)}" if close else f"请填写系统中登记的全称或简称(见“{UNITS_SHEET}”表)"
            self.error(f"{what}“{name}”不是{self.catalogue.organ.name}的部门或单位；{hint}", row, key)
        return unit

    def _lead_unit(self, row, text):
        name = _one_line(text)
        if not name:
            self._blank(row, "lead_unit", "缺少承办单位")
            return None
        return self._unit(row, "lead_unit", name, "承办单位")

    def _co_units(self, row, text, lead_unit):
        units = []
        for name in (n.strip() for n in SEPARATORS.split(unicodedata.normalize("NFKC", text))):
            if not name:
                continue
            unit = self._unit(row, "co_units", name, "协办单位")
            if unit is None:
                continue
            if unit == lead_unit:
                self.warn(f"“{name}”已是承办单位，不再列为协办单位", row, "co_units")
            elif unit in units:
                self.warn(f"协办单位“{name}”重复填写", row, "co_units")
            else:
                units.append(unit)
        return units

    def _procedures(self, row, text, hearing_text):
        codes = set()
        if not text:
            self._blank(row, "procedures", "缺少履行程序要求")
        for item in re.split(r"[、,;/和及\s]+", unicodedata.normalize("NFKC", text)) if text else ():
            name = item.removesuffix("程序")
            if not name:
                continue
            if name in PROCEDURE_NAMES:
                codes.add(PROCEDURE_NAMES[name])
            else:
                known = "、".join(str(p.label) for p in WRITTEN_PROCEDURES)
                self.error(f"无法识别的程序“{item}”，可填：{known}", row, "procedures")
        hearing = self._hearing(row, hearing_text)
        if hearing:
            codes.add(RequiredProcedure.HEARING)
        elif hearing is False and RequiredProcedure.HEARING in codes:
            self.error("履行程序中有听证，但是否听证填的是“否”", row, "hearing")
        return [code for code in RequiredProcedure.values if code in codes]

    def _hearing(self, row, text):
        if not text:
            return None
        answer = _squash(text).upper()
        if answer in YES:
            return True
        if answer in NO:
            return False
        self.error(f"是否听证应填“是”或“否”，现为“{text}”", row, "hearing")
        return None

    def _planned(self, row, cells, text):
        values = {"planned_submission_from": None, "planned_submission_to": None}
        completion = text.get("planned_completion", "")
        if len(completion) > 100:
            self.error(f"计划完成时间超过100字(现有{len(completion)}字)", row, "planned_completion")
        values["planned_completion"] = completion
        wording = text.get("planned_submission", "")
        values["planned_submission_text"] = wording
        key = "planned_submission" if "planned_submission" in cells else "planned_completion"
        if not wording:
            if not completion:
                self._blank(row, key, "缺少计划时间(拟提交审议时间或计划完成时间)")
            return values
        if len(wording) > 100:
            self.error(f"拟提交审议时间超过100字(现有{len(wording)}字)", row, key)
            return values
        cell = cells["planned_submission"]
        if isinstance(cell.value, float) and re.fullmatch(r"\d{4}\.1", repr(cell.value)):
            # Typed as a number, 2026.10 became 2026.1: January or October cannot be told apart.
            self.warn(f"“{wording}”是数字单元格，无法分辨1月还是10月；原文保留，请把单元格设为文本后重填", row, key)
            return values
        period = parse_period(wording, self.catalogue.year)
        if period is None:
            self.warn(f"无法识别为日期：“{wording}”；原文保留，不计算计划期限", row, key)
            return values
        start, end = period
        if start and end and start > end:
            self.error(f"计划时间起止颠倒：“{wording}”(跨年请写作“12月至次年2月”)", row, key)
            return values
        if (end and end.year < self.catalogue.year) or (start and start.year > self.catalogue.year):
            self.warn(f"计划时间“{wording}”不在{self.catalogue.year}年度内", row, key)
        values["planned_submission_from"], values["planned_submission_to"] = start, end
        return values

    def _decision(self, row, reference):
        if not reference:
            return None
        reference = _one_line(reference)
        decision = Decision.objects.filter(reference=reference).first()
        if decision is None:
            self.error(f"没有编号为“{reference}”的决策事项", row, "decision")
            return None
        if catalogue_rules.not_applicable(decision):
            self.error(f"{reference} 不适用本条例或已决定不予启动，不能列入目录", row, "decision")
            return None
        problem = catalogue_rules.link_problem(decision, self.catalogue)
        if decision.pk in self.linked:
            problem = f"{reference} 已列入本目录"
        elif decision.pk in self.decision_rows:
            problem = f"{reference} 与第{self.decision_rows[decision.pk]}行关联同一决策"
        if problem:
            self.error(f"不能关联该决策：{problem}", row, "decision")
            return None
        self.decision_rows[decision.pk] = row
        return decision

    def _proposer(self, row, text, linked):
        if not text:
            if not linked:
                self._blank(row, "proposer_type", "未关联决策事项的，须注明提出主体类别(P25)")
            return ""
        found = _proposer_type(text)
        if found is None:
            labels = "、".join(str(Decision.SourceType(t).label) for t in PROPOSER_TYPES)
            self.error(f"无法识别的提出主体类别“{text}”，应为：{labels}", row, "proposer_type")
            return ""
        return found

    def _numbering(self):
        """The services number entries after the catalogue's last one, in file order: say so if 序号 differ."""
        first = (self.catalogue.entries.order_by("-seq_no").values_list("seq_no", flat=True).first() or 0) + 1
        renumbered = [
            (row.number, row.seq_no, first + i)
            for i, row in enumerate(self.preview.rows)
            if row.seq_no is not None and row.seq_no != first + i
        ]
        if renumbered:
            examples = "；".join(f"第{n}行 {old} → {new}" for n, old, new in renumbered[:3])
            self.warn(
                f"事项将按表中顺序编为第{first}至{first + len(self.preview.rows) - 1}项，"
                f"与表中序号不同的有{len(renumbered)}行(如{examples})",
                row=self.header.row,
                key="seq_no",
            )


# -- writing ---------------------------------------------------------------------------------------

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_WRAP = Alignment(wrap_text=True, vertical="center")
_CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")
_CENTRED_KEYS = {"seq_no", "hearing"}

DATE_FORMATS = (
    ("2026年8月、2026.08、2026-08、2026/8", "该月(1日至月末)"),
    ("8月份、8月、八月", "目录年度的该月"),
    ("2026年8月15日、2026-08-15、2026/8/15", "该日"),
    ("日期单元格", "按单元格显示格式：显示到日为该日，否则为该月"),
    ("2025.12—2026.01、2026年3月至5月、3-5月、12月至次年2月", "起止月份"),
    ("2026年第三季度、三季度、第3季度", "该季度"),
    ("上半年、下半年、2026年下半年", "1—6月、7—12月"),
    ("8月上旬、8月中旬、8月下旬、8月底", "该月的上、中、下旬"),
    ("年内、2026年、全年", "全年"),
    ("年底、年底前、12月底前、8月15日前", "年底为12月；“…前”只定截止日"),
)


def _title_default():
    return "××××年度重大行政决策事项目录"


def _units_of(organ):
    return list(Organisation.objects.filter(parent=organ).order_by("name")) if organ is not None else []


def _build(title, rows, units):
    """The workbook of the published layout: title, header, `rows` (lists of values), 说明 and 单位名称 sheets."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    width = len(COLUMNS)
    sheet.cell(TITLE_ROW, 1, title).font = Font(bold=True, size=16)
    sheet.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=width)
    sheet.row_dimensions[TITLE_ROW].height = 36
    for index, column in enumerate(COLUMNS, 1):
        cell = sheet.cell(HEADER_ROW, index, column.header)
        cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), _HEADER_FILL, _BORDER, _CENTRE
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for offset, values in enumerate(rows):
        for index, (column, value) in enumerate(zip(COLUMNS, values, strict=True), 1):
            cell = sheet.cell(FIRST_DATA_ROW + offset, index, value)
            cell.border = _BORDER
            cell.alignment = _CENTRE if column.key in _CENTRED_KEYS else _WRAP
            if isinstance(value, str):
                cell.number_format = "@"  # text: “2026.08” typed over stays text, not 2026.08 the number
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, 1)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    _validations(sheet, FIRST_DATA_ROW + max(len(rows), VALIDATION_ROWS) - 1, units)
    _instructions(book.create_sheet(INSTRUCTIONS_SHEET))
    if units:
        _unit_list(book.create_sheet(UNITS_SHEET), units)
    return book


def _letter(key):
    return get_column_letter(next(i for i, c in enumerate(COLUMNS, 1) if c.key == key))


def _validations(sheet, last_row, units):
    def drop_down(key, formula, prompt, strict=True):
        letter = _letter(key)
        validation = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop" if strict else "warning",
            errorTitle=KEY_LABELS[key],
            error=prompt,
            promptTitle=KEY_LABELS[key],
            prompt=prompt,
            showInputMessage=True,
        )
        validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last_row}")
        sheet.add_data_validation(validation)

    def inline(labels):
        return '"' + ",".join(str(label) for label in labels) + '"'

    drop_down("category", inline(Decision.Category.labels), "请从列表选择第三条第一款第(一)至(五)项")
    drop_down("hearing", inline(["是", "否"]), "是或否")
    drop_down(
        "proposer_type",
        inline(Decision.SourceType(t).label for t in PROPOSER_TYPES),
        "谁提出的建议：未关联决策编号的必填",
    )
    if units:
        # A warning, not a stop: a short name (简称) typed by hand is accepted too.
        drop_down(
            "lead_unit",
            f"'{UNITS_SHEET}'!$A$2:$A${len(units) + 1}",
            "本级政府的部门或单位(全称或简称)",
            strict=False,
        )


def _instructions(sheet):
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 22
    sheet.column_dimensions["C"].width = 70
    sheet.column_dimensions["D"].width = 36
    rows = [
        ["填写说明"],
        [
            f"“{SHEET_TITLE}”表第1行为目录标题，第2行为表头，第3行起每行一个决策事项。表头按名称识别，列的顺序可以调整；"
            "发布稿中常见的列名(如“事项名称”“申报单位”“拟决策时间”“履行程序要求”“决策中是否需听证”)也能识别。"
            "数据区不要合并单元格。只接受 Excel 工作簿(.xlsx)：旧版 .xls、WPS .et 请先另存为 .xlsx。"
            "导入时先检查全部行，有任何错误则一行也不导入。"
        ],
        [],
        ["列名", "是否必填", "填写要求", "示例"],
    ]
    rows += [[c.header, c.required or "选填", c.help, c.example] for c in COLUMNS]
    rows += [[DECISION_COLUMN.header, "选填(可加列)", DECISION_COLUMN.help, ""]]
    rows += [[], ["拟提交审议时间的写法", "", "识别为", ""]]
    rows += [[written, "", meaning, ""] for written, meaning in DATE_FORMATS]
    rows += [
        [
            "其他写法",
            "",
            "原文保留并提示，不计算计划期限；“8月前”等含义不一的写法也原文保留。跨年请写作“2025年12月至2026年1月”或“12月至次年2月”。",
            "",
        ],
        [],
        ["事项类别可填", "", "、".join(str(label) for label in Decision.Category.labels), ""],
        ["提出主体类别可填", "", "、".join(str(Decision.SourceType(t).label) for t in PROPOSER_TYPES), ""],
        ["履行程序可填", "", "、".join(str(p.label) for p in WRITTEN_PROCEDURES) + "；听证填在“是否听证”列", ""],
    ]
    for values in rows:
        sheet.append(values)
    sheet.merge_cells("A2:D2")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.row_dimensions[2].height = 90
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[4]:
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL


def _unit_list(sheet, units):
    sheet.append(["单位全称", "简称"])
    for unit in units:
        sheet.append([unit.name, unit.short_name or ""])
    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 16
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL


class _FixedDateZip(zipfile.ZipFile):
    """A ZIP whose entries all carry one fixed date, so that the same workbook gives the same bytes."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=ZIP_DATE)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl writes each worksheet to a temporary file first; its mtime must not reach the ZIP.
        with open(filename, "rb") as source:
            self.writestr(arcname or filename, source.read(), compress_type, compresslevel)


def _save(book):
    properties = book.properties
    properties.creator = properties.lastModifiedBy = "juece"
    properties.created = properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    # ExcelWriter rather than book.save(): save() stamps the current time into docProps/core.xml.
    with _FixedDateZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).save()
    return buffer.getvalue()


def template(catalogue=None):
    """Return a blank .xlsx to fill in; with a catalogue, its title and its organ's units (单位名称 sheet)."""
    title = catalogue.title if catalogue is not None else _title_default()
    units = _units_of(catalogue.organ if catalogue is not None else None)
    return _save(_build(title, [], units))


def _proposer_of(entry):
    """Who put the entry forward (P25): the entry's own record, else the linked decision's source."""
    code = entry.proposer_type
    decision = entry.decision
    if not code and decision is not None:
        code = decision.proposer_type if decision.source_type == Decision.SourceType.CATALOGUE_COMPILATION else ""
        code = code or decision.source_type
    return str(Decision.SourceType(code).label) if code in PROPOSER_TYPES else ""


def _values(position, entry):
    procedures = set(entry.required_procedures or [])
    values = {
        "seq_no": position,
        "name": entry.name,
        "main_content": entry.main_content,
        "category": entry.get_category_display() if entry.category else "",
        "decision_body": entry.decision_body,
        "lead_unit": entry.lead_unit.name if entry.lead_unit_id else "",
        "co_units": "、".join(unit.name for unit in sorted(entry.co_units.all(), key=lambda u: u.name)),
        "legal_policy_basis": entry.legal_policy_basis,
        "procedures": "、".join(str(p.label) for p in WRITTEN_PROCEDURES if p in procedures),
        "hearing": "是" if RequiredProcedure.HEARING in procedures else "否",
        "planned_submission": entry.planned_submission_text
        or format_period(entry.planned_submission_from, entry.planned_submission_to),
        "planned_completion": entry.planned_completion,
        "proposer_type": _proposer_of(entry),
        "remarks": entry.remarks,
    }
    return [values[column.key] if values[column.key] != "" else None for column in COLUMNS]


def export(catalogue, version=None):
    """Return the catalogue's entries as an .xlsx in the template's layout.

    Before publication the entries being compiled; afterwards the current published version, or
    `version` if given (ValueError if the catalogue has no such version).
    """
    if version is not None:
        if not 1 <= version <= catalogue.version:
            raise ValueError(f"{catalogue.title}没有第{version}版(现行第{catalogue.version}版)")
        entries = catalogue.entries_at(version)
    else:
        entries = catalogue.current_entries()
    entries = entries.select_related("lead_unit", "decision").prefetch_related("co_units").order_by("seq_no", "id")
    rows = [_values(position, entry) for position, entry in enumerate(entries, 1)]
    return _save(_build(catalogue.title, rows, _units_of(catalogue.organ)))


__all__ = [
    "COLUMNS",
    "Column",
    "Preview",
    "Problem",
    "Row",
    "export",
    "format_period",
    "not_an_xlsx",
    "parse",
    "parse_period",
    "template",
]
