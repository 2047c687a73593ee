"""Doctor practice sessions of a day, made from the weekly schedule, and closing a poli by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from data import audit
from data.holidays import holidays_between
from data.models import ClinicSession, Doctor, DoctorLeave, DoctorSchedule, Poli, Site
from data.upsert import insert_for
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from domain.free_text import clean_text
from domain.schedule_rules import session_state

ON_LEAVE = "dokter cuti"  # closed_reason of a session on the doctor's leave
SCHEDULE_CHANGED = "jadwal diubah"  # closed_reason of an emptied session the plan no longer makes


def site_zone(session: Session, site_id: int) -> ZoneInfo:
    return ZoneInfo(session.get(Site, site_id).timezone)


def local_today(session: Session, site_id: int, now: datetime | None = None) -> date:
    """The site's calendar day (numbers and quotas reset at local midnight, not UTC's)."""
    return (now or utcnow()).astimezone(site_zone(session, site_id)).date()


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def plan_makes(plan: DoctorSchedule, made: ClinicSession) -> bool:
    """Whether the weekly plan, as it now stands, still makes this day session at the same place and hours; one
    it no longer makes was kept for its bookings (``data.doctor_schedules``) or closed as "jadwal diubah"."""
    return (
        plan.active
        and (made.doctor_id, made.poli_id) == (plan.doctor_id, plan.poli_id)
        and made.service_date.weekday() == plan.weekday
        and (made.start_time, made.end_time) == (plan.start_time, plan.end_time)
        and (plan.valid_from is None or plan.valid_from <= made.service_date)
        and (plan.valid_until is None or made.service_date <= plan.valid_until)
    )


def off_plan_sessions(session: Session, site_id: int, day: date) -> set[int]:
    """The ids of ``day``'s sessions that their weekly plan no longer makes (``plan_makes``)."""
    rows = session.execute(
        select(ClinicSession, DoctorSchedule)
        .join(DoctorSchedule, DoctorSchedule.id == ClinicSession.schedule_id)
        .where(ClinicSession.site_id == site_id, ClinicSession.service_date == day)
    ).all()
    return {made.id for made, plan in rows if not plan_makes(plan, made)}


def ensure_sessions(session: Session, site_id: int, day: date) -> None:
    """Create the day's sessions from the weekly plan valid on ``day``; existing ones (and their bookings) stay
    as they are. A plan whose hours changed after it made the day's session (kept for its bookings,
    ``data.doctor_schedules``) makes its new hours too when they do not overlap the kept ones: a doctor is never
    in two sessions at once, and a practice moved to the afternoon opens that afternoon. A closing holiday makes a
    session closed with the holiday's name (unless its plan is ``open_on_holidays``), and so does the doctor's
    leave ("dokter cuti", with the leave)."""
    existing = session.execute(
        select(
            ClinicSession.doctor_id,
            ClinicSession.poli_id,
            ClinicSession.start_time,
            ClinicSession.end_time,
            ClinicSession.schedule_id,
        ).where(ClinicSession.site_id == site_id, ClinicSession.service_date == day)
    ).all()
    made_slots = {(doctor_id, poli_id, start) for doctor_id, poli_id, start, *_ in existing}
    made_hours: dict[int, list[tuple[time, time]]] = {}
    for *_, start, end, schedule_id in existing:
        made_hours.setdefault(schedule_id, []).append((start, end))
    plans = [
        plan
        for plan in session.scalars(
            select(DoctorSchedule)
            .join(Doctor, Doctor.id == DoctorSchedule.doctor_id)
            .where(
                DoctorSchedule.site_id == site_id,
                DoctorSchedule.weekday == day.weekday(),
                DoctorSchedule.active.is_(True),
                Doctor.active.is_(True),
                or_(DoctorSchedule.valid_from.is_(None), DoctorSchedule.valid_from <= day),
                or_(DoctorSchedule.valid_until.is_(None), DoctorSchedule.valid_until >= day),
            )
        )
        if (plan.doctor_id, plan.poli_id, plan.start_time) not in made_slots
        and not any(start < plan.end_time and plan.start_time < end for start, end in made_hours.get(plan.id, ()))
    ]
    if not plans:
        return
    zone = site_zone(session, site_id)
    holiday = holidays_between(session, site_id, day, day).get(day)
    leaves = {
        leave.doctor_id: leave
        for leave in session.scalars(
            select(DoctorLeave).where(
                DoctorLeave.site_id == site_id,
                DoctorLeave.doctor_id.in_({plan.doctor_id for plan in plans}),
                DoctorLeave.first_day <= day,
                DoctorLeave.last_day >= day,
                DoctorLeave.cancelled_at.is_(None),
            )
        )
    }
    rows = []
    for plan in plans:
        leave = leaves.get(plan.doctor_id)
        closed = None
        if leave is not None:
            closed = ON_LEAVE
        elif holiday is not None and holiday.closes and not plan.open_on_holidays:
            closed = holiday.name[:200]
        rows.append(
            {
                "site_id": site_id,
                "poli_id": plan.poli_id,
                "doctor_id": plan.doctor_id,
                "schedule_id": plan.id,
                "service_date": day,
                "start_time": plan.start_time,
                "end_time": plan.end_time,
                "starts_at": _at(day, plan.start_time, zone),
                "ends_at": _at(day, plan.end_time, zone),
                # the plan's capacity is at least these two (a database check), so the quotas are the limit
                "quota_jkn": plan.quota_jkn,
                "quota_non_jkn": plan.quota_non_jkn,
                "booked_jkn": 0,
                "booked_non_jkn": 0,
                "closed_reason": closed,
                "closed_at": utcnow() if closed else None,
                "leave_id": leave.id if leave is not None else None,
            }
        )
    # two workers may do this at once: the unique key decides, the loser inserts nothing
    session.execute(
        insert_for(session, ClinicSession)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["doctor_id", "poli_id", "service_date", "start_time"])
    )


