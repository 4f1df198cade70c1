"""The catalogue's system step at year end (procedure.md B9, P21): run it daily, e.g. from cron.

After 24:00 on 31 December (Asia/Shanghai) of a catalogue's year, every open adjustment lapses to
REJECTED, and a catalogue whose year-end report is published closes (at year end or when the report
is published, whichever is later). Running it again changes nothing.
"""

from django.core.management.base import BaseCommand

from catalog import lifecycle, services
from catalog.models import CatalogueAdjustment


class Command(BaseCommand):
    help = (
        "年终处理：12月31日24时后未办结的目录调整自动作废，已公布年度完成情况的目录关闭（每日运行）/ "
        "Year end: lapse open adjustments and close reported catalogues whose year is over (run daily)."
    )

    def handle(self, *args, **options):
        open_before = {
            adjustment.pk: adjustment
            for adjustment in CatalogueAdjustment.objects.filter(state__in=lifecycle.OPEN_ADJUSTMENT).select_related(
                "catalogue__organ"
            )
        }
        closed = services.close_if_due()
        lapsed = CatalogueAdjustment.objects.filter(pk__in=open_before, state=lifecycle.REJECTED).order_by("id")
        for adjustment in lapsed:
            catalogue = adjustment.catalogue
            self.stdout.write(
                f"目录调整作废 lapsed: {catalogue.title} · {adjustment.get_kind_display()} · {adjustment.reason[:40]}"
                f"（{catalogue.year}年12月31日24时年度截止）"
            )
        for catalogue in closed:
            self.stdout.write(f"目录关闭 closed: {catalogue.title}")
        self.stdout.write(
            f"{len(lapsed)} 项调整作废，{len(closed)} 个目录关闭。 {len(lapsed)} lapsed, {len(closed)} closed."
        )
