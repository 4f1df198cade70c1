"""外部登录: OpenID Connect and the 浙政钉 code flow, each against a local mock of the provider over real HTTP.

The mocks are small HTTP servers on 127.0.0.1 in a thread, written from the protocols, not from juece's code: the
OpenID provider serves discovery, its JWKS (an RSA key made with `cryptography`), authorize, token (checking the
client's secret and the PKCE verifier) and userinfo; the 浙政钉 platform checks every call's HMAC headers. The
browser is Django's test client; the provider's login page is visited with `requests`, as a browser would.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from decisions.accounts.models import ExternalIdentity
from decisions.accounts.policy import mark_as_changed
from decisions.models import AuditEvent

SITE = "http://testserver"
CLIENT_ID = "juece-city"
CLIENT_SECRET = "s3cret-of-juece"
APP_KEY = "zzd-app-key-0001"
APP_SECRET = "zzd-app-secret-0001"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_int(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed_jwt(private_key, kid, claims):
    """An RS256 JWS (RFC 7515 compact form), made by hand so the mock shares no code with juece's checks."""
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = private_key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{body}.{b64url(signature)}"


class MockServer:
    """A real HTTP server on a free loopback port, answering through `self.handle(method, path, query, form, headers)`."""

    def __init__(self):
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, headers, body = mock.handle(method, url.path, query, form, self.headers)
                payload = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or b"")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if isinstance(body, (dict, list)):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.calls = []

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class MockOpenIDProvider(MockServer):
    """统一身份认证 as an OpenID provider: discovery, JWKS, authorize (signs in `next_subject` at once), token, userinfo."""

    def __init__(self):
        super().__init__()
        self.key = rsa_key()
        self.kid = "mock-key-1"
        self.signing_key = self.key  # a test swaps in another key to forge a token
        self.next_subject = "oidc-sub-0001"
        self.username_claim = "li_si"
        self.claim_overrides = {}
        self.codes = {}
        self.access_tokens = {}
        self.authorize_requests = []

    def jwks(self):
        numbers = self.key.public_key().public_numbers()
        key = {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256"}
        return {"keys": [{**key, "n": b64url_int(numbers.n), "e": b64url_int(numbers.e)}]}

    def handle(self, method, path, query, form, headers):
        self.calls.append(f"{method} {path}")
        if path == "/.well-known/openid-configuration":
            return (
                200,
                {},
                {
                    "issuer": self.url,
                    "authorization_endpoint": self.url + "/authorize",
                    "token_endpoint": self.url + "/token",
                    "userinfo_endpoint": self.url + "/userinfo",
                    "jwks_uri": self.url + "/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                },
            )
        if path == "/jwks":
            return 200, {}, self.jwks()
        if path == "/authorize":
            return self.authorize(query)
        if path == "/token" and method == "POST":
            return self.token(form, headers)
        if path == "/userinfo":
            subject = self.access_tokens.get(headers.get("Authorization", "").removeprefix("Bearer "))
            if subject is None:
                return 401, {}, {"error": "invalid_token"}
            return 200, {}, {"sub": subject, "preferred_username": self.username_claim, "name": "李四"}
        return 404, {}, {"error": "not_found"}

    def authorize(self, query):
        self.authorize_requests.append(query)
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert "openid" in query["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": query["nonce"],
            "challenge": query["code_challenge"],
            "method": query["code_challenge_method"],
            "redirect_uri": query["redirect_uri"],
            "subject": self.next_subject,
        }
        location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        return 302, {"Location": location}, b""

    def token(self, form, headers):
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {}, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code"), None)  # a code is good once
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {}, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {}, {"error": "invalid_grant"}
        # PKCE (RFC 7636 §4.6): the verifier must hash to the challenge the authorize request carried.
        verifier = form.get("code_verifier", "")
        if grant["method"] != "S256" or b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return 400, {}, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": grant["subject"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "preferred_username": self.username_claim,
            **self.claim_overrides,
        }
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = grant["subject"]
        id_token = signed_jwt(self.signing_key, self.kid, claims)
        return 200, {}, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}


