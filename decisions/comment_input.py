"""Reading public comments: the fields of a comment, the checks of one comment, and ledger files.

The fields and their checks serve a comment typed in a form and a row of an imported file alike; files
are .xlsx, or .csv in UTF-8 (with or without BOM) or GB18030 as Chinese Excel writes it: headers by name,
every bad row and cell named, nothing written (decisions.services.comments stores all rows or none).
`comments_template()` is the blank workbook to fill in.
"""

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath

import openpyxl
from django.utils import timezone
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from decisions import uploads
from decisions.calendar import localdate
from decisions.models import Comment
from decisions.personal import email_problem, id_number_problem, normalise_id_number, phone_problem

Disposition = Comment.Disposition

PLACEHOLDER = "第X条"  # in a reason template, to be replaced by the draft's article

MAX_LENGTHS = {"text": 20000, "commenter_name": 200, "commenter_organisation": 200, "phone": 30, "email": 254}
MAX_ROWS = 5000
MAX_UNCOMPRESSED_BYTES = 100 * 2**20  # refuse a ZIP bomb before openpyxl inflates it
HEADER_SCAN_ROWS = 10
SHEET_TITLE = "公众意见台账"
INSTRUCTIONS_SHEET = "说明"


@dataclass(frozen=True)
class Column:
    """One column of the ledger file: the field it fills, its header and the synonyms accepted."""

    key: str
    header: str
    synonyms: tuple = ()
    width: int = 14
    help: str = ""


COLUMNS = (
    Column("seq", "序号", ("编号",), 6, "可不填；导入后按表中顺序编号"),
    Column("text", "意见内容", ("意见", "意见建议", "意见或建议", "内容"), 60, "必填"),
    Column("commenter_name", "提出人", ("姓名", "提出人姓名", "意见人", "名称"), 12, "必填；匿名来信可填“匿名”"),
    Column("commenter_organisation", "单位", ("工作单位", "所在单位", "单位名称"), 20, "渠道提供了才填"),
    Column("phone", "联系电话", ("电话", "手机", "手机号码", "联系方式"), 16, "渠道提供了才填；请以文本格式填写"),
    Column("email", "电子邮箱", ("邮箱", "电子邮件", "email", "e-mail"), 22, "渠道提供了才填"),
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "身份证"), 22, "渠道提供了才填；须以文本格式填写"),
    Column("name_public", "是否同意公开姓名", ("同意公开姓名", "公开姓名"), 10, "是/否；不填视为否"),
    Column("received_on", "收到日期", ("日期", "提出日期", "收到时间", "提交时间"), 12, "必填，如 2026-03-05"),
    Column("channel", "渠道", ("意见渠道", "来源", "提出方式"), 12, "必填，从下拉列表选择"),
    Column("disposition", "采纳情况", ("处理结果", "是否采纳"), 10, "采纳/部分采纳/不采纳；不填视为待研究"),
    Column("reason", "理由", ("采纳理由", "不采纳理由", "理由说明", "说明"), 40, "填写采纳情况的须填写"),
)
LABELS = {c.key: c.header for c in COLUMNS} | {"period": "征求意见公告"}
REQUIRED_HEADERS = ("text", "commenter_name", "received_on", "channel")
CHANNEL_LABELS = "、".join(str(label) for label in Comment.Channel.labels)
YES = {"是", "同意", "公开", "Y", "YES", "TRUE", "1", "√", "✓"}
NO = {"", "否", "不同意", "不公开", "N", "NO", "FALSE", "0", "×", "✗"}
CHANNEL_SYNONYMS = {
    "网站": Comment.Channel.WEBSITE,
    "网上留言": Comment.Channel.WEBSITE,
    "邮件": Comment.Channel.EMAIL,
    "来信": Comment.Channel.LETTER,
    "信件": Comment.Channel.LETTER,
    "问卷调查": Comment.Channel.QUESTIONNAIRE,
}
DISPOSITION_SYNONYMS = {"未采纳": Disposition.NOT_ADOPTED, "予以采纳": Disposition.ADOPTED}


# -- checking one comment ----------------------------------------------------------------------------


def _clean_text(value):
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ").replace("\xa0", " ")
    return text.strip()


