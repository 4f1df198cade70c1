"""双因素认证: TOTP and WebAuthn as second factors, switched on for everyone with JUECE_REQUIRE_MFA.

TOTP codes are computed here from the stored key (RFC 6238, independently of django-otp) at the test's clock;
WebAuthn is a software authenticator (a P-256 key made with `cryptography`) whose attestation and assertions the
server verifies with py_webauthn, as it would a USB key's.
"""

import hashlib
import hmac
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from types import SimpleNamespace

import axes.attempts
import axes.handlers.proxy
import cbor2
import django_otp.plugins.otp_totp.models as totp_models
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from rest_framework.authtoken.models import Token

from decisions import audit
from decisions.accounts import mfa
from decisions.accounts.policy import mark_as_changed
from decisions.models import AuditEvent
from decisions.walkthrough import initiation as walk
from tests.clock import Clock

pytestmark = pytest.mark.django_db

GOOD = "Zhengfu-2026!"
INBOX = reverse("workflows:inbox")
VERIFY = reverse("mfa_verify")
ENROL = reverse("mfa_enrol")
DEVICES = reverse("mfa_devices")
WEBAUTHN = "/accounts/mfa/webauthn/"


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    monkeypatch.setattr(axes.attempts, "now", clock)
    monkeypatch.setattr(axes.handlers.proxy, "now", clock)
    monkeypatch.setattr(totp_models, "time", SimpleNamespace(time=clock.timestamp))
    return clock


@pytest.fixture
def account(db):
    def make(username="zhang_san"):
        user = get_user_model().objects.create_user(username, password=GOOD, is_staff=True, is_superuser=True)
        mark_as_changed(user)  # their own password: no change due
        return user

    return make


