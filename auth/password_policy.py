"""Which new passwords Pantau accepts, after NIST SP 800-63B (§3.1.1.2, "Password Verifiers").

- At least ``MIN_LENGTH`` characters and at most ``MAX_LENGTH`` (the standard asks to allow at least 64), counted
  as Unicode code points after NFKC normalisation; spaces and every character are allowed, and there are no
  composition rules (no "one digit, one capital").
- Refused, with the reason: a repetition (``aaaaaaaaaa``, ``abcabcabca``, two characters only), a sequence
  (``1234567890``, ``abcdefghij``, ``qwertyuiop`` and their reverses), a context-specific word (the username,
  the person's or the site's name, "pantau"), and a value on a list of commonly used or breached passwords, also
  with a few digits or symbols tacked on (``password2024!``).
- Checks ignore case (``casefold``); the password itself is kept as typed, NFKC-normalised, for hashing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from itertools import pairwise

from auth.passwords import normalise
from domain.errors import InputError

MIN_LENGTH = 10
MAX_LENGTH = 256
CONTEXT_MIN = 4  # shorter name parts ("ani", "dr") would refuse too many unrelated passphrases
PRODUCT_WORDS = ("pantau",)
SUFFIX_MAX = 6  # "password" + up to six digits or symbols ("password2024!") counts as "password"

# Commonly used in Indonesia and in hospitals, missing from zxcvbn's mostly English breach list; lower case.
LOCAL_COMMON = frozenset(
    {
        "rumahsakit", "puskesmas", "bismillah", "alhamdulillah", "insyaallah", "assalamualaikum", "indonesia",
        "indonesiaraya", "merdeka", "pancasila", "garuda", "jakarta", "surabaya", "bandung", "sayangku", "sayang",
        "cintaku", "rahasia", "katasandi", "password123", "admin123", "perawat", "dokter", "bidan", "apotek",
        "farmasi", "pasien", "klinik", "kesehatan", "bpjskesehatan", "semangat",
    }
)  # fmt: skip

# Keyboard walks (QWERTY rows and the column walk), checked forwards and backwards.
KEYBOARD_WALKS = (
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]",
)
_DIGITS = "0123456789"
_NOT_ALNUM = re.compile(r"[\W_]+")
_TRAILING = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30,000 most common passwords from breaches (MIT licence), with ``LOCAL_COMMON``.
    Loaded on first use: the module is large."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | LOCAL_COMMON


def check_new_password(password: str, context: Iterable[str] = ()) -> str:
    """The password as it will be hashed (NFKC), or ``InputError`` saying why it is refused. ``context`` holds
    the username, the person's and the site's names: a password may contain none of their words."""
    typed = normalise(password)
    if len(typed) < MIN_LENGTH:
        raise InputError("err_password_short", n=MIN_LENGTH)
    if len(typed) > MAX_LENGTH:
        raise InputError("err_password_long", n=MAX_LENGTH)
    folded = typed.casefold()
    if is_repetitive(folded):
        raise InputError("err_password_repetitive")
    if is_sequence(typed) or is_sequence(folded):
        raise InputError("err_password_sequence")
    if _contains_context(folded, context):
        raise InputError("err_password_context")
    if _is_common(folded):
        raise InputError("err_password_common")
    return typed


def is_repetitive(text: str) -> bool:
    """Two different characters at most, or one short unit repeated (``abcabcabca``)."""
    return len(set(text)) <= 2 or any(text[p:] == text[:-p] for p in range(1, len(text) // 2 + 1))


def is_sequence(text: str) -> bool:
    """Consecutive characters counted up or down (``0`` follows ``9``), or a keyboard walk."""
    if len(text) < 2:
        return False
    steps = {_step(a, b) for a, b in pairwise(text)}
    if steps in ({1}, {-1}):
        return True
    return any(text in walk or text in walk[::-1] for walk in KEYBOARD_WALKS)


def _step(a: str, b: str) -> int:
    if a in _DIGITS and b in _DIGITS:
        return (int(b) - int(a) + 5) % 10 - 5  # 9 → 0 is +1, 0 → 9 is −1
    return ord(b) - ord(a)


def context_words(context: Iterable[str]) -> set[str]:
    """The words a password may not contain: each value whole and each of its words, when long enough."""
    words = set(PRODUCT_WORDS)
    for value in context:
        folded = normalise(value or "").casefold().strip()
        for word in (folded, *_NOT_ALNUM.split(folded)):
            if len(word) >= CONTEXT_MIN:
                words.add(word)
    return words


def _contains_context(folded: str, context: Iterable[str]) -> bool:
    compact = _NOT_ALNUM.sub("", folded)  # "p-a-n-t-a-u" is still "pantau"
    return any(word in folded or word in compact for word in context_words(context))


def _is_common(folded: str) -> bool:
    listed = common_passwords()
    if folded in listed:
        return True
    base = _TRAILING.sub("", folded)
    suffix = folded[len(base) :]
    trivial = len(suffix) <= SUFFIX_MAX or is_repetitive(suffix) or is_sequence(suffix)
    return bool(base) and trivial and base in listed
