"""Small read-only look-ups for the registration desk and its printouts: the admission tickets now being
served, one admission ticket, and which site a booking code belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import QueueTicket, Site, Visit
from data.queue_day import on_the_line
from domain.queue_points import ADMISSION


@dataclass(frozen=True)
class AdmissionTicket:
    """A number of the registration desk's own line (``loket``)."""

    id: int
    label: str
    status: str
    counter: str
    service_date: date
    created_at: datetime
    ahead: int


def serving_admission_tickets(session: Session, site_id: int, now: datetime) -> list[AdmissionTicket]:
    """The admission tickets on the desk's line (``data.queue_day``) now in service at a desk and not yet linked
    to a visit, newest call first."""
    rows = session.scalars(
        select(QueueTicket)
        .where(
            QueueTicket.site_id == site_id,
            QueueTicket.point == ADMISSION,
            on_the_line(session, site_id, now),
            QueueTicket.status == "serving",
            QueueTicket.visit_id.is_(None),
        )
        .order_by(QueueTicket.started_at.desc(), QueueTicket.number.desc())
    ).all()
    return [_admission(t, 0) for t in rows]


def admission_ticket(session: Session, site_id: int, ticket_id: int) -> AdmissionTicket | None:
    """One admission ticket of ``site_id`` with how many are still waiting before it; None if unknown."""
    ticket = session.get(QueueTicket, ticket_id)
    if ticket is None or ticket.site_id != site_id or ticket.point != ADMISSION:
        return None
    ahead = session.scalar(
        select(func.count()).where(
            QueueTicket.site_id == site_id,
            QueueTicket.point == ADMISSION,
            QueueTicket.service_date == ticket.service_date,
            QueueTicket.status.in_(("waiting", "called")),
            QueueTicket.number < ticket.number,
        )
    )
    return _admission(ticket, ahead)


@dataclass(frozen=True)
class BookingSite:
    """The site a booking belongs to, as its printouts name it."""

    id: int
    name: str
    timezone: str


def booking_site(session: Session, booking: str) -> BookingSite | None:
    """The site of the visit with booking code ``booking``, or None when there is no such visit."""
    row = session.execute(
        select(Site.id, Site.name, Site.timezone)
        .join(Visit, Visit.site_id == Site.id)
        .where(Visit.booking_code == booking)
    ).first()
    return BookingSite(*row) if row else None


def _admission(ticket: QueueTicket, ahead: int) -> AdmissionTicket:
    return AdmissionTicket(
        ticket.id,
        ticket.label,
        ticket.status,
        ticket.counter or "",
        ticket.service_date,
        ticket.created_at,
        ahead,
    )
