"""BPJS Antrean RS cryptography: the request signature and the encrypted ``response`` field (DESIGN §7).

The signature is base64(HMAC-SHA256(secret, "{cons_id}&{timestamp}")). A ``response`` string is AES-256-CBC
(key = SHA-256(cons_id + secret + timestamp), IV = the key's first 16 bytes, PKCS#7) over the LZ-string
``compressToEncodedURIComponent`` form of a JSON document, all base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

import lzstring
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK_BITS = 128


class BpjsError(Exception):
    """Base class of every BPJS bridging error."""


class BpjsDecryptError(BpjsError):
    """A ``response`` could not be decrypted: wrong credentials or timestamp, or corrupt data."""


def hmac_sha256_base64(message: str, key: str) -> str:
    """base64(HMAC-SHA256(key, message)) over the UTF-8 bytes of both."""
    return base64.b64encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode("ascii")


def signature(cons_id: str, secret: str, timestamp: str) -> str:
    """The ``x-signature`` header for one request."""
    return hmac_sha256_base64(f"{cons_id}&{timestamp}", secret)


def _cipher(cons_id: str, secret: str, timestamp: str) -> Cipher:
    key = hashlib.sha256(f"{cons_id}{secret}{timestamp}".encode()).digest()
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt_response(obj: object, cons_id: str, secret: str, timestamp: str) -> str:
    """Encrypt ``obj`` the way BPJS encrypts a ``response`` (the inverse of :func:`decrypt_response`)."""
    # ASCII-only JSON keeps every character within LZ-string's 16-bit alphabet.
    compressed = lzstring.LZString().compressToEncodedURIComponent(json.dumps(obj, separators=(",", ":")))
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(compressed.encode("ascii")) + padder.finalize()
    encryptor = _cipher(cons_id, secret, timestamp).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def decrypt_response(response: str, cons_id: str, secret: str, timestamp: str) -> object:
    """Decrypt a BPJS ``response`` string into the JSON value it carries; raise :class:`BpjsDecryptError`."""
    try:
        ciphertext = base64.b64decode(response, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BpjsDecryptError("BPJS response is not valid base64") from exc
    if not ciphertext or len(ciphertext) % (_BLOCK_BITS // 8):
        raise BpjsDecryptError("BPJS response is not a whole number of AES blocks")
    decryptor = _cipher(cons_id, secret, timestamp).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
        plain = (unpadder.update(padded) + unpadder.finalize()).decode("ascii")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BpjsDecryptError("BPJS response did not decrypt (wrong cons id, secret or timestamp?)") from exc
    try:
        text = lzstring.LZString().decompressFromEncodedURIComponent(plain)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise BpjsDecryptError("BPJS response is not LZ-string data") from exc
    if not text:
        raise BpjsDecryptError("BPJS response decompressed to nothing (wrong cons id, secret or timestamp?)")
    # LZ-string works in UTF-16 code units as JavaScript does: join surrogate pairs back into characters.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BpjsDecryptError("BPJS response is not JSON after decompression") from exc
