"""The public comments ledger page (公众意见台账): a decision's comments with their answers, filtered by disposition.

Anyone holding a role for the decision reads the ledger; personal information is masked for all but the
decision's lead unit, who answers the commenters (decisions.personal), so the full values never reach
another reader's page. The lead unit is offered the ledger's forms (decisions.actions.comments), the
blank template to fill in, and the button that makes the adoption statement (reports.adoption_views,
linked by URL name only: decisions never imports reports).
"""

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext

from decisions.actions.comments import LEDGER_ACTIONS
from decisions.comment_input import comments_template
from decisions.models import Comment, Decision, DocumentType, Role, Stage, StageStatus
from decisions.permissions import roles_for
from decisions.personal import contact_details, sees_in_full
from decisions.rules import source_language

PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "公众意见台账模板.xlsx"


def _row(comment, full):
    """Return what the page shows of one comment: personal information in full or masked."""
    return {"comment": comment, **contact_details(comment, full)}


def _record(decision, wanted):
    """Return the PP record asked for (an earlier round's, by id), else the live one, and every PP record."""
    records = list(decision.stage_records.filter(stage=Stage.PP).order_by("id"))
    chosen = next((r for r in records if str(r.pk) == wanted), None)
    return chosen or decision.current_record(Stage.PP), records


@login_required
def comment_ledger(request, reference):
    """The comments of a decision's public participation, with the lead unit's forms; ?download=template."""
    decision = get_object_or_404(Decision.objects.select_related("organ", "lead_unit"), reference=reference)
    roles = roles_for(request.user, decision)
    if not roles:
        raise PermissionDenied(gettext("无权查看该决策事项 (you hold no role for this decision)"))
    if request.GET.get("download") == "template":
        with source_language():  # the template's headers and lists are what the import reads
            response = HttpResponse(comments_template(), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(True, TEMPLATE_NAME)
        return response
    record, records = _record(decision, request.GET.get("record", ""))
    full = sees_in_full(roles)
    everything = record.comments.all() if record is not None else Comment.objects.none()
    counts = dict.fromkeys(Comment.Disposition.values, 0)
    counts.update({row["disposition"]: row["n"] for row in everything.values("disposition").annotate(n=Count("id"))})
    disposition = request.GET.get("disposition", "")
    shown = everything.filter(disposition=disposition) if disposition in Comment.Disposition.values else everything
    page = Paginator(
        shown.select_related("period", "answered_by").order_by("seq"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    live = decision.current_record(Stage.PP)
    open_ledger = record is not None and record == live and record.status == StageStatus.IN_PROGRESS
    open_ledger = open_ledger and record.frozen_at is None
    context = {
        "decision": decision,
        "record": record,
        "records": records,
        "full": full,
        "page": page,
        "rows": [_row(comment, full) for comment in page],
        "total": sum(counts.values()),
        "figures": [(value, label, counts[value]) for value, label in Comment.Disposition.choices],
        "dispositions": Comment.Disposition.choices,
        "disposition": disposition,
        "actions": [cls for cls in LEDGER_ACTIONS if cls.offered(decision, roles)],
        "may_generate": open_ledger and Role.UNDERTAKING_LEAD in roles,
        "statements": (
            record.documents.filter(doc_type=DocumentType.ADOPTION_STATEMENT)
            .select_related("uploaded_by")
            .order_by("-uploaded_at", "-id")
            if record is not None
            else []
        ),
        "submission": uuid.uuid4(),
    }
    return render(request, "decisions/ledger.html", context)