def totp_code(device, at):
    """RFC 6238 (HMAC-SHA1, 30 s, 6 digits) from the device's stored key, written out here on purpose."""
    counter = int(at.timestamp()) // 30
    digest = hmac.new(bytes.fromhex(device.key), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def log_in(client, username="zhang_san", password=GOOD):
    response = client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302
    return response


def confirmed_totp(user):
    device = TOTPDevice.objects.create(user=user, name="手机", confirmed=True)
    return device


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def held(response, *, to):
    return response.status_code == 302 and response["Location"].startswith(to)


# -- TOTP: enrol, verify, replay, throttle ------------------------------------------------------------------------


def test_with_mfa_required_a_new_user_enrols_a_totp_app_by_scanning_and_confirming_a_code(
    client, clock, account, settings
):
    settings.JUECE_REQUIRE_MFA = True
    user = account()
    log_in(client)
    assert held(client.get(INBOX), to=ENROL)

    page = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert "<svg" in page  # the QR code, drawn on the server
    from base64 import b32encode

    secret = b32encode(bytes.fromhex(device.key)).decode().rstrip("=")
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    assert client.get(ENROL).content.decode().count(secret[:4]) >= 1  # a reload keeps the same secret
    assert TOTPDevice.objects.filter(user=user).count() == 1

    # A wrong code does not bind it; the right one, from the app at this moment, does.
    clock.advance(seconds=30)
    refused = client.post(ENROL, {"code": "000000" if totp_code(device, clock.at) != "000000" else "111111"})
    assert refused.status_code == 200 and "验证码不正确" in refused.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    clock.advance(seconds=5)  # past the throttle's one second
    done = client.post(ENROL, {"code": totp_code(device, clock.at), "name": "我的手机", "next": INBOX})
    assert held(done, to=INBOX)
    device.refresh_from_db()
    assert device.confirmed and device.name == "我的手机"
    assert client.session[mfa.SESSION_KEY] == "totp"
    assert client.get(INBOX).status_code == 200

    enrolments = events(mfa.MFA_ENROL)
    assert [e.payload["result"] for e in enrolments] == ["failure", "success"]
    assert enrolments[1].payload["method"] == "totp" and enrolments[1].object_id == str(user.pk)


def test_a_user_with_a_totp_device_must_verify_even_when_mfa_is_not_required(client, clock, account):
    assert settings.JUECE_REQUIRE_MFA is False  # the default
    user = account()
    device = confirmed_totp(user)
    log_in(client)
    assert held(client.get(INBOX), to=VERIFY)

    code = totp_code(device, clock.at)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = client.post(VERIFY, {"code": wrong})
    assert refused.status_code == 200 and held(client.get(INBOX), to=VERIFY)
    clock.advance(seconds=2)
    code = totp_code(device, clock.at)
    assert held(client.post(VERIFY, {"code": code, "next": INBOX}), to=INBOX)
    assert client.get(INBOX).status_code == 200

    # The same code again (another session, same time step) is a replay: refused.
    client.post(reverse("logout"))
    log_in(client)
    assert client.post(VERIFY, {"code": code}).status_code == 200
    assert held(client.get(INBOX), to=VERIFY)
    # The app's next code, half a minute later, is accepted (after the throttle's wait).
    clock.advance(seconds=30)
    assert held(client.post(VERIFY, {"code": totp_code(device, clock.at)}), to=INBOX)

    results = [(e.payload["result"], e.payload.get("reason")) for e in events(mfa.MFA_VERIFY)]
    assert results == [("failure", "wrong_code"), ("success", None), ("failure", "wrong_code"), ("success", None)]


def test_wrong_codes_are_throttled_so_even_the_right_code_waits(client, clock, account):
    user = account()
    device = confirmed_totp(user)
    log_in(client)
    for _ in range(3):
        client.post(VERIFY, {"code": "12345x"})
        clock.advance(seconds=10)
    client.post(VERIFY, {"code": "999999" if totp_code(device, clock.at) != "999999" else "888888"})
    # Four failures: the device now waits 8 seconds (1, 2, 4, 8 …), whatever code comes.
    clock.advance(seconds=3)
    page = client.post(VERIFY, {"code": totp_code(device, clock.at)}).content.decode()
    assert "请 5 秒后再试" in page
    assert held(client.get(INBOX), to=VERIFY)
    assert events(mfa.MFA_VERIFY)[-1].payload["reason"] == "throttled"
    clock.advance(seconds=30)
    assert held(client.post(VERIFY, {"code": totp_code(device, clock.at)}), to=INBOX)


# -- the gate: no staff page before the second factor ---------------------------------------------------------


@pytest.fixture
def gated(client, clock, open_cast, settings):
    """A staff member signed in with the password only, under REQUIRE_MFA with a TOTP device."""
    settings.JUECE_REQUIRE_MFA = True
    user = open_cast["GOV_OFFICE"]  # holds a role for the organ's decisions
    user.set_password(GOOD)
    user.is_staff = user.is_superuser = True
    user.save()
    mark_as_changed(user)
    device = confirmed_totp(user)
    decision = walk.propose(open_cast)
    log_in(client, user.username)
    return SimpleNamespace(user=user, device=device, decision=decision)


def test_with_mfa_required_no_staff_page_opens_before_the_second_factor(client, gated):
    pages = [
        "/",
        INBOX,
        reverse("decisions:detail", args=[gated.decision.reference]),
        "/admin/",
        "/admin/auth/user/",
        DEVICES,
    ]
    for page in pages:
        assert held(client.get(page), to=VERIFY), page
    assert client.get(INBOX)["Location"] == f"{VERIFY}?next={INBOX.replace('/', '%2F')}"
    # Forms are held too, whatever they post.
    assert held(client.post(reverse("decisions:detail", args=[gated.decision.reference]), {}), to=VERIFY)


def test_an_api_request_on_an_unverified_session_is_refused_with_mfa_required(client, gated):
    response = client.get("/api/v1/decisions/")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "MFA_REQUIRED" and body["message"]["zh"] and body["message"]["en"]
    assert client.post("/api/v1/decisions/", {}).json()["code"] == "MFA_REQUIRED"


def test_api_token_clients_are_not_held_by_the_second_factor(gated):
    from rest_framework.test import APIClient

    token = Token.objects.create(user=gated.user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/decisions/").status_code == 200


def test_signing_out_the_password_change_and_the_public_pages_stay_open(client, gated):
    assert client.get(reverse("password_change")).status_code == 200
    assert client.get(reverse("public:decisions")).status_code == 200
    assert client.get(VERIFY).status_code == 200
    assert held(client.post(reverse("logout")), to=reverse("login"))
    assert "_auth_user_id" not in client.session


def test_after_verifying_every_staff_page_opens(client, gated, clock):
    assert held(client.post(VERIFY, {"code": totp_code(gated.device, clock.at)}), to=INBOX)
    assert client.get(reverse("decisions:detail", args=[gated.decision.reference])).status_code == 200
    assert not held(client.get("/admin/"), to=VERIFY)
    assert client.get("/api/v1/decisions/").status_code == 200


def test_an_external_providers_check_counts_as_the_second_factor(client, gated):
    session = client.session
    session["juece_mfa"] = "oidc:zzd"
    session.save()
    assert client.get(INBOX).status_code == 200
    assert client.get("/api/v1/decisions/").status_code == 200


def test_mark_verified_is_the_one_way_to_set_the_flag(rf, gated):
    request = rf.get(INBOX)
    request.user = gated.user
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    assert not mfa.is_verified(request) and mfa.pending(request) == mfa.VERIFY
    mfa.mark_verified(request, "oidc:zzd")
    assert mfa.is_verified(request) and request.session["juece_mfa"] == "oidc:zzd"
    assert mfa.pending(request) is None


def test_with_mfa_required_a_user_without_a_device_is_sent_to_enrol_and_the_api_refuses(
    client, clock, account, settings
):
    settings.JUECE_REQUIRE_MFA = True
    account()
    log_in(client)
    assert held(client.get("/admin/"), to=ENROL)
    assert held(client.get(VERIFY), to=ENROL)
    assert client.get("/api/v1/decisions/").json()["code"] == "MFA_REQUIRED"


def test_an_unverified_session_cannot_enrol_a_new_factor_to_get_round_the_old_one(client, gated):
    assert held(client.get(ENROL), to=VERIFY)
    assert client.post(f"{WEBAUTHN}registration/begin/").status_code == 403
    assert not TOTPDevice.objects.filter(user=gated.user, confirmed=False).exists()


# -- the user's devices ----------------------------------------------------------------------------------------


def test_the_last_device_cannot_be_removed_while_mfa_is_required(client, gated, clock, settings):
    client.post(VERIFY, {"code": totp_code(gated.device, clock.at)})
    page = client.get(DEVICES).content.decode()
    assert "手机" in page and gated.device.persistent_id in page

    refused = client.post(reverse("mfa_remove"), {"device": gated.device.persistent_id}, follow=True)
    assert "不能删除最后一个认证设备" in refused.content.decode()
    assert TOTPDevice.objects.filter(pk=gated.device.pk).exists()

    second = confirmed_totp(gated.user)
    client.post(reverse("mfa_remove"), {"device": gated.device.persistent_id})
    assert not TOTPDevice.objects.filter(pk=gated.device.pk).exists()
    # Somebody else's device is not found, however its id is written.
    other = confirmed_totp(get_user_model().objects.create_user("li_si"))
    assert client.post(reverse("mfa_remove"), {"device": other.persistent_id}).status_code == 404

    settings.JUECE_REQUIRE_MFA = False
    client.post(reverse("mfa_remove"), {"device": second.persistent_id})
    assert not mfa.has_device(gated.user)
    removals = [(e.payload["result"], e.payload["method"]) for e in events(mfa.MFA_REMOVE)]
    assert removals == [("failure", "totp"), ("success", "totp"), ("success", "totp")]


# -- WebAuthn with a software authenticator -----------------------------------------------------------------------


def b64url(data):
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftwareKey:
    """A FIDO2 authenticator in software: one P-256 credential, "none" attestation, ES256 assertions (WebAuthn L2)."""

    def __init__(self, origin):
        self.origin = origin
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    def _client_data(self, kind, challenge):
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}).encode()

    def create(self, options):
        numbers = self.private_key.public_key().public_numbers()
        cose_key = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + cbor2.dumps(cose_key)
        rp_id_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        auth_data = rp_id_hash + bytes([0x41]) + struct.pack(">I", self.sign_count) + attested  # UP | AT
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"])),
                "attestationObject": b64url(attestation),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
        }

    def get(self, options, signing_key=None):
        self.sign_count += 1
        rp_id_hash = hashlib.sha256(options["rpId"].encode()).digest()
        auth_data = rp_id_hash + bytes([0x01]) + struct.pack(">I", self.sign_count)  # UP
        client_data = self._client_data("webauthn.get", options["challenge"])
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = (signing_key or self.private_key).sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64url(auth_data),
                "clientDataJSON": b64url(client_data),
                "signature": b64url(signature),
            },
            "clientExtensionResults": {},
        }


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def register(client, key):
    options = post_json(client, f"{WEBAUTHN}registration/begin/").json()
    return post_json(client, f"{WEBAUTHN}registration/complete/", key.create(options))


