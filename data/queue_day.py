"""Which tickets a queue line holds at a moment, and which earlier tickets no line holds any more though nobody
closed them: a counter's line, the next call and a TV board agree on it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from data.models import QueueTicket
from data.schedules import local_today

CARRIED_OVER = ("waiting", "called", "serving", "skipped")  # still open at local midnight
NIGHT = timedelta(hours=6)  # how long into a day the lines keep the day before's open tickets
LEFT_OPEN = ("booked", "waiting", "called", "skipped", "serving")  # open after its day: a no-show, or unfinished
LOOK_BACK = timedelta(days=30)  # how far back a counter lists the numbers left open (bounds the index range read)


def _days(session: Session, site_id: int, now: datetime) -> tuple[date, date]:
    """The site's day at ``now``, and the day whose night's line is still running (the day before until 06:00)."""
    return local_today(session, site_id, now), local_today(session, site_id, now - NIGHT)


def _line(today: date, night_of: date) -> ColumnElement[bool]:
    return (QueueTicket.service_date == today) | (
        (QueueTicket.service_date == night_of) & QueueTicket.status.in_(CARRIED_OVER)
    )


def on_the_line(session: Session, site_id: int, now: datetime) -> ColumnElement[bool]:
    """The tickets a counter and a board deal with at ``now``: the site's day's, and until 06:00 also the day
    before's that are still open (a pharmacy line that runs past midnight, a patient in service at 23:59), so
    nobody waiting or in service drops off the line at midnight. From 06:00 the day's line starts clean: numbers
    nobody closed the night before do not come first in the morning."""
    return _line(*_days(session, site_id, now))


def left_open(session: Session, site_id: int, now: datetime) -> ColumnElement[bool]:
    """Tickets of the last 30 days before the site's day that no line holds any more and nobody closed: patients
    never served (booked and never checked in, waiting, called, skipped), and services never finished. The counter
    lists them so that a person closes each — a no-show cancelled (which tells BPJS), a service finished at the
    time its record gives — rather than leaving it open for good or closing it on nobody's word."""
    today, night_of = _days(session, site_id, now)
    return (
        QueueTicket.service_date.between(today - LOOK_BACK, today - timedelta(days=1))
        & QueueTicket.status.in_(LEFT_OPEN)
        & ~_line(today, night_of)
    )
