"""What every live stream shares, whichever server sends it (api/ under Flask, streams/ under uvicorn): the
server-sent-event wire format, the heartbeat and session-check periods, and the counted sets of open streams.

A stream sends a named ``heartbeat`` event when it has had nothing else to say for ``HEARTBEAT_SECONDS``; it
re-reads its account every ``SESSION_CHECK_SECONDS`` and ends when the session has ended, so a sign-out reaches
an open screen within their sum (3 s). Each open stream holds a place in its user's and its client address's
counted set in the live store (shared by every server), renewed by each check and lapsing ``SLOT_TTL_SECONDS``
after the last: the streams of a killed process stop counting on their own."""

from __future__ import annotations

import json

from config import Settings
from data.live_store import LiveStore
from domain.clock import now_ms

HEARTBEAT_SECONDS = 1.5
SESSION_CHECK_SECONDS = 1.5
SLOT_TTL_SECONDS = 15  # ten missed checks: the process that held the stream is gone
REFUSED_RETRY_SECONDS = 30  # a refused screen asks again this much later (assets/live_stream.js)
RETRY = "retry: 2000\n\n"  # the browser's own reconnect delay, sent first on every stream


def sse_event(event: str, data: object, event_id: int | None = None) -> str:
    """One named event, its data as compact JSON (and an id, which the browser sends back on reconnecting)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"


def sse_message(data: str) -> str:
    """An unnamed event carrying ``data`` as it is (a ward channel message, already JSON)."""
    return f"data: {data}\n\n"


def heartbeat() -> str:
    """The ``heartbeat`` event, with the server clock (epoch ms)."""
    return sse_event("heartbeat", {"now": now_ms()})


def user_slots(user_id: int) -> str:
    """The counted set of a user's open streams."""
    return f"pantau:streams:user:{user_id}"


def address_slots(address: str) -> str:
    """The counted set of a client address's open streams."""
    return f"pantau:streams:addr:{address}"


def stream_caps(settings: Settings, user_id: int, address: str | None) -> dict[str, int]:
    """A new stream's counted sets and their caps (no address count when the address is unknown)."""
    caps = {user_slots(user_id): settings.streams_per_user}
    if address:
        caps[address_slots(address)] = settings.streams_per_address
    return caps


def refusal_key(caps: dict[str, int], full: str) -> str:
    """The message key of a refusal for the full set ``full``: too many of the user's, or of the address's."""
    return "sess_streams_user" if full == next(iter(caps)) else "sess_streams_address"


def first_full(live: LiveStore, caps: dict[str, int]) -> str | None:
    """The first of ``caps``' sets that holds its cap of open streams, or None (raises ``LiveStoreError``)."""
    return next((key for key, cap in caps.items() if len(live.slot_members(key)) >= cap), None)
