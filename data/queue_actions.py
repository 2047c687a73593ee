"""What a counter does with its line: call next, recall, skip to the late line, start, finish (and send on to the
pharmacy or another poli), cancel. Each step records the visit's task time in order, with its BPJS outbox row,
in the caller's transaction, and returns the ``QueueEvent``s to publish once that transaction is committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data import audit
from data.charge_capture import charge_consultation, charge_pharmacy
from data.models import OPEN_AT_COUNTER, ClinicSession, Poli, QueueTicket, Visit
from data.queue_day import on_the_line
from data.queue_registration import register_visit
from data.queue_tickets import NO_SHOW_NOTE, QueueEvent, enqueue, issue_ticket, point_prefix, record_task
from data.schedules import site_zone
from domain.actor import Actor
from domain.errors import InputError
from domain.free_text import clean_text
from domain.queue_points import ADMISSION, PHARMACY_COMPOUNDED, PHARMACY_POINTS, poli_code_of
from domain.queue_tasks import CANCELLED


@dataclass(frozen=True)
class CounterResult:
    ticket_id: int | None
    label: str
    events: tuple[QueueEvent, ...]


def destination_name(session: Session, site_id: int, point: str, counter: str) -> str:
    """Where a called patient goes: the counter's own name when it has one, else the point's."""
    if counter.strip():
        return counter.strip()
    code = poli_code_of(point)
    if code:
        return session.scalar(select(Poli.name).where(Poli.site_id == site_id, Poli.code == code)) or code
    return "Loket Pendaftaran" if point == ADMISSION else "Farmasi"


def _call_event(session: Session, ticket: QueueTicket) -> QueueEvent:
    prefix = point_prefix(session, ticket.site_id, ticket.point)
    destination = destination_name(session, ticket.site_id, ticket.point, ticket.counter or "")
    return QueueEvent("call", ticket.point, ticket.label, ticket.number, prefix, destination)


def _ticket(session: Session, actor: Actor, ticket_id: int, *states: str) -> QueueTicket:
    ticket = session.get(QueueTicket, ticket_id, with_for_update=True)
    if ticket is None or ticket.site_id != actor.site_id:
        raise InputError("err_ticket_unknown")
    if states and ticket.status not in states:
        raise InputError("err_ticket_state", label=ticket.label, state=ticket.status)
    return ticket


def _busy_ticket(session: Session, actor: Actor, point: str, counter: str, now: datetime) -> str | None:
    return session.scalar(
        select(QueueTicket.label).where(
            QueueTicket.site_id == actor.site_id,
            QueueTicket.point == point,
            on_the_line(session, actor.site_id, now),
            QueueTicket.counter == counter,
            QueueTicket.status.in_(OPEN_AT_COUNTER),
        )
    )


@contextmanager
def _one_patient_per_counter(session: Session, actor: Actor, point: str, counter: str, now: datetime) -> Iterator[None]:
    """Apply a call inside a savepoint: a second call that raced past ``_busy_ticket`` (a double click, two tabs)
    meets the unique index of open tickets per counter and is refused like the check would have refused it."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        raise InputError("err_counter_busy", label=_busy_ticket(session, actor, point, counter, now) or "") from None


