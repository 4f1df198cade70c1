"""Accounts in the admin under 三员分立 (decisions/accounts/admin_roles.py says who may do what).

Sections: accounts and groups (auth's User re-registered), password states, lockouts (django-axes),
external identities, API tokens (DRF), second factors (django-otp, django-otp-webauthn), unit heads (workflows).
Other account models add their own section below. Every change made here goes through admin_roles' functions,
which audit it with the administrator as actor. The admins of other apps replaced here are imported first, so
their own registration is done (and undone here) whatever the order of INSTALLED_APPS.
"""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnCredential
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from decisions.accounts import admin_roles, external
from decisions.accounts.models import ExternalIdentity, PasswordState
from decisions.admin import ReadOnlyAdmin, RoleAssignmentForm
from workflows.admin import UnitHeadAdmin
from workflows.models import UnitHead

User = get_user_model()


# -- accounts and groups ---------------------------------------------------------------------------------


class SeparatedUserChangeForm(UserChangeForm):
    """The account form: a change of groups is checked against 三员分立 before anything is saved."""

    juece_actor = None  # the administrator, set per request by SeparatedUserAdmin.get_form

    def clean_groups(self):
        groups = self.cleaned_data["groups"]
        roles = {group.name for group in groups} & set(admin_roles.ADMIN_ROLES)
        if set(self.instance.groups.values_list("name", flat=True)) != {group.name for group in groups}:
            admin_roles.check_admin_roles(self.juece_actor, self.instance, roles)
        return groups


class SeparatedUserAdmin(auth_admin.UserAdmin):
    """账号: the system administrator creates, edits and deactivates accounts and resets passwords;
    the security administrator changes only their groups (the administrator roles)."""

    form = SeparatedUserChangeForm
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff", "administrator_role")

    @admin.display(description=gettext_lazy("管理员角色"))
    def administrator_role(self, obj):
        held = admin_roles.roles_held(obj)
        return "、".join(str(admin_roles.LABELS[role]) for role in admin_roles.ADMIN_ROLES if role in held)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        editable = admin_roles.editable_user_fields(request.user) | {"password"}  # the hash is shown, never edited
        return [name for name in flatten_fieldsets(self.get_fieldsets(request, obj)) if name not in editable]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"juece_actor": request.user})

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and admin_roles.manages_account(request.user, obj)

    def save_model(self, request, obj, form, change):
        before = admin_roles.watched_fields(User.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        if change:
            admin_roles.account_changed(request.user, obj, before, request=request, interface="admin")
        else:
            admin_roles.account_created(request.user, obj, request=request, interface="admin")

    def save_related(self, request, form, formsets, change):
        if "groups" in form.cleaned_data:
            # Through the service (checked and audited); Django's own save below then finds them set.
            admin_roles.set_groups(
                request.user, form.instance, form.cleaned_data["groups"], request=request, interface="admin"
            )
        super().save_related(request, form, formsets, change)

    def user_change_password(self, request, id, form_url=""):
        """重置口令: the system administrator sets it; the holder must change it at the next login (policy.py)."""
        if not admin_roles.may(request.user, User, admin_roles.RESET_PASSWORD):
            raise PermissionDenied
        account = self.get_object(request, unquote(id))
        if account is not None and account.pk == request.user.pk:
            messages.info(request, _("修改自己的口令请使用“修改口令”页面。"))
            return redirect("password_change")
        with transaction.atomic():
            before = account.password if account is not None else None
            response = super().user_change_password(request, id, form_url)
            if account is not None:
                account.refresh_from_db(fields=["password"])
                if account.password != before:
                    admin_roles.password_reset(request.user, account, request=request, interface="admin")
        return response


admin.site.unregister(User)
admin.site.register(User, SeparatedUserAdmin)


# -- password states -------------------------------------------------------------------------------------


@admin.register(PasswordState)
class PasswordStateAdmin(ReadOnlyAdmin):
    """口令状态, for the security administrator: whose password is due for a change, and whose was set by someone else."""

    list_display = ("user", "changed_at", "set_by_owner", "must_change")
    list_filter = ("must_change", "set_by_owner")
    search_fields = ("user__username",)


# -- lockouts (django-axes) ------------------------------------------------------------------------------


class AuditedAccessAttemptAdmin(AccessAttemptAdmin):
    """登录失败记录: deleting one unlocks its account or address, and the unlocking is a security event."""

    def delete_model(self, request, obj):
        with transaction.atomic():
            admin_roles.lockout_cleared(request.user, [obj], request=request)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            admin_roles.lockout_cleared(request.user, list(queryset), request=request)
            super().delete_queryset(request, queryset)


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AuditedAccessAttemptAdmin)


