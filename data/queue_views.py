"""Read models of the clinic queues: waiting-time estimates, a counter's lines, a TV board and a patient's
status by booking code. TV boards and the public status page get masked names only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, aliased

from data.models import ClinicSession, Doctor, Patient, Poli, QueueTicket, SiteSetting, Visit, VisitTask
from data.queue_day import left_open, on_the_line
from data.schedules import local_today
from domain.clock import epoch_ms
from domain.free_text import clean_text
from domain.masking import mask_name
from domain.queue_estimate import estimated_call, mean_service_time
from domain.queue_points import ADMISSION, PHARMACY_POINTS, poli_point

AHEAD_STATES = ("booked", "waiting", "called")
RUNNING_TEXT = "board_running_text"
RECENT_CALLS = 6  # the one now called and the five before it


def service_durations(session: Session, doctor_id: int, day: date) -> list[timedelta]:
    """The doctor's measured services today (task 4 → 5), oldest first."""
    t4, t5 = aliased(VisitTask), aliased(VisitTask)
    rows = session.execute(
        select(t4.at, t5.at)
        .join(Visit, Visit.id == t4.visit_id)
        .join(ClinicSession, ClinicSession.id == Visit.session_id)
        .join(t5, (t5.visit_id == t4.visit_id) & (t5.task_id == 5))
        .where(t4.task_id == 4, ClinicSession.doctor_id == doctor_id, Visit.service_date == day)
        .order_by(t5.at)
    ).all()
    return [done - began for began, done in rows]


def session_estimates(session: Session, clinic_session: ClinicSession, now: datetime) -> dict[int, datetime]:
    """Estimated call time of every ticket still to be served in one doctor session (ticket id → time)."""
    poli = clinic_session.poli
    default = timedelta(minutes=poli.default_service_minutes)
    mean = mean_service_time(service_durations(session, clinic_session.doctor_id, clinic_session.service_date), default)
    start = clinic_session.started_at or clinic_session.starts_at
    tickets = session.execute(
        select(QueueTicket.id, QueueTicket.status)
        .join(Visit, Visit.id == QueueTicket.visit_id)
        .where(
            Visit.session_id == clinic_session.id,
            QueueTicket.point == poli_point(poli.code),
            QueueTicket.status != "cancelled",
        )
        .order_by(QueueTicket.number)
    ).all()
    estimates, ahead = {}, 0
    for rank, (ticket_id, status) in enumerate(tickets, start=1):
        if status in AHEAD_STATES:
            estimates[ticket_id] = estimated_call(start, rank, ahead, mean, now)
            ahead += 1
    return estimates


def ticket_estimate(session: Session, ticket: QueueTicket, now: datetime) -> datetime | None:
    if ticket.session_id is None:
        return None
    return session_estimates(session, session.get(ClinicSession, ticket.session_id), now).get(ticket.id)


@dataclass(frozen=True)
class LineEntry:
    ticket_id: int
    label: str
    status: str
    name: str
    payer: str
    call_count: int
    counter: str
    estimate: datetime | None
    session_id: int | None
    earlier: date | None = None  # the day before's ticket, still open (``data.queue_day.on_the_line``)


@dataclass
class CounterView:
    """What one counter sees: the patient at this counter, the waiting line, the late line, and the earlier days'
    numbers nobody closed (``data.queue_day.left_open``)."""

    current: LineEntry | None = None
    waiting: list[LineEntry] = field(default_factory=list)
    late: list[LineEntry] = field(default_factory=list)
    booked: int = 0
    done: int = 0
    left_open: list[LineEntry] = field(default_factory=list)


def _tickets(site_id: int, point: str, which: ColumnElement[bool]) -> Select:
    return (
        select(QueueTicket, Visit.payer, Patient.name)
        .outerjoin(Visit, Visit.id == QueueTicket.visit_id)
        .outerjoin(Patient, Patient.id == Visit.patient_id)
        .where(QueueTicket.site_id == site_id, QueueTicket.point == point, which)
        .order_by(QueueTicket.service_date, QueueTicket.number)
    )


def _entry(ticket: QueueTicket, payer: str | None, name: str | None, day: date) -> LineEntry:
    earlier = ticket.service_date if ticket.service_date != day else None
    return LineEntry(
        ticket.id,
        ticket.label,
        ticket.status,
        name or "",
        payer or "",
        ticket.call_count,
        ticket.counter or "",
        None,
        ticket.session_id,
        earlier,
    )


