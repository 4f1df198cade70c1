"""Security events (安全审计) in the same MAC-chained audit trail as the procedure's events.

Each event carries its time (the event's own), user (actor, or the username tried), address,
event type (the action), object (the account) and result. Never a password.
"""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from decisions import audit
from decisions.accounts.policy import client_address

LOGIN = "security:login"
LOGOUT = "security:logout"
LOGIN_FAILED = "security:login_failed"
LOCKOUT = "security:lockout"
PASSWORD_CHANGE = "security:password_change"


def record(action, *, request, user=None, result="success", username=None, actor=None, **details):
    """Append one security event on the account `user`; its actor is `actor`, else `user` when the act succeeded."""
    payload = {"address": client_address(request), "result": result, **details}
    if username is not None:
        payload["username"] = username
    with transaction.atomic():
        return audit.append(
            actor=actor or (user if result == "success" else None),
            role="",
            action=action,
            object_type="auth.User" if user is not None else "",
            object_id=str(user.pk) if user is not None else "",
            payload=payload,
        )


def _account(username):
    if not username:
        return None
    User = get_user_model()
    return User.objects.filter(**{User.USERNAME_FIELD: username}).first()


@receiver(user_logged_in, dispatch_uid="juece_security_login")
def login_recorded(sender, request, user, **kwargs):
    # How, when not by password: an external sign-in sets request.juece_login_details (method, provider).
    record(LOGIN, request=request, user=user, **getattr(request, "juece_login_details", {}))


@receiver(user_logged_out, dispatch_uid="juece_security_logout")
def logout_recorded(sender, request, user, **kwargs):
    reason = getattr(request, "juece_logout_reason", None) if request is not None else None
    record(LOGOUT, request=request, user=user, **({"reason": reason} if reason else {}))


@receiver(user_login_failed, dispatch_uid="juece_security_login_failed")
def failed_login_recorded(sender, credentials, request=None, **kwargs):
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or ""
    locked = bool(getattr(request, "axes_locked_out", False))
    record(
        LOGIN_FAILED,
        request=request,
        user=_account(username),
        result="failure",
        username=username,
        **({"locked": True} if locked else {}),
    )


@receiver(user_locked_out, dispatch_uid="juece_security_lockout")
def lockout_recorded(sender, request, username, ip_address, **kwargs):
    record(LOCKOUT, request=request, user=_account(username), result="failure", username=username or "")
