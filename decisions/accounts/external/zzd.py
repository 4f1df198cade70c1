"""浙政钉 (and 专有钉钉 on other tenants): OAuth2 authorization code → the platform's user info, signed with AppKey/AppSecret.

Modelled on the platform's published server API, as public integration guides describe it (assumption: the shape
below; the paths, the login page and the field naming the account are settings, so a tenant that differs is
configured, not patched):
1. The browser goes to the login page JUECE_ZZD_LOGIN_URL (浙政钉: https://login-pro.ding.zj.gov.cn/oauth2/auth.htm;
   SaaS test: https://login.dg-work.cn/oauth2/auth.htm) with `response_type=code`, `client_id` = AppKey,
   `redirect_uri`, `scope=get_user_info`, `authType=QRCODE` and our `state`; the platform comes back with `code`
   and `state`. The platform has no PKCE and no nonce: `state` (single use, kept in the session) binds the answer
   to this browser.
2. `GET {JUECE_ZZD_BASE_URL}/gettoken.json?appkey=…&appsecret=…` → `content.data.accessToken` (the application's
   token; 浙政钉: https://openplatform-pro.ding.zj.gov.cn, SaaS: https://openplatform.dg-work.cn).
3. `POST /rpc/oauth2/getuserinfo_bycode.json` with `access_token` and `code` (form fields) →
   `content.data` {accountId, employeeCode, lastName, realmId, tenantUserId, account, …}. The account is named by
   JUECE_ZZD_SUBJECT_FIELD (default `accountId`). A call succeeded when `success` and `content.success` are true.
Every call carries the platform's HMAC headers: `apiKey` (AppKey), `X-Hmac-Auth-Timestamp` (ISO 8601, +08:00, ms),
`X-Hmac-Auth-Version: 1.0`, `X-Hmac-Auth-Nonce` (ms time + 4 random digits) and `X-Hmac-Auth-Signature` =
Base64(HMAC-SHA256(AppSecret, "METHOD\\nTIMESTAMP\\nNONCE\\nPATH[\\nk1=v1&k2=v2…]")), the parameters sorted by name,
values as sent; `X-Hmac-Auth-IP` / `X-Hmac-Auth-MAC` when JUECE_ZZD_CLIENT_IP / _CLIENT_MAC are set. HMAC-SHA256 is
the platform's protocol, not a juece record: it stays HMAC-SHA256 under the 国密 profile.
"""

import base64
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import requests
from django.conf import settings

from decisions import crypto
from decisions.accounts import external

STATE_SESSION_KEY = "juece_zzd_state"
CHINA_TIME = timezone(timedelta(hours=8))
# What the person's record keeps of the platform's answer (for the match field and the audit of a link).
KEPT_FIELDS = ("accountId", "employeeCode", "lastName", "nickNameCn", "realmId", "realmName", "tenantUserId", "account")


def from_settings():
    """The 浙政钉 provider of JUECE_ZZD_BASE_URL / _LOGIN_URL / _APP_KEY / _APP_SECRET, or None when not configured."""
    if not (
        settings.JUECE_ZZD_BASE_URL
        and settings.JUECE_ZZD_LOGIN_URL
        and settings.JUECE_ZZD_APP_KEY
        and settings.JUECE_ZZD_APP_SECRET
    ):
        return None
    return ZhengDingProvider(
        base_url=settings.JUECE_ZZD_BASE_URL,
        login_url=settings.JUECE_ZZD_LOGIN_URL,
        app_key=settings.JUECE_ZZD_APP_KEY,
        app_secret=settings.JUECE_ZZD_APP_SECRET,
        token_path=settings.JUECE_ZZD_TOKEN_PATH,
        userinfo_path=settings.JUECE_ZZD_USERINFO_PATH,
        scope=settings.JUECE_ZZD_SCOPE,
        subject_field=settings.JUECE_ZZD_SUBJECT_FIELD,
        client_ip=settings.JUECE_ZZD_CLIENT_IP,
        client_mac=settings.JUECE_ZZD_CLIENT_MAC,
        label=settings.JUECE_ZZD_LABEL,
        trusted_for_mfa=external.mfa_trusted("JUECE_ZZD_MFA"),
        match_claim=settings.JUECE_ZZD_MATCH_FIELD,
        timeout=settings.JUECE_EXTERNAL_LOGIN_TIMEOUT_SECONDS,
    )


def signature_text(method, timestamp, nonce, path, params):
    """The text the platform signs: method, timestamp, nonce and path, then the parameters sorted by name."""
    text = f"{method}\n{timestamp}\n{nonce}\n{path}"
    if params:
        text += "\n" + "&".join(f"{name}={params[name]}" for name in sorted(params))
    return text