class MockZhengDing(MockServer):
    """浙政钉 open platform: a login page that signs in at once, gettoken and getuserinfo_bycode, HMAC checked."""

    TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$")

    def __init__(self):
        super().__init__()
        self.next_account = {
            "accountId": 100135,
            "employeeCode": "GE_4ad7c3e0b1",
            "lastName": "王五",
            "realmId": 12371,
            "tenantUserId": "12371$100135",
            "account": "wang_wu",
        }
        self.codes = {}
        self.access_token = secrets.token_urlsafe(16)
        self.signatures_checked = []

    def signature_ok(self, method, path, params, headers):
        """The platform's check: apiKey, version, timestamp, nonce, and HMAC-SHA256 over method, time, nonce, path, params."""
        timestamp, nonce = headers.get("X-Hmac-Auth-Timestamp", ""), headers.get("X-Hmac-Auth-Nonce", "")
        if headers.get("apiKey") != APP_KEY or headers.get("X-Hmac-Auth-Version") != "1.0":
            return False
        if not self.TIMESTAMP.match(timestamp) or not re.fullmatch(r"\d{17}", nonce):
            return False
        sent_at = datetime.strptime(timestamp[:-6], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone(timedelta(hours=8)))
        if abs((datetime.now(UTC) - sent_at).total_seconds()) > 300:
            return False
        text = f"{method}\n{timestamp}\n{nonce}\n{path}"
        if params:
            text += "\n" + "&".join(f"{k}={params[k]}" for k in sorted(params))
        expected = base64.b64encode(hmac.new(APP_SECRET.encode(), text.encode(), hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, headers.get("X-Hmac-Auth-Signature", ""))

    def handle(self, method, path, query, form, headers):
        self.calls.append(f"{method} {path}")
        if path == "/oauth2/auth.htm":
            assert query["client_id"] == APP_KEY and query["response_type"] == "code"
            assert query["scope"] == "get_user_info"
            code = secrets.token_hex(20)
            self.codes[code] = dict(self.next_account)
            location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
            return 302, {"Location": location}, b""
        params = query if method == "GET" else form
        if not self.signature_ok(method, path, params, headers):
            return 200, {}, {"success": False, "errorCode": "OPF-B001-05-16-0009", "errorMsg": "SignatureDoesNotMatch"}
        self.signatures_checked.append(f"{method} {path}")
        if path == "/gettoken.json" and method == "GET":
            if params != {"appkey": APP_KEY, "appsecret": APP_SECRET}:
                return 200, {}, {"success": False, "errorCode": "OPF-B001-05-16-0001"}
            data = {"accessToken": self.access_token, "expiresIn": "7200"}
            return 200, {}, {"success": True, "content": {"data": data, "success": True, "responseCode": "0"}}
        if path == "/rpc/oauth2/getuserinfo_bycode.json" and method == "POST":
            if params.get("access_token") != self.access_token:
                return 200, {}, {"success": True, "content": {"success": False, "responseCode": "240133"}}
            person = self.codes.pop(params.get("code"), None)
            if person is None:
                return 200, {}, {"success": True, "content": {"success": False, "responseCode": "240111"}}
            return 200, {}, {"success": True, "content": {"data": person, "success": True, "responseCode": "0"}}
        return 404, {}, {"success": False}


@pytest.fixture
def provider(settings):
    mock = MockOpenIDProvider()
    settings.JUECE_SITE_URL = SITE
    settings.JUECE_OIDC_ISSUER = mock.url
    settings.JUECE_OIDC_CLIENT_ID = CLIENT_ID
    settings.JUECE_OIDC_CLIENT_SECRET = CLIENT_SECRET
    yield mock
    mock.stop()


@pytest.fixture
def platform(settings):
    mock = MockZhengDing()
    settings.JUECE_SITE_URL = SITE
    settings.JUECE_ZZD_BASE_URL = mock.url
    settings.JUECE_ZZD_LOGIN_URL = mock.url + "/oauth2/auth.htm"
    settings.JUECE_ZZD_APP_KEY = APP_KEY
    settings.JUECE_ZZD_APP_SECRET = APP_SECRET
    yield mock
    mock.stop()


@pytest.fixture
def li_si(db):
    user = get_user_model().objects.create_user("li_si", password="Zhengfu-2026!")
    mark_as_changed(user)
    return user


def start(client, name, next_url=""):
    query = f"?next={next_url}" if next_url else ""
    return client.get(reverse("external_login_start", args=[name]) + query)


def sign_in_at_provider(response):
    """The browser at the provider's login page: the provider signs the person in and sends them back with a code."""
    assert response.status_code == 302, response.content
    back = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}" == SITE
    return f"{callback.path}?{callback.query}"


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def refusal(action="security:external_login_failed"):
    found = events(action)
    assert len(found) == 1, [e.payload for e in found]
    return found[0].payload


