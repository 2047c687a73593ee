"""The clinical evaluator of the durable path: owns partitions of the clinical streams (:mod:`bridge.clinical_feed`)
by lease, evaluates their beds in sample-time order (:mod:`bridge.clinical_order`) and commits how far it got.

* **one evaluator per bed** - a partition is evaluated only by the holder of its lease (a counted set of one in the
  live store, renewed every third of ``lease_s``); a stopped evaluator releases its leases, a dead one's lapse after
  ``lease_s`` and another takes them over. Each evaluator holds its fair share (the partitions divided by the
  evaluators registered in ``live_keys.CLINICAL_EVALUATORS``) and gives up what it holds beyond it. Leases are
  fenced only by that timing: an evaluator stalled longer than ``lease_s`` may evaluate a partition once more
  beside its new owner (both derive the same changes from the same entries; the journal stores an episode once).
* **nothing lost, nothing twice** - the partition's offset, the newest entry read, and its beds' alarm state (with
  each bed's clock and last evaluated step) are written together, in one atomic live-store batch, and only once
  the journal has stored every alarm change up to there; entries more than a minute older than the offset are
  dropped with it. A new owner (or this one after a crash) restores that state and replays the entries after the
  offset; samples of steps already evaluated are skipped (``repeated`` when the previous owner had read them,
  else ``late``), and the changes derived again are recognised by the journal (bed, condition, start) and not
  stored twice.

``python -m bridge.clinical_worker`` runs it on its own (no MQTT); by default each consumer runs one too.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import time
import uuid
import zlib

import orjson

from bridge.background_thread import BackgroundThread
from bridge.clinical import ClinicalPipeline
from bridge.clinical_feed import partition_of
from bridge.clinical_order import REPLAY_LAG_MS, PartitionOrder, Unit
from bridge.consumer.throttled_log import ThrottledLog
from data import live_keys
from data.db import Database
from data.live_store import UNCAPPED, LiveStore, parse_stream_id
from data.runtime import Runtime
from domain.clock import now_ms

__all__ = ["ClinicalWorker", "main"]

log = logging.getLogger(__name__)

READ_COUNT = 1000  # entries read from a partition at a time
# A pass over the partitions that left no full page unread waits this long before the next, so each read and
# commit covers what gathered meanwhile: at 1 Hz per bed, passes back to back spent three times the clinical work on
# reads and commits (docs/performance.md). It adds at most this to the hold before a step is evaluated.
PASS_S = 0.25
# A bed whose last step evaluated was read REPLAY_LAG_MS after its sample time was replaying a backlog (queued while the
# consumers or the evaluator were away); its silence then counts only beyond REPLAY_GRACE_S. A pause in the drain (a
# slow commit, a starved CPU) is not the monitor's silence: it raised "no data" and set back every alarm still in its
# onset delay. A monitor really silent after a backlog raises "no data" at most REPLAY_GRACE_S later, as does one
# whose clock is this far behind.
REPLAY_GRACE_S = 5.0
# Evaluated entries kept before a partition's offset (by stream id, Redis's clock): an evaluator that stalled past its
# lease and reads once more before it sees the lease gone reads what its new owner read, not a gap.
KEEP_EVALUATED_MS = 60_000


class ClinicalWorker:
    """One evaluator: :meth:`start` loads the beds and runs the pipeline's threads and the partition loop,
    :meth:`stop` commits what it can and releases its leases. ``pipeline`` is the :class:`ClinicalPipeline` it
    feeds (scoped to the owned partitions)."""

    def __init__(
        self,
        db: Database,
        live: LiveStore,
        *,
        partitions: int,
        lease_s: float,
        hold_ms: int,
        step_ms: int,
        name: str = "",
    ) -> None:
        self.live = live
        self.partitions = partitions
        self.lease_s = lease_s
        self.hold_s = hold_ms / 1000
        self.step_ms = step_ms
        self.member = f"{name or 'clinical'}-{uuid.uuid4().hex[:12]}"
        self.pipeline = ClinicalPipeline(db, live, scope=self)
        self.evaluated = 0  # units evaluated
        self.lost = 0  # partitions found held by another evaluator (this one had stalled longer than the lease)
        self._dropped = {"late": 0, "repeated": 0, "broken": 0}  # what the partitions given up or lost had counted
        self.announced: frozenset[str] = frozenset()  # the consumers among the feeders at the last pass
        self._owned: dict[int, PartitionOrder] = {}
        self._cursor: dict[int, str] = {}
        self._caught_up: set[int] = set()  # partitions whose last read reached the end of the stream
        self._read_to_end_at: dict[int, float] = {}  # partition -> time.monotonic() of that read
        self._read_at: dict[str, float] = {}  # bed -> time.monotonic() its last step evaluated was read
        self._flowing_since: float | None = None  # time.monotonic() of the first step evaluated here
        self._replayed: set[str] = set()  # beds whose last step evaluated came from a backlog (REPLAY_LAG_MS)
        self._touched: dict[int, set[str]] = {}
        self._committed: dict[int, str | None] = {}
        self._thread = BackgroundThread(self._loop, "clinical-partitions")
        self._throttled = ThrottledLog(log)
        self._passed_at = 0.0  # time.monotonic() of the last pass of the loop that did not fail
        self._next_lease = 0.0  # time.monotonic() when the leases are renewed next
        self._reads = 0  # partition reads that succeeded
        self._unreadable_since: float | None = None  # time.monotonic() of the first pass that could read nothing

    @classmethod
    def from_settings(cls, runtime: Runtime, name: str) -> ClinicalWorker:
        """An evaluator on the runtime's database and live store, tuned by the ``PANTAU_CLINICAL_*`` settings."""
        settings = runtime.settings
        return cls(
            runtime.db,
            runtime.live,
            partitions=settings.clinical_partitions,
            lease_s=settings.clinical_lease_seconds,
            hold_ms=settings.clinical_hold_ms,
            step_ms=settings.clinical_step_ms,
            name=name,
        )

    # ------------------------------------------------------------------ scope of the pipeline

    def owns(self, bed_code: str) -> bool:
        return partition_of(bed_code, self.partitions) in self._owned

    def silence_ms(self, bed_code: str) -> int | None:
        partition = partition_of(bed_code, self.partitions)
        order = self._owned.get(partition)
        read_at = self._read_at.get(bed_code)
        if partition not in self._caught_up or order is None or read_at is None or order.holds(bed_code):
            return None
        silence = self._read_to_end_at[partition] - read_at
        if bed_code in self._replayed:
            silence -= REPLAY_GRACE_S
        return max(0, int(silence * 1000))

    def flowing_ms(self) -> int | None:
        if self._flowing_since is None:
            return None
        return int((time.monotonic() - self._flowing_since) * 1000)

    @property
    def owned(self) -> list[int]:
        return sorted(self._owned)

    def counters(self) -> dict[str, object]:
        """Partitions owned, units evaluated, samples skipped as ``late`` (a step already evaluated: redeliveries,
        replays, stragglers) or as ``repeated`` (read again after a takeover, already handled by the previous owner),
        entries that could not be read (``broken``), all since the start, partitions ``lost`` to another
        evaluator, and the consumers announced as ``feeders`` at the last pass."""
        orders = list(self._owned.values())
        return {
            "owned": self.owned,
            "evaluated": self.evaluated,
            **{name: self._dropped[name] + sum(getattr(order, name) for order in orders) for name in self._dropped},
            "lost": self.lost,
            "feeders": sorted(self.announced),
        }

    def healthy(self) -> bool:
        """Running, and a pass of its loop got through within the last lease (the live store and the database
        answer)."""
        return self._thread.alive() and time.monotonic() - self._passed_at < self.lease_s

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        self.pipeline.start()
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Evaluate and commit what is read, release the leases (another evaluator takes over at once)."""
        self._thread.stop(timeout)
        self.pipeline.stop()
        for partition in list(self._owned):
            try:
                self._commit(partition)
            except Exception:
                log.warning("clinical partition not committed on stop; the next owner replays it")
            self._release(partition)
        with contextlib.suppress(Exception):
            self.live.release_slot([live_keys.CLINICAL_EVALUATORS], self.member)

    def _loop(self) -> None:
        while not self._thread.stopping.is_set():
            reads = self._reads
            try:
                self._renew_when_due()
                busy = False
                self.announced = frozenset(self.live.slot_members(live_keys.CLINICAL_FEEDERS))
                for partition in list(self._owned):
                    self._renew_when_due()  # a pass over many partitions of a backlog takes seconds
                    if partition in self._owned:
                        busy |= self._step(partition)
                self._passed_at = time.monotonic()
            except Exception as exc:  # the live store or the database away: try again shortly
                self._pass_failed(read_any=self._reads != reads)
                self._throttled("clinical", "clinical evaluator cannot go on, retrying", error=repr(exc)[:300])
                busy = False
                self._thread.stopping.wait(0.5)
            if not busy:
                self._thread.stopping.wait(PASS_S)

    def _renew_when_due(self) -> None:
        """:meth:`_leases` once a third of the lease has passed since the last renewal began (from its start: taking
        partitions over can take seconds). Checked between partitions too: in a backlog's drain a pass over sixteen
        partitions took 2 to 5 s, and an evaluator that took them all at its start lost half of them to the other
        while its first passes ran."""
        started = time.monotonic()
        if started >= self._next_lease:
            self._leases()
            self._next_lease = started + self.lease_s / 3

    def _pass_failed(self, read_any: bool) -> None:
        """A pass failed (the live store or the database away): no time passes for a bed while its samples cannot
        be read. When not one partition could be read in it (``read_any`` False), nor does the outage, once they
        can (:meth:`_readable_again`); a pass that read and then failed (say, Redis refusing writes) lets time
        pass, so a monitor that went quiet meanwhile still raises "no data"."""
        self._caught_up.clear()
        if not read_any and self._unreadable_since is None:
            self._unreadable_since = time.monotonic()

    def _readable_again(self, now: float) -> None:
        """The partitions answer again: every bed's last read moves on by the outage, so its silence counts what
        went before and what comes after, not the time the consumers could not append (after a Redis restart the
        evaluator reads the emptied partitions before the consumers append the batches they held back)."""
        if self._unreadable_since is None:
            return
        gone = now - self._unreadable_since
        self._read_at.update((bed, at + gone) for bed, at in list(self._read_at.items()))
        self._unreadable_since = None

    def _leases(self) -> None:
        """Renew the leases held and take the free ones (a partition whose owner died or stopped)."""
        live = self.live
        live.claim_slot({live_keys.CLINICAL_EVALUATORS: UNCAPPED}, self.member, self.lease_s)
        share = math.ceil(self.partitions / max(1, len(live.slot_members(live_keys.CLINICAL_EVALUATORS))))
        for partition in sorted(self._owned)[share:]:  # a newcomer takes these
            self._commit(partition)
            self._release(partition)
        won = []
        start = zlib.crc32(self.member.encode())  # evaluators starting together try different partitions first
        for n in range(self.partitions):
            partition = (start + n) % self.partitions
            mine = partition in self._owned
            if not mine and len(self._owned) + len(won) >= share:
                continue
            full = live.claim_slot({live_keys.clinical_lease(partition): 1}, self.member, self.lease_s)
            if full is None and not mine:
                won.append(partition)
            elif full is not None and mine:
                log.warning("clinical partition %d lost to another evaluator", partition)
                self.lost += 1
                self._drop(partition)
        if won:
            self.pipeline.load()  # beds added since the start, and the current stays
            for partition in won:
                self._acquire(partition)

    def _acquire(self, partition: int) -> None:
        """Take over a partition where its last owner committed: its beds' state, then the entries after."""
        committed = self.live.get_latest(live_keys.clinical_offset(partition))
        offset = committed.get("id") or "-"
        codes = [code for code in self.pipeline.bed_codes() if partition_of(code, self.partitions) == partition]
        self.pipeline.restore_beds(codes)
        self.pipeline.take_stored_cuff_readings(codes)  # a snapshot of a bed's previous admission brings none
        self._owned[partition] = PartitionOrder(
            self.step_ms, self.hold_s, self.pipeline.last_step, seen_until=committed.get("read")
        )
        taken_at = time.monotonic()
        self._read_at.update(dict.fromkeys(codes, taken_at))  # a silent bed's time goes on from the takeover
        self._replayed.difference_update(codes)
        self._cursor[partition] = offset
        self._committed[partition] = offset
        self._touched[partition] = set()
        log.info("clinical partition %d taken over", partition, extra={"offset": offset, "beds": len(codes)})

    def _drop(self, partition: int) -> None:
        order = self._owned.pop(partition, None)
        if order is not None:
            for name in self._dropped:
                self._dropped[name] += getattr(order, name)
        self._caught_up.discard(partition)
        self._touched.pop(partition, None)

    def _release(self, partition: int) -> None:
        self._drop(partition)
        try:
            self.live.release_slot([live_keys.clinical_lease(partition)], self.member)
        except Exception:
            log.warning("clinical lease not released; it lapses after %.0f s", self.lease_s)

    def _step(self, partition: int) -> bool:
        """Read the next entries of a partition, evaluate the steps now complete (waiting for the consumers
        ``announced`` at this pass, :class:`bridge.consumer.presence.Presence`), commit; True if more are waiting (it
        read a full page)."""
        order = self._owned[partition]
        entries = self.live.read_stream(
            live_keys.clinical_partition(partition), after=self._cursor[partition], count=READ_COUNT
        )
        now, wall_ms = time.monotonic(), now_ms()
        self._reads += 1
        self._readable_again(now)
        if entries:
            self._cursor[partition] = entries[-1][0]
        if len(entries) < READ_COUNT:
            self._read_to_end_at[partition] = now
            self._caught_up.add(partition)
        else:
            self._caught_up.discard(partition)
        units = order.add(entries, now, wall_ms)
        units += order.ready(partition in self._caught_up, now, self.announced)
        if units:
            if self._flowing_since is None:
                self._flowing_since = now
            self._touched[partition] |= self.pipeline.evaluate_units(units)
            self.evaluated += len(units)
            self._note_reads(units, now, wall_ms)
        self._commit(partition)
        return len(entries) == READ_COUNT

    def _note_reads(self, units: list[Unit], now: float, wall_ms: int) -> None:
        """When each bed's last step evaluated was read (never back: a step held since before an outage was read
        before its end), and whether it came from a backlog: read more than ``REPLAY_LAG_MS`` after its sample.
        ``now`` and ``wall_ms`` are the same instant on the monotonic and the wall clock."""
        read_at = self._read_at
        for unit in units:
            if unit.msg is not None and unit.seen > read_at.get(unit.bed, 0.0):
                read_at[unit.bed] = unit.seen
                lag_ms = wall_ms - (now - unit.seen) * 1000 - unit.msg.ts
                if lag_ms > REPLAY_LAG_MS:
                    self._replayed.add(unit.bed)
                else:
                    self._replayed.discard(unit.bed)

    def _commit(self, partition: int) -> None:
        """Write the offset with the state of the beds evaluated since, once the journal (whose thread stores the
        changes as they come) has stored every change of the partition's beds (waiting for every bed's, a busy
        ward's partitions went uncommitted for as long as alarms kept coming); and drop the entries evaluated more than
        ``KEEP_EVALUATED_MS`` before it, so a partition holds what awaits evaluation and the last minute (the stream's
        cap matters only while no evaluator runs)."""
        order = self._owned.get(partition)
        if order is None or (order.offset in (None, self._committed[partition]) and not self._touched[partition]):
            return
        states = self.pipeline.bed_states(
            self._touched[partition], lambda code: partition_of(code, self.partitions) == partition
        )
        if states is None:
            return  # changes of its beds not stored yet (or the database is away): the offset stays
        batch = self.live.batch()
        for key, fields in states.items():
            batch.set_latest(key, fields)
        committed = {"read": self._cursor[partition]}  # the newest entry read: the beds' state covers it
        if order.offset is not None:  # None: the first entry read still waits, the offset has not moved
            committed["id"] = order.offset
            ms, seq = parse_stream_id(order.offset)
            if ms > KEEP_EVALUATED_MS:  # the full id: one batch's entries share their millisecond
                batch.trim_stream(live_keys.clinical_partition(partition), f"{ms - KEEP_EVALUATED_MS}-{seq}")
        batch.set_latest(live_keys.clinical_offset(partition), committed)
        batch.execute()
        self._committed[partition] = order.offset
        self._touched[partition] = set()