def signed_headers(method, path, params, *, app_key, app_secret, now=None, client_ip="", client_mac=""):
    """The `X-Hmac-Auth-*` and `apiKey` headers of one call."""
    now = (now or datetime.now(CHINA_TIME)).astimezone(CHINA_TIME)
    timestamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+08:00"
    nonce = f"{int(now.timestamp() * 1000)}{secrets.randbelow(9000) + 1000}"
    text = signature_text(method, timestamp, nonce, path, params)
    mac = bytes.fromhex(crypto.mac_with("HMAC-SHA256", app_secret.encode(), text.encode()))
    headers = {
        "apiKey": app_key,
        "X-Hmac-Auth-Timestamp": timestamp,
        "X-Hmac-Auth-Version": "1.0",
        "X-Hmac-Auth-Nonce": nonce,
        "X-Hmac-Auth-Signature": base64.b64encode(mac).decode(),
    }
    if client_ip:
        headers["X-Hmac-Auth-IP"] = client_ip
    if client_mac:
        headers["X-Hmac-Auth-MAC"] = client_mac
    return headers


class ZhengDingProvider(external.Provider):
    name = "zzd"

    def __init__(
        self,
        *,
        base_url,
        login_url,
        app_key,
        app_secret,
        token_path,
        userinfo_path,
        scope,
        subject_field,
        client_ip,
        client_mac,
        **common,
    ):
        super().__init__(**common)
        self.base_url = base_url.rstrip("/")
        self.login_url = login_url
        self.app_key = app_key
        self.app_secret = app_secret
        self.token_path = token_path
        self.userinfo_path = userinfo_path
        self.scope = scope
        self.subject_field = subject_field
        self.client_ip = client_ip
        self.client_mac = client_mac

    def authorization_url(self, request, redirect_uri):
        state = secrets.token_urlsafe(32)
        request.session[STATE_SESSION_KEY] = state
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.app_key,
                "redirect_uri": redirect_uri,
                "scope": self.scope,
                "authType": "QRCODE",
                "state": state,
            }
        )
        return f"{self.login_url}{'&' if '?' in self.login_url else '?'}{query}"

    def complete(self, request, redirect_uri):
        expected = request.session.pop(STATE_SESSION_KEY, None)  # single use, whatever follows
        state = request.GET.get("state", "")
        if not expected or not hmac.compare_digest(expected.encode(), state.encode()):
            raise self.refused_state()
        code = request.GET.get("code")
        if not code:
            raise self.refused_by_provider(request.GET.get("error", "no code"))
        token = self._call("GET", self.token_path, {"appkey": self.app_key, "appsecret": self.app_secret})
        access_token = token.get("accessToken")
        if not access_token:
            raise self.refused_answer(external.BAD_RESPONSE, "no accessToken")
        person = self._call("POST", self.userinfo_path, {"access_token": access_token, "code": code})
        subject = person.get(self.subject_field)
        if subject in (None, ""):
            raise self.refused_answer(external.BAD_RESPONSE, f"no {self.subject_field}")
        claims = {name: person[name] for name in (*KEPT_FIELDS, self.match_claim) if name and name in person}
        return external.ExternalAccount(subject=str(subject), claims=claims)

    def _call(self, method, path, params):
        """One signed call; returns `content.data`, or refuses with the platform's response code."""
        headers = signed_headers(
            method,
            path,
            params,
            app_key=self.app_key,
            app_secret=self.app_secret,
            client_ip=self.client_ip,
            client_mac=self.client_mac,
        )
        url = self.base_url + path
        try:
            if method == "GET":
                response = requests.get(url, params=params, headers=headers, timeout=self.timeout)
            else:
                response = requests.post(url, data=params, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise self.refused_unavailable(type(error).__name__) from error
        if response.status_code >= 500:
            raise self.refused_unavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise self.refused_answer(external.BAD_RESPONSE, f"HTTP {response.status_code}, not JSON") from error
        if not isinstance(body, dict):
            raise self.refused_answer(external.BAD_RESPONSE, "not an object")
        content = body.get("content")
        if not body.get("success") or not isinstance(content, dict):
            raise self.refused_by_provider(str(body.get("errorCode") or f"HTTP {response.status_code}"))
        if not content.get("success"):
            raise self.refused_by_provider(str(content.get("responseCode") or "failed"))
        data = content.get("data")
        if not isinstance(data, dict):
            raise self.refused_answer(external.BAD_RESPONSE, "no content.data")
        return data
