"""The site's holiday calendar: Indonesia's public holidays (the ``holidays`` package, names in Indonesian) merged
with the site's own changes (``SiteHoliday``): collective leave days (cuti bersama) that close sessions, and
national holidays the site keeps open. A closing holiday closes the day's sessions unless their plan is
``open_on_holidays``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import holidays as holiday_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.models import SiteHoliday
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from domain.free_text import clean_text

NATIONAL = "national"  # a Holiday's kind when only the national calendar names the day
COLLECTIVE, KEEP_OPEN = "collective", "open"  # SiteHoliday.kind


@dataclass(frozen=True)
class Holiday:
    """A day off the usual plan: ``kind`` national | collective | open; ``closes`` whether sessions close."""

    day: date
    name: str
    kind: str
    closes: bool


@cache
def _national_year(year: int) -> dict[date, str]:
    """One year of the national calendar (asked for on every day's sessions, so kept)."""
    return dict(holiday_calendar.country_holidays("ID", years=year, language="id").items())


def national_holidays(first: date, last: date) -> dict[date, str]:
    """Indonesia's public holidays from ``first`` to ``last`` (inclusive), in Indonesian."""
    days = (item for year in range(first.year, last.year + 1) for item in _national_year(year).items())
    return {day: name for day, name in sorted(days) if first <= day <= last}


def holidays_between(session: Session, site_id: int, first: date, last: date) -> dict[date, Holiday]:
    """Every holiday of the site from ``first`` to ``last``: the national ones, with the site's changes over them."""
    found = {day: Holiday(day, name, NATIONAL, True) for day, name in national_holidays(first, last).items()}
    rows = session.scalars(
        select(SiteHoliday).where(SiteHoliday.site_id == site_id, SiteHoliday.day.between(first, last))
    )
    for row in rows:
        name = row.name or (found[row.day].name if row.day in found else "")
        found[row.day] = Holiday(row.day, name, row.kind, row.kind == COLLECTIVE)
    return dict(sorted(found.items()))


def set_site_holiday(session: Session, actor: Actor, day: date, kind: str, name: str = "") -> None:
    """Mark ``day`` a collective leave day (``collective``, closes sessions; needs a name) or keep a national
    holiday open (``open``); a second call for the day replaces the first."""
    name = clean_text(name or "")[:100]
    if kind not in (COLLECTIVE, KEEP_OPEN):
        raise InputError("err_holiday_kind")
    if kind == COLLECTIVE and not name:
        raise InputError("err_holiday_name")
    row = session.get(SiteHoliday, (actor.site_id, day))
    if row is None:
        row = SiteHoliday(site_id=actor.site_id, day=day)
        session.add(row)
    row.kind, row.name, row.updated_by, row.updated_at = kind, name, actor.user_id, utcnow()
    session.flush()
    audit.record_by(
        session,
        actor,
        "holiday_set",
        target_type="site_holiday",
        target_id=day.isoformat(),
        detail={"kind": kind, "name": name},
    )


def remove_site_holiday(session: Session, actor: Actor, day: date) -> bool:
    """Undo the site's change for ``day`` (the national calendar applies again); False when there was none."""
    row = session.get(SiteHoliday, (actor.site_id, day))
    if row is None:
        return False
    detail = {"kind": row.kind, "name": row.name}
    session.delete(row)
    session.flush()
    audit.record_by(
        session, actor, "holiday_removed", target_type="site_holiday", target_id=day.isoformat(), detail=detail
    )
    return True
