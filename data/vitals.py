"""Storing monitor samples and dead letters fast, and finding which bed a monitor is at.

* :func:`insert_samples` - batch insert into ``vital_sample`` with ``ON CONFLICT (device_id, ts, seq) DO
  NOTHING``; returns how many rows were new, so redelivered duplicates are counted, never stored twice.
  :func:`insert_samples_detailed` also says which ones were new.
* :func:`insert_dead_letters` - the messages the consumer refused: reason, topic, the first
  :data:`DEAD_LETTER_SAMPLE` bytes of the payload (marked when cut) and its size, at most
  :data:`DEAD_LETTER_ROWS_PER_KEY` rows per device and reason per batch, and every one counted in
  ``dead_letter_count`` (per device and reason), so a flood of bad messages costs a counter, not a table.
  :func:`drop_expired_dead_letters` removes rows older than the retention (the counts stay).
* :class:`DeviceDirectory` - MQTT ``device_id`` -> bed, from the open ``device_assignment`` row, cached.

Rows are plain tuples in :data:`SAMPLE_COLUMNS` order with times as epoch milliseconds (``ts``,
``received``): no ``datetime`` objects on the hot path. PostgreSQL: the batch goes as one JSON parameter,
``INSERT ... SELECT ... FROM jsonb_array_elements(...) ON CONFLICT DO NOTHING RETURNING`` (measured against
``execute_values`` and COPY into a temporary table with 500-row batches). SQLite: ``INSERT OR IGNORE``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from data.models import Bed, DeadLetter, Device, DeviceAssignment, Ward

__all__ = [
    "DEAD_LETTER_ROWS_PER_KEY",
    "DEAD_LETTER_SAMPLE",
    "SAMPLE_COLUMNS",
    "BedRef",
    "DeadLetterRow",
    "DeviceDirectory",
    "InsertResult",
    "drop_expired_dead_letters",
    "insert_dead_letters",
    "insert_samples",
    "insert_samples_detailed",
    "sample_row",
]

log = logging.getLogger(__name__)

_WARN_EVERY = 60.0  # seconds between warnings that the device directory could not reload

SAMPLE_COLUMNS = (
    "device_id",
    "ts",
    "seq",
    "bed_id",
    "received_at",
    "hr",
    "spo2",
    "rr",
    "sbp",
    "dbp",
    "map",
    "temp",
    "ecg_status",
    "spo2_status",
    "sqi_ecg",
    "sqi_spo2",
)
SampleRow = tuple  # (device_id, ts_ms, seq, bed_id, received_ms, hr, spo2, rr, sbp, dbp, map, temp, st..., sqi...)
DEAD_LETTER_SAMPLE = 512  # bytes of a refused payload kept: enough to see what was wrong
DEAD_LETTER_ROWS_PER_KEY = 20  # rows kept per (device, reason) and batch; the rest are only counted
_DETAIL_MAX = 500
_TOPIC_MAX = 256
_DEVICE_MAX = 64

_COLUMNS_SQL = ", ".join(SAMPLE_COLUMNS)
# The whole batch is one JSON array of row arrays (orjson, in C): one round trip, and about 1.5 us of client
# CPU per row where COPY's text format costs 6 and execute_values 30 (500-row batches, fsync on).
# timestamptz 'epoch' + n ms is exact integer arithmetic (to_timestamp would go through a float).
_PG_INSERT = (
    f"INSERT INTO vital_sample ({_COLUMNS_SQL}) "  # noqa: S608 - constants only
    "SELECT r->>0, timestamptz 'epoch' + (r->>1)::bigint * interval '1 millisecond', (r->>2)::bigint, "
    "(r->>3)::integer, timestamptz 'epoch' + (r->>4)::bigint * interval '1 millisecond', (r->>5)::float8, "
    "(r->>6)::float8, (r->>7)::float8, (r->>8)::float8, (r->>9)::float8, (r->>10)::float8, (r->>11)::float8, "
    "r->>12, r->>13, (r->>14)::float8, (r->>15)::float8 "
    "FROM jsonb_array_elements(%s::jsonb) AS r "
    "ON CONFLICT (device_id, ts, seq) DO NOTHING "
    "RETURNING device_id, (extract(epoch FROM ts) * 1000)::bigint, seq"
)
_SQLITE_INSERT = f"INSERT OR IGNORE INTO vital_sample ({_COLUMNS_SQL}) VALUES ({', '.join('?' * len(SAMPLE_COLUMNS))})"  # noqa: S608
_DEAD_COLUMNS = "received_at, topic, device_id, reason, detail, payload, payload_size, payload_truncated"
_SQLITE_DEAD = f"INSERT INTO dead_letter ({_DEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_PG_DEAD = (
    f"INSERT INTO dead_letter ({_DEAD_COLUMNS}) "  # noqa: S608 - constants only
    "VALUES (timestamptz 'epoch' + %s * interval '1 millisecond', %s, %s, %s, %s, %s, %s, %s)"
)
_SQLITE_DEAD_COUNT = (
    "INSERT INTO dead_letter_count (device_id, reason, count, first_at, last_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (device_id, reason) DO UPDATE SET count = dead_letter_count.count + excluded.count, "
    "last_at = max(dead_letter_count.last_at, excluded.last_at)"
)
_PG_DEAD_COUNT = (
    "INSERT INTO dead_letter_count (device_id, reason, count, first_at, last_at) VALUES (%s, %s, %s, "
    "timestamptz 'epoch' + %s * interval '1 millisecond', timestamptz 'epoch' + %s * interval '1 millisecond') "
    "ON CONFLICT (device_id, reason) DO UPDATE SET count = dead_letter_count.count + EXCLUDED.count, "
    "last_at = greatest(dead_letter_count.last_at, EXCLUDED.last_at)"
)


class InsertResult(NamedTuple):
    """``new`` rows stored; ``new_keys`` = their ``(device_id, ts, seq)``, or ``None`` when all were new."""

    new: int
    new_keys: frozenset[tuple[str, int, int]] | None


class DeadLetterRow(NamedTuple):
    """One refused message; ``received`` in epoch ms; only a sample of the payload is stored."""

    received: int
    topic: str
    device_id: str | None
    reason: str
    detail: str | None
    payload: bytes | None


def sample_row(message: Any, bed_id: int | None) -> SampleRow:
    """The row tuple for a :class:`domain.vitals_contract.VitalsMessage` at ``bed_id``."""
    m = message
    return (
        m.device_id,
        m.ts,
        m.seq,
        bed_id,
        m.received,
        m.hr,
        m.spo2,
        m.rr,
        m.sbp,
        m.dbp,
        m.map,
        m.temp,
        m.ecg_status,
        m.spo2_status,
        m.sqi_ecg,
        m.sqi_spo2,
    )


# ------------------------------------------------------------------------------------------------- helpers


def _dbapi(conn_or_session: Connection | Session | Any) -> Any:
    """The DBAPI connection behind a SQLAlchemy Session/Connection (or a DBAPI connection as is)."""
    if isinstance(conn_or_session, Session):
        conn_or_session = conn_or_session.connection()
    if isinstance(conn_or_session, Connection):
        return conn_or_session.connection.dbapi_connection
    return conn_or_session


def _ms_text(ms: int) -> str:
    """Epoch ms as the text SQLAlchemy stores for a UTC time on SQLite."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# ------------------------------------------------------------------------------------------------ samples


