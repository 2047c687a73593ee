"""AES-GCM encryption of personal identifiers at rest, with rotatable keys and keyed blind indexes.

Keys come from ``PANTAU_DATA_KEYS`` as ``id:base64key[,id:base64key...]``; the first key encrypts, all of them
decrypt, so a new key can be put first and old rows re-encrypted at leisure (``flask rotate-data-keys``).

A ciphertext is ``<key id>.r:<base64 nonce+sealed>``: the associated data is the field (``table.column``) and the
row's id, so a ciphertext copied to another column or another row does not decrypt. Tokens written before rows
were bound read ``<key id>:…`` and bound only the column's name (``nik``); the prefix says which form a token is,
so decryption never guesses, and ``needs_rotation`` is true for the old form until it is re-encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
ROW_BOUND = ".r"  # after the key id: the token's associated data names its row
log = logging.getLogger(__name__)


class FieldCryptoError(ValueError):
    """A key is malformed, unknown, or a ciphertext does not authenticate."""


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """Parse ``id:base64key,...`` into (id, 32-byte key) pairs, first = active."""
    keys = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key_id, _, encoded = part.partition(":")
        if not _KEY_ID.match(key_id):
            raise FieldCryptoError(f"data key id {key_id!r} must be 1-16 letters, digits, '_' or '-'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise FieldCryptoError(f"data key {key_id!r} is not valid base64") from exc
        if len(key) != 32:
            raise FieldCryptoError(f"data key {key_id!r} must decode to 32 bytes, not {len(key)}")
        keys.append((key_id, key))
    if not keys:
        raise FieldCryptoError("no data key configured")
    return keys


def _associated(field: str, row_id: int | None) -> bytes:
    """Row-bound tokens: field and row id; old-form tokens (``row_id`` None): the column's name alone."""
    return field.rpartition(".")[2].encode() if row_id is None else f"{field}\x00{row_id}".encode()


class FieldCipher:
    """Encrypts/decrypts one text field at a time and computes blind indexes."""

    def __init__(self, key_spec: str, blind_index_key: str) -> None:
        keys = parse_keys(key_spec)
        self.active_key_id = keys[0][0]
        self._aead = {key_id: AESGCM(key) for key_id, key in keys}
        self._blind_key = blind_index_key.encode()

    def encrypt(self, field: str, value: str | None, *, row_id: int) -> str | None:
        """Seal ``value`` for ``field`` (``table.column``) of the row ``row_id`` under the active key."""
        if value is None or value == "":
            return None
        if row_id is None:
            raise FieldCryptoError(f"{field} is encrypted for a row: its id is needed (flush the row first)")
        nonce = os.urandom(12)
        sealed = self._aead[self.active_key_id].encrypt(nonce, value.encode(), _associated(field, row_id))
        return f"{self.active_key_id}{ROW_BOUND}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, field: str, token: str | None, *, row_id: int) -> str | None:
        """The plaintext of ``field`` of the row ``row_id``; a token that does not authenticate for that field and
        row (tampered, or copied from elsewhere) raises ``FieldCryptoError`` and logs a warning without the value."""
        if token is None:
            return None
        head, _, payload = token.partition(":")
        key_id, bound = head.removesuffix(ROW_BOUND), head.endswith(ROW_BOUND)
        aead = self._aead.get(key_id)
        if aead is None:
            raise FieldCryptoError(f"ciphertext of {field} uses unknown data key {key_id!r}")
        try:
            raw = base64.urlsafe_b64decode(payload)
            return aead.decrypt(raw[:12], raw[12:], _associated(field, row_id if bound else None)).decode()
        except (InvalidTag, ValueError) as exc:
            log.warning("ciphertext does not authenticate", extra={"field": field, "row_id": row_id, "key": key_id})
            raise FieldCryptoError(f"ciphertext of {field} does not authenticate for row {row_id}") from exc

    def needs_rotation(self, token: str | None) -> bool:
        """True for a token under an older key or in the old (not row-bound) form."""
        return token is not None and not token.startswith(f"{self.active_key_id}{ROW_BOUND}:")

    def blind_index(self, field: str, value: str | None) -> str | None:
        """HMAC-SHA256 of the normalised value (digits and letters only, upper case), per field."""
        if not value:
            return None
        normalised = re.sub(r"[^0-9A-Za-z]", "", value).upper()
        if not normalised:
            return None
        return hmac.new(self._blind_key, f"{field}\x00{normalised}".encode(), hashlib.sha256).hexdigest()