def normalised(values):
    """Return a comment's input with its text fields trimmed and its ID number written as stored."""
    values = dict(values)
    for key in ("text", "commenter_name", "commenter_organisation", "phone", "email", "reason"):
        if key in values:
            values[key] = _clean_text(values[key])
    if "commenter_name" in values:
        values["commenter_name"] = re.sub(r"\s*\n\s*", "", values["commenter_name"])
    if "id_number" in values:
        values["id_number"] = normalise_id_number(values["id_number"])
    return values


def problems(values, today, skip=()):
    """Return the (field, message) problems of a comment's normalised input; `skip` names fields already reported."""
    found = []

    def check(key, message):
        # One problem per field: the first says what to fix.
        if message and key not in skip and all(key != seen for seen, _ in found):
            found.append((key, message))

    check("text", "" if values.get("text") else "必填，不能为空")
    check("commenter_name", "" if values.get("commenter_name") else "必填，不能为空(匿名来信可填“匿名”)")
    for key, limit in MAX_LENGTHS.items():
        if len(values.get(key) or "") > limit:
            check(key, f"不能超过{limit}个字符")
    check("phone", phone_problem(values.get("phone")))
    check("email", email_problem(values.get("email")))
    check("id_number", id_number_problem(values.get("id_number")))
    received = values.get("received_on")
    if not isinstance(received, date):
        check("received_on", "必填，不能为空")
    elif received > today:
        check("received_on", f"{received:%Y-%m-%d}晚于今天，收到日期不能是将来的日期")
    if values.get("channel") not in Comment.Channel.values:
        check("channel", ("须为：" if values.get("channel") else "必填，须为：") + CHANNEL_LABELS)
    disposition = values.get("disposition", Disposition.PENDING)
    if disposition not in Disposition.values:
        check("disposition", "须为采纳、部分采纳或不采纳，或留空(待研究)")
    elif disposition != Disposition.PENDING:
        check("reason", reason_problem(values.get("reason")))
    return found


def reason_problem(reason):
    """Return why `reason` cannot answer a comment (empty, or a template not filled in), or ""."""
    reason = str(reason or "").strip()
    if not reason:
        return "采纳、部分采纳或不采纳均须说明理由"
    if PLACEHOLDER in reason:
        return f"请将理由中的“{PLACEHOLDER}”改为草案的具体条款"
    return ""


# -- reading a ledger file ------------------------------------------------------------------------------


@dataclass
class Problem:
    """One thing wrong in a ledger file, pointing at its row and column."""

    message: str
    row: int | None = None
    column: str = ""  # the column letter, e.g. "C"
    header: str = ""

    def __str__(self):
        where = []
        if self.row:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"{self.column}列({self.header})" if self.header else f"{self.column}列")
        elif self.header:
            where.append(f"“{self.header}”")
        return f"{' '.join(where)}：{self.message}" if where else self.message


@dataclass
class Row:
    """One data row: its row number in the file and the fields for a comment."""

    number: int
    fields: dict


@dataclass
class Preview:
    """What a ledger file holds: rows ready to be recorded, or the errors that stop every row."""

    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


SAVE_AS = "请使用下载的模板，在 Excel 或 WPS 中另存为 .xlsx 或 .csv 后再上传"


