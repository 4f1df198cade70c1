"""Bring every open decision's tasks up to date (workflows.sync): after an upgrade, or to repair a failed routing."""

from django.core.management.base import BaseCommand

from decisions.models import Decision
from workflows import routing, sync


class Command(BaseCommand):
    help = "按各决策事项当前状态重新分派待办任务 / Re-route the tasks of every decision that is not finished."

    def handle(self, *args, **options):
        count = 0
        for decision_id in Decision.objects.exclude(state__in=routing.FINISHED).values_list("pk", flat=True):
            sync.sync(decision_id)
            count += 1
        self.stdout.write(f"{count} 个决策事项的任务已更新。 Tasks of {count} decisions brought up to date.")