# -- OpenID Connect -----------------------------------------------------------------------------------------


def test_a_linked_identity_signs_in_through_the_provider_with_state_nonce_and_pkce(client, provider, li_si):
    call_command("link_external_identity", "oidc", provider.next_subject, "li_si")
    linked = refusal("security:external_identity_linked")
    assert linked["method"] == "command" and linked["subject"] == provider.next_subject
    assert events("security:external_identity_linked")[0].actor_label == "manage.py link_external_identity"

    page = client.get(reverse("login")).content.decode()
    assert "使用统一身份认证登录" in page and reverse("external_login_start", args=["oidc"]) in page

    response = start(client, "oidc", next_url="/public/")
    sent = dict(parse_qs(urlsplit(response["Location"]).query))
    assert response["Location"].startswith(provider.url + "/authorize?")
    assert sent["code_challenge_method"] == ["S256"] and sent["code_challenge"][0]
    assert sent["state"][0] and sent["nonce"][0]
    assert sent["redirect_uri"] == [SITE + reverse("external_login_callback", args=["oidc"])]

    landing = client.get(sign_in_at_provider(response))
    assert landing.status_code == 302 and landing["Location"] == "/public/"
    assert signed_in_as(client) == str(li_si.pk)
    assert client.session["juece_mfa"] == "oidc:oidc"  # the platform's strong check counts as the second factor
    login = events("security:login")
    assert len(login) == 1 and login[0].actor_id == li_si.pk
    assert login[0].payload["method"] == "external" and login[0].payload["provider"] == "oidc"
    assert ExternalIdentity.objects.get(subject=provider.next_subject).last_login_at is not None
    assert "POST /token" in provider.calls and "GET /userinfo" in provider.calls


def test_without_settings_there_is_no_external_login(client, db):
    page = client.get(reverse("login")).content.decode()
    assert "external-login" not in page and "统一身份认证" not in page and "浙政钉" not in page
    assert start(client, "oidc").status_code == 404
    assert start(client, "zzd").status_code == 404


def test_an_answer_with_another_state_is_refused_before_the_code_is_redeemed(client, provider, li_si):
    ExternalIdentity.objects.create(provider="oidc", subject=provider.next_subject, user=li_si)
    callback = sign_in_at_provider(start(client, "oidc"))
    forged = re.sub(r"state=[^&]+", "state=forged-state", callback)
    response = client.get(forged)
    assert response.status_code == 400
    assert "登录请求已失效或不是从本系统发起的" in response.content.decode()
    assert signed_in_as(client) is None
    assert "POST /token" not in provider.calls
    assert refusal()["reason"] == "bad_state" and refusal()["provider"] == "oidc"


def test_a_callback_is_good_once(client, provider, li_si):
    ExternalIdentity.objects.create(provider="oidc", subject=provider.next_subject, user=li_si)
    callback = sign_in_at_provider(start(client, "oidc"))
    assert client.get(callback).status_code == 302
    client.logout()
    again = client.get(callback)
    assert again.status_code == 400 and signed_in_as(client) is None
    assert refusal()["reason"] == "bad_state"


