"""Send the task reminders and escalations that are due (workflows/timers.py); schedule it, e.g. hourly."""

from django.core.management.base import BaseCommand

from workflows import timers


class Command(BaseCommand):
    help = "发送到期提醒和逾期督办(可重复运行，不会重复发送) / Send due task reminders and escalations (idempotent)."

    def handle(self, *args, **options):
        sent = timers.run()
        labels = {timers.REMIND: "到期提醒", timers.HEAD: "逾期督办(单位负责人)", timers.OFFICE: "逾期督办(政府办公室)"}
        for notice in sent:
            self.stdout.write(f"任务 #{notice.task_id}：{labels[notice.kind]} → {len(notice.recipients)} 人")
        self.stdout.write(f"{len(sent)} 条提醒/督办。 {len(sent)} notices sent.")
