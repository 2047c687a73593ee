"""The open screens of the stream server: each one's queue of things to send, its place in the counts of open
streams (data/stream_protocol.py, shared with the web app's routes through the live store) and the session it
belongs to.

Every ``SESSION_CHECK_SECONDS`` one database read checks the accounts of all open screens (active, on their
session's version), so a sign-out elsewhere ends its screens within that period whatever their number; every
``RENEW_EVERY`` checks one round of renewals keeps their places in the counts. A database that does not answer
ends no screen: a ward station keeps its alarms through a database outage."""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from auth.stream_access import active_versions
from data.live_store import LiveStoreError
from data.runtime import Runtime
from data.stream_protocol import SESSION_CHECK_SECONDS, SLOT_TTL_SECONDS

log = logging.getLogger(__name__)

END = object()  # the last thing a screen's queue holds: its stream ends
RENEW_EVERY = 4  # session checks per renewal of the places in the counts (6 s, well within SLOT_TTL_SECONDS)
BACKLOG = 1000  # things waiting for one screen: a client that reads slower than this is cut off (it reconnects)
Blocking = Callable[..., Awaitable[Any]]  # runs a blocking call in the server's bounded thread pool


@dataclass(eq=False)
class Screen:
    """One open stream: what waits to be sent, its place in the counts, and its account and session version."""

    user_id: int
    session_version: int
    keys: tuple[str, ...]
    member: str = field(default_factory=lambda: uuid.uuid4().hex)
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    ended: bool = False

    def put(self, item: object) -> None:
        """Queue ``item`` to be sent; a screen that has fallen ``BACKLOG`` behind is ended instead."""
        if self.ended:
            return
        if self.queue.qsize() >= BACKLOG:
            log.warning("stream ended: its client reads too slowly")
            self.end()
            return
        self.queue.put_nowait(item)

    def end(self) -> None:
        """End the stream after what it already holds (idempotent)."""
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(END)


class ScreenBook:
    """Every open screen of this process, counted in the live store and checked against its session."""

    def __init__(self, runtime: Runtime, blocking: Blocking) -> None:
        self.runtime = runtime
        self.blocking = blocking
        self.open: set[Screen] = set()

    async def claim(self, user_id: int, session_version: int, caps: dict[str, int]) -> Screen | str:
        """A new screen holding a place in each of ``caps``' counted sets, or the first set that is full. A live
        store that does not answer refuses nothing (the stream itself then answers 503 or rides it out)."""
        screen = Screen(user_id, session_version, tuple(caps))
        try:
            full = await self.blocking(self.runtime.live.claim_slot, caps, screen.member, SLOT_TTL_SECONDS)
        except LiveStoreError:
            full = None
        if full is not None:
            return full
        self.open.add(screen)
        return screen

    async def release(self, screen: Screen) -> None:
        """Give the screen's place in the counts back (a place not given back lapses by itself)."""
        self.open.discard(screen)
        try:
            await self.blocking(self.runtime.live.release_slot, screen.keys, screen.member)
        except LiveStoreError:
            log.warning("stream counts unavailable; the place lapses by itself")

    def end_all(self) -> None:
        """End every open stream (the server is stopping: the screens reconnect to another or to it restarted)."""
        for screen in list(self.open):
            screen.end()

    async def watch(self) -> None:
        """Check every open screen's session every ``SESSION_CHECK_SECONDS`` and renew the places in the counts
        every ``RENEW_EVERY`` checks, until cancelled."""
        for n in itertools.count(1):
            await asyncio.sleep(SESSION_CHECK_SECONDS)
            if self.open:
                await self.check(list(self.open), renew=n % RENEW_EVERY == 0)

    async def check(self, screens: list[Screen], *, renew: bool = True) -> None:
        """End the screens whose session has ended; renew the others' places in the counts."""
        try:
            versions = await self.blocking(self._versions, {s.user_id for s in screens})
        except SQLAlchemyError:
            log.warning("stream session check: database unavailable", exc_info=True)
            versions = {s.user_id: s.session_version for s in screens}
        alive = []
        for screen in screens:
            if versions.get(screen.user_id) == screen.session_version:
                alive.append(screen)
            elif not screen.ended:
                log.info("stream ended: its session has ended", extra={"user_id": screen.user_id})
                screen.end()
        if renew:
            await self.blocking(self._renew, alive)

    def _versions(self, user_ids: set[int]) -> dict[int, int]:
        with self.runtime.db.session() as session:
            return active_versions(session, user_ids)

    def _renew(self, screens: list[Screen]) -> None:
        try:
            for screen in screens:
                self.runtime.live.renew_slot(screen.keys, screen.member, SLOT_TTL_SECONDS)
        except LiveStoreError:
            log.warning("stream counts unavailable")
