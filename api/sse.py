"""Server-sent events responses, shared by the ward and queue-board streams."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, stream_with_context


def sse_response(events: Iterator[str]) -> Response:
    """Stream ``events`` (already SSE-formatted) with the headers that stop proxies from buffering them."""
    return Response(
        stream_with_context(events),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
