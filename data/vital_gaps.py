"""Storage of sequence gaps (``vital_gap``): runs of ``seq`` numbers missing from a monitor's stream.

The consumer's :mod:`bridge.sequence_gaps` keeps the open gaps in memory and saves what changed here; on a
restart it reloads the open gaps and the newest stored sample of each device. Times are epoch milliseconds in
:class:`GapRecord` (as in the MQTT contract) and aware UTC datetimes in the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from data.models import VitalGap, VitalSample

__all__ = [
    "CLOSED",
    "OPEN",
    "GapRecord",
    "drop_closed",
    "latest_samples",
    "load_open",
    "save",
    "stored_seqs",
]

OPEN = ("open", "requested")
CLOSED = ("filled", "unfillable")


@dataclass(slots=True, eq=False)
class GapRecord:
    """One ``vital_gap`` row; ``from_ts``/``to_ts`` are the device times around the missing run (epoch ms).
    ``id`` is ``None`` until the row is inserted. Compared by identity (a record is one row)."""

    device_id: str
    bed_id: int | None
    from_seq: int
    to_seq: int
    from_ts: int
    to_ts: int
    detected_at: int
    state: str = "open"
    attempts: int = 0
    requested_at: int | None = None
    closed_at: int | None = None
    id: int | None = None

    @property
    def size(self) -> int:
        """How many ``seq`` numbers are missing."""
        return self.to_seq - self.from_seq + 1

    @property
    def closed(self) -> bool:
        return self.state in CLOSED


def _dt(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _ms(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite through a plain select: stored as UTC
        value = value.replace(tzinfo=UTC)
    return round(value.timestamp() * 1000)


def _values(record: GapRecord) -> dict:
    return {
        "device_id": record.device_id,
        "bed_id": record.bed_id,
        "from_seq": record.from_seq,
        "to_seq": record.to_seq,
        "from_ts": _dt(record.from_ts),
        "to_ts": _dt(record.to_ts),
        "state": record.state,
        "attempts": record.attempts,
        "detected_at": _dt(record.detected_at),
        "requested_at": _dt(record.requested_at),
        "closed_at": _dt(record.closed_at),
    }


def save(conn: Connection, records: Iterable[GapRecord]) -> dict[GapRecord, int]:
    """Insert the new records and update the others, in the caller's transaction. Returns the ids given to
    the inserted ones (the caller sets them, so a record changed meanwhile is not lost)."""
    inserted: dict[GapRecord, int] = {}
    for record in records:
        if record.id is None:
            inserted[record] = conn.execute(
                insert(VitalGap).values(_values(record)).returning(VitalGap.id)
            ).scalar_one()
        else:
            conn.execute(update(VitalGap).where(VitalGap.id == record.id).values(_values(record)))
    return inserted


def load_open(engine: Engine) -> list[GapRecord]:
    """Every gap still open or requested, oldest first."""
    with Session(engine) as session:
        rows = session.scalars(
            select(VitalGap).where(VitalGap.state.in_(OPEN)).order_by(VitalGap.device_id, VitalGap.from_seq)
        )
        return [
            GapRecord(
                device_id=g.device_id,
                bed_id=g.bed_id,
                from_seq=g.from_seq,
                to_seq=g.to_seq,
                from_ts=_ms(g.from_ts),
                to_ts=_ms(g.to_ts),
                detected_at=_ms(g.detected_at),
                state=g.state,
                attempts=g.attempts,
                requested_at=_ms(g.requested_at),
                closed_at=_ms(g.closed_at),
                id=g.id,
            )
            for g in rows
        ]


def latest_samples(engine: Engine, since_ms: int, received_before_ms: int) -> list[tuple[str, int, int]]:
    """``(device_id, seq, ts)`` of each device's newest sample with ``ts >= since_ms`` that was received before
    ``received_before_ms`` (so a restarted consumer starts from what its predecessor stored)."""
    ranked = (
        select(
            VitalSample.device_id,
            VitalSample.seq,
            VitalSample.ts,
            func.row_number()
            .over(partition_by=VitalSample.device_id, order_by=(VitalSample.ts.desc(), VitalSample.seq.desc()))
            .label("n"),
        )
        .where(VitalSample.ts >= _dt(since_ms), VitalSample.received_at < _dt(received_before_ms))
        .subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(select(ranked.c.device_id, ranked.c.seq, ranked.c.ts).where(ranked.c.n == 1)).all()
    return [(device_id, int(seq), _ms(ts)) for device_id, seq, ts in rows]


def stored_seqs(engine: Engine, device_id: str, ranges: Sequence[tuple[int, int, int, int]]) -> list[tuple[int, int]]:
    """``(seq, ts)`` of the device's stored samples inside any of ``ranges``: ``(from_seq, to_seq, from_ts,
    to_ts)``, all inclusive, times in epoch ms."""
    if not ranges:
        return []
    inside = [
        and_(
            VitalSample.seq >= from_seq,
            VitalSample.seq <= to_seq,
            VitalSample.ts >= _dt(from_ts),
            VitalSample.ts <= _dt(to_ts),
        )
        for from_seq, to_seq, from_ts, to_ts in ranges
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            select(VitalSample.seq, VitalSample.ts).where(VitalSample.device_id == device_id, or_(*inside))
        ).all()
    return [(int(seq), _ms(ts)) for seq, ts in rows]


def drop_closed(engine: Engine, before: datetime) -> int:
    """Delete closed gaps (filled or unfillable) whose missing run ended before ``before``; the count."""
    with engine.begin() as conn:
        result = conn.execute(delete(VitalGap).where(VitalGap.state.in_(CLOSED), VitalGap.to_ts < before))
    return result.rowcount or 0
