"""The viewflow flow of a decision: it routes each part of the work to the people whose task it is.

The flow never decides what the law allows. It asks workflows.routing (which asks the decision's
lifecycle and rules) who has work now, keeps one task open per role with work, anchored at the
organisation that holds that place, and closes a task when its part is done — by whatever page, command
or API did it (workflows.sync, on `decisions.signals.decision_changed`). The tasks' forms are the
decision's action forms (decisions.actions), which call the services.

    start ─► route ─┬─► watch ─► again ─┬─► end          (the decision is finished)
                    │                   └─► route        (anything changed: route again)
                    └─► one task per role with work ─► end
"""

from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_noop
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.activation import Activation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from decisions.models import Role
from workflows import routing
from workflows.backends import work_permission
from workflows.models import DecisionProcess

# The roles a task can go to, with the task's title (任务名称), in the order the inbox shows them.
# Titles stay in Chinese (audit payloads, e-mails); pages translate them when shown.
TASK_ROLES = {
    Role.GOV_OFFICE: gettext_noop("政府办公室办理"),
    Role.UNDERTAKING_LEAD: gettext_noop("承办单位办理"),
    Role.LEGAL_REVIEWER: gettext_noop("合法性审查"),
    Role.LEGAL_ADVISER: gettext_noop("法律顾问出具法律意见"),
    Role.EXPERT: gettext_noop("专家论证"),
    Role.RISK_ASSESSOR: gettext_noop("风险评估"),
    Role.HEARING_ORG: gettext_noop("组织听证"),
    Role.PARTY_LIAISON: gettext_noop("向党委请示报告"),
    Role.EXECUTOR: gettext_noop("决策执行"),
    Role.POST_EVALUATOR: gettext_noop("决策后评估"),
    Role.ARCHIVIST: gettext_noop("归档"),
}


def node_name(role):
    return role.lower()


def task_view(request, **kwargs):
    """viewflow's execute page of a task: the work is done on juece's task page."""
    return redirect("workflows:task", pk=request.activation.task.pk)


def _work(activation):
    cached = getattr(activation, "_juece_work", None)
    if cached is None:
        cached = activation._juece_work = routing.work_for(activation.process.decision)
    return cached


def _needs(activation, role):
    """Route to `role` when it has work and no task of it is open in this process."""
    if role not in _work(activation):
        return False
    flow_task = getattr(DecisionFlow, node_name(role))
    return not activation.process.task_set.filter(flow_task=flow_task, finished__isnull=True).exists()


def _permission(activation, role):
    return work_permission(role, _work(activation)[role].anchor_id)


def describe(task, work):
    """Write what a task is about into its data: role, organisation, what to do, by when and why."""
    task.data = {
        **(task.data or {}),
        "role": work.role,
        "anchor": work.anchor_id,
        "anchor_name": work.anchor_name,
        "label": work.label,
        "due": work.due.date.isoformat() if work.due else None,
        "basis": work.due.basis if work.due else "",
        "provisional": bool(work.due and work.due.provisional),
    }


def _task(role, title):
    return (
        flow.View(task_view)
        .Annotation(title=title)
        .Permission(lambda activation, role=role: _permission(activation, role))
        .onCreate(lambda activation, role=role: _created(activation, role))
        .Next(this.end)
    )


def _created(activation, role):
    describe(activation.task, _work(activation)[role])
    activation.task.save(update_fields=["data"])


class RouteActivation(SplitActivation):
    """Create the branches of a routing round with tokens one level below the process's start token.

    viewflow's Split nests each child's token under its parent's ("start/3_1/9_2/…"); the route runs again
    after every change, so nested tokens would grow without end (the column holds 150 characters). The
    flow has no Join that would need the nesting.
    """

    @Activation.status.super()
    def create_next(self):
        tokens = Token.split_token_source("start", self.task.pk)
        for next_task, data in self.next_tasks:
            yield next_task._create(prev_activation=self, token=next(tokens), data=data)


class Route(flow.Split):
    activation_class = RouteActivation


def _route():
    split = Route().Next(this.watch)
    for role in TASK_ROLES:
        split = split.Next(getattr(this, node_name(role)), case=lambda activation, role=role: _needs(activation, role))
    return split


class DecisionFlow(flow.Flow):
    """重大行政决策办理: one process per decision; its tasks follow the decision's procedure."""

    process_class = DecisionProcess
    process_title = "重大行政决策办理"
    process_description = "按《重大行政决策程序暂行条例》规定的程序，把每一步交给应当办理的单位和人员。"
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Annotation(title="登记决策事项").Next(this.route)
    route = _route().Annotation(title="分派任务")
    watch = flow.Handle(this.on_change).Annotation(title="等待办理进展").Next(this.again)
    again = flow.If(this.is_finished).Annotation(title="程序是否终结").Then(this.end).Else(this.route)

    gov_office = _task(Role.GOV_OFFICE, TASK_ROLES[Role.GOV_OFFICE])
    undertaking_lead = _task(Role.UNDERTAKING_LEAD, TASK_ROLES[Role.UNDERTAKING_LEAD])
    legal_reviewer = _task(Role.LEGAL_REVIEWER, TASK_ROLES[Role.LEGAL_REVIEWER])
    legal_adviser = _task(Role.LEGAL_ADVISER, TASK_ROLES[Role.LEGAL_ADVISER])
    expert = _task(Role.EXPERT, TASK_ROLES[Role.EXPERT])
    risk_assessor = _task(Role.RISK_ASSESSOR, TASK_ROLES[Role.RISK_ASSESSOR])
    hearing_org = _task(Role.HEARING_ORG, TASK_ROLES[Role.HEARING_ORG])
    party_liaison = _task(Role.PARTY_LIAISON, TASK_ROLES[Role.PARTY_LIAISON])
    executor = _task(Role.EXECUTOR, TASK_ROLES[Role.EXECUTOR])
    post_evaluator = _task(Role.POST_EVALUATOR, TASK_ROLES[Role.POST_EVALUATOR])
    archivist = _task(Role.ARCHIVIST, TASK_ROLES[Role.ARCHIVIST])

    end = flow.End().Annotation(title="结束")

    def start_process(self, activation, decision):
        activation.process.decision = decision
        activation.process.save()
        return activation.process

    def on_change(self, activation):
        activation.task.data = {**(activation.task.data or {}), "seen_at": timezone.now().isoformat()}
        activation.task.save(update_fields=["data"])

    def is_finished(self, activation):
        return activation.process.decision.state in routing.FINISHED


def open_tasks(process):
    """The process's open human tasks (one per role with work)."""
    return process.task_set.filter(flow_task_type="HUMAN", finished__isnull=True).exclude(status=STATUS.CANCELED)


__all__ = ["TASK_ROLES", "DecisionFlow", "describe", "node_name", "open_tasks"]