def main(argv: list[str] | None = None) -> int:
    """``python -m bridge.clinical_worker``: evaluate partitions until SIGTERM/SIGINT."""
    from bridge.collector import collect_for_batches
    from bridge.health_http import HealthHttpServer, Reply
    from bridge.stop_signal import stop_on_signals
    from config import configure_logging, load_settings
    from data.runtime import build_runtime

    parser = argparse.ArgumentParser(prog="python -m bridge.clinical_worker", description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="clinical-worker", help="the start of its lease member name (logs)")
    parser.add_argument("--metrics-port", type=int, default=None, help="serve /healthz (JSON, 200 or 503) here")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address for the /healthz server")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings.require_own_secrets()
    configure_logging(settings.log_level)
    collect_for_batches()
    runtime = build_runtime(settings)
    worker = ClinicalWorker.from_settings(runtime, args.name)

    def health() -> Reply:
        ok = worker.healthy()
        body = orjson.dumps({"ok": ok, "member": worker.member, "clinical": worker.counters()})
        return 200 if ok else 503, body, "application/json"

    server = None
    if args.metrics_port is not None:
        server = HealthHttpServer({"/healthz": health}, args.metrics_host, args.metrics_port, "clinical-health")
        server.start()
    stop = stop_on_signals(log, "clinical worker")
    worker.start()
    try:
        stop.wait()
    finally:
        worker.stop()
        if server is not None:
            server.stop()
        runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
