"""The crypto provider (dangjian/core/crypto.py): SM4-GCM tokens with a key id, HMAC-SM3 search
hashes over normalised values, keys from settings outside the database, a loud failure for a wrong
key, rotation that keeps old tokens readable, and a start-up that refuses to run without keys."""

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.core.exceptions import ImproperlyConfigured

from dangjian.core import crypto

ROOT = Path(__file__).resolve().parents[2]
OLD = "dev:" + "11" * 16
NEW = "k2027:" + "22" * 16
ID = "11010519491231002X"
CTX = "organizations.member.id_number"


@pytest.fixture
def keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = OLD
    settings.FIELD_SEARCH_KEY = "33" * 16
    return settings


def test_the_library_is_sm4_by_the_standard_test_vector():
    # GB/T 32907-2016, appendix A.1: one block under one key.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_a_value_round_trips_and_never_encrypts_the_same_way_twice(keys):
    p = crypto.provider()
    first, second = p.encrypt(ID, context=CTX), p.encrypt(ID, context=CTX)
    assert first.startswith("s4g1:dev:") and second.startswith("s4g1:dev:")
    assert first != second  # a random nonce per value: equal numbers do not show as equal tokens
    assert ID not in first and ID[6:14] not in first
    assert p.decrypt(first, context=CTX) == p.decrypt(second, context=CTX) == ID
    assert p.decrypt(p.encrypt("测试 0571-87654321", context=CTX), context=CTX) == "测试 0571-87654321"
    blob = bytes(range(256)) * 4  # e.g. an uploaded workbook kept for a moment
    assert p.decrypt_bytes(p.encrypt(blob, context="upload"), context="upload") == blob


def test_a_wrong_key_fails_loudly_instead_of_returning_garbage(keys):
    token = crypto.provider().encrypt(ID, context=CTX)
    keys.FIELD_ENCRYPTION_KEYS = "dev:" + "44" * 16  # same key id, another key
    with pytest.raises(crypto.DecryptionError, match="wrong key"):
        crypto.provider().decrypt(token, context=CTX)


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),  # an edited byte
    lambda t: t.replace("s4g1:dev:", "s4g1:gone:"),          # a key id nobody configured
    lambda t: "110105194912310021",                          # plaintext left in the column
    lambda t: t[:20],                                        # cut short
])
def test_an_edited_or_foreign_token_is_refused(keys, tamper):
    token = crypto.provider().encrypt(ID, context=CTX)
    with pytest.raises(crypto.DecryptionError):
        crypto.provider().decrypt(tamper(token), context=CTX)


def test_a_token_copied_into_another_column_does_not_decrypt(keys):
    token = crypto.provider().encrypt("13800001111", context="organizations.member.phone")
    with pytest.raises(crypto.DecryptionError):
        crypto.provider().decrypt(token, context=CTX)


def test_rotation_reads_old_tokens_and_writes_new_ones_under_the_new_key(keys):
    old_token = crypto.provider().encrypt(ID, context=CTX)
    keys.FIELD_ENCRYPTION_KEYS = f"{NEW},{OLD}"
    p = crypto.provider()
    assert p.decrypt(old_token, context=CTX) == ID
    new_token = p.encrypt(ID, context=CTX)
    assert new_token.startswith("s4g1:k2027:")
    assert (p.is_current(old_token), p.is_current(new_token)) == (False, True)
    keys.FIELD_ENCRYPTION_KEYS = NEW  # the old key retired too early: its tokens fail loudly
    with pytest.raises(crypto.DecryptionError, match="no key with id 'dev'"):
        crypto.provider().decrypt(old_token, context=CTX)


