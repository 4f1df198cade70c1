"""The public comments ledger page (公众意见台账): a decision's comments with their answers, filtered by disposition.

Anyone holding a role for the decision reads the ledger; commenters' contact details are masked for every
reader (decisions.personal). The lead unit, who answers the commenters, may reveal one comment's details with
a button (POST, audited as security:personal_data_view; the page showing them is not cached) and erase a
commenter's personal information on request (security:personal_data_erased). The lead unit is also offered
the ledger's forms (decisions.actions.comments), the blank template to fill in, and the button that makes the
adoption statement (reports.adoption_views, linked by URL name only: decisions never imports reports).
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext

from decisions import personal
from decisions.actions.comments import LEDGER_ACTIONS
from decisions.comment_input import comments_template
from decisions.models import Comment, Decision, DocumentType, Role, Stage, StageStatus
from decisions.permissions import NotPermitted, roles_for
from decisions.rules import ProcedureRefused, source_language

PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "公众意见台账模板.xlsx"


def _row(comment, revealed):
    """Return what the page shows of one comment: contact details masked, or as just revealed."""
    shown = revealed if revealed is not None else personal.contact_details(comment)
    return {
        "comment": comment,
        "revealed": revealed is not None,
        "erased": personal.is_erased(comment),
        "has_contact": any(shown.values()),
        **shown,
    }


def _record(decision, wanted):
    """Return the PP record asked for (an earlier round's, by id), else the live one, and every PP record."""
    records = list(decision.stage_records.filter(stage=Stage.PP).order_by("id"))
    chosen = next((r for r in records if str(r.pk) == wanted), None)
    return chosen or decision.current_record(Stage.PP), records


def _comment(decision, pk):
    pk = str(pk or "").strip()
    return get_object_or_404(Comment.objects.filter(stage_record__decision=decision), pk=pk if pk.isdigit() else 0)


def _personal_data(request, decision):
    """A button on the ledger: reveal one comment's contact details (shown once, on this response) or erase them."""
    comment = _comment(decision, request.POST.get("reveal") or request.POST.get("erase"))
    try:
        if "reveal" in request.POST:
            return comment, personal.reveal(request.user, comment, request=request)
        personal.erase(request.user, comment, request.POST.get("reason", ""), request=request)
    except NotPermitted as refused:
        raise PermissionDenied(refused.failures[0].text) from None
    except ProcedureRefused as refused:
        messages.error(request, refused.failures[0].text)
        return comment, None
    messages.success(request, gettext("已删除第 %(seq)s 条意见提出人的个人信息") % {"seq": comment.seq})
    return comment, None


@login_required
def comment_ledger(request, reference):
    """The comments of a decision's public participation, with the lead unit's forms; ?download=template.

    POST reveal=<comment id> shows that comment's contact details in full; POST erase=<id> with a reason erases them.
    """
    decision = get_object_or_404(Decision.objects.select_related("organ", "lead_unit"), reference=reference)
    roles = roles_for(request.user, decision)
    if not roles:
        raise PermissionDenied(gettext("无权查看该决策事项 (you hold no role for this decision)"))
    revealed = {}
    if request.method == "POST":
        comment, details = _personal_data(request, decision)
        if details is None:
            return redirect(request.get_full_path())
        revealed[comment.pk] = details
    if request.GET.get("download") == "template":
        with source_language():  # the template's headers and lists are what the import reads
            response = HttpResponse(comments_template(), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(True, TEMPLATE_NAME)
        return response
    record, records = _record(decision, request.GET.get("record", ""))
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
        "page": page,
        "rows": [_row(comment, revealed.get(comment.pk)) for comment in page],
        "may_reveal": personal.may_reveal(roles, Comment),
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
    response = render(request, "decisions/ledger.html", context)
    if revealed:
        response["Cache-Control"] = "no-store"  # the revealed values are shown once, never kept by a cache
    return response
