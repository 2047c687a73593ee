"""The consumer's housekeeping thread: partitions ahead, rollups, retention, cuff readings the live store lost and
the midnight census (at start and every ``maintenance_interval`` seconds), and a JSON snapshot of the counters in
the live store every ``snapshot_interval`` seconds (the health page reads it)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

import orjson

from bridge.background_thread import BackgroundThread
from bridge.consumer.metrics import ConsumerMetrics
from bridge.consumer.throttled_log import ThrottledLog
from data import live_keys, partitions, vital_gaps
from data.census import census_through_yesterday
from data.cuff_readings import Stay, newest_cuff_readings, open_stays
from data.db import Database
from data.live_store import LiveStore, LiveStoreError
from data.vitals import drop_expired_dead_letters
from domain.clock import epoch_ms, utcnow

__all__ = ["Housekeeping"]

log = logging.getLogger(__name__)


class Housekeeping:
    """One thread from :meth:`start` until :meth:`stop`; :meth:`run_maintenance` and :meth:`write_snapshot`
    may also be called by hand."""

    def __init__(
        self,
        db: Database,
        live: LiveStore,
        metrics: ConsumerMetrics,
        pending: Callable[[], int],
        *,
        retention_days: int,
        dead_letter_retention_days: int,
        maintenance_interval: float,
        snapshot_interval: float,
    ) -> None:
        self.db = db
        self.live = live
        self.metrics = metrics
        self.pending = pending
        self.retention_days = retention_days
        self.dead_letter_retention_days = dead_letter_retention_days
        self.maintenance_interval = maintenance_interval
        self.snapshot_interval = snapshot_interval
        self._thread = BackgroundThread(self._loop, "pantau-consumer-housekeeping")
        self._throttled = ThrottledLog(log)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._thread.stop(timeout)

    def run_maintenance(self, now: datetime | None = None) -> dict[str, Any]:
        """Partitions ahead, rollups of the last closed minutes, expired partitions, gaps and dead letters dropped,
        cuff readings the live store lost, and the ward census of days since ended."""
        now = now or utcnow()
        engine = self.db.engine
        created = partitions.ensure_partitions(engine, days_ahead=2, today=now.date())
        lookback = max(timedelta(seconds=2 * self.maintenance_interval), timedelta(minutes=10))
        rollups = partitions.refresh_rollups(engine, now - lookback, now)
        dropped = partitions.drop_expired(engine, self.retention_days, today=now.date())
        gaps = vital_gaps.drop_closed(engine, now - timedelta(days=self.retention_days))
        letters = drop_expired_dead_letters(engine, self.dead_letter_retention_days, now)
        return {
            "partitions_created": created,
            "rollup_rows": rollups,
            "partitions_dropped": dropped,
            "gaps_dropped": gaps,
            "dead_letters_dropped": letters,
            "cuff_readings_restored": self.restore_cuff_readings(now),
            "census_days": self.record_census(now),
        }

    def record_census(self, now: datetime) -> int:
        """The missing census days through yesterday, of every site (``data.census``)."""
        with self.db.session() as session:
            return census_through_yesterday(session, now)

    def restore_cuff_readings(self, now: datetime) -> int:
        """Occupied beds whose newest values in the live store have no cuff reading (Redis restarted, or the
        embedded demo's in-memory store) get their newest stored one back, so a screen shows the last blood
        pressure with its age, not ``---`` until the cuff measures again. Returns how many readings were offered
        back (a bed whose cuff measured meanwhile keeps its own); the live store away is logged and left to the
        next run."""
        with self.db.session() as session:
            stays = open_stays(session)
        try:
            return self._put_back_cuff_readings(stays, now)
        except LiveStoreError as exc:
            self.metrics.live_errors += 1
            self._throttled("cuff", "cuff readings not put back in the live store", error=str(exc)[:300])
            return 0

    def _put_back_cuff_readings(self, stays: dict[str, Stay], now: datetime) -> int:
        if not stays:
            return 0
        shown = self.live.get_latest_many([live_keys.latest(code) for code in stays])
        lost = {code: stay for code, stay in stays.items() if not shown.get(live_keys.latest(code), {}).get("nibp_ts")}
        if not lost:
            return 0
        with self.db.session() as session:
            readings = newest_cuff_readings(session, lost, now)
        batch = self.live.batch()
        for code, reading in readings.items():
            values = {name: _as_sent(getattr(reading, name)) for name in ("sbp", "dbp", "map")}
            # Its pairing is not stored: 0, so any reading a consumer writes meanwhile stays (the cuff may be newer).
            stamps = {"nibp_pairing": 0, "nibp_ts": epoch_ms(reading.ts)}
            batch.set_latest_if_newer(live_keys.latest(code), values | stamps, ("nibp_pairing", "nibp_ts"))
        batch.execute()
        return len(readings)

    def write_snapshot(self) -> None:
        """The counters, as JSON, in the consumer's snapshot key (a failure is counted and logged)."""
        snapshot = self.metrics.snapshot(self.pending())
        key = live_keys.consumer_snapshot(self.metrics.client_id)
        try:
            self.live.set_latest(key, {"json": orjson.dumps(snapshot).decode(), "updated": snapshot["updated_at"]})
        except Exception as exc:
            self.metrics.live_errors += 1
            self._throttled("snapshot", "consumer snapshot not written", error=str(exc)[:300])

    def _loop(self) -> None:
        next_maintenance = monotonic()
        while True:
            if monotonic() >= next_maintenance:
                try:
                    result = self.run_maintenance()
                    log.info("consumer maintenance done", extra=result)
                    next_maintenance = monotonic() + self.maintenance_interval
                except Exception as exc:
                    self.metrics.maintenance_errors += 1
                    self.metrics.error(f"maintenance: {exc!r}"[:500])
                    self._throttled("maintenance", "consumer maintenance failed, will retry", error=str(exc)[:300])
                    next_maintenance = monotonic() + min(30.0, self.maintenance_interval)
            with contextlib.suppress(Exception):
                self.write_snapshot()
            if self._thread.stopping.wait(self.snapshot_interval):
                return


def _as_sent(value: float | None) -> float | None:
    """A stored value as a monitor sends it: whole mmHg come back from the database as floats (``123.0``)."""
    return int(value) if value is not None and value.is_integer() else value
