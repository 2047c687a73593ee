"""Push, not poll: a signed-in server-sent-events stream per ward, fed by the live store's ward channel.

On connect the browser gets one ``snapshot`` event (every bed's newest values, active alarms, audio pauses, the
beds with changed alarm limits, the server clock and the site's time zone); after that the consumer's small
per-bed messages (docs/live-data.md), and a ``heartbeat`` whenever the ward is quiet (api/sse.py). The stream
ends after ``Settings.live_stream_seconds``, and at once when the live store stops answering, so the browser
reconnects, the access check runs again and the screen starts from a fresh snapshot.

``/stream/session`` tells a screen whose stream failed whether its session has ended (401), it holds too many
streams (429) or the server is only away (no answer, 5xx): assets/live_stream.js shows "signed out", shows the
refusal and asks again later, or reconnects."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort, jsonify
from flask_login import current_user

from api.sse import HEARTBEAT_SECONDS, counted_stream, heartbeat, sse_event, sse_response, stream_seconds, streams_full
from auth.guards import roles_required
from auth.users import usernames
from data import live_keys
from data.alarm_limits import beds_with_custom_limits
from data.live_store import LiveStoreError, Subscription
from data.runtime import current_runtime
from data.schedules import site_zone
from data.wards import find_ward, ward_beds

log = logging.getLogger(__name__)
bp = Blueprint("live", __name__)
WARD_ROLES = ("nurse", "doctor", "admin")  # who acts on a ward's alarms (api/alarms.py checks these)
VIEW_ROLES = (*WARD_ROLES, "display")  # a ward station on a wall watches, read-only
SPARK_MS = 120_000  # the tiles' heart-rate sparkline window, as in assets/ward.js


def ward_snapshot(ward: str, bed_codes: list[str]) -> dict:
    """Everything a ward screen shows, read from the live store (raises ``LiveStoreError`` when it is away)."""
    live = current_runtime().live
    latest = live.get_latest_many([live_keys.latest(b) for b in bed_codes])
    pauses = live.get_latest_many([live_keys.audio_pause(b) for b in bed_codes])
    alarms = live.get_latest(live_keys.ward_alarms(ward))
    now = int(time.time() * 1000)
    since = f"{now - SPARK_MS}-0"  # stream ids start with the server's epoch ms
    series = {
        b: [
            [int(entry_id.split("-")[0]), float(f["hr"])]
            for entry_id, f in live.read_stream(live_keys.vitals_stream(b), since)
            if "hr" in f
        ]
        for b in bed_codes
    }
    return {
        "now": now,
        "series": series,
        "beds": {b: latest.get(live_keys.latest(b), {}) for b in bed_codes},
        "alarms": {b: json.loads(v) for b, v in alarms.items()},
        "pauses": {
            b: int(p["until"]) for b in bed_codes if (p := pauses.get(live_keys.audio_pause(b))) and "until" in p
        },
    }


class AckNames:
    """Who acknowledged an alarm, as the station shows it: the clinical step records the user's id (the journal's
    key), the screen shows the username; looked up once per stream."""

    def __init__(self) -> None:
        self.known: dict[int, str] = {}

    def alarms(self, alarms: list[dict]) -> list[dict]:
        ids = {a["ack_by"] for a in alarms if isinstance(a.get("ack_by"), int)} - self.known.keys()
        if ids:
            with current_runtime().db.session() as session:
                self.known |= usernames(session, ids)
        return [
            a | {"ack_by": self.known.get(a["ack_by"], "")} if isinstance(a.get("ack_by"), int) else a for a in alarms
        ]

    def message(self, raw: str) -> str:
        """A ward channel message with names in place of ids (only alarm messages carry ``ack_by``)."""
        if '"ack_by"' not in raw:
            return raw
        message = json.loads(raw)
        message["alarms"] = self.alarms(message.get("alarms") or [])
        return json.dumps(message, separators=(",", ":"))


def _ward_events(subscription: Subscription, snapshot: dict, names: AckNames) -> Iterator[str]:
    """The snapshot, then the ward's messages, a heartbeat in quiet spells; ends when the live store is away."""
    runtime = current_runtime()
    try:
        yield "retry: 2000\n\n"
        yield sse_event("snapshot", snapshot)
        deadline = time.monotonic() + stream_seconds()
        while time.monotonic() < deadline:
            message = subscription.get(timeout=HEARTBEAT_SECONDS)
            if message is not None:
                yield f"data: {names.message(message[1])}\n\n"
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
        found = find_ward(session, current_user.site_id, ward)
        if found is None:
            abort(404)
        beds = [b.code for b in ward_beds(session, found.id)]
        custom = sorted(beds_with_custom_limits(session, found.id))
        zone = site_zone(session, current_user.site_id).key
    try:
        subscription = runtime.live.subscribe(live_keys.ward_channel(ward))  # before the snapshot: none lost
    except LiveStoreError:
        log.warning("ward stream: live store unavailable")
        return Response("live store unavailable", status=503, headers={"Retry-After": "5"})
    try:
        snapshot = ward_snapshot(ward, beds)
    except LiveStoreError:
        subscription.close()
        log.warning("ward stream: live store unavailable")
        return Response("live store unavailable", status=503, headers={"Retry-After": "5"})
    names = AckNames()
    snapshot |= {
        "alarms": {bed: names.alarms(alarms) for bed, alarms in snapshot["alarms"].items()},
        "custom_limits": custom,
        "tz": zone,
        "can_act": bool(current_user.roles & set(WARD_ROLES)),
    }
    return sse_response(_ward_events(subscription, snapshot, names))


@bp.route("/stream/session")
def stream_session() -> Response:
    """200 while the session is signed in; the request guard answers 401 (JSON) once it has ended, and this 429
    while a new stream would be refused for too many open ones (api/sse.py), with the message to show."""
    return streams_full() or jsonify({"signed_in": True, "display": current_user.is_display})
