"""Export the audit events not yet archived to an archive file and its manifest (审计归档; run it daily from cron)."""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from decisions import audit_retention


def parse_until(value: str) -> datetime:
    """Read `--until`: a date means up to the end of that day (local time); a date and time is taken as given."""
    try:
        day = parse_date(value)
        moment = datetime.combine(day, time.max) if day else parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--until 应为日期（2026-06-30）或日期时间 / --until must be a date or date-time: {value!r}")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "导出尚未归档的审计事件（JSON Lines 与清单，含 SHA-256/SM3 摘要）/ "
        "Export the audit events not yet archived (JSON lines and a manifest with SHA-256 and SM3)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--until", help="归档截至的日期或时间（默认现在）/ archive events up to this date or time")

    def handle(self, *args, until=None, **options):
        try:
            archive = audit_retention.export_archive(None, until=parse_until(until) if until else None)
        except audit_retention.AuditRetentionRefused as refused:
            if refused.code == "AUDIT_NOTHING_TO_ARCHIVE":  # a normal day for cron
                self.stdout.write(f"{refused.message_zh} / {refused.message_en}")
                return
            raise CommandError(str(refused), returncode=1) from refused
        self.stdout.write(
            self.style.SUCCESS(
                f"已归档审计事件 seq {archive.first_seq}–{archive.last_seq}（{archive.event_count} 个）："
                f"{archive.file.name}，清单 {archive.manifest.name}。"
                f" Archived seq {archive.first_seq}–{archive.last_seq} ({archive.event_count} events)."
            )
        )
        self.stdout.write(f"  SHA-256: {archive.sha256}\n  SM3: {archive.sm3}")
