"""Finance report cells, labels and periods as readers see them (components/finance_format.py)."""

from __future__ import annotations

from datetime import date

import pytest

from components.finance_format import cell_text, label, month_name, period_text
from domain.finance import CLAIM_STATES, PAYERS, UNITS
from i18n import catalogue_keys


@pytest.mark.parametrize(
    "value,kind,lang,expected",
    [
        (1234567, "rupiah", "id", "Rp 1.234.567"),
        (1234567, "rupiah", "en", "Rp 1,234,567"),
        (-5000, "rupiah", "id", "-Rp 5.000"),
        (0, "rupiah", "id", "Rp 0"),
        (12345, "count", "id", "12.345"),
        (80.0, "percent", "id", "80,0 %"),
        (66.666, "percent", "en", "66.7 %"),
        (7.45, "days", "id", "7,5"),
        (1234.5, "days", "id", "1.234,5"),
        (33.333, "permille", "id", "33,3 ‰"),
        (3.0, "times", "id", "3,0"),
        (date(2026, 3, 2), "date", "id", "2 Mar 2026"),
        (date(2026, 8, 17), "date", "id", "17 Agu 2026"),
        (date(2026, 5, 1), "date", "en", "1 May 2026"),
        (date(2026, 3, 1), "month", "id", "Maret 2026"),
        (date(2026, 3, 1), "month", "en", "March 2026"),
        ("jkn", "payer", "id", "JKN (BPJS Kesehatan)"),
        ("umum", "payer", "en", "Self-pay"),
        ("rawat_inap", "unit", "id", "Rawat inap"),
        ("not_eligible", "claim_status", "id", "Tidak layak"),
        ("grouped", "claim_status", "id", "Di-grouping"),
        ("K-4-17", "text", "id", "K-4-17"),
        (None, "rupiah", "id", "–"),
        (None, "date", "en", "–"),
    ],
)
def test_cell_text(value, kind, lang, expected):
    assert cell_text(value, kind, lang) == expected


def test_unknown_code_shows_the_code():
    assert cell_text("bpjs_tk", "payer", "id") == "bpjs_tk"


def test_every_vocabulary_code_has_a_label_in_both_languages():
    keys = (
        [f"fin_payer_{code}" for code in PAYERS]
        + [f"fin_unit_{code}" for code in UNITS]
        + [f"fin_claim_status_{code}" for code in CLAIM_STATES]
    )
    for lang in ("id", "en"):
        assert set(keys) <= catalogue_keys(lang)


def test_label_translates_and_falls_back_to_the_key():
    assert label("fin_unit_igd", "id") == "IGD"
    assert label("fin_unit_igd", "en") == "Emergency"
    assert label("fin_no_such_key", "id") == "fin_no_such_key"


def test_month_name():
    assert month_name(1, "id") == "Januari"
    assert month_name(12, "id") == "Desember"
    assert month_name(8, "en") == "August"


@pytest.mark.parametrize(
    "start,end,lang,expected",
    [
        (date(2026, 3, 1), date(2026, 3, 31), "id", "Maret 2026"),
        (date(2026, 2, 1), date(2026, 2, 28), "en", "February 2026"),
        (date(2026, 1, 1), date(2026, 12, 31), "id", "2026"),
        (date(2026, 1, 1), date(2026, 3, 31), "id", "Januari–Maret 2026"),
        (date(2025, 11, 1), date(2026, 2, 28), "id", "November 2025 – Februari 2026"),
        (date(2026, 3, 1), date(2026, 3, 15), "id", "1–15 Maret 2026"),
        (date(2026, 3, 2), date(2026, 3, 2), "id", "2 Maret 2026"),
        (date(2026, 2, 28), date(2026, 3, 3), "id", "28 Februari – 3 Maret 2026"),
        (date(2025, 12, 28), date(2026, 1, 3), "en", "28 December 2025 – 3 January 2026"),
        (date(2026, 12, 1), date(2026, 12, 31), "id", "Desember 2026"),
    ],
)
def test_period_text(start, end, lang, expected):
    assert period_text(start, end, lang) == expected
