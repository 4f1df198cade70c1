"""The decision pages (viewflow frontend application `DecisionApp`): the list of the user's decisions and
one decision's page, with its timeline, what stops the next step and why, its documents, sign-offs and
audit trail. Thin: reading goes through decisions.permissions, decisions.progress and the models; every
change goes through a service (decisions/actions.py)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from decisions import actions, ledger, permissions, progress
from decisions.models import (
    AuditEvent,
    DecisionState,
    Document,
    Organisation,
    Role,
    SignOff,
)
from decisions.permissions import visible_decisions
from decisions.rules import ProcedureRefused, in_language, source_language

PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 100


def readable_decision(request, reference):
    """Return the decision and the roles the user holds for it; refuse one the user has no role for."""
    return permissions.readable_decision(request.user, reference)


@login_required
def decision_list(request):
    """The decisions the user works on or oversees, filtered by state, organ and words of the title."""
    decisions = visible_decisions(request.user).select_related("organ", "lead_unit").order_by("-created_at", "-id")
    state = request.GET.get("state", "")
    if state in DecisionState.values:
        decisions = decisions.filter(state=state)
    organ = request.GET.get("organ", "")
    if organ.isdigit():
        decisions = decisions.filter(organ_id=int(organ))
    words = request.GET.get("q", "").strip()
    if words:
        decisions = decisions.filter(Q(title__icontains=words) | Q(reference__icontains=words))
    page = Paginator(decisions, PAGE_SIZE).get_page(request.GET.get("page"))
    organs = Organisation.objects.filter(
        kind=Organisation.Kind.GOVERNMENT, decisions__in=visible_decisions(request.user)
    )
    return render(
        request,
        "decisions/list.html",
        {
            "page": page,
            "states": DecisionState.choices,
            "organs": organs.distinct().order_by("level", "name"),
            "filters": {"state": state, "organ": organ, "q": words},
        },
    )


def _documents(decision):
    """Current documents by stage record, each with the versions it superseded (newest first)."""
    documents = list(
        Document.objects.filter(decision=decision).select_related("stage_record", "uploaded_by").order_by("id")
    )
    replaced = {d.supersedes_id for d in documents if d.supersedes_id}
    by_id = {d.pk: d for d in documents}
    rows = []
    for document in documents:
        if document.pk in replaced:
            continue
        history, node = [], document
        while node.supersedes_id:
            node = by_id.get(node.supersedes_id)
            if node is None:
                break
            history.append(node)
        rows.append({"document": document, "history": history})
    return rows


@login_required
def decision_page(request, reference):
    decision, roles = readable_decision(request, reference)
    decision.with_live_records()  # this page only reads
    steps = progress.next_steps(decision, roles)
    events = Paginator(
        AuditEvent.objects.filter(decision_id_ref=decision.pk).select_related("actor").order_by("-seq"),
        AUDIT_PAGE_SIZE,
    ).get_page(request.GET.get("events"))
    entries = decision.catalogue_entries.select_related("catalogue").order_by("-catalogue__year", "-valid_from")
    context = {
        "decision": decision,
        "roles": sorted(str(Role(r).label) for r in roles),
        "timeline": progress.timeline(decision, steps),
        "steps": steps,
        "yours": [s for s in steps if s.yours],
        "others": [s for s in steps if not s.yours],
        "actions": actions.offered_actions(decision, roles),
        "documents": _documents(decision),
        "signoffs": SignOff.objects.filter(decision=decision).select_related("user", "stage_record").order_by("id"),
        "events": events,
        "entry": entries.first(),
        "draft": decision.current_draft,
    }
    return render(request, "decisions/detail.html", context)


def submit_once(request, decision, name, run):
    """Run `run()` unless this form was already sent (AlreadySubmitted); see actions.run_once."""
    try:
        token = uuid.UUID(request.POST.get("submission", ""))
    except ValueError:
        token = uuid.uuid4()  # a form without a token (an old page) is still taken once
    return actions.run_once(request.user, decision, name, token, run)


@login_required
def decision_action(request, reference, name):
    """One action's form: shown with what the rules say now; sent, it calls its service once."""
    decision, roles = readable_decision(request, reference)
    form_class = actions.load().get(name)
    if form_class is None:
        raise Http404("no such action")
    if not form_class.may(roles):
        raise PermissionDenied(
            gettext("办理“%(action)s”需要以下身份之一：%(roles)s")
            % {"action": form_class.label, "roles": form_class.role_labels()}
        )
    sent = request.method == "POST"
    # A form with no fields sends an empty POST: still a bound form (`request.POST or None` would not be).
    form = form_class(
        request.POST if sent else None, request.FILES if sent else None, decision=decision, user=request.user
    )
    status = 200
    if sent and form.is_valid():
        try:
            # The record is kept in the source language whatever the page's language (titles, sign-offs, audit).
            with source_language():
                result = submit_once(request, decision, name, lambda: form.run(request.user))
        except actions.AlreadySubmitted:
            messages.info(request, gettext("“%(action)s”已经提交过，未重复办理。") % {"action": form_class.label})
            return redirect("decisions:detail", reference=decision.reference)
        except ProcedureRefused as refused:
            for failure in refused.failures:
                detail = in_language(f"：{failure.detail}", f": {failure.detail}") if failure.detail else ""
                form.add_error(
                    None,
                    gettext("%(message)s%(detail)s（%(article)s；%(code)s）")
                    % {
                        "message": failure.text,
                        "detail": detail,
                        "article": failure.rule.citation,
                        "code": failure.code,
                    },
                )
            status = 409
        else:
            messages.success(request, gettext("已办理：%(action)s") % {"action": form_class.label})
            # Rules that warn but do not block (a notice on no named channel, P13; a short hearing notice …).
            for warning in getattr(result, "warnings", None) or ():
                rule = getattr(warning, "rule", None)
                text = (
                    gettext("%(message)s（%(article)s）") % {"message": rule.text, "article": rule.citation}
                    if rule is not None
                    else str(warning)
                )
                messages.warning(request, gettext("提示：%(text)s") % {"text": text})
            return redirect("decisions:detail", reference=decision.reference)
    context = {
        "decision": decision,
        "form": form,
        "action": form_class,
        "in_place": form_class.in_place(decision),
        "conditions": progress.conditions_for(decision, form_class) if request.method == "GET" else (),
        "submission": uuid.uuid4(),
    }
    return render(request, form_class.page_template, context, status=status)


class DecisionApp(Application):
    """重大行政决策: each decision's procedure, what is next and why, its record."""

    title = _("重大行政决策")
    icon = "gavel"
    app_name = "decisions"
    menu_template_name = "juece/app_menu.html"
    menu_links = [("decisions:index", "gavel", _("决策事项"))]

    urlpatterns = [
        path("", decision_list, name="index"),
        path("<str:reference>/", decision_page, name="detail"),
        path("<str:reference>/act/<slug:name>/", decision_action, name="act"),
        path("<str:reference>/comments/", ledger.comment_ledger, name="comments"),
    ]
