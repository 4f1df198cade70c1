"""Signed sign-offs (不可否认性) and the 国密 SM3 manifest of bundles: sign at sign-off, check offline."""

import base64
import hashlib
import io
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from decisions import audit, crypto, signing
from decisions.models import AuditEvent, Decision, Role, SigningKey, SignOff
from decisions.rules import ProcedureRefused
from decisions.walkthrough import initiation as walk
from reports.bundle import export_decision_bundle
from reports.verify import SM3_MANIFEST, verify_bundle
from tests.decisions.test_implementation import decided
from tests.reports.test_bundle import flip, read_bag, tampered

pytestmark = pytest.mark.django_db
ALGORITHM = {"intl": "Ed25519", "gm": "SM2-SM3"}


def everyone(cast):
    users = [u for u in cast.users.values() if u is not None]
    for extra in cast.extra.values():
        users.extend(extra if isinstance(extra, list) else [extra])
    return list({u.pk: u for u in users}.values())


@pytest.fixture
def keys_dir(settings, tmp_path):
    settings.JUECE_SIGNING_KEY_DIR = tmp_path / "signing_keys"
    return settings.JUECE_SIGNING_KEY_DIR


def signing_keys_for(cast, algorithm):
    """Every user of the cast gets a key pair in the local signing service, its public key registered."""
    return {user.pk: signing.generate_key(user, algorithm) for user in everyone(cast)}


def signed_to_drafting(cast):
    """Propose, start (T3b) and draft: sign-offs by the office and the lead unit."""
    return walk.draft(cast, walk.initiate(cast, walk.propose(cast)))


def export(cast, decision, path):
    return export_decision_bundle(cast[Role.SUPERVISOR], decision, path)


def verify(path):
    return verify_bundle(path, audit_key=settings.AUDIT_KEY)


# -- signing at sign-off --------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["intl", "gm"])
def test_a_server_signed_sign_off_verifies_under_the_signers_registered_key(open_cast, settings, keys_dir, profile):
    settings.JUECE_CRYPTO_PROFILE, settings.JUECE_SIGN_OFFS = profile, "server"
    signing_keys_for(open_cast, ALGORITHM[profile])
    decision = signed_to_drafting(open_cast)

    signoffs = list(SignOff.objects.filter(decision=decision).select_related("signing_key", "user"))
    assert signoffs
    for signoff in signoffs:
        assert signoff.signature_algorithm == ALGORITHM[profile]
        assert signoff.signing_key.user == signoff.user and signoff.signing_key.revoked_at is None
        assert signoff.signer_public_key == signoff.signing_key.public_key
        assert signing.signature_verifies(signoff) and signing.problems_of(signoff) == []
        # 国密: the signed digest is the SM3 of the manifest; intl signs its SHA-256.
        digest_algorithm, digest = signing.signed_digest(signoff.signature_algorithm, audit.canonical(signoff.manifest))
        assert digest_algorithm == ("SM3" if profile == "gm" else "SHA-256")
        assert signoff.content_sm3 == (digest if profile == "gm" else "")
        assert digest == (signoff.content_sm3 or signoff.content_sha256)
        assert signoff.record_mac_algorithm == ("HMAC-SM3" if profile == "gm" else "HMAC-SHA256")
        # The chained audit event records which key signed, so a signature cannot be stripped from the record.
        event = AuditEvent.objects.get(action="signoff", object_id=str(signoff.pk))
        assert event.payload["signature"]["key"] == signoff.signing_key.fingerprint
    # Another message, or another key, does not verify.
    signoff = signoffs[0]
    other_public = crypto.generate_signing_key(ALGORITHM[profile])[1]
    wrong_key = SignOff(**{**_fields(signoff), "signer_public_key": signing.b64(other_public)})
    assert not signing.signature_verifies(wrong_key)

    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"已签名 {len(signoffs)} 条" in out.getvalue() and ALGORITHM[profile] in out.getvalue()


