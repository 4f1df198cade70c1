"""The Django admin, for looking: the record is changed only through decisions/services (B10).

Organisations and role assignments are reference data the administrators maintain here; every procedural
record is read-only. Who sees and does what is 三员分立 (decisions/accounts/admin_roles.py, applied to every
registered model by decisions/accounts/admin_site.py): the system administrator looks at the record and keeps
organisations, the security administrator assigns roles, the audit administrator alone reads the audit log.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path

from decisions import models
from decisions.accounts import admin_roles, audit_export


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
    """审计日志: the audit administrator reads and exports it; nobody adds, changes or deletes an event.

    Opening the add or delete page, or sending the change page or a bulk action, is refused with 403 and
    the attempt is itself an event (security:audit_tamper_refused), whoever makes it.
    """

    list_display = ("seq", "at", "actor_label", "role", "action", "object_type", "object_id", "algorithm")
    list_filter = ("action", "role", "algorithm")
    search_fields = ("action", "object_id", "actor_label")

    def get_actions(self, request):
        return {}  # not even Django's "delete selected"

    def _refuse(self, request, object_id=None):
        admin_roles.refuse_audit_tamper(request, interface="admin", object_id=object_id or "")
        raise PermissionDenied

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" or object_id is None:
            self._refuse(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._refuse(request, object_id)

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST":
            self._refuse(request)
        extra_context = {
            **(extra_context or {}),
            "may_export": admin_roles.may(request.user, self.model, admin_roles.EXPORT),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        export = path(
            "export/", self.admin_site.admin_view(audit_export.export_view), name="decisions_auditevent_export"
        )
        return [export, *super().get_urls()]


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


class RoleAssignmentForm(forms.ModelForm):
    """A business role: refused to anyone holding an administrator role (三员分立), checked before saving."""

    juece_actor = None  # the security administrator, set per request by RoleAssignmentAdmin.get_form

    class Meta:
        model = models.RoleAssignment
        fields = ("user", "role", "organisation")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("user") is not None:
            admin_roles.check_business_role(self.juece_actor, cleaned["user"])
        if self.instance.pk and self.instance.user_id != getattr(cleaned.get("user"), "pk", None):
            admin_roles.check_business_role(self.juece_actor, self.instance.user)
        return cleaned


@admin.register(models.RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    """角色分配 (B1), by the security administrator: each grant and revocation is a security event."""

    form = RoleAssignmentForm
    list_display = ("user", "role", "organisation")
    list_filter = ("role",)
    search_fields = ("user__username", "organisation__name")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"juece_actor": request.user})

    def save_model(self, request, obj, form, change):
        admin_roles.save_assignment(request.user, obj, request=request, interface="admin")

    def delete_model(self, request, obj):
        admin_roles.revoke_role(request.user, obj, request=request, interface="admin")

    def delete_queryset(self, request, queryset):
        for assignment in queryset.select_related("user", "organisation"):
            admin_roles.revoke_role(request.user, assignment, request=request, interface="admin")


@admin.register(models.WorkingCalendarYear)
class WorkingCalendarYearAdmin(ReadOnlyAdmin):
    list_display = ("year", "notice", "loaded_at")
