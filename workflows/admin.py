from django.contrib import admin

from workflows.models import UnitHead


@admin.register(UnitHead)
class UnitHeadAdmin(admin.ModelAdmin):
    """Who heads each unit: overdue tasks are escalated to them (workflows/timers.py)."""

    list_display = ("organisation", "user")
    autocomplete_fields = ()
    list_select_related = ("organisation", "user")
