"""The data of each dossier, gathered once and testable without WeasyPrint (B8).

The cover sheet reads the signed manifest, never the live rows: the dossier shows exactly what
its sign-off attests. The record sections read the stage's structured records, which are
immutable once the stage is closed.
"""

import hashlib
import json
from datetime import date, datetime

from django.apps import apps
from django.db import models
from django.utils import timezone

from decisions.audit import canonical
from decisions.models import (
    AuditEvent,
    Document,
    DocumentType,
    HandoverTask,
    Role,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
    Waiver,
)

# B8: the records of a stage come in the order the document types are declared.
B8_ORDER = {value: index for index, value in enumerate(DocumentType.values)}
NOT_RECORDS = (Document, SignOff, Waiver, HandoverTask, StageRecord)
HIDDEN_FIELDS = {"id", "stage_record", "decision"}

# How the cover sheet names what each person did (audit actions); anything else prints as recorded.
ACTION_LABELS = {
    "stage:create": "建立环节记录",
    "stage:open": "开始办理",
    "stage:close": "办结",
    "stage:freeze": "冻结",
    "stage:methods": "记录参与方式",
    "stage:warnings": "确认提示",
    "document:upload": "上传材料",
    "document:supersede": "替换材料",
    "document:delete": "删除材料",
    "signoff": "签署",
    "waiver:record": "记录免予理由",
    "waiver:approve": "批准免予",
    "comment_notice:prepare": "拟定征求意见公告",
    "comment_notice:publish": "发布征求意见公告",
    "comment_notice:extend": "延长征求意见期限",
    "hearing:schedule": "安排听证",
    "hearing:delivery": "送达听证材料",
    "hearing:record_signed": "听证记录签字",
    "expert:add": "组成专家组",
    "expert:mode": "确定论证方式",
    "legality:accept": "受理合法性审查",
    "legality:return": "退回补充材料",
    "legality:opinion": "出具审查意见",
    "meeting:schedule": "列入会议议程",
    "meeting:statement": "记录发言",
    "meeting:outcome": "记录决定",
    "party:report": "向党委请示报告",
    "party:reply": "记录党委答复",
    "publication:publish": "公布",
    "publication:issue_not_public": "依法不公开印发",
    "legality:submit": "送请合法性审查",
    "legality:resubmit": "补充后重新送审",
    "execution:report": "报送执行情况",
    "handover:create": "生成移交任务",
    "handover:close": "接收移交材料",
}


def action_label(action):
    if action.startswith("transition:"):
        return f"程序步骤 {action.split(':', 1)[1]}"
    return ACTION_LABELS.get(action, action)


def stage_dossier(signoff):
    """Return everything a stage dossier prints for the record `signoff` signed off."""
    record = signoff.stage_record
    manifest = signoff.manifest
    documents = ordered_documents(record)
    return {
        "reference": record.decision.reference,
        "decision_title": record.decision.title,
        "stage": record.get_stage_display(),
        "stage_code": record.stage,
        "round": record.round,
        "status": record.get_status_display(),
        "record": record,
        "manifest": manifest,
        "signoff": signoff,
        "signed_by_role": Role(signoff.role).label if signoff.role in Role.values else signoff.role,
        "guards": manifest.get("guards", []),
        "actors": [
            {**a, "role_label": role_label(a["role"]), "action_labels": [action_label(x) for x in a["actions"]]}
            for a in manifest.get("actors", [])
        ],
        "closure": closure_reason(record),
        "waivers": list(record.waivers.select_related("recorded_by", "approved_by").order_by("id")),
        "cascade": manifest.get("cascade", []),
        "documents": documents,
        "sections": record_sections(record),
        "extra": {key: manifest[key] for key in ("minutes", "item_minutes") if key in manifest},
        "previous_signoff": manifest.get("previous_signoff"),
        **archive_trail(record, signoff),
    }


def archive_trail(record, signoff):
    """For the archive record (归档), the audit trail up to its sign-off: the archive dossier's appendix.

    Bounded by the sign-off's own event, so that regenerating the dossier later prints the same trail.
    """
    if record.stage != Stage.ARC or signoff.pk is None:
        return {}
    signed = AuditEvent.objects.filter(action="signoff", object_type=SignOff._meta.label, object_id=str(signoff.pk))
    last = signed.values_list("seq", flat=True).first()
    events = trail_rows(record.decision, up_to=last)
    return {"audit_events": events, "audit_first_seq": events[0]["seq"], "audit_last_seq": last} if events else {}


def role_label(role):
    return Role(role).label if role in Role.values else (role or "系统")


