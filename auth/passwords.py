"""Password hashing with Argon2id (argon2-cffi defaults) and a generator for one-time passwords."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 10
# An unambiguous alphabet (no 0/O, 1/l/I) so a password read off a screen can be typed.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password(length: int = 14) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@cache
def dummy_hash() -> str:
    """A hash of nothing anyone knows, verified against when the username does not exist, so that a login
    attempt for an unknown user costs the same time as one for a known user."""
    return _hasher.hash(secrets.token_urlsafe(16))