def test_search_hash_is_keyed_and_taken_over_the_normalised_value(keys):
    h = crypto.search_hash(ID, kind="id_number")
    assert len(h) == 64 and ID not in h
    assert crypto.search_hash(" 11010519491231002x", kind="id_number") == h
    assert crypto.search_hash("0571-87654321", kind="phone") == crypto.search_hash("057187654321", kind="phone")
    assert crypto.search_hash("13800001111", kind="phone") != crypto.search_hash("13800001112", kind="phone")
    # The same characters as another kind of value hash differently.
    assert crypto.search_hash("057187654321", kind="phone") != crypto.provider().search_hash(
        "057187654321", kind="id_number")
    keys.FIELD_SEARCH_KEY = "55" * 16
    assert crypto.search_hash(ID, kind="id_number") != h  # without the key, no dictionary of hashes


@pytest.mark.parametrize(("name", "value", "message"), [
    ("FIELD_ENCRYPTION_KEYS", "", "FIELD_ENCRYPTION_KEYS is not set"),
    ("FIELD_ENCRYPTION_KEYS", "dev:abcd", "must be 32 hex digits"),
    ("FIELD_ENCRYPTION_KEYS", "dev:" + "zz" * 16, "is not hexadecimal"),
    ("FIELD_ENCRYPTION_KEYS", "no key id", "key-id:key pairs"),
    ("FIELD_ENCRYPTION_KEYS", f"{OLD},{OLD}", "appears twice"),
    ("FIELD_SEARCH_KEY", "", "FIELD_SEARCH_KEY is not set"),
    ("FIELD_SEARCH_KEY", "abcd", "at least 32 hex digits"),
    ("FIELD_CRYPTO_PROVIDER", "dangjian.core.crypto.NoSuchProvider", "cannot be imported"),
])
def test_missing_or_malformed_keys_are_a_system_check_error(keys, name, value, message):
    setattr(keys, name, value)
    errors = crypto.field_keys_configured(None)
    assert [e.id for e in errors] == ["dangjian.E010"] and message in errors[0].msg
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.provider()


class ReversingProvider(crypto.CryptoProvider):
    """A stand-in for a hardware module's provider: the platform only calls the interface."""

    def encrypt(self, plaintext, *, context):
        return "rev:" + plaintext[::-1]

    def decrypt_bytes(self, token, *, context):
        return token.removeprefix("rev:")[::-1].encode()

    def search_hash(self, value, *, kind):
        return f"{kind}:{value}".encode().hex()[:64]


def test_the_provider_is_chosen_by_a_dotted_path(keys):
    keys.FIELD_CRYPTO_PROVIDER = f"{__name__}.ReversingProvider"
    assert crypto.provider().encrypt("123", context=CTX) == "rev:321"
    assert crypto.provider().decrypt("rev:321", context=CTX) == "123"
    assert crypto.field_keys_configured(None) == []


# ---------------------------------------------------------------- start-up, as production starts

def _start(env: dict, code: str = "import dangjian.wsgi") -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin", "SECRET_KEY": "s" * 50, "AUDIT_HMAC_KEY": "a" * 40}
    return subprocess.run([sys.executable, "-c", code], env=base | env, capture_output=True, text=True, cwd=ROOT)


def test_production_refuses_to_start_without_the_keys():
    result = _start({})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is not set" in result.stderr


def test_production_starts_with_keys_from_a_key_file(tmp_path):
    key_file = tmp_path / "field-keys"
    key_file.write_text(f"# personal-data keys\nFIELD_ENCRYPTION_KEYS={NEW},{OLD}\nFIELD_SEARCH_KEY={'66' * 16}\n")
    code = ("import dangjian.wsgi; from dangjian.core import crypto; "
            "print(crypto.provider().encrypt('1', context='x').split(':')[1])")
    result = _start({"FIELD_KEYS_FILE": str(key_file)}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "k2027"


def test_an_unreadable_key_file_is_named_at_start_up(tmp_path):
    result = _start({"FIELD_KEYS_FILE": str(tmp_path / "missing")})
    assert result.returncode != 0 and "FIELD_KEYS_FILE" in result.stderr
