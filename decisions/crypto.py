"""The crypto provider: digests, MACs, authenticated encryption and signatures in two profiles (密评, issue 7).

A *profile* picks one algorithm of each kind:

=========  ==============  =================  ==========================  ==========
profile    digest          MAC                authenticated encryption    signature
=========  ==============  =================  ==========================  ==========
``intl``   SHA-256         HMAC-SHA256        AES-256-GCM                 Ed25519
``gm``     SM3 (GB/T       HMAC-SM3           SM4-GCM (GB/T 32907 +       SM2-SM3
           32905)                             GCM, RFC 8998)              (GB/T 32918)
=========  ==============  =================  ==========================  ==========

settings.JUECE_CRYPTO_PROFILE (env ``JUECE_CRYPTO_PROFILE``) chooses the profile that *new* records use.
Every stored MAC, ciphertext and signature names its algorithm, and is checked with the algorithm it
names through the registries below, whatever the current profile: switching to 国密 keeps every older
record verifiable, and switching back keeps the 国密 ones verifiable.

SHA-256, SM3, HMAC, AES-GCM, SM4-GCM and Ed25519 come from ``cryptography`` (OpenSSL); SM2 signatures from
``gmalg`` (pure Python, GB/T 32918 test vectors pass, no dependencies), since ``cryptography`` has no SM2.

Keys never come from the database. They come from a *key service* (settings.JUECE_KEY_SERVICE, a class
path) whose contract is one method::

    class MyKeyService:
        def get_key(self, purpose: str) -> bytes: ...

``purpose`` is ``"audit"`` (the audit chain's MAC key) or ``"data"`` (the master key of stored
ciphertexts, 32 bytes); an unknown purpose raises ``KeyUnavailable``. The service is built once with no
arguments; it may cache keys, and should fetch them from a KMS/HSM (密码机) or the environment, never from
rows. The default, ``EnvironmentKeyService``, returns settings.AUDIT_KEY and settings.DATA_KEY, which
config/settings.py reads from ``JUECE_AUDIT_KEY`` and ``JUECE_DATA_KEY``.
"""

from __future__ import annotations

import base64
import binascii
import hmac as std_hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PROFILE_NAMES = ("intl", "gm")
# GM/T 0009-2012 §10: the user ID both sides assume when none is agreed (it enters Z_A of the SM2 signature).
SM2_DEFAULT_USER_ID = b"1234567812345678"
TOKEN_PREFIX = "juece-enc/1"
NONCE_BYTES = 12  # the 96-bit nonce GCM is built for (NIST SP 800-38D §8.2.1; RFC 8998)
TAG_BYTES = 16


class CryptoError(Exception):
    """A record could not be checked or opened: tampered, wrong key, or an algorithm this build lacks."""


class UnknownAlgorithm(CryptoError):
    pass


class KeyUnavailable(CryptoError):
    pass


# -- digests -------------------------------------------------------------------------------------------------


def _hash_of(name):
    return {"SHA-256": hashes.SHA256, "SM3": hashes.SM3}[name]()


DIGESTS = ("SHA-256", "SM3")


def digest_with(algorithm: str, data: bytes) -> str:
    """Return the hex digest of `data` with the digest `algorithm` names ("SHA-256" or "SM3")."""
    if algorithm not in DIGESTS:
        raise UnknownAlgorithm(algorithm)
    digest = hashes.Hash(_hash_of(algorithm))
    digest.update(data)
    return digest.finalize().hex()


# -- MACs ----------------------------------------------------------------------------------------------------

MACS = {"HMAC-SHA256": "SHA-256", "HMAC-SM3": "SM3"}  # MAC algorithm → the hash inside it


def mac_with(algorithm: str, key: bytes, data: bytes) -> str:
    """Return the hex MAC of `data` under `key` with the MAC `algorithm` names (RFC 2104 HMAC)."""
    if algorithm not in MACS:
        raise UnknownAlgorithm(algorithm)
    mac = crypto_hmac.HMAC(key, _hash_of(MACS[algorithm]))
    mac.update(data)
    return mac.finalize().hex()


def mac_matches(algorithm: str, key: bytes, data: bytes, stored) -> bool:
    """Tell whether `stored` is the MAC of `data`; compared in constant time, as bytes (tampered text may be any)."""
    return std_hmac.compare_digest(mac_with(algorithm, key, data).encode(), str(stored or "").encode())


# -- authenticated encryption --------------------------------------------------------------------------------

CIPHERS = {"AES-256-GCM": (algorithms.AES, 32, "SHA-256"), "SM4-GCM": (algorithms.SM4, 16, "SM3")}


