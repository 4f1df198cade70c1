"""Sign-in and the password change page: Django's own views, with the policy's steps added."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from decisions.accounts import policy
from decisions.accounts.forms import PolicyPasswordChangeForm
from decisions.accounts.signals import PASSWORD_CHANGE, record


class LoginView(auth_views.LoginView):
    """登录: a password someone else set is marked for change before the session starts (the middleware enforces it)."""

    def form_valid(self, form):
        policy.on_password_login(form.get_user())
        return super().form_valid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """修改口令: the holder's own choice, which clears a due change and restarts the password's age."""

    form_class = PolicyPasswordChangeForm
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        policy.mark_set_by_owner(form.user)
        with transaction.atomic():
            response = super().form_valid(form)
            record(PASSWORD_CHANGE, request=self.request, user=form.user)
        messages.success(self.request, _("口令已修改。"))
        return response

    def form_invalid(self, form):
        # Which rules the attempt broke, by code: never the password itself.
        codes = sorted({error.code or "invalid" for errors in form.errors.as_data().values() for error in errors})
        record(
            PASSWORD_CHANGE,
            request=self.request,
            user=self.request.user,
            actor=self.request.user,
            result="failure",
            reasons=codes,
        )
        return super().form_invalid(form)


def lockout_response(request, original_response=None, credentials=None):
    """The page django-axes shows while an account or an address is locked (AXES_LOCKOUT_CALLABLE)."""
    context = {"failure_limit": settings.JUECE_LOGIN_FAILURE_LIMIT, "lockout_minutes": settings.JUECE_LOCKOUT_MINUTES}
    return render(request, "registration/locked_out.html", context, status=429)
