"""The screens watching one thing — a ward, a TV board — and the one channel subscription that feeds them all.

A feed starts with its first screen and stops with its last; a feed whose channel lost Redis ends its screens and
is replaced by a fresh one on the next screen's arrival."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from data.live_store import LiveStoreError
from streams.pubsub import ChannelHub
from streams.screens import Screen


class Feed(ABC):
    """The screens on one channel; ``receive`` handles each of its messages."""

    def __init__(self, hub: ChannelHub, channel: str) -> None:
        self.hub, self.channel = hub, channel
        self.screens: set[Screen] = set()
        self.started: asyncio.Future | None = None
        self.tasks: list[asyncio.Task] = []
        self.stopped = False

    @abstractmethod
    def receive(self, message: str) -> None: ...

    def hear(self, message: str | None) -> None:
        """A message on the channel, or ``None``: Redis went away, so the screens end and reconnect."""
        if message is not None:
            self.receive(message)
            return
        self.stopped = True
        for screen in self.screens:
            screen.end()

    def broadcast(self, item: object) -> None:
        for screen in self.screens:
            screen.put(item)

    async def start(self) -> None:
        """Subscribe the channel (once, whoever asks first); raises ``LiveStoreError`` without Redis."""
        if self.started is None:
            self.started = asyncio.ensure_future(self.hub.attach(self.channel, self.hear))
        await asyncio.shield(self.started)

    def stop(self) -> None:
        self.stopped = True
        self.hub.detach(self.channel, self.hear)
        for task in self.tasks:
            task.cancel()


F = TypeVar("F", bound=Feed)


class Feeds(Generic[F]):
    """The feeds of one kind by key (a ward's code, a site's board), made by ``make`` on demand."""

    def __init__(self, make: Callable[[Hashable], F]) -> None:
        self.make = make
        self.feeds: dict[Hashable, F] = {}

    async def join(self, key: Hashable, screen: Screen) -> F:
        """The running feed of ``key`` with ``screen`` among its screens (raises ``LiveStoreError`` without Redis)."""
        feed = self.feeds.get(key)
        if feed is None or feed.stopped:
            feed = self.feeds[key] = self.make(key)
        feed.screens.add(screen)
        try:
            await feed.start()
        except LiveStoreError:
            self.leave(key, feed, screen)
            raise
        return feed

    def leave(self, key: Hashable, feed: F, screen: Screen) -> None:
        """``screen`` no longer watches ``feed``; the last one to leave stops it."""
        feed.screens.discard(screen)
        if not feed.screens:
            feed.stop()
            if self.feeds.get(key) is feed:
                del self.feeds[key]
