"""The weekly practice plan (jadwal praktik): list, create, change and retire a doctor's sessions.

A change never drops a booking already taken: day sessions already made from the plan (today on) that hold
bookings keep their times and quotas, and the change lists those bookings for the desk to contact. Made sessions
without bookings follow the plan (they are made again from it). A quota cannot go below what a made session has
already booked."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from data import audit
from data.bpjs_schedule_updates import queue_schedule_update
from data.models import ClinicSession, Doctor, DoctorSchedule, Patient, Poli, Visit
from data.schedules import SCHEDULE_CHANGED, local_today, plan_makes
from data.setup_rows import check_version, conflicts_as_input_errors
from domain.actor import Actor
from domain.errors import FieldErrors, InputError
from domain.formats import long_date, parse_clock, parse_day_first, weekday_name
from domain.masking import mask_name
from domain.schedule_rules import PlanSession, check_session

WEEKDAY_NUMBERS = {weekday_name(n).lower(): n for n in range(7)} | {"jum'at": 4, "ahad": 6}


@dataclass(frozen=True)
class PlanRow:
    """One weekly session as the plan pages show it."""

    id: int
    version: int
    doctor_id: int
    doctor_name: str
    poli_id: int
    poli_code: str
    poli_name: str
    weekday: int
    start: time
    end: time
    quota_jkn: int
    quota_non_jkn: int
    capacity: int | None
    valid_from: date | None
    valid_until: date | None
    open_on_holidays: bool
    active: bool


@dataclass(frozen=True)
class AffectedBooking:
    """A booking on a made day session that a plan change does not move: the desk contacts the patient."""

    booking_code: str
    service_date: date
    patient: str  # masked
    payer: str  # jkn | non_jkn


@dataclass(frozen=True)
class PlanChange:
    """What a change did: the saved row and the bookings whose made sessions kept their old times."""

    schedule: DoctorSchedule
    affected: list[AffectedBooking]


def list_plan(
    session: Session, site_id: int, poli_id: int | None = None, doctor_id: int | None = None, *, active: bool = True
) -> list[PlanRow]:
    """The plan's sessions (active ones unless ``active=False``), by poli, weekday, start and doctor."""
    query = (
        select(DoctorSchedule, Doctor, Poli)
        .join(Doctor, Doctor.id == DoctorSchedule.doctor_id)
        .join(Poli, Poli.id == DoctorSchedule.poli_id)
        .where(DoctorSchedule.site_id == site_id)
        .order_by(Poli.name, DoctorSchedule.weekday, DoctorSchedule.start_time, Doctor.name)
    )
    if active:
        query = query.where(DoctorSchedule.active.is_(True))
    if poli_id is not None:
        query = query.where(DoctorSchedule.poli_id == poli_id)
    if doctor_id is not None:
        query = query.where(DoctorSchedule.doctor_id == doctor_id)
    return [_row(plan, doctor, poli) for plan, doctor, poli in session.execute(query).all()]


def _row(plan: DoctorSchedule, doctor: Doctor, poli: Poli) -> PlanRow:
    return PlanRow(
        id=plan.id,
        version=plan.version,
        doctor_id=doctor.id,
        doctor_name=doctor.name,
        poli_id=poli.id,
        poli_code=poli.code,
        poli_name=poli.name,
        weekday=plan.weekday,
        start=plan.start_time,
        end=plan.end_time,
        quota_jkn=plan.quota_jkn,
        quota_non_jkn=plan.quota_non_jkn,
        capacity=plan.capacity,
        valid_from=plan.valid_from,
        valid_until=plan.valid_until,
        open_on_holidays=plan.open_on_holidays,
        active=plan.active,
    )


