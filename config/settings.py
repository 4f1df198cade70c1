"""Settings for juece, read from environment variables.

Every variable has a safe default for a laptop (SQLite, no broker); a bad value
fails at start-up with ImproperlyConfigured instead of being silently ignored.
"""

import os
from logging.handlers import SysLogHandler
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("JUECE_VAR_DIR", BASE_DIR / "var"))


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None


def env_list(name, default=()):
    value = os.environ.get(name)
    if value is None or value == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("JUECE_DEBUG", False)

SECRET_KEY = env_str("JUECE_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "JUECE_SECRET_KEY is not set. Set it (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), "
            "or set JUECE_DEBUG=true on a development machine."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"

# The audit chain's MAC key lives outside the database on purpose: whoever can
# edit rows must not be able to recompute the chain (第33条 records, 等保 2.0 audit integrity).
AUDIT_KEY = env_str("JUECE_AUDIT_KEY")
if not AUDIT_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("JUECE_AUDIT_KEY is not set: the audit chain cannot be keyed.")
    AUDIT_KEY = "insecure-development-audit-key"
if len(AUDIT_KEY) < 16:
    raise ImproperlyConfigured("JUECE_AUDIT_KEY must be at least 16 characters long.")

ALLOWED_HOSTS = env_list("JUECE_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "decisions.accounts.admin_site.SeparatedAdminConfig",  # django.contrib.admin under 三员分立 (admin_roles.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",  # Content-Security-Policy (checks for outdated settings)
    "viewflow",
    "viewflow.workflow",
    "django_tasks",
    "django_tasks_db",
    "axes",  # lockout after failed logins (decisions/accounts, 等保 身份鉴别)
    "decisions",
    "decisions.accounts",  # password policy, idle timeout and security events
    # Second factors (decisions/accounts/mfa.py): django-otp's TOTP devices and WebAuthn credentials as its devices
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "catalog",
    "workflows",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Collected static files served by the web servers themselves, hashed, compressed and cached for a year
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every page (policy in "Production" below)
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseUnlessChosenMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # 身份鉴别 (decisions/accounts): sign out an idle session, then hold a session whose password change is due
    "decisions.accounts.middleware.IdleSessionTimeoutMiddleware",
    "decisions.accounts.middleware.PasswordChangeRequiredMiddleware",
    # 双因素认证: django-otp reads the session's verified device, then a pending second factor holds the session
    "django_otp.middleware.OTPMiddleware",
    "decisions.accounts.middleware.MFARequiredMiddleware",
    # viewflow's frontend: the site and application of the page, and Turbo's rules for form responses
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # faults in a view (database restarting, disk full) answered 503/507 with a clear message (config/middleware.py)
    "config.middleware.FaultMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked login into the lockout page
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("JUECE_DB_CONN_MAX_AGE", 0))}
    except Exception as exc:  # dj-database-url raises several types for a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
    if DATABASES["default"]["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…) or SQLite (sqlite:///…).")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "juece.sqlite3",
            # SQLite has no row locks: serialise writers instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "pdf"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # 口令复杂度 and 历史口令 (decisions/accounts/policy.py): length, four kinds of character, no recent reuse
    {"NAME": "decisions.accounts.policy.PasswordComplexityValidator"},
    {"NAME": "decisions.accounts.policy.PasswordHistoryValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Task permissions follow the roles people hold (workflows/backends.py); the model backend keeps staff and admin.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "workflows.backends.RoleTaskBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workflows:inbox"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("JUECE_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("JUECE_MEDIA_ROOT", str(VAR_DIR / "media")))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Error reports (the 500 page, the e-mail to ADMINS) never carry personal information (decisions/personal.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "decisions.personal.PersonalDataExceptionFilter"

# Uploads: what a stage record may carry (B8) and how large one file may be.
# PDF dossiers (reports/): attempts before a render is marked failed, the first retry's delay
# (doubling after), and how long a render may run before it counts as killed and is requeued.
JUECE_RENDER_ATTEMPTS = env_int("JUECE_RENDER_ATTEMPTS", 3)
JUECE_RENDER_RETRY_SECONDS = env_int("JUECE_RENDER_RETRY_SECONDS", 30)
JUECE_RENDER_TIMEOUT_SECONDS = env_int("JUECE_RENDER_TIMEOUT_SECONDS", 600)

JUECE_UPLOAD_MAX_BYTES = env_int("JUECE_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
JUECE_UPLOAD_EXTENSIONS = env_list(
    "JUECE_UPLOAD_EXTENSIONS",
    ["pdf", "ofd", "doc", "docx", "wps", "xls", "xlsx", "et", "png", "jpg", "jpeg", "tif", "tiff", "txt"],
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Task reminders and escalation (workflows/timers.py, `manage.py run_timers`).
JUECE_REMIND_DAYS = env_int("JUECE_REMIND_DAYS", 3)
JUECE_ESCALATE_DAYS = env_int("JUECE_ESCALATE_DAYS", 3)
# Where links in e-mails point; mail goes to the console unless a backend is configured.
JUECE_SITE_URL = env_str("JUECE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
EMAIL_BACKEND = env_str("JUECE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("JUECE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("JUECE_EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("JUECE_EMAIL_FROM", "juece@localhost")

# The JSON API (decisions/api, catalog/api.py, reports/api.py; mounted by config/api.py): Django REST framework,
# described by drf-spectacular (OpenAPI 3 at /api/schema/). Systems send `Authorization: Token <key>`
# (`manage.py drf_create_token USER`); the browser uses its session. The permissions are the pages' own.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "decisions.api.common.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "EXCEPTION_HANDLER": "decisions.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "public": env_str("JUECE_API_PUBLIC_RATE", "120/minute"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "juece API",
    "DESCRIPTION": (
        "重大行政决策程序 (Decree 713): catalogues, decisions, stage records, documents, sign-offs, audit events, "
        "dossiers and bundles; state changes are POSTed actions that take the same service functions as the pages."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI and ReDoc served from our own static files: government networks often reach no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DecisionStateEnum": "decisions.models.DecisionState",
        "CatalogueStateEnum": "catalog.models.CatalogueState",
        "AdjustmentStateEnum": "catalog.models.AdjustmentState",
        "RoleEnum": "decisions.models.Role",
        "SourceTypeEnum": "decisions.models.Decision.SourceType",
        "RiskLevelEnum": "decisions.models.RiskLevel",
        "LegalityOutcomeEnum": "decisions.models.LegalityReview.Outcome",
        "MeetingPositionEnum": "decisions.models.Position",
        "YesNoEnum": "decisions.actions.initiation.YES_NO",
        "MeetingDecisionEnum": "decisions.actions.meeting.DECIDING_CHOICES",
    },
}

# -- Crypto profile and keys (decisions/crypto.py; 密评 at the application layer, issue 7) ------------------------
# "intl" (SHA-256, HMAC-SHA256, AES-256-GCM, Ed25519) or "gm" (国密: SM3, HMAC-SM3, SM4-GCM, SM2). It chooses what
# new records are made with; every record names its algorithm, so records of either profile stay verifiable.
JUECE_CRYPTO_PROFILE = env_str("JUECE_CRYPTO_PROFILE", "intl").strip().lower()
if JUECE_CRYPTO_PROFILE not in ("intl", "gm"):
    raise ImproperlyConfigured(f'JUECE_CRYPTO_PROFILE must be "intl" or "gm", got {JUECE_CRYPTO_PROFILE!r}')
# Where keys come from: a class with get_key(purpose) -> bytes (contract in decisions/crypto.py). The default reads
# the environment below; a deployment with a KMS or 密码机 names its own adapter. Never the database.
JUECE_KEY_SERVICE = env_str("JUECE_KEY_SERVICE", "decisions.crypto.EnvironmentKeyService")
# Master key of stored ciphertexts: 32 bytes as hex or base64 (`python -c 'import secrets; print(secrets.token_hex(32))'`).
_data_key = env_str("JUECE_DATA_KEY").strip()
if not _data_key:
    if not DEBUG:
        raise ImproperlyConfigured("JUECE_DATA_KEY is not set: stored data cannot be encrypted.")
    _data_key = "00" * 32  # insecure development key, like the audit key's
try:
    import base64 as _base64

    _is_hex = len(_data_key) == 64 and all(ch in "0123456789abcdefABCDEF" for ch in _data_key)
    DATA_KEY = bytes.fromhex(_data_key) if _is_hex else _base64.b64decode(_data_key, altchars=b"-_", validate=True)
except ValueError:  # binascii.Error is a ValueError
    DATA_KEY = b""
if len(DATA_KEY) != 32:
    raise ImproperlyConfigured("JUECE_DATA_KEY must be 32 bytes written as hex (64 characters) or base64.")
# Signed sign-offs (不可否认性, decisions/signing.py): "off" (no signature), "server" (the signing service signs at
# sign-off) or "client" (the signer's UKey signs; the signature is checked against the registered public key).
JUECE_SIGN_OFFS = env_str("JUECE_SIGN_OFFS", "off").strip().lower()
if JUECE_SIGN_OFFS not in ("off", "server", "client"):
    raise ImproperlyConfigured(f'JUECE_SIGN_OFFS must be "off", "server" or "client", got {JUECE_SIGN_OFFS!r}')
# The signing service (签名验签服务器 adapter): a class with sign(user, data, algorithm=) (contract in signing.py).
JUECE_SIGNING_SERVICE = env_str("JUECE_SIGNING_SERVICE", "decisions.signing.LocalSigningService")
# Where the development/demo service keeps signers' private keys, encrypted under the data key; never the database.
JUECE_SIGNING_KEY_DIR = Path(env_str("JUECE_SIGNING_KEY_DIR", str(VAR_DIR / "signing_keys")))


# -- Login hardening (decisions/accounts; 等保 2.0 三级 身份鉴别 and 安全审计, issue 7) --------------------------------
# Every number from the environment; 0 switches expiry, history or the idle timeout off.
JUECE_PASSWORD_MIN_LENGTH = env_int("JUECE_PASSWORD_MIN_LENGTH", 8)
JUECE_PASSWORD_HISTORY = env_int("JUECE_PASSWORD_HISTORY", 5)  # the last N passwords may not be used again
JUECE_PASSWORD_MAX_AGE_DAYS = env_int("JUECE_PASSWORD_MAX_AGE_DAYS", 90)
# A password someone else set (a new account's, an administrator's reset) is changed at the next password login.
JUECE_PASSWORD_CHANGE_ON_FIRST_LOGIN = env_bool("JUECE_PASSWORD_CHANGE_ON_FIRST_LOGIN", True)
JUECE_LOGIN_FAILURE_LIMIT = env_int("JUECE_LOGIN_FAILURE_LIMIT", 5)
JUECE_LOCKOUT_MINUTES = env_int("JUECE_LOCKOUT_MINUTES", 30)
JUECE_SESSION_IDLE_MINUTES = env_int("JUECE_SESSION_IDLE_MINUTES", 30)
for _name in ("JUECE_PASSWORD_MIN_LENGTH", "JUECE_LOGIN_FAILURE_LIMIT", "JUECE_LOCKOUT_MINUTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
for _name in ("JUECE_PASSWORD_HISTORY", "JUECE_PASSWORD_MAX_AGE_DAYS", "JUECE_SESSION_IDLE_MINUTES"):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name} must not be negative.")
# django-axes counts failures by username and by address separately: either one reaching the limit locks.
# The lockout lasts from the locking failure (further tries while locked do not extend it).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
AXES_FAILURE_LIMIT = JUECE_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = JUECE_LOCKOUT_MINUTES / 60  # axes reads a float as hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "decisions.accounts.views.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # logins are recorded in the audit chain (security:login)
AXES_VERBOSE = False
# The idle middleware enforces the timeout (with a message and an audited logout); each request renews the
# session, so its cookie needs to outlive the idle limit only a little: one hour more, after which an abandoned
# session has simply expired.
if JUECE_SESSION_IDLE_MINUTES:
    SESSION_COOKIE_AGE = (JUECE_SESSION_IDLE_MINUTES + 60) * 60


# -- Audit retention and shipping (decisions/audit_retention.py, decisions/audit_syslog.py; 等保 2.0 安全审计) -------
# Days an audit event is kept before `manage.py audit_purge` may remove it (only once exported to an archive).
# 《网络安全法》第二十一条: network logs are kept for no less than six months, so the floor is the law's, not a setting.
AUDIT_RETENTION_MIN_DAYS = 180
JUECE_AUDIT_RETENTION_DAYS = env_int("JUECE_AUDIT_RETENTION_DAYS", 365)
if JUECE_AUDIT_RETENTION_DAYS < AUDIT_RETENTION_MIN_DAYS:
    raise ImproperlyConfigured(
        f"JUECE_AUDIT_RETENTION_DAYS must be at least {AUDIT_RETENTION_MIN_DAYS} (网络安全法第二十一条: 不少于六个月), "
        f"got {JUECE_AUDIT_RETENTION_DAYS}."
    )
# A central log-audit appliance (日志审计) receiving every audit event as one RFC 5424 syslog message whose text is
# the event as a JSON line: udp://host:514 or tcp://host:601. Empty: nothing is shipped.
JUECE_AUDIT_SYSLOG = env_str("JUECE_AUDIT_SYSLOG").strip()
if JUECE_AUDIT_SYSLOG:
    _collector = urlsplit(JUECE_AUDIT_SYSLOG)
    try:
        _collector_port = _collector.port
    except ValueError:
        _collector_port = None
    if _collector.scheme not in ("udp", "tcp") or not _collector.hostname or not _collector_port:
        raise ImproperlyConfigured(
            f"JUECE_AUDIT_SYSLOG must look like udp://host:514 or tcp://host:601, got {JUECE_AUDIT_SYSLOG!r}"
        )
# The syslog facility (RFC 5424 §6.2.1), by its usual name: local0…local7, auth, authpriv, user …
JUECE_AUDIT_SYSLOG_FACILITY = env_str("JUECE_AUDIT_SYSLOG_FACILITY", "local0").strip().lower()
if JUECE_AUDIT_SYSLOG_FACILITY not in SysLogHandler.facility_names:
    raise ImproperlyConfigured(
        f"JUECE_AUDIT_SYSLOG_FACILITY must be a syslog facility such as local0…local7 or authpriv, "
        f"got {JUECE_AUDIT_SYSLOG_FACILITY!r}"
    )
# Seconds to connect to and write to the collector (on the sending thread, never in a request).
JUECE_AUDIT_SYSLOG_TIMEOUT = env_int("JUECE_AUDIT_SYSLOG_TIMEOUT", 5)
# Events waiting to be sent per process; beyond it an event is not shipped (warned and counted; `audit_ship` resends).
JUECE_AUDIT_SYSLOG_QUEUE = env_int("JUECE_AUDIT_SYSLOG_QUEUE", 10000)
for _name in ("JUECE_AUDIT_SYSLOG_TIMEOUT", "JUECE_AUDIT_SYSLOG_QUEUE"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")


# -- Two factors (decisions/accounts/mfa.py; 等保 2.0 三级 身份鉴别: 两种以上鉴别技术, 其中一种为密码技术, issue 7) ------
# On: every signed-in user enrols and verifies a second factor (TOTP or WebAuthn) before any page. Off: only users
# who have a device verify it. Token-authenticated API clients are not held (README, "Login policy").
JUECE_REQUIRE_MFA = env_bool("JUECE_REQUIRE_MFA", False)
# django-otp's throttling of TOTP codes: after a wrong code the device waits this many seconds, doubling per failure.
JUECE_TOTP_THROTTLE_SECONDS = env_int("JUECE_TOTP_THROTTLE_SECONDS", 1)
if JUECE_TOTP_THROTTLE_SECONDS < 1:
    raise ImproperlyConfigured("JUECE_TOTP_THROTTLE_SECONDS must be at least 1.")
OTP_TOTP_THROTTLE_FACTOR = JUECE_TOTP_THROTTLE_SECONDS
OTP_TOTP_ISSUER = env_str("JUECE_TOTP_ISSUER", "juece")  # the account's label in the authenticator app
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a TOTP secret
# WebAuthn (django-otp-webauthn): the relying party is the site's domain, and a browser signs only for an origin
# listed here. A key is bound to its domain: changing JUECE_WEBAUTHN_RP_ID later means registering keys anew.
# Browsers refuse an IP address as relying party, so a loopback JUECE_SITE_URL becomes `localhost`; and they offer
# WebAuthn only over HTTPS (localhost excepted), so a plain-HTTP site's origin is taken in its https:// form.
_site = urlsplit(JUECE_SITE_URL)
_site_host = "localhost" if _site.hostname in ("127.0.0.1", "::1") else (_site.hostname or "localhost")
_site_scheme = "http" if _site_host == "localhost" and _site.scheme == "http" else "https"
_site_origin = f"{_site_scheme}://{_site_host}" + (f":{_site.port}" if _site.port else "")
OTP_WEBAUTHN_RP_ID = env_str("JUECE_WEBAUTHN_RP_ID", _site_host)
OTP_WEBAUTHN_RP_NAME = env_str("JUECE_WEBAUTHN_RP_NAME", "juece 重大行政决策")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("JUECE_WEBAUTHN_ORIGINS", [_site_origin])
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a second factor after the password, never instead of it


# -- External login (decisions/accounts/external; a province's platform does the 国密 identity check, issue 7) ------
# A provider is offered on the login page only when all its settings are given. Identities are linked to users by an
# administrator (admin, `manage.py link_external_identity`); an unlinked one is refused.
# Whether a provider's sign-in counts as the second factor (its strong check): per provider, else this one.
JUECE_EXTERNAL_LOGIN_MFA = env_bool("JUECE_EXTERNAL_LOGIN_MFA", True)
JUECE_EXTERNAL_LOGIN_TIMEOUT_SECONDS = env_int("JUECE_EXTERNAL_LOGIN_TIMEOUT_SECONDS", 10)  # per call to a provider
JUECE_EXTERNAL_LOGIN_LEEWAY_SECONDS = env_int("JUECE_EXTERNAL_LOGIN_LEEWAY_SECONDS", 120)  # clock skew on ID tokens
# OpenID Connect: the issuer exactly as the provider names itself (discovery at ISSUER/.well-known/openid-configuration).
JUECE_OIDC_ISSUER = env_str("JUECE_OIDC_ISSUER")
JUECE_OIDC_CLIENT_ID = env_str("JUECE_OIDC_CLIENT_ID")
JUECE_OIDC_CLIENT_SECRET = env_str("JUECE_OIDC_CLIENT_SECRET")
JUECE_OIDC_SCOPES = env_str("JUECE_OIDC_SCOPES", "openid profile")
JUECE_OIDC_TOKEN_AUTH_METHOD = env_str("JUECE_OIDC_TOKEN_AUTH_METHOD", "client_secret_basic")
JUECE_OIDC_LABEL = env_str("JUECE_OIDC_LABEL", "统一身份认证")
# A claim whose value is the juece username links an unknown identity at its first sign-in; empty: never.
JUECE_OIDC_MATCH_CLAIM = env_str("JUECE_OIDC_MATCH_CLAIM")
JUECE_OIDC_MFA = env_bool("JUECE_OIDC_MFA", None)
# 浙政钉: the open platform's API domain and its login page (see decisions/accounts/external/zzd.py).
JUECE_ZZD_BASE_URL = env_str("JUECE_ZZD_BASE_URL")
JUECE_ZZD_LOGIN_URL = env_str("JUECE_ZZD_LOGIN_URL")
JUECE_ZZD_APP_KEY = env_str("JUECE_ZZD_APP_KEY")
JUECE_ZZD_APP_SECRET = env_str("JUECE_ZZD_APP_SECRET")
JUECE_ZZD_TOKEN_PATH = env_str("JUECE_ZZD_TOKEN_PATH", "/gettoken.json")
JUECE_ZZD_USERINFO_PATH = env_str("JUECE_ZZD_USERINFO_PATH", "/rpc/oauth2/getuserinfo_bycode.json")
JUECE_ZZD_SCOPE = env_str("JUECE_ZZD_SCOPE", "get_user_info")
JUECE_ZZD_SUBJECT_FIELD = env_str("JUECE_ZZD_SUBJECT_FIELD", "accountId")
JUECE_ZZD_MATCH_FIELD = env_str("JUECE_ZZD_MATCH_FIELD")  # e.g. `account` when it equals the juece username
JUECE_ZZD_CLIENT_IP = env_str("JUECE_ZZD_CLIENT_IP")  # X-Hmac-Auth-IP / -MAC, sent when set
JUECE_ZZD_CLIENT_MAC = env_str("JUECE_ZZD_CLIENT_MAC")
JUECE_ZZD_LABEL = env_str("JUECE_ZZD_LABEL", "浙政钉")
JUECE_ZZD_MFA = env_bool("JUECE_ZZD_MFA", None)
if JUECE_EXTERNAL_LOGIN_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured("JUECE_EXTERNAL_LOGIN_TIMEOUT_SECONDS must be at least 1.")
if JUECE_EXTERNAL_LOGIN_LEEWAY_SECONDS < 0:
    raise ImproperlyConfigured("JUECE_EXTERNAL_LOGIN_LEEWAY_SECONDS must not be negative.")
# Codes and tokens cross these addresses: HTTPS, except to this machine (a local test provider).
for _name in ("JUECE_OIDC_ISSUER", "JUECE_ZZD_BASE_URL", "JUECE_ZZD_LOGIN_URL"):
    _url = urlsplit(globals()[_name])
    if _url.geturl() and not (
        _url.scheme == "https" or (_url.scheme == "http" and _url.hostname in ("127.0.0.1", "localhost", "::1"))
    ):
        raise ImproperlyConfigured(f"{_name} must be an https:// address, got {globals()[_name]!r}")


# -- File storage (uploads, dossiers) ------------------------------------------------------------------------------
# Every stored file (documents, dossiers, notices, exports, imports, audit archives) goes through Django's storage API,
# so the same code runs on a local directory or on S3-compatible object storage (MinIO, a cloud's OSS/COS/OBS).
# Nothing stored is ever served directly: there is no MEDIA_URL route (config/urls.py); every download is streamed by
# a permission-checked, audited view (decisions.services.documents / reports.dossiers `open_for_reading`).
#   filesystem: MEDIA_ROOT (JUECE_MEDIA_ROOT), outside the web root.
#   s3: the bucket JUECE_S3_BUCKET at JUECE_S3_ENDPOINT_URL, objects private, keys under JUECE_S3_PREFIX.
JUECE_STORAGE = (env_str("JUECE_STORAGE") or "filesystem").lower()
JUECE_S3_BUCKET = env_str("JUECE_S3_BUCKET")
JUECE_S3_ENDPOINT_URL = env_str("JUECE_S3_ENDPOINT_URL")  # empty: AWS itself
JUECE_S3_REGION = env_str("JUECE_S3_REGION")
# Empty keys: boto3 finds credentials itself (AWS_* variables, a credentials file, an instance role).
JUECE_S3_ACCESS_KEY = env_str("JUECE_S3_ACCESS_KEY")
JUECE_S3_SECRET_KEY = env_str("JUECE_S3_SECRET_KEY")
JUECE_S3_PREFIX = env_str("JUECE_S3_PREFIX", "juece").strip("/")
if JUECE_STORAGE == "filesystem":
    DEFAULT_FILE_STORAGE_CONFIG = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif JUECE_STORAGE == "s3":
    if not JUECE_S3_BUCKET:
        raise ImproperlyConfigured("JUECE_STORAGE=s3 needs JUECE_S3_BUCKET.")
    if JUECE_S3_ENDPOINT_URL and urlsplit(JUECE_S3_ENDPOINT_URL).scheme not in ("http", "https"):
        raise ImproperlyConfigured(
            f"JUECE_S3_ENDPOINT_URL must be an http(s):// address, got {JUECE_S3_ENDPOINT_URL!r}"
        )
    DEFAULT_FILE_STORAGE_CONFIG = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": JUECE_S3_BUCKET,
            "endpoint_url": JUECE_S3_ENDPOINT_URL or None,
            "region_name": JUECE_S3_REGION or None,
            "access_key": JUECE_S3_ACCESS_KEY or None,
            "secret_key": JUECE_S3_SECRET_KEY or None,
            "location": JUECE_S3_PREFIX,
            "default_acl": "private",
            # Downloads are streamed by our views, never redirected: no signed URL is ever handed out.
            "querystring_auth": False,
            # A stored record is never replaced: a name taken gets a new one, as on the filesystem.
            "file_overwrite": False,
        },
    }
else:
    raise ImproperlyConfigured(f"JUECE_STORAGE must be filesystem or s3, got {JUECE_STORAGE!r}")

# -- Production: HTTPS, static files, CSP, cache (README "Production"; issue 8) -------------------------------------
# HTTPS by default outside development: secure cookies, HSTS and the redirect to https. A local trial over plain http
# (./juece-production) sets JUECE_HTTPS=false explicitly; the tests' client and live server speak http the same way.
JUECE_HTTPS = env_bool("JUECE_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = JUECE_HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("JUECE_HSTS_SECONDS", 365 * 24 * 3600 if JUECE_HTTPS else 0)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured(f"JUECE_HSTS_SECONDS must not be negative, got {SECURE_HSTS_SECONDS}.")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("JUECE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is a promise to browsers' lists that is slow to take back: only on request.
SECURE_HSTS_PRELOAD = env_bool("JUECE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("JUECE_SSL_REDIRECT", JUECE_HTTPS)
# Behind a TLS proxy (nginx, a load balancer) that sets X-Forwarded-Proto and strips it from clients' requests;
# never set it without such a proxy, or any client could claim to be on https.
JUECE_BEHIND_PROXY = env_bool("JUECE_BEHIND_PROXY", False)
if JUECE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The client's address (lockouts, the audit's address, the public forms' rate limits): behind the proxy, the one it
# appended to X-Forwarded-For (decisions/accounts/policy.request_address); otherwise REMOTE_ADDR.
AXES_CLIENT_IP_CALLABLE = "decisions.accounts.policy.request_address"
# The API's throttling finds the same address: DRF takes the last X-Forwarded-For entry with one proxy, REMOTE_ADDR
# with none (its default would believe whatever X-Forwarded-For a client sends).
REST_FRAMEWORK["NUM_PROXIES"] = 1 if JUECE_BEHIND_PROXY else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # no page of juece is ever shown in a frame, not even by juece
# Origins a form may be sent from (Django compares the Origin header): the site's own by default.
_site_url = urlsplit(JUECE_SITE_URL)
CSRF_TRUSTED_ORIGINS = env_list("JUECE_CSRF_TRUSTED_ORIGINS", [f"{_site_url.scheme}://{_site_url.netloc}"])
for _origin in CSRF_TRUSTED_ORIGINS:
    _parts = urlsplit(_origin)
    if _parts.scheme not in ("http", "https") or not _parts.netloc or _parts.path not in ("", "/"):
        raise ImproperlyConfigured(
            f"JUECE_CSRF_TRUSTED_ORIGINS must be origins such as https://juece.example.gov.cn, got {_origin!r}"
        )

# Static files: in development Django's finders serve them as they are; in production `collectstatic` writes them
# to STATIC_ROOT with a content hash in each name and gzip/brotli copies, and WhiteNoise serves them with a
# far-future immutable Cache-Control (config/storage.py). "default" (uploads) is set in "File storage" above.
STORAGES = {
    "default": DEFAULT_FILE_STORAGE_CONFIG,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "config.storage.StaticFilesStorage"
    },
}
# Pinned to the settings' DEBUG: pytest-django turns settings.DEBUG off while testing, which would make WhiteNoise
# look for a STATIC_ROOT that a development checkout has never collected.
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = DEBUG

# Content-Security-Policy (django-csp): scripts only from juece's own static files, or an inline <script> carrying
# nonce="{{ request.csp_nonce }}" (avoid it on the staff pages: viewflow's Turbo swaps pages in without a new policy,
# so a later page's nonce is refused; put the script in a static file). Inline styles are allowed because viewflow's
# Material pages and the admin write style="" attributes; styles cannot run code. The API's Swagger UI and ReDoc
# pages get their own additions in config/api.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        # External login (OIDC, 浙政钉) starts from a link, not a form, so no provider needs to be listed here.
        "form-action": [SELF],
    },
}

# The cache holds the public forms' rate limits (comments, proposals) and the API's throttling counts. One server can
# keep them in its memory; several web servers must share one Redis (JUECE_CACHE_URL, e.g. redis://10.0.0.5:6379/0),
# or each would count on its own. Sessions are in the database, shared by every server already.
JUECE_CACHE_URL = env_str("JUECE_CACHE_URL").strip()
if JUECE_CACHE_URL:
    if urlsplit(JUECE_CACHE_URL).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(
            f"JUECE_CACHE_URL must be a Redis URL such as redis://127.0.0.1:6379/0, got {JUECE_CACHE_URL!r}"
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": JUECE_CACHE_URL,
            "KEY_PREFIX": "juece",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