def test_an_id_token_signed_by_another_key_is_refused(client, provider, li_si):
    ExternalIdentity.objects.create(provider="oidc", subject=provider.next_subject, user=li_si)
    provider.signing_key = rsa_key()  # same key id, someone else's key
    response = client.get(sign_in_at_provider(start(client, "oidc")))
    assert response.status_code == 403
    assert "返回的身份凭证未通过校验" in response.content.decode()
    assert signed_in_as(client) is None
    assert refusal()["reason"] == "bad_token_signature"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "another-application"}, "bad_audience"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "token_expired"),
        ({"iss": "https://impostor.example"}, "bad_issuer"),
        ({"nonce": "replayed-nonce"}, "bad_nonce"),
    ],
    ids=["wrong audience", "expired", "wrong issuer", "wrong nonce"],
)
def test_an_id_token_with_wrong_claims_is_refused(client, provider, li_si, overrides, reason):
    ExternalIdentity.objects.create(provider="oidc", subject=provider.next_subject, user=li_si)
    provider.claim_overrides = overrides
    response = client.get(sign_in_at_provider(start(client, "oidc")))
    assert response.status_code == 403 and signed_in_as(client) is None
    assert refusal()["reason"] == reason
    assert not events("security:login")


def test_an_unknown_identity_is_refused_and_audited_and_no_account_is_made(client, provider, li_si):
    users = get_user_model().objects.count()
    response = client.get(sign_in_at_provider(start(client, "oidc")))
    assert response.status_code == 403
    assert "尚未关联本系统用户，请联系系统管理员开通" in response.content.decode()
    assert signed_in_as(client) is None
    assert get_user_model().objects.count() == users and not ExternalIdentity.objects.exists()
    failed = refusal()
    assert failed["reason"] == "unknown_identity" and failed["detail"] == provider.next_subject
    # The audit trail names what failed, never a token or a code.
    trail = json.dumps([event.payload for event in AuditEvent.objects.all()])
    assert not any(token in trail for token in provider.access_tokens)


def test_the_match_claim_links_an_identity_to_the_user_of_that_name_at_first_sign_in(client, provider, li_si, settings):
    settings.JUECE_OIDC_MATCH_CLAIM = "preferred_username"
    client.get(sign_in_at_provider(start(client, "oidc")))
    assert signed_in_as(client) == str(li_si.pk)
    assert ExternalIdentity.objects.get(provider="oidc", subject=provider.next_subject).user == li_si
    linked = refusal("security:external_identity_linked")
    assert linked["method"] == "claim" and linked["claim"] == "preferred_username"


def test_an_inactive_account_is_refused(client, provider, li_si):
    ExternalIdentity.objects.create(provider="oidc", subject=provider.next_subject, user=li_si)
    li_si.is_active = False
    li_si.save()
    response = client.get(sign_in_at_provider(start(client, "oidc")))
    assert response.status_code == 403 and "账号已停用" in response.content.decode()
    assert refusal()["reason"] == "inactive_user"


def test_a_provider_that_is_down_gives_a_clear_page_not_an_error(client, settings, db):
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.JUECE_SITE_URL = SITE
    settings.JUECE_OIDC_ISSUER = f"http://127.0.0.1:{closed}"
    settings.JUECE_OIDC_CLIENT_ID = CLIENT_ID
    settings.JUECE_OIDC_CLIENT_SECRET = CLIENT_SECRET
    response = start(client, "oidc")
    assert response.status_code == 502
    assert "暂时无法连接统一身份认证，请稍后重试" in response.content.decode()
    assert refusal()["reason"] == "provider_unavailable"


def test_a_provider_that_goes_down_before_the_callback_gives_a_clear_page(client, provider, li_si):
    ExternalIdentity.objects.create(provider="oidc", subject=provider.next_subject, user=li_si)
    callback = sign_in_at_provider(start(client, "oidc"))
    provider.stop()
    response = client.get(callback)
    assert response.status_code == 502 and signed_in_as(client) is None
    assert refusal()["reason"] == "provider_unavailable"


def test_a_provider_not_trusted_for_the_strong_check_leaves_the_second_factor_to_juece(
    client, provider, li_si, settings
):
    settings.JUECE_REQUIRE_MFA = True
    settings.JUECE_OIDC_MFA = False
    ExternalIdentity.objects.create(provider="oidc", subject=provider.next_subject, user=li_si)
    client.get(sign_in_at_provider(start(client, "oidc")))
    assert signed_in_as(client) == str(li_si.pk) and "juece_mfa" not in client.session
    held = client.get(reverse("workflows:inbox"))
    assert held.status_code == 302 and held["Location"].startswith(reverse("mfa_enrol"))


