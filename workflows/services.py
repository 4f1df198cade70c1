"""Who holds a task: claim (认领), release (退回待认领), assign / reassign / delegate (指派、转办, with a reason).

Every change is one transaction that locks the process, checks that the people involved hold the task's
role at its organisation (the same permission viewflow's queue uses, workflows/backends.py), and appends
an audit event to the decision's chain, so that who did the work of a stage stays attributable.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from decisions import audit
from decisions.models import RoleAssignment
from decisions.permissions import anchors_of
from decisions.rules import refuse
from workflows.backends import work_permission
from workflows.flows import DecisionFlow


def holders(task):
    """Return the users who hold the task's role at its organisation (who may claim or receive it)."""
    data = task.data or {}
    role, anchor = data.get("role"), data.get("anchor")
    if not role:
        return get_user_model().objects.none()
    ids = {
        assignment.user_id
        for assignment in RoleAssignment.objects.filter(role=role).select_related("organisation")
        if anchor in anchors_of(assignment)
    }
    return get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username")


def may_hold(user, task):
    return bool(task.owner_permission) and user.has_perm(task.owner_permission)


def _locked(task):
    task = Task.objects.select_for_update(of=("self",)).select_related("process").get(pk=task.pk)
    if task.finished is not None or task.status in (STATUS.DONE, STATUS.CANCELED):
        refuse("TASK_CLOSED", "B10", "该任务已办结", "The task is closed")
    return task


def _log(actor, task, action, **payload):
    process = DecisionFlow.process_class.objects.get(pk=task.process_id)
    audit.append(
        actor=actor,
        role=(task.data or {}).get("role", ""),
        action=f"task:{action}",
        object_type="viewflow.Task",
        object_id=str(task.pk),
        decision=process.decision,
        payload={"task": task.pk, "title": str(task.flow_task.task_title), **payload},
    )


def _not_holder(user):
    refuse(
        "ROLE_NOT_PERMITTED",
        "B1",
        f"{user.get_full_name() or user.get_username()} 不在该任务的办理单位或不具有相应身份",
        "That person does not hold the task's role at its organisation",
    )


def claim(user, task):
    """Take an unassigned task for oneself (认领)."""
    with transaction.atomic():
        task = _locked(task)
        if task.owner_id is not None:
            refuse("TASK_ASSIGNED", "B10", "该任务已有办理人", "The task is already assigned")
        if not may_hold(user, task):
            _not_holder(user)
        task.owner, task.status, task.assigned = user, STATUS.ASSIGNED, timezone.now()
        task.save(update_fields=["owner", "status", "assigned"])
        _log(user, task, "claim")
        return task


def release(user, task):
    """Give one's task back to the unit's queue (退回待认领)."""
    with transaction.atomic():
        task = _locked(task)
        if task.owner_id != user.pk:
            refuse("TASK_NOT_YOURS", "B10", "只能退回本人的任务", "Only the task's holder can release it")
        task.owner, task.status = None, STATUS.NEW
        task.save(update_fields=["owner", "status"])
        _log(user, task, "release")
        return task


def delegate(user, task, to, *, reason):
    """Assign, reassign or delegate a task to another holder of its role at its organisation, with a reason."""
    if not str(reason or "").strip():
        refuse("REASON_REQUIRED", "B10", "指派或转办须说明理由", "A reason is required")
    with transaction.atomic():
        task = _locked(task)
        if not may_hold(user, task):
            _not_holder(user)
        if not to.has_perm(work_permission((task.data or {}).get("role", ""), (task.data or {}).get("anchor"))):
            _not_holder(to)
        previous = task.owner_id
        task.owner, task.status, task.assigned = to, STATUS.ASSIGNED, timezone.now()
        task.save(update_fields=["owner", "status", "assigned"])
        kind = "assign" if previous is None else "delegate"
        _log(user, task, kind, to=to.pk, to_label=str(to), previous=previous, reason=reason)
        return task


__all__ = ["claim", "delegate", "holders", "may_hold", "release"]