# -- external identities (外部身份) ----------------------------------------------------------------------


class ExternalIdentityForm(forms.ModelForm):
    provider = forms.ChoiceField(label=gettext_lazy("身份提供方"))

    class Meta:
        model = ExternalIdentity
        fields = ("provider", "subject", "user")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(name, name) for name in external.provider_names()]


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    """外部身份: the system administrator links a platform's account to a juece user; linking and unlinking are audited."""

    form = ExternalIdentityForm
    list_display = ("provider", "subject", "user", "created_at", "last_login_at")
    list_filter = ("provider",)
    search_fields = ("subject", "user__username")
    readonly_fields = ("created_at", "last_login_at")

    def save_model(self, request, obj, form, change):
        if change and {"provider", "subject"} & set(form.changed_data):
            external.unlink(ExternalIdentity.objects.get(pk=obj.pk), actor=request.user, request=request)
        linked = external.link(obj.provider, obj.subject, obj.user, actor=request.user, request=request)
        obj.pk = linked.pk

    def delete_model(self, request, obj):
        external.unlink(obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset):
        for identity in queryset.select_related("user"):
            external.unlink(identity, actor=request.user, request=request)


def _replace(model, admin_class):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, admin_class)


# -- API tokens (DRF) ------------------------------------------------------------------------------------


class AuditedTokenAdmin(TokenAdmin):
    """API 令牌, by the system administrator: issuing and deleting one are security events (the key is never recorded)."""

    def save_model(self, request, obj, form, change):
        admin_roles.issue_token(request.user, obj, request=request, interface="admin")

    def delete_model(self, request, obj):
        admin_roles.revoke_token(request.user, obj, request=request, interface="admin")

    def delete_queryset(self, request, queryset):  # DRF's admin has no actions; kept for any that is added
        for token in queryset.select_related("user"):
            admin_roles.revoke_token(request.user, token, request=request, interface="admin")


_replace(TokenProxy, AuditedTokenAdmin)


# -- second factors --------------------------------------------------------------------------------------


class SecondFactorRemovalAudited:
    """Removing a lost device (双因素认证), by the security administrator, recorded as the holder's removal is."""

    def delete_model(self, request, obj):
        admin_roles.remove_second_factor(request.user, obj, request=request, interface="admin")

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            admin_roles.remove_second_factor(request.user, device, request=request, interface="admin")


class AuditedTOTPDeviceAdmin(SecondFactorRemovalAudited, TOTPDeviceAdmin):
    pass


class AuditedWebAuthnCredentialAdmin(SecondFactorRemovalAudited, WebAuthnCredentialAdmin):
    pass


_replace(TOTPDevice, AuditedTOTPDeviceAdmin)
_replace(WebAuthnCredential, AuditedWebAuthnCredentialAdmin)  # the package defines it without registering it


# -- unit heads (单位负责人) -------------------------------------------------------------------------------


class UnitHeadForm(RoleAssignmentForm):
    """A unit head is a business role: refused to an administrator (三员分立) on the form, before anything is saved."""

    class Meta:
        model = UnitHead
        fields = ("organisation", "user")


class AuditedUnitHeadAdmin(UnitHeadAdmin):
    """单位负责人, by the security administrator: making and removing one are ROLE_GRANTED / ROLE_REVOKED events."""

    form = UnitHeadForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"juece_actor": request.user})

    def save_model(self, request, obj, form, change):
        admin_roles.save_unit_head(request.user, obj, request=request, interface="admin")

    def delete_model(self, request, obj):
        admin_roles.remove_unit_head(request.user, obj, request=request, interface="admin")

    def delete_queryset(self, request, queryset):
        for head in queryset.select_related("user", "organisation"):
            admin_roles.remove_unit_head(request.user, head, request=request, interface="admin")


_replace(UnitHead, AuditedUnitHeadAdmin)
