"""Free text a person types (a reason, an address, a model name, a running text) made safe to store and show.

NFKC, so full-width letters read as letters; control characters removed (a NUL, which PostgreSQL refuses in text
and JSON, turned a typed reason into a server error), except line breaks and tabs; the ends stripped."""

from __future__ import annotations

import unicodedata

_KEPT_CONTROLS = frozenset("\n\t")


def clean_text(value: str | None) -> str:
    """``value`` as it is stored: NFKC, without control characters other than line breaks and tabs, stripped."""
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in text if ch in _KEPT_CONTROLS or unicodedata.category(ch) != "Cc").strip()


def readable(text: str) -> bool:
    """Whether ``text`` has a character a reader can see: one made only of zero-width or direction marks, combining
    marks or control characters says nothing (no reason in an audit log, no model name)."""
    return any(unicodedata.category(char)[0] in "LNPS" for char in text)
