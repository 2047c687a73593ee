"""Server-sent events responses, shared by the ward and queue-board streams.

Both streams send a named ``heartbeat`` event when they have had nothing else to say for ``HEARTBEAT_SECONDS``:
the browser (assets/live_stream.js) counts any event as a sign of life, so it can tell a quiet connection from a
dead one, and a proxy never sees an idle connection. Each stream ends after ``Settings.live_stream_seconds`` so
the browser reconnects, the access check runs again and the screen starts from a fresh snapshot."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Response, stream_with_context

from data.runtime import current_runtime

HEARTBEAT_SECONDS = 5


def sse_event(event: str, data: object, event_id: int | None = None) -> str:
    """One named event, its data as compact JSON (and an id, which the browser sends back on reconnecting)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"


def heartbeat() -> str:
    """The ``heartbeat`` event, with the server clock (epoch ms)."""
    return sse_event("heartbeat", {"now": int(time.time() * 1000)})


def stream_seconds() -> int:
    """How long one stream lasts before the browser is made to reconnect (``PANTAU_LIVE_STREAM_SECONDS``)."""
    return current_runtime().settings.live_stream_seconds


def sse_response(events: Iterator[str]) -> Response:
    """Stream ``events`` (already SSE-formatted) with the headers that stop proxies from buffering them."""
    return Response(
        stream_with_context(events),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
