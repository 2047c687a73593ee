"""Reading a number a person typed into a form, the way they meant it.

Indonesian writes a decimal comma (36,8), a phone or a tablet's IME may give full-width digits (３６．８), and
fields pick up leading or trailing spaces; all of those mean 36.8. Python's ``float()`` also reads ``1e3``,
``1_000``, ``nan``, ``inf`` and Arabic-Indic digits, none of which a nurse or an admin types for a vital sign or
a limit: they are refused, so what is saved is always the number the person sees in the field.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

_DECIMAL = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


def parse_decimal(text: str) -> float:
    """The number in ``text`` (decimal comma or point, full-width digits, surrounding spaces allowed).

    Raises ``ValueError`` for anything else: letters, exponents, digit separators, NaN, infinity, two signs."""
    normal = unicodedata.normalize("NFKC", text).strip()
    if not _DECIMAL.fullmatch(normal):
        raise ValueError(f"not a decimal number: {text!r}")
    return float(normal.replace(",", ".")) + 0.0  # + 0.0: "-0" is 0, never a "-0" shown back


def format_decimal(value: float) -> str:
    """A stored number as a form shows it back: ``88``, ``36.8``, ``0.00001`` — the shortest text that reads back
    as exactly ``value`` (no trailing zeros, no exponent)."""
    return format(Decimal(repr(value)).normalize(), "f")
