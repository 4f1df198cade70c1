"""Signed sign-offs (不可否认性, 密评 GB/T 39786-2021 §8.4; issue 7): the signer's signature over what was signed.

What is signed. A sign-off's manifest (services.common.sign_off) is serialised canonically (audit.canonical);
the digest of that text is taken with the hash of the signature algorithm — SM3 for SM2-SM3 (国密), SHA-256
(= ``content_sha256``) for Ed25519 — and the signer signs the short statement::

    juece-signoff/1|<digest algorithm>|<hex digest>

The prefix keeps a juece sign-off signature from meaning anything else a UKey might sign. The SignOff row keeps
the signature (base64), its algorithm, a copy of the public key (so a bundle verifies offline,
reports/verify.py) and the registered ``SigningKey`` it was checked against. Under the 国密 profile the row
also stores ``content_sm3``. Every signature is verified before the row is written: a signature that does not
verify under the signer's registered, unrevoked public key means no sign-off, and the whole action rolls back
with a refusal that says why.

Keys. The signer's private key belongs in a USB key (UKey) or a signing server (签名验签服务器); juece holds
only public keys (``SigningKey``: user, algorithm, public key, SHA-256 fingerprint, revocation). An
administrator registers each one (``manage.py register_signing_key``); a revoked key signs nothing
afterwards, and what it signed stays verifiable. The algorithm is the current profile's
(settings.JUECE_CRYPTO_PROFILE); each row names its own, so switching profile keeps old signatures verifiable.

settings.JUECE_SIGN_OFFS:

``off`` (default)
    Sign-offs carry no signature (their SHA-256, SM3 and record MAC still bind them).
``server``
    The signing service (settings.JUECE_SIGNING_SERVICE, a class path) signs at sign-off. Its contract::

        class MySigningService:
            def sign(self, user, data: bytes, *, algorithm: str) -> tuple[str, bytes, bytes]:
                '''Return (algorithm, signature, public key) for `user` over `data`.'''

    It signs with the profile's algorithm (SM2-SM3 under 国密; anything else is refused, since the statement
    names the profile's digest) and returns the public key it used, which must be one registered for the user.
``client``
    The signer's own device signs. The caller of the service binds a signer for the request with
    ``with signing.signed_by(provider): service(...)``; ``provider(message: bytes, algorithm: str)`` returns
    the signature (bytes or base64). It is called inside the action's transaction, because the manifest is
    only complete there (it holds the time, the rules evaluated and the closed record). A caller without a
    provider is refused (SIGNATURE_REQUIRED).

    Not wired yet: the pages and the API bind no provider, so under ``client`` they are refused. A browser
    UKey (a local 证书助手 the page's script calls) needs the digest *before* the action, i.e. a
    prepare/confirm pair in which the confirming run reproduces the prepared manifest; that needs the action's
    time (``Context.now``, which also stamps the record's ``completed_at``) pinned from the prepared run,
    a change to ``services.common.action`` left for later. A desktop client holding the UKey (SKF/PKCS#11)
    can use ``signed_by`` today.

Default ``off``: one SM2-SM3 sign + verify takes ≈57 ms in pure Python (gmalg; median of 20 on the
development machine), cheap enough per sign-off, but ``server`` needs a registered key for every signer
(and a signing service) before the first sign-off, which a deployment arranges; so it is switched on, not on.

The development/demo service, ``LocalSigningService``, keeps each user's private key in a file of its own under
settings.JUECE_SIGNING_KEY_DIR (default ``VAR_DIR/signing_keys``), encrypted with the data key (the current
profile's AEAD, bound to the user and algorithm) — never in the database. Files, not a key derived from the
data key and the user id: a derived key could never be replaced after a revocation, and would make every
user's key a function of one secret forever. ``manage.py generate_signing_key`` makes and registers one.

Record MACs. Each SignOff row also stores a keyed MAC of its fields (the audit key, the current profile's MAC:
HMAC-SHA256 or HMAC-SM3, named in ``record_mac_algorithm``), the seal decisions/seals.py computes for every
important record; ``manage.py verify_audit`` checks it with ``verify_signoff_records()``, together with each
stored digest and signature.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import hashlib
import os
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from decisions import audit, crypto, seals

MODES = ("off", "server", "client")
MESSAGE_PREFIX = "juece-signoff/1"
# The digest a signature algorithm signs: its own hash, so an SM2 signature covers an SM3 digest.
DIGEST_OF = {"Ed25519": "SHA-256", "SM2-SM3": "SM3"}
ARTICLE = "《GB/T 39786-2021 信息系统密码应用基本要求》8.4(不可否认性)"
_signer = contextvars.ContextVar("juece_client_signer", default=None)


def mode() -> str:
    from django.conf import settings

    return settings.JUECE_SIGN_OFFS


# -- what is signed ------------------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text) -> bytes:
    return base64.b64decode(str(text or ""), validate=True)


def signed_digest(signature_algorithm: str, manifest_text: str) -> tuple[str, str]:
    """Return (digest algorithm, hex digest) of a canonical manifest, as a signature of `signature_algorithm` signs it."""
    if signature_algorithm not in DIGEST_OF:
        raise crypto.UnknownAlgorithm(signature_algorithm)
    digest_algorithm = DIGEST_OF[signature_algorithm]
    return digest_algorithm, crypto.digest_with(digest_algorithm, manifest_text.encode())


def signing_message(digest_algorithm: str, digest_hex: str) -> bytes:
    """Return the statement the signer signs: ``juece-signoff/1|SM3|<hex>`` (reports/verify.py rebuilds it)."""
    return f"{MESSAGE_PREFIX}|{digest_algorithm}|{digest_hex}".encode()


def fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


# -- registered public keys ----------------------------------------------------------------------------------


class InvalidPublicKey(crypto.CryptoError):
    pass


def check_public_key(algorithm: str, public_key: bytes) -> bytes:
    """Return `public_key` if it is a valid key of `algorithm`; raise InvalidPublicKey otherwise."""
    if algorithm == "Ed25519":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            raise InvalidPublicKey("an Ed25519 public key is 32 bytes") from None
        return public_key
    if algorithm == "SM2-SM3":
        if len(public_key) != 65 or public_key[0] != 4 or not crypto._sm2().verify_pk(public_key):
            raise InvalidPublicKey("an SM2 public key is an uncompressed point 04‖x‖y on the SM2 curve")
        return public_key
    raise crypto.UnknownAlgorithm(algorithm)


# DER of the SM2 curve's OID 1.2.156.10197.1.301 (GM/T 0006), as a UKey's exported SubjectPublicKeyInfo holds it.
SM2_CURVE_OID = bytes.fromhex("06082a811ccf5501822d")


def read_public_key(algorithm: str, content: bytes) -> bytes:
    """Return the raw public key in a file a UKey or an administrator hands over.

    Accepted: PEM or DER SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"), the raw key (Ed25519 32 bytes,
    SM2 65 bytes 04‖x‖y), or the raw key written as hex or base64 text.
    """
    text = content.strip()
    if text.startswith(b"-----BEGIN PUBLIC KEY-----"):
        body = b"".join(line for line in text.splitlines() if line and not line.startswith(b"-----"))
        return _from_spki(algorithm, base64.b64decode(body))
    candidates = [content]
    for decode in (bytes.fromhex, lambda t: base64.b64decode(t, validate=True)):
        with suppress(UnicodeDecodeError, binascii.Error, ValueError):
            candidates.append(decode(text.decode("ascii")))
    for candidate in candidates:
        try:
            return check_public_key(algorithm, candidate)
        except InvalidPublicKey:
            continue
    return _from_spki(algorithm, content)


def _from_spki(algorithm: str, der: bytes) -> bytes:
    """Return the raw key of a DER SubjectPublicKeyInfo: the end of its BIT STRING."""
    if algorithm == "Ed25519":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            loaded = serialization.load_der_public_key(der)
        except (ValueError, TypeError):  # not DER, or a curve cryptography does not know (SM2)
            loaded = None
        if isinstance(loaded, Ed25519PublicKey):
            return loaded.public_bytes_raw()
    elif algorithm == "SM2-SM3" and der[:1] == b"\x30" and SM2_CURVE_OID in der:
        return check_public_key(algorithm, der[-65:])
    raise InvalidPublicKey(f"the file holds no {algorithm} public key (raw, hex, base64, PEM or DER)")


def register_key(user, algorithm: str, public_key: bytes, actor=None):
    """Register `public_key` as `user`'s key for `algorithm`; an active key of that algorithm is revoked first."""
    from django.db import transaction
    from django.utils import timezone

    from decisions.models import SigningKey

    check_public_key(algorithm, public_key)
    known = SigningKey.objects.filter(fingerprint=fingerprint(public_key)).first()
    if known is not None:
        if known.user_id == user.pk and known.algorithm == algorithm and known.revoked_at is None:
            return known  # registered already
        raise InvalidPublicKey("this public key was registered before (revoked, or another user's): use a new key")
    with transaction.atomic():
        replaced = list(SigningKey.objects.select_for_update().filter(user=user, algorithm=algorithm, revoked_at=None))
        for key in replaced:
            revoke_key(key, actor=actor)
        key = SigningKey.objects.create(
            user=user,
            algorithm=algorithm,
            public_key=b64(public_key),
            fingerprint=fingerprint(public_key),
            created_at=timezone.now(),
        )
        audit.append(
            actor=actor,
            role="SYSTEM",
            action="signing_key:register",
            obj=key,
            payload={
                "user": user.get_username(),
                "algorithm": algorithm,
                "fingerprint": key.fingerprint,
                "replaces": [k.fingerprint for k in replaced],
            },
        )
    return key


