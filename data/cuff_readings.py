"""The newest stored cuff (NIBP) reading of each occupied bed's current stay.

A monitor sends blood pressure only with a new cuff reading, every few minutes or less often. When the live
store has lost a bed's newest values (Redis restarted, or the embedded demo's in-memory store), the screens would
show ``---``, and NEWS2 would be incomplete, until the cuff measures again although the reading is stored: the
consumer's housekeeping (``bridge.consumer.housekeeping``) and the clinical step at its start
(``bridge.clinical``) take it from here. Only readings of the current stay, and not older than ``LOOKBACK``.

The stay is the admission, not the bed: a patient transferred to another bed keeps the reading taken on the bed she
left (:func:`carried_cuff_readings`; that bed's ``bed_occupancy`` row bounds which of its samples are hers). The
live store knows only each bed's own readings, so her tile (``components.bed_tile``) and her NEWS2
(``bridge.clinical``) take it from here until the cuff measures again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from data.models import Bed, BedOccupancy, VitalSample

__all__ = [
    "LOOKBACK",
    "CuffReading",
    "Stay",
    "carried_cuff_readings",
    "newest_cuff_readings",
    "open_stays",
    "stay_cuff_readings",
]

LOOKBACK = timedelta(hours=1)  # a monitor's longest usual cuff interval; bounds the index scan per bed
AHEAD = timedelta(days=1)  # past the newest sample time of a bed still occupied (a monitor's clock may run ahead)


class CuffReading(NamedTuple):
    """One cuff reading: its sample time, whichever parts the cuff measured, and when the server received it."""

    ts: datetime
    sbp: float | None
    dbp: float | None
    map: float | None
    received: datetime


class Stay(NamedTuple):
    """An occupied bed's open ``bed_occupancy`` row: the bed and since when."""

    bed_id: int
    since: datetime


_OPEN_STAYS = (
    select(Bed.code, BedOccupancy.bed_id, BedOccupancy.since)
    .join(Bed, Bed.id == BedOccupancy.bed_id)
    .where(BedOccupancy.until.is_(None))
)
_NEWEST_CUFF = (
    select(VitalSample.ts, VitalSample.sbp, VitalSample.dbp, VitalSample.map, VitalSample.received_at)
    .where(
        VitalSample.bed_id == bindparam("bed_id"),
        VitalSample.ts >= bindparam("since"),
        VitalSample.ts < bindparam("until"),
        or_(VitalSample.sbp.is_not(None), VitalSample.dbp.is_not(None), VitalSample.map.is_not(None)),
    )
    .order_by(VitalSample.ts.desc())
    .limit(1)
)
_current, _earlier = aliased(BedOccupancy), aliased(BedOccupancy)
# The beds each open stay's admission lay in before, those left within the look-back (usually none).
_EARLIER_BEDS = (
    select(_current.bed_id, _earlier.bed_id, _earlier.since, _earlier.until)
    .join(_earlier, and_(_earlier.admission_id == _current.admission_id, _earlier.id != _current.id))
    .where(
        _current.bed_id.in_(bindparam("beds", expanding=True)),
        _current.until.is_(None),
        _earlier.until >= bindparam("after"),
    )
)


def open_stays(session: Session) -> dict[str, Stay]:
    """Bed code → the current stay of every occupied bed."""
    return {code: Stay(bed_id, since) for code, bed_id, since in session.execute(_OPEN_STAYS)}


def _newest(session: Session, bed_id: int, since: datetime, until: datetime) -> CuffReading | None:
    row = session.execute(_NEWEST_CUFF, {"bed_id": bed_id, "since": since, "until": until}).first()
    return None if row is None else CuffReading(*row)


def _newer(a: CuffReading | None, b: CuffReading | None) -> CuffReading | None:
    """The reading the server received later (two monitors' clocks cannot be compared)."""
    return b if a is None or (b is not None and b.received > a.received) else a


def newest_cuff_readings(session: Session, stays: Mapping[str, Stay], now: datetime) -> dict[str, CuffReading]:
    """Bed code → the newest cuff reading taken on the bed since its stay began and within ``LOOKBACK`` of ``now``
    (beds without one are left out); ``stays`` as :func:`open_stays` gives them."""
    readings = {}
    for code, (bed_id, since) in stays.items():
        reading = _newest(session, bed_id, max(since, now - LOOKBACK), now + AHEAD)
        if reading is not None:
            readings[code] = reading
    return readings


def carried_cuff_readings(session: Session, bed_ids: Collection[int], now: datetime) -> dict[int, CuffReading]:
    """Bed id (of ``bed_ids``) → the newest cuff reading its patient brought along: taken within ``LOOKBACK`` of
    ``now`` on a bed her admission lay in before this one, while she lay there."""
    if not bed_ids:
        return {}
    readings: dict[int, CuffReading | None] = {}
    after = now - LOOKBACK
    for bed, earlier, since, until in session.execute(_EARLIER_BEDS, {"beds": list(bed_ids), "after": after}):
        readings[bed] = _newer(readings.get(bed), _newest(session, earlier, max(since, after), until))
    return {bed: reading for bed, reading in readings.items() if reading is not None}


def stay_cuff_readings(session: Session, stays: Mapping[str, Stay], now: datetime) -> dict[str, CuffReading]:
    """Bed code → the newest cuff reading of its patient's stay: on this bed or, within ``LOOKBACK``, on one she
    was transferred from."""
    own = newest_cuff_readings(session, stays, now)
    carried = carried_cuff_readings(session, [stay.bed_id for stay in stays.values()], now)
    return {
        code: reading
        for code, stay in stays.items()
        if (reading := _newer(own.get(code), carried.get(stay.bed_id))) is not None
    }