def counter_view(
    session: Session, site_id: int, point: str, counter: str, now: datetime, *, session_id: int | None = None
) -> CounterView:
    day = local_today(session, site_id, now)
    query = _tickets(site_id, point, on_the_line(session, site_id, now))
    if session_id is not None:
        query = query.where(QueueTicket.session_id == session_id)
    view = CounterView()
    for ticket, payer, name in session.execute(query).all():
        entry = _entry(ticket, payer, name, day)
        if ticket.status in ("called", "serving") and ticket.counter == counter:
            view.current = entry
        elif ticket.status in ("waiting", "called", "serving"):
            view.waiting.append(entry)
        elif ticket.status == "skipped":
            view.late.append(entry)
        elif ticket.status == "booked":
            view.booked += 1
        elif ticket.status == "done":
            view.done += 1
    rows = session.execute(_tickets(site_id, point, left_open(session, site_id, now))).all()
    view.left_open = [_entry(ticket, payer, name, day) for ticket, payer, name in rows]
    estimates: dict[int, datetime] = {}
    for sid in {e.session_id for e in view.waiting if e.session_id is not None}:
        estimates.update(session_estimates(session, session.get(ClinicSession, sid), now))
    view.waiting = [_with_estimate(e, estimates) for e in view.waiting]
    return view


def service_start(session: Session, site_id: int, ticket_id: int) -> datetime | None:
    """When the service of the site's ticket began (None: not begun, or not the site's)."""
    ticket = session.get(QueueTicket, ticket_id)
    return ticket.started_at if ticket is not None and ticket.site_id == site_id else None


def _with_estimate(entry: LineEntry, estimates: dict[int, datetime]) -> LineEntry:
    return LineEntry(**{**entry.__dict__, "estimate": estimates.get(entry.ticket_id)})


def board_points(session: Session, site_id: int, board: str) -> list[str] | None:
    """The service points a board calls: ``farmasi``, ``loket``, or a poli group's polis; None if unknown."""
    if board == "farmasi":
        return list(PHARMACY_POINTS)
    if board == "loket":
        return [ADMISSION]
    codes = session.scalars(
        select(Poli.code).where(Poli.site_id == site_id, Poli.board_group == board, Poli.active.is_(True))
    ).all()
    return [poli_point(c) for c in sorted(codes)] or None


def point_names(session: Session, site_id: int) -> dict[str, str]:
    names = {ADMISSION: "Loket Pendaftaran", PHARMACY_POINTS[0]: "Farmasi Racikan", PHARMACY_POINTS[1]: "Farmasi"}
    for code, name in session.execute(select(Poli.code, Poli.name).where(Poli.site_id == site_id)).all():
        names[poli_point(code)] = name
    return names


def running_text(session: Session, site_id: int) -> str:
    setting = session.get(SiteSetting, (site_id, RUNNING_TEXT))
    return setting.value if setting else ""


def set_running_text(session: Session, site_id: int, user_id: int | None, value: str) -> None:
    setting = session.get(SiteSetting, (site_id, RUNNING_TEXT))
    if setting is None:
        session.add(SiteSetting(site_id=site_id, key=RUNNING_TEXT, value=clean_text(value)[:500], updated_by=user_id))
    else:
        setting.value, setting.updated_by = clean_text(value)[:500], user_id


def doctor_status(cs: ClinicSession, now: datetime) -> str:
    """``closed`` (with a reason), ``finished``, ``serving`` or ``not_started`` for the board."""
    if cs.closed_reason:
        return "closed"
    if now >= cs.ends_at:
        return "finished"
    return "serving" if cs.started_at else "not_started"


