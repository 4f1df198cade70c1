"""双因素认证 (等保 2.0 三级 身份鉴别: 两种以上鉴别技术, 其中一种为密码技术): TOTP and WebAuthn as second factors.

The devices are django-otp's (`TOTPDevice`) and django-otp-webauthn's (`WebAuthnCredential`, verified server-side
by py_webauthn). A session counts as verified once `request.session["juece_mfa"]` names how: "totp", "webauthn",
or an external provider's check ("oidc:…", set by the external-login adapters through `mark_verified`).

Who must verify: a signed-in user with a confirmed device, always; with JUECE_REQUIRE_MFA, every signed-in user,
who first enrols a device. `MFARequiredMiddleware` (middleware.py) holds the session until then. Pages and the
WebAuthn endpoints call the functions below; each records its security event (never a secret or a code).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from decisions.accounts.signals import record

SESSION_KEY = "juece_mfa"
TOTP = "totp"
WEBAUTHN = "webauthn"

VERIFY = "verify"  # the user has a device: prove it
ENROL = "enrol"  # REQUIRE_MFA and no device yet: register one

MFA_VERIFY = "security:mfa_verify"
MFA_ENROL = "security:mfa_enrol"
MFA_REMOVE = "security:mfa_remove"

# Names recorded on a device when the user gives none: data, so in the source language (Chinese).
DEFAULT_TOTP_NAME = "身份验证器"
DEFAULT_WEBAUTHN_NAME = "安全密钥"


class LastDeviceRequired(Exception):
    """Refusal: with REQUIRE_MFA on, a user's last second factor cannot be removed."""


def required():
    """Return True when this deployment requires a second factor of every user (JUECE_REQUIRE_MFA)."""
    return settings.JUECE_REQUIRE_MFA


def is_verified(request):
    """Return True when this session passed a second factor (ours, or an external provider's strong check)."""
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(SESSION_KEY))


def mark_verified(request, method, device=None):
    """Record in the session that its user passed the second factor `method`; a new session key marks the step up."""
    if device is not None:
        otp_login(request, device)  # django-otp's own record of the device (request.user.otp_device)
    request.session.cycle_key()
    request.session[SESSION_KEY] = method


def confirmed_devices(user):
    """Every confirmed second-factor device of `user`, TOTP and WebAuthn alike."""
    return list(devices_for_user(user, confirmed=True))


def has_device(user):
    return bool(confirmed_devices(user))


def pending(request):
    """What the session must do before anything else: VERIFY, ENROL, or None (nothing, or already verified)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or is_verified(request):
        return None
    if not hasattr(request, "_juece_mfa_pending"):
        if has_device(user):
            request._juece_mfa_pending = VERIFY
        else:
            request._juece_mfa_pending = ENROL if required() else None
    return request._juece_mfa_pending


def may_enrol(request):
    """A new device may be added by a user who has none yet, or by a verified session (never to get round one)."""
    return request.user.is_authenticated and (is_verified(request) or not has_device(request.user))


def method_of(device):
    return WEBAUTHN if isinstance(device, WebAuthnCredential) else TOTP


def paths_open_before_verification():
    """The pages a session reaches while its second factor is pending: verifying, enrolling, the WebAuthn calls."""
    names = [
        "mfa_verify",
        "mfa_enrol",
        "otp_webauthn:credential-registration-begin",
        "otp_webauthn:credential-registration-complete",
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        "otp_webauthn:js-i18n-catalog",
    ]
    return {reverse(name) for name in names}


def _record(action, request, *, result="success", **details):
    user = request.user
    return record(action, request=request, user=user, actor=user, result=result, **details)


# -- TOTP (RFC 6238) --------------------------------------------------------------------------------------------


def totp_devices(user):
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk"))


def totp_being_enrolled(user):
    """The unconfirmed TOTP device the user is setting up: the same one across reloads, so a scanned code stays valid."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEFAULT_TOTP_NAME, confirmed=False)
    return device


