"""The ASGI response of one open screen: its opening events, then whatever its queue holds, a ``heartbeat`` in
quiet spells; it ends after the stream's lifetime, when the screen is ended (its session ended, its feed lost
Redis) or when the client goes, and then always runs its ``close``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import anyio
from starlette.types import Receive, Scope, Send

from data.stream_protocol import HEARTBEAT_SECONDS, heartbeat
from streams.screens import END, Screen

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # no proxy may hold events back
]


class EventStream:
    """Send ``opening``, then each queued item as ``render`` writes it, for at most ``seconds``."""

    def __init__(
        self,
        screen: Screen,
        opening: list[str],
        render: Callable[[object], list[str]],
        seconds: float,
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self.screen, self.opening, self.render, self.seconds, self.close = screen, opening, render, seconds, close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            async with anyio.create_task_group() as group:
                group.start_soon(self._until_disconnect, receive, group.cancel_scope)
                await self._events(send)
                group.cancel_scope.cancel()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            with anyio.CancelScope(shield=True):
                await self.close()

    @staticmethod
    async def _until_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    async def _events(self, send: Send) -> None:
        async def write(text: str) -> None:
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

        await write("".join(self.opening))
        queue = self.screen.queue
        deadline = wrote = time.monotonic()
        deadline += self.seconds
        while (now := time.monotonic()) < deadline:
            try:
                async with asyncio.timeout(min(wrote + HEARTBEAT_SECONDS, deadline) - now):
                    items = [await queue.get()]
            except TimeoutError:
                if time.monotonic() < deadline:
                    await write(heartbeat())
                    wrote = time.monotonic()
                continue
            while not queue.empty():  # what piled up meanwhile goes out in one write
                items.append(queue.get_nowait())
            chunks = [chunk for item in items if item is not END for chunk in self.render(item)]
            if chunks:
                await write("".join(chunks))
                wrote = time.monotonic()
            if END in items:
                return