def board_snapshot(session: Session, site_id: int, board: str, now: datetime) -> dict | None:
    """Everything a TV board shows, public-safe: numbers, masked names, counts, doctors (the day's sessions by
    starting time, those that have ended last), running text."""
    points = board_points(session, site_id, board)
    if points is None:
        return None
    day = local_today(session, site_id, now)
    names = point_names(session, site_id)
    calls = session.execute(
        select(QueueTicket.label, QueueTicket.point, QueueTicket.counter, QueueTicket.called_at, Patient.name)
        .outerjoin(Visit, Visit.id == QueueTicket.visit_id)
        .outerjoin(Patient, Patient.id == Visit.patient_id)
        .where(
            QueueTicket.site_id == site_id,
            QueueTicket.point.in_(points),
            on_the_line(session, site_id, now),
            QueueTicket.called_at.is_not(None),
        )
        .order_by(QueueTicket.called_at.desc())
        .limit(RECENT_CALLS)
    ).all()
    waiting = dict(
        session.execute(
            select(QueueTicket.point, func.count())
            .where(
                QueueTicket.site_id == site_id,
                QueueTicket.point.in_(points),
                on_the_line(session, site_id, now),
                QueueTicket.status == "waiting",
            )
            .group_by(QueueTicket.point)
        ).all()
    )
    sessions = session.execute(
        select(ClinicSession, Doctor.name, Poli.code)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Poli, Poli.id == ClinicSession.poli_id)
        .where(Poli.site_id == site_id, Poli.board_group == board, ClinicSession.service_date == day)
        .order_by(ClinicSession.start_time, Doctor.name)
    ).all()
    sessions.sort(key=lambda row: now >= row[0].ends_at)  # the sessions a patient can still go to first
    return {
        "board": board,
        "now": epoch_ms(now),
        "calls": [
            {
                "label": label,
                "destination": counter or names.get(point, point),
                "name": mask_name(name) if name else "",
                "at": epoch_ms(at),
            }
            for label, point, counter, at, name in calls
        ],
        "waiting": [{"point": p, "name": names.get(p, p), "count": waiting.get(p, 0)} for p in points],
        "doctors": [
            {
                "doctor": doctor,
                "poli": names.get(poli_point(code), ""),
                "hours": f"{cs.start_time:%H:%M}–{cs.end_time:%H:%M}",
                "status": doctor_status(cs, now),
                "reason": cs.closed_reason or "",
            }
            for cs, doctor, code in sessions
        ],
        "running_text": running_text(session, site_id),
    }


def booking_status(session: Session, booking: str, now: datetime) -> dict | None:
    """A patient's own view by booking code: number, poli, position, estimate, number now served. Masked name
    only: the code is the only credential, and it may be shared or photographed."""
    found = session.execute(
        select(Visit, ClinicSession, Poli, Patient.name, Doctor.name)
        .join(ClinicSession, ClinicSession.id == Visit.session_id)
        .join(Poli, Poli.id == ClinicSession.poli_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .where(Visit.booking_code == booking)
    ).first()
    if found is None:
        return None
    visit, cs, poli, patient_name, doctor_name = found
    tickets = session.scalars(
        select(QueueTicket).where(QueueTicket.visit_id == visit.id).order_by(QueueTicket.created_at)
    ).all()
    names = point_names(session, visit.site_id)
    waiting_here = any(t.status in AHEAD_STATES and t.session_id == cs.id for t in tickets)
    estimates = session_estimates(session, cs, now) if waiting_here else {}
    lines = []
    for ticket in tickets:
        if ticket.point == ADMISSION:
            continue
        ahead = session.scalar(
            select(func.count()).where(
                QueueTicket.site_id == ticket.site_id,
                QueueTicket.point == ticket.point,
                QueueTicket.service_date == ticket.service_date,
                QueueTicket.status.in_(AHEAD_STATES),
                QueueTicket.number < ticket.number,
                *([QueueTicket.session_id == ticket.session_id] if ticket.session_id else []),
            )
        )
        serving = session.scalar(
            select(QueueTicket.label)
            .where(
                QueueTicket.site_id == ticket.site_id,
                QueueTicket.point == ticket.point,
                QueueTicket.service_date == ticket.service_date,
                QueueTicket.called_at.is_not(None),
            )
            .order_by(QueueTicket.called_at.desc())
            .limit(1)
        )
        waiting = ticket.status in AHEAD_STATES
        lines.append(
            {
                "label": ticket.label,
                "point": names.get(ticket.point, ticket.point),
                "status": ticket.status,
                "position": ahead + 1 if waiting else None,
                "estimate": estimates.get(ticket.id) if waiting else None,
                "serving": serving or "",
            }
        )
    return {
        "booking_code": visit.booking_code,
        "name": mask_name(patient_name),
        "date": visit.service_date,
        "doctor": doctor_name,
        "poli": names.get(poli_point(poli.code), ""),
        "visit_status": visit.status,
        "lines": lines,
    }
