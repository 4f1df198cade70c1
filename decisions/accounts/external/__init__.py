"""外部登录: sign-in through a province's platform, which does the 国密 identity check (等保 2.0 三级 身份鉴别).

Two adapters share one small interface (`Provider`): OpenID Connect (`oidc.py`, authorization code with PKCE,
state and nonce, the ID token checked against the provider's JWKS) and the 浙政钉 code flow (`zzd.py`). Each is
configured by settings (`JUECE_OIDC_…`, `JUECE_ZZD_…`); a provider without its settings is not offered at all.

An adapter only proves who the person is at the platform (`ExternalAccount`: the platform's name for the
provider, its subject). Which juece user that is comes from `ExternalIdentity` rows, which an administrator makes
(the admin, `manage.py link_external_identity`): a government system assigns accounts, so an identity nobody
linked is refused and audited, never given an account of its own. A deployment may let the first sign-in link
itself when a claim of the platform equals the juece username (`JUECE_OIDC_MATCH_CLAIM`, `JUECE_ZZD_MATCH_FIELD`).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from decisions.accounts import mfa
from decisions.accounts.models import ExternalIdentity
from decisions.accounts.signals import record

EXTERNAL_LOGIN_FAILED = "security:external_login_failed"
IDENTITY_LINKED = "security:external_identity_linked"
IDENTITY_UNLINKED = "security:external_identity_unlinked"

# Why an external sign-in was refused: recorded in the audit event (never a token or a code).
BAD_STATE = "bad_state"
PROVIDER_UNAVAILABLE = "provider_unavailable"
PROVIDER_ERROR = "provider_error"
BAD_RESPONSE = "bad_response"
BAD_ISSUER = "bad_issuer"
BAD_SIGNATURE = "bad_token_signature"
BAD_AUDIENCE = "bad_audience"
BAD_NONCE = "bad_nonce"
TOKEN_EXPIRED = "token_expired"
INVALID_TOKEN = "invalid_token"
UNKNOWN_IDENTITY = "unknown_identity"
INACTIVE_USER = "inactive_user"


@dataclass(frozen=True)
class ExternalAccount:
    """Who the platform says signed in: its stable identifier (`subject`) and what else it told (no tokens)."""

    subject: str
    claims: dict = field(default_factory=dict)


class ExternalLoginRefused(Exception):
    """An external sign-in that must not go on: `reason` for the audit trail, `message` for the person."""

    def __init__(self, reason, message, *, status=403, detail=""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.message = message
        self.status = status
        self.detail = detail


class Provider(ABC):
    """One external login. Subclasses set `name` (URL and `ExternalIdentity.provider`) and implement the two steps."""

    name = ""

    def __init__(self, *, label, trusted_for_mfa, match_claim="", timeout=10):
        self.label = label
        self.trusted_for_mfa = trusted_for_mfa
        self.match_claim = match_claim
        self.timeout = timeout

    @abstractmethod
    def authorization_url(self, request, redirect_uri):
        """Remember in the session what the callback must see again (state, nonce, PKCE), and return where to go."""

    @abstractmethod
    def complete(self, request, redirect_uri):
        """Check the platform's answer at the callback and return the `ExternalAccount`, or raise ExternalLoginRefused."""

    # Refusals shared by the adapters, in the person's words.
    def refused_unavailable(self, detail=""):
        return ExternalLoginRefused(
            PROVIDER_UNAVAILABLE,
            _("暂时无法连接%(provider)s，请稍后重试，或使用用户名和密码登录。") % {"provider": self.label},
            status=502,
            detail=detail,
        )

    def refused_state(self, detail=""):
        return ExternalLoginRefused(
            BAD_STATE,
            _("登录请求已失效或不是从本系统发起的，请返回登录页重新登录。"),
            status=400,
            detail=detail,
        )

    def refused_answer(self, reason, detail=""):
        return ExternalLoginRefused(
            reason,
            _("%(provider)s返回的身份凭证未通过校验，已拒绝登录。") % {"provider": self.label},
            status=403,
            detail=detail,
        )

    def refused_by_provider(self, detail=""):
        return ExternalLoginRefused(
            PROVIDER_ERROR,
            _("%(provider)s未完成登录（%(error)s），请重试。") % {"provider": self.label, "error": detail or "-"},
            status=403,
            detail=detail,
        )


