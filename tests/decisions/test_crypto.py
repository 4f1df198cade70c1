"""The crypto provider (decisions/crypto.py): standard test vectors of 国密 SM3, SM4, SM4-GCM and SM2, both
profiles' round trips, tamper detection, and records checked with the algorithm they name."""

import importlib
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from decisions import crypto

# -- standard test vectors -----------------------------------------------------------------------------------


def test_sm3_hashes_the_gbt_32905_examples():
    assert crypto.digest_with("SM3", b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert crypto.digest_with("SM3", b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_the_gm_profile_digest_names_sm3_and_the_intl_one_sha256():
    assert crypto.profile("gm").digest(b"abc") == ("SM3", crypto.digest_with("SM3", b"abc"))
    assert crypto.profile("intl").digest(b"abc") == (
        "SHA-256",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )


def test_sm4_encrypts_the_gbt_32907_example_block():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


# RFC 8998 Appendix A.1 (SM4-GCM, as used by the TLS 1.3 国密 cipher suite TLS_SM4_GCM_SM3).
RFC8998_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
RFC8998_NONCE = bytes.fromhex("00001234567800000000ABCD")
RFC8998_AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
RFC8998_PLAINTEXT = bytes.fromhex(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
)
RFC8998_SEALED = bytes.fromhex(
    "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    "83DE3541E4C2B58177E065A9BF7B62EC"  # the tag
)


def test_sm4_gcm_matches_the_rfc_8998_vector_and_refuses_any_change():
    sealed = crypto.gcm_seal("SM4-GCM", RFC8998_KEY, RFC8998_NONCE, RFC8998_PLAINTEXT, RFC8998_AAD)
    assert sealed == RFC8998_SEALED
    assert crypto.gcm_open("SM4-GCM", RFC8998_KEY, RFC8998_NONCE, sealed, RFC8998_AAD) == RFC8998_PLAINTEXT
    for at in (0, 63, 64, 79):  # ciphertext and tag
        damaged = bytearray(sealed)
        damaged[at] ^= 1
        with pytest.raises(crypto.CryptoError):
            crypto.gcm_open("SM4-GCM", RFC8998_KEY, RFC8998_NONCE, bytes(damaged), RFC8998_AAD)
    with pytest.raises(crypto.CryptoError):
        crypto.gcm_open("SM4-GCM", RFC8998_KEY, RFC8998_NONCE, sealed, RFC8998_AAD + b"x")


def test_hmac_sm3_is_rfc_2104_hmac_over_sm3():
    # No HMAC-SM3 vector is published in a standard: check against HMAC computed by hand from SM3 (RFC 2104),
    # with a short key and one longer than SM3's 64-byte block (which is hashed first).
    def by_hand(key, message):
        if len(key) > 64:
            key = bytes.fromhex(crypto.digest_with("SM3", key))
        key = key.ljust(64, b"\0")
        inner = bytes.fromhex(crypto.digest_with("SM3", bytes(b ^ 0x36 for b in key) + message))
        return crypto.digest_with("SM3", bytes(b ^ 0x5C for b in key) + inner)

    for key in (b"juece-audit-key-0123", bytes(range(100))):
        assert crypto.mac_with("HMAC-SM3", key, b"abc") == by_hand(key, b"abc")
    assert crypto.mac_with("HMAC-SM3", b"k" * 20, b"abc") != crypto.mac_with("HMAC-SHA256", b"k" * 20, b"abc")


# GB/T 32918.5-2017 (GM/T 0003.5) Annex A: signature on the recommended curve, user ID 1234567812345678.
SM2_PRIVATE = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
SM2_PUBLIC = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
SM2_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
SM2_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
SM2_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA


def test_sm2_verifies_the_standard_signature_and_derives_its_public_key():
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    signature = encode_dss_signature(SM2_R, SM2_S)
    assert crypto.public_key_of("SM2-SM3", SM2_PRIVATE) == SM2_PUBLIC
    assert crypto.verify_signature("SM2-SM3", SM2_PUBLIC, b"message digest", signature)
    assert not crypto.verify_signature("SM2-SM3", SM2_PUBLIC, b"message digest!", signature)
    assert not crypto.verify_signature("SM2-SM3", SM2_PUBLIC, b"message digest", encode_dss_signature(SM2_R, SM2_S + 1))


def test_sm2_with_the_standards_random_k_makes_the_standards_signature():
    import gmalg

    signer = gmalg.SM2(sk=SM2_PRIVATE, uid=crypto.SM2_DEFAULT_USER_ID, rnd_fn=lambda bits: SM2_K)
    r, s = signer.sign(b"message digest")
    assert (int.from_bytes(r, "big"), int.from_bytes(s, "big")) == (SM2_R, SM2_S)


@pytest.mark.parametrize("name", ["intl", "gm"])
def test_a_signature_verifies_and_any_change_is_caught(name):
    profile = crypto.profile(name)
    private, public = crypto.generate_signing_key(profile.signature_algorithm)
    assert crypto.public_key_of(profile.signature_algorithm, private) == public
    algorithm, signature = profile.sign(private, "决策 JC-2026-001 签署".encode())
    assert algorithm == profile.signature_algorithm
    assert profile.verify(public, "决策 JC-2026-001 签署".encode(), signature)
    assert not profile.verify(public, "决策 JC-2026-002 签署".encode(), signature)
    assert not profile.verify(public, "决策 JC-2026-001 签署".encode(), signature[:-1] + bytes([signature[-1] ^ 1]))
    _other_private, other_public = crypto.generate_signing_key(profile.signature_algorithm)
    assert not profile.verify(other_public, "决策 JC-2026-001 签署".encode(), signature)


def test_a_signature_is_checked_with_the_algorithm_it_names_whatever_the_profile():
    private, public = crypto.generate_signing_key("SM2-SM3")
    _algorithm, signature = crypto.profile("gm").sign(private, b"record")
    assert crypto.profile("intl").verify(public, b"record", signature, algorithm="SM2-SM3")
    with pytest.raises(crypto.UnknownAlgorithm):
        crypto.verify_signature("RSA-MD5", public, b"record", signature)


# -- stored ciphertexts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "algorithm"), [("intl", "AES-256-GCM"), ("gm", "SM4-GCM")])
def test_a_stored_ciphertext_names_its_algorithm_and_opens_only_unchanged(name, algorithm):
    master = os.urandom(32)
    token = crypto.profile(name).encrypt(master, "联系电话 13800000000".encode(), aad=b"decisions.Comment|7")
    assert crypto.token_algorithm(token) == algorithm
    assert "13800000000" not in token
    assert crypto.decrypt(master, token, aad=b"decisions.Comment|7") == "联系电话 13800000000".encode()
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(master, token, aad=b"decisions.Comment|8")  # moved to another row
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(os.urandom(32), token, aad=b"decisions.Comment|7")  # another key
    prefix, label, nonce, sealed = token.split(":")
    relabelled = ":".join([prefix, "SM4-GCM" if label == "AES-256-GCM" else "AES-256-GCM", nonce, sealed])
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(master, relabelled, aad=b"decisions.Comment|7")
    changed = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(master, ":".join([prefix, label, nonce, changed]), aad=b"decisions.Comment|7")


def test_switching_profile_keeps_older_ciphertexts_readable(settings):
    settings.JUECE_CRYPTO_PROFILE = "intl"
    old = crypto.encrypt_for_storage(b"before", aad=b"x")
    settings.JUECE_CRYPTO_PROFILE = "gm"
    new = crypto.encrypt_for_storage(b"after", aad=b"x")
    assert (crypto.token_algorithm(old), crypto.token_algorithm(new)) == ("AES-256-GCM", "SM4-GCM")
    assert crypto.decrypt_from_storage(old, aad=b"x") == b"before"
    assert crypto.decrypt_from_storage(new, aad=b"x") == b"after"


def test_aes_and_sm4_never_share_key_bytes():
    master = bytes(range(32))
    assert crypto.cipher_key("SM4-GCM", master) not in crypto.cipher_key("AES-256-GCM", master)
    assert len(crypto.cipher_key("SM4-GCM", master)) == 16 and len(crypto.cipher_key("AES-256-GCM", master)) == 32


# -- keys and settings ---------------------------------------------------------------------------------------


class VaultKeyService:
    """A key service as a deployment would write one (for the contract test below)."""

    def get_key(self, purpose):
        if purpose == "audit":
            return b"vault-audit-key-0123456789"
        raise crypto.KeyUnavailable(purpose)


def test_keys_come_from_the_configured_key_service(settings):
    settings.AUDIT_KEY = "environment-audit-key-0123"
    assert crypto.key_for("audit") == b"environment-audit-key-0123"
    assert crypto.key_for("data") == settings.DATA_KEY and len(settings.DATA_KEY) == 32
    settings.JUECE_KEY_SERVICE = f"{__name__}.VaultKeyService"
    assert crypto.key_for("audit") == b"vault-audit-key-0123456789"
    with pytest.raises(crypto.KeyUnavailable):
        crypto.key_for("data")


def test_a_key_service_that_cannot_be_imported_is_a_configuration_error(settings):
    settings.JUECE_KEY_SERVICE = "nowhere.KeyService"
    with pytest.raises(ImproperlyConfigured):
        crypto.key_for("audit")


def _load_settings(monkeypatch, **env):
    """Read config/settings.py afresh under `env` (None unsets a variable); Django's settings stay as they are."""
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    import config.settings as module

    try:
        fresh = importlib.reload(module)
        return {"DATA_KEY": fresh.DATA_KEY, "JUECE_CRYPTO_PROFILE": fresh.JUECE_CRYPTO_PROFILE}
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_a_bad_profile_or_data_key_stops_start_up(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="JUECE_CRYPTO_PROFILE"):
        _load_settings(monkeypatch, JUECE_CRYPTO_PROFILE="sm9")
    with pytest.raises(ImproperlyConfigured, match="JUECE_DATA_KEY"):
        _load_settings(monkeypatch, JUECE_DATA_KEY="too-short")
    with pytest.raises(ImproperlyConfigured, match="JUECE_DATA_KEY is not set"):
        _load_settings(
            monkeypatch, JUECE_DEBUG="false", JUECE_SECRET_KEY="s" * 50, JUECE_AUDIT_KEY="a" * 20, JUECE_DATA_KEY=None
        )


def test_the_data_key_is_read_as_hex_or_base64(monkeypatch):
    key = bytes(range(32))
    import base64

    assert _load_settings(monkeypatch, JUECE_DATA_KEY=key.hex())["DATA_KEY"] == key
    assert _load_settings(monkeypatch, JUECE_DATA_KEY=base64.b64encode(key).decode())["DATA_KEY"] == key
    assert _load_settings(monkeypatch, JUECE_CRYPTO_PROFILE="GM")["JUECE_CRYPTO_PROFILE"] == "gm"
