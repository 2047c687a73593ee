"""A ward station acknowledging a bed's alarm: the open episodes of that condition are marked, and audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from data import audit
from data.models import AlarmEvent
from data.wards import BedView
from domain.actor import Actor


def acknowledge_alarm(session: Session, actor: Actor, bed: BedView, condition: str, where: str, now: datetime) -> int:
    """Mark the bed's open, unacknowledged ``condition`` alarms as acknowledged by ``actor`` at ``where`` (the
    station); audited. Returns how many episodes were acknowledged (0 when none was open)."""
    changed = session.execute(
        update(AlarmEvent)
        .where(
            AlarmEvent.bed_id == bed.id,
            AlarmEvent.condition == condition,
            AlarmEvent.acknowledged_at.is_(None),
            AlarmEvent.ended_at.is_(None),
        )
        .values(acknowledged_at=now, acknowledged_by=actor.user_id, acknowledged_where=where)
    ).rowcount
    audit.record_by(
        session, actor, "alarm_acknowledged", target_type="bed", target_id=bed.code, detail={"condition": condition}
    )
    return changed
