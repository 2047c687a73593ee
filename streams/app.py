"""The stream server's Starlette app: the three stream routes and ``/stream/healthz``; the shared services live
for as long as the app runs (its lifespan)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from config import Settings, load_settings
from data.db_errors import database_unavailable
from data.runtime import Runtime, build_runtime
from streams.access import unavailable
from streams.board import queue_stream
from streams.services import Services
from streams.session_check import stream_session
from streams.ward import ward_stream

log = logging.getLogger(__name__)


async def database_error(request: Request, exc: Exception) -> Response:
    """A stream opened while the database is unreachable or busy (it loads the signed-in account): 503 with
    ``Retry-After``, so the screen says it is not live and tries again, as the web app answers. Any other database
    error stays a failure (500)."""
    if not database_unavailable(exc):
        raise exc
    log.warning("stream refused: database unavailable", extra={"path": request.url.path, "error": type(exc).__name__})
    return unavailable("database")


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
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={SQLAlchemyError: database_error})
