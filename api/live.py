"""Push, not poll: a signed-in server-sent-events stream per ward, fed by the live store's ward channel.

On connect the browser gets one ``snapshot`` event (every bed's newest values, active alarms, audio pauses, the
beds with changed alarm limits, the server clock and the site's time zone); after that the consumer's small
per-bed messages (docs/live-data.md), and a ``heartbeat`` whenever the ward is quiet (api/sse.py). The stream
ends after ``Settings.live_stream_seconds``, and at once when the live store stops answering, so the browser
reconnects, the access check runs again and the screen starts from a fresh snapshot.

``/stream/session`` tells a screen whose stream failed whether its session has ended (401), it holds too many
streams (429) or the server is only away (no answer, 5xx): assets/live_stream.js shows "signed out", shows the
refusal and asks again later, or reconnects. ``/akun/sesi`` keeps a live screen's session cookie young."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort, jsonify
from flask_login import current_user

from api.sse import counted_stream, sse_response, stream_seconds, streams_full
from auth.guards import KEEP_SESSION_PATH, roles_required
from auth.users import usernames
from data import live_keys
from data.live_store import LiveStoreError, Subscription
from data.runtime import current_runtime
from data.stream_protocol import HEARTBEAT_SECONDS, RETRY, heartbeat, sse_event, sse_message
from data.ward_screen import VIEW_ROLES, WARD_ROLES, AckNames, ward_screen, ward_snapshot

__all__ = ["WARD_ROLES", "bp"]  # api/alarms.py guards its routes with the same roles
log = logging.getLogger(__name__)
bp = Blueprint("live", __name__)


def _ward_events(subscription: Subscription, snapshot: dict, names: AckNames) -> Iterator[str]:
    """The snapshot, then the ward's messages, a heartbeat in quiet spells; ends when the live store is away."""
    runtime = current_runtime()
    try:
        yield RETRY
        yield sse_event("snapshot", snapshot)
        deadline = time.monotonic() + stream_seconds()
        while time.monotonic() < deadline:
            message = subscription.get(timeout=HEARTBEAT_SECONDS)
            if message is not None:
                yield sse_message(names.message(message[1]))
            elif runtime.live.ping():
                yield heartbeat()
            else:  # messages published meanwhile are lost: start again from a snapshot once it is back
                log.warning("ward stream: live store unavailable, ending the stream")
                return
    finally:
        subscription.close()


@bp.route("/stream/ward/<ward>")
@roles_required(*VIEW_ROLES)
@counted_stream
def ward_stream(ward: str) -> Response:
    runtime = current_runtime()
    with runtime.db.session() as session:
        screen = ward_screen(session, current_user.site_id, ward)
    if screen is None:
        abort(404)
    try:
        subscription = runtime.live.subscribe(live_keys.ward_channel(ward))  # before the snapshot: none lost
    except LiveStoreError:
        log.warning("ward stream: live store unavailable")
        return Response("live store unavailable", status=503, headers={"Retry-After": "5"})
    try:
        snapshot = ward_snapshot(runtime.live, ward, screen.beds)
    except LiveStoreError:
        subscription.close()
        log.warning("ward stream: live store unavailable")
        return Response("live store unavailable", status=503, headers={"Retry-After": "5"})
    names = AckNames(runtime.db, usernames)
    snapshot = names.snapshot(snapshot, screen, current_user.roles)
    return sse_response(_ward_events(subscription, snapshot, names))


@bp.route(KEEP_SESSION_PATH)
def keep_session() -> Response:
    """204 while signed in, with the session cookie written anew (the app refreshes it on every request). A live
    screen asks this now and then (assets/live_stream.js): in production its streams come from the stream server,
    which reads the cookie and never writes it, so a TV board that asks the web app nothing else would find its
    cookie older than its lifetime after a day, and be signed out. Not a person's activity (auth/guards.py)."""
    return Response(status=204)


@bp.route("/stream/session")
def stream_session() -> Response:
    """200 while the session is signed in; the request guard answers 401 (JSON) once it has ended, and this 429
    while a new stream would be refused for too many open ones (api/sse.py), with the message to show."""
    return streams_full() or jsonify({"signed_in": True, "display": current_user.is_display})