def _squash(text):
    """How headers and choices are compared: NFKC (full-width to half-width), no whitespace, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).upper()


def _header_key(text):
    name = re.sub(r"\(.*?\)", "", _squash(text)).strip("*※:：")
    for column in COLUMNS:
        if name in {_squash(column.header), *(_squash(s) for s in column.synonyms)}:
            return column.key
    return ""


def _xlsx_rows(content):
    """Return the first sheet's rows (values) of an .xlsx, or raise ValueError saying why it cannot be read."""
    kind = uploads.identify(content)  # what the content is, as every upload is judged (B10)
    if kind == uploads.ENCRYPTED_OFFICE:
        raise ValueError("文件设有打开密码，无法读取；请取消密码后另存为 .xlsx 再上传")
    if kind == uploads.OLE2:
        raise ValueError(f"这是旧版 Excel 97-2003 工作簿(.xls)或 WPS 表格(.et)，不能直接导入；{SAVE_AS}")
    if kind != uploads.XLSX:
        raise ValueError(f"不是 Excel 工作簿(.xlsx)文件(内容像是{kind.zh})；{SAVE_AS}")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValueError(f"文件已损坏，无法读取；{SAVE_AS}") from error
    if "xl/workbook.xml" not in names:
        raise ValueError(f"这是 ZIP 压缩包或 Word 等其他文件，不是 Excel 工作簿(.xlsx)；{SAVE_AS}")
    if inflated > MAX_UNCOMPRESSED_BYTES:
        raise ValueError(f"工作簿解压后超过 {MAX_UNCOMPRESSED_BYTES // 2**20} MB，无法导入")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged package
        raise ValueError(f"工作簿已损坏或格式不正确，无法读取；{SAVE_AS}") from error
    sheets = [s for s in book.worksheets if s.title != INSTRUCTIONS_SHEET] or book.worksheets
    rows = [list(values) for values in sheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


def _csv_rows(content):
    """Return the rows of a CSV in UTF-8 (with or without BOM) or GB18030, or raise ValueError saying why not."""
    kind = uploads.identify(content)
    if kind != uploads.TEXT:
        raise ValueError(f"不是文本格式的 CSV 文件(内容像是{kind.zh})；{SAVE_AS}")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError("无法识别文件编码：CSV 文件须为 UTF-8 或 GB18030(Excel 另存为“CSV”的默认编码)")
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as error:
        raise ValueError(f"CSV 文件格式有误({error})；{SAVE_AS}") from error


def _find_header(rows):
    """Return (row index, {key: (column index, header as written)}, duplicates) of the header row, or None."""
    for index, values in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns, duplicates = {}, []
        for position, value in enumerate(values):
            key = _header_key(value) if value not in (None, "") else ""
            if not key:
                continue
            if key in columns:
                duplicates.append((key, position, str(value).strip(), columns[key][0]))
            else:
                columns[key] = (position, str(value).strip())
        if "text" in columns:
            return index, columns, duplicates
    return None


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime | date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _clean_text(value)


DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _as_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    if not text:
        return None
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise ValueError(f"“{text}”不是有效日期，请填写如 2026-03-05")


def _as_choice(value, choices, synonyms, allowed):
    wanted = _squash(_cell_text(value))
    if not wanted:
        return ""  # left to problems(): a required choice is reported as missing
    for code, label in choices:
        if wanted in (_squash(code), _squash(label)):
            return code
    if wanted in synonyms:
        return synonyms[wanted]
    raise ValueError(f"“{_cell_text(value)}”不是有效的{allowed}")


def _as_bool(value):
    if isinstance(value, bool):
        return value
    text = _squash(_cell_text(value))
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"“{_cell_text(value)}”无法识别，须填“是”或“否”(不填视为否)")


def _as_id_number(value):
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Excel keeps 15 significant digits: an 18-digit number typed into a number cell has lost its tail.
        if (isinstance(value, float) and not value.is_integer()) or len(str(int(value))) != 15:
            raise ValueError("身份证号被 Excel 存成了数字，末几位已丢失；请把该列设为“文本”格式后重新填写")
        return str(int(value))
    return _cell_text(value)


CHANNEL_NAMES = f"渠道，须为：{CHANNEL_LABELS}"
CONVERTERS = {
    "received_on": _as_date,
    "name_public": _as_bool,
    "id_number": _as_id_number,
    "channel": lambda v: _as_choice(v, Comment.Channel.choices, CHANNEL_SYNONYMS, CHANNEL_NAMES),
    "disposition": lambda v: (
        Disposition.PENDING
        if not _cell_text(v)
        else _as_choice(
            v, Disposition.choices, DISPOSITION_SYNONYMS, "采纳情况，须为采纳、部分采纳或不采纳，或留空(待研究)"
        )
    ),
}