def create_session(
    session: Session, actor: Actor, values: Mapping[str, object], *, tell_bpjs: bool = True
) -> DoctorSchedule:
    """Add a weekly session. ``values``: ``doctor_id`` or ``doctor_name`` (name or HFIS code), ``poli_id`` or
    ``poli_code``, ``weekday`` (0–6 or ``Senin``…), ``start``/``end`` (``HH:MM``), ``quota_jkn``,
    ``quota_non_jkn``, optional ``capacity``, ``valid_from``/``valid_until`` (ISO dates), ``open_on_holidays``.
    Raises ``FieldErrors`` per wrong field. ``tell_bpjs=False``: BPJS (HFIS) already holds this plan (the embedded
    demo's sandbox starts with it), so no ``updatejadwaldokter`` is queued."""
    plan = DoctorSchedule(site_id=actor.site_id, active=True)
    _apply(session, actor.site_id, plan, values)
    session.add(plan)
    session.flush()
    audit.record_by(
        session, actor, "schedule_created", target_type="doctor_schedule", target_id=plan.id, detail=_detail(plan)
    )
    if tell_bpjs:
        queue_schedule_update(session, plan.site_id, plan.doctor_id, plan.poli_id)
    return plan


def update_session(
    session: Session,
    actor: Actor,
    schedule_id: int,
    values: Mapping[str, object],
    version: int | None,
    *,
    now: datetime | None = None,
    tell_bpjs: bool = True,
) -> PlanChange:
    """Change a weekly session from a form that showed row ``version`` (``EditConflict`` when stale); day sessions
    from the site's today at ``now`` on follow the change (see the module). ``tell_bpjs`` as in
    ``create_session``."""
    plan = _plan(session, actor.site_id, schedule_id)
    check_version(plan, version)
    before = (plan.doctor_id, plan.poli_id)
    _apply(session, actor.site_id, plan, values, now)
    with conflicts_as_input_errors():
        session.flush()
    affected = _follow_plan(session, plan, now)
    audit.record_by(
        session,
        actor,
        "schedule_updated",
        target_type="doctor_schedule",
        target_id=plan.id,
        detail={**_detail(plan), "bookings_kept": len(affected)},
    )
    for doctor_id, poli_id in {before, (plan.doctor_id, plan.poli_id)} if tell_bpjs else ():  # the old week too
        queue_schedule_update(session, plan.site_id, doctor_id, poli_id, now)
    return PlanChange(plan, affected)


def retire_session(
    session: Session, actor: Actor, schedule_id: int, version: int | None, *, now: datetime | None = None
) -> PlanChange:
    """Stop a weekly session (kept for history); made sessions with bookings stay and are listed."""
    plan = _plan(session, actor.site_id, schedule_id)
    check_version(plan, version)
    plan.active = False
    with conflicts_as_input_errors():
        session.flush()
    affected = _follow_plan(session, plan, now)
    audit.record_by(
        session,
        actor,
        "schedule_retired",
        target_type="doctor_schedule",
        target_id=plan.id,
        detail={"bookings_kept": len(affected)},
    )
    queue_schedule_update(session, plan.site_id, plan.doctor_id, plan.poli_id, now)
    return PlanChange(plan, affected)


def _plan(session: Session, site_id: int, schedule_id: int) -> DoctorSchedule:
    plan = session.get(DoctorSchedule, schedule_id)
    if plan is None or plan.site_id != site_id:
        raise InputError("err_schedule_not_found")
    return plan


def _detail(plan: DoctorSchedule) -> dict[str, object]:
    return {
        "doctor_id": plan.doctor_id,
        "poli_id": plan.poli_id,
        "weekday": plan.weekday,
        "start": f"{plan.start_time:%H:%M}",
        "end": f"{plan.end_time:%H:%M}",
        "quota_jkn": plan.quota_jkn,
        "quota_non_jkn": plan.quota_non_jkn,
        "capacity": plan.capacity,
        "valid_from": plan.valid_from.isoformat() if plan.valid_from else None,
        "valid_until": plan.valid_until.isoformat() if plan.valid_until else None,
        "open_on_holidays": plan.open_on_holidays,
    }


# --- reading the form's values ---------------------------------------------------------------------------------


