"""Push, not poll: a signed-in server-sent-events stream per ward, fed by the live store's ward channel.

On connect the browser gets one ``snapshot`` event (every bed's newest values, active alarms and audio pauses,
plus the server clock); after that only the consumer's small per-bed messages (docs/live-data.md). The stream
ends after ``STREAM_SECONDS`` so the browser reconnects and the access check runs again."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort
from flask_login import current_user

from api.sse import sse_response
from auth.guards import roles_required
from data.runtime import current_runtime
from data.wards import find_ward, ward_beds

bp = Blueprint("live", __name__)
WARD_ROLES = ("nurse", "doctor", "admin")
STREAM_SECONDS = 300
KEEPALIVE_SECONDS = 15
SPARK_MS = 120_000  # the tiles' heart-rate sparkline window, as in assets/ward.js


def ward_snapshot(ward: str, bed_codes: list[str]) -> dict:
    live = current_runtime().live
    latest = live.get_latest_many([f"pantau:latest:{b}" for b in bed_codes])
    pauses = live.get_latest_many([f"pantau:pause:{b}" for b in bed_codes])
    alarms = live.get_latest(f"pantau:alarms:{ward}")
    now = int(time.time() * 1000)
    since = f"{now - SPARK_MS}-0"  # stream ids start with the server's epoch ms
    series = {
        b: [
            [int(entry_id.split("-")[0]), float(f["hr"])]
            for entry_id, f in live.read_stream(f"pantau:vitals:{b}", since)
            if "hr" in f
        ]
        for b in bed_codes
    }
    return {
        "now": now,
        "series": series,
        "beds": {b: latest.get(f"pantau:latest:{b}", {}) for b in bed_codes},
        "alarms": {b: json.loads(v) for b, v in alarms.items()},
        "pauses": {b: int(p["until"]) for b in bed_codes if (p := pauses.get(f"pantau:pause:{b}")) and "until" in p},
    }


@bp.route("/stream/ward/<ward>")
@roles_required(*WARD_ROLES)
def ward_stream(ward: str) -> Response:
    runtime = current_runtime()
    with runtime.db.session() as session:
        found = find_ward(session, current_user.site_id, ward)
        if found is None:
            abort(404)
        beds = [b.code for b in ward_beds(session, found.id)]
    subscription = runtime.live.subscribe(f"pantau:ward:{ward}")  # before the snapshot: nothing falls between

    def events() -> Iterator[str]:
        try:
            yield "retry: 2000\n\n"
            yield f"event: snapshot\ndata: {json.dumps(ward_snapshot(ward, beds), separators=(',', ':'))}\n\n"
            deadline = time.monotonic() + STREAM_SECONDS
            while time.monotonic() < deadline:
                message = subscription.get(timeout=KEEPALIVE_SECONDS)
                yield ": keepalive\n\n" if message is None else f"data: {message[1]}\n\n"
        finally:
            subscription.close()

    return sse_response(events())