@dataclass(frozen=True)
class SessionInfo:
    """A session as the registration desk sees it."""

    id: int
    poli_id: int
    poli_code: str
    poli_name: str
    doctor_id: int
    doctor_name: str
    start_time: time
    end_time: time
    quota_jkn: int
    quota_non_jkn: int
    booked_jkn: int
    booked_non_jkn: int
    closed_reason: str | None
    over: bool
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    started_at: datetime | None = None  # the doctor's first task 4
    leave_id: int | None = None  # closed by this leave
    state: str = "not_started"  # domain.schedule_rules.SESSION_STATES at the time asked

    @property
    def open(self) -> bool:
        return self.closed_reason is None and not self.over

    @property
    def on_leave(self) -> bool:
        return self.leave_id is not None or self.closed_reason == ON_LEAVE


def day_sessions(session: Session, site_id: int, day: date, now: datetime | None = None) -> list[SessionInfo]:
    """Every session of ``day`` (made from the schedule when missing), by poli and start time."""
    ensure_sessions(session, site_id, day)
    now = now or utcnow()
    rows = session.execute(
        select(ClinicSession, Poli, Doctor)
        .join(Poli, Poli.id == ClinicSession.poli_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .where(ClinicSession.site_id == site_id, ClinicSession.service_date == day)
        .order_by(Poli.name, ClinicSession.start_time, Doctor.name)
    ).all()
    return [
        SessionInfo(
            id=s.id,
            poli_id=p.id,
            poli_code=p.code,
            poli_name=p.name,
            doctor_id=d.id,
            doctor_name=d.name,
            start_time=s.start_time,
            end_time=s.end_time,
            quota_jkn=s.quota_jkn,
            quota_non_jkn=s.quota_non_jkn,
            booked_jkn=s.booked_jkn,
            booked_non_jkn=s.booked_non_jkn,
            closed_reason=s.closed_reason,
            over=now >= s.ends_at,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            started_at=s.started_at,
            leave_id=s.leave_id,
            state=session_state(
                closed=s.closed_reason is not None,
                on_leave=s.leave_id is not None or s.closed_reason == ON_LEAVE,
                started=s.started_at is not None,
                ends_at=s.ends_at,
                now=now,
            ),
        )
        for s, p, d in rows
    ]


def today_sessions(session: Session, site_id: int, now: datetime | None = None) -> list[SessionInfo]:
    """Every session of the site's local today (``day_sessions`` of ``local_today``), as it stands at ``now``."""
    now = now or utcnow()
    return day_sessions(session, site_id, local_today(session, site_id, now), now)


def close_poli(session: Session, actor: Actor, poli_id: int, day: date, reason: str) -> int:
    """Close every session of a poli on ``day`` with a reason; returns how many were closed."""
    reason = clean_text(reason)[:200]
    if not reason:
        raise InputError("err_close_reason")
    ensure_sessions(session, actor.site_id, day)
    values = {"closed_reason": reason, "closed_at": utcnow(), "closed_by": actor.user_id}
    return _set_closed(session, actor, poli_id, day, values, "poli_closed", {"reason": reason})


def reopen_poli(session: Session, actor: Actor, poli_id: int, day: date) -> int:
    """Undo ``close_poli`` for ``day``."""
    values = {"closed_reason": None, "closed_at": None, "closed_by": None}
    return _set_closed(session, actor, poli_id, day, values, "poli_reopened", {})


def _set_closed(
    session: Session, actor: Actor, poli_id: int, day: date, values: dict, action: str, detail: dict
) -> int:
    closing = values["closed_reason"] is not None
    changed = session.execute(
        update(ClinicSession)
        .where(
            ClinicSession.site_id == actor.site_id,
            ClinicSession.poli_id == poli_id,
            ClinicSession.service_date == day,
            ClinicSession.closed_reason.is_(None) if closing else ClinicSession.closed_reason.is_not(None),
        )
        .values(**values)
    ).rowcount
    audit.record_by(
        session,
        actor,
        action,
        target_type="poli",
        target_id=poli_id,
        detail={"date": day.isoformat(), "sessions": changed, **detail},
    )
    return changed