def authenticate(client, key, signing_key=None):
    options = post_json(client, f"{WEBAUTHN}authentication/begin/").json()
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(key.credential_id)]
    return post_json(client, f"{WEBAUTHN}authentication/complete/?next={INBOX}", key.get(options, signing_key))


@pytest.fixture
def origin():
    return settings.OTP_WEBAUTHN_ALLOWED_ORIGINS[0]


def test_a_security_key_registers_and_then_verifies_the_second_factor(client, clock, account, settings, origin):
    settings.JUECE_REQUIRE_MFA = True
    user = account()
    log_in(client)
    key = SoftwareKey(origin)
    response = register(client, key)
    assert response.status_code == 200, response.content
    credential = WebAuthnCredential.objects.get(user=user)
    assert credential.confirmed and bytes(credential.credential_id) == key.credential_id
    assert client.session[mfa.SESSION_KEY] == "webauthn"
    assert client.get(INBOX).status_code == 200

    # Next sign-in: the password, then the key's signature over the server's challenge.
    client.post(reverse("logout"))
    log_in(client)
    assert held(client.get(INBOX), to=VERIFY)
    assert "passkey-verification-placeholder" in client.get(VERIFY).content.decode()
    verified = authenticate(client, key)
    assert verified.status_code == 200 and verified.json()["redirect_url"] == INBOX
    assert client.session[mfa.SESSION_KEY] == "webauthn"
    assert client.get(INBOX).status_code == 200
    credential.refresh_from_db()
    assert credential.sign_count == 1

    assert [e.payload["method"] for e in events(mfa.MFA_ENROL)] == ["webauthn"]
    assert [(e.payload["result"], e.payload["method"]) for e in events(mfa.MFA_VERIFY)] == [("success", "webauthn")]


