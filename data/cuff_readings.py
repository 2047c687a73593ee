"""The newest stored cuff (NIBP) reading of each occupied bed's current stay.

A monitor sends blood pressure only with a new cuff reading, every few minutes or less often. When the live
store has lost a bed's newest values (Redis restarted, or the embedded demo's in-memory store), the screens would
show ``---``, and NEWS2 would be incomplete, until the cuff measures again although the reading is stored: the
consumer's housekeeping (``bridge.consumer.housekeeping``) and the clinical step at its start
(``bridge.clinical``) take it from here. Only readings of the current stay, and not older than ``LOOKBACK``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from data.models import Bed, BedOccupancy, VitalSample

__all__ = ["LOOKBACK", "CuffReading", "newest_cuff_readings", "open_stays"]

LOOKBACK = timedelta(hours=1)  # a monitor's longest usual cuff interval; bounds the index scan per bed


class CuffReading(NamedTuple):
    """One cuff reading: its sample time and whichever parts the cuff measured."""

    ts: datetime
    sbp: float | None
    dbp: float | None
    map: float | None


_OPEN_STAYS = (
    select(Bed.code, BedOccupancy.bed_id, BedOccupancy.since)
    .join(Bed, Bed.id == BedOccupancy.bed_id)
    .where(BedOccupancy.until.is_(None))
)
_NEWEST_CUFF = (
    select(VitalSample.ts, VitalSample.sbp, VitalSample.dbp, VitalSample.map)
    .where(
        VitalSample.bed_id == bindparam("bed_id"),
        VitalSample.ts >= bindparam("since"),
        or_(VitalSample.sbp.is_not(None), VitalSample.dbp.is_not(None), VitalSample.map.is_not(None)),
    )
    .order_by(VitalSample.ts.desc())
    .limit(1)
)


def open_stays(session: Session) -> dict[str, tuple[int, datetime]]:
    """Bed code → (bed id, since) of every occupied bed."""
    return {code: (bed_id, since) for code, bed_id, since in session.execute(_OPEN_STAYS)}


def newest_cuff_readings(
    session: Session, stays: Mapping[str, tuple[int, datetime]], now: datetime
) -> dict[str, CuffReading]:
    """Bed code → the newest cuff reading since its stay began and within ``LOOKBACK`` of ``now`` (beds without
    one are left out); ``stays`` as :func:`open_stays` gives them."""
    readings = {}
    for code, (bed_id, since) in stays.items():
        row = session.execute(_NEWEST_CUFF, {"bed_id": bed_id, "since": max(since, now - LOOKBACK)}).first()
        if row is not None:
            readings[code] = CuffReading(*row)
    return readings
