"""One Redis pub/sub connection for the whole stream server: a channel is subscribed once, however many screens
watch it, and each message is handed to the channel's listeners in this process.

Pub/sub keeps no history: when Redis goes away every listener hears ``None`` (its screens end their streams, and
the browsers reconnect to a fresh snapshot), and the next subscription opens a new connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import redis.asyncio as redis

from data.live_store import REDIS_CONNECT_TIMEOUT, REDIS_HEALTH_CHECK_INTERVAL, REDIS_SOCKET_TIMEOUT, LiveStoreError

log = logging.getLogger(__name__)

Listener = Callable[[str | None], None]
READ_SECONDS = 1.0  # one read's wait; the reader loops


class ChannelHub:
    """Channels subscribed on demand, one Redis connection, messages dispatched to listeners (``Listener``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.listeners: dict[str, list[Listener]] = {}
        self.confirmed: dict[str, asyncio.Event] = {}
        self.pubsub: redis.client.PubSub | None = None
        self.client: redis.Redis | None = None
        self.reader: asyncio.Task | None = None
        self.lock = asyncio.Lock()

    async def attach(self, channel: str, listener: Listener) -> None:
        """Hand ``channel``'s messages to ``listener`` from when Redis has confirmed the subscription on (raises
        ``LiveStoreError`` when Redis does not answer)."""
        async with self.lock:
            listeners = self.listeners.setdefault(channel, [])
            listeners.append(listener)
            if len(listeners) == 1:
                self.confirmed[channel] = asyncio.Event()
                try:
                    await self._pubsub().subscribe(channel)
                except (redis.RedisError, OSError) as exc:
                    await self._lost(exc)
                    raise LiveStoreError(f"live store (redis) subscribe failed: {exc}") from exc
                if self.reader is None:
                    self.reader = asyncio.create_task(self._read(self.pubsub))
            confirmed = self.confirmed[channel]
        try:
            await asyncio.wait_for(confirmed.wait(), REDIS_SOCKET_TIMEOUT)
        except TimeoutError:
            self.detach(channel, listener)
            raise LiveStoreError("live store (redis) subscribe was not confirmed in time") from None

    def detach(self, channel: str, listener: Listener) -> None:
        """Stop handing ``channel``'s messages to ``listener``; the last one to go unsubscribes."""
        listeners = self.listeners.get(channel, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners and self.listeners.pop(channel, None) is not None:
            self.confirmed.pop(channel, None)
            if self.pubsub is not None:
                asyncio.get_running_loop().create_task(self._unsubscribe(self.pubsub, channel))

    def _pubsub(self) -> redis.client.PubSub:
        if self.pubsub is None:
            self.client = redis.Redis.from_url(
                self.url,
                decode_responses=True,
                socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
                health_check_interval=REDIS_HEALTH_CHECK_INTERVAL,
            )
            self.pubsub = self.client.pubsub()
        return self.pubsub

    async def _unsubscribe(self, pubsub: redis.client.PubSub, channel: str) -> None:
        async with self.lock:
            if pubsub is self.pubsub and channel not in self.listeners:
                with contextlib.suppress(redis.RedisError, OSError):
                    await pubsub.unsubscribe(channel)

    async def _read(self, pubsub: redis.client.PubSub) -> None:
        """Dispatch every message until the connection fails."""
        try:
            while True:
                message = await pubsub.get_message(timeout=READ_SECONDS)
                if message is None:
                    continue
                channel = message["channel"]
                if message["type"] == "subscribe" and channel in self.confirmed:
                    self.confirmed[channel].set()
                elif message["type"] == "message":
                    for listener in list(self.listeners.get(channel, ())):
                        listener(message["data"])
        except (redis.RedisError, OSError) as exc:
            async with self.lock:
                if pubsub is self.pubsub:
                    await self._lost(exc)

    async def _lost(self, error: BaseException) -> None:
        """Redis went away: every listener hears ``None`` and is forgotten; the connection is dropped."""
        log.warning("stream server lost redis", extra={"error": str(error)})
        listeners = [listener for group in self.listeners.values() for listener in group]
        self.listeners.clear()
        self.confirmed.clear()
        await self._drop()
        for listener in listeners:
            listener(None)

    async def _drop(self) -> None:
        pubsub, client, reader = self.pubsub, self.client, self.reader
        self.pubsub = self.client = self.reader = None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        with contextlib.suppress(Exception):
            if pubsub is not None:
                await pubsub.aclose()
            if client is not None:
                await client.aclose()

    async def close(self) -> None:
        """Unsubscribe everything and close the connection (at shutdown)."""
        async with self.lock:
            self.listeners.clear()
            self.confirmed.clear()
            await self._drop()
