"""The password and session policy (身份鉴别): complexity, history, expiry, first-login change, idle timeout.

Each number is read from settings when it is used, so that a test (or an operator's override) applies at once.
"""

import string
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from decisions.accounts.models import PasswordHistory, PasswordState

# Why a signed-in user is sent to the password change page, if any.
MUST_CHANGE = "must_change"
EXPIRED = "expired"


def min_length():
    return settings.JUECE_PASSWORD_MIN_LENGTH


def history_depth():
    return settings.JUECE_PASSWORD_HISTORY


def max_age():
    """How long a password lasts; None when expiry is switched off (0 days)."""
    days = settings.JUECE_PASSWORD_MAX_AGE_DAYS
    return timedelta(days=days) if days > 0 else None


def idle_limit():
    """How long a session may sit unused; None when the timeout is switched off (0 minutes)."""
    minutes = settings.JUECE_SESSION_IDLE_MINUTES
    return timedelta(minutes=minutes) if minutes > 0 else None


def request_address(request):
    """The client's address. Behind the TLS proxy (JUECE_BEHIND_PROXY) it is the address that proxy appended to
    X-Forwarded-For, the last one: the entries before it are whatever the client claimed. Otherwise REMOTE_ADDR.

    django-axes counts failed logins by it (AXES_CLIENT_IP_CALLABLE) and the public forms' rate limits too; taking the
    proxy's own address instead would let five wrong passwords from anyone lock everyone out."""
    if settings.JUECE_BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR") or None


def client_address(request):
    """The address a request came from: the one django-axes counts failures by, so audit and lockout agree."""
    if request is None:
        return None
    return getattr(request, "axes_ip_address", None) or request_address(request)


class PasswordComplexityValidator:
    """口令复杂度: at least JUECE_PASSWORD_MIN_LENGTH characters, with upper and lower case letters, a digit and a symbol."""

    KINDS = (
        ("upper", lambda c: c in string.ascii_uppercase),
        ("lower", lambda c: c in string.ascii_lowercase),
        ("digit", lambda c: c.isdigit()),
        ("symbol", lambda c: not c.isalnum() and not c.isspace()),
    )

    @staticmethod
    def kind_names():
        return {"upper": _("大写字母"), "lower": _("小写字母"), "digit": _("数字"), "symbol": _("特殊符号")}

    def validate(self, password, user=None):
        errors = []
        if len(password) < min_length():
            errors.append(
                ValidationError(_("口令至少需要 %(min)d 个字符。") % {"min": min_length()}, code="password_too_short")
            )
        names = self.kind_names()
        missing = [names[kind] for kind, present in self.KINDS if not any(present(c) for c in password)]
        if missing:
            errors.append(
                ValidationError(
                    _("口令还缺少：%(missing)s。") % {"missing": "、".join(missing)}, code="password_missing_kinds"
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        return _("口令至少 %(min)d 个字符，须同时包含大写字母、小写字母、数字和特殊符号。") % {"min": min_length()}


class PasswordHistoryValidator:
    """历史口令: a new password may not repeat any of the last JUECE_PASSWORD_HISTORY ones (the current one included).

    Django calls `password_changed` after every save of a new password, whoever set it: this is where
    the history and the account's PasswordState are kept.
    """

    def validate(self, password, user=None):
        if user is None or not getattr(user, "pk", None) or history_depth() <= 0:
            return
        hashes = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[: history_depth()])
        if user.password and user.has_usable_password():
            hashes.append(user.password)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                _("不能使用最近 %(count)d 次用过的口令。") % {"count": history_depth()}, code="password_reused"
            )

    def password_changed(self, password, user=None):
        if user is None or not user.pk or not user.has_usable_password():
            return
        now = timezone.now()
        by_owner = getattr(user, "_password_set_by_owner", False)
        state, created = PasswordState.objects.get_or_create(user=user, defaults={"changed_at": now})
        state.changed_at = now
        state.set_by_owner = by_owner
        if by_owner:
            state.must_change = False
        state.save()
        remember(user, user.password, now)

    def get_help_text(self):
        return _("不能使用最近 %(count)d 次用过的口令。") % {"count": history_depth()}


def remember(user, encoded, at):
    """Keep `encoded` (a hash) among the user's last JUECE_PASSWORD_HISTORY passwords."""
    if history_depth() <= 0 or not encoded:
        return
    if not PasswordHistory.objects.filter(user=user, password=encoded).exists():
        PasswordHistory.objects.create(user=user, password=encoded, set_at=at)
    stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[history_depth() :]
    PasswordHistory.objects.filter(pk__in=list(stale)).delete()


def mark_set_by_owner(user):
    """Record that `user` chose the password about to be saved (the change page), so no further change is due.

    The password being replaced joins the history first: an account made with `create_user` never passed
    through Django's `password_changed`, so its initial password would otherwise be forgotten.
    """
    state = PasswordState.objects.filter(user=user).first()
    remember(user, user.password, state.changed_at if state else timezone.now())
    user._password_set_by_owner = True


def mark_as_changed(user):
    """Count `user`'s current password as chosen by them: for demo and test accounts that must not be stopped."""
    PasswordState.objects.update_or_create(
        user=user, defaults={"changed_at": timezone.now(), "set_by_owner": True, "must_change": False}
    )


def on_password_login(user):
    """At a login with a password: one somebody else set (a new account's, an administrator's reset) must be changed."""
    if not user.has_usable_password() or not settings.JUECE_PASSWORD_CHANGE_ON_FIRST_LOGIN:
        return
    state, _created = PasswordState.objects.get_or_create(user=user, defaults={"changed_at": timezone.now()})
    if not state.set_by_owner and not state.must_change:
        state.must_change = True
        state.save(update_fields=["must_change"])


def change_required(user):
    """Why `user` must change their password before anything else (MUST_CHANGE, EXPIRED), or None."""
    if not getattr(user, "is_authenticated", False) or not user.has_usable_password():
        return None
    state = PasswordState.objects.filter(user=user).first()
    if state is None:
        return None
    if state.must_change:
        return MUST_CHANGE
    age = max_age()
    if age is not None and timezone.now() - state.changed_at >= age:
        return EXPIRED
    return None
