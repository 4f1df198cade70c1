"""The admin site of 三员分立: every model registered with it, from any app, answers to `admin_roles.may`.

Listed in INSTALLED_APPS in place of "django.contrib.admin" (`SeparatedAdminConfig`), so `admin.site` is a
`JueceAdminSite`: its `register` puts `SeparatedDuties` in front of each ModelAdmin, so third-party admins
(django-axes, DRF tokens, viewflow …) follow the same matrix as ours, superusers included. This module is
imported while the app registry loads: it imports no models at the top.
"""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models.signals import post_migrate
from django.shortcuts import redirect
from django.urls import reverse


def _roles():
    from decisions.accounts import admin_roles

    return admin_roles


class SeparatedDuties:
    """A ModelAdmin's permissions narrowed by the administrator's role (and still by the admin's own rules)."""

    def _may(self, request, action):
        return _roles().may(request.user, self.model, action)

    def has_module_permission(self, request):
        return _roles().may_see(request.user, self.model) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, "view") and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return self._may(request, "add") and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self._may(request, "change") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, "delete") and super().has_delete_permission(request, obj)


class JueceAdminSite(admin.AdminSite):
    """Only the three administrators enter; a signed-in business user gets 403, not the sign-in page again."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SeparatedDuties):
            admin_class = type(
                admin_class.__name__,
                (SeparatedDuties, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request):
        return super().has_permission(request) and _roles().admin_role_of(request.user) is not None

    def admin_view(self, view, cacheable=False):
        guarded = super().admin_view(view, cacheable)

        def refuse_other_users(request, *args, **kwargs):
            user = request.user
            signing_out = request.path == reverse("admin:logout", current_app=self.name)
            if user.is_authenticated and user.is_active and not signing_out and not self.has_permission(request):
                raise PermissionDenied
            return guarded(request, *args, **kwargs)

        return update_wrapper(refuse_other_users, guarded)

    def password_change(self, request, extra_context=None):
        # The policy's own page: complexity, history, and the change counted as the holder's (身份鉴别).
        return redirect("password_change")


def sync_admin_groups(sender, using="default", **kwargs):
    """After every migrate (and flush): the three groups exist with exactly their permissions (admin_roles)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    tables = set(connections[using].introspection.table_names())
    if not {"auth_group", "auth_permission", "django_content_type"} <= tables:
        return
    # Permissions are otherwise made app by app after this signal's first receiver: make them all now.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    _roles().sync_group_permissions(using=using)


class SeparatedAdminConfig(AdminConfig):
    default_site = "decisions.accounts.admin_site.JueceAdminSite"

    def ready(self):
        super().ready()
        post_migrate.connect(sync_admin_groups, sender=self, dispatch_uid="juece_sync_admin_groups")
