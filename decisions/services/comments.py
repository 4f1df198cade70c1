"""The public comments ledger of public participation (公众意见台账; 第十五条、第十八条、第三十二条).

Each comment received while PP is IN_PROGRESS is recorded with its date, channel and text and what
the commenter gave of name, unit and contact details; the undertaking unit answers each one
(采纳 / 部分采纳 / 不采纳, with a reason), and the ledger becomes the 意见采纳情况说明 that T7 asks
for (B8 item 4), rendered by reports.adoption. Comments are part of the record: never deleted, and
nothing is added or changed once the PP record is closed or frozen (第三十九条, DOCUMENT_IMMUTABLE).

Personal fields never enter the audit chain: events say which of them were given and carry the
SHA-256 of a comment's text, not the text.

Files are read by `parse_comments` (.xlsx, or .csv in UTF-8 with or without BOM or in GB18030):
headers by name, every bad row and cell named, nothing written; `import_comments` then stores all
rows or none.
"""

import csv
import hashlib
import io
import re
import unicodedata
import uuid
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

from decisions.calendar import localdate
from decisions.models import Comment, CommentPeriod, Role, Stage, StageStatus
from decisions.personal import email_problem, id_number_problem, normalise_id_number, phone_problem
from decisions.rules import Failure, ProcedureRefused, Rule, refuse
from decisions.rules.consultation import comment_period_days, comment_periods, last_deadline, state_prerequisite
from decisions.services.common import action, record_event, refuse_if_closed

LEAD = [Role.UNDERTAKING_LEAD]
ARTICLE = "第十八条"
Disposition = Comment.Disposition
ANSWERS = (Disposition.ADOPTED, Disposition.PARTLY_ADOPTED, Disposition.NOT_ADOPTED)
PERSONAL_FIELDS = ("commenter_name", "commenter_organisation", "phone", "email", "id_number")
# Offered by the answer form; the user edits them (“第X条” must become the draft's article).
PLACEHOLDER = "第X条"
REASON_TEMPLATES = (
    "已在草案第X条中采纳",
    "已在草案第X条中部分采纳",
    "与上位法规定不符",
    "不属于本决策事项范围",
    "已有相关规定",
)
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


def _rule(code, article, zh, en):
    return Rule(name=code, code=code, article=article, zh=zh, en=en, check=lambda ctx: False)


INVALID = _rule("COMMENT_INVALID", ARTICLE, "意见登记信息有误", "The comment's details are incomplete or invalid")
IMPORT_INVALID = _rule(
    "COMMENT_IMPORT_INVALID",
    ARTICLE,
    "意见台账文件有误，未导入任何意见",
    "The ledger file has errors: nothing was imported",
)


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


def _refuse_input(found):
    raise ProcedureRefused([Failure(INVALID, f"{LABELS[key]}：{message}") for key, message in found])


# -- the ledger's stage record -------------------------------------------------------------------------


def _open_ledger(ctx):
    """Return the live PP record if comments may be recorded on it now (IN_PROGRESS); refuse otherwise."""
    record = ctx.decision.current_record(Stage.PP)
    ctx.target = record
    if record is not None:
        refuse_if_closed(record, ctx.decision)
    if record is None or record.status != StageStatus.IN_PROGRESS:
        raise ProcedureRefused([state_prerequisite("公众参与尚未开始：开始公众参与后方可登记和答复意见", Stage.PP)])
    return record


def _period(periods, period, received_on):
    """Return the notice a comment answered: the one given, else the published one whose window holds its date.

    `periods` are the PP record's published notices (read once for a whole import).
    """
    if period is not None:
        pk = getattr(period, "pk", period)
        chosen = next((p for p in periods if p.pk == pk), None)
        if chosen is None:
            _refuse_input([("period", "所选征求意见公告不属于本次公众参与，或尚未发布")])
        return chosen
    holding = [p for p in periods if p.publish_date <= received_on <= p.deadline_date]
    # An extension keeps the original publish date (P13): the latest deadline is the notice in force.
    return max(holding, key=lambda p: (p.deadline_date, p.pk), default=None)


def _next_seq(record):
    last = record.comments.order_by("-seq").values_list("seq", flat=True).first()
    return (last or 0) + 1


def _sha256(text):
    return hashlib.sha256(str(text).encode()).hexdigest()


def _given(comment):
    """Which personal fields a comment holds: what the audit chain may say of them."""
    return [name for name in PERSONAL_FIELDS if getattr(comment, name)]


def _entry(comment):
    return {
        "id": comment.pk,
        "seq": comment.seq,
        "received_on": comment.received_on,
        "channel": comment.channel,
        "period": comment.period_id,
        "text_sha256": _sha256(comment.text),
        "given": _given(comment),
        "name_public": comment.name_public,
        "disposition": comment.disposition,
    }


