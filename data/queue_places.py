"""A place in a doctor session: one place of the payer's quota and the poli's next number, taken together.

Both rows are hot at rush hour (every desk books the same sessions and numbers the same polis), and each stays
locked until its transaction commits. On PostgreSQL one statement takes both — a guarded ``UPDATE … RETURNING``
of the quota feeding the counter's ``INSERT … ON CONFLICT DO UPDATE`` — so a full or closed session takes no
number and the locks are taken in one round trip, in one order (session, then counter). SQLite runs the same two
steps one after the other under its single writer lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Date, Integer, Select, String, Update, bindparam, literal, select, true, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from data.models import ClinicSession, QueueCounter
from data.queue_tickets import next_number

PAYERS = ("jkn", "non_jkn")


@dataclass(frozen=True)
class Place:
    """The number taken and both quotas' places booked, this one included."""

    number: int
    booked_jkn: int
    booked_non_jkn: int


def _quota_update(payer: str) -> Update:
    booked, quota = (
        (ClinicSession.booked_jkn, ClinicSession.quota_jkn)
        if payer == "jkn"
        else (ClinicSession.booked_non_jkn, ClinicSession.quota_non_jkn)
    )
    return (
        update(ClinicSession)
        .where(ClinicSession.id == bindparam("session_id"), booked < quota, ClinicSession.closed_reason.is_(None))
        .values({booked: booked + 1})
        .returning(ClinicSession.booked_jkn, ClinicSession.booked_non_jkn)
        .execution_options(synchronize_session=False)
    )


@cache
def _one_statement(payer: str) -> Select:
    """PostgreSQL: the quota's guarded UPDATE feeding the counter's upsert; no row when the quota refused. (The
    parameters' names are no column's: an UPDATE would take such a name as a value to set.)"""
    quota = _quota_update(payer).cte("quota")
    first = select(
        bindparam("counter_site", type_=Integer),
        bindparam("counter_point", type_=String),
        bindparam("counter_day", type_=Date),
        literal(1),
    ).select_from(quota)
    counter = (
        postgresql.insert(QueueCounter)
        .from_select(["site_id", "point", "service_date", "last_number"], first)
        .on_conflict_do_update(
            index_elements=["site_id", "point", "service_date"],
            set_={"last_number": QueueCounter.last_number + 1},
        )
        .returning(QueueCounter.last_number)
        .cte("counter")
    )
    return select(counter.c.last_number, quota.c.booked_jkn, quota.c.booked_non_jkn).select_from(
        quota.join(counter, true())
    )


def take_place(session: Session, *, site_id: int, session_id: int, payer: str, point: str, day: date) -> Place | None:
    """One place of ``payer``'s quota in session ``session_id`` and the next number at ``point`` on ``day``;
    None (and nothing taken) when the quota is full or the session closed."""
    if payer not in PAYERS:
        raise ValueError(f"unknown payer {payer!r}")
    if session.get_bind().dialect.name != "postgresql":
        taken = session.execute(_quota_update(payer), {"session_id": session_id}).first()
        if taken is None:
            return None
        return Place(next_number(session, site_id, point, day), taken.booked_jkn, taken.booked_non_jkn)
    values = {"session_id": session_id, "counter_site": site_id, "counter_point": point, "counter_day": day}
    row = session.execute(_one_statement(payer), values).first()
    return Place(*row) if row is not None else None
