"""AES-GCM field encryption with rotatable keys, and blind indexes."""

from __future__ import annotations

import base64
import os

import pytest

from data.field_crypto import FieldCipher, FieldCryptoError, parse_keys


def key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def test_round_trip_and_random_nonce():
    cipher = FieldCipher(key("k1"), "blind")
    a, b = cipher.encrypt("nik", "3171234567890001"), cipher.encrypt("nik", "3171234567890001")
    assert a != b and "3171234567890001" not in a
    assert cipher.decrypt("nik", a) == "3171234567890001"
    assert cipher.encrypt("nik", None) is None and cipher.decrypt("nik", None) is None


def test_ciphertext_bound_to_its_field():
    cipher = FieldCipher(key("k1"), "blind")
    token = cipher.encrypt("nik", "3171234567890001")
    with pytest.raises(FieldCryptoError):
        cipher.decrypt("phone", token)


def test_tampering_detected():
    cipher = FieldCipher(key("k1"), "blind")
    key_id, _, payload = cipher.encrypt("nik", "3171234567890001").partition(":")
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[-1] ^= 1
    with pytest.raises(FieldCryptoError):
        cipher.decrypt("nik", f"{key_id}:{base64.urlsafe_b64encode(bytes(raw)).decode()}")


def test_rotation_old_key_still_decrypts():
    old = key("k1")
    token = FieldCipher(old, "blind").encrypt("phone", "081234567890")
    rotated = FieldCipher(f"{key('k2')},{old}", "blind")
    assert rotated.decrypt("phone", token) == "081234567890"
    assert rotated.needs_rotation(token)
    assert not rotated.needs_rotation(rotated.encrypt("phone", "081234567890"))
    with pytest.raises(FieldCryptoError, match="unknown data key"):
        FieldCipher(key("k3"), "blind").decrypt("phone", token)


def test_blind_index_normalises_and_depends_on_key_and_field():
    cipher = FieldCipher(key("k1"), "blind")
    assert cipher.blind_index("nik", "3171 2345-6789 0001") == cipher.blind_index("nik", "3171234567890001")
    assert cipher.blind_index("nik", "1") != cipher.blind_index("bpjs", "1")
    assert cipher.blind_index("nik", "1") != FieldCipher(key("k1"), "other").blind_index("nik", "1")
    assert cipher.blind_index("nik", " - ") is None


@pytest.mark.parametrize(
    "spec,message",
    [
        ("", "no data key"),
        ("k1:notbase64!", "base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "32 bytes"),
        ("bad id:" + base64.b64encode(bytes(range(32))).decode(), "key id"),
    ],
)
def test_bad_key_specs_rejected(spec, message):
    with pytest.raises(FieldCryptoError, match=message):
        parse_keys(spec)
