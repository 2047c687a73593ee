"""Per-bed alarm limit overrides: read the effective limits, change them with an audit record.

A bed's own limits are its patient's (a clinician sets them for her, with a reason when widened): they are set only
while she lies in the bed, go with her when she is transferred (``carry_overrides``) and end when she leaves it
(``end_overrides``), so the next patient starts on the unit profile."""

from __future__ import annotations

import json

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from data import audit, live_keys
from data.drawn_stay import stay_drawn_for
from data.live_notify import notify
from data.live_store import LiveStore
from data.models import AlarmLimit, Bed
from data.wards import occupants, ward_kind
from domain.actor import Actor
from domain.alarm_limit_ranges import validate_overrides, widened_limits
from domain.alarms import PROFILES, Bounds, Limits, effective_limits, ward_profile
from domain.clock import utcnow


def bed_profile(session: Session, bed_id: int) -> str:
    """The alarm profile of the bed's patient (a child's on any ward), or of its ward when it is empty."""
    occupant = occupants(session, [bed_id]).get(bed_id)
    return occupant.profile if occupant else ward_profile(ward_kind(session, bed_id))


def overrides(session: Session, bed_id: int) -> dict[str, Bounds]:
    return {
        row.parameter: (row.low, row.high)
        for row in session.scalars(select(AlarmLimit).where(AlarmLimit.bed_id == bed_id))
    }


def bed_limits(session: Session, bed_id: int, profile: str | None = None) -> Limits:
    """The limits the bed's alarms run on now: its profile's (``profile`` when the caller has read it), with its
    own overrides."""
    return effective_limits(profile or bed_profile(session, bed_id), overrides(session, bed_id))


def end_overrides(session: Session, bed_id: int) -> dict[str, Bounds]:
    """Remove the bed's own limits (its patient left, or a new one arrives); returns what they were."""
    before = overrides(session, bed_id)
    if before:
        session.execute(delete(AlarmLimit).where(AlarmLimit.bed_id == bed_id))
    return before


def carry_overrides(session: Session, from_bed_id: int, to_bed_id: int) -> dict[str, Bounds]:
    """A transferred patient's own limits go with her to the bed she lies in now; returns them."""
    end_overrides(session, to_bed_id)
    carried = overrides(session, from_bed_id)
    if carried:
        session.execute(update(AlarmLimit).where(AlarmLimit.bed_id == from_bed_id).values(bed_id=to_bed_id))
    return carried


def beds_with_custom_limits(session: Session, ward_id: int) -> set[str]:
    """Codes of the ward's beds that have any per-bed override (the ward station marks them)."""
    query = select(Bed.code).join(AlarmLimit, AlarmLimit.bed_id == Bed.id).where(Bed.ward_id == ward_id).distinct()
    return set(session.scalars(query))


def publish_limits_changed(live: LiveStore, ward: str, bed_code: str, *, custom: bool) -> bool:
    """After the commit: the alarm pipeline reloads the bed's limits; the ward station marks or unmarks its tile.
    False when they could not be told now (``data.live_notify``)."""
    return notify(
        live,
        [
            (live_keys.CONTROL_CHANNEL, live_keys.control_message("limits", bed_code)),
            (live_keys.ward_channel(ward), json.dumps({"t": "l", "bed": bed_code, "custom": custom})),
        ],
    )


def limits_view(session: Session, bed_id: int) -> tuple[str, Limits, dict[str, Bounds]]:
    """(profile name, the profile's limits, this bed's overrides)."""
    profile = bed_profile(session, bed_id)
    return profile, PROFILES[profile], overrides(session, bed_id)


def set_overrides(
    session: Session,
    actor: Actor,
    bed_id: int,
    wanted: dict[str, Bounds],
    *,
    admission_id: int | None,
    reason: str | None = None,
) -> bool:
    """Replace the bed's overrides (a parameter with both sides None has none) for the patient of stay
    ``admission_id`` lying in it; audited. False when unchanged.

    Every caller goes through here, so every route gets the same checks: a patient in the bed, the one the form
    was drawn for (``bed_err_other_patient``: never set for the next one), each limit inside its adjustable range
    (``domain.alarm_limit_ranges``), and a reason whenever a limit is widened past the unit profile. Raises
    ``InputError`` (``LimitsRefused`` and ``ReasonRequired`` among them) and saves nothing then."""
    stay_drawn_for(session, bed_id, admission_id, empty_key="limits_err_no_patient")
    cleaned = {p: b for p, b in wanted.items() if b[0] is not None or b[1] is not None}
    profile = bed_profile(session, bed_id)
    text = validate_overrides(PROFILES[profile], cleaned, reason)
    cleaned = {p: (_float(lo), _float(hi)) for p, (lo, hi) in cleaned.items()}
    before = overrides(session, bed_id)
    if before == cleaned:
        return False
    session.execute(delete(AlarmLimit).where(AlarmLimit.bed_id == bed_id))
    for parameter, (low, high) in cleaned.items():
        session.add(
            AlarmLimit(
                bed_id=bed_id, parameter=parameter, low=low, high=high, updated_by=actor.user_id, updated_at=utcnow()
            )
        )
    detail: dict[str, object] = {
        "before": {k: list(v) for k, v in before.items()},
        "after": {k: list(v) for k, v in cleaned.items()},
    }
    widened = widened_limits(PROFILES[profile], cleaned)
    if widened:
        detail |= {"widened": [f"{p}_{side}" for p, side in widened], "reason": text}
    audit.record_by(session, actor, "alarm_limits_changed", target_type="bed", target_id=bed_id, detail=detail)
    return True


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)