def _build(ctx, record, periods, values, seq, batch=None):
    comment = Comment(
        stage_record=record,
        seq=seq,
        received_on=values["received_on"],
        channel=values["channel"],
        text=values["text"],
        commenter_name=values["commenter_name"],
        commenter_organisation=values.get("commenter_organisation", ""),
        phone=values.get("phone", ""),
        email=values.get("email", ""),
        id_number=values.get("id_number", ""),
        name_public=bool(values.get("name_public")),
        import_batch=batch,
        recorded_by=ctx.actor,
        recorded_at=ctx.now,
    )
    comment.period = _period(periods, values.get("period"), comment.received_on)
    disposition = values.get("disposition", Disposition.PENDING)
    if disposition != Disposition.PENDING:
        comment.disposition, comment.reason = disposition, values["reason"]
        comment.answered_by, comment.answered_role, comment.answered_at = ctx.actor, ctx.role, ctx.now
    return comment


# -- services -----------------------------------------------------------------------------------------


def add_comment(
    actor,
    decision,
    *,
    text,
    commenter_name,
    received_on,
    channel,
    period=None,
    commenter_organisation="",
    phone="",
    email="",
    id_number="",
    name_public=False,
):
    """Record one comment received in public participation (第十八条) on the live PP record."""
    values = normalised(
        {
            "text": text,
            "commenter_name": commenter_name,
            "commenter_organisation": commenter_organisation,
            "phone": phone,
            "email": email,
            "id_number": id_number,
            "name_public": name_public,
            "received_on": received_on,
            "channel": channel,
            "period": period,
        }
    )
    with action(actor, decision, roles=LEAD) as ctx:
        record = _open_ledger(ctx)
        found = problems(values, localdate(ctx.now))
        if found:
            _refuse_input(found)
        comment = _build(ctx, record, list(comment_periods(record)), values, _next_seq(record))
        comment.save()
        record_event(ctx, "comment:add", comment, {"stage_record": record.pk, **_entry(comment)})
        return comment


def import_comments(actor, decision, name, content):
    """Record every comment of an .xlsx or .csv ledger file, all rows or none; return them in order."""
    with action(actor, decision, roles=LEAD) as ctx:
        record = _open_ledger(ctx)
        preview = parse_comments(name, content, today=localdate(ctx.now))
        if preview.errors:
            raise ProcedureRefused([Failure(IMPORT_INVALID, str(problem)) for problem in preview.errors])
        batch, first, periods = uuid.uuid4(), _next_seq(record), list(comment_periods(record))
        Comment.objects.bulk_create(
            [_build(ctx, record, periods, row.fields, first + n, batch) for n, row in enumerate(preview.rows)]
        )
        saved = list(Comment.objects.filter(import_batch=batch).order_by("seq"))
        record_event(
            ctx,
            "comment:import",
            record,
            {
                "stage_record": record.pk,
                "batch": str(batch),
                "file": PurePath(name).name,
                "sha256": hashlib.sha256(content).hexdigest(),
                "rows": len(saved),
                "comments": [_entry(comment) for comment in saved],
            },
        )
        return saved


def answer(actor, decision, comment_ids, *, disposition, reason):
    """Answer one or many comments at once: 采纳 / 部分采纳 / 不采纳 with the reason (第十八条)."""
    ids = sorted({int(getattr(c, "pk", c)) for c in comment_ids})
    with action(actor, decision, roles=LEAD) as ctx:
        comments = list(
            Comment.objects.filter(pk__in=ids, stage_record__decision=ctx.decision)
            .select_related("stage_record")
            .order_by("seq")
        )
        unknown = sorted(set(ids) - {c.pk for c in comments})
        if not ids or unknown:
            refuse(
                "COMMENT_UNKNOWN",
                ARTICLE,
                "请选择本决策事项台账中的意见" + (f"(不存在：{'、'.join(map(str, unknown))})" if unknown else ""),
                "Choose comments of this decision's ledger",
            )
        for record in {c.stage_record for c in comments}:
            refuse_if_closed(record, ctx.decision)
        record = _open_ledger(ctx)
        if disposition not in ANSWERS:
            _refuse_input([("disposition", "须为采纳、部分采纳或不采纳")])
        problem = reason_problem(reason)
        if problem:
            refuse("REASON_REQUIRED", ARTICLE, problem, "Each answer needs a reason, with the template filled in")
        reason = str(reason).strip()
        changed = []
        for comment in comments:
            changed.append({"id": comment.pk, "seq": comment.seq, "from": comment.disposition})
            comment.disposition, comment.reason = disposition, reason
            comment.answered_by, comment.answered_role, comment.answered_at = ctx.actor, ctx.role, ctx.now
            comment.save(update_fields=["disposition", "reason", "answered_by", "answered_role", "answered_at"])
        record_event(
            ctx,
            "comment:answer",
            record,
            {"stage_record": record.pk, "disposition": disposition, "reason": reason, "comments": changed},
        )
        return comments


