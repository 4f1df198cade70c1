"""The public comments ledger of public participation (公众意见台账; 第十五条、第十八条、第三十二条).

Each comment received while PP is IN_PROGRESS is recorded with its date, channel and text and what
the commenter gave of name, unit and contact details; the undertaking unit answers each one
(采纳 / 部分采纳 / 不采纳, with a reason), and the ledger becomes the 意见采纳情况说明 that T7 asks
for (B8 item 4), rendered by reports.adoption. Comments are part of the record: never deleted, and
nothing is added or changed once the PP record is closed or frozen (第三十九条, DOCUMENT_IMMUTABLE).

Personal fields never enter the audit chain: events say which of them were given and carry the
SHA-256 of a comment's text, not the text. Phone, e-mail and ID number are stored encrypted
(decisions.fields), so no service looks a comment up by them; decisions.personal reveals and erases them.

Files are read by decisions.comment_input.parse_comments (.xlsx, or .csv in UTF-8 with or without BOM
or in GB18030): headers by name, every bad row and cell named, nothing written; `import_comments` then
stores all rows or none.
"""

import hashlib
import uuid
from pathlib import PurePath

from django.utils import timezone

from decisions.calendar import localdate
from decisions.comment_input import (
    LABELS,
    normalised,
    parse_comments,
    problems,
    reason_problem,
)
from decisions.models import Comment, CommentPeriod, DecisionState, Role, Stage, StageStatus
from decisions.rules import Failure, ProcedureRefused, Rule, refuse
from decisions.rules.consultation import comment_period_days, comment_periods, last_deadline, state_prerequisite
from decisions.services.common import action, public_action, record_event, refuse_if_closed

LEAD = [Role.UNDERTAKING_LEAD]
ARTICLE = "第十八条"
Disposition = Comment.Disposition
ANSWERS = (Disposition.ADOPTED, Disposition.PARTLY_ADOPTED, Disposition.NOT_ADOPTED)
PERSONAL_FIELDS = ("commenter_name", "commenter_organisation", "phone", "email", "id_number")
# Offered by the answer form; the user edits them (“第X条” must become the draft's article).
REASON_TEMPLATES = (
    "已在草案第X条中采纳",
    "已在草案第X条中部分采纳",
    "与上位法规定不符",
    "不属于本决策事项范围",
    "已有相关规定",
)


def _rule(code, article, zh, en):
    return Rule(name=code, code=code, article=article, zh=zh, en=en, check=lambda ctx: False)


INVALID = _rule("COMMENT_INVALID", ARTICLE, "意见登记信息有误", "The comment's details are incomplete or invalid")
IMPORT_INVALID = _rule(
    "COMMENT_IMPORT_INVALID",
    ARTICLE,
    "意见台账文件有误，未导入任何意见",
    "The ledger file has errors: nothing was imported",
)


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
        raise ProcedureRefused(
            [
                state_prerequisite(
                    "公众参与尚未开始：开始公众参与后方可登记和答复意见",
                    Stage.PP,
                    en="public participation has not started: comments can be recorded and answered once it has",
                )
            ]
        )
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


# -- the online form (线上参与平台): the public sends a comment itself -----------------------------------------

# Recorded in place of a name the commenter left empty, as the ledger writes an anonymous letter.
ANONYMOUS = "匿名"


def open_periods(today=None):
    """Return the comment notices the public may answer on `today` (Asia/Shanghai; P13, 第十五条):

    published, from its publish date to its deadline inclusive (24:00), not extended by a later notice, on the
    live PP record while it is in progress and not frozen, of a decision in consultation not withheld by law.
    """
    today = today or localdate(timezone.now())
    return (
        CommentPeriod.objects.filter(
            published_at__isnull=False,
            publish_date__lte=today,
            deadline_date__gte=today,
            stage_record__stage=Stage.PP,
            stage_record__status=StageStatus.IN_PROGRESS,
            stage_record__frozen_at__isnull=True,
            stage_record__superseded_by__isnull=True,
            stage_record__decision__state=DecisionState.CONSULTATION,
        )
        .exclude(stage_record__decision__confidential_by_law=True)
        .exclude(extensions__published_at__isnull=False)
    )


def receipt_code(comment):
    """Return the code printed on an online comment's receipt (回执码), which the lead unit can look up."""
    if comment.online_token is None:
        return ""
    code = comment.online_token.hex[:12].upper()
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def submit_online_comment(
    period,
    *,
    text,
    commenter_name="",
    phone="",
    email="",
    id_number="",
    name_public=False,
    commenter_organisation="",
    token=None,
):
    """Record a comment a member of the public sent through the online form (第十八条), without a login.

    It lands in the ledger of the notice's PP record as channel ONLINE_FORM, received today, recorded by no
    one (the online channel). Refused unless the notice is open today. A form sent again with the same
    one-time `token` returns the comment it recorded the first time instead of recording another.
    """
    values = normalised(
        {
            "text": text,
            "commenter_name": commenter_name,
            "commenter_organisation": commenter_organisation,
            "phone": phone,
            "email": email,
            "id_number": id_number,
            "name_public": name_public,
            "channel": Comment.Channel.ONLINE_FORM,
        }
    )
    values["commenter_name"] = values["commenter_name"] or ANONYMOUS
    pk = getattr(period, "pk", period)
    decision = CommentPeriod.objects.values_list("stage_record__decision", flat=True).get(pk=pk)
    with public_action(decision) as ctx:
        if token is not None:
            earlier = Comment.objects.filter(online_token=token).first()
            if earlier is not None:
                return earlier
        today = localdate(ctx.now)
        period = open_periods(today).filter(pk=pk).select_related("stage_record").first()
        if period is None:
            refuse(
                "COMMENT_PERIOD_CLOSED",
                ARTICLE,
                "该事项现在不在公开征求意见期限内，不能在线提交意见",
                "This matter is not open for public comment now: comments cannot be sent online",
            )
        values["received_on"] = today
        found = problems(values, today)
        if found:
            _refuse_input(found)
        record = period.stage_record
        ctx.target = record
        comment = _build(ctx, record, [period], {**values, "period": period}, _next_seq(record))
        comment.online_token = token or uuid.uuid4()
        comment.save()
        # Which personal fields were given, never their values (个人信息保护法).
        record_event(ctx, "comment:online", comment, {"stage_record": record.pk, **_entry(comment)})
        return comment


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


__all__ = [
    "REASON_TEMPLATES",
    "add_comment",
    "import_comments",
    "open_periods",
    "receipt_code",
    "submit_online_comment",
    "answer",
    "adoption_summary",
    "prepare_adoption_statement",
    "public_name",
    "statement_title",
]
