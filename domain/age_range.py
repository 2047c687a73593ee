"""A poli's age range (Poli Anak: 0–17 years) and whether a patient's age on the visit day falls inside it. The
desk is warned, never blocked: the range is a hint for the clerk, not a clinical rule."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from domain.errors import InputError

OLDEST = 150  # years: the largest bound an admin may set
AgeUnit = Literal["days", "months", "years", "unknown"]
# The birth date an emergency patient whose age nobody could tell is registered with until the desk completes her
# record (``data.admissions.admit_emergency``): her age is shown as unknown, never as 126 years.
UNKNOWN_BIRTH_DATE = date(1900, 1, 1)
APPROX_AGE_MAX = 130  # years: the oldest approximate age the emergency form takes


def age_years(birth: date, day: date) -> int:
    """Completed years on ``day`` (a birthday counts from that day; 29 February from 1 March in other years)."""
    before_birthday = (day.month, day.day) < (birth.month, birth.day)
    return day.year - birth.year - before_birthday


def age_shown(birth: date, day: date) -> tuple[int, AgeUnit]:
    """A patient's age as a ward shows it: days in the first month, completed months until two years, then
    years (a month completes on the same day of the month, or from the 1st after it when that day is missing);
    ``(0, "unknown")`` for the placeholder of an age nobody could tell."""
    if birth == UNKNOWN_BIRTH_DATE:
        return 0, "unknown"
    months = (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)
    if months < 1:
        return (day - birth).days, "days"
    if months < 24:
        return months, "months"
    return age_years(birth, day), "years"


def approx_age(typed: object) -> int | None:
    """The approximate age in whole years typed on the emergency admission form; ``None`` when left empty (unknown).
    Anything else than a whole number from 0 to 130 is refused (``adt_err_age``), never taken as unknown."""
    text = str(typed if typed is not None else "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > APPROX_AGE_MAX:
        raise InputError("adt_err_age")
    return int(text)


@dataclass(frozen=True)
class AgeRange:
    """Inclusive bounds in completed years; either may be open (None)."""

    min_years: int | None
    max_years: int | None

    def __post_init__(self) -> None:
        for bound in (self.min_years, self.max_years):
            if bound is not None and not 0 <= bound <= OLDEST:
                raise InputError("err_age_bound", oldest=OLDEST)
        if None not in (self.min_years, self.max_years) and self.min_years > self.max_years:
            raise InputError("err_age_order")

    def admits(self, age: int) -> bool:
        return (self.min_years is None or age >= self.min_years) and (self.max_years is None or age <= self.max_years)


def years_bound(text: str | None) -> int | None:
    """A bound as an admin typed it: blank is open (None), else whole years 0–150 in any digits NFKC makes
    ASCII; anything else raises ``InputError("err_age_bound")``."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > OLDEST:
        raise InputError("err_age_bound", oldest=OLDEST)
    return int(value)