# -- the adoption statement (意见采纳情况说明) ---------------------------------------------------------------


def public_name(comment):
    """Return the commenter as the statement prints them: the name only with consent, else 匿名 or 某单位."""
    if comment.name_public:
        unit = comment.commenter_organisation
        return f"{comment.commenter_name}（{unit}）" if unit else comment.commenter_name
    return "某单位" if comment.commenter_organisation else "匿名"


def statement_title(title):
    """Return 关于《…》公开征求意见采纳情况的说明 for a decision title."""
    name = title if title.startswith("《") else f"《{title}》"
    return f"关于{name}公开征求意见采纳情况的说明"


def _notices_in_force(record):
    """Return the published notices not extended by a later one: each runs from its first publish date (P13)."""
    periods = list(comment_periods(record))
    extended = {p.extends_id for p in periods}
    return [p for p in periods if p.pk not in extended]


def adoption_summary(decision):
    """Return the ledger's figures and rows for the 意见采纳情况说明 of the live PP record."""
    record = decision.current_record(Stage.PP)
    comments = list(record.comments.select_related("period").order_by("seq")) if record is not None else []
    counts = dict.fromkeys(Disposition.values, 0)
    for comment in comments:
        counts[comment.disposition] += 1
    channel_labels = dict(CommentPeriod.Channel.choices)
    return {
        "reference": decision.reference,
        "title": decision.title,
        "statement_title": statement_title(decision.title),
        "organ": decision.organ.name,
        "lead_unit": decision.lead_unit.name if decision.lead_unit_id else "",
        "draft_version": record.draft_version.number if record is not None and record.draft_version_id else None,
        "periods": [
            {
                "publish_date": p.publish_date,
                "deadline_date": p.deadline_date,
                "days": comment_period_days(p),
                "channels": "、".join(
                    str(channel_labels.get(c, c)) if c != "OTHER" else p.other_channel_text or "其他"
                    for c in p.channels
                ),
            }
            for p in _notices_in_force(record)
        ],
        "total": len(comments),
        "counts": counts,
        "figures": [
            {"code": value, "label": str(label), "count": counts[value]} for value, label in Disposition.choices
        ],
        "rows": [
            {
                "seq": c.seq,
                "received_on": c.received_on,
                "channel": str(c.get_channel_display()),
                "commenter": public_name(c),
                "text": c.text,
                "disposition": c.disposition,
                "disposition_label": str(c.get_disposition_display()),
                "reason": c.reason,
            }
            for c in comments
        ],
    }


def prepare_adoption_statement(actor, decision):
    """Gate and check the statement's making (lead unit, PP in progress, every comment answered, period over).

    Return adoption_summary(); called inside the caller's transaction, the decision stays locked until
    the statement is stored, so no comment changes between the summary and the stored document.
    """
    with action(actor, decision, roles=LEAD) as ctx:
        record = _open_ledger(ctx)
        pending = record.comments.filter(disposition=Disposition.PENDING).count()
        if pending:
            refuse(
                "COMMENTS_UNANSWERED",
                ARTICLE,
                f"尚有{pending}条意见未研究答复：全部意见答复后方可生成采纳情况说明",
                f"{pending} comment(s) have no answer yet",
            )
        deadline = last_deadline(record)
        if deadline is not None and localdate(ctx.now) <= deadline:
            refuse(
                "COMMENT_PERIOD_OPEN",
                "第十五条、第十八条; P13",
                f"征求意见期限至{deadline:%Y-%m-%d}24时届满：期满后方可生成涵盖全部意见的采纳情况说明",
                "The comment period is still open: the statement must cover every comment",
            )
        return adoption_summary(ctx.decision)


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
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ValueError(f"这是旧版 Excel 97-2003 工作簿(.xls)或 WPS 表格(.et)，不能直接导入；{SAVE_AS}")
    if not content.startswith(b"PK\x03\x04"):
        raise ValueError(f"不是 Excel 工作簿(.xlsx)文件；{SAVE_AS}")
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
    if content.startswith(b"PK\x03\x04") or b"\x00" in content[:4096]:
        raise ValueError(f"不是文本格式的 CSV 文件；{SAVE_AS}")
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


__all__ = [
    "REASON_TEMPLATES",
    "add_comment",
    "import_comments",
    "parse_comments",
    "comments_template",
    "answer",
    "adoption_summary",
    "prepare_adoption_statement",
    "public_name",
    "statement_title",
]