def revoke_key(key, actor=None):
    """Revoke a registered key: it signs nothing from now on; its signatures stay verifiable."""
    from django.utils import timezone

    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.append(
            actor=actor,
            role="SYSTEM",
            action="signing_key:revoke",
            obj=key,
            payload={"user": key.user.get_username(), "algorithm": key.algorithm, "fingerprint": key.fingerprint},
        )
    return key


# -- signing services ----------------------------------------------------------------------------------------


class LocalSigningService:
    """Development/demo signing service: per-user private keys in files, encrypted under the data key.

    A deployment replaces it with an adapter to its 签名验签服务器 (settings.JUECE_SIGNING_SERVICE).
    """

    def key_path(self, user, algorithm: str) -> Path:
        from django.conf import settings

        return Path(settings.JUECE_SIGNING_KEY_DIR) / f"{user.pk}-{algorithm}.key"

    @staticmethod
    def _aad(user, algorithm) -> bytes:
        return f"juece signing key|{user.pk}|{algorithm}".encode()

    def generate(self, user, algorithm: str) -> bytes:
        """Make a new key pair for `user`, store the private key (replacing any older one); return the public key."""
        private, public = crypto.generate_signing_key(algorithm)
        path = self.key_path(user, algorithm)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = crypto.encrypt_for_storage(private, self._aad(user, algorithm))
        temporary = path.with_suffix(".part")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # readable by this account only
        with os.fdopen(fd, "w") as fh:
            fh.write(token + "\n")
        os.replace(temporary, path)
        return public

    def sign(self, user, data: bytes, *, algorithm: str) -> tuple[str, bytes, bytes]:
        path = self.key_path(user, algorithm)
        if not path.is_file():
            raise crypto.KeyUnavailable(f"no {algorithm} signing key for {user.get_username()} in {path.parent}")
        private = crypto.decrypt_from_storage(path.read_text().strip(), self._aad(user, algorithm))
        return algorithm, crypto.sign_with(algorithm, private, data), crypto.public_key_of(algorithm, private)


