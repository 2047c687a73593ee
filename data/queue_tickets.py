"""The shared steps of every queue change: a number from the day's counter, a ticket, a task time recorded in
order, and the BPJS outbox row written in the same transaction. Callers publish ``QueueEvent``s after commit."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import live_keys, queue_booking_estimate
from data.live_notify import notify
from data.live_store import LiveStore
from data.models import BpjsOutbox, Poli, QueueCounter, QueueTicket, Visit, VisitTask
from data.upsert import insert_for
from domain.clock import epoch_ms
from domain.queue_points import FIXED_PREFIXES, poli_code_of, ticket_label
from domain.queue_tasks import CANCELLED, check_next

NO_SHOW_NOTE = "tidak hadir/batal"  # what BPJS is told when a booking is cancelled (antrean/batal keterangan)
SERVICE_TASKS = (4, 5)  # a doctor's service begins and ends: the measured mean service time changes


@dataclass(frozen=True)
class QueueEvent:
    """What a TV board needs to hear about: a call (with where to go) or any other change of a line."""

    kind: str  # call | change
    point: str
    label: str = ""
    number: int = 0
    prefix: str = ""
    destination: str = ""


def publish(live: LiveStore, site_id: int, events: Iterable[QueueEvent]) -> None:
    """Tell the boards (after the change is committed). A live-store outage is logged, not raised
    (``data.live_notify``): the change is saved, and the boards re-read their snapshot when they reconnect."""
    notify(live, [(live_keys.queue_channel(site_id), json.dumps(asdict(event))) for event in events])


def next_number(session: Session, site_id: int, point: str, day: date) -> int:
    """The next running number at ``point`` on ``day``: one atomic UPSERT, safe across workers and machines."""
    statement = insert_for(session, QueueCounter).values(site_id=site_id, point=point, service_date=day, last_number=1)
    statement = statement.on_conflict_do_update(
        index_elements=["site_id", "point", "service_date"],
        set_={"last_number": QueueCounter.last_number + 1},
    ).returning(QueueCounter.last_number)
    return session.execute(statement).scalar_one()


def point_prefix(session: Session, site_id: int, point: str) -> str:
    code = poli_code_of(point)
    if code is None:
        return FIXED_PREFIXES[point]
    return session.scalar(select(Poli.queue_prefix).where(Poli.site_id == site_id, Poli.code == code))


def issue_ticket(
    session: Session,
    site_id: int,
    point: str,
    day: date,
    *,
    now: datetime,
    visit_id: int | None = None,
    session_id: int | None = None,
) -> QueueTicket:
    number = next_number(session, site_id, point, day)
    ticket = QueueTicket(
        site_id=site_id,
        visit_id=visit_id,
        session_id=session_id,
        point=point,
        service_date=day,
        number=number,
        label=ticket_label(point_prefix(session, site_id, point), number),
        created_at=now,
    )
    session.add(ticket)
    session.flush()
    return ticket


def recorded_tasks(session: Session, visit_id: int) -> dict[int, datetime]:
    return dict(session.execute(select(VisitTask.task_id, VisitTask.at).where(VisitTask.visit_id == visit_id)).all())


def record_task(
    session: Session,
    visit: Visit,
    task: int,
    at: datetime,
    user_id: int | None,
    cancel_note: str = NO_SHOW_NOTE,
    *,
    recorded: dict[int, datetime] | None = None,
) -> None:
    """Record task ``task`` of ``visit`` at the real time ``at`` (refused out of order), and queue the BPJS
    ``updatewaktu`` (JKN visits) in the same transaction; task 99 also queues ``batal`` with ``cancel_note``.
    ``recorded`` is the visit's tasks so far when the caller knows them (a visit made in this transaction: none
    to read back); the new one is added to it."""
    known = recorded_tasks(session, visit.id) if recorded is None else recorded
    check_next(known, task, at, new_patient=visit.new_patient)
    session.add(VisitTask(visit_id=visit.id, task_id=task, at=at, recorded_by=user_id))
    if recorded is not None:
        recorded[task] = at
    if task in SERVICE_TASKS:
        queue_booking_estimate.forget(session)
    enqueue(
        session,
        visit,
        "updatewaktu",
        {"kodebooking": visit.booking_code, "taskid": task, "waktu": epoch_ms(at)},
    )
    if task == CANCELLED:
        enqueue(session, visit, "batal", {"kodebooking": visit.booking_code, "keterangan": cancel_note})


def enqueue(session: Session, visit: Visit, kind: str, payload: dict) -> None:
    """Add a BPJS Antrean call to the outbox; only JKN bookings are reported."""
    if visit.payer == "jkn":
        session.add(
            BpjsOutbox(
                site_id=visit.site_id, visit_id=visit.id, booking_code=visit.booking_code, kind=kind, payload=payload
            )
        )
