"""Where a booking just made stands in its session's line — its position, its estimated call and the number
called last — read in one statement, with the doctor's mean service time today remembered for a short while.

Every registration needs that mean, and at rush hour hundreds a minute would read the same doctor's finished
services again. Each process keeps it per database, doctor, day and default for ``TTL_SECONDS``: a service
finished in another web worker reaches this worker's new estimates within that time (an estimate, never a rule:
nothing is booked or refused by it); a task 4 or 5 recorded in this process forgets the database's means at once."""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Engine, Select, bindparam, func, select
from sqlalchemy.orm import Session

from data.models import QueueTicket
from data.queue_views import AHEAD_STATES, service_durations
from domain.queue_estimate import estimated_call, mean_service_time

TTL_SECONDS = 30.0

_lock = threading.Lock()
_means: weakref.WeakKeyDictionary[Engine, dict[tuple, tuple[float, timedelta]]] = weakref.WeakKeyDictionary()


def mean_service(session: Session, doctor_id: int, day: date, default: timedelta) -> timedelta:
    """``domain.queue_estimate.mean_service_time`` of the doctor's services on ``day``, at most ``TTL_SECONDS``
    old (``default`` stands in for what is not measured yet)."""
    engine, key, now = session.get_bind(), (doctor_id, day, default), time.monotonic()
    with _lock:
        known = _means.get(engine, {}).get(key)
    if known is not None and now - known[0] < TTL_SECONDS:
        return known[1]
    mean = mean_service_time(service_durations(session, doctor_id, day), default)
    with _lock:
        _means.setdefault(engine, {})[key] = (now, mean)
    return mean


def forget(session: Session) -> None:
    """Drop this process's means of ``session``'s database (a service began or ended)."""
    with _lock:
        _means.pop(session.get_bind(), None)


@dataclass(frozen=True)
class Line:
    """The session line a new ticket joins: which session, doctor and point, and when the doctor starts."""

    site_id: int
    session_id: int
    doctor_id: int
    point: str
    day: date
    start: datetime  # the doctor's actual start, the scheduled one until they start
    default: timedelta  # the poli's configured service time


@dataclass(frozen=True)
class Standing:
    """A new ticket's place: ``position`` 1 is next; ``serving`` is the number called last at its point today."""

    position: int
    estimate: datetime
    serving: str


@cache
def _standing_statement() -> Select:
    same_point = (
        QueueTicket.site_id == bindparam("site_id"),
        QueueTicket.point == bindparam("point"),
        QueueTicket.service_date == bindparam("day"),
    )
    called_last = (
        select(QueueTicket.label)
        .where(*same_point, QueueTicket.called_at.is_not(None))
        .order_by(QueueTicket.called_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(
        func.count().filter(QueueTicket.status != "cancelled"),
        func.count().filter(QueueTicket.status.in_(AHEAD_STATES)),
        called_last,
    ).where(*same_point, QueueTicket.session_id == bindparam("session_id"), QueueTicket.number < bindparam("number"))


def standing(session: Session, line: Line, number: int, now: datetime) -> Standing:
    """Where ticket ``number`` (just taken, not yet in the table) stands: for it, the estimate
    ``data.queue_views.session_estimates`` gives, computed once (one statement, built once per process)."""
    where = {"site_id": line.site_id, "point": line.point, "day": line.day, "session_id": line.session_id}
    booked, ahead, serving = session.execute(_standing_statement(), {**where, "number": number}).one()
    mean = mean_service(session, line.doctor_id, line.day, line.default)
    return Standing(ahead + 1, estimated_call(line.start, booked + 1, ahead, mean, now), serving or "")