def insert_samples(conn_or_session: Connection | Session | Any, rows: Sequence[SampleRow]) -> int:
    """Insert ``rows`` (see :data:`SAMPLE_COLUMNS`; times in epoch ms), skipping keys already stored.

    Runs inside the caller's transaction (the caller commits). Returns how many rows were new.
    """
    return insert_samples_detailed(conn_or_session, rows).new


def insert_samples_detailed(conn_or_session: Connection | Session | Any, rows: Sequence[SampleRow]) -> InsertResult:
    """Like :func:`insert_samples`, and also which keys were new (``None`` = all of them)."""
    if not rows:
        return InsertResult(0, None)
    dbapi = _dbapi(conn_or_session)
    if isinstance(dbapi, sqlite3.Connection):
        return _insert_sqlite(dbapi, rows)
    return _insert_postgres(dbapi, rows)


def _insert_postgres(dbapi: Any, rows: Sequence[SampleRow]) -> InsertResult:
    with dbapi.cursor() as cur:
        cur.execute(_PG_INSERT, (orjson.dumps(rows).decode(),))
        new = cur.rowcount
        if new == len(rows):
            return InsertResult(new, None)
        return InsertResult(new, frozenset((d, int(t), int(s)) for d, t, s in cur.fetchall()))


def _insert_sqlite(dbapi: sqlite3.Connection, rows: Sequence[SampleRow]) -> InsertResult:
    new_keys = set()
    cur = dbapi.cursor()
    try:
        for row in rows:
            values = list(row)
            values[1] = _ms_text(row[1])
            values[4] = _ms_text(row[4])
            cur.execute(_SQLITE_INSERT, values)
            if cur.rowcount == 1:
                new_keys.add((row[0], row[1], row[2]))
    finally:
        cur.close()
    new = len(new_keys)
    return InsertResult(new, None if new == len(rows) else frozenset(new_keys))


