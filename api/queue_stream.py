"""Push for the queue TV boards: a signed-in server-sent-events stream per board, fed by the site's queue channel.

On connect the board gets one ``snapshot`` (``data.queue_views.board_snapshot``: public-safe, masked names). On
each queue event for one of the board's service points (or ``"*"``: a change every board shows) the stream reads
the board again from the database — boards served by different web workers read the same rows, so they agree —
and sends an ``update`` with only the parts that changed; a call also sends an ``announce`` with what the board
says aloud. Bursts are coalesced to one read per ``COALESCE_SECONDS``; a call's announcement is never dropped, it
waits for that read and follows the update that shows the number.

The stream ends after ``Settings.live_stream_seconds`` so the browser reconnects and the access check runs again;
in quiet spells it sends a ``heartbeat`` (api/sse.py), so the board can tell a quiet stream from a dead one. Snapshots
and updates carry the time of the newest call as the event id, which the browser sends back on reconnecting
(``Last-Event-ID``): calls made while it was away, within ``CATCH_UP_SECONDS``, are announced after the snapshot."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, request
from flask_login import current_user

from api.sse import HEARTBEAT_SECONDS, counted_stream, heartbeat, sse_event, sse_response, stream_seconds
from auth.guards import roles_required
from data import live_keys
from data.live_store import LiveStoreError, Subscription
from data.queue_tickets import QueueEvent
from data.queue_views import board_points, board_snapshot
from data.runtime import current_runtime
from data.schedules import ensure_sessions, local_today
from domain.announcement import call_announcement
from domain.clock import utcnow

log = logging.getLogger(__name__)
bp = Blueprint("queue_stream", __name__)
BOARD_ROLES = ("display", "admin", "front_desk")
REFRESH_SECONDS = 60  # doctors' statuses follow the clock, and Redis pub/sub forgets what it sent while away
COALESCE_SECONDS = 0.2
CATCH_UP_SECONDS = 30  # older calls are history, not news: a board back from an outage does not read them out
EVERY_BOARD = "*"
LABEL = re.compile(r"([A-Za-z]*)(\d+)")  # data.queue_tickets' "A012" back into prefix and number


def spoken(label: str, prefix: str, number: int, destination: str) -> dict | None:
    """The ``announce`` payload for a call (``domain.announcement``); None for a call that cannot be said."""
    try:
        said = call_announcement(prefix, number, destination)
    except ValueError:
        log.warning("queue call cannot be announced", extra={"label": label})
        return None
    return {"label": label, "text": said.text, "clips": list(said.clips)}


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


@dataclass
class BoardFeed:
    """One board's stream: what waits for the next coalesced read (a read is due, calls to announce)."""

    subscription: Subscription
    points: list[str]
    read: Callable[[], dict]
    dirty: bool = False
    calls: list[dict] = field(default_factory=list)

    def hear(self, message: str) -> None:
        """Note a published queue event: a change of this board's points makes a read due, a call is said."""
        try:
            event = QueueEvent(**json.loads(message))
        except (ValueError, TypeError):
            log.warning("unreadable queue event ignored")
            return
        if event.point not in self.points and event.point != EVERY_BOARD:
            return
        self.dirty = True
        if event.kind == "call" and (said := spoken(event.label, event.prefix, event.number, event.destination)):
            self.calls.append(said)

    def events(self, seen: int | None, subscribed: int) -> Iterator[str]:
        """Snapshot (and the calls missed while reconnecting), then updates and announcements, heartbeats between."""
        yield "retry: 2000\n\n"
        shown = self.read()
        yield sse_event("snapshot", shown, newest_call(shown))
        if seen is not None:
            yield from (sse_event("announce", call) for call in missed_calls(shown, seen, subscribed))
        deadline = time.monotonic() + stream_seconds()
        read_at = wrote_at = time.monotonic()
        while (now := time.monotonic()) < deadline or self.dirty:  # a pending call is sent before the stream ends
            if self.dirty and now >= read_at + COALESCE_SECONDS:
                fresh = self.read()
                changed = changes(shown, fresh)
                out = [sse_event("update", changed, newest_call(fresh))] if changed else []
                out += [sse_event("announce", call) for call in self.calls]
                yield from out
                shown, self.calls, self.dirty, read_at = fresh, [], False, now
                wrote_at = now if out else wrote_at
            elif now >= read_at + REFRESH_SECONDS:
                self.dirty = True
            elif now >= wrote_at + HEARTBEAT_SECONDS:
                yield heartbeat()
                wrote_at = now
            else:
                due = read_at + COALESCE_SECONDS if self.dirty else min(wrote_at + HEARTBEAT_SECONDS, deadline)
                if message := self.subscription.get(timeout=max(0.0, due - now)):
                    self.hear(message[1])


def _last_event_id() -> int | None:
    """The newest call the board showed before: EventSource's own reconnect sends it as a header, a stream the
    board starts again after an error (board.js) as ``?last=``."""
    value = request.headers.get("Last-Event-ID") or request.args.get("last", "")
    return int(value) if value.isdigit() else None


@bp.route("/stream/queue/<board>")
@roles_required(*BOARD_ROLES)
@counted_stream
def queue_stream(board: str) -> Response:
    runtime = current_runtime()
    site_id = current_user.site_id
    with runtime.db.session() as session:
        points = board_points(session, site_id, board)
        if points is None:
            abort(404)
        ensure_sessions(session, site_id, local_today(session, site_id))  # doctors show before the first booking

    def read() -> dict:
        with runtime.db.session() as session:
            return board_snapshot(session, site_id, board, utcnow())

    subscribed = int(utcnow().timestamp() * 1000)
    try:
        subscription = runtime.live.subscribe(live_keys.queue_channel(site_id))  # before the snapshot
    except LiveStoreError:
        log.warning("queue board stream: live store unavailable")
        return Response("live store unavailable", status=503, headers={"Retry-After": "5"})

    def events() -> Iterator[str]:
        try:
            yield from BoardFeed(subscription, points, read).events(_last_event_id(), subscribed)
        finally:
            subscription.close()

    return sse_response(events())
