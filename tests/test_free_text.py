"""Free text made safe to store: control characters go (line breaks and tabs stay), NFKC, ends stripped."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from domain.free_text import clean_text, readable


@given(st.text())
def test_clean_text_keeps_no_control_character_but_line_breaks_and_tabs(text: str) -> None:
    cleaned = clean_text(text)
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in cleaned)
    assert cleaned == cleaned.strip() and clean_text(cleaned) == cleaned


def test_clean_text_examples() -> None:
    assert clean_text("  Pasien\x00 pulang\npaksa\t ") == "Pasien pulang\npaksa"
    assert clean_text("ＩＣＵ") == "ICU" and clean_text(None) == ""


def test_only_invisible_characters_are_not_readable() -> None:
    assert not readable("\u200b\u200e\u0301 ") and readable("a") and readable("5") and readable("—")