# ------------------------------------------------------------------------------------------- dead letters


def _truncate(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit]


def insert_dead_letters(conn_or_session: Connection | Session | Any, letters: Sequence[DeadLetterRow]) -> int:
    """Count every refused message per device and reason, and store up to :data:`DEAD_LETTER_ROWS_PER_KEY` of
    each (device, reason) with a payload sample. Runs in the caller's transaction. Returns how many rows."""
    if not letters:
        return 0
    dbapi = _dbapi(conn_or_session)
    sqlite = isinstance(dbapi, sqlite3.Connection)
    values = []
    counts: dict[tuple[str, str], list[int]] = {}  # (device, reason) -> [count, first ms, last ms]
    for letter in letters:
        device = _truncate(letter.device_id, _DEVICE_MAX) or ""
        reason = _truncate(letter.reason, 64) or ""
        count = counts.setdefault((device, reason), [0, letter.received, letter.received])
        count[0] += 1
        count[1], count[2] = min(count[1], letter.received), max(count[2], letter.received)
        if count[0] > DEAD_LETTER_ROWS_PER_KEY:
            continue
        payload = letter.payload
        size = None if payload is None else len(payload)
        cut = size is not None and size > DEAD_LETTER_SAMPLE
        sample = payload[:DEAD_LETTER_SAMPLE] if cut else payload
        values.append(
            (
                _ms_text(letter.received) if sqlite else letter.received,
                _truncate(letter.topic, _TOPIC_MAX) or "",
                device or None,
                reason,
                _truncate(letter.detail, _DETAIL_MAX),
                sample if sqlite or sample is None else _binary(sample),
                size,
                cut,
            )
        )
    totals = [
        (device, reason, n, _ms_text(first) if sqlite else first, _ms_text(last) if sqlite else last)
        for (device, reason), (n, first, last) in sorted(counts.items())  # one lock order: no deadlock between writers
    ]
    cur = dbapi.cursor()
    try:
        if sqlite:
            cur.executemany(_SQLITE_DEAD, values)
            cur.executemany(_SQLITE_DEAD_COUNT, totals)
        else:
            from psycopg2.extras import execute_batch

            execute_batch(cur, _PG_DEAD, values, page_size=500)
            execute_batch(cur, _PG_DEAD_COUNT, totals, page_size=500)
    finally:
        cur.close()
    return len(values)


