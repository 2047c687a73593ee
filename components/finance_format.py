"""How a finance report's raw values read on screen and in exports (docs/finance.md): ``Rp 1.234.567``,
``80,0 %``, ``33,3 ‰``, ``2 Mar 2026``, ``Maret 2026``, vocabulary codes in the reader's language, ``–`` for none.

Reports keep raw values (domain/finance.py); this module is the one place they become text, so the page and the
XLSX/CSV/PDF exports write the same figures the same way.
"""

from __future__ import annotations

from datetime import date

from domain.formats import MONTHS, rupiah, thousands
from i18n import catalogue_keys, translate

NONE_TEXT = "–"
SHORT_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
# Column kinds holding a vocabulary code, and the i18n prefix of the code's label.
CODE_PREFIXES = {"payer": "fin_payer_", "unit": "fin_unit_", "claim_status": "fin_claim_status_"}


def cell_text(value: object, kind: str, lang: str) -> str:
    """One report cell as text, by its column kind (domain.finance.COLUMN_KINDS)."""
    if value is None:
        return NONE_TEXT
    if kind == "rupiah":
        return rupiah(int(value), lang)
    if kind == "count":
        return _number(value, 0, lang)
    if kind == "percent":
        return f"{_number(value, 1, lang)} %"
    if kind == "permille":
        return f"{_number(value, 1, lang)} ‰"
    if kind in ("days", "times"):
        return _number(value, 1, lang)
    if kind == "date":
        return f"{value.day} {_months(lang, short=True)[value.month - 1]} {value.year}"
    if kind == "month":
        return f"{month_name(value.month, lang)} {value.year}"
    if kind == "label":
        return label(str(value), lang)
    if kind in CODE_PREFIXES:
        return label(CODE_PREFIXES[kind] + str(value), lang, fallback=str(value))
    return str(value)


def label(key: str, lang: str, *, fallback: str | None = None) -> str:
    """The text of an i18n key (a column label, table title, KPI label). A key missing from the catalogue shows
    ``fallback`` (default: the key itself) rather than failing a whole report."""
    if key in catalogue_keys("id"):
        return translate(key, lang)
    return key if fallback is None else fallback


def month_name(month: int, lang: str) -> str:
    """``Januari`` … ``Desember`` (``January`` … in English)."""
    return _months(lang)[month - 1]


def period_text(start: date, end: date, lang: str) -> str:
    """A report period as people say it: ``2026``, ``Maret 2026``, ``Januari–Maret 2026``, ``1–15 Maret 2026``,
    ``28 Februari – 3 Maret 2026``, ``2 Maret 2026``."""
    months = _months(lang)
    if start == end:
        return f"{start.day} {months[start.month - 1]} {start.year}"
    if _whole_months(start, end):
        if start.year == end.year and start.month == 1 and end.month == 12:
            return str(start.year)
        if (start.year, start.month) == (end.year, end.month):
            return f"{months[start.month - 1]} {start.year}"
        if start.year == end.year:
            return f"{months[start.month - 1]}–{months[end.month - 1]} {end.year}"
        return f"{months[start.month - 1]} {start.year} – {months[end.month - 1]} {end.year}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {months[end.month - 1]} {end.year}"
    if start.year == end.year:
        return f"{start.day} {months[start.month - 1]} – {end.day} {months[end.month - 1]} {end.year}"
    return f"{start.day} {months[start.month - 1]} {start.year} – {end.day} {months[end.month - 1]} {end.year}"


def _months(lang: str, *, short: bool = False) -> tuple[str, ...]:
    table = SHORT_MONTHS if short else MONTHS
    return table.get(lang, table["id"])


def _whole_months(start: date, end: date) -> bool:
    following = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    return start.day == 1 and (following - end).days == 1


def _number(value: object, decimals: int, lang: str) -> str:
    """``1.234,5`` in Indonesian, ``1,234.5`` in English."""
    if not decimals:
        return thousands(round(float(value)), lang)
    written = f"{float(value):,.{decimals}f}"
    if lang == "en":
        return written
    return written.replace(",", "\0").replace(".", ",").replace("\0", ".")
