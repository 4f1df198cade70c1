"""Reminders before a task's deadline and escalation after it: assignee → head of the unit → government office.

`run(today)` looks at every open task with a deadline and does what is due and not yet done for that
deadline; what was done is written into the task (its `data`) and the decision's audit chain, so a run
after a restart, or a second run the same day, repeats nothing. Schedule `manage.py run_timers` (cron,
systemd timer) as often as you like; the demo runs it hourly.

* `JUECE_REMIND_DAYS` (3) days before the deadline: the assignee, or everyone who may claim the task;
* the day after the deadline: the head(s) of the unit (UnitHead), or the unit's holders if none is named;
* `JUECE_ESCALATE_DAYS` (3) days later: the government office of the decision organ.
Each notice goes by e-mail (Django's mail backend: the console by default) and shows in the inbox.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from decisions import audit
from decisions.models import Role, RoleAssignment
from workflows import services
from workflows.flows import DecisionFlow
from workflows.models import DecisionProcess, UnitHead

REMIND, HEAD, OFFICE = "remind", "head", "office"


@dataclass(frozen=True)
class Notice:
    task_id: int
    kind: str
    recipients: tuple


def _office_of(decision):
    ids = RoleAssignment.objects.filter(role=Role.GOV_OFFICE, organisation=decision.organ).values_list(
        "user", flat=True
    )
    return get_user_model().objects.filter(pk__in=ids, is_active=True)


def _recipients(task, decision, kind):
    if kind == REMIND:
        return [task.owner] if task.owner_id else list(services.holders(task))
    if kind == HEAD:
        heads = [h.user for h in UnitHead.objects.filter(organisation=(task.data or {}).get("anchor"))]
        return heads or list(services.holders(task))
    return list(_office_of(decision))


def _message(task, decision, kind, due):
    title = task.flow_task.task_title
    data = task.data or {}
    what = {REMIND: "即将到期", HEAD: "已逾期，请督办", OFFICE: "逾期未办，报政府办公室督办"}[kind]
    subject = f"【juece】{decision.reference} {title}{what}"
    body = (
        f"决策事项：{decision.reference} {decision.title}\n"
        f"任务：{title}（{data.get('anchor_name', '')}）\n"
        f"需要办理：{data.get('label', '')}\n"
        f"期限：{due:%Y年%m月%d日}（{data.get('basis', '')}）\n"
        f"办理：{settings.JUECE_SITE_URL}{reverse('workflows:task', args=[task.pk])}\n"
    )
    return subject, body


def _due_steps(today, due):
    steps = []
    if today >= due - timedelta(days=settings.JUECE_REMIND_DAYS):
        steps.append(REMIND)
    if today > due:
        steps.append(HEAD)
    if today > due + timedelta(days=settings.JUECE_ESCALATE_DAYS):
        steps.append(OFFICE)
    return steps


def run(today=None):
    """Send the reminders and escalations due by `today` (Asia/Shanghai); return the Notices sent."""
    today = today or timezone.localdate()
    sent = []
    open_tasks = Task.objects.filter(
        process__flow_class=DecisionFlow, flow_task_type="HUMAN", finished__isnull=True
    ).exclude(status=STATUS.CANCELED)
    for task_id in open_tasks.values_list("pk", flat=True):
        sent += _run_task(task_id, today)
    return sent


def _run_task(task_id, today):
    sent = []
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related("owner").get(pk=task_id)
        data = dict(task.data or {})
        if task.finished is not None or not data.get("due"):
            return sent
        due = date.fromisoformat(data["due"])
        already = list(data.get("notified", {}).get(data["due"], []))  # per deadline: a moved one starts afresh
        done = list(already)
        decision = DecisionProcess.objects.select_related("decision").get(pk=task.process_id).decision
        for kind in _due_steps(today, due):
            if kind in done:
                continue
            people = [p for p in _recipients(task, decision, kind) if p is not None]
            subject, body = _message(task, decision, kind, due)
            addresses = sorted({p.email for p in people if p.email})
            if addresses:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
            done.append(kind)
            audit.append(
                actor=None,
                role="SYSTEM",
                action=f"task:{kind}",
                object_type="viewflow.Task",
                object_id=str(task.pk),
                decision=decision,
                payload={"task": task.pk, "due": data["due"], "to": sorted(p.pk for p in people)},
            )
            sent.append(Notice(task.pk, kind, tuple(sorted(p.pk for p in people))))
        if done != already:
            data.setdefault("notified", {})[data["due"]] = done
            data["escalation"] = 2 if OFFICE in done else 1 if HEAD in done else 0
            task.data = data
            task.save(update_fields=["data"])
    return sent


__all__ = ["HEAD", "OFFICE", "REMIND", "Notice", "run"]