def generate_key(user, algorithm: str, actor=None):
    """Make `user` a key pair in the signing service (development/demo) and register its public key."""
    service = signing_service()
    if not callable(getattr(service, "generate", None)):
        raise crypto.KeyUnavailable("the signing service makes no keys: generate them in the UKey or signing server")
    return register_key(user, algorithm, service.generate(user, algorithm), actor=actor)


def _service(path: str):
    return crypto.load_service("JUECE_SIGNING_SERVICE", path, "sign", "sign(user, data, algorithm=)")


def signing_service():
    from django.conf import settings

    return _service(settings.JUECE_SIGNING_SERVICE)


@contextmanager
def signed_by(provider):
    """Bind the signer's device for the service calls inside (``client`` mode): provider(message, algorithm)."""
    token = _signer.set(provider)
    try:
        yield
    finally:
        _signer.reset(token)


# -- at sign-off ---------------------------------------------------------------------------------------------


def _refuse(code, zh, en, detail=""):
    from decisions.rules import refuse

    refuse(code, ARTICLE, zh, en, detail)


def _registered_key(user, algorithm, public_key: bytes | None):
    """Return the user's unrevoked key of `algorithm` (the one holding `public_key` if given), or refuse."""
    from decisions.models import SigningKey

    keys = SigningKey.objects.filter(user=user, algorithm=algorithm)
    if public_key is not None:
        keys = keys.filter(fingerprint=fingerprint(public_key))
    key = keys.filter(revoked_at=None).first()
    if key is not None:
        return key
    if keys.exists():
        _refuse(
            "SIGNING_KEY_REVOKED",
            "签署人的签名密钥已吊销，不能签署",
            "The signer's signing key has been revoked and signs nothing",
            f"{user.get_username()} {algorithm}",
        )
    _refuse(
        "SIGNING_KEY_MISSING",
        "签署人没有已登记的签名公钥",
        "The signer has no registered signing key",
        f"{user.get_username()} {algorithm}",
    )