def _fields(signoff):
    return {f.attname: getattr(signoff, f.attname) for f in SignOff._meta.concrete_fields if f.attname != "id"}


def test_without_a_registered_key_or_with_a_revoked_one_nothing_is_signed(open_cast, settings, keys_dir):
    settings.JUECE_CRYPTO_PROFILE, settings.JUECE_SIGN_OFFS = "gm", "server"
    office = open_cast[Role.GOV_OFFICE]
    decision = walk.propose(open_cast)
    before = (SignOff.objects.count(), AuditEvent.objects.count())

    with pytest.raises(ProcedureRefused) as refused:
        walk.initiate(open_cast, decision)
    assert refused.value.code == "SIGNING_KEY_MISSING"

    key = signing.generate_key(office, "SM2-SM3")
    signing.revoke_key(key)
    with pytest.raises(ProcedureRefused) as refused:
        walk.initiate(open_cast, decision)
    assert refused.value.code == "SIGNING_KEY_REVOKED" and "吊销" in str(refused.value)
    # The action rolled back whole: still PROPOSED, no sign-off, only the key's own events were added.
    assert Decision.objects.get(pk=decision.pk).state == decision.state
    assert SignOff.objects.count() == before[0]
    assert set(AuditEvent.objects.order_by("seq")[before[1] :].values_list("action", flat=True)) == {
        "signing_key:register",
        "signing_key:revoke",
    }

    signing.generate_key(office, "SM2-SM3")  # a new key: signs again
    assert walk.initiate(open_cast, decision).signoffs.get().signature_algorithm == "SM2-SM3"


# -- client mode: the signer's UKey signs ------------------------------------------------------------------------


def test_client_mode_accepts_the_signers_ukey_signature_and_refuses_another_keys(open_cast, settings, client):
    settings.JUECE_CRYPTO_PROFILE, settings.JUECE_SIGN_OFFS = "gm", "client"
    office = open_cast[Role.GOV_OFFICE]
    ukey_private, ukey_public = crypto.generate_signing_key("SM2-SM3")  # the private key never reaches juece
    signing.register_key(office, "SM2-SM3", ukey_public)
    stranger_private, _ = crypto.generate_signing_key("SM2-SM3")
    decision = walk.propose(open_cast)

    with pytest.raises(ProcedureRefused) as refused:  # no UKey at hand
        walk.initiate(open_cast, decision)
    assert refused.value.code == "SIGNATURE_REQUIRED"

    seen = []

    def ukey(private):
        def sign(message, algorithm):
            seen.append(message)
            return base64.b64encode(crypto.sign_with(algorithm, private, message)).decode()

        return sign

    with signing.signed_by(ukey(stranger_private)), pytest.raises(ProcedureRefused) as refused:
        walk.initiate(open_cast, decision)
    assert refused.value.code == "SIGNATURE_INVALID"
    assert not SignOff.objects.filter(decision=decision).exists()

    with signing.signed_by(ukey(ukey_private)):
        decision = walk.initiate(open_cast, decision)
    signoff = decision.signoffs.get()
    # What the UKey signed: the statement over the SM3 of the manifest the dossier embeds.
    assert seen[-1] == f"juece-signoff/1|SM3|{signoff.content_sm3}".encode()
    assert signoff.signer_public_key == signing.b64(ukey_public) and signing.problems_of(signoff) == []

    # The decision page marks the signed sign-off.
    client.force_login(office)
    page = client.get(reverse("decisions:detail", args=[decision.reference])).content.decode()
    assert "已签名 SM2-SM3 ✓" in page


# -- profile switch and the record MAC ---------------------------------------------------------------------------


