"""What the schedule pages read: a week of the plan (a poli's, or one doctor's) with its holidays, and which
doctor a signed-in user is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.doctor_schedules import PlanRow, list_plan
from data.holidays import Holiday, holidays_between
from data.models import Doctor, DoctorLeave, Poli


@dataclass(frozen=True)
class WeekSession:
    """A plan session on one day of the week, and whether it runs (``closed``: the holiday's name or leave)."""

    plan: PlanRow
    closed: str | None


@dataclass(frozen=True)
class WeekDay:
    day: date
    holiday: Holiday | None
    sessions: list[WeekSession]


@dataclass(frozen=True)
class Choice:
    """An option of a page's picker."""

    id: int
    name: str


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def plan_week(
    session: Session, site_id: int, monday: date, *, poli_id: int | None = None, doctor_id: int | None = None
) -> list[WeekDay]:
    """Monday to Sunday from ``monday``: each day's planned sessions valid that day (a poli's or a doctor's), a
    closing holiday or the doctor's leave marking those that will not run."""
    sunday = monday + timedelta(days=6)
    plan = list_plan(session, site_id, poli_id=poli_id, doctor_id=doctor_id)
    holidays = holidays_between(session, site_id, monday, sunday)
    leaves = session.execute(
        select(DoctorLeave.doctor_id, DoctorLeave.first_day, DoctorLeave.last_day).where(
            DoctorLeave.site_id == site_id,
            DoctorLeave.cancelled_at.is_(None),
            DoctorLeave.first_day <= sunday,
            DoctorLeave.last_day >= monday,
        )
    ).all()
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        holiday = holidays.get(day)
        sessions = []
        for row in plan:
            if row.weekday != day.weekday() or not _valid_on(row, day):
                continue
            on_leave = any(d == row.doctor_id and first <= day <= last for d, first, last in leaves)
            closes = holiday is not None and holiday.closes and not row.open_on_holidays
            sessions.append(WeekSession(row, "leave" if on_leave else holiday.name if closes else None))
        days.append(WeekDay(day, holiday, sessions))
    return days


def _valid_on(row: PlanRow, day: date) -> bool:
    return (row.valid_from is None or row.valid_from <= day) and (row.valid_until is None or day <= row.valid_until)


def polis(session: Session, site_id: int) -> list[Choice]:
    """The site's open polis, by name."""
    rows = session.execute(
        select(Poli.id, Poli.name).where(Poli.site_id == site_id, Poli.active.is_(True)).order_by(Poli.name)
    )
    return [Choice(id_, name) for id_, name in rows]


def doctors(session: Session, site_id: int) -> list[Choice]:
    """The site's active doctors, by name."""
    rows = session.execute(
        select(Doctor.id, Doctor.name).where(Doctor.site_id == site_id, Doctor.active.is_(True)).order_by(Doctor.name)
    )
    return [Choice(id_, name) for id_, name in rows]


def doctor_of_user(session: Session, user_id: int) -> Choice | None:
    """The active doctor whose account is ``user_id`` (``Doctor.user_id``), if any."""
    row = session.execute(
        select(Doctor.id, Doctor.name).where(Doctor.user_id == user_id, Doctor.active.is_(True))
    ).first()
    return Choice(*row) if row else None
