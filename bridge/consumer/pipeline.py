"""The writers: batches of received messages -> resolved to their beds -> handed to the live stage -> stored
(samples and dead letters in one transaction) -> acknowledged.

Each writer thread has its own database connection, so one commits while another builds. Batches are numbered
as they are taken, and the live stage shows them in that order. The database is never on the way to a screen or
an alarm: a failing database is retried with back-off, never acknowledged, never fatal, and meanwhile the writer
keeps taking new batches (up to ``_HELD_BATCHES``) and handing them to the live stage, to store them all at the
next attempt. A batch the database refuses for another reason is stored row by row, and the rows it refuses
become ``store_error`` dead letters.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection

from bridge.consumer.intake import Intake
from bridge.consumer.live_stage import LiveStage
from bridge.consumer.messages import Kind, Received, Sample, StatusUpdate, StoredHook
from bridge.consumer.metrics import ConsumerMetrics
from bridge.consumer.options import ConsumerOptions
from bridge.consumer.throttled_log import ThrottledLog
from data.db import Database
from data.db_errors import is_transient
from data.mqtt_topics import vitals_topic
from data.vitals import DeadLetterRow, DeviceDirectory, insert_dead_letters, insert_samples, sample_row
from domain.clock import now_ms
from domain.vitals_contract import DeviceStatus, Rejected, VitalsMessage

__all__ = ["Writers"]

log = logging.getLogger(__name__)

_BACKOFF_MIN, _BACKOFF_MAX = 0.2, 10.0
# A batch held back from the clinical feed is tried again this often at most: once the live store is back, the
# evaluator must read it before a bed's silence reaches the no-data wait (3 s at 1 Hz), or it raises "no data"
# for samples that are on their way.
_FEED_BACKOFF_MAX = 0.5
_LIVE_WAIT = 5.0  # seconds a writer waits for room in the live stage before it skips a batch there
_HELD_BATCHES = 4  # batches a writer keeps taking (and showing) while the database is away

Acknowledge = Callable[[list[Received]], None]


@dataclass(slots=True)
class _Resolved:
    """A chunk's messages at their beds: rows to store, what goes live, and what is refused."""

    rows: list[tuple]
    samples: list[Sample]
    updates: list[StatusUpdate]
    letters: list[DeadLetterRow]
    doubtful: bool  # a device was not found while the directory could not reload: ask again before refusing


class _Chunk:
    """Messages taken from the intake together: one numbered batch of the live stage, handed to it once, then
    stored (with the chunks taken while the database was away) and acknowledged."""

    __slots__ = ("fed", "handed", "items", "resolved", "seq")

    def __init__(self, seq: int, items: list[Received]) -> None:
        self.seq = seq
        self.items = items
        self.handed = False
        self.fed = False  # given to the ``on_stored`` hooks (the clinical feed)
        self.resolved: _Resolved | None = None


class _WriterState:
    """What one writer thread keeps between batches: its own database connection, and the chunks not yet stored."""

    __slots__ = ("chunks", "conn")

    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.chunks: list[_Chunk] = []


def _unknown_device(item: Received, device_id: str) -> DeadLetterRow:
    return DeadLetterRow(
        item.received, item.topic, device_id, "unknown_device", "no open device_assignment", item.payload
    )


