"""The clinical step's pending-write queue: alarm changes waiting to be stored in ``alarm_event``.

Why it exists: the screens must never wait for the database, and a database blip must not lose an alarm's
history. The clinical step publishes a change at once and appends it here; :meth:`AlarmJournal.flush` stores the
changes in the order they happened and keeps whatever it could not store for the next try (with backoff).

Rules:

* **in order** – a change is stored only after every change before it; the first one that fails stops the flush,
  so an acknowledgement or end never overtakes the ``started`` row it updates (the row's id comes from that insert).
* **idempotent** – ``started`` inserts only when no row of that episode (bed, condition, start time) exists, and
  the updates write the same values again, so a retry after a lost commit reply, or a journal restored from a
  snapshot after a crash, stores nothing twice.
* **transient vs poison** – a lost connection is retried for ever; any other error (a constraint, a bad value)
  counts an attempt, and after ``MAX_ATTEMPTS`` the change is logged (bed code and condition only, no patient
  data) and skipped, so one bad change cannot hold back every later one.
* **bounded for sanity** – beyond ``MAX_PENDING`` changes (hours of a flapping ward without a database) the oldest
  is dropped with an error log rather than exhausting the consumer's memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from data.db import Database
from data.models import AlarmEvent
from domain.alarms import Alarm, Change
from domain.clock import now_ms

log = logging.getLogger(__name__)

MAX_PENDING = 20_000
MAX_ATTEMPTS = 5
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 5.0  # a database that is back is used within this long


class Stored(NamedTuple):
    """A ``started`` change now in the database: the engine's alarm of this episode gets ``alarm_id``."""

    bed_code: str
    condition: str
    started_ms: int
    alarm_id: int


