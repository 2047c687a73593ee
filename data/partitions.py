"""Upkeep of the vitals tables: day partitions, retention and the 1-minute rollups.

* :func:`ensure_partitions` creates ``vital_sample_YYYYMMDD`` (UTC days) ahead of time on PostgreSQL; rows
  that already landed in ``vital_sample_default`` for such a day are moved into the new partition. Safe with
  several consumers at once (a transaction-level advisory lock serialises them, and a lost race is tolerated).
* :func:`drop_expired` detaches and drops day partitions older than the retention (SQLite: deletes the rows).
* :func:`refresh_rollups` upserts ``vital_rollup_1m`` (per bed and minute: count, mean, min, max) from the raw
  samples of the closed minutes since a given time.

Every value reaches SQL as a bound parameter; the only SQL built from text is partition DDL, whose names and
bounds come from :class:`datetime.date` objects and are checked against a strict pattern.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

__all__ = ["drop_expired", "ensure_partitions", "list_partitions", "partition_name", "refresh_rollups"]

log = logging.getLogger(__name__)

PARENT = "vital_sample"
DEFAULT_PARTITION = "vital_sample_default"
_NAME = re.compile(r"^vital_sample_(\d{8})$")
# pg_advisory_xact_lock key shared by every process that changes vital_sample's partitions ("pantau-vs").
_LOCK_KEY = 0x70616E74_61757673 & 0x7FFF_FFFF_FFFF_FFFF


def partition_name(day: date) -> str:
    """``vital_sample_YYYYMMDD`` for a UTC day."""
    if type(day) is not date:  # a datetime is a date too; refuse it so the name is exactly the day
        raise TypeError("partition_name needs a datetime.date")
    name = f"{PARENT}_{day:%Y%m%d}"
    if not _NAME.match(name):  # pragma: no cover - guaranteed by the format, checked anyway
        raise ValueError(f"bad partition name {name!r}")
    return name


def _bound(day: date) -> str:
    """A partition bound literal for midnight UTC of ``day`` (built from the date only)."""
    return f"'{day.isoformat()} 00:00:00+00'"


def _today() -> date:
    return datetime.now(UTC).date()


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def list_partitions(engine: Engine) -> dict[str, date]:
    """The day partitions of ``vital_sample`` that exist now: name -> day (PostgreSQL; ``{}`` on SQLite)."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        return _existing(conn)


def _existing(conn: Connection) -> dict[str, date]:
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent"
        ),
        {"parent": PARENT},
    ).scalars()
    found = {}
    for name in rows:
        match = _NAME.match(name)
        if match:
            found[name] = datetime.strptime(match.group(1), "%Y%m%d").date()
    return found


def ensure_partitions(engine: Engine, days_ahead: int = 2, today: date | None = None) -> list[str]:
    """Create the day partitions for ``today`` .. ``today + days_ahead`` (UTC) that are missing.

    Returns the names created by this call. No-op (``[]``) on SQLite. Idempotent; two processes may call it at
    the same time.
    """
    if engine.dialect.name != "postgresql":
        return []
    if days_ahead < 0:
        raise ValueError("days_ahead must be >= 0")
    first = today or _today()
    created = []
    for offset in range(days_ahead + 1):
        day = first + timedelta(days=offset)
        try:
            if _ensure_one(engine, day):
                created.append(partition_name(day))
        except DBAPIError as exc:
            # Someone else created it between our check and our CREATE (or a lock timed out): fine if it is there.
            if partition_name(day) in list_partitions(engine):
                continue
            raise RuntimeError(f"could not create partition {partition_name(day)}: {exc.orig}") from exc
    if created:
        log.info("vital_sample partitions created", extra={"partitions": created})
    return created


def _ensure_one(engine: Engine, day: date) -> bool:
    name = partition_name(day)
    low, high = _bound(day), _bound(day + timedelta(days=1))
    with engine.begin() as conn:
        if name in _existing(conn):
            return False
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        if name in _existing(conn):  # created while we waited for the lock
            return False
        stray = conn.execute(
            text(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} WHERE ts >= :low AND ts < :high)"),  # noqa: S608
            {"low": _midnight(day), "high": _midnight(day + timedelta(days=1))},
        ).scalar()
        if not stray:
            conn.execute(
                text(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {PARENT} FOR VALUES FROM ({low}) TO ({high})")
            )
            return True
        # Rows of that day already sit in the default partition: attaching would fail, so move them first.
        conn.execute(text(f"LOCK TABLE {DEFAULT_PARTITION} IN SHARE ROW EXCLUSIVE MODE"))
        conn.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
        conn.execute(
            text(
                f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE ts >= :low AND ts < :high RETURNING *) "  # noqa: S608
                f"INSERT INTO {name} SELECT * FROM moved"
            ),
            {"low": _midnight(day), "high": _midnight(day + timedelta(days=1))},
        )
        conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"))
        log.info("rows moved from the default partition", extra={"partition": name})
        return True


