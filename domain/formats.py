"""How Pantau writes dates, times and money (DESIGN §9): ``12 Januari 2026``, site time zone, ``Rp 1.234.567``."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def long_date(day: date, lang: str = "id") -> str:
    """``12 Januari 2026``."""
    return f"{day.day} {MONTHS.get(lang, MONTHS['id'])[day.month - 1]} {day.year}"


def local_datetime(moment: datetime, timezone: str, lang: str = "id") -> str:
    """An aware UTC time shown in the site's zone: ``12 Januari 2026 08.05 WIB``."""
    local = moment.astimezone(ZoneInfo(timezone))
    zone = ZONE_ABBREVIATIONS.get(timezone, local.tzname() or timezone)
    separator = "." if lang == "id" else ":"
    return f"{long_date(local.date(), lang)} {local:%H}{separator}{local:%M} {zone}"


def rupiah(amount: int) -> str:
    """Integer Rupiah with dots between thousands: ``Rp 1.234.567`` (negative: ``-Rp 5.000``)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")
