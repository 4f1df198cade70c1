"""Gates on every request of a signed-in browser session: the idle timeout, a password change that is due, then a
pending second factor."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from decisions.accounts import mfa, policy

LAST_ACTIVITY = "juece_last_activity"


def _is_api(request):
    return request.path.startswith("/api/")


def _always_open(request):
    """Paths a session may reach whatever its password's state: signing out, the change itself, the public pages."""
    exempt = [reverse("logout"), reverse("login"), reverse("password_change"), reverse("password_change_done")]
    path = request.path
    return (
        path in exempt
        or path.startswith("/public/")
        or path.startswith("/static/")
        or path.startswith("/i18n/")
        or path.startswith(f"/{_static_prefix()}")
    )


def _static_prefix():
    from django.conf import settings

    return settings.STATIC_URL.lstrip("/")


class IdleSessionTimeoutMiddleware:
    """会话超时: a session unused for JUECE_SESSION_IDLE_MINUTES is signed out at its next request, with a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = policy.idle_limit()
        user = getattr(request, "user", None)
        if limit is not None and user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            last = request.session.get(LAST_ACTIVITY)
            if last is not None and now - last >= limit.total_seconds():
                request.juece_logout_reason = "idle"
                logout(request)
                messages.info(
                    request,
                    _("您已超过 %(minutes)d 分钟未操作，已自动退出登录，请重新登录。")
                    % {"minutes": int(limit.total_seconds() // 60)},
                )
                if not _is_api(request) and not _always_open(request):
                    return redirect_to_login(request.get_full_path())
            else:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """口令到期 / 首次登录: while a change is due, a browser session reaches only the change page (and signing out).

    API clients that sign in with a token are not stopped here: a token is a credential of its own, issued and
    revoked by an administrator (README, "Login policy"). An API request on such a browser session gets
    403 PASSWORD_CHANGE_REQUIRED.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not _always_open(request):
            reason = policy.change_required(user)
            if reason is not None:
                return self._refuse(request, reason)
        return self.get_response(request)

    @staticmethod
    def _text(reason):
        if reason == policy.EXPIRED:
            return _("您的口令已超过 %(days)d 天未修改，请先修改口令。") % {"days": policy.max_age().days}
        return _("首次登录或口令由管理员设置，请先修改口令。")

    def _refuse(self, request, reason):
        text = self._text(reason)
        if _is_api(request):
            with translation.override("zh-hans"):
                zh = self._text(reason)
            with translation.override("en"):
                en = self._text(reason)
            body = {"code": "PASSWORD_CHANGE_REQUIRED", "article": "", "message": {"zh": zh, "en": en}}
            return JsonResponse({**body, "detail": reason, "failures": [body]}, status=403)
        messages.warning(request, text)
        return redirect("password_change")


class MFARequiredMiddleware:
    """双因素认证: a signed-in browser session whose second factor is pending reaches only verifying or enrolling it.

    Pending means: the user has a confirmed device, or JUECE_REQUIRE_MFA is on, and the session has not passed a
    second factor (`decisions.accounts.mfa`). Signing out, the password change and `/public/` stay open. As for the
    password gate, API clients signing in with a token are not stopped here; an API request on such a session gets
    403 MFA_REQUIRED.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        open_path = _always_open(request) or request.path in mfa.paths_open_before_verification()
        if user is not None and user.is_authenticated and not open_path:
            step = mfa.pending(request)
            if step is not None:
                return self._refuse(request, step)
        return self.get_response(request)

    @staticmethod
    def _text(step):
        if step == mfa.ENROL:
            return _("本系统要求双因素认证，请先绑定身份验证器或安全密钥。")
        return _("请先完成第二因素验证（动态验证码或安全密钥）。")

    def _refuse(self, request, step):
        if _is_api(request):
            with translation.override("zh-hans"):
                zh = self._text(step)
            with translation.override("en"):
                en = self._text(step)
            body = {"code": "MFA_REQUIRED", "article": "", "message": {"zh": zh, "en": en}}
            return JsonResponse({**body, "detail": step, "failures": [body]}, status=403)
        target = reverse("mfa_enrol" if step == mfa.ENROL else "mfa_verify")
        if request.method == "GET":
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        return redirect(target)
