"""导出审计日志: the audit administrator downloads the events of a time range with their MACs (三员分立).

JSON lines (one event a line) or CSV. Each event carries what its MAC covers (`decisions.audit.event_content`)
and the previous event's MAC, so whoever holds the audit key can check every line offline: the MAC of a line
is the MAC of f"{prev_mac}|{canonical(content)}". The export is itself a security event
(`security:audit_export`: range, format, how many events, first and last seq), recorded before the file is
sent; the file holds exactly the events that existed then.
"""

import csv
import io
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Min
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from decisions import audit
from decisions.accounts import admin_roles
from decisions.models import AuditEvent

AUDIT_EXPORT = "security:audit_export"
JSON_LINES = "jsonl"
CSV = "csv"
CONTENT_TYPES = {JSON_LINES: "application/x-ndjson; charset=utf-8", CSV: "text/csv; charset=utf-8"}
COLUMNS = (
    "seq",
    "at",
    "actor",
    "actor_label",
    "role",
    "action",
    "object_type",
    "object_id",
    "decision",
    "payload",
    "algorithm",
    "prev_mac",
    "mac",
)
CHUNK = 2000


def _json_lines(events):
    for event in events.iterator(chunk_size=CHUNK):
        yield audit.canonical(audit.event_record(event)) + "\n"


def _csv(events):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for event in events.iterator(chunk_size=CHUNK):
        row = audit.event_record(event)
        row["payload"] = audit.canonical(row["payload"])
        writer.writerow(["" if row[column] is None else row[column] for column in COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export(actor, *, since, until, fmt=JSON_LINES, request=None):
    """The events with since ≤ at < until, as (filename, content type, chunks of text); audited first.

    Only the audit administrator may (PermissionDenied otherwise).
    """
    if actor is None or not admin_roles.may(actor, AuditEvent, admin_roles.EXPORT):
        raise PermissionDenied(_("只有审计管理员可以导出审计日志。"))
    if fmt not in CONTENT_TYPES:
        raise ValueError(f"unknown audit export format: {fmt}")
    with transaction.atomic():
        events = AuditEvent.objects.filter(at__gte=since, at__lt=until)
        facts = events.aggregate(count=Count("pk"), first_seq=Min("seq"), last_seq=Max("seq"))
        admin_roles.security_event(
            AUDIT_EXPORT,
            actor=actor,
            request=request,
            object_type=AuditEvent._meta.label,
            interface="admin",
            since=since.isoformat(),
            until=until.isoformat(),
            format=fmt,
            **facts,
        )
    # The events of the range that existed when the export was recorded, not the export's own event.
    events = events.filter(seq__lte=facts["last_seq"] or 0).order_by("seq")
    local_since, local_until = timezone.localtime(since), timezone.localtime(until)
    filename = f"audit-log-{local_since:%Y%m%d%H%M}-{local_until:%Y%m%d%H%M}.{fmt}"
    chunks = _json_lines(events) if fmt == JSON_LINES else _csv(events)
    return filename, CONTENT_TYPES[fmt], chunks


class ExportForm(forms.Form):
    since = forms.DateField(label=gettext_lazy("起始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("截止日期（含当日）"), widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(
        label=gettext_lazy("格式"),
        choices=[(JSON_LINES, gettext_lazy("JSON Lines（每行一个事件）")), (CSV, "CSV")],
        initial=JSON_LINES,
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return cleaned

    def time_range(self):
        """[start of the first day, start of the day after the last) in the local time zone."""
        zone = timezone.get_current_timezone()
        since = timezone.make_aware(datetime.combine(self.cleaned_data["since"], time.min), zone)
        until = timezone.make_aware(datetime.combine(self.cleaned_data["until"] + timedelta(days=1), time.min), zone)
        return since, until


def export_view(request):
    """The admin page of the export (admin:decisions_auditevent_export): a range and a format, then the file."""
    if not admin_roles.may(request.user, AuditEvent, admin_roles.EXPORT):
        raise PermissionDenied
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        since, until = form.time_range()
        filename, content_type, chunks = export(
            request.user, since=since, until=until, fmt=form.cleaned_data["format"], request=request
        )
        response = StreamingHttpResponse(chunks, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    context = {
        **admin.site.each_context(request),
        "title": _("导出审计日志"),
        "opts": AuditEvent._meta,
        "form": form,
    }
    return TemplateResponse(request, "admin/decisions/auditevent/export.html", context)