def test_a_wrong_signature_or_a_replayed_assertion_is_refused(client, clock, account, origin):
    user = account()
    key = SoftwareKey(origin)
    log_in(client)
    assert register(client, key).status_code == 200  # no device yet: enrolling needs only the password
    client.post(reverse("logout"))
    log_in(client)

    forged = authenticate(client, key, signing_key=ec.generate_private_key(ec.SECP256R1()))
    assert forged.status_code == 422 and forged.json()["code"] == "invalid_authentication_response"
    assert held(client.get(INBOX), to=VERIFY)

    # A genuine assertion made for one challenge does not answer the next one.
    options = post_json(client, f"{WEBAUTHN}authentication/begin/").json()
    assertion = key.get(options)
    assert post_json(client, f"{WEBAUTHN}authentication/complete/", assertion).status_code == 200
    client.post(reverse("logout"))
    log_in(client)
    post_json(client, f"{WEBAUTHN}authentication/begin/")
    replayed = post_json(client, f"{WEBAUTHN}authentication/complete/", assertion)
    assert replayed.status_code == 422 and held(client.get(INBOX), to=VERIFY)

    outcomes = [(e.payload["result"], e.payload.get("reason")) for e in events(mfa.MFA_VERIFY)]
    assert outcomes == [
        ("failure", "invalid_authentication_response"),
        ("success", None),
        ("failure", "invalid_authentication_response"),
    ]
    assert all(e.object_id == str(user.pk) for e in events(mfa.MFA_VERIFY))


def test_a_key_registered_for_another_site_is_refused(client, clock, account):
    account()
    log_in(client)
    response = register(client, SoftwareKey("https://phishing.example"))
    assert response.status_code == 422
    assert not WebAuthnCredential.objects.exists()
    assert events(mfa.MFA_ENROL)[-1].payload["result"] == "failure"


def test_a_key_of_another_user_does_not_verify_this_session(client, clock, account, origin):
    key = SoftwareKey(origin)
    account("li_si")
    log_in(client, "li_si")
    register(client, key)
    client.post(reverse("logout"))
    user = account()
    confirmed_totp(user)
    log_in(client)
    options = post_json(client, f"{WEBAUTHN}authentication/begin/").json()
    assert options["allowCredentials"] == []
    refused = post_json(client, f"{WEBAUTHN}authentication/complete/", key.get(options))
    assert refused.status_code == 403 and held(client.get(INBOX), to=VERIFY)


# -- the audit chain -------------------------------------------------------------------------------------------


def test_mfa_events_join_the_audit_chain_without_secrets_or_codes(client, clock, account, origin):
    user = account()
    log_in(client)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    code = totp_code(device, clock.at)
    client.post(ENROL, {"code": code})
    register(client, SoftwareKey(origin))
    client.post(reverse("logout"))
    log_in(client)
    client.post(VERIFY, {"code": "000001"})

    assert audit.verify().ok
    recorded = AuditEvent.objects.filter(action__startswith="security:mfa_")
    assert {e.action for e in recorded} == {mfa.MFA_ENROL, mfa.MFA_VERIFY}
    for event in recorded:
        text = json.dumps(event.payload)
        assert device.key not in text and code not in text and "000001" not in text
        assert event.payload["address"]  # where the attempt came from