def _signature(ctx, algorithm, message):
    """Return (algorithm, signature bytes, SigningKey) from the signing service or the signer's device."""
    if mode() == "server":
        try:
            used, signature, public_key = signing_service().sign(ctx.actor, message, algorithm=algorithm)
        except crypto.CryptoError as exc:
            _registered_key(ctx.actor, algorithm, None)  # no usable key registered: say that, not the service's error
            _refuse("SIGNING_SERVICE_FAILED", "签名服务未能签署", "The signing service could not sign", str(exc))
        if used != algorithm:  # what was signed names the profile's digest: another algorithm cannot stand for it
            _refuse(
                "SIGNING_SERVICE_FAILED",
                "签名服务使用了与当前密码配置不同的签名算法",
                "The signing service signed with another algorithm than the crypto profile's",
                f"{used} ≠ {algorithm}",
            )
        return algorithm, signature, _registered_key(ctx.actor, algorithm, public_key)
    provider = _signer.get()
    if provider is None:
        _refuse(
            "SIGNATURE_REQUIRED",
            "本系统要求签署人用其数字证书(UKey)签名后方可签署",
            "This deployment requires the signer's own (UKey) signature on every sign-off",
        )
    key = _registered_key(ctx.actor, algorithm, None)
    signature = provider(message, algorithm)
    if isinstance(signature, str):
        try:
            signature = unb64(signature)
        except (binascii.Error, ValueError):
            signature = b""
    return algorithm, bytes(signature or b""), key