def provider_names():
    """Every adapter's name, configured or not: what an administrator may link an identity at."""
    from decisions.accounts.external import oidc, zzd

    return (oidc.OpenIDConnectProvider.name, zzd.ZhengDingProvider.name)


def configured_providers():
    """The providers this deployment configured, in the order of the login page's buttons (read at each call)."""
    from decisions.accounts.external import oidc, zzd

    return [provider for provider in (oidc.from_settings(), zzd.from_settings()) if provider is not None]


def provider_named(name):
    return next((provider for provider in configured_providers() if provider.name == name), None)


# -- the mapping: external identity → juece user ------------------------------------------------------------


def user_for(provider, account, *, request=None):
    """The juece user linked to `account` at `provider`, or refuse (unknown identity, inactive account).

    With the provider's match claim set, an unlinked identity whose claim equals an active user's username is
    linked now (and the link audited); otherwise nobody is created or guessed.
    """
    identity = (
        ExternalIdentity.objects.select_related("user").filter(provider=provider.name, subject=account.subject).first()
    )
    if identity is None and provider.match_claim:
        identity = _link_by_claim(provider, account, request)
    if identity is None:
        raise ExternalLoginRefused(
            UNKNOWN_IDENTITY,
            _("您的%(provider)s账号尚未关联本系统用户，请联系系统管理员开通。") % {"provider": provider.label},
            detail=account.subject,
        )
    if not identity.user.is_active:
        raise ExternalLoginRefused(
            INACTIVE_USER, _("关联的本系统账号已停用，请联系系统管理员。"), detail=account.subject
        )
    return identity.user


def _link_by_claim(provider, account, request):
    username = account.claims.get(provider.match_claim)
    if not isinstance(username, str) or not username:
        return None
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}, is_active=True).first()
    if user is None:
        return None
    return link(
        provider.name, account.subject, user, actor=user, request=request, method="claim", claim=provider.match_claim
    )


def link(provider_name, subject, user, *, actor, request=None, method="admin", **details):
    """Link `subject` at `provider_name` to `user` (or move an existing link to them), and audit it.

    `actor` is who linked: an administrator, the user at a sign-in matched by claim, or a command's label.
    """
    with transaction.atomic():
        identity, created = ExternalIdentity.objects.select_for_update().get_or_create(
            provider=provider_name, subject=subject, defaults={"user": user}
        )
        previous = None
        if not created and identity.user_id != user.pk:
            previous = identity.user
            identity.user = user
            identity.save(update_fields=["user"])
        if created or previous is not None:
            extra = {"previous_user": previous.get_username()} if previous is not None else {}
            record(
                IDENTITY_LINKED,
                request=request,
                user=user,
                actor=actor,
                provider=provider_name,
                subject=subject,
                method=method,
                **extra,
                **details,
            )
    return identity


def unlink(identity, *, actor, request=None, method="admin"):
    """Remove the link `identity`, and audit it."""
    with transaction.atomic():
        record(
            IDENTITY_UNLINKED,
            request=request,
            user=identity.user,
            actor=actor,
            provider=identity.provider,
            subject=identity.subject,
            method=method,
        )
        identity.delete()


def signed_in(provider, account, request):
    """After `login()`: when the identity last signed in, and the platform's strong check if it is trusted for it."""
    ExternalIdentity.objects.filter(provider=provider.name, subject=account.subject).update(
        last_login_at=timezone.now()
    )
    if provider.trusted_for_mfa:
        mfa.mark_verified(request, f"oidc:{provider.name}")


def record_refusal(provider_name, refusal, request):
    """Audit a refused external sign-in: provider, reason and what failed (a claim's name, an error code, a subject)."""
    details = {"provider": provider_name, "reason": refusal.reason}
    if refusal.detail:
        details["detail"] = str(refusal.detail)[:200]
    record(EXTERNAL_LOGIN_FAILED, request=request, result="failure", **details)


def mfa_trusted(provider_setting):
    """Whether a provider's sign-in counts as the second factor: its own setting, else JUECE_EXTERNAL_LOGIN_MFA."""
    value = getattr(settings, provider_setting, None)
    return settings.JUECE_EXTERNAL_LOGIN_MFA if value is None else bool(value)
