"""AES-GCM field encryption with rotatable keys, and blind indexes."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from data.field_crypto import FieldCipher, FieldCryptoError, parse_keys


def key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def legacy_token(spec: str, column: str, value: str) -> str:
    """A ciphertext as written before rows were bound: ``<key id>:…`` sealed with the column's name alone."""
    (key_id, raw), *_ = parse_keys(spec)
    nonce = os.urandom(12)
    sealed = AESGCM(raw).encrypt(nonce, value.encode(), column.encode())
    return f"{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def test_round_trip_and_random_nonce():
    cipher = FieldCipher(key("k1"), "blind")
    a, b = (cipher.encrypt("patient.nik", "3171234567890001", row_id=7) for _ in range(2))
    assert a != b and "3171234567890001" not in a and a.startswith("k1.r:")
    assert cipher.decrypt("patient.nik", a, row_id=7) == "3171234567890001"
    assert (
        cipher.encrypt("patient.nik", None, row_id=7) is None and cipher.decrypt("patient.nik", None, row_id=7) is None
    )


def test_ciphertext_bound_to_its_field():
    cipher = FieldCipher(key("k1"), "blind")
    token = cipher.encrypt("patient.nik", "3171234567890001", row_id=7)
    with pytest.raises(FieldCryptoError):
        cipher.decrypt("patient.phone", token, row_id=7)


def test_ciphertext_bound_to_its_row_and_a_moved_one_is_logged_without_its_value(caplog):
    cipher = FieldCipher(key("k1"), "blind")
    token = cipher.encrypt("patient.nik", "3171234567890001", row_id=7)
    with pytest.raises(FieldCryptoError, match="row 8"):
        cipher.decrypt("patient.nik", token, row_id=8)
    warning = next(r for r in caplog.records if r.levelname == "WARNING")
    assert (warning.field, warning.row_id) == ("patient.nik", 8)
    assert "3171234567890001" not in caplog.text and token not in caplog.text


def test_a_row_id_is_needed_to_encrypt():
    with pytest.raises(FieldCryptoError, match="flush"):
        FieldCipher(key("k1"), "blind").encrypt("patient.nik", "3171234567890001", row_id=None)


def test_old_form_reads_by_its_prefix_and_needs_rotation():
    spec = key("k1")
    cipher = FieldCipher(spec, "blind")
    old = legacy_token(spec, "nik", "3171234567890001")
    assert cipher.decrypt("patient.nik", old, row_id=7) == "3171234567890001"
    assert cipher.needs_rotation(old)
    assert not cipher.needs_rotation(cipher.encrypt("patient.nik", "3171234567890001", row_id=7))
    with pytest.raises(FieldCryptoError):  # the old form still bound its column
        cipher.decrypt("patient.phone", old, row_id=7)
    with pytest.raises(FieldCryptoError):  # a new-form prefix is never read as the old form, nor the reverse
        cipher.decrypt("patient.nik", old.replace("k1:", "k1.r:", 1), row_id=7)


def test_tampering_detected():
    cipher = FieldCipher(key("k1"), "blind")
    head, _, payload = cipher.encrypt("patient.nik", "3171234567890001", row_id=7).partition(":")
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[-1] ^= 1
    with pytest.raises(FieldCryptoError):
        cipher.decrypt("patient.nik", f"{head}:{base64.urlsafe_b64encode(bytes(raw)).decode()}", row_id=7)


def test_rotation_old_key_still_decrypts():
    old = key("k1")
    token = FieldCipher(old, "blind").encrypt("patient.phone", "081234567890", row_id=3)
    rotated = FieldCipher(f"{key('k2')},{old}", "blind")
    assert rotated.decrypt("patient.phone", token, row_id=3) == "081234567890"
    assert rotated.needs_rotation(token)
    assert not rotated.needs_rotation(rotated.encrypt("patient.phone", "081234567890", row_id=3))
    with pytest.raises(FieldCryptoError, match="unknown data key"):
        FieldCipher(key("k3"), "blind").decrypt("patient.phone", token, row_id=3)


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