def drop_expired(engine: Engine, retention_days: int, today: date | None = None) -> list[str]:
    """Drop raw samples older than ``retention_days`` (whole days, UTC); rollups are kept.

    PostgreSQL: detach and drop every day partition that ends on or before the cutoff, and delete older rows
    from the default partition. SQLite: delete the rows. Returns the partitions dropped.
    """
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff_day = (today or _today()) - timedelta(days=retention_days)
    cutoff = _midnight(cutoff_day)
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM vital_sample WHERE ts < :cutoff"), {"cutoff": _sqlite_time(cutoff)})
        return []
    dropped = []
    for name, day in sorted(list_partitions(engine).items(), key=lambda item: item[1]):
        if day >= cutoff_day:
            continue
        if partition_name(day) != name:  # pragma: no cover - _existing only yields matching names
            continue
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            if name not in _existing(conn):
                continue  # another consumer dropped it
            conn.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
            conn.execute(text(f"DROP TABLE {name}"))
        dropped.append(name)
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {DEFAULT_PARTITION} WHERE ts < :cutoff"), {"cutoff": cutoff})  # noqa: S608
    if dropped:
        log.info("expired vital_sample partitions dropped", extra={"partitions": dropped})
    return dropped


_ROLLUP_COLUMNS = "n, hr_avg, hr_min, hr_max, spo2_avg, spo2_min, rr_avg, sbp_avg, dbp_avg, map_avg, temp_avg"
_ROLLUP_AGGREGATES = (
    "count(*), avg(hr), min(hr), max(hr), avg(spo2), min(spo2), avg(rr), avg(sbp), avg(dbp), avg(map), avg(temp)"
)
_ROLLUP_UPDATE = ", ".join(
    f"{column} = excluded.{column}" for column in (c.strip() for c in _ROLLUP_COLUMNS.split(","))
)

_ROLLUP_PG = text(
    f"INSERT INTO vital_rollup_1m (bed_id, minute, {_ROLLUP_COLUMNS}) "  # noqa: S608 - constants only
    f"SELECT bed_id, date_trunc('minute', ts) AS minute, {_ROLLUP_AGGREGATES} FROM vital_sample "
    "WHERE ts >= :low AND ts < :high AND bed_id IS NOT NULL "
    "GROUP BY bed_id, date_trunc('minute', ts) "
    f"ON CONFLICT (bed_id, minute) DO UPDATE SET {_ROLLUP_UPDATE}"
)
# SQLite keeps SQLAlchemy's text form of times ('2026-11-23 10:15:42.123000'): the minute is the same text
# with the seconds zeroed, so rollup rows read back like any other stored time.
_ROLLUP_SQLITE = text(
    f"INSERT INTO vital_rollup_1m (bed_id, minute, {_ROLLUP_COLUMNS}) "  # noqa: S608 - constants only
    f"SELECT bed_id, strftime('%Y-%m-%d %H:%M:00.000000', ts) AS minute, {_ROLLUP_AGGREGATES} FROM vital_sample "
    "WHERE ts >= :low AND ts < :high AND bed_id IS NOT NULL "
    "GROUP BY bed_id, strftime('%Y-%m-%d %H:%M:00.000000', ts) "
    f"ON CONFLICT (bed_id, minute) DO UPDATE SET {_ROLLUP_UPDATE}"
)


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy stores for a UTC time on SQLite (what ``vital_sample.ts`` holds there)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _minute(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass aware UTC times")
    return value.astimezone(UTC).replace(second=0, microsecond=0)


def refresh_rollups(engine: Engine, since: datetime, until: datetime | None = None) -> int:
    """Upsert the rollups of every closed minute from ``since``'s minute up to ``until`` (default now).

    The minute in progress is left out (it is not closed); re-running over the same minutes recomputes them,
    so late samples are folded in. Returns the number of (bed, minute) rows written.
    """
    low = _minute(since)
    high = _minute(until or datetime.now(UTC))
    if high <= low:
        return 0
    statement = _ROLLUP_PG if engine.dialect.name == "postgresql" else _ROLLUP_SQLITE
    params: dict[str, object] = {"low": low, "high": high}
    if engine.dialect.name != "postgresql":
        params = {key: _sqlite_time(value) for key, value in params.items()}  # text compared with text
    with engine.begin() as conn:
        result = conn.execute(statement, params)
        return max(result.rowcount or 0, 0)
