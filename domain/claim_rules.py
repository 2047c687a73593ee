"""A BPJS claim's rules (docs/claims.md): its lifecycle, its computed deadlines, and the checks of its fields.

- Lifecycle (e-Klaim / V-Claim): coded → grouped → final → submitted → verified → eligible | pending |
  not_eligible | dispute; eligible → paid. A pending or disputed claim goes back to submitted when the hospital
  answers (resubmission); a not-eligible verdict may be disputed.
- Submission limit: at the latest 6 months after the service ended ("paling lambat 6 bulan sejak pelayanan
  selesai", Permenkes 3/2023); a month end maps to the shorter month's last day (31 Aug → 28/29 Feb).
- Verification promise: BPJS pays within 15 working days of a complete claim (Perpres 82/2018 Pasal 87); working
  days exclude Saturdays, Sundays and the public holidays the caller passes in.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections import deque
from datetime import date, timedelta
from typing import Final

from domain.errors import InputError
from domain.finance import CLAIM_STATES
from domain.formats import typed_amount, whole_number

TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "coded": ("grouped",),
    "grouped": ("final",),
    "final": ("submitted",),
    "submitted": ("verified",),
    "verified": ("eligible", "pending", "not_eligible", "dispute"),
    "eligible": ("paid",),
    "pending": ("submitted",),
    "not_eligible": ("dispute",),
    "dispute": ("submitted",),
    "paid": (),
}
NEEDS_REASON: Final = frozenset({"pending", "not_eligible", "dispute"})
NOT_SUBMITTED: Final = frozenset({"coded", "grouped", "final"})
SUBMISSION_MONTHS: Final = 6
VERIFICATION_WORKING_DAYS: Final = 15
NEAR_LIMIT_DAYS: Final = 30
MAX_AMOUNT: Final = 100_000_000_000  # Rp 100 miliar: far above any single claim, below any typing slip of 1e12

_SEP = re.compile(r"^[A-Z0-9]{19}$")
# CMG letter, case type digit, CBG number (2 digits), severity I/II/III (inpatient) or 0 (outpatient): K-4-17-I.
_INACBG = re.compile(r"^[A-Z]-[0-9]-[0-9]{2}-(?:I|II|III|0)$")


def next_states(status: str) -> tuple[str, ...]:
    """Where a claim in ``status`` may go next (by hand, one step)."""
    return TRANSITIONS.get(status, ())


def can_move(status: str, target: str) -> bool:
    return target in next_states(status)


def path_to(status: str, target: str) -> list[str] | None:
    """The shortest chain of steps from ``status`` to ``target`` (not including ``status``), ``[]`` when already
    there, ``None`` when unreachable. An import uses it to pass through the states its file skipped."""
    if status == target:
        return []
    seen = {status: [status]}
    queue = deque([status])
    while queue:
        here = queue.popleft()
        for step in next_states(here):
            if step not in seen:
                seen[step] = [*seen[here], step]
                if step == target:
                    return seen[step][1:]
                queue.append(step)
    return None


def submission_deadline(service_end: date) -> date:
    """The last day a claim may be submitted: six calendar months after the service ended."""
    index = service_end.year * 12 + service_end.month - 1 + SUBMISSION_MONTHS
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(service_end.day, monthrange(year, month0 + 1)[1]))


def days_to_deadline(service_end: date, today: date) -> int:
    """Days left to submit (0 = today is the last day, negative = late)."""
    return (submission_deadline(service_end) - today).days


def near_limit(service_end: date, today: date, status: str) -> bool:
    """Not yet submitted and 30 days or fewer left (or already past the limit)."""
    return status in NOT_SUBMITTED and days_to_deadline(service_end, today) <= NEAR_LIMIT_DAYS


def near_limit_cutoff(today: date) -> date:
    """The latest service end whose claim is near the limit on ``today`` (for a query: ``service_end <= cutoff``)."""
    target = today + timedelta(days=NEAR_LIMIT_DAYS)
    index = target.year * 12 + target.month - 1 - SUBMISSION_MONTHS
    year, month0 = divmod(index, 12)
    day = date(year, month0 + 1, min(target.day, monthrange(year, month0 + 1)[1]))
    while submission_deadline(day + timedelta(days=1)) <= target:  # month ends: 29-31 Aug all end on 28 Feb
        day += timedelta(days=1)
    return day


def is_working_day(day: date, holidays: set[date] | frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def verification_due(submitted_on: date, holidays: set[date] | frozenset[date]) -> date:
    """The 15th working day after a complete submission (the day of submission itself does not count)."""
    day, left = submitted_on, VERIFICATION_WORKING_DAYS
    while left:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


def verification_window(submitted_on: date) -> date:
    """A safe last calendar day to load holidays for when computing ``verification_due`` (15 working days never
    span more than 15 weeks, even in the Idul Fitri collective leave)."""
    return submitted_on + timedelta(weeks=VERIFICATION_WORKING_DAYS)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def sep_number(value: object) -> str:
    """A SEP number: 19 letters or digits (spaces ignored, upper-cased), e.g. 0101R0010125V000123."""
    text = re.sub(r"\s+", "", _text(value)).upper()
    if not _SEP.match(text):
        raise InputError("claim_err_sep")
    return text


def inacbg_code(value: object) -> str | None:
    """An INA-CBG code such as ``K-4-17-I`` (blank: not coded yet)."""
    text = re.sub(r"\s+", "", _text(value)).upper()
    if not text:
        return None
    if not _INACBG.match(text):
        raise InputError("claim_err_inacbg")
    return text


def amount(value: object) -> int:
    """Whole Rupiah ≥ 0, typed plain (1234567), with thousands dots (1.234.567) or commas, or ``Rp``-prefixed."""
    if isinstance(value, bool):
        raise InputError("claim_err_amount")
    if isinstance(value, int):
        number = value
    else:
        whole = whole_number(typed_amount(_text(value)))
        if whole is None:
            raise InputError("claim_err_amount")
        number = whole
    if not 0 <= number <= MAX_AMOUNT:
        raise InputError("claim_err_amount")
    return number


def optional_amount(value: object) -> int | None:
    """``amount``, or ``None`` when left blank."""
    return None if _text(value) == "" else amount(value)


def claim_status(value: object) -> str:
    text = _text(value)
    if text not in CLAIM_STATES:
        raise InputError("claim_err_status")
    return text