def _apply(
    session: Session, site_id: int, plan: DoctorSchedule, values: Mapping[str, object], now: datetime | None = None
) -> None:
    """Parse ``values`` onto ``plan`` after checking the plan's rules against the doctor's other sessions and, for
    a saved plan, its quotas against the bookings of its made sessions; nothing changes when a check fails."""
    errors: dict[str, InputError] = {}
    doctor = _field(errors, "doctor", lambda: _doctor(session, site_id, values))
    poli = _field(errors, "poli", lambda: _poli(session, site_id, values))
    weekday = _field(errors, "weekday", lambda: _weekday(values.get("weekday")))
    start = _field(errors, "start", lambda: _time(values.get("start")))
    end = _field(errors, "end", lambda: _time(values.get("end")))
    quota_jkn = _field(errors, "quota_jkn", lambda: _count(values.get("quota_jkn")))
    quota_non_jkn = _field(errors, "quota_non_jkn", lambda: _count(values.get("quota_non_jkn")))
    capacity = _field(errors, "capacity", lambda: _optional_count(values.get("capacity")))
    valid_from = _field(errors, "valid_from", lambda: _date(values.get("valid_from")))
    valid_until = _field(errors, "valid_until", lambda: _date(values.get("valid_until")))
    if not errors:
        candidate = PlanSession(
            id=plan.id,
            doctor_id=doctor.id,
            weekday=weekday,
            start=start,
            end=end,
            quota_jkn=quota_jkn,
            quota_non_jkn=quota_non_jkn,
            capacity=capacity,
            valid_from=valid_from,
            valid_until=valid_until,
            poli_name=poli.name,
        )
        try:
            check_session(candidate, _doctor_sessions(session, doctor.id))
        except FieldErrors as exc:
            errors.update(exc.errors)
        if plan.id is not None:
            errors.update(
                _quotas_below_bookings(session, plan, {"quota_jkn": quota_jkn, "quota_non_jkn": quota_non_jkn}, now)
            )
    if errors:
        raise FieldErrors(errors)
    plan.doctor_id, plan.poli_id, plan.weekday = doctor.id, poli.id, weekday
    plan.start_time, plan.end_time = start, end
    plan.quota_jkn, plan.quota_non_jkn, plan.capacity = quota_jkn, quota_non_jkn, capacity
    plan.valid_from, plan.valid_until = valid_from, valid_until
    plan.open_on_holidays = _flag(values.get("open_on_holidays"))


def _field(errors: dict[str, InputError], field: str, parse: Callable[[], Any]) -> Any:
    """``parse()``, or None with its ``InputError`` filed under ``field``."""
    try:
        return parse()
    except InputError as exc:
        errors[field] = exc
        return None


def _doctor_sessions(session: Session, doctor_id: int) -> list[PlanSession]:
    rows = session.execute(
        select(DoctorSchedule, Poli.name)
        .join(Poli, Poli.id == DoctorSchedule.poli_id)
        .where(DoctorSchedule.doctor_id == doctor_id, DoctorSchedule.active.is_(True))
    ).all()
    return [
        PlanSession(
            id=s.id,
            doctor_id=s.doctor_id,
            weekday=s.weekday,
            start=s.start_time,
            end=s.end_time,
            valid_from=s.valid_from,
            valid_until=s.valid_until,
            poli_name=poli_name,
        )
        for s, poli_name in rows
    ]


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _doctor(session: Session, site_id: int, values: Mapping[str, object]) -> Doctor:
    """By ``doctor_id``, else by ``doctor_name`` (the doctor's name or HFIS code, as an import file gives it)."""
    query = select(Doctor).where(Doctor.site_id == site_id, Doctor.active.is_(True))
    if _text(values.get("doctor_id")):
        try:
            doctor = session.scalar(query.where(Doctor.id == int(_text(values["doctor_id"]))))
        except ValueError:
            doctor = None
    else:
        name = _text(values.get("doctor_name"))
        if not name:
            raise InputError("err_schedule_doctor_required")
        doctor = session.scalars(
            query.where(or_(func.lower(Doctor.name) == name.lower(), Doctor.bpjs_code == name))
        ).first()
    if doctor is None:
        raise InputError("err_schedule_doctor_unknown")
    return doctor