def drop_expired_dead_letters(engine: Engine, retention_days: int, now: datetime | None = None) -> int:
    """Delete dead-letter rows older than ``retention_days`` (their counts stay). Returns how many."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    with engine.begin() as conn:
        return conn.execute(delete(DeadLetter).where(DeadLetter.received_at < cutoff)).rowcount


def _binary(payload: bytes) -> Any:
    import psycopg2

    return psycopg2.Binary(payload)


# ---------------------------------------------------------------------------------------- device directory


@dataclass(frozen=True, slots=True)
class BedRef:
    """Where a monitor is now: the bed's code and id, its ward's code, and the pairing (the open
    ``device_assignment``'s id: a later pairing of the bed has a larger one)."""

    bed: str
    ward: str
    bed_id: int
    pairing: int


class DeviceDirectory:
    """MQTT ``device_id`` -> :class:`BedRef`, from the open ``device_assignment`` of each active device.

    The whole map is loaded in one query and kept for ``ttl`` seconds, so a monitor moved to another bed is
    picked up within ``ttl``. An unknown device triggers a reload (at most once per ``miss_interval`` seconds,
    so a flood of unknown ids cannot hammer the database). A reload that fails (database away) keeps the map
    loaded before - only a device never seen is unknown then - and is tried again after ``retry_interval``
    seconds; :attr:`failing` says so. Thread-safe.
    """

    def __init__(
        self, engine: Engine, *, ttl: float = 30.0, miss_interval: float = 1.0, retry_interval: float = 5.0
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.miss_interval = miss_interval
        self.retry_interval = retry_interval
        self._map: dict[str, BedRef] = {}
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")
        self._warned_at = float("-inf")
        self._lock = threading.Lock()
        self.reloads = 0
        self.failing = False

    def _load(self) -> dict[str, BedRef]:
        query = (
            select(Device.device_id, Bed.code, Ward.code, Bed.id, DeviceAssignment.id)
            .join(DeviceAssignment, DeviceAssignment.device_pk == Device.id)
            .join(Bed, Bed.id == DeviceAssignment.bed_id)
            .join(Ward, Ward.id == Bed.ward_id)
            .where(DeviceAssignment.until.is_(None), Device.active.is_(True))
        )
        with self.engine.connect() as conn:
            return {row[0]: BedRef(*row[1:]) for row in conn.execute(query)}

    def refresh(self) -> None:
        """Reload the map now (raises when the database is unreachable; the old map stays)."""
        try:
            fresh = self._load()
        except Exception:
            with self._lock:
                self._attempted_at = time.monotonic()
                self.failing = True
            raise
        with self._lock:
            if self.failing:
                log.info("device directory reloaded again")
            self._map = fresh
            self._loaded_at = self._attempted_at = time.monotonic()
            self.failing = False
            self.reloads += 1

    def _reload(self) -> bool:
        """:meth:`refresh`, keeping the old map when it fails (raises only when there is none)."""
        try:
            self.refresh()
        except (SQLAlchemyError, OSError) as exc:
            if not self.reloads:
                raise  # nothing loaded yet: no device can be told
            now = time.monotonic()
            if now - self._warned_at >= _WARN_EVERY:
                self._warned_at = now
                log.warning(
                    "device directory not reloaded; using the map loaded before", extra={"error": str(exc)[:300]}
                )
            return False
        return True

    def invalidate(self) -> None:
        """Forget the map's age: the next lookup reloads it."""
        with self._lock:
            self._loaded_at = self._attempted_at = float("-inf")

    def lookup(self, device_id: str) -> BedRef | None:
        """The bed of ``device_id`` or ``None`` when it is unknown (or not assigned to a bed)."""
        return self.lookup_many((device_id,)).get(device_id)

    def lookup_many(self, device_ids: Iterable[str], *, confirm_misses: bool = False) -> dict[str, BedRef]:
        """The known devices among ``device_ids`` (one reload at most). ``confirm_misses``: a device missing
        while reloads fail is asked for again now, and the database error raised - for a caller about to
        refuse it as unknown."""
        ids = set(device_ids)
        now = time.monotonic()
        retry_due = now - self._attempted_at >= self.retry_interval
        attempted = now - self._loaded_at > self.ttl and (retry_due or not self.failing)
        if attempted:
            self._reload()
        current = self._map
        found = {device_id: current[device_id] for device_id in ids if device_id in current}
        if len(found) < len(ids):
            if confirm_misses and self.failing:
                self.refresh()
            elif not attempted and (retry_due if self.failing else now - self._attempted_at > self.miss_interval):
                self._reload()
            else:
                return found
            current = self._map
            found = {device_id: current[device_id] for device_id in ids if device_id in current}
        return found
