"""The stream server's Starlette app: the three stream routes and ``/stream/healthz``; the shared services live
for as long as the app runs (its lifespan)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from config import Settings, load_settings
from data.runtime import Runtime, build_runtime
from streams.board import queue_stream
from streams.services import Services
from streams.session_check import stream_session
from streams.ward import ward_stream


async def healthz(request: Request) -> JSONResponse:
    """Alive, and how many screens this process holds (it stays up while Redis is away: screens reconnect)."""
    return JSONResponse({"status": "ok", "screens": len(request.app.state.services.book.open)})


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Starlette:
    """The stream server for ``settings``; it connects to nothing until it starts."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = runtime or build_runtime(settings)
        services = app.state.services = Services.open(settings, own)
        watch = asyncio.create_task(services.book.watch())
        try:
            yield
        finally:
            watch.cancel()
            await services.close()
            if runtime is None:
                own.close()

    routes = [
        Route("/stream/healthz", healthz),
        Route("/stream/session", stream_session),
        Route("/stream/ward/{ward}", ward_stream),
        Route("/stream/queue/{board}", queue_stream),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
