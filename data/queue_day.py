"""Which tickets a queue line holds at a moment: a counter's line, the next call and a TV board agree on it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from data.models import QueueTicket
from data.schedules import local_today

CARRIED_OVER = ("waiting", "called", "serving", "skipped")  # still open at local midnight
NIGHT = timedelta(hours=6)  # how long into a day the lines keep the day before's open tickets


def on_the_line(session: Session, site_id: int, now: datetime) -> ColumnElement[bool]:
    """The tickets a counter and a board deal with at ``now``: the site's day's, and until 06:00 also the day
    before's that are still open (a pharmacy line that runs past midnight, a patient in service at 23:59), so
    nobody waiting or in service drops off the line at midnight. From 06:00 the day's line starts clean: numbers
    nobody closed the night before do not come first in the morning."""
    today, night_of = local_today(session, site_id, now), local_today(session, site_id, now - NIGHT)
    return (QueueTicket.service_date == today) | (
        (QueueTicket.service_date == night_of) & QueueTicket.status.in_(CARRIED_OVER)
    )