def call_next(
    session: Session, actor: Actor, point: str, counter: str, now: datetime, *, session_id: int | None = None
) -> CounterResult:
    """Call the lowest waiting number at ``point`` (only ``session_id``'s patients when given) to ``counter``.
    Two counters calling at once get different patients (row lock with SKIP LOCKED, then a guarded UPDATE)."""
    counter = clean_text(counter)[:40]
    if not counter:
        raise InputError("err_counter_name")
    busy = _busy_ticket(session, actor, point, counter, now)
    if busy:
        raise InputError("err_counter_busy", label=busy)
    line = select(QueueTicket.id).where(
        QueueTicket.site_id == actor.site_id,
        QueueTicket.point == point,
        on_the_line(session, actor.site_id, now),
        QueueTicket.status == "waiting",
    )
    if session_id is not None:
        line = line.where(QueueTicket.session_id == session_id)
    for _ in range(5):  # another counter may take the same row between the pick and the update
        first = line.order_by(QueueTicket.service_date, QueueTicket.number).limit(1)  # the day before's first
        ticket_id = session.scalar(first.with_for_update(skip_locked=True))
        if ticket_id is None:
            return CounterResult(None, "", ())
        with _one_patient_per_counter(session, actor, point, counter, now):
            taken = session.execute(
                update(QueueTicket)
                .where(QueueTicket.id == ticket_id, QueueTicket.status == "waiting")
                .values(status="called", counter=counter, called_at=now, call_count=QueueTicket.call_count + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
        if taken:
            ticket = session.get(QueueTicket, ticket_id)
            session.refresh(ticket)
            return CounterResult(ticket.id, ticket.label, (_call_event(session, ticket),))
    raise InputError("err_try_again")


def call_ticket(session: Session, actor: Actor, ticket_id: int, counter: str, now: datetime) -> CounterResult:
    """Call one particular number, e.g. a late patient who came back, or a recall of the one being called."""
    ticket = _ticket(session, actor, ticket_id, "waiting", "skipped", "called")
    counter = clean_text(counter)[:40] or ticket.counter or ""
    if not counter:
        raise InputError("err_counter_name")
    busy = _busy_ticket(session, actor, ticket.point, counter, now)
    if busy and busy != ticket.label:
        raise InputError("err_counter_busy", label=busy)
    with _one_patient_per_counter(session, actor, ticket.point, counter, now):
        ticket.status, ticket.counter, ticket.called_at = "called", counter, now
        ticket.call_count += 1
    return CounterResult(ticket.id, ticket.label, (_call_event(session, ticket),))


def recall(session: Session, actor: Actor, ticket_id: int, now: datetime) -> CounterResult:
    ticket = _ticket(session, actor, ticket_id, "called")
    return call_ticket(session, actor, ticket.id, ticket.counter or "", now)


def skip(session: Session, actor: Actor, ticket_id: int, calls_before_skip: int) -> CounterResult:
    """Move a called patient who does not come to the late line, once they were called enough times."""
    ticket = _ticket(session, actor, ticket_id, "called")
    if ticket.call_count < calls_before_skip:
        raise InputError("err_skip_too_soon", calls=ticket.call_count, needed=calls_before_skip)
    ticket.status = "skipped"
    return CounterResult(ticket.id, ticket.label, (QueueEvent("change", ticket.point),))


def start(session: Session, actor: Actor, ticket_id: int, now: datetime) -> CounterResult:
    """The patient is at the counter: task 4 at a poli (the doctor's first one marks their actual start),
    task 6 at the pharmacy; the admission desk records its start for the new patient's task 2."""
    ticket = _ticket(session, actor, ticket_id, "called")
    visit = session.get(Visit, ticket.visit_id) if ticket.visit_id else None
    if visit is not None:
        task = 6 if ticket.point in PHARMACY_POINTS else 4
        record_task(session, visit, task, now, actor.user_id)
        if task == 4:
            session.execute(
                update(ClinicSession)
                .where(ClinicSession.id == visit.session_id, ClinicSession.started_at.is_(None))
                .values(started_at=now)
            )
    ticket.status, ticket.started_at = "serving", now
    return CounterResult(ticket.id, ticket.label, (QueueEvent("change", ticket.point),))


def finish(
    session: Session,
    actor: Actor,
    ticket_id: int,
    now: datetime,
    *,
    pharmacy: str | None = None,
    refer_session_id: int | None = None,
) -> CounterResult:
    """Service done. At a poli: task 5, then optionally a pharmacy number (``farmasi:racikan`` or
    ``farmasi:nonracikan``) or a referral to another poli's session (a new booking). At the pharmacy: task 7."""
    ticket = _ticket(session, actor, ticket_id, "serving")
    visit = session.get(Visit, ticket.visit_id) if ticket.visit_id else None
    events = [QueueEvent("change", ticket.point)]
    ticket.status, ticket.finished_at = "done", now
    if visit is None:
        return CounterResult(ticket.id, ticket.label, tuple(events))
    if ticket.point in PHARMACY_POINTS:
        record_task(session, visit, 7, now, actor.user_id)
        charge_pharmacy(session, visit, ticket.point, actor.user_id)
        visit.status = "done"
        return CounterResult(ticket.id, ticket.label, tuple(events))
    if pharmacy is not None and pharmacy not in PHARMACY_POINTS:
        raise InputError("err_pharmacy_kind")
    record_task(session, visit, 5, now, actor.user_id)
    charge_consultation(session, visit, actor.user_id)
    if pharmacy:
        drugs = issue_ticket(session, actor.site_id, pharmacy, ticket.service_date, now=now, visit_id=visit.id)
        enqueue(
            session,
            visit,
            "farmasi_add",
            {
                "kodebooking": visit.booking_code,
                "jenisresep": "racikan" if pharmacy == PHARMACY_COMPOUNDED else "non racikan",
                "nomorantrean": drugs.number,
                "keterangan": "",
            },
        )
        events.append(QueueEvent("change", pharmacy))
    else:
        visit.status = "done"
    if refer_session_id is not None:
        referral = register_visit(
            session,
            actor,
            patient_id=visit.patient_id,
            session_id=refer_session_id,
            payer=visit.payer,
            now=now,
            source="referral",
            referral_number=visit.referral_number,
            referred_from_id=visit.id,
        )
        events.extend(referral.events)
    return CounterResult(ticket.id, ticket.label, tuple(events))


def finish_left_open(session: Session, actor: Actor, ticket_id: int, ended: time, now: datetime) -> CounterResult:
    """A service nobody finished on its day (``data.queue_day.left_open``), finished at the clock time the staff
    read from the patient's record: the first such moment after its start (site time, so 00.20 after a start at
    23.50 is the next day's), not in the future. The same tasks and charges as a finish then (task 5 at a poli,
    task 7 and the drugs at the pharmacy); no pharmacy number or referral so late. Audited with the time given."""
    ticket = _ticket(session, actor, ticket_id, "serving")
    started = ticket.started_at.astimezone(site_zone(session, actor.site_id))
    finished = datetime.combine(started.date(), ended, tzinfo=started.tzinfo)
    finished_at = (finished if finished > started else finished + timedelta(days=1)).astimezone(UTC)
    if finished_at > now:
        raise InputError("counter_err_finish_time")
    result = finish(session, actor, ticket_id, finished_at)
    detail = {"label": ticket.label, "finished_at": finished_at.isoformat()}
    audit.record_by(
        session, actor, "queue_ticket_finished_late", target_type="queue_ticket", target_id=ticket_id, detail=detail
    )
    return result


def cancel(
    session: Session, actor: Actor, ticket_id: int, now: datetime, reason: str, bpjs_note: str = NO_SHOW_NOTE
) -> CounterResult:
    """No-show or cancellation: task 99 for a visit not yet served, and its quota place is given back.
    ``bpjs_note`` is the reason told to BPJS (``antrean/batal``)."""
    ticket = _ticket(session, actor, ticket_id, "booked", "waiting", "called", "skipped")
    ticket.status, ticket.finished_at = "cancelled", now
    visit = session.get(Visit, ticket.visit_id) if ticket.visit_id else None
    if visit is not None and ticket.point in PHARMACY_POINTS:
        visit.status = "done"  # seen at the poli (task 5); the drugs were not collected, so no task 6–7
    elif visit is not None:
        record_task(session, visit, CANCELLED, now, actor.user_id, bpjs_note)
        visit.status = "cancelled"
        booked = ClinicSession.booked_jkn if visit.payer == "jkn" else ClinicSession.booked_non_jkn
        session.execute(
            update(ClinicSession).where(ClinicSession.id == visit.session_id, booked > 0).values({booked: booked - 1})
        )
    audit.record_by(
        session,
        actor,
        "queue_ticket_cancelled",
        target_type="queue_ticket",
        target_id=ticket.id,
        detail={"label": ticket.label, "reason": clean_text(reason)[:200]},
    )
    return CounterResult(ticket.id, ticket.label, (QueueEvent("change", ticket.point),))