def test_switching_profile_keeps_older_signatures_and_record_macs_verifiable(open_cast, settings, keys_dir, tmp_path):
    settings.JUECE_SIGN_OFFS = "server"
    settings.JUECE_CRYPTO_PROFILE = "intl"
    signing_keys_for(open_cast, "Ed25519")
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    settings.JUECE_CRYPTO_PROFILE = "gm"
    signing_keys_for(open_cast, "SM2-SM3")
    decision = walk.draft(open_cast, decision)

    algorithms = set(decision.signoffs.values_list("signature_algorithm", "record_mac_algorithm"))
    assert algorithms == {("Ed25519", "HMAC-SHA256"), ("SM2-SM3", "HMAC-SM3")}
    checked = signing.verify_signoff_records()
    assert checked.ok and checked.algorithms.keys() == {"Ed25519", "SM2-SM3"}
    settings.JUECE_CRYPTO_PROFILE = "intl"
    assert signing.verify_signoff_records().ok  # and back again
    # Offline too: a bundle holding both kinds verifies every signature with the algorithm it names.
    report = verify(export(open_cast, decision, tmp_path / "both.zip").path)
    assert report.ok and not report.warnings and report.counts["signatures"] == decision.signoffs.count()

    # A sign-off changed behind the application's back (a direct UPDATE) fails verify_audit, naming it.
    first = decision.signoffs.order_by("id").first()
    SignOff.objects.filter(pk=first.pk).update(subject="改过的签署事项")
    with pytest.raises(CommandError, match=rf"#{first.pk}: record_mac"):
        call_command("verify_audit", stdout=io.StringIO())


# -- bundles: SM3 manifest and signatures, checked offline ---------------------------------------------------------


@pytest.fixture
def gm_bundle(open_cast, settings, keys_dir, tmp_path):
    settings.JUECE_CRYPTO_PROFILE, settings.JUECE_SIGN_OFFS = "gm", "server"
    signing_keys_for(open_cast, "SM2-SM3")
    decision = decided(open_cast)
    path = tmp_path / "bundle.zip"
    export(open_cast, decision, path)
    return path, decision


