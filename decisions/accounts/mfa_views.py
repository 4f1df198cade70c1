"""双因素认证 pages: verify a second factor, enrol one (TOTP with a QR code, or a WebAuthn key), list and remove them.

Thin views over `decisions.accounts.mfa`; the WebAuthn ceremonies are django-otp-webauthn's views (py_webauthn
verifies attestation and assertion signatures on the server), with our events and session flag hooked in.
"""

import json
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.utils import rewrite_exceptions

from decisions.accounts import mfa


def _safe_next(request, default):
    candidate = request.POST.get("next") or request.GET.get("next")
    allowed = {request.get_host()}
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed, require_https=request.is_secure()):
        return candidate
    return resolve_url(default)


def _with_next(name, next_url):
    return f"{reverse(name)}?{urlencode({'next': next_url})}" if next_url else reverse(name)


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        attrs = {"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        super().__init__(label=gettext_lazy("动态验证码"), max_length=10, widget=forms.TextInput(attrs=attrs), **kwargs)


class TOTPVerifyForm(forms.Form):
    device = forms.ChoiceField(label=gettext_lazy("验证器"), required=False)
    code = CodeField()

    def __init__(self, devices, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.devices = {device.persistent_id: device for device in devices}
        self.fields["device"].choices = [(pid, device.name) for pid, device in self.devices.items()]
        if len(self.devices) <= 1:
            self.fields["device"].widget = forms.HiddenInput()

    def chosen_device(self):
        return self.devices.get(self.cleaned_data.get("device")) or next(iter(self.devices.values()))


class TOTPEnrolForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("设备名称"), max_length=64, required=False)
    code = CodeField()


def _refusal(device):
    wait = mfa.throttled_for(device)
    if wait:
        return _("验证码错误次数过多，请 %(seconds)d 秒后再试。") % {"seconds": wait}
    return _("验证码不正确或已使用过，请输入验证器上的新验证码。")


@never_cache
@login_required
def verify(request):
    """验证第二因素: a code from a TOTP app, or a WebAuthn key; then on to the page first asked for."""
    next_url = _safe_next(request, settings.LOGIN_REDIRECT_URL)
    step = mfa.pending(request)
    if step is None:
        return redirect(next_url)
    if step == mfa.ENROL:
        return redirect(_with_next("mfa_enrol", request.POST.get("next") or request.GET.get("next")))
    totp_devices = mfa.totp_devices(request.user)
    form = TOTPVerifyForm(totp_devices, request.POST or None) if totp_devices else None
    if request.method == "POST" and form is not None and form.is_valid():
        device = form.chosen_device()
        if mfa.verify_totp(request, device, form.cleaned_data["code"]):
            return redirect(next_url)
        form.add_error("code", _refusal(device))
    has_key = WebAuthnCredential.objects.filter(user=request.user, confirmed=True).exists()
    context = {"form": form, "has_key": has_key, "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "registration/mfa_verify.html", context)


@never_cache
@login_required
def enrol(request):
    """添加第二因素: a TOTP app (secret and QR code, confirmed with a code) or a WebAuthn key."""
    raw_next = request.POST.get("next") or request.GET.get("next", "")
    if not mfa.may_enrol(request):
        return redirect(_with_next("mfa_verify", raw_next))
    device = mfa.totp_being_enrolled(request.user)
    form = TOTPEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.confirm_totp(request, device, form.cleaned_data["code"], form.cleaned_data["name"]):
            messages.success(request, _("身份验证器已绑定。"))
            return redirect(_safe_next(request, "mfa_devices"))
        form.add_error("code", _refusal(device))
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    context = {
        "form": form,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=5, title=_("身份验证器二维码")),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "next": raw_next,
        "done_url": _safe_next(request, "mfa_devices"),
        "required": mfa.required() and not mfa.has_device(request.user),
    }
    return render(request, "registration/mfa_enrol.html", context)


@never_cache
@login_required
def devices(request):
    """我的第二因素: the user's confirmed devices, each removable (not the last one while REQUIRE_MFA is on)."""
    rows = [
        {"device": device, "method": mfa.method_of(device), "persistent_id": device.persistent_id}
        for device in mfa.confirmed_devices(request.user)
    ]
    context = {"rows": rows, "required": mfa.required(), "method": request.session.get(mfa.SESSION_KEY)}
    return render(request, "registration/mfa_devices.html", context)


@require_POST
@login_required
def remove(request):
    device = mfa.device_of(request.user, request.POST.get("device", ""))
    if device is None:
        raise Http404
    try:
        mfa.remove_device(request, device)
    except mfa.LastDeviceRequired:
        messages.error(request, _("本系统要求双因素认证，不能删除最后一个认证设备；请先添加另一个。"))
    else:
        messages.success(request, _("认证设备已删除。"))
    return redirect("mfa_devices")


# -- WebAuthn: django-otp-webauthn's ceremonies with our rules, events and session flag -------------------------------


class _MayEnrol:
    def _check_user_verified(self, user):
        # Ours instead of the library's user.is_verified(): an external provider's check counts as verified too.
        if not mfa.may_enrol(self.request):
            raise webauthn_errors.NotVerified(detail=self.messages["user_not_verified"])


class RegistrationBegin(_MayEnrol, webauthn_views.BeginCredentialRegistrationView):
    pass


class RegistrationComplete(_MayEnrol, webauthn_views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        state = self.get_state()
        try:
            with rewrite_exceptions(logger=webauthn_views._get_pywebauthn_logger()):
                credential = self.get_helper().register_complete(
                    user=self.get_user(), state=state, data=self.request.data
                )
        except webauthn_errors.OTPWebAuthnApiError as error:
            mfa.webauthn_enrol_failed(self.request, error.code)
            raise
        mfa.webauthn_enrolled(self.request, credential)
        return webauthn_views.JsonResponse({"id": credential.pk})


class AuthenticationBegin(webauthn_views.BeginCredentialAuthenticationView):
    pass


class AuthenticationComplete(webauthn_views.CompleteCredentialAuthenticationView):
    def post(self, *args, **kwargs):
        try:
            return super().post(*args, **kwargs)
        except webauthn_errors.OTPWebAuthnApiError as error:
            mfa.webauthn_verify_failed(self.request, error.code)
            raise

    def complete_auth(self, device):
        # A second factor only: the password already signed the user in (passwordless login is switched off).
        if not self.request.user.is_authenticated:
            raise webauthn_errors.NotAuthenticated()
        mfa.webauthn_verified(self.request, device)


# The messages of django-otp-webauthn's browser script, in the page's language (the package has no Chinese).
WEBAUTHN_SCRIPT_MESSAGES = {
    "Register a Passkey": gettext_lazy("注册安全密钥"),
    "Registering...": gettext_lazy("正在注册…"),
    "Finishing registration...": gettext_lazy("正在完成注册…"),
    "Registration successful!": gettext_lazy("注册成功。"),
    "Registration aborted.": gettext_lazy("注册已中止。"),
    "Registration aborted or not allowed.": gettext_lazy("注册已取消或未被允许。"),
    "Registration failed. A server error occurred.": gettext_lazy("注册失败：服务器出错。"),
    "Registration failed. A technical problem occurred that prevents you from registering a Passkey for this site.": (
        gettext_lazy("注册失败：技术问题导致无法为本站注册安全密钥。")
    ),
    "Registration failed. An unknown error occurred.": gettext_lazy("注册失败：未知错误。"),
    "Registration failed. The server was unable to verify this passkey.": gettext_lazy(
        "注册失败：服务器无法验证该安全密钥。"
    ),
    "Registration failed. Unable to fetch registration options from server.": gettext_lazy(
        "注册失败：无法从服务器获取注册参数。"
    ),
    "Registration failed. You most likely already have a Passkey registered for this site.": gettext_lazy(
        "注册失败：该密钥可能已在本站注册。"
    ),
    "An error occurred during registration.": gettext_lazy("注册时出错。"),
    "Verify with Passkey": gettext_lazy("使用安全密钥验证"),
    "Verifying...": gettext_lazy("正在验证…"),
    "Finishing verification...": gettext_lazy("正在完成验证…"),
    "Verification successful!": gettext_lazy("验证成功。"),
    "Verification aborted.": gettext_lazy("验证已中止。"),
    "Verification canceled or not allowed.": gettext_lazy("验证已取消或未被允许。"),
    "Verification failed. A server error occurred.": gettext_lazy("验证失败：服务器出错。"),
    "Verification failed. An unknown error occurred.": gettext_lazy("验证失败：未知错误。"),
    "Verification failed. An unknown server error occurred.": gettext_lazy("验证失败：服务器出现未知错误。"),
    "Verification failed. Could not retrieve parameters from the server.": gettext_lazy(
        "验证失败：无法从服务器获取验证参数。"
    ),
    "An error occurred during verification.": gettext_lazy("验证时出错。"),
}


def webauthn_script_messages(request):
    """The `gettext` the WebAuthn script calls, answering from the table above (in place of its JavaScriptCatalog)."""
    catalogue = json.dumps({key: str(text) for key, text in WEBAUTHN_SCRIPT_MESSAGES.items()}, ensure_ascii=False)
    body = (
        f"(function () {{ var catalogue = {catalogue};\n"
        "  window.gettext = function (message) {\n"
        "    return Object.prototype.hasOwnProperty.call(catalogue, message) ? catalogue[message] : message;\n"
        "  };\n})();\n"
    )
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")


# Mounted under the namespace the package's template tags reverse ("otp_webauthn:…").
webauthn_urlpatterns = [
    path("registration/begin/", RegistrationBegin.as_view(), name="credential-registration-begin"),
    path("registration/complete/", RegistrationComplete.as_view(), name="credential-registration-complete"),
    path("authentication/begin/", AuthenticationBegin.as_view(), name="credential-authentication-begin"),
    path("authentication/complete/", AuthenticationComplete.as_view(), name="credential-authentication-complete"),
    path("jsi18n/", webauthn_script_messages, name="js-i18n-catalog"),
]
