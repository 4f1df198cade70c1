"""Keep a decision's tasks in step with the decision, after anything changed it.

Called after every committed service call (`decisions.signals.decision_changed`). It starts the
decision's process if it has none, closes each open task whose part of the work is done or changed
(done by whoever did it, wherever), refreshes the deadline of the others, and lets the flow route
again: new tasks for roles that now have work, or the end of the process once the decision is finished.
"""

import logging

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.status import STATUS

from decisions.models import Decision
from workflows import routing
from workflows.flows import DecisionFlow, describe, open_tasks
from workflows.models import DecisionProcess

logger = logging.getLogger(__name__)


def _finish(task, reason):
    """Close a task whose work is done (or moved on): viewflow's DONE, with why in its data."""
    task.status = STATUS.DONE
    task.finished = timezone.now()
    task.data = {**(task.data or {}), "closed": reason}
    task.save(update_fields=["status", "finished", "data"])


def sync(decision_id):
    """Bring the tasks of one decision up to date; return its process."""
    with transaction.atomic():
        decision = Decision.objects.select_related("organ", "lead_unit", "executor").get(pk=decision_id)
        process = DecisionProcess.objects.filter(decision=decision).first()
        if process is None:
            return DecisionFlow.start.run(decision=decision)
        if process.finished is not None:
            return process
        with DecisionFlow.lock(process.pk):
            work = routing.work_for(decision)
            for task in open_tasks(process):
                role = (task.data or {}).get("role")
                current = work.get(role)
                if current is None:
                    _finish(task, "done")
                elif current.label != task.data.get("label") or current.anchor_id != task.data.get("anchor"):
                    _finish(task, "moved on")
                else:
                    describe(task, current)  # the deadline may have moved (a new meeting date, a report filed)
                    task.save(update_fields=["data"])
            watch = process.task_set.filter(flow_task=DecisionFlow.watch, finished__isnull=True).first()
        if watch is not None:
            DecisionFlow.watch.run(watch)
        return process


def on_decision_changed(sender, decision_id, **kwargs):
    """Receiver of decision_changed: the step is committed; a routing failure is logged (`sync_tasks` repairs it)."""
    try:
        sync(decision_id)
    except Exception:
        logger.exception("routing the tasks of decision %s failed; run manage.py sync_tasks", decision_id)


__all__ = ["on_decision_changed", "sync"]
