"""Alarm actions from a ward station: acknowledge an alarm, pause a bed's audio. JSON only (a cross-site page
cannot send it without a CORS preflight, which Pantau never grants); each action is audited."""

from __future__ import annotations

import json

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from api.live import WARD_ROLES
from auth.guards import roles_required
from auth.session import audit_signed_in, current_actor
from data import live_keys
from data.alarm_acknowledgements import acknowledge_alarm
from data.live_notify import notify
from data.runtime import current_runtime
from data.wards import BedView, bed_by_code
from domain.clock import epoch_ms, now_ms, utcnow

bp = Blueprint("alarms", __name__, url_prefix="/api/beds")
PAUSE_SECONDS = (30, 300)
DEFAULT_PAUSE_SECONDS = 120


def _bed(code: str) -> BedView:
    if not request.is_json:
        abort(415)
    with current_runtime().db.session() as session:
        bed = bed_by_code(session, current_user.site_id, code)
    if bed is None:
        abort(404)
    return bed


def _where(bed: BedView) -> str:
    return f"{bed.ward}@{request.remote_addr}"[:64]


@bp.post("/<code>/alarms/ack")
@roles_required(*WARD_ROLES)
def acknowledge(code: str) -> ResponseReturnValue:
    bed = _bed(code)
    condition = str((request.get_json(silent=True) or {}).get("condition", ""))[:32]
    if not condition:
        return jsonify({"error": "condition"}), 400
    now = utcnow()
    with current_runtime().db.session() as session:
        changed = acknowledge_alarm(session, current_actor(), bed, condition, _where(bed), now)
    message = live_keys.control_message(
        "ack",
        bed.code,
        condition=condition,
        by=current_user.username,
        by_id=current_user.id,
        where=_where(bed),
        at=epoch_ms(now),
    )
    # Stored: with the live store away the clinical step takes it over from the database (sync_acknowledgements).
    notify(current_runtime().live, [(live_keys.CONTROL_CHANNEL, message)])
    return jsonify({"ok": True, "acknowledged": changed})


@bp.post("/<code>/alarms/pause")
@roles_required(*WARD_ROLES)
def pause_audio(code: str) -> ResponseReturnValue:
    bed = _bed(code)
    seconds = (request.get_json(silent=True) or {}).get("seconds", DEFAULT_PAUSE_SECONDS)
    if not isinstance(seconds, int) or not PAUSE_SECONDS[0] <= seconds <= PAUSE_SECONDS[1]:
        return jsonify({"error": "seconds", "allowed": PAUSE_SECONDS}), 400
    until = now_ms() + seconds * 1000
    live = current_runtime().live
    live.set_latest(live_keys.audio_pause(bed.code), {"until": until, "by": current_user.username})
    live.publish(
        live_keys.ward_channel(bed.ward),
        json.dumps({"t": "p", "bed": bed.code, "until": until, "by": current_user.username}),
    )
    with current_runtime().db.session() as session:
        audit_signed_in(
            session, "alarm_audio_paused", target_type="bed", target_id=bed.code, detail={"seconds": seconds}
        )
    return jsonify({"ok": True, "until": until})
