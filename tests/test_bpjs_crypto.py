"""BPJS Antrean RS signature and response encryption: the public vectors, tampering, and round trips."""

from __future__ import annotations

import base64
import hashlib
import json

import lzstring
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.bpjs.crypto import (
    BpjsDecryptError,
    decrypt_response,
    encrypt_response,
    hmac_sha256_base64,
    signature,
)

CONS_ID, SECRET, TIMESTAMP = "1234", "pwd", "433223232"
VECTOR_RESPONSE = (
    "BrIc3POWIpoZX21f0INPcRWBFGRnAB1I9VvbX9TfxwKukJRXlLvQpvr8oh15hmczAVH0DmV4uYVVjp7QDq/piAI3/+/LwCURjya0NsONqeb+KADQXd"
    "IO1HTua5g3sKqHrB3CHwtywgO4+wV8nI7j+jJpGkFLctZ9S/3FRFXtBhs="
)
VECTOR_PLAIN = {"list": [{"kodebooking": "16032021A001", "taskid": 1, "taskname": "mulai waktu tunggu admisi"}]}


def test_hmac_public_vector():
    assert hmac_sha256_base64("aaa", "bbb") == "20BKS3PWnD3XU4JbSSZvVlGi2WWnDa8Sv9uHJ+wsELA="


def test_signature_vector():
    assert signature(CONS_ID, SECRET, TIMESTAMP) == "eXMtvX2r7e7CLCIu3kpEpCrvciZgK8FuOhKv06NDAHk="


def test_decrypt_vector():
    assert decrypt_response(VECTOR_RESPONSE, CONS_ID, SECRET, TIMESTAMP) == VECTOR_PLAIN


def test_encrypt_reproduces_the_vector():
    assert encrypt_response(VECTOR_PLAIN, CONS_ID, SECRET, TIMESTAMP) == VECTOR_RESPONSE


@pytest.mark.parametrize(
    ("cons_id", "secret", "timestamp"),
    [(CONS_ID, "not-the-secret-XYZ", TIMESTAMP), ("4321", SECRET, TIMESTAMP), (CONS_ID, SECRET, "433223233")],
)
def test_wrong_credentials_or_timestamp_raise(cons_id, secret, timestamp):
    with pytest.raises(BpjsDecryptError) as error:
        decrypt_response(VECTOR_RESPONSE, cons_id, secret, timestamp)
    assert secret not in str(error.value)


def _flip(data: str, index: int) -> str:
    raw = bytearray(base64.b64decode(data))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "tampered",
    [
        _flip(VECTOR_RESPONSE, 0),
        _flip(VECTOR_RESPONSE, 40),
        _flip(VECTOR_RESPONSE, -1),
        base64.b64encode(base64.b64decode(VECTOR_RESPONSE)[:-16]).decode(),  # a block cut off
        base64.b64encode(base64.b64decode(VECTOR_RESPONSE)[:-3]).decode(),  # not whole blocks
        VECTOR_RESPONSE[:-5],  # broken base64
        "not base64 at all!",
        "",
    ],
)
def test_tampered_or_corrupt_responses_raise(tampered):
    with pytest.raises(BpjsDecryptError):
        decrypt_response(tampered, CONS_ID, SECRET, TIMESTAMP)


def _encrypt_text(text: str) -> str:
    """Encrypt arbitrary text the BPJS way, bypassing the JSON step."""
    key = hashlib.sha256(f"{CONS_ID}{SECRET}{TIMESTAMP}".encode()).digest()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(lzstring.LZString().compressToEncodedURIComponent(text).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def test_non_json_plaintext_raises():
    with pytest.raises(BpjsDecryptError, match="not JSON"):
        decrypt_response(_encrypt_text("{not json"), CONS_ID, SECRET, TIMESTAMP)


def test_non_bmp_characters_survive_lz_string():
    # JavaScript's LZ-string emits UTF-16 surrogate pairs for characters outside the BMP.
    assert decrypt_response(_encrypt_text('{"nama": "\ud83d\ude00"}'), CONS_ID, SECRET, TIMESTAMP) == {"nama": "😀"}


@pytest.mark.parametrize("shape", [VECTOR_PLAIN, VECTOR_PLAIN["list"]])
def test_both_list_shapes_round_trip(shape):
    assert decrypt_response(encrypt_response(shape, "99", "s", "1700000000"), "99", "s", "1700000000") == shape


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


# Generating nested JSON can be slow on a busy CI machine; that is not a failure of the code under test.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    obj=json_values,
    cons_id=st.text(min_size=1, max_size=12),
    secret=st.text(min_size=1, max_size=24),
    timestamp=st.integers(min_value=0, max_value=2**40).map(str),
)
def test_encrypt_decrypt_round_trip(obj, cons_id, secret, timestamp):
    token = encrypt_response(obj, cons_id, secret, timestamp)
    assert decrypt_response(token, cons_id, secret, timestamp) == json.loads(json.dumps(obj))
