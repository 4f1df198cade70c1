"""The inbox (待办) and a task's page: what is mine, what my unit may take, by when, and the forms to do it."""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.fields.json import KeyTextTransform
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from viewflow.urls import Application
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from decisions import actions
from decisions.permissions import roles_for
from decisions.rules import ProcedureRefused, active_language, in_language
from workflows import services
from workflows.flows import DecisionFlow
from workflows.models import DecisionProcess


def _due(task):
    value = (task.data or {}).get("due")
    return date.fromisoformat(value) if value else None


class Row:
    """A task as the inbox shows it."""

    def __init__(self, task, decision, today):
        self.task, self.decision, self.data = task, decision, task.data or {}
        self.due = _due(task)
        self.days_left = (self.due - today).days if self.due else None
        self.overdue = self.due is not None and self.due < today
        self.escalation = self.data.get("escalation", 0)

    @property
    def overdue_days(self):
        return -self.days_left if self.overdue else 0

    @property
    def urgency(self):
        if self.overdue:
            return "late"
        if self.days_left is not None and self.days_left <= 3:
            return "soon"
        return ""


# Tasks per page of each inbox list: a unit with years of open work still gets a page in fixed time.
INBOX_PAGE_SIZE = 25


def _open(queryset):
    """Open human tasks of decisions, soonest deadline first (the ISO date in the task's data sorts as text),
    tasks without a deadline last, then oldest first: ordered by the database so that a page is one query."""
    return (
        queryset.filter(process__flow_class=DecisionFlow, flow_task_type="HUMAN", finished__isnull=True)
        .exclude(status=STATUS.CANCELED)
        .select_related("process", "owner")
        .annotate(due_on=KeyTextTransform("due", "data"))
        .order_by(F("due_on").asc(nulls_last=True), "pk")
    )


def _rows(tasks, today):
    """The inbox rows of `tasks`, in their order, each with its decision (one query for all)."""
    tasks = list(tasks)
    processes = {
        p.pk: p.decision
        for p in DecisionProcess.objects.filter(pk__in={t.process_id for t in tasks}).select_related(
            "decision", "decision__organ"
        )
    }
    return [Row(t, processes[t.process_id], today) for t in tasks if t.process_id in processes]


def _page(request, tasks, name, today):
    page = Paginator(tasks, INBOX_PAGE_SIZE).get_page(request.GET.get(name))
    page.rows = _rows(page.object_list, today)
    page.parameter = name
    return page


@login_required
def inbox(request):
    """My tasks, and the tasks of my units nobody has taken yet, soonest deadline first."""
    today = timezone.localdate()
    mine = _open(Task.objects.filter(owner=request.user))
    permissions = request.user.get_all_permissions()
    queue = _open(Task.objects.filter(owner__isnull=True, status=STATUS.NEW, owner_permission__in=permissions))
    done = (
        Task.objects.filter(owner=request.user, process__flow_class=DecisionFlow, flow_task_type="HUMAN")
        .exclude(finished=None)
        .order_by("-finished")[:20]
    )
    context = {
        "mine": _page(request, mine, "mine", today),
        "queue": _page(request, queue, "queue", today),
        "done": _rows(done, today),
        "today": today,
    }
    return render(request, "workflows/inbox.html", context)


def _task_for(request, pk):
    task = get_object_or_404(Task.objects.select_related("process", "owner"), pk=pk, process__flow_class=DecisionFlow)
    if not (task.owner_id == request.user.pk or services.may_hold(request.user, task) or request.user.is_superuser):
        raise PermissionDenied(gettext("该任务不属于您或您所在单位"))
    return task


class DelegateForm(forms.Form):
    to = forms.ModelChoiceField(label=_("指派/转办给"), queryset=None)
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = services.holders(task).exclude(pk=task.owner_id or 0)


@login_required
def task_page(request, pk):
    task = _task_for(request, pk)
    decision = DecisionProcess.objects.select_related("decision").get(pk=task.process_id).decision
    role = (task.data or {}).get("role", "")
    offered = [a for a in actions.offered_actions(decision, {role}) if a.may(roles_for(request.user, decision))]
    context = {
        "task": task,
        "row": Row(task, decision, timezone.localdate()),
        "decision": decision,
        "actions": offered,
        "mine": task.owner_id == request.user.pk,
        "open": task.finished is None,
        "delegate_form": DelegateForm(task=task),
    }
    return render(request, "workflows/task.html", context)


def _refused(request, refused):
    messages.error(request, refused.message(active_language()))


@login_required
@require_POST
def task_claim(request, pk):
    task = _task_for(request, pk)
    try:
        services.claim(request.user, task)
    except ProcedureRefused as refused:
        _refused(request, refused)
    else:
        messages.success(request, gettext("已认领该任务。"))
    return redirect("workflows:task", pk=pk)


@login_required
@require_POST
def task_release(request, pk):
    task = _task_for(request, pk)
    try:
        services.release(request.user, task)
    except ProcedureRefused as refused:
        _refused(request, refused)
    else:
        messages.success(request, gettext("已退回本单位待认领。"))
    return redirect("workflows:inbox")


@login_required
@require_POST
def task_delegate(request, pk):
    task = _task_for(request, pk)
    form = DelegateForm(request.POST, task=task)
    if not form.is_valid():
        messages.error(
            request,
            in_language("；", "; ").join(
                gettext("%(field)s：%(errors)s") % {"field": form.fields[f].label, "errors": " ".join(e)}
                for f, e in form.errors.items()
            ),
        )
        return redirect("workflows:task", pk=pk)
    try:
        services.delegate(request.user, task, form.cleaned_data["to"], reason=form.cleaned_data["reason"])
    except ProcedureRefused as refused:
        _refused(request, refused)
    else:
        messages.success(request, gettext("已转给 %(user)s。") % {"user": form.cleaned_data["to"]})
    return redirect("workflows:task", pk=pk)


class WorkflowsApp(Application):
    """待办: the tasks each person and unit has on the decisions they work on."""

    title = _("待办事项")
    icon = "inbox"
    app_name = "workflows"
    menu_template_name = "juece/app_menu.html"
    menu_links = [("workflows:inbox", "inbox", _("我的待办"))]

    urlpatterns = [
        path("", inbox, name="index"),
        path("inbox/", inbox, name="inbox"),
        path("tasks/<int:pk>/", task_page, name="task"),
        path("tasks/<int:pk>/claim/", task_claim, name="claim"),
        path("tasks/<int:pk>/release/", task_release, name="release"),
        path("tasks/<int:pk>/delegate/", task_delegate, name="delegate"),
    ]
