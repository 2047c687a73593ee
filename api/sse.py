"""Server-sent events responses of the web app's stream routes, shared by the ward and queue-board streams.

What a stream says and how it is counted is shared with the stream server (data/stream_protocol.py): a
``heartbeat`` event in quiet spells, an end after ``Settings.live_stream_seconds`` so the browser reconnects, the
access check runs again and the screen starts from a fresh snapshot.

Every stream route is a ``counted_stream``: it holds a place in its user's and its client address's counts in the
live store (``Settings.streams_per_user``, ``streams_per_address``; shared by every server) or is refused with
429, and its events pass through a ``StreamLease`` that re-reads the account (active? same session version?) at
its first event ``SESSION_CHECK_SECONDS`` after the last check and ends the stream when the session has ended.
The same check renews the stream's place in the counts. Production serves /stream/* from the stream server
(streams/); these routes serve the embedded demo."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Response, g, jsonify, stream_with_context
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from auth.session import client_ip
from auth.stream_access import active_versions
from data.live_store import LiveStoreError
from data.runtime import Runtime, current_runtime
from data.stream_protocol import (
    REFUSED_RETRY_SECONDS,
    SESSION_CHECK_SECONDS,
    SLOT_TTL_SECONDS,
    first_full,
    refusal_key,
    stream_caps,
)
from i18n.web import t

log = logging.getLogger(__name__)

_LEASE = "pantau_stream_lease"  # flask.g: the lease ``counted_stream`` took, until ``sse_response`` uses it


def stream_seconds() -> int:
    """How long one stream lasts before the browser is made to reconnect (``PANTAU_LIVE_STREAM_SECONDS``)."""
    return current_runtime().settings.live_stream_seconds


def _stream_caps(runtime: Runtime) -> dict[str, int]:
    """This request's counted sets and their caps."""
    return stream_caps(runtime.settings, current_user.id, client_ip())


def _too_many(caps: dict[str, int], full: str) -> Response:
    """429 with a message that says whose streams are too many and what to do."""
    response = jsonify({"error": t(refusal_key(caps, full), n=caps[full])})
    response.status_code = 429
    response.headers["Retry-After"] = str(REFUSED_RETRY_SECONDS)
    return response


def streams_full() -> Response | None:
    """The 429 a new stream of this request would get now, or None (``/stream/session`` tells the browser why its
    stream failed); a live store that does not answer refuses nothing."""
    runtime = current_runtime()
    caps = _stream_caps(runtime)
    try:
        full = first_full(runtime.live, caps)
    except LiveStoreError:
        log.warning("stream counts unavailable")
        return None
    return _too_many(caps, full) if full else None


@dataclass
class StreamLease:
    """One open stream: its place in the counts, and the session it belongs to."""

    runtime: Runtime
    user_id: int
    session_version: int
    keys: tuple[str, ...]
    member: str = field(default_factory=lambda: uuid.uuid4().hex)
    checked_at: float = field(default_factory=time.monotonic)
    released: bool = False

    def session_alive(self) -> bool:
        """Whether the account is still active with the session's version; asks the database at most every
        ``SESSION_CHECK_SECONDS`` (and renews the stream's place in the counts). A database that does not answer
        ends no stream: a ward station keeps its alarms through a database outage."""
        now = time.monotonic()
        if now - self.checked_at < SESSION_CHECK_SECONDS:
            return True
        self.checked_at = now
        try:
            with self.runtime.db.session() as session:
                version = active_versions(session, [self.user_id]).get(self.user_id)
        except SQLAlchemyError:
            log.warning("stream session check: database unavailable", exc_info=True)
            return True
        if version != self.session_version:
            return False
        try:
            self.runtime.live.renew_slot(self.keys, self.member, SLOT_TTL_SECONDS)
        except LiveStoreError:
            log.warning("stream counts unavailable")
        return True

    def watch(self, events: Iterator[str]) -> Iterator[str]:
        """``events`` until they end or the session does; the place in the counts is given back either way."""
        try:
            for event in events:
                if not self.session_alive():
                    log.info("stream ended: its session has ended", extra={"user_id": self.user_id})
                    return
                yield event
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
            self.release()

    def release(self) -> None:
        """Give the stream's place in the counts back; idempotent."""
        if self.released:
            return
        self.released = True
        try:
            self.runtime.live.release_slot(self.keys, self.member)
        except LiveStoreError:
            log.warning("stream counts unavailable; the place lapses by itself")


def counted_stream(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a stream route (under ``roles_required``): the stream takes a place in its user's and its address's
    counts or is refused with 429; a view that answers without a stream (404, 503) gives the place back."""

    @wraps(view)
    def counted(*args: Any, **kwargs: Any) -> Any:
        runtime = current_runtime()
        caps = _stream_caps(runtime)
        lease = StreamLease(runtime, current_user.id, current_user.session_version, tuple(caps))
        try:
            full = runtime.live.claim_slot(caps, lease.member, SLOT_TTL_SECONDS)
        except LiveStoreError:
            full = None  # the stream itself answers 503, or rides the outage out; counting resumes with Redis
        if full is not None:
            log.warning("stream refused: too many open", extra={"user_id": current_user.id, "counted_set": full})
            return _too_many(caps, full)
        setattr(g, _LEASE, lease)
        try:
            return view(*args, **kwargs)
        finally:
            if g.pop(_LEASE, None) is not None:
                lease.release()

    return counted


def sse_response(events: Iterator[str]) -> Response:
    """Stream ``events`` (already SSE-formatted) with the headers that stop proxies from buffering them, watched by
    the ``counted_stream`` route's lease."""
    lease = g.pop(_LEASE, None)
    if lease is None:
        raise RuntimeError("a stream route must be a counted_stream")
    response = Response(
        stream_with_context(lease.watch(events)),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.call_on_close(lease.release)  # also when the body never started
    return response
