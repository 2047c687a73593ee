"""A doctor's leave (cuti): it closes the doctor's sessions on those days and lists the bookings it touches;
each is moved to another session of the same poli (the substitute's, or another session or day) or cancelled
with the reason "dokter cuti", and the patients to contact are listed with their phone (an audited read).

BPJS has no call to change a booking's doctor or day (``antrean/add`` fixes ``kodedokter``, ``tanggalperiksa``
and ``jampraktek``), so a JKN move is reported honestly as two calls: the old booking is cancelled
(``antrean/batal``, "dokter cuti, dipindah ke …") and the new one added (``antrean/add``) with a new booking
code, the same referral number and a new queue number of the new session. There is no column linking a moved
booking to its new one: the move's audit row (``leave_booking_moved``, target the old visit) records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from data import audit, patients
from data.field_crypto import FieldCipher
from data.models import AuditLog, ClinicSession, Doctor, DoctorLeave, DoctorSchedule, Patient, QueueTicket, Visit
from data.queue_actions import cancel
from data.queue_registration import register_visit
from data.schedules import ON_LEAVE, ensure_sessions, local_today
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import FieldErrors, InputError
from domain.free_text import clean_text
from domain.masking import mask_name
from domain.queue_points import poli_point

CLOSED_REASON = ON_LEAVE  # "dokter cuti"
MOVED = "leave_booking_moved"
CANCELLED = "leave_booking_cancelled"
MAX_DAYS = 92  # one leave at most a quarter long; a longer absence is a schedule change


@dataclass(frozen=True)
class Booking:
    """A booking a leave touches, as the page lists it (masked name only)."""

    visit_id: int
    booking_code: str
    service_date: date
    session_id: int
    session_text: str  # "08:00–12:00 dr. Sari"
    poli_id: int
    payer: str
    masked_name: str
    outcome: str  # "open" | "moved" | "cancelled"
    moved_to: str | None  # the new booking's session and code, when moved


@dataclass(frozen=True)
class LeaveResult:
    leave_id: int
    sessions_closed: int
    bookings: list[Booking]


@dataclass(frozen=True)
class LeaveRow:
    id: int
    doctor: str
    substitute: str | None
    first_day: date
    last_day: date
    reason: str
    cancelled: bool


@dataclass(frozen=True)
class Contact:
    patient_id: int
    name: str
    phone: str
    booking_code: str
    outcome: str  # the new session and booking code, or "dibatalkan"


def _overlapping(doctor_id: int, first: date, last: date) -> object:
    return and_(
        DoctorLeave.doctor_id == doctor_id,
        DoctorLeave.cancelled_at.is_(None),
        DoctorLeave.first_day <= last,
        DoctorLeave.last_day >= first,
    )


def _doctor_polis(session: Session, doctor: Doctor) -> set[int]:
    planned = session.scalars(
        select(DoctorSchedule.poli_id).where(DoctorSchedule.doctor_id == doctor.id, DoctorSchedule.active.is_(True))
    )
    return {*planned, *([doctor.poli_id] if doctor.poli_id else [])}


def _check_substitute(
    session: Session, actor: Actor, doctor: Doctor, substitute_id: int, first: date, last: date
) -> None:
    substitute = session.get(Doctor, substitute_id)
    if substitute is None or substitute.site_id != actor.site_id or not substitute.active:
        raise InputError("leave_err_substitute_unknown")
    if substitute.id == doctor.id:
        raise InputError("leave_err_substitute_self")
    if not _doctor_polis(session, doctor) & _doctor_polis(session, substitute):
        raise InputError("leave_err_substitute_poli")
    if session.scalar(select(DoctorLeave.id).where(_overlapping(substitute.id, first, last)).limit(1)):
        raise InputError("leave_err_substitute_on_leave", name=substitute.name)


def _check_days(first: date | None, last: date | None, today: date) -> dict[str, InputError]:
    errors: dict[str, InputError] = {}
    if first is None:
        errors["first_day"] = InputError("leave_err_first_day")
    elif first < today:
        errors["first_day"] = InputError("leave_err_past")
    if last is None:
        errors["last_day"] = InputError("leave_err_last_day")
    elif first is not None and last < first:
        errors["last_day"] = InputError("leave_err_order")
    elif first is not None and (last - first).days >= MAX_DAYS:
        errors["last_day"] = InputError("leave_err_too_long", days=MAX_DAYS)
    return errors


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def create_leave(
    session: Session,
    actor: Actor,
    *,
    doctor_id: int | None,
    first_day: date | None,
    last_day: date | None,
    reason: str,
    substitute_id: int | None = None,
    now: datetime | None = None,
) -> LeaveResult:
    """Record a leave, close the doctor's sessions on those days (not one already started) and list the bookings
    they hold. ``FieldErrors`` names every wrong field (doctor, first_day, last_day, substitute)."""
    now = now or utcnow()
    doctor = session.get(Doctor, doctor_id) if doctor_id else None
    errors = _check_days(first_day, last_day, local_today(session, actor.site_id, now))
    if doctor is None or doctor.site_id != actor.site_id:
        errors["doctor"] = InputError("leave_err_doctor")
    elif not errors and session.scalar(
        select(DoctorLeave.id).where(_overlapping(doctor.id, first_day, last_day)).limit(1)
    ):
        errors["first_day"] = InputError("leave_err_overlap")
    if substitute_id and doctor is not None and not {"first_day", "last_day"} & errors.keys():
        try:
            _check_substitute(session, actor, doctor, substitute_id, first_day, last_day)
        except InputError as exc:
            errors["substitute"] = exc
    if errors:
        raise FieldErrors(errors)
    for day in _days(first_day, last_day):  # made before the leave exists, so this leave closes them all below
        ensure_sessions(session, actor.site_id, day)
    leave = DoctorLeave(
        site_id=actor.site_id,
        doctor_id=doctor.id,
        first_day=first_day,
        last_day=last_day,
        reason=clean_text(reason)[:200],
        substitute_id=substitute_id or None,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(leave)
    session.flush()
    closed = session.execute(
        update(ClinicSession)
        .where(
            ClinicSession.site_id == actor.site_id,
            ClinicSession.doctor_id == doctor.id,
            ClinicSession.service_date.between(first_day, last_day),
            ClinicSession.closed_reason.is_(None),
            ClinicSession.started_at.is_(None),
            ClinicSession.ends_at > now,
        )
        .values(closed_reason=CLOSED_REASON, closed_at=now, closed_by=actor.user_id, leave_id=leave.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record_by(
        session,
        actor,
        "doctor_leave_created",
        target_type="doctor_leave",
        target_id=leave.id,
        detail={
            "doctor_id": doctor.id,
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
            "substitute_id": leave.substitute_id,
            "sessions_closed": closed,
        },
    )
    return LeaveResult(leave.id, closed, leave_bookings(session, actor, leave.id))


def _leave(session: Session, actor: Actor, leave_id: int) -> DoctorLeave:
    leave = session.get(DoctorLeave, leave_id)
    if leave is None or leave.site_id != actor.site_id:
        raise InputError("leave_err_unknown")
    return leave


def cancel_leave(session: Session, actor: Actor, leave_id: int, now: datetime | None = None) -> int:
    """Withdraw a leave: the sessions it closed that have not started (nor ended) open again; bookings already
    moved or cancelled stay as they are. Returns how many sessions reopened."""
    now = now or utcnow()
    leave = _leave(session, actor, leave_id)
    if leave.cancelled_at is not None:
        raise InputError("leave_err_cancelled")
    leave.cancelled_at, leave.cancelled_by = now, actor.user_id
    reopened = session.execute(
        update(ClinicSession)
        .where(ClinicSession.leave_id == leave.id, ClinicSession.started_at.is_(None), ClinicSession.ends_at > now)
        .values(closed_reason=None, closed_at=None, closed_by=None, leave_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record_by(
        session,
        actor,
        "doctor_leave_cancelled",
        target_type="doctor_leave",
        target_id=leave.id,
        detail={"sessions_reopened": reopened},
    )
    return reopened


def list_leaves(session: Session, actor: Actor) -> list[LeaveRow]:
    """Every leave of the site, latest first (current, past and withdrawn)."""
    doctors = dict(session.execute(select(Doctor.id, Doctor.name).where(Doctor.site_id == actor.site_id)).all())
    leaves = session.scalars(
        select(DoctorLeave)
        .where(DoctorLeave.site_id == actor.site_id)
        .order_by(DoctorLeave.first_day.desc(), DoctorLeave.id.desc())
    )
    return [
        LeaveRow(
            x.id,
            doctors.get(x.doctor_id, ""),
            doctors.get(x.substitute_id) if x.substitute_id else None,
            x.first_day,
            x.last_day,
            x.reason,
            x.cancelled_at is not None,
        )
        for x in leaves
    ]


def session_text(cs: ClinicSession, doctor_name: str) -> str:
    return f"{cs.service_date:%d-%m-%Y} {cs.start_time:%H:%M}–{cs.end_time:%H:%M} {doctor_name}"


def _moves(session: Session, visit_ids: list[int]) -> dict[int, int]:
    """Old visit → the visit it was moved to (from the moves' audit rows)."""
    rows = session.execute(
        select(AuditLog.target_id, AuditLog.detail).where(
            AuditLog.action == MOVED,
            AuditLog.target_type == "visit",
            AuditLog.target_id.in_([str(i) for i in visit_ids]),
        )
    ).all()
    return {int(target): int(detail["to_visit"]) for target, detail in rows}


def _moved_text(session: Session, visit_id: int) -> str:
    visit = session.get(Visit, visit_id)
    cs = session.get(ClinicSession, visit.session_id)
    return f"{session_text(cs, cs.doctor.name)} ({visit.booking_code})"


def leave_bookings(session: Session, actor: Actor, leave_id: int) -> list[Booking]:
    """The bookings of the sessions the leave closed: open ones to handle, and what became of the others."""
    leave = _leave(session, actor, leave_id)
    rows = session.execute(
        select(Visit, ClinicSession, Doctor.name, Patient.name)
        .join(ClinicSession, ClinicSession.id == Visit.session_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(ClinicSession.leave_id == leave.id)
        .order_by(ClinicSession.service_date, ClinicSession.start_time, Visit.id)
    ).all()
    moves = _moves(session, [v.id for v, *_ in rows])
    bookings = []
    for visit, cs, doctor_name, patient_name in rows:
        outcome = "open" if visit.status == "active" else "moved" if visit.id in moves else "cancelled"
        bookings.append(
            Booking(
                visit.id,
                visit.booking_code,
                visit.service_date,
                cs.id,
                session_text(cs, doctor_name),
                cs.poli_id,
                visit.payer,
                mask_name(patient_name),
                outcome,
                _moved_text(session, moves[visit.id]) if outcome == "moved" else None,
            )
        )
    return bookings


def _open_booking(session: Session, actor: Actor, visit_id: int) -> tuple[Visit, DoctorLeave, QueueTicket]:
    """A booking still open in a session closed by a leave, with its leave and its poli ticket."""
    visit = session.get(Visit, visit_id, with_for_update=True)
    if visit is None or visit.site_id != actor.site_id:
        raise InputError("leave_err_booking_unknown")
    cs = session.get(ClinicSession, visit.session_id)
    if cs.leave_id is None:
        raise InputError("leave_err_booking_unknown")
    if visit.status != "active":
        raise InputError("leave_err_booking_handled", code=visit.booking_code)
    ticket = session.scalar(
        select(QueueTicket).where(QueueTicket.visit_id == visit.id, QueueTicket.point == poli_point(cs.poli.code))
    )
    return visit, session.get(DoctorLeave, cs.leave_id), ticket


def move_targets(session: Session, actor: Actor, visit_id: int, now: datetime | None = None) -> list[tuple[int, str]]:
    """Open sessions of the booking's poli, from today to a week after the leave, with a place left in the
    booking's payer quota: (session id, text), the substitute's first."""
    now = now or utcnow()
    visit, leave, _ = _open_booking(session, actor, visit_id)
    first = max(local_today(session, actor.site_id, now), visit.service_date - timedelta(days=7))
    last = leave.last_day + timedelta(days=7)
    for day in _days(first, last):
        ensure_sessions(session, actor.site_id, day)
    booked, quota = (
        (ClinicSession.booked_jkn, ClinicSession.quota_jkn)
        if visit.payer == "jkn"
        else (ClinicSession.booked_non_jkn, ClinicSession.quota_non_jkn)
    )
    rows = session.execute(
        select(ClinicSession, Doctor.name)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .where(
            ClinicSession.site_id == actor.site_id,
            ClinicSession.poli_id == visit.poli_id,
            ClinicSession.service_date.between(first, last),
            ClinicSession.closed_reason.is_(None),
            ClinicSession.ends_at > now,
            booked < quota,
        )
        .order_by(
            (ClinicSession.doctor_id != (leave.substitute_id or 0)),
            ClinicSession.service_date,
            ClinicSession.start_time,
        )
    ).all()
    return [(cs.id, session_text(cs, name)) for cs, name in rows]


def move_booking(
    session: Session, actor: Actor, *, visit_id: int, to_session_id: int, now: datetime | None = None
) -> int:
    """Move a booking of a leave to another session of the same poli with a place left for its payer: the old
    booking is cancelled (its quota place given back, task 99, BPJS ``batal`` "dokter cuti, dipindah ke …" for
    JKN) and a new one made in the new session (new booking code and number; BPJS ``antrean/add`` for JKN).
    Returns the new visit's id."""
    now = now or utcnow()
    visit, leave, ticket = _open_booking(session, actor, visit_id)
    target = session.get(ClinicSession, to_session_id)
    if target is None or target.site_id != actor.site_id or target.poli_id != visit.poli_id:
        raise InputError("leave_err_target")
    note = f"{CLOSED_REASON}, dipindah ke {session_text(target, target.doctor.name)}"[:200]
    arrived = ticket is not None and ticket.status != "booked"
    patient_id, payer, source, referral = visit.patient_id, visit.payer, visit.source, visit.referral_number
    with session.begin_nested():  # the new session refusing (quota full, closed) leaves the old booking whole
        if ticket is not None:
            cancel(session, actor, ticket.id, now, note, bpjs_note=note)
        else:
            visit.status = "cancelled"
        moved = register_visit(
            session,
            actor,
            patient_id=patient_id,
            session_id=target.id,
            payer=payer,
            now=now,
            source=source,
            arrived=arrived,
            referral_number=referral,
        )
    audit.record_by(
        session,
        actor,
        MOVED,
        target_type="visit",
        target_id=visit.id,
        detail={"leave_id": leave.id, "to_visit": moved.visit_id, "to_session": target.id},
    )
    return moved.visit_id


def move_all_to_substitute(session: Session, actor: Actor, leave_id: int, now: datetime | None = None) -> list[str]:
    """Move every open booking of the leave to the substitute's session at the same poli on the same day
    (created like the closed one when the substitute has none then). Returns the booking codes that could not
    be moved (no substitute session free of clashes, or its quota full), to handle one by one."""
    now = now or utcnow()
    leave = _leave(session, actor, leave_id)
    if leave.substitute_id is None:
        raise InputError("leave_err_no_substitute")
    left = []
    for booking in [b for b in leave_bookings(session, actor, leave.id) if b.outcome == "open"]:
        closed = session.get(ClinicSession, booking.session_id)
        target = _substitute_session(session, leave.substitute_id, closed)
        try:
            if target is None:
                raise InputError("leave_err_target")
            move_booking(session, actor, visit_id=booking.visit_id, to_session_id=target.id, now=now)
        except InputError:
            left.append(booking.booking_code)
    return left


def _substitute_session(session: Session, substitute_id: int, closed: ClinicSession) -> ClinicSession | None:
    """The substitute's session at the closed one's poli that day (the same hours first); else a copy of the
    closed session for the substitute, unless it would clash with another of the substitute's sessions."""
    same_day = select(ClinicSession).where(
        ClinicSession.doctor_id == substitute_id, ClinicSession.service_date == closed.service_date
    )
    mine = session.scalars(
        same_day.where(ClinicSession.poli_id == closed.poli_id, ClinicSession.closed_reason.is_(None))
    )
    ordered = sorted(mine, key=lambda s: s.start_time != closed.start_time)
    if ordered:
        return ordered[0]
    clash = session.scalar(
        same_day.where(ClinicSession.start_time < closed.end_time, ClinicSession.end_time > closed.start_time).limit(1)
    )
    if clash is not None:
        return None
    copy = ClinicSession(
        site_id=closed.site_id,
        poli_id=closed.poli_id,
        doctor_id=substitute_id,
        service_date=closed.service_date,
        start_time=closed.start_time,
        end_time=closed.end_time,
        starts_at=closed.starts_at,
        ends_at=closed.ends_at,
        quota_jkn=closed.quota_jkn,
        quota_non_jkn=closed.quota_non_jkn,
        booked_jkn=0,
        booked_non_jkn=0,
    )
    session.add(copy)
    session.flush()
    return copy


def cancel_booking_for_leave(session: Session, actor: Actor, *, visit_id: int, now: datetime | None = None) -> None:
    """Cancel a booking of a leave: visit and ticket cancelled, quota place given back, task 99 and BPJS
    ``batal`` "dokter cuti" for JKN (the counter's own cancellation, ``data.queue_actions.cancel``)."""
    now = now or utcnow()
    visit, leave, ticket = _open_booking(session, actor, visit_id)
    if ticket is not None:
        cancel(session, actor, ticket.id, now, CLOSED_REASON, bpjs_note=CLOSED_REASON)
    else:
        visit.status = "cancelled"
    audit.record_by(session, actor, CANCELLED, target_type="visit", target_id=visit.id, detail={"leave_id": leave.id})


def patients_to_contact(session: Session, cipher: FieldCipher, actor: Actor, leave_id: int) -> list[Contact]:
    """Whom to phone about the leave: every moved or cancelled booking's patient with the decrypted phone and
    what became of the booking. One audit row per call lists the patient ids read."""
    bookings = [b for b in leave_bookings(session, actor, leave_id) if b.outcome != "open"]
    contacts = []
    for booking in bookings:
        patient = session.get(Patient, session.get(Visit, booking.visit_id).patient_id)
        contacts.append(
            Contact(
                patient.id,
                patient.name,
                patients.decrypt_field(cipher, patient, "phone") or "",
                booking.booking_code,
                booking.moved_to if booking.outcome == "moved" else "dibatalkan",
            )
        )
    audit.record_by(
        session,
        actor,
        "leave_contacts_read",
        target_type="doctor_leave",
        target_id=leave_id,
        detail={"patient_ids": [c.patient_id for c in contacts]},
    )
    return contacts


def doctor_choices(session: Session, site_id: int) -> list[tuple[int, str]]:
    """The site's active doctors (id, name), for the leave form."""
    rows = session.execute(
        select(Doctor.id, Doctor.name).where(Doctor.site_id == site_id, Doctor.active.is_(True)).order_by(Doctor.name)
    )
    return [(row.id, row.name) for row in rows]