class Writers:
    """``options.writers`` threads from :meth:`start` until :meth:`stop`; ``acknowledge`` is called with a batch's
    messages once it is committed (or refused as dead letters)."""

    def __init__(
        self,
        db: Database,
        directory: DeviceDirectory,
        intake: Intake,
        live_stage: LiveStage,
        acknowledge: Acknowledge,
        metrics: ConsumerMetrics,
        options: ConsumerOptions,
        on_stored: Sequence[StoredHook] = (),
    ) -> None:
        self.db = db
        self.on_stored = on_stored
        self.directory = directory
        self.intake = intake
        self.live_stage = live_stage
        self.acknowledge = acknowledge
        self.metrics = metrics
        self.options = options
        self.last_commit_ok = True
        self._stop = threading.Event()
        self._stop_deadline = float("inf")
        self._collect_lock = threading.Lock()
        self._next_seq = 0
        self._fed = threading.Condition()  # guards _unfed and _next_fed; notified when chunks were fed
        self._feeding = threading.Lock()  # held by the writer feeding
        self._unfed: dict[int, _Chunk] = {}  # chunks handed over and not fed yet, by number
        self._next_fed = 0  # the number of the next chunk to feed: fed strictly in the order they were taken
        self._threads: list[threading.Thread] = []
        self._states: list[_WriterState] = []
        self._throttled = ThrottledLog(log)

    def start(self) -> None:
        for n in range(self.options.writers):
            state = _WriterState()
            self._states.append(state)
            thread = threading.Thread(target=self._loop, args=(state,), name=f"pantau-consumer-writer-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, deadline: float, store_until: float) -> None:
        """Store and acknowledge what was received, then end the threads (waiting until ``deadline``); a batch
        the database refuses is retried only until ``store_until`` (``time.monotonic()``)."""
        self._stop_deadline = store_until
        self._stop.set()
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("consumer stopped before a batch was committed; the broker will redeliver it")

    def settled(self) -> bool:
        """Nothing received waits for a writer or is held by one: all taken so far is stored and acknowledged."""
        return self.intake.empty() and not any(state.chunks for state in self._states)

    def _take(self, state: _WriterState, timeout: float) -> bool:
        """Take the next batch from the intake as a numbered chunk (the live stage keeps this order). Waits at most
        ``timeout`` for the turn too: an idle writer polling the intake takes the lock again at once, and a writer
        backing off from a failed store must still get back to its retry when its wait is over."""
        options = self.options
        if not self._collect_lock.acquire(timeout=timeout):
            return False
        try:
            items = self.intake.batch(
                timeout, max_size=options.batch_size, wait=options.batch_wait, idle=options.batch_idle
            )
            if not items:
                return False
            chunk = _Chunk(self._next_seq, items)
            self._next_seq += 1
        finally:
            self._collect_lock.release()
        state.chunks.append(chunk)
        return True

    def _loop(self, state: _WriterState) -> None:
        """One writer: take the next batch, hand it to the live stage, store it, ack it; retried until stored."""
        backoff = _BACKOFF_MIN
        while True:
            if not state.chunks:
                if self._stop.is_set() and self.intake.empty():
                    break
                if not self._take(state, 0.1):
                    continue
            try:
                self._process(state)
            except Exception as exc:
                with self.metrics.lock:
                    self.metrics.db_errors += 1
                self.metrics.error(f"database: {exc!r}"[:500])
                self.last_commit_ok = False
                held = sum(len(chunk.items) for chunk in state.chunks)
                self._throttled("db", "consumer cannot store the batch, will retry", error=str(exc)[:300], batch=held)
                if self._back_off(state, backoff) and not self._retry_while_stopping():
                    log.warning("consumer stopping with an uncommitted batch; the broker will deliver it again")
                    for chunk in state.chunks:
                        if not chunk.handed:  # nothing to show, but the live stage waits for its number
                            self.live_stage.hand(chunk.seq, [], [], self._stop_deadline)
                    break  # nothing of it was acked: the broker keeps it all for the next start
                backoff = min(backoff * 2, _BACKOFF_MAX)
                continue
            self.last_commit_ok = True
            backoff = _BACKOFF_MIN
            state.chunks = []
        conn, state.conn = state.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _back_off(self, state: _WriterState, seconds: float) -> bool:
        """Wait before the next store attempt; what arrives meanwhile still goes to the live stage at once (up to
        ``_HELD_BATCHES`` batches held by this writer, then the broker holds the rest). True when stopping."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            if self._stop.is_set():
                return True
            if sum(len(chunk.items) for chunk in state.chunks) >= _HELD_BATCHES * self.options.batch_size:
                return self._stop.wait(left)
            if self._take(state, min(left, 0.1)):
                with contextlib.suppress(Exception):  # no bed map yet (database away): _process retries it
                    self._hand_over(state.chunks[-1])
        return self._stop.is_set()

    def _retry_while_stopping(self) -> bool:
        """While stopping, another try is worth it only before the stop deadline and if the database answers."""
        if time.monotonic() >= self._stop_deadline:
            return False
        time.sleep(0.2)
        return self.db.ping()

    def _resolve(self, items: list[Received], *, confirm: bool) -> _Resolved:
        """Validated messages -> rows, samples and status updates at their beds, and dead letters. ``confirm``:
        a device the directory could not check (database away) is asked for again instead of refused."""
        vitals: list[Received] = []
        statuses: list[Received] = []
        letters: list[DeadLetterRow] = []
        vitals_kind, status_kind, rejected_kind = Kind.VITALS, Kind.STATUS, Kind.REJECTED  # looked up once
        for item in items:
            kind = item.kind
            if kind is vitals_kind:
                vitals.append(item)
            elif kind is status_kind:
                statuses.append(item)
            elif kind is rejected_kind:
                exc: Rejected = item.body
                letters.append(
                    DeadLetterRow(item.received, item.topic, exc.device_id, exc.reason, exc.detail, item.payload)
                )
        ids = {item.body.device_id for item in vitals}
        ids.update(item.body.device_id for item in statuses)
        beds = self.directory.lookup_many(ids, confirm_misses=confirm) if ids else {}
        resolved = _Resolved([], [], [], letters, len(beds) < len(ids) and self.directory.failing)
        for item in vitals:
            msg: VitalsMessage = item.body
            ref = beds.get(msg.device_id)
            if ref is None:
                letters.append(_unknown_device(item, msg.device_id))
                continue
            resolved.rows.append(sample_row(msg, ref.bed_id))
            resolved.samples.append(Sample(msg, ref.bed, ref.ward, ref.bed_id, ref.pairing))
        for item in statuses:
            status: DeviceStatus = item.body
            ref = beds.get(status.device_id)
            if ref is None:
                letters.append(_unknown_device(item, status.device_id))
                continue
            resolved.updates.append(StatusUpdate(status, ref.bed, ref.ward, ref.bed_id, item.received))
        return resolved

    def _hand_over(self, chunk: _Chunk) -> None:
        """Resolve a chunk and give it to the live stage, once, before it is stored; and try the feed hooks, so the
        clinical step gets it through a database outage too."""
        if chunk.resolved is None:
            chunk.resolved = self._resolve(chunk.items, confirm=False)
        self.live_stage.hand(chunk.seq, chunk.resolved.samples, chunk.resolved.updates, time.monotonic() + _LIVE_WAIT)
        chunk.handed = True
        if self.on_stored:
            with contextlib.suppress(Exception):  # counted and retried before the ack (_feed)
                self._feed_chunk(chunk, wait=False)

    def _process(self, state: _WriterState) -> None:
        """Hand the writer's chunks to the live stage (those not handed yet), then store them (samples and dead
        letters in one transaction), then ack them. Raises (nothing acked) when the database fails."""
        for chunk in state.chunks:
            if not chunk.handed:
                self._hand_over(chunk)
        rows = []
        samples: list[Sample] = []
        letters: list[DeadLetterRow] = []
        seen: set[tuple[str, int, int]] = set()
        in_batch_duplicates = 0
        updates = 0
        for chunk in state.chunks:
            resolved = chunk.resolved
            assert resolved is not None
            if resolved.doubtful:  # about to refuse a device the directory could not check
                resolved = chunk.resolved = self._resolve(chunk.items, confirm=True)
            letters += resolved.letters
            updates += len(resolved.updates)
            for row, sample in zip(resolved.rows, resolved.samples, strict=True):
                m = sample.msg
                key = (m.device_id, m.ts, m.seq)
                if key in seen:
                    in_batch_duplicates += 1
                    continue
                seen.add(key)
                rows.append(row)
                samples.append(sample)

        started = time.perf_counter()
        try:
            conn = self._connection(state)
            try:
                with conn.begin():
                    new = insert_samples(conn, rows)
                    insert_dead_letters(conn, letters)
            except Exception:
                self._drop_connection(state)
                raise
        except Exception as exc:
            if is_transient(exc) or not rows:
                raise
            new, letters = self._store_one_by_one(rows, samples, letters, exc)
        elapsed = time.perf_counter() - started
        if self.on_stored:
            self._feed(state.chunks)  # before the ack; the evaluator skips what it is given twice

        items = [item for chunk in state.chunks for item in chunk.items]
        self.acknowledge(items)  # only now: all of it is durable (or refused)

        now = now_ms()
        m = self.metrics
        with m.lock:
            m.commit_seconds.append(elapsed)
            m.batch_sizes.append(len(items))
            m.batches += 1
            m.stored += new
            m.duplicates += len(rows) - new + in_batch_duplicates
            for letter in letters:
                m.dead_lettered[letter.reason] += 1
            m.statuses += updates
            if samples:
                m.lag_ms = now - max(s.msg.ts for s in samples)
            m.last_batch_at = now

    def _feed_chunk(self, chunk: _Chunk, *, wait: bool = True) -> None:
        """The chunk's samples and status updates to the ``on_stored`` hooks, once, after every chunk taken before
        it, whichever writer comes first: the writer of an earlier chunk feeds the later ones waiting for it. A
        writer feeding newer samples of a consumer ahead of older ones (another writer's, one that was descheduled
        for a moment or backing off after a live store outage) would have the evaluator take the newer as the
        consumer's progress and evaluate the seconds before them without the older, then skip those as late (and
        miss an alarm in them). Returns with the chunk not fed while an earlier one is not handed over yet, or, unless
        ``wait``, while another writer is feeding; raises (counted) when a hook fails, leaving the chunks for the
        next attempt."""
        with self._fed:
            if chunk.fed:
                return
            self._unfed[chunk.seq] = chunk
            self._fed.notify_all()  # a writer waiting for this one may feed it
        if not self._feeding.acquire(blocking=wait):  # at hand-over a writer goes on to store its batch
            return
        try:
            while True:
                with self._fed:
                    first = self._unfed.get(self._next_fed)
                if first is None:
                    return
                self._feed_one(first)
                with self._fed:
                    del self._unfed[self._next_fed]
                    self._next_fed += 1
                    self._fed.notify_all()
        finally:
            self._feeding.release()

    def _feed_one(self, chunk: _Chunk) -> None:
        resolved = chunk.resolved
        assert resolved is not None
        try:
            for hook in self.on_stored:
                hook(resolved.samples, resolved.updates)
        except Exception as exc:
            with self.metrics.lock:
                self.metrics.feed_errors += 1
            self.metrics.error(f"clinical feed: {exc!r}"[:500])
            self._throttled("feed", "cannot feed the clinical step; holding the batch", error=str(exc)[:300])
            raise
        chunk.fed = True
        with self.metrics.lock:
            self.metrics.fed += len(resolved.samples) + len(resolved.updates)

    def _feed(self, chunks: list[_Chunk]) -> None:
        """Every stored chunk fed, retried with back-off until the hooks take it, and waiting for the writers of
        earlier chunks: a batch is acknowledged only after. Raises only when stopping past the store deadline (the
        broker delivers it again)."""
        backoff = _BACKOFF_MIN
        for chunk in chunks:
            while not chunk.fed:
                try:
                    self._feed_chunk(chunk)
                except Exception:
                    if self._past_stop_deadline():
                        raise
                    time.sleep(backoff)
                    backoff = min(backoff * 2, _FEED_BACKOFF_MAX)
                    continue
                with self._fed:
                    if not chunk.fed and self._next_fed not in self._unfed:
                        self._fed.wait(_FEED_BACKOFF_MAX)  # an earlier chunk is still with its writer
                if not chunk.fed and self._past_stop_deadline():
                    raise TimeoutError("stopping before an earlier batch was fed; this one is left unacknowledged")

    def _past_stop_deadline(self) -> bool:
        return self._stop.is_set() and time.monotonic() >= self._stop_deadline

    def _connection(self, state: _WriterState) -> Connection:
        """The writer's own connection, kept between batches (no pool check-out and ping per batch)."""
        if state.conn is None:
            state.conn = self.db.engine.connect()
        return state.conn

    def _drop_connection(self, state: _WriterState) -> None:
        conn, state.conn = state.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()
            with contextlib.suppress(Exception):
                conn.close()

    def _store_one_by_one(
        self, rows: list[tuple], samples: list[Sample], letters: list[DeadLetterRow], error: Exception
    ) -> tuple[int, list[DeadLetterRow]]:
        """A batch the database refuses for a reason other than being unreachable: store row by row and
        dead-letter the rows it refuses (``store_error``), so one bad row cannot block ingestion for ever."""
        log.warning("batch refused by the database, storing row by row", extra={"error": str(error)[:300]})
        new = 0
        letters = list(letters)
        for row, sample in zip(rows, samples, strict=True):
            try:
                with self.db.engine.begin() as conn:
                    new += insert_samples(conn, [row])
            except Exception as exc:
                if is_transient(exc):
                    raise
                m = sample.msg
                letters.append(
                    DeadLetterRow(
                        m.received,
                        vitals_topic(m.site, m.device_id),
                        m.device_id,
                        "store_error",
                        str(exc)[:500],
                        orjson.dumps(m._asdict()),
                    )
                )
        with self.db.engine.begin() as conn:
            insert_dead_letters(conn, letters)
        return new, letters