def closure_reason(record):
    """Return the stated reason and legal basis of a NOT_TRIGGERED, WAIVED or frozen closure, or None."""
    if record.status == StageStatus.DONE and record.frozen_at is None:
        return None
    lines = []
    if record.reason_code:
        lines.append(("理由代码", record.reason_code))
    if record.reason_text:
        lines.append(("理由", record.reason_text))
    if record.other_law_instrument:
        basis = f"{record.other_law_instrument}（{record.other_law_level}）{record.other_law_article}"
        lines.append(("其他法律、行政法规规定的程序", basis))
    if record.prior_assessment_level:
        lines.append(("已有评估结论", record.prior_assessment_level))
    for waiver in record.waivers.order_by("id"):
        lines.append(("免予依据", waiver.legal_basis))
    if record.frozen_at is not None:
        lines.append(("冻结", f"{record.frozen_reason}（{local(record.frozen_at)}）"))
    return lines


def ordered_documents(record):
    """Return the record's documents in B8 order, each with whether it can be bound in as pages."""
    documents = sorted(record.documents.select_related("uploaded_by"), key=lambda d: (B8_ORDER[d.doc_type], d.pk))
    return [
        {
            "document": d,
            "type": d.get_doc_type_display(),
            "is_pdf": d.original_name.lower().endswith(".pdf"),
            "superseded": hasattr(d, "superseded_by"),
        }
        for d in documents
    ]


def record_sections(record):
    """Return one section per structured record of the stage (comment periods, hearing, opinions …)."""
    sections = []
    for model in apps.get_app_config("decisions").get_models():
        if issubclass(model, NOT_RECORDS):
            continue
        for link in _links_to(model, StageRecord):
            objects = list(model._default_manager.filter(**{link.name: record}).order_by("pk"))
            if objects:
                sections.append(_section(model, objects))
                for child_model, child_link in _children(model):
                    children = list(child_model._default_manager.filter(**{f"{child_link.name}__in": objects}))
                    if children:
                        sections.append(_section(child_model, children))
    return sections


def _links_to(model, target):
    return [
        f
        for f in model._meta.get_fields()
        if isinstance(f, models.ForeignKey | models.OneToOneField) and f.related_model is target
    ]


def _children(model):
    for child in apps.get_app_config("decisions").get_models():
        if issubclass(child, NOT_RECORDS) or _links_to(child, StageRecord):
            continue
        for link in _links_to(child, model):
            yield child, link


def _section(model, objects):
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.name not in HIDDEN_FIELDS and not f.name.endswith("_mac") and f.name != "supersedes"
    ]
    rows = [[(str(f.verbose_name), display(obj, f)) for f in fields] for obj in objects]
    return {"title": str(model._meta.verbose_name), "rows": rows}


def display(obj, field):
    """Return a field's value as the dossier prints it."""
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")() or ""
    value = getattr(obj, field.name)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return local(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def dossier_data(signoff, context):
    """Return the JSON embedded in a stage dossier: the signed manifest and the printed records."""
    return {
        "format": "juece.stage-dossier/1",
        "decision": context["reference"],
        "stage_record": signoff.stage_record_id,
        "signoff": {
            "id": signoff.pk,
            "user": signoff.user.get_username(),
            "role": signoff.role,
            "at": signoff.at,
            "subject": signoff.subject,
            "content_sha256": signoff.content_sha256,
            "manifest": signoff.manifest,
        },
        "records": [{"title": s["title"], "rows": [dict(row) for row in s["rows"]]} for s in context["sections"]],
        "documents": [
            {
                "id": d["document"].pk,
                "type": d["document"].doc_type,
                "title": d["document"].title,
                "name": d["document"].original_name,
                "sha256": d["document"].sha256,
                "size": d["document"].size,
            }
            for d in context["documents"]
        ],
    }


def manifest_sha256(manifest):
    """Return the SHA-256 a sign-off stores for `manifest` (same canonical JSON as the audit chain)."""
    return hashlib.sha256(canonical(manifest).encode()).hexdigest()


def audit_trail(decision, up_to=None):
    """Return the decision's audit events, in chain order (up to seq `up_to`)."""
    events = AuditEvent.objects.filter(decision_id_ref=decision.pk)
    if up_to is not None:
        events = events.filter(seq__lte=up_to)
    return list(
        events.order_by("seq").values("seq", "at", "actor_label", "role", "action", "object_type", "object_id", "mac")
    )


def trail_rows(decision, up_to=None):
    """Return the audit events as the appendix prints them."""
    return [{**e, "time": local(e["at"]), "role_label": role_label(e["role"])} for e in audit_trail(decision, up_to)]
