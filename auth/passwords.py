"""Password hashing with Argon2id (argon2-cffi defaults) and a generator for one-time passwords.

Passwords are NFKC-normalised before hashing and verifying (NIST SP 800-63B), so a password typed with a
different keyboard or input method (full-width digits, composed accents) still matches."""

from __future__ import annotations

import secrets
import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# An unambiguous alphabet (no 0/O, 1/l/I) so a password read off a screen can be typed; no vowels, so a generated
# password never spells a word or a name, which the password policy would refuse.
_ALPHABET = "bcdfghjkmnpqrstvwxyzBCDFGHJKLMNPQRSTVWXYZ23456789"


def normalise(password: str) -> str:
    """The form of a password that is checked and hashed: Unicode NFKC."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a hash made before passwords were normalised matches the raw form."""
    if not password_hash:
        return False
    candidates = dict.fromkeys((normalise(password), password))
    return any(_matches(password_hash, candidate) for candidate in candidates)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password(length: int = 16) -> str:
    """A random password (16 of 49 characters: about 90 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@cache
def dummy_hash() -> str:
    """A hash of nothing anyone knows, verified against when the username does not exist, so that a login
    attempt for an unknown user costs the same time as one for a known user."""
    return _hasher.hash(secrets.token_urlsafe(16))