@dataclass
class Entry:
    """One change waiting to be stored, with the bed it belongs to."""

    bed_id: int
    bed_code: str
    change: Change
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the journal's live-store snapshot)."""
        return {
            "bed_id": self.bed_id,
            "bed": self.bed_code,
            "kind": self.change.kind,
            "alarm": self.change.alarm.to_dict(),
            "attempts": self.attempts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        """Inverse of :meth:`to_dict`."""
        change = Change(data["kind"], Alarm.from_dict(data["alarm"]))
        return cls(int(data["bed_id"]), str(data["bed"]), change, int(data.get("attempts", 0)))


class _Unresolved(Exception):
    """An update whose episode has no row (its ``started`` was skipped or dropped): it can never be stored."""


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _transient(exc: Exception) -> bool:
    """A connection problem (worth retrying for ever), as opposed to a change the database refuses."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class AlarmJournal:
    """Ordered, bounded queue of unsaved alarm changes. Thread-safe: ``append`` from any thread, one flusher at a
    time."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: deque[Entry] = deque()
        self._lock = threading.Lock()  # guards _pending, _retry_at, _delay, revision
        self._flushing = threading.Lock()  # one flusher at a time keeps the order
        self._ids: dict[tuple[int, str, int], int] = {}  # episode → alarm_event.id, for updates queued before it
        self._retry_at = 0.0
        self._delay = RETRY_FIRST_S
        self.revision = 0  # changes whenever the queue does (the caller snapshots on change)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def holds(self, of_bed: Callable[[str], bool]) -> bool:
        """Whether a change of a bed that ``of_bed`` accepts (by its code) waits to be stored."""
        with self._lock:
            return any(of_bed(entry.bed_code) for entry in self._pending)

    def append(self, bed_id: int, bed_code: str, changes: list[Change]) -> None:
        """Queue ``changes`` of one bed, after everything already queued."""
        with self._lock:
            for change in changes:
                self._pending.append(Entry(bed_id, bed_code, change))
            dropped = 0
            while len(self._pending) > MAX_PENDING:
                self._pending.popleft()
                dropped += 1
            self.revision += 1
        if dropped:
            log.error("alarm journal full: %d oldest unsaved alarm changes dropped", dropped)

    def retry_in(self) -> float | None:
        """Seconds until the next flush is due (0 = now), or ``None`` when nothing is waiting."""
        with self._lock:
            if not self._pending:
                return None
            return max(0.0, self._retry_at - time.monotonic())

    def flush(self, *, wait_s: float = -1) -> list[Stored]:
        """Store waiting changes in order until the queue is empty or one fails; return the new ``started`` rows.

        Never raises: a failure is kept for the next try (after a backoff that doubles up to ``RETRY_MAX_S``) or,
        for a poison change, skipped after ``MAX_ATTEMPTS``. Another flush running (perhaps stuck connecting to
        an unreachable database) is waited for ``wait_s`` seconds at most (-1: as long as it takes), then this
        one returns without storing."""
        stored: list[Stored] = []
        if not self._flushing.acquire(timeout=wait_s):
            return stored
        try:
            while True:
                with self._lock:
                    if not self._pending:
                        self._delay = RETRY_FIRST_S
                        self._ids.clear()  # only a cache: an update queued later finds its row by its episode
                        return stored
                    entry = self._pending[0]
                try:
                    with self.db.session() as session:
                        alarm_id = self._store(session, entry)
                except _Unresolved:
                    log.warning(
                        "alarm change skipped: its alarm was never stored",
                        extra={"bed": entry.bed_code, "condition": entry.change.alarm.condition},
                    )
                    self._pop(entry)
                    continue
                except Exception as exc:
                    if not self._failed(entry, exc):
                        return stored
                    continue
                self._pop(entry)
                if alarm_id is not None:
                    alarm = entry.change.alarm
                    stored.append(Stored(entry.bed_code, alarm.condition, alarm.started_ms, alarm_id))
        finally:
            self._flushing.release()

    def _pop(self, entry: Entry) -> None:
        with self._lock:
            if self._pending and self._pending[0] is entry:  # not already dropped by a full queue
                self._pending.popleft()
                self.revision += 1
            self._delay = RETRY_FIRST_S
            self._retry_at = 0.0

    def _failed(self, entry: Entry, exc: Exception) -> bool:
        """Count a failure; True when ``entry`` was skipped as poison (the flush goes on), else back off."""
        context = {"bed": entry.bed_code, "condition": entry.change.alarm.condition, "change": entry.change.kind}
        if not _transient(exc):
            entry.attempts += 1
            if entry.attempts >= MAX_ATTEMPTS:
                log.error(
                    "alarm change skipped after %d failed attempts: %s",
                    entry.attempts,
                    type(exc).__name__,
                    extra=context,
                )
                self._pop(entry)
                return True
        with self._lock:
            first = self._delay == RETRY_FIRST_S
            self._retry_at = time.monotonic() + self._delay
            self._delay = min(self._delay * 2, RETRY_MAX_S)
        if first:  # one line per outage, not one per retry
            log.warning("alarm changes not stored yet (%s); retrying", type(exc).__name__, extra=context)
        return False

    def _store(self, session: Session, entry: Entry) -> int | None:
        """Write one change; return the row id of a ``started`` change."""
        alarm, kind = entry.change.alarm, entry.change.kind
        episode = (entry.bed_id, alarm.condition, alarm.started_ms)
        if kind == "started":
            row_id = self._find(session, episode)
            if row_id is None:
                row = AlarmEvent(
                    bed_id=entry.bed_id,
                    condition=alarm.condition,
                    kind=alarm.kind,
                    priority=alarm.priority,
                    started_at=_at(alarm.started_ms),
                    value=alarm.value,
                    message=alarm.message[:200],
                )
                session.add(row)
                session.flush()
                row_id = row.id
            self._ids[episode] = row_id
            return row_id
        row_id = alarm.id or self._ids.get(episode) or self._find(session, episode)
        if row_id is None:
            raise _Unresolved
        values: dict[str, Any] = {}
        if kind == "ended":
            values["ended_at"] = _at(alarm.ended_ms or now_ms())
            self._ids.pop(episode, None)
        elif kind == "escalated":
            values["escalated_at"] = _at(alarm.escalated_ms or now_ms())
        elif kind == "acknowledged":
            values.update(
                acknowledged_at=_at(alarm.acked_ms or now_ms()),
                acknowledged_where=alarm.acked_where,
                acknowledged_by=alarm.acked_by if isinstance(alarm.acked_by, int) else None,
            )
        query = update(AlarmEvent).where(AlarmEvent.id == row_id)
        if kind == "acknowledged":
            query = query.where(AlarmEvent.acknowledged_at.is_(None))  # the web route may have recorded it first
        elif kind == "ended":
            query = query.where(AlarmEvent.ended_at.is_(None))  # a discharge may have closed it: not re-written
        session.execute(query.values(**values))
        return None

    @staticmethod
    def _find(session: Session, episode: tuple[int, str, int]) -> int | None:
        bed_id, condition, started_ms = episode
        return session.scalar(
            select(AlarmEvent.id)
            .where(
                AlarmEvent.bed_id == bed_id,
                AlarmEvent.condition == condition,
                AlarmEvent.started_at == _at(started_ms),
            )
            .limit(1)
        )

    # ------------------------------------------------------------------ snapshot

    def to_list(self) -> list[dict[str, Any]]:
        """The waiting changes, JSON-ready, oldest first."""
        with self._lock:
            return [entry.to_dict() for entry in self._pending]

    def restore(self, entries: list[dict[str, Any]]) -> None:
        """Put changes from a snapshot in front of anything queued since (they happened first)."""
        restored = [Entry.from_dict(e) for e in entries]
        with self._lock:
            self._pending.extendleft(reversed(restored))
            self.revision += 1
