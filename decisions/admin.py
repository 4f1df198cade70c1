"""The Django admin, for looking: the record is changed only through decisions/services (B10).

Organisations, role assignments and the calendar are reference data an administrator
maintains here; every procedural record is read-only.
"""

from django.contrib import admin

from decisions import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show a record without any way to add, change or delete it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StageRecordInline(admin.TabularInline):
    model = models.StageRecord
    fields = ("stage", "round", "status", "draft_version", "started_at", "completed_at", "reason_code", "frozen_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class DraftVersionInline(admin.TabularInline):
    model = models.DraftVersion
    fields = ("number", "change_summary", "created_at", "adopted_at_meeting", "substantive_change")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "organ", "state", "lead_unit", "profile", "created_at")
    list_filter = ("state", "organ", "profile")
    search_fields = ("reference", "title")
    inlines = [DraftVersionInline, StageRecordInline]


@admin.register(models.StageRecord)
class StageRecordAdmin(ReadOnlyAdmin):
    list_display = ("decision", "stage", "round", "status", "draft_version", "completed_at")
    list_filter = ("stage", "status")


@admin.register(models.Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("title", "doc_type", "decision", "stage_record", "sha256", "uploaded_by", "uploaded_at")
    list_filter = ("doc_type",)
    search_fields = ("title", "sha256")


@admin.register(models.SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ("decision", "subject", "user", "role", "at", "content_sha256")


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_label", "role", "action", "object_type", "object_id", "algorithm")
    list_filter = ("action", "role", "algorithm")
    search_fields = ("action", "object_id", "actor_label")


for model in (
    models.Waiver,
    models.CommentPeriod,
    models.Hearing,
    models.ExpertMember,
    models.RiskAssessment,
    models.LegalityReview,
    models.Meeting,
    models.AgendaItem,
    models.MeetingStatement,
    models.CollectiveOutcome,
    models.PartyReport,
    models.Publication,
    models.Suspension,
    models.DecisionAdjustment,
    models.StopDecision,
    models.PostEvaluation,
    models.ImplementationClosure,
    models.HandoverTask,
    models.RuleProfile,
):
    admin.site.register(model, ReadOnlyAdmin)


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "level", "parent", "profile_code", "legality_review_dept")
    list_filter = ("kind", "level")
    search_fields = ("name", "code")


@admin.register(models.RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organisation")
    list_filter = ("role",)
    search_fields = ("user__username", "organisation__name")


@admin.register(models.WorkingCalendarYear)
class WorkingCalendarYearAdmin(ReadOnlyAdmin):
    list_display = ("year", "notice", "loaded_at")