def _poli(session: Session, site_id: int, values: Mapping[str, object]) -> Poli:
    query = select(Poli).where(Poli.site_id == site_id, Poli.active.is_(True))
    if _text(values.get("poli_id")):
        try:
            poli = session.scalar(query.where(Poli.id == int(_text(values["poli_id"]))))
        except ValueError:
            poli = None
    else:
        code = _text(values.get("poli_code"))
        if not code:
            raise InputError("err_schedule_poli_required")
        poli = session.scalar(query.where(func.upper(Poli.code) == code.upper()))
    if poli is None:
        raise InputError("err_schedule_poli_unknown")
    return poli


def _weekday(value: object) -> int:
    text = _text(value).lower()
    number = WEEKDAY_NUMBERS.get(text)
    if number is None and text.isdigit() and 0 <= int(text) <= 6:
        number = int(text)
    if number is None:
        raise InputError("err_schedule_weekday")
    return number


def _time(value: object) -> time:
    if isinstance(value, time):
        return value
    try:
        return parse_clock(_text(value))
    except ValueError:
        raise InputError("err_schedule_time") from None


def _count(value: object) -> int:
    text = _text(value)
    if not text.lstrip("-").isdigit():
        raise InputError("err_schedule_number")
    return int(text)


def _flag(value: object) -> bool:
    """A checkbox (bool, or a checklist's list of ticked values) or an import cell (``ya``/``1``/``true``)."""
    if isinstance(value, bool | list | tuple):
        return bool(value)
    return _text(value).lower() in {"1", "ya", "y", "true", "yes"}


def _optional_count(value: object) -> int | None:
    return _count(value) if _text(value) else None


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    try:
        return parse_day_first(text)
    except ValueError:
        raise InputError("err_schedule_date") from None


# --- made day sessions follow the plan, unless they hold bookings ----------------------------------------------


def _made_sessions(session: Session, plan: DoctorSchedule, now: datetime | None) -> list[ClinicSession]:
    today = local_today(session, plan.site_id, now)
    return list(
        session.scalars(
            select(ClinicSession).where(ClinicSession.schedule_id == plan.id, ClinicSession.service_date >= today)
        )
    )


def _booked(made: ClinicSession) -> bool:
    return made.booked_jkn + made.booked_non_jkn > 0


def _quotas_below_bookings(
    session: Session, plan: DoctorSchedule, quotas: dict[str, int], now: datetime | None
) -> dict[str, InputError]:
    """A new quota below what a made session already booked, by field, with the count and the day."""
    errors: dict[str, InputError] = {}
    for made in _made_sessions(session, plan, now):
        for field, booked in (("quota_jkn", made.booked_jkn), ("quota_non_jkn", made.booked_non_jkn)):
            if booked > quotas[field] and field not in errors:
                errors[field] = InputError(
                    "err_schedule_quota_below_booked", booked=booked, day=long_date(made.service_date)
                )
    return errors


def _follow_plan(session: Session, plan: DoctorSchedule, now: datetime | None) -> list[AffectedBooking]:
    """Made sessions follow the changed plan. One the plan still makes takes the new quotas unless it holds
    bookings. One it no longer makes is removed when empty (``ensure_sessions`` makes the day again from the plan;
    one a cancelled visit still names is closed instead), or kept with its bookings, which are returned."""
    kept: list[int] = []
    for made in _made_sessions(session, plan, now):
        if plan_makes(plan, made):
            if not _booked(made):
                made.quota_jkn, made.quota_non_jkn = plan.quota_jkn, plan.quota_non_jkn
        elif _booked(made):
            kept.append(made.id)
        elif session.scalar(select(exists().where(Visit.session_id == made.id))):
            made.closed_reason = made.closed_reason or SCHEDULE_CHANGED
        else:
            session.delete(made)
    session.flush()
    if not kept:
        return []
    rows = session.execute(
        select(Visit.booking_code, Visit.service_date, Patient.name, Visit.payer)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(Visit.session_id.in_(kept), Visit.status != "cancelled")
        .order_by(Visit.service_date, Visit.booking_code)
    ).all()
    return [AffectedBooking(code, day, mask_name(name), payer) for code, day, name, payer in rows]