def seal(ctx, signoff, manifest_text: str):
    """Complete an unsaved SignOff: its SM3 (国密), the signer's signature (if sign-offs are signed), its record MAC.

    Refuses (ProcedureRefused) when a signature is wanted and none verifies under the signer's registered key.
    """
    profile = crypto.profile()
    if profile.digest_algorithm == "SM3":
        signoff.content_sm3 = crypto.digest_with("SM3", manifest_text.encode())
    # A system step signs nothing: there is no person whose key could stand behind it.
    if mode() != "off" and ctx.actor is not None:
        digest_algorithm, digest = signed_digest(profile.signature_algorithm, manifest_text)
        algorithm, signature, key = _signature(
            ctx, profile.signature_algorithm, signing_message(digest_algorithm, digest)
        )
        public_key = unb64(key.public_key)
        if not crypto.verify_signature(algorithm, public_key, signing_message(digest_algorithm, digest), signature):
            _refuse(
                "SIGNATURE_INVALID",
                "签名无法用签署人已登记的公钥验证，签署未被接受",
                "The signature does not verify under the signer's registered public key; nothing was signed",
                f"{ctx.actor.get_username()} {algorithm} {key.fingerprint[:16]}",
            )
        signoff.signature, signoff.signature_algorithm = b64(signature), algorithm
        signoff.signing_key, signoff.signer_public_key = key, key.public_key
    return seals.seal(signoff)


def event_details(signoff) -> dict:
    """What the `signoff` audit event adds for a signed sign-off (nothing for an unsigned one)."""
    details = {"sm3": signoff.content_sm3} if signoff.content_sm3 else {}
    if signoff.signature:
        details["signature"] = {
            "algorithm": signoff.signature_algorithm,
            "key": signoff.signing_key.fingerprint,
            "sha256": hashlib.sha256(signoff.signature.encode()).hexdigest(),
        }
    return details


# -- checking stored sign-offs -------------------------------------------------------------------------------


def signature_verifies(signoff) -> bool:
    """Tell whether a signed sign-off's signature verifies over its manifest with the key it carries."""
    try:
        digest_algorithm, digest = signed_digest(signoff.signature_algorithm, audit.canonical(signoff.manifest))
        return crypto.verify_signature(
            signoff.signature_algorithm,
            unb64(signoff.signer_public_key),
            signing_message(digest_algorithm, digest),
            unb64(signoff.signature),
        )
    except (crypto.CryptoError, binascii.Error, ValueError):
        return False


def problems_of(signoff) -> list[str]:
    """Return what is wrong with one stored sign-off (empty when its digests, signature and MAC hold)."""
    text = audit.canonical(signoff.manifest)
    problems = []
    if crypto.digest_with("SHA-256", text.encode()) != signoff.content_sha256:
        problems.append("content_sha256")
    if signoff.content_sm3 and crypto.digest_with("SM3", text.encode()) != signoff.content_sm3:
        problems.append("content_sm3")
    if signoff.signature or signoff.signature_algorithm:
        if not signature_verifies(signoff):
            problems.append("signature")
        elif signoff.signing_key_id and signoff.signing_key.public_key != signoff.signer_public_key:
            problems.append("signer_public_key")
    return problems + seals.problems_of(signoff)


@dataclass
class SignOffCheck:
    checked: int = 0
    signed: int = 0
    without_mac: int = 0  # rows written before record MACs existed
    algorithms: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # (sign-off id, [what failed])

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_signoff_records(batch_size=2000) -> SignOffCheck:
    """Check every stored sign-off: its SHA-256 and SM3, its signature and its record MAC, each with its algorithm."""
    from decisions.models import SignOff

    result = SignOffCheck()
    for signoff in SignOff.objects.select_related("signing_key").order_by("id").iterator(chunk_size=batch_size):
        result.checked += 1
        if signoff.signature:
            result.signed += 1
            name = signoff.signature_algorithm
            result.algorithms[name] = result.algorithms.get(name, 0) + 1
        if not signoff.record_mac:
            result.without_mac += 1
        problems = problems_of(signoff)
        if problems:
            result.problems.append((signoff.pk, problems))
    return result
