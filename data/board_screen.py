"""What a queue TV board's live stream sends, whichever server sends it (api/queue_stream.py, streams/board.py):
which queue events concern a board, the parts of a board that changed, and what the board says aloud.

A stream reads its board again from the database when a queue event for one of the board's service points (or
``EVERY_BOARD``) arrives, at most once per ``COALESCE_SECONDS``, and every ``REFRESH_SECONDS`` anyway; a call's
announcement waits for that read and follows the update that shows the number. Snapshots and updates carry the
time of the newest call as the event id, which the browser sends back on reconnecting: calls made while it was
away, within ``CATCH_UP_SECONDS``, are announced after the snapshot."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from data.queue_tickets import QueueEvent
from data.queue_views import board_points
from data.schedules import ensure_sessions, local_today
from domain.announcement import call_announcement

log = logging.getLogger(__name__)

BOARD_ROLES = ("display", "admin", "front_desk")
REFRESH_SECONDS = 60  # doctors' statuses follow the clock, and Redis pub/sub forgets what it sent while away
COALESCE_SECONDS = 0.2
CATCH_UP_SECONDS = 30  # older calls are history, not news: a board back from an outage does not read them out
EVERY_BOARD = "*"
LABEL = re.compile(r"([A-Za-z]*)(\d+)")  # data.queue_tickets' "A012" back into prefix and number


@dataclass(frozen=True)
class BoardNews:
    """A queue event heard by a board: its board is to be read again, and perhaps a call is to be said."""

    call: dict | None


def open_board(session: Session, site_id: int, board: str) -> list[str] | None:
    """The service points ``board`` shows, with today's sessions made (doctors show before the first booking);
    None when there is no such board."""
    points = board_points(session, site_id, board)
    if points is not None:
        ensure_sessions(session, site_id, local_today(session, site_id))
    return points


def spoken(label: str, prefix: str, number: int, destination: str) -> dict | None:
    """The ``announce`` payload for a call (``domain.announcement``); None for a call that cannot be said."""
    try:
        said = call_announcement(prefix, number, destination)
    except ValueError:
        log.warning("queue call cannot be announced", extra={"label": label})
        return None
    return {"label": label, "text": said.text, "clips": list(said.clips)}


def board_news(message: str, points: list[str]) -> BoardNews | None:
    """What a published queue event means for a board showing ``points``; None when it does not concern it."""
    try:
        event = QueueEvent(**json.loads(message))
    except (ValueError, TypeError):
        log.warning("unreadable queue event ignored")
        return None
    if event.point not in points and event.point != EVERY_BOARD:
        return None
    said = spoken(event.label, event.prefix, event.number, event.destination) if event.kind == "call" else None
    return BoardNews(said)


def newest_call(board: dict) -> int:
    """The event id of a board: when its newest call was made (epoch ms; 0 before the first call)."""
    return max((c["at"] for c in board["calls"]), default=0)


def changes(shown: dict, fresh: dict) -> dict:
    """The parts of a board that differ from what it shows (``now`` alone is no change)."""
    return {key: value for key, value in fresh.items() if key != "now" and shown.get(key) != value}


def missed_calls(board: dict, seen: int, subscribed: int) -> list[dict]:
    """Announcements of the calls on ``board`` made after the one the browser saw last (``seen``) and before this
    stream subscribed (later ones arrive as events), recent ones only, oldest first."""
    recent = board["now"] - CATCH_UP_SECONDS * 1000
    missed = []
    for call in reversed(board["calls"]):
        label = LABEL.fullmatch(call["label"])
        if label and max(seen, recent) < call["at"] < subscribed:
            missed.append(spoken(call["label"], label[1], int(label[2]), call["destination"]))
    return [m for m in missed if m]


def last_event_id(header: str | None, query: str | None) -> int | None:
    """The newest call the board showed before: EventSource's own reconnect sends it as the ``Last-Event-ID``
    header, a stream the board starts again after an error (board.js) as ``?last=``."""
    value = header or query or ""
    return int(value) if value.isdigit() else None