def test_a_gm_bundle_lists_the_sm3_of_every_payload_file_and_verifies_offline(gm_bundle, tmp_path):
    path, decision = gm_bundle
    _prefix, files = read_bag(path)
    payload = sorted(name for name in files if name.startswith("data/"))
    lines = files[SM3_MANIFEST].decode().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == payload
    for line in lines:
        digest, name = line.split("  ", 1)
        assert digest == crypto.digest_with("SM3", files[name])
    # bagit's own tag manifest covers the SM3 manifest; bag-info names it, so removing it is noticed.
    assert f" {SM3_MANIFEST}\n" in files["tagmanifest-sha256.txt"].decode()
    assert f"Juece-SM3-Manifest: {SM3_MANIFEST}" in files["bag-info.txt"].decode()
    # Each sign-off travels with its signature, algorithm and public key.
    index = json.loads(files["data/decision.json"])
    assert index["signoffs"] and all(s["signature_algorithm"] == "SM2-SM3" for s in index["signoffs"])

    report = verify(path)
    assert report.ok and report.macs_checked and not report.warnings, report.problems
    assert report.counts["signatures"] == decision.signoffs.count()
    assert report.counts["sm3_files"] == len(payload)

    # The auditor's own check, without Django: python -m reports.verify.
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment["AUDIT_KEY_FOR_CHECK"] = settings.AUDIT_KEY
    done = subprocess.run(
        [sys.executable, "-m", "reports.verify", "verify", str(path), "--audit-key-env", "AUDIT_KEY_FOR_CHECK"],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "签名 signatures" in done.stdout and "完整 INTACT" in done.stdout

    # Without its SM3 manifest the bag says it is missing, even when bagit's manifests are re-written.
    stripped = tampered(path, tmp_path / "stripped.zip", lambda f: f.pop(SM3_MANIFEST), reseal=True)
    assert "SM3_MANIFEST_MISSING" in verify(stripped).codes()


def test_one_changed_byte_of_a_payload_file_fails_the_sm3_manifest(gm_bundle, tmp_path):
    path, _decision = gm_bundle
    _prefix, files = read_bag(path)
    victim = sorted(name for name in files if name.startswith("data/documents/"))[0]

    def edit(files):
        files[victim] = flip(files[victim])

    # Re-sealed: bagit's SHA-256 manifests are re-written to match, the SM3 manifest still names the change.
    report = verify(tampered(path, tmp_path / "changed.zip", edit, reseal=True))
    assert not report.ok
    assert victim in [p.path for p in report.problems if p.code == "SM3_MANIFEST_MISMATCH"]


def test_a_sign_off_manifest_changed_in_the_bundle_fails_its_signature(gm_bundle, tmp_path):
    path, _decision = gm_bundle

    def edit(files):
        index = json.loads(files["data/decision.json"])
        signoff = index["signoffs"][0]
        signoff["manifest"]["subject"] = "另一份签署内容"
        # The forger also re-computes both digests: only the signature (and the MAC-chained event) can tell.
        text = audit.canonical(signoff["manifest"]).encode()
        signoff["content_sha256"] = hashlib.sha256(text).hexdigest()
        signoff["content_sm3"] = crypto.digest_with("SM3", text)
        files["data/decision.json"] = json.dumps(index, ensure_ascii=False).encode()

    report = verify(tampered(path, tmp_path / "forged.zip", edit, reseal=True))
    assert "SIGNOFF_SIGNATURE_INVALID" in report.codes(), report.problems
    assert "SIGNOFF_HASH_MISMATCH" not in report.codes()

    def strip(files):  # dropping the signature altogether is caught by the signoff audit event
        index = json.loads(files["data/decision.json"])
        index["signoffs"][0].update(signature="", signature_algorithm="", signer_public_key="")
        files["data/decision.json"] = json.dumps(index, ensure_ascii=False).encode()

    assert (
        "SIGNOFF_SIGNATURE_UNATTESTED" in verify(tampered(path, tmp_path / "stripped.zip", strip, reseal=True)).codes()
    )


# -- registering keys ----------------------------------------------------------------------------------------------


def test_an_administrator_registers_a_ukeys_public_key_from_a_file(open_cast, tmp_path):
    user = open_cast[Role.CHIEF]
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "chief.pem").write_bytes(pem)
    out = io.StringIO()
    call_command(
        "register_signing_key", user.username, str(tmp_path / "chief.pem"), "--algorithm", "Ed25519", stdout=out
    )
    ed_key = SigningKey.objects.get(user=user, algorithm="Ed25519")
    assert base64.b64decode(ed_key.public_key) == private.public_key().public_bytes_raw()
    assert ed_key.fingerprint in out.getvalue()

    _sm2_private, sm2_public = crypto.generate_signing_key("SM2-SM3")
    (tmp_path / "chief-sm2.hex").write_text(sm2_public.hex())
    call_command(
        "register_signing_key", user.username, str(tmp_path / "chief-sm2.hex"), "--algorithm", "SM2-SM3", stdout=out
    )
    assert SigningKey.objects.filter(user=user, revoked_at=None).count() == 2

    # A point off the SM2 curve is no public key; nothing is registered.
    (tmp_path / "bad.hex").write_text("04" + "01" * 64)
    with pytest.raises(CommandError, match="未登记"):
        call_command("register_signing_key", user.username, str(tmp_path / "bad.hex"), "--algorithm", "SM2-SM3")
    # Registering a new key of an algorithm revokes the older one, which stays for checking what it signed.
    newer = Ed25519PrivateKey.generate().public_key()
    (tmp_path / "newer.pem").write_bytes(
        newer.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    call_command(
        "register_signing_key", user.username, str(tmp_path / "newer.pem"), "--algorithm", "Ed25519", stdout=out
    )
    ed_key.refresh_from_db()
    assert ed_key.revoked_at is not None
    assert SigningKey.objects.get(user=user, algorithm="Ed25519", revoked_at=None).public_key == signing.b64(
        newer.public_bytes_raw()
    )
    # A revoked key is never registered again.
    with pytest.raises(CommandError, match="未登记"):
        call_command("register_signing_key", user.username, str(tmp_path / "chief.pem"), "--algorithm", "Ed25519")
