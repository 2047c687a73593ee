"""Doctor practice sessions of a day, made from the weekly schedule, and closing a poli by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data import audit
from data.models import ClinicSession, Doctor, DoctorSchedule, Poli, Site
from data.upsert import insert_for
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from domain.free_text import clean_text


def site_zone(session: Session, site_id: int) -> ZoneInfo:
    return ZoneInfo(session.get(Site, site_id).timezone)


def local_today(session: Session, site_id: int, now: datetime | None = None) -> date:
    """The site's calendar day (numbers and quotas reset at local midnight, not UTC's)."""
    return (now or utcnow()).astimezone(site_zone(session, site_id)).date()


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def ensure_sessions(session: Session, site_id: int, day: date) -> None:
    """Create the day's sessions from the active weekly schedule; existing ones (and their bookings) stay."""
    zone = site_zone(session, site_id)
    existing = set(
        session.execute(
            select(ClinicSession.doctor_id, ClinicSession.poli_id, ClinicSession.start_time).where(
                ClinicSession.site_id == site_id, ClinicSession.service_date == day
            )
        ).all()
    )
    schedules = session.scalars(
        select(DoctorSchedule)
        .join(Doctor, Doctor.id == DoctorSchedule.doctor_id)
        .where(
            DoctorSchedule.site_id == site_id,
            DoctorSchedule.weekday == day.weekday(),
            DoctorSchedule.active.is_(True),
            Doctor.active.is_(True),
        )
    )
    rows = [
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
            "quota_jkn": plan.quota_jkn,
            "quota_non_jkn": plan.quota_non_jkn,
            "booked_jkn": 0,
            "booked_non_jkn": 0,
        }
        for plan in schedules
        if (plan.doctor_id, plan.poli_id, plan.start_time) not in existing
    ]
    if rows:  # two workers may do this at once: the unique key decides, the loser inserts nothing
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

    @property
    def open(self) -> bool:
        return self.closed_reason is None and not self.over


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
