"""Purge the archived security events past the retention period (审计日志清理; run it daily from cron after audit_archive)."""

from django.core.management.base import BaseCommand, CommandError

from decisions import audit_retention


class Command(BaseCommand):
    help = (
        "清理超过保存期限（JUECE_AUDIT_RETENTION_DAYS）且已导出归档的安全审计事件 / "
        "Purge the security audit events past the retention period that an archive holds."
    )

    def handle(self, *args, **options):
        try:
            result = audit_retention.purge(None)
        except audit_retention.AuditRetentionRefused as refused:
            if refused.code == "AUDIT_PURGE_RETENTION_NOT_REACHED":  # a normal day for cron
                self.stdout.write(f"{refused.message_zh} / {refused.message_en}")
                return
            raise CommandError(str(refused), returncode=1) from refused
        archives = "、".join(f"#{archive.pk}" for archive in result.archives)
        self.stdout.write(
            self.style.SUCCESS(
                f"已清理 {result.count} 个已归档的审计事件（seq {result.first_seq}–{result.last_seq} 范围内，"
                f"{len(result.anchors)} 段，归档 {archives}）。"
                f" Purged {result.count} archived events (seq {result.first_seq}–{result.last_seq})."
            )
        )
