"""Send a range of audit events to the syslog collector again (JUECE_AUDIT_SYSLOG), e.g. after it was down."""

from django.core.management.base import BaseCommand, CommandError

from decisions import audit, audit_syslog
from decisions.models import AuditEvent


class Command(BaseCommand):
    help = "重新发送审计事件到 syslog 收集器 / Send audit events from seq SINCE to the syslog collector again."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=int, required=True, help="从该 seq 起 / first seq to send")
        parser.add_argument("--until", type=int, help="到该 seq 止（默认最后一个）/ last seq to send")

    def handle(self, *args, since, until=None, **options):
        if not audit_syslog.enabled():
            raise CommandError("JUECE_AUDIT_SYSLOG 未设置 / JUECE_AUDIT_SYSLOG is not set", returncode=1)
        events = AuditEvent.objects.filter(seq__gte=since).order_by("seq")
        if until is not None:
            events = events.filter(seq__lte=until)
        sent, failed = audit_syslog.send_now(audit.event_record(event) for event in events.iterator(chunk_size=2000))
        if failed:
            raise CommandError(
                f"已发送 {sent} 个事件，{len(failed)} 个未能发送（第一个 seq {failed[0]}）。"
                f" Sent {sent}, {len(failed)} not sent (first seq {failed[0]}).",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"已发送 {sent} 个审计事件。 Sent {sent} audit events."))
