"""Dossiers and exports in the admin, for looking: they change only through reports/dossiers.py and exports.py."""

from django.contrib import admin

from decisions.admin import ReadOnlyAdmin
from reports.models import BundleExport, Dossier


@admin.register(Dossier)
class DossierAdmin(ReadOnlyAdmin):
    list_display = ("decision", "kind", "stage_record", "version", "status", "pages", "attempts", "sha256")
    list_filter = ("status", "kind")
    search_fields = ("decision__reference", "sha256")


@admin.register(BundleExport)
class BundleExportAdmin(ReadOnlyAdmin):
    list_display = ("subject", "requested_by", "requested_at", "status", "done", "total", "sha256")
    list_filter = ("status",)
