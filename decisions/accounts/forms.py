"""The password change form with the policy's rules spelled out beside the new password."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _


class PolicyPasswordChangeForm(PasswordChangeForm):
    """修改口令: the old password, then the new one twice; the new one goes through AUTH_PASSWORD_VALIDATORS."""

    old_password = forms.CharField(
        label=_("原口令"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label=_("新口令"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html,
    )
    new_password2 = forms.CharField(
        label=_("再次输入新口令"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": _("原口令不正确，请重新输入。"),
        "password_mismatch": _("两次输入的新口令不一致。"),
    }