def cipher_key(algorithm: str, master_key: bytes) -> bytes:
    """Derive the key `algorithm` uses from the master data key (HKDF, RFC 5869, with the profile's own hash).

    One master key serves both algorithms without ever using the same bytes as an AES and an SM4 key.
    """
    block_cipher, length, hash_name = CIPHERS[algorithm]
    return HKDF(_hash_of(hash_name), length, salt=None, info=f"juece data key|{algorithm}".encode()).derive(master_key)


def gcm_seal(algorithm: str, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt with AES-GCM or SM4-GCM; return ciphertext followed by the 16-byte tag (as RFC 8998 lays it out)."""
    block_cipher = CIPHERS[algorithm][0]
    encryptor = Cipher(block_cipher(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def gcm_open(algorithm: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Check the tag and decrypt what gcm_seal returned; raise CryptoError if anything was changed."""
    if len(sealed) < TAG_BYTES:
        raise CryptoError("ciphertext too short")
    block_cipher = CIPHERS[algorithm][0]
    decryptor = Cipher(block_cipher(key), modes.GCM(nonce, sealed[-TAG_BYTES:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(sealed[:-TAG_BYTES]) + decryptor.finalize()
    except InvalidTag:
        raise CryptoError("ciphertext or its associated data was altered, or the key is not the one used") from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt_with(algorithm: str, master_key: bytes, plaintext: bytes, aad: bytes = b"") -> str:
    """Return a text token ``juece-enc/1:<algorithm>:<nonce>:<ciphertext+tag>`` (base64url) for storing.

    The token's header is authenticated with `aad`, so relabelling a token with another algorithm fails.
    """
    if algorithm not in CIPHERS:
        raise UnknownAlgorithm(algorithm)
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces: far below the 2^32 messages per key GCM allows
    header = f"{TOKEN_PREFIX}:{algorithm}"
    sealed = gcm_seal(algorithm, cipher_key(algorithm, master_key), nonce, plaintext, header.encode() + b"|" + aad)
    return f"{header}:{_b64(nonce)}:{_b64(sealed)}"


def token_algorithm(token: str) -> str:
    """Return the algorithm a stored token names."""
    parts = str(token).split(":")
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX:
        raise CryptoError("not a juece ciphertext token")
    return parts[1]


def decrypt(master_key: bytes, token: str, aad: bytes = b"") -> bytes:
    """Open a token with the algorithm it names (whatever the current profile); raise CryptoError if altered."""
    algorithm = token_algorithm(token)
    if algorithm not in CIPHERS:
        raise UnknownAlgorithm(algorithm)
    _prefix, _algorithm, nonce, sealed = token.split(":")
    try:
        nonce, sealed = _unb64(nonce), _unb64(sealed)
    except (binascii.Error, ValueError):
        raise CryptoError("ciphertext token is not base64url") from None
    if len(nonce) != NONCE_BYTES:
        raise CryptoError("ciphertext token has a bad nonce")
    header = f"{TOKEN_PREFIX}:{algorithm}"
    return gcm_open(algorithm, cipher_key(algorithm, master_key), nonce, sealed, header.encode() + b"|" + aad)


# -- signatures ----------------------------------------------------------------------------------------------
# Keys are raw bytes: Ed25519 32-byte private and public keys (RFC 8032); SM2 a 32-byte private key and the
# 65-byte uncompressed public point 04‖x‖y. SM2 signatures are DER SEQUENCE{r, s} (GM/T 0009, GB/T 35276),
# which gmssl and OpenSSL read; Ed25519 signatures are RFC 8032's 64 bytes.

SIGNATURES = ("Ed25519", "SM2-SM3")


def _sm2(**kwargs):
    import gmalg  # imported when first needed: pure Python, and only the 国密 profile signs with it

    return gmalg.SM2(uid=SM2_DEFAULT_USER_ID, **kwargs)


def generate_signing_key(algorithm: str) -> tuple[bytes, bytes]:
    """Return a new (private key, public key) pair for `algorithm`, as raw bytes."""
    if algorithm == "Ed25519":
        private = Ed25519PrivateKey.generate()
        return private.private_bytes_raw(), private.public_key().public_bytes_raw()
    if algorithm == "SM2-SM3":
        private, public = _sm2().generate_keypair()
        return private.rjust(32, b"\0"), public
    raise UnknownAlgorithm(algorithm)


def public_key_of(algorithm: str, private_key: bytes) -> bytes:
    if algorithm == "Ed25519":
        return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()
    if algorithm == "SM2-SM3":
        return _sm2().generate_pk(private_key)
    raise UnknownAlgorithm(algorithm)


def sign_with(algorithm: str, private_key: bytes, data: bytes) -> bytes:
    if algorithm == "Ed25519":
        return Ed25519PrivateKey.from_private_bytes(private_key).sign(data)
    if algorithm == "SM2-SM3":
        r, s = _sm2(sk=private_key).sign(data)
        return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    raise UnknownAlgorithm(algorithm)


def verify_signature(algorithm: str, public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Tell whether `signature` over `data` verifies under `public_key` with the algorithm the record names."""
    if algorithm == "Ed25519":
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True
    if algorithm == "SM2-SM3":
        try:
            r, s = decode_dss_signature(signature)
            verifier = _sm2(pk=public_key)
        except Exception:  # not DER, or a public key not on the curve: either way it does not verify
            return False
        if encode_dss_signature(r, s) != signature:  # strict DER: one signature, one encoding
            return False
        return verifier.verify(data, r.to_bytes(32, "big"), s.to_bytes(32, "big"))
    raise UnknownAlgorithm(algorithm)


# -- profiles ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """The algorithms new records are made with; old records are checked with the algorithm they name."""

    name: str
    digest_algorithm: str
    mac_algorithm: str
    cipher_algorithm: str
    signature_algorithm: str

    def digest(self, data: bytes) -> tuple[str, str]:
        return self.digest_algorithm, digest_with(self.digest_algorithm, data)

    def mac(self, key: bytes, data: bytes) -> tuple[str, str]:
        return self.mac_algorithm, mac_with(self.mac_algorithm, key, data)

    def encrypt(self, master_key: bytes, plaintext: bytes, aad: bytes = b"") -> str:
        return encrypt_with(self.cipher_algorithm, master_key, plaintext, aad)

    def decrypt(self, master_key: bytes, token: str, aad: bytes = b"") -> bytes:
        return decrypt(master_key, token, aad)

    def sign(self, private_key: bytes, data: bytes) -> tuple[str, bytes]:
        return self.signature_algorithm, sign_with(self.signature_algorithm, private_key, data)

    def verify(self, public_key: bytes, data: bytes, signature: bytes, algorithm: str | None = None) -> bool:
        return verify_signature(algorithm or self.signature_algorithm, public_key, data, signature)


PROFILES = {
    "intl": Profile("intl", "SHA-256", "HMAC-SHA256", "AES-256-GCM", "Ed25519"),
    "gm": Profile("gm", "SM3", "HMAC-SM3", "SM4-GCM", "SM2-SM3"),
}


def profile(name: str | None = None) -> Profile:
    """Return the named profile, or the one settings.JUECE_CRYPTO_PROFILE selects."""
    if name is None:
        from django.conf import settings

        name = settings.JUECE_CRYPTO_PROFILE
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownAlgorithm(f"no crypto profile {name!r}; choose one of {', '.join(PROFILE_NAMES)}") from None


# -- keys ----------------------------------------------------------------------------------------------------


class EnvironmentKeyService:
    """The default key service: keys from the process environment, through config/settings.py."""

    def get_key(self, purpose: str) -> bytes:
        from django.conf import settings

        if purpose == "audit":
            return settings.AUDIT_KEY.encode()
        if purpose == "data":
            return settings.DATA_KEY
        raise KeyUnavailable(f"no key for purpose {purpose!r}")


@cache
def load_service(setting: str, path: str, method: str, contract: str):
    """Build once the adapter class `path` that `setting` names; it must have `method` (described by `contract`)."""
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    try:
        service = import_string(path)()
    except ImportError as exc:
        raise ImproperlyConfigured(f"{setting} {path!r} cannot be imported: {exc}") from exc
    if not callable(getattr(service, method, None)):
        raise ImproperlyConfigured(f"{setting} {path!r} has no {contract} method")
    return service


def _key_service(path: str):
    return load_service("JUECE_KEY_SERVICE", path, "get_key", "get_key(purpose)")


def key_for(purpose: str) -> bytes:
    """Return the key for `purpose` ("audit", "data") from the configured key service."""
    from django.conf import settings

    key = _key_service(settings.JUECE_KEY_SERVICE).get_key(purpose)
    if not isinstance(key, bytes) or not key:
        raise KeyUnavailable(f"the key service returned no key for {purpose!r}")
    return key


# -- stored data: encryption with the current profile and the data key ---------------------------------------


def encrypt_for_storage(plaintext: bytes, aad: bytes = b"") -> str:
    """Encrypt `plaintext` with the current profile's cipher and the data key; bind it to `aad` (e.g. table|id)."""
    return profile().encrypt(key_for("data"), plaintext, aad)


def decrypt_from_storage(token: str, aad: bytes = b"") -> bytes:
    """Open a stored token with the algorithm it names and the data key."""
    return decrypt(key_for("data"), token, aad)