def parse_comments(name, content, today=None):
    """Read a ledger file (.xlsx or .csv) and check every row and cell; write nothing. Return a Preview."""
    preview = Preview()
    today = today or localdate(timezone.now())
    suffix = PurePath(str(name or "")).suffix.lower()
    if not content:
        preview.errors.append(Problem("文件为空"))
        return preview
    if suffix not in (".xlsx", ".csv"):
        preview.errors.append(
            Problem(f"只能导入 Excel 工作簿(.xlsx)或 CSV 文件(.csv)，收到的是“{suffix or '无扩展名'}”文件")
        )
        return preview
    try:
        rows = _xlsx_rows(content) if suffix == ".xlsx" else _csv_rows(content)
    except ValueError as error:
        preview.errors.append(Problem(str(error)))
        return preview
    found = _find_header(rows)
    if found is None:
        preview.errors.append(Problem(f"前{HEADER_SCAN_ROWS}行中没有含“意见内容”列的表头；{SAVE_AS}"))
        return preview
    header_index, columns, duplicates = found
    for key, position, text, first in duplicates:
        preview.errors.append(
            Problem(
                f"与{get_column_letter(first + 1)}列({columns[key][1]})重复",
                header_index + 1,
                get_column_letter(position + 1),
                text,
            )
        )
    missing = [LABELS[key] for key in REQUIRED_HEADERS if key not in columns]
    if missing:
        preview.errors.append(Problem(f"表头缺少必填列：{'、'.join(missing)}", header_index + 1))
    if preview.errors:
        return preview
    read = 0
    for index in range(header_index + 1, len(rows)):
        read += _read_row(preview, index + 1, rows[index], columns, today)
        if read > MAX_ROWS:
            preview.errors = [Problem(f"一次最多导入{MAX_ROWS}条意见，请分批导入")]
            return preview
    if not preview.rows and not preview.errors:
        preview.errors.append(Problem("文件中没有意见(表头以下各行均为空)"))
    return preview


def _read_row(preview, number, values, columns, today):
    """Convert and check one data row; add it to the preview, or a problem for each bad cell. Return 1 if not blank."""

    def cell(key):
        position = columns[key][0]
        return values[position] if position < len(values) else None

    filled = {key for key in columns if _cell_text(cell(key))}
    if not filled - {"seq"}:
        return 0  # a blank row, or one only numbered in advance
    fields, bad = {}, []
    for key in columns:
        if key == "seq":
            continue
        try:
            fields[key] = CONVERTERS.get(key, _cell_text)(cell(key))
        except ValueError as error:
            bad.append((key, str(error)))
    fields = normalised(fields)
    fields.setdefault("disposition", Disposition.PENDING)
    found = bad + problems(fields, today, skip={key for key, _ in bad})
    for key, message in sorted(found, key=lambda item: columns.get(item[0], (len(values) + 1,))[0]):
        if key in columns:
            position, header = columns[key]
            preview.errors.append(Problem(message, number, get_column_letter(position + 1), header))
        else:
            preview.errors.append(Problem(f"{message}(表中没有“{LABELS[key]}”列)", number, header=LABELS[key]))
    if not found:
        preview.rows.append(Row(number, fields))
    return 1


# -- the template -------------------------------------------------------------------------------------------


def comments_template():
    """Return a blank ledger workbook (.xlsx): the header row, drop-downs, text cells for numbers, a 说明 sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    rows = 1000
    for position, column in enumerate(COLUMNS, 1):
        cell = sheet.cell(row=1, column=position, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = column.width
        if column.key in ("phone", "id_number", "text", "reason"):
            # Text cells: an 18-digit ID number typed into a number cell loses its last digits.
            for row in range(2, rows + 2):
                sheet.cell(row=row, column=position).number_format = "@"
        if column.key == "received_on":
            for row in range(2, rows + 2):
                sheet.cell(row=row, column=position).number_format = "yyyy-mm-dd"
    choices = {
        "channel": [str(label) for label in Comment.Channel.labels],
        "name_public": ["是", "否"],
        "disposition": [str(label) for label in Disposition.labels],
    }
    for position, column in enumerate(COLUMNS, 1):
        if column.key in choices:
            validation = DataValidation(type="list", formula1=f'"{",".join(choices[column.key])}"', allow_blank=True)
            letter = get_column_letter(position)
            validation.add(f"{letter}2:{letter}{rows + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    notes.append(["列名", "填写说明"])
    for column in COLUMNS:
        notes.append([column.header, column.help])
    notes.append([])
    notes.append(["", "个人信息只填写意见渠道实际提供的内容；其他列不会导入。"])
    notes.append(["", "也可另存为 CSV(UTF-8 或 GB18030 编码)导入；任何一行有误时整个文件都不导入。"])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 70
    for cell in notes[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
