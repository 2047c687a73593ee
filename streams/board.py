"""``/stream/queue/<board>``: a queue TV board's stream, the same events as the web app's route
(api/queue_stream.py). All the screens of one board share its feed: a queue event for the board's points makes
ONE database read (at most one per ``COALESCE_SECONDS``, and one every ``REFRESH_SECONDS`` anyway) whose result
every screen compares with what it shows, so a board update costs one read whatever the number of screens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from data import board_screen as rules
from data import live_keys
from data.db import Database
from data.live_store import LiveStoreError
from data.queue_views import board_snapshot
from data.stream_protocol import RETRY, sse_event
from domain.clock import epoch_ms, utcnow
from streams.event_stream import EventStream
from streams.feeds import Feed, Feeds
from streams.pubsub import ChannelHub
from streams.screens import Blocking

if TYPE_CHECKING:
    from streams.services import Services

log = logging.getLogger(__name__)


def read_board(db: Database, site_id: int, board: str) -> dict:
    """The board as it shows now (``data.queue_views.board_snapshot``)."""
    with db.session() as session:
        return board_snapshot(session, site_id, board, utcnow())


@dataclass(frozen=True)
class BoardRead:
    """What a feed's read gives every screen: the board now, and the calls to say after showing it. Screens that
    showed the same board before are sent the same events, written once (``written``, by what they showed)."""

    board: dict
    calls: list[dict]
    written: dict[int, tuple[dict, list[str]]] = field(default_factory=dict)

    def events(self, shown: dict) -> list[str]:
        """The events for a screen that shows ``shown``: the parts that changed, then the calls."""
        known = self.written.get(id(shown))
        if known is not None and known[0] is shown:
            return known[1]
        changed = rules.changes(shown, self.board)
        out = [sse_event("update", changed, rules.newest_call(self.board))] if changed else []
        out += [sse_event("announce", call) for call in self.calls]
        self.written[id(shown)] = (shown, out)
        return out


class BoardFeed(Feed):
    """A board's screens, the queue events that make a read due, and the calls waiting for that read."""

    def __init__(self, hub: ChannelHub, site_id: int, board: str, points: list[str], db: Database, blocking: Blocking):
        super().__init__(hub, live_keys.queue_channel(site_id))
        self.site_id, self.board, self.points, self.db, self.blocking = site_id, board, points, db, blocking
        self.calls: list[dict] = []
        self.due = asyncio.Event()
        self.tasks.append(asyncio.get_running_loop().create_task(self._reads()))

    def receive(self, message: str) -> None:
        news = rules.board_news(message, self.points)
        if news is None:
            return
        if news.call:
            self.calls.append(news.call)
        self.due.set()

    async def _reads(self) -> None:
        """One read per burst of events (after ``COALESCE_SECONDS``) or per ``REFRESH_SECONDS``, for every screen."""
        while True:
            try:
                await asyncio.wait_for(self.due.wait(), rules.REFRESH_SECONDS)
                await asyncio.sleep(rules.COALESCE_SECONDS)
            except TimeoutError:
                pass
            self.due.clear()
            calls, self.calls = self.calls, []  # published after their commit: this read shows their numbers
            try:
                board = await self.blocking(read_board, self.db, self.site_id, self.board)
            except SQLAlchemyError:  # the next event or refresh reads again; the calls wait for it
                log.warning("queue board read failed", exc_info=True)
                self.calls[:0] = calls
                continue
            self.broadcast(BoardRead(board, calls))


@dataclass
class BoardView:
    """What one screen shows; each read's events for it (``BoardRead.events``)."""

    shown: dict

    def render(self, item: object) -> list[str]:
        assert isinstance(item, BoardRead)
        out = item.events(self.shown)
        self.shown = item.board
        return out


async def queue_stream(request: Request) -> Response | EventStream:
    services: Services = request.app.state.services
    board = request.path_params["board"]
    admitted = await services.admit(request, rules.BOARD_ROLES, lambda db, site: rules.open_board(db, site, board))
    if isinstance(admitted, Response):
        return admitted
    screen, site_id = admitted.screen, admitted.user.site_id
    key = (site_id, board, tuple(admitted.found))
    subscribed = epoch_ms(utcnow())
    try:
        _, close = await services.join(services.boards, key, screen)
    except LiveStoreError:
        return services.unavailable("queue board")
    try:
        shown = await services.blocking(read_board, services.runtime.db, site_id, board)
    except BaseException:
        await close()
        raise
    opening = [RETRY, sse_event("snapshot", shown, rules.newest_call(shown))]
    seen = rules.last_event_id(request.headers.get("last-event-id"), request.query_params.get("last"))
    if seen is not None:
        opening += [sse_event("announce", call) for call in rules.missed_calls(shown, seen, subscribed)]
    return services.stream(screen, opening, BoardView(shown).render, close)


def board_feeds(hub: ChannelHub, db: Database, blocking: Blocking) -> Feeds[BoardFeed]:
    """The board feeds of the server, by (site, board, points)."""

    def make(key: Hashable) -> BoardFeed:
        site_id, board, points = key  # type: ignore[misc]
        return BoardFeed(hub, site_id, board, list(points), db, blocking)

    return Feeds(make)
