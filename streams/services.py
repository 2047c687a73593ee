"""What the stream server's routes share: settings, the database and live store, the Redis hub, the open screens,
the ward and board feeds, and the bounded thread pool that runs every blocking call (database reads, the live
store's counts and snapshots), so a thousand screens never mean a thousand threads."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from auth.session import CurrentUser
from auth.stream_access import Refusal, session_reader, stream_user
from config import Settings
from data.live_store import LiveStoreError
from data.runtime import Runtime
from data.stream_protocol import refusal_key, stream_caps
from streams.access import client_address, language, refused, session_values, unavailable
from streams.board import BoardFeed, board_feeds
from streams.event_stream import EventStream
from streams.feeds import F, Feeds
from streams.pubsub import ChannelHub
from streams.screens import Screen, ScreenBook
from streams.ward import WardFeed, ward_feeds

log = logging.getLogger(__name__)

BLOCKING_THREADS = 8  # database reads and live store calls at once; each holds a database connection at most


T = TypeVar("T")


@dataclass(frozen=True)
class Admitted(Generic[T]):
    """A screen let in: its user, what it watches, its place in the counts."""

    user: CurrentUser
    found: T
    screen: Screen


@dataclass
class Services:
    settings: Settings
    runtime: Runtime
    hub: ChannelHub
    book: ScreenBook
    wards: Feeds[WardFeed]
    boards: Feeds[BoardFeed]
    read_cookie: Callable[[str], dict[str, Any] | None]

    @classmethod
    def open(cls, settings: Settings, runtime: Runtime) -> Services:
        """The services of a running server (inside its event loop)."""
        limiter = anyio.CapacityLimiter(BLOCKING_THREADS)

        async def blocking(function: Callable[..., Any], *args: Any) -> Any:
            return await anyio.to_thread.run_sync(function, *args, limiter=limiter)

        hub = ChannelHub(settings.redis_url)
        return cls(
            settings,
            runtime,
            hub,
            ScreenBook(runtime, blocking),
            ward_feeds(hub, runtime.db, blocking),
            board_feeds(hub, runtime.db, blocking),
            session_reader(settings.secret_key),
        )

    async def blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the bounded thread pool."""
        return await self.book.blocking(function, *args)

    def session(self, request: Request) -> dict[str, Any] | None:
        return session_values(request, self.read_cookie)

    def refuse(
        self, refusal: Refusal, values: dict[str, Any] | None, user: CurrentUser | None = None, **words: object
    ) -> Response:
        """The JSON refusal in the user's (or the session's) language."""
        return refused(refusal, language(values, user, self.settings), **words)

    def caps(self, request: Request, user: CurrentUser) -> dict[str, int]:
        return stream_caps(self.settings, user.id, client_address(request, self.settings.trusted_proxies))

    async def admit(
        self, request: Request, roles: tuple[str, ...], find: Callable[[Session, int], T | None]
    ) -> Admitted[T] | Response:
        """A new screen for this request: a signed-in user holding one of ``roles``, what ``find`` finds at the
        user's site (a ward, a board's points) and a place in the counts; else the refusal (401, 403, 404, 429)."""
        values = self.session(request)

        def check() -> tuple[CurrentUser, T] | Refusal:
            with self.runtime.db.session() as session:
                user = stream_user(session, values, self.settings, roles, time.time())
                if isinstance(user, Refusal):
                    return user
                found = find(session, user.site_id)
            return (user, found) if found is not None else Refusal(404, "error_404_message")

        checked = await self.blocking(check)
        if isinstance(checked, Refusal):
            return self.refuse(checked, values)
        user, found = checked
        caps = self.caps(request, user)
        screen = await self.book.claim(user.id, user.session_version, caps)
        if isinstance(screen, Screen):
            return Admitted(user, found, screen)
        log.warning("stream refused: too many open", extra={"user_id": user.id, "counted_set": screen})
        return self.refuse(Refusal(429, refusal_key(caps, screen)), None, user, n=caps[screen])

    async def join(self, feeds: Feeds[F], key: Hashable, screen: Screen) -> tuple[F, Callable[[], Awaitable[None]]]:
        """``screen`` among the screens of ``feeds``' feed of ``key`` (subscribed before the screen's snapshot is
        read, so nothing published after it is lost), and the ``close`` that undoes both; raises
        ``LiveStoreError`` (the place in the counts given back) when Redis does not answer."""
        try:
            feed = await feeds.join(key, screen)
        except LiveStoreError:
            await self.book.release(screen)
            raise

        async def close() -> None:
            feeds.leave(key, feed, screen)
            await self.book.release(screen)

        return feed, close

    @staticmethod
    def unavailable(what: str) -> Response:
        log.warning("%s stream: live store unavailable", what)
        return unavailable()

    def stream(
        self,
        screen: Screen,
        opening: list[str],
        render: Callable[[object], list[str]],
        close: Callable[[], Awaitable[None]],
    ) -> EventStream:
        return EventStream(screen, opening, render, self.settings.live_stream_seconds, close)

    async def close(self) -> None:
        await self.hub.close()