def test_a_trusted_provider_counts_as_the_second_factor(client, provider, li_si, settings):
    settings.JUECE_REQUIRE_MFA = True
    ExternalIdentity.objects.create(provider="oidc", subject=provider.next_subject, user=li_si)
    client.get(sign_in_at_provider(start(client, "oidc")))
    inbox = client.get(reverse("workflows:inbox"))
    assert not (inbox.status_code == 302 and inbox["Location"].startswith(reverse("mfa_enrol")))


def test_an_administrator_links_an_identity_in_the_admin_and_it_is_audited(client, li_si, db):
    root = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(root)
    assert client.get("/admin/juece_accounts/externalidentity/add/").status_code == 200
    saved = client.post(
        "/admin/juece_accounts/externalidentity/add/", {"provider": "zzd", "subject": "100135", "user": li_si.pk}
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    identity = ExternalIdentity.objects.get(provider="zzd", subject="100135")
    assert identity.user == li_si
    linked = refusal("security:external_identity_linked")
    assert linked["method"] == "admin" and events("security:external_identity_linked")[0].actor_id == root.pk
    client.post(f"/admin/juece_accounts/externalidentity/{identity.pk}/delete/", {"post": "yes"})
    assert not ExternalIdentity.objects.exists()
    assert refusal("security:external_identity_unlinked")["subject"] == "100135"


# -- 浙政钉 -------------------------------------------------------------------------------------------------


def test_a_linked_zzd_account_signs_in_with_every_call_signed(client, platform, db):
    wang_wu = get_user_model().objects.create_user("wang_wu")
    ExternalIdentity.objects.create(provider="zzd", subject="100135", user=wang_wu)
    assert "使用浙政钉登录" in client.get(reverse("login")).content.decode()

    response = start(client, "zzd")
    sent = parse_qs(urlsplit(response["Location"]).query)
    assert response["Location"].startswith(platform.url + "/oauth2/auth.htm?")
    assert sent["client_id"] == [APP_KEY] and sent["scope"] == ["get_user_info"] and sent["state"][0]

    landing = client.get(sign_in_at_provider(response))
    assert landing.status_code == 302 and signed_in_as(client) == str(wang_wu.pk)
    assert platform.signatures_checked == ["GET /gettoken.json", "POST /rpc/oauth2/getuserinfo_bycode.json"]
    assert client.session["juece_mfa"] == "oidc:zzd"
    login = events("security:login")
    assert len(login) == 1 and login[0].payload["provider"] == "zzd"


def test_a_wrong_app_secret_is_refused_by_the_platform_and_shown_clearly(client, platform, settings, db):
    settings.JUECE_ZZD_APP_SECRET = "not-the-secret"
    response = client.get(sign_in_at_provider(start(client, "zzd")))
    assert response.status_code == 403 and "浙政钉未完成登录" in response.content.decode()
    assert signed_in_as(client) is None
    failed = refusal()
    assert failed["reason"] == "provider_error" and failed["detail"] == "OPF-B001-05-16-0009"
    assert "not-the-secret" not in json.dumps(failed)


def test_zzd_refuses_another_state_and_an_unknown_account(client, platform, db):
    callback = sign_in_at_provider(start(client, "zzd"))
    assert client.get(re.sub(r"state=[^&]+", "state=forged", callback)).status_code == 400
    assert platform.signatures_checked == []  # nothing asked of the platform for a forged answer

    unknown = client.get(sign_in_at_provider(start(client, "zzd")))
    assert unknown.status_code == 403 and "您的浙政钉账号尚未关联本系统用户" in unknown.content.decode()
    reasons = [event.payload["reason"] for event in events("security:external_login_failed")]
    assert reasons == ["bad_state", "unknown_identity"]
    assert events("security:external_login_failed")[1].payload["detail"] == "100135"


def test_a_used_zzd_code_is_refused_by_the_platform(client, platform, db):
    wang_wu = get_user_model().objects.create_user("wang_wu")
    ExternalIdentity.objects.create(provider="zzd", subject="100135", user=wang_wu)
    callback = sign_in_at_provider(start(client, "zzd"))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    platform.codes.pop(code)  # already redeemed elsewhere
    response = client.get(callback)
    assert response.status_code == 403 and signed_in_as(client) is None
    assert refusal()["detail"] == "240111"
