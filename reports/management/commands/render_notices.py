"""Render the queued catalogue publication notices (目录公布通知) now, or show where they stand."""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import AnnualCatalogue
from reports import publication
from reports.models import CatalogueNotice
from reports.progress import Progress


class Command(BaseCommand):
    help = (
        "生成排队中的目录公布通知；--catalogue 只处理该目录；--all-versions 为每个已公布版本补生成通知。"
        " Render queued catalogue notices."
    )

    def add_arguments(self, parser):
        parser.add_argument("--catalogue", type=int, metavar="ID", help="目录 ID (catalogue id)")
        parser.add_argument("--status", action="store_true", help="只显示状态 (only show where the notices stand)")
        parser.add_argument("--retry-failed", action="store_true", help="重新排队生成失败的通知")
        parser.add_argument(
            "--all-versions",
            action="store_true",
            help="为每个已公布版本生成尚缺的通知（在通知功能之前公布的目录） (render missing notices of every version)",
        )

    def handle(self, *args, catalogue=None, status=False, retry_failed=False, all_versions=False, **options):
        target = _catalogue(catalogue) if catalogue else None
        recovered = publication.recover_stalled()
        if recovered:
            self.stderr.write(f"重新排队中断的通知 {len(recovered)} 份 (requeued {len(recovered)} interrupted renders)")
        if retry_failed:
            self.stdout.write(f"重新排队失败的通知 {publication.retry_failed(target)} 份")
        if status:
            return self._status(target)
        progress = Progress(self.stderr)
        done = publication.render_pending(target, progress=progress)
        progress.close()
        if all_versions:
            done += self._missing(target)
        failed = [n for n in done if n.status != CatalogueNotice.Status.DONE]
        self.stdout.write(
            f"已生成 {len(done) - len(failed)} 份目录公布通知 (rendered {len(done) - len(failed)} notices)"
        )
        for notice in failed:
            self.stderr.write(f"{notice}: {notice.error.splitlines()[-1] if notice.error else ''}")
        if failed:
            raise CommandError(f"{len(failed)} 份通知未生成 ({len(failed)} notices not rendered)")
        return None

    def _missing(self, target):
        catalogues = AnnualCatalogue.objects.filter(version__gte=1).select_related("organ").order_by("pk")
        if target is not None:
            catalogues = catalogues.filter(pk=target.pk)
        rendered = []
        for catalogue in catalogues:
            have = set(
                CatalogueNotice.objects.filter(catalogue=catalogue, status=CatalogueNotice.Status.DONE).values_list(
                    "version", flat=True
                )
            )
            for version in range(1, catalogue.version + 1):
                if version not in have:
                    rendered.append(publication.ensure_notice(catalogue, version))
        return rendered

    def _status(self, target):
        rows = CatalogueNotice.objects.select_related("catalogue").order_by("catalogue_id", "version")
        if target is not None:
            rows = rows.filter(catalogue=target)
        for notice in rows:
            tail = notice.sha256 or (notice.error.splitlines()[-1] if notice.error else "")
            self.stdout.write(f"{notice}\t{notice.pages or '-'} 页\t{tail}")


def _catalogue(pk):
    try:
        return AnnualCatalogue.objects.get(pk=pk)
    except AnnualCatalogue.DoesNotExist:
        raise CommandError(f"没有目录 {pk} (no such catalogue)") from None
