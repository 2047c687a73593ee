"""How Pantau writes dates, times and money (DESIGN §9): ``12 Januari 2026``, site time zone, ``Rp 1.234.567``;
and the one stored form of a person's name and mobile number, checked where a person types them."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from domain.errors import InputError
from domain.identifiers import digit_string

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
WEEKDAYS = {  # Sunday first, as Plotly and JavaScript count them
    "id": ("Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"),
    "en": ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
}
ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def long_date(day: date, lang: str = "id") -> str:
    """``12 Januari 2026``."""
    return f"{day.day} {MONTHS.get(lang, MONTHS['id'])[day.month - 1]} {day.year}"


# A date as typed, day first (17-08-1975, 17/8/1975, 17.08.1975, 17081975), and year first as a browser or a paste
# gives it (1975-08-17). A two-digit year is refused: which century is a guess.
_DAY_FIRST = re.compile(r"([0-9]{1,2})[-/. ]([0-9]{1,2})[-/. ]([0-9]{4})|([0-9]{2})([0-9]{2})([0-9]{4})")
_YEAR_FIRST = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def parse_day_first(text: str) -> date:
    """The date ``text`` writes day first (or ISO, year first); ``ValueError`` for anything else or a day the
    calendar has not (31-02-1990)."""
    text = text.strip()
    if found := _YEAR_FIRST.fullmatch(text):
        year, month, day = found.groups()
    elif found := _DAY_FIRST.fullmatch(text):
        day, month, year = (part for part in found.groups() if part is not None)
    else:
        raise ValueError(f"not a day-first date: {text!r}")
    return date(int(year), int(month), int(day))


# Hours and minutes on the 24-hour clock, as Indonesia writes them (14.30) or with a colon (14:30), or digits alone
# (1430, 830). No "am"/"pm": a time of death or a clinic's hours must not hang on a suffix left off.
_CLOCK = re.compile(r"([0-9]{1,2})[.:]([0-9]{2})|([0-9]{1,2})([0-9]{2})")


def parse_clock(text: str) -> time:
    """The time ``text`` writes on the 24-hour clock (``14.30``, ``14:30``, ``1430``, ``8.05``); ``ValueError``
    for anything else (``2.30 pm``, ``24.00``, ``14.75``)."""
    found = _CLOCK.fullmatch(text.strip())
    if not found:
        raise ValueError(f"not a 24-hour time: {text!r}")
    hours, minutes = (part for part in found.groups() if part is not None)
    return time(int(hours), int(minutes))


def day_first(day: date) -> str:
    """``17-08-1975``: a date as a person types it back into a day-first field."""
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"


class Weekday(int):
    """A day of the week in a message's values (0 = Monday, as Python counts): ``i18n.translate`` writes it in
    the reader's language."""


def weekday_name(weekday: int, lang: str = "id") -> str:
    """``Senin`` for 0 (Python's Monday)."""
    return WEEKDAYS.get(lang, WEEKDAYS["id"])[(weekday + 1) % 7]


def clock(value: time | datetime, lang: str = "id") -> str:
    """A time of day on the 24-hour clock, as the language writes it: ``08.05`` in Indonesian, ``08:05`` in
    English."""
    separator = "." if lang == "id" else ":"
    return f"{value:%H}{separator}{value:%M}"


def clock_range(start: time, end: time, lang: str = "id") -> str:
    """A session's hours: ``08.00–12.00`` in Indonesian, ``08:00–12:00`` in English."""
    return f"{clock(start, lang)}–{clock(end, lang)}"


def wall_clock(moment: datetime, timezone: str, lang: str = "id") -> str:
    """An aware time as the site's wall clock, with its zone: ``08.05 WIB`` (``08:05 WIB`` in English)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{clock(local, lang)} {ZONE_ABBREVIATIONS.get(timezone, local.tzname() or timezone)}"


def local_datetime(moment: datetime, timezone: str, lang: str = "id") -> str:
    """An aware time shown in the site's zone: ``12 Januari 2026 08.05 WIB``."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{long_date(local.date(), lang)} {wall_clock(local, timezone, lang)}"


_RUPIAH_PREFIX = re.compile(r"^rp\.?", re.IGNORECASE)
_WHOLE_NUMBER = re.compile(r"\d+|\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+")


def typed_amount(value: object) -> str:
    """A typed amount without its blanks and its ``Rp`` / ``Rp.`` prefix."""
    return _RUPIAH_PREFIX.sub("", re.sub(r"\s+", "", str(value or "")))


def whole_number(text: str) -> int | None:
    """A whole number written plain or grouped in thousands the Indonesian (``150.000``) or the English
    (``150,000``) way, as the pages write amounts in either language; ``None`` for anything else (a sign,
    decimals, a stray separator). A Rupiah amount has no three-digit decimals, so ``150,000`` is not ambiguous."""
    return int(re.sub("[.,]", "", text)) if _WHOLE_NUMBER.fullmatch(text) else None


class Rupiah(int):
    """An amount in a message's values: ``i18n.translate`` writes it as :func:`rupiah` in the reader's language."""


def thousands(amount: int, lang: str = "id") -> str:
    """A whole number grouped the language's way: ``1.234.567``, in English ``1,234,567``."""
    grouped = f"{amount:,}"
    return grouped if lang == "en" else grouped.replace(",", ".")


def rupiah(amount: int, lang: str = "id") -> str:
    """Integer Rupiah with the language's thousands separator: ``Rp 1.234.567``, in English ``Rp 1,234,567``
    (negative: ``-Rp 5.000``)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {thousands(abs(amount), lang)}"


# A mobile number is kept in the national form ``08…``; ``+62 8…`` and ``62 8…`` mean the same number. The length
# counts the national form's digits, leading 0 included (Indonesian mobile numbers have 10 to 13 today).
PHONE_DIGITS = (10, 15)
NAME_PUNCTUATION = frozenset(".,'-’`")
NAME_MAX = 200  # the patient record's name column


def normalise_phone(value: str | None) -> str:
    """``0812 3456-7890``, ``+62 812 3456 7890``, full-width digits: all become ``081234567890``. Anything that is
    not an Indonesian mobile number of 10–15 digits raises ``InputError("err_phone_format", min=, max=)``."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    plus = text.startswith("+")
    digits = digit_string(text[1:] if plus else text)
    if digits is not None and (plus or digits.startswith("62")):
        digits = "0" + digits[2:] if digits.startswith("62") else None
    shortest, longest = PHONE_DIGITS
    if digits is None or not digits.startswith("08") or not shortest <= len(digits) <= longest:
        raise InputError("err_phone_format", min=shortest, max=longest)
    return digits


def normalise_name(value: str | None) -> str:
    """A person's name as stored: NFKC, runs of whitespace made one space. Letters (any script, with their
    combining marks), spaces and ``. , ' -`` only: digits, emoji and control characters raise
    ``InputError("err_name_characters")`` (so does a name without a letter); a blank name
    ``InputError("err_full_name_required")``; one longer than ``NAME_MAX`` ``InputError("lim_name_too_long")``."""
    name = " ".join(unicodedata.normalize("NFKC", value or "").split())
    if not name:
        raise InputError("err_full_name_required")
    if len(name) > NAME_MAX:
        raise InputError("lim_name_too_long", n=NAME_MAX)
    classes = [unicodedata.category(ch)[0] for ch in name]
    allowed = all(ch == " " or ch in NAME_PUNCTUATION or c in "LM" for ch, c in zip(name, classes, strict=True))
    if not allowed or "L" not in classes:
        raise InputError("err_name_characters")
    return name
