"""Numbers people type into identifier fields: the NIK (Nomor Induk Kependudukan, 16 digits) and the BPJS card
number (13 digits).

One normaliser serves every path that stores, searches or blind-indexes such a number, so the same number typed
two ways is the same number: NFKC first (full-width ``３１７１`` becomes ``3171``), then whitespace and the usual
separators ``-`` and ``.`` are removed. Anything else that is not an ASCII digit makes the value invalid; a letter
is never silently dropped. The NIK's embedded region and birth date are not checked: records with dates that do not
fit the rule exist, and refusing a real card at the desk would do more harm than the check prevents."""

from __future__ import annotations

import unicodedata

from domain.errors import InputError

LENGTHS = {"nik": 16, "bpjs": 13}
SEPARATORS = frozenset("-.")


def digit_string(value: str) -> str | None:
    """``value``'s ASCII digits after NFKC with whitespace and separators removed; None if anything else is left
    (or nothing is)."""
    text = unicodedata.normalize("NFKC", value)
    kept = "".join(ch for ch in text if not (ch.isspace() or ch in SEPARATORS))
    return kept if kept.isascii() and kept.isdigit() else None


def normalise_identifier(field: str, value: str | None) -> str | None:
    """The stored form of a NIK (``field="nik"``) or BPJS card number (``"bpjs"``); None when left blank.
    Anything else raises ``InputError("err_nik_format" | "err_bpjs_format")``."""
    if value is None or not value.strip():
        return None
    digits = digit_string(value)
    if digits is None or len(digits) != LENGTHS[field]:
        raise InputError(f"err_{field}_format")
    return digits
