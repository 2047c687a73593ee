"""Push for the queue TV boards: a signed-in server-sent-events stream per board, fed by the site's queue channel.

On connect the board gets one ``snapshot`` (``data.queue_views.board_snapshot``: public-safe, masked names). On
each queue event for one of the board's service points the stream reads the board again from the database —
boards served by different processes read the same rows, so they agree — and sends an ``update`` with only the
parts that changed; a call also sends an ``announce`` with what the board says aloud (data/board_screen.py:
coalescing, refresh, catch-up after a reconnect). The stream ends after ``Settings.live_stream_seconds`` so the
browser reconnects and the access check runs again; in quiet spells it sends a ``heartbeat``. Production serves
/stream/* from the stream server (streams/), which shares one read among all the boards that show the same one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, request
from flask_login import current_user

from api.sse import counted_stream, sse_response, stream_seconds
from auth.guards import roles_required
from data import live_keys
from data.board_screen import (
    BOARD_ROLES,
    COALESCE_SECONDS,
    REFRESH_SECONDS,
    board_news,
    changes,
    last_event_id,
    missed_calls,
    newest_call,
    open_board,
)
from data.live_store import LiveStoreError, Subscription
from data.queue_views import board_snapshot
from data.runtime import current_runtime
from data.stream_protocol import HEARTBEAT_SECONDS, RETRY, heartbeat, sse_event
from domain.clock import epoch_ms, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("queue_stream", __name__)


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
        news = board_news(message, self.points)
        if news is None:
            return
        self.dirty = True
        if news.call:
            self.calls.append(news.call)

    def events(self, seen: int | None, subscribed: int) -> Iterator[str]:
        """Snapshot (and the calls missed while reconnecting), then updates and announcements, heartbeats between."""
        yield RETRY
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
    return last_event_id(request.headers.get("Last-Event-ID"), request.args.get("last"))


@bp.route("/stream/queue/<board>")
@roles_required(*BOARD_ROLES)
@counted_stream
def queue_stream(board: str) -> Response:
    runtime = current_runtime()
    site_id = current_user.site_id
    with runtime.db.session() as session:
        points = open_board(session, site_id, board)
    if points is None:
        abort(404)

    def read() -> dict:
        with runtime.db.session() as session:
            return board_snapshot(session, site_id, board, utcnow())

    subscribed = epoch_ms(utcnow())
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