def throttled_for(device):
    """Seconds the device still refuses codes after failures (django-otp's throttling), or 0."""
    allowed, details = device.verify_is_allowed()
    if allowed or not details:
        return 0
    locked_until = details.get("locked_until")
    return max(1, int((locked_until - timezone.now()).total_seconds())) if locked_until else 1


def verify_totp(request, device, token):
    """Check a code of one of the user's TOTP devices; mark the session verified. Wrong, replayed or throttled: False.

    django-otp refuses a code of a time step already used (`last_t`), counts every failure toward its throttle and
    locks the device row while it checks, so two requests cannot both use one code.
    """
    token = (token or "").strip().replace(" ", "")
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=request.user, confirmed=True).first()
        throttled = device is not None and throttled_for(device)
        verified = device is not None and not throttled and device.verify_token(token)
    if not verified:
        _record(MFA_VERIFY, request, result="failure", method=TOTP, reason="throttled" if throttled else "wrong_code")
        return False
    mark_verified(request, TOTP, device)
    _record(MFA_VERIFY, request, method=TOTP, device=device.persistent_id)
    return True


def confirm_totp(request, device, token, name=""):
    """Confirm a TOTP device being enrolled with a code from it; the session counts as verified by it."""
    token = (token or "").strip().replace(" ", "")
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=request.user, confirmed=False).first()
        throttled = device is not None and throttled_for(device)
        confirmed = device is not None and not throttled and device.verify_token(token)
        if confirmed:
            device.confirmed = True
            device.name = (name or "").strip()[:64] or DEFAULT_TOTP_NAME
            device.save(update_fields=["confirmed", "name"])
    if not confirmed:
        _record(MFA_ENROL, request, result="failure", method=TOTP, reason="throttled" if throttled else "wrong_code")
        return False
    _record(MFA_ENROL, request, method=TOTP, device=device.persistent_id)
    if not is_verified(request):
        mark_verified(request, TOTP, device)
    return True


# -- WebAuthn (django-otp-webauthn's ceremonies; mfa_views.py hooks them here) -------------------------------------


def webauthn_enrolled(request, credential):
    """A new WebAuthn credential was verified and stored: name it, record it, count the session as verified."""
    if not credential.name:
        credential.name = DEFAULT_WEBAUTHN_NAME
        credential.save(update_fields=["name"])
    _record(MFA_ENROL, request, method=WEBAUTHN, device=credential.persistent_id)
    if not is_verified(request):
        mark_verified(request, WEBAUTHN, credential)


def webauthn_enrol_failed(request, code):
    _record(MFA_ENROL, request, result="failure", method=WEBAUTHN, reason=code)


def webauthn_verified(request, credential):
    mark_verified(request, WEBAUTHN, credential)
    _record(MFA_VERIFY, request, method=WEBAUTHN, device=credential.persistent_id)


def webauthn_verify_failed(request, code):
    _record(MFA_VERIFY, request, result="failure", method=WEBAUTHN, reason=code)


# -- the user's own devices -------------------------------------------------------------------------------------


def device_of(user, persistent_id):
    """The confirmed device `persistent_id` if it is `user`'s, else None."""
    for device in confirmed_devices(user):
        if device.persistent_id == persistent_id:
            return device
    return None


def remove_device(request, device):
    """Remove one of the user's devices; the last one stays while REQUIRE_MFA is on (LastDeviceRequired)."""
    persistent_id = device.persistent_id
    with transaction.atomic():
        # The user's row locked: two removals at once cannot each leave "one other" device.
        get_user_model().objects.select_for_update().filter(pk=request.user.pk).first()
        refused = required() and len(confirmed_devices(request.user)) <= 1
        if not refused:
            device.delete()
            _record(MFA_REMOVE, request, method=method_of(device), device=persistent_id)
    if refused:
        _record(MFA_REMOVE, request, result="failure", method=method_of(device), reason="last_device")
        raise LastDeviceRequired
