"""Length of stay and who may move inpatients: pure rules of the inpatient pages."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

# Issue 13: nurses, doctors and admins admit, transfer and discharge; the front desk only admits.
MOVING_ROLES: Final = frozenset({"nurse", "doctor", "admin"})
ADMITTING_ROLES: Final = MOVING_ROLES | {"front_desk"}
# Who sets a bed's status by hand (cleaned, out of service) on the bed board.
BED_STATUS_ROLES: Final = frozenset({"nurse", "admin"})


def length_of_stay_days(admitted_at: datetime, until: datetime, zone: ZoneInfo) -> int:
    """Days in hospital as the bed indicators count them (Depkes): discharge date minus admission date in the
    site's calendar, and a stay begun and ended the same day counts one day."""
    days = (until.astimezone(zone).date() - admitted_at.astimezone(zone).date()).days
    return max(1, days)


def day_of_stay(admitted_at: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Which day of the stay ``now`` is in the site's calendar, as a ward counts it ("hari rawat ke-"): the day
    of admission is day 1."""
    return (now.astimezone(zone).date() - admitted_at.astimezone(zone).date()).days + 1


def may_move_patients(roles: frozenset[str]) -> bool:
    """Transfer and discharge: not for the front desk."""
    return bool(roles & MOVING_ROLES)
