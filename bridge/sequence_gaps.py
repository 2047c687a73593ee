"""Sequence gaps: find the samples a monitor sent that never arrived, ask it to resend them, record the rest.

Every sample carries a per-device ``seq`` (a restart may reset it, so it is paired with ``ts``). A broker killed
between two persistence saves can lose messages it had already acknowledged (DESIGN.md §3), so the consumer
cannot rely on delivery alone:

* :class:`GapTracker` (pure, no I/O) keeps the highest ``(seq, ts)`` per device. A jump opens a gap
  ``[from_seq, to_seq]`` between the device times of its neighbours; a late or resent sample inside it fills it
  (splitting it when it falls in the middle); a lower ``seq`` with a later ``ts`` is a device restart. After a
  settle delay (reordering is normal) each open gap is due for a resend request, retried with back-off; after
  ``max_attempts`` requests, or once it is older than the monitor's trend memory, it is *unfillable*.
* :class:`SequenceGaps` runs it for the consumer: ``observe(samples)`` from the live stage, and a thread that
  re-checks due gaps against the stored samples, publishes ``{"cmd":"resend","from_seq":N,"to_seq":M}`` (QoS 1)
  on ``pantau/v1/{site}/cmd/{device_id}`` and saves changed gaps in ``vital_gap`` (:mod:`data.vital_gaps`).
  On start it reloads the open gaps and the newest sample its predecessor stored per device.

Everything is bounded: open gaps per device, ``seq`` numbers per request (a large gap is split), and the part of
a jump larger than the trend memory is unfillable at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Engine

from bridge.background_thread import BackgroundThread
from data import vital_gaps
from data.mqtt_topics import command_topic
from data.vital_gaps import GapRecord
from domain.vitals_contract import ResendCommand

__all__ = ["GapCounters", "GapPolicy", "GapTracker", "Observed", "ResendRequest", "SequenceGaps"]

log = logging.getLogger(__name__)

MATCH_SLACK_MS = 60_000  # a split gap's bounds are interpolated: accept a sample this far outside them


@dataclass(frozen=True)
class GapPolicy:
    """When to ask, how often, and the bounds. Seconds unless named otherwise."""

    settle: float = 2.0  # a missing seq may still arrive reordered; ask only after this
    retry: float = 5.0  # wait after the first request, doubled after each further one
    max_attempts: int = 5
    memory: float = 3600.0  # how far back a monitor can resend (its trend memory)
    max_open_per_device: int = 64
    max_request: int = 600  # seq numbers per resend request (and per stored gap)
    max_gap: int = 3600  # seq numbers of one jump worth asking for; older ones are unfillable at once

    def due_at(self, gap: GapRecord) -> int:
        """Epoch ms when ``gap`` next needs attention (a request, or the verdict after the last one)."""
        if gap.attempts == 0 or gap.requested_at is None:
            return gap.detected_at + int(self.settle * 1000)
        return gap.requested_at + int(self.retry * 1000 * 2 ** (gap.attempts - 1))


@dataclass
class GapCounters:
    """What the consumer's metrics show: gaps found and closed, and the ``seq`` numbers in them."""

    detected: int = 0
    filled: int = 0
    unfillable: int = 0
    requests: int = 0
    samples_missing: int = 0
    samples_filled: int = 0
    samples_unfillable: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class Observed(NamedTuple):
    """A stored sample as the tracker needs it (times in epoch ms)."""

    site: str
    device_id: str
    seq: int
    ts: int
    bed_id: int | None


class ResendRequest(NamedTuple):
    """One command to publish: resend ``from_seq``..``to_seq`` (inclusive)."""

    site: str
    device_id: str
    from_seq: int
    to_seq: int

    @property
    def topic(self) -> str:
        return command_topic(self.site, self.device_id)

    @property
    def payload(self) -> bytes:
        return ResendCommand(self.from_seq, self.to_seq).payload


@dataclass
class _Device:
    seq: int | None = None
    ts: int = 0
    floor: tuple[int, int] | None = None  # (seq, ts) of the earliest sample seen of this counter run (not restored)
    site: str | None = None
    gaps: list[GapRecord] = field(default_factory=list)  # open gaps, by from_seq


class GapTracker:
    """The pure core: per-device high-water mark and open gaps. Not thread-safe (the caller locks).

    Changed records collect in :attr:`dirty` until :meth:`saved` is called for them."""

    def __init__(self, policy: GapPolicy | None = None, counters: GapCounters | None = None) -> None:
        self.policy = policy or GapPolicy()
        self.counters = counters if counters is not None else GapCounters()
        self.devices: dict[str, _Device] = {}
        self.dirty: set[GapRecord] = set()

    # -- state --------------------------------------------------------------------------------------------

    def restore(self, latest: Iterable[tuple[str, int, int]], gaps: Iterable[GapRecord]) -> None:
        """Start from stored state: each device's newest ``(device_id, seq, ts)`` and its open gaps."""
        for device_id, seq, ts in latest:
            device = self.devices.setdefault(device_id, _Device())
            if device.seq is None or ts > device.ts:
                device.seq, device.ts = seq, ts
        for gap in gaps:
            self.devices.setdefault(gap.device_id, _Device()).gaps.append(gap)
        for device in self.devices.values():
            device.gaps.sort(key=lambda g: (g.from_ts, g.from_seq))

    def open_gaps(self, device_id: str | None = None) -> list[GapRecord]:
        """The open gaps of one device, or of all."""
        if device_id is not None:
            return list(self.devices[device_id].gaps) if device_id in self.devices else []
        return [g for d in self.devices.values() for g in d.gaps]

    def site(self, device_id: str) -> str | None:
        device = self.devices.get(device_id)
        return device.site if device else None

    @staticmethod
    def saved(ids: dict[GapRecord, int]) -> None:
        """The new records were inserted with these ids (later changes update those rows)."""
        for record, new_id in ids.items():
            record.id = new_id

    # -- samples ------------------------------------------------------------------------------------------

    def observe(self, sample: Observed, now: int) -> None:
        """Account for one stored sample: a new high-water mark (maybe opening a gap), a fill, or nothing."""
        device = self.devices.get(sample.device_id)
        if device is None:
            device = self.devices[sample.device_id] = _Device()
        device.site = sample.site
        seq, ts = sample.seq, sample.ts
        if device.seq is None:
            device.seq, device.ts = seq, ts
            device.floor = (seq, ts)
            return
        if ts < device.ts:  # older than the newest: late, resent or from before a restart
            if device.floor is not None and seq < device.floor[0] and ts < device.floor[1]:
                self._below_floor(device, sample, now)
            else:
                self._fill(device, seq, ts, now)
        elif seq > device.seq:
            if seq > device.seq + 1:
                self._open(device, sample, device.seq + 1, seq - 1, device.ts, ts, now)
            device.seq, device.ts = seq, ts
        elif ts > device.ts:  # a lower (or equal) seq with a later time: the monitor restarted its counter
            device.seq, device.ts = seq, ts
            device.floor = (seq, ts)

    def _below_floor(self, device: _Device, sample: Observed, now: int) -> None:
        """A late sample from before the first one seen (it was overtaken on the way): the seqs between the two
        are a gap like any other, which the first sample seen could not show."""
        floor_seq, floor_ts = device.floor
        if sample.seq < floor_seq - 1:
            self._open(device, sample, sample.seq + 1, floor_seq - 1, sample.ts, floor_ts, now)
            device.gaps.sort(key=lambda g: (g.from_ts, g.from_seq))
        device.floor = (sample.seq, sample.ts)

    def fill_stored(self, device_id: str, stored: Iterable[tuple[int, int]], now: int) -> None:
        """Samples found in the database (``(seq, ts)``) fill the device's gaps, as if they had been observed."""
        device = self.devices.get(device_id)
        if device is not None:
            for seq, ts in stored:
                self._fill(device, seq, ts, now)

    def _open(
        self, device: _Device, sample: Observed, first: int, last: int, from_ts: int, to_ts: int, now: int
    ) -> None:
        p = self.policy
        self.counters.detected += 1
        self.counters.samples_missing += last - first + 1
        span = last - first + 1

        def ts_at(seq: int) -> int:  # approximate device time of a seq inside the jump
            return from_ts + (to_ts - from_ts) * (seq - first + 1) // (span + 1)

        start = first
        if span > p.max_gap:  # beyond the monitor's memory: unfillable at once
            start = last - p.max_gap + 1
            old = self._record(sample, first, start - 1, from_ts, ts_at(start - 1), now)
            self._close(old, "unfillable", now)
        while start <= last:
            end = min(last, start + p.max_request - 1)
            lo = from_ts if start == first else ts_at(start - 1)
            hi = to_ts if end == last else ts_at(end + 1)
            device.gaps.append(self._record(sample, start, end, lo, hi, now))
            start = end + 1
        while len(device.gaps) > p.max_open_per_device:
            self._close(device.gaps.pop(0), "unfillable", now)

    def _record(self, sample: Observed, first: int, last: int, from_ts: int, to_ts: int, now: int) -> GapRecord:
        record = GapRecord(sample.device_id, sample.bed_id, first, last, from_ts, to_ts, detected_at=now)
        self.dirty.add(record)
        return record

    def _fill(self, device: _Device, seq: int, ts: int, now: int) -> None:
        for i, gap in enumerate(device.gaps):
            if not (gap.from_seq <= seq <= gap.to_seq):
                continue
            if not (gap.from_ts - MATCH_SLACK_MS <= ts <= gap.to_ts + MATCH_SLACK_MS):
                continue  # the same seq from another run of the counter
            self.counters.samples_filled += 1
            self.dirty.add(gap)
            left = seq > gap.from_seq
            right = seq < gap.to_seq
            if left and right:  # split: this record keeps the earlier part, a new one takes the later part
                later = GapRecord(
                    gap.device_id,
                    gap.bed_id,
                    seq + 1,
                    gap.to_seq,
                    max(ts, gap.from_ts),
                    gap.to_ts,
                    detected_at=gap.detected_at,
                    state=gap.state,
                    attempts=gap.attempts,
                    requested_at=gap.requested_at,
                )
                gap.to_seq, gap.to_ts = seq - 1, min(max(ts, gap.from_ts), gap.to_ts)
                device.gaps.insert(i + 1, later)
                self.dirty.add(later)
            elif left:
                gap.to_seq, gap.to_ts = seq - 1, min(max(ts, gap.from_ts), gap.to_ts)
            elif right:
                gap.from_seq, gap.from_ts = seq + 1, max(min(ts, gap.to_ts), gap.from_ts)
            else:
                device.gaps.pop(i)
                self._close(gap, "filled", now)
            return

    def _close(self, gap: GapRecord, state: str, now: int) -> None:
        gap.state, gap.closed_at = state, now
        self.dirty.add(gap)
        if state == "filled":
            self.counters.filled += 1
        else:
            self.counters.unfillable += 1
            self.counters.samples_unfillable += gap.size

    # -- requests -----------------------------------------------------------------------------------------

    def due(self, now: int) -> dict[str, list[GapRecord]]:
        """Open gaps whose time has come, per device (to re-check against the database before asking)."""
        out: dict[str, list[GapRecord]] = {}
        for device_id, device in self.devices.items():
            ready = [g for g in device.gaps if self.policy.due_at(g) <= now]
            if ready:
                out[device_id] = ready
        return out

    def requests(self, device_id: str, now: int, default_site: str) -> list[ResendRequest]:
        """For one device's due gaps: close the hopeless ones, and return the requests to send now (neighbouring
        gaps merged while a request stays within ``max_request``). Call :meth:`requested` once they are sent."""
        p = self.policy
        device = self.devices.get(device_id)
        if device is None:
            return []
        horizon = now - int(p.memory * 1000)
        ready: list[GapRecord] = []
        for gap in list(device.gaps):
            if p.due_at(gap) > now:
                continue
            if gap.attempts >= p.max_attempts or gap.to_ts < horizon:
                device.gaps.remove(gap)
                self._close(gap, "unfillable", now)
            else:
                ready.append(gap)
        site = device.site or default_site
        out: list[ResendRequest] = []
        for gap in sorted(ready, key=lambda g: g.from_seq):
            last = out[-1] if out else None
            if last is not None and gap.from_seq > last.to_seq and gap.to_seq - last.from_seq < p.max_request:
                out[-1] = last._replace(to_seq=gap.to_seq)
            else:
                out.append(ResendRequest(site, device_id, gap.from_seq, gap.to_seq))
        return out

    def requested(self, request: ResendRequest, now: int) -> None:
        """``request`` was published: its gaps count one more attempt."""
        device = self.devices.get(request.device_id)
        if device is None:
            return
        self.counters.requests += 1
        for gap in device.gaps:
            if gap.from_seq >= request.from_seq and gap.to_seq <= request.to_seq and self.policy.due_at(gap) <= now:
                gap.attempts += 1
                gap.requested_at = now
                gap.state = "requested"
                self.dirty.add(gap)


Publish = Callable[[str, bytes], bool]


class SequenceGaps:
    """The tracker wired to the database and the broker, with its own thread (see the module docstring).

    ``publish(topic, payload)`` sends a QoS 1 command and returns False when it could not (not connected)."""

    def __init__(
        self,
        engine: Engine,
        publish: Publish,
        *,
        default_site: str,
        policy: GapPolicy | None = None,
        counters: GapCounters | None = None,
        interval: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.publish = publish
        self.default_site = default_site
        self.tracker = GapTracker(policy, counters)
        self.interval = interval
        self.clock = clock
        self.started_at = self._now()
        self._restored = False
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread = BackgroundThread(self._loop, "pantau-consumer-gaps")

    @property
    def counters(self) -> GapCounters:
        return self.tracker.counters

    def _now(self) -> int:
        return int(self.clock() * 1000)

    def _restore(self) -> None:
        """Load the open gaps and each device's newest sample stored before this consumer started (once)."""
        if self._restored:
            return
        since = self.started_at - int(self.tracker.policy.memory * 1000)
        latest = vital_gaps.latest_samples(self.engine, since, self.started_at)
        gaps = vital_gaps.load_open(self.engine)
        self.tracker.restore(latest, gaps)
        self._restored = True
        log.info("sequence gaps restored", extra={"devices": len(latest), "open_gaps": len(gaps)})

    def observe(self, samples: Iterable[Observed]) -> None:
        """Stored samples, in arrival order (the consumer's live stage)."""
        now = self._now()
        with self._lock:
            self._restore()
            for sample in samples:
                self.tracker.observe(sample, now)

    def run_once(self) -> None:
        """One round: re-check due gaps against the database, send requests, close hopeless gaps, save."""
        now = self._now()
        with self._lock:
            self._restore()
            due = {
                device_id: [(g.from_seq, g.to_seq, g.from_ts - MATCH_SLACK_MS, g.to_ts + MATCH_SLACK_MS) for g in gaps]
                for device_id, gaps in self.tracker.due(now).items()
            }
        for device_id, ranges in due.items():
            stored = vital_gaps.stored_seqs(self.engine, device_id, ranges)
            with self._lock:
                self.tracker.fill_stored(device_id, stored, now)
                requests = self.tracker.requests(device_id, now, self.default_site)
            for request in requests:
                if not self.publish(request.topic, request.payload):
                    break  # not connected: the gaps stay due and are asked for next round
                with self._lock:
                    self.tracker.requested(request, now)
        self.flush()

    def flush(self, *, everything: bool = False) -> None:
        """Save the changed gaps in one transaction; on failure they stay changed and are saved next time.

        A gap younger than the settle delay is not written yet: reordered delivery opens and fills such gaps by
        the thousand (several publishers, a backlog), and one that closes before it was ever saved is never
        written at all. ``everything`` (at stop) saves the young open ones too, so a restart keeps them."""
        settled_before = self._now() - int(self.tracker.policy.settle * 1000)
        with self._flush_lock:
            with self._lock:
                dirty, young = [], []
                for gap in self.tracker.dirty:
                    if gap.id is not None or (not gap.closed and (everything or gap.detected_at <= settled_before)):
                        dirty.append(gap)
                    elif not gap.closed:
                        young.append(gap)
                self.tracker.dirty.clear()
                self.tracker.dirty.update(young)
                copies = [GapRecord(**{k: getattr(g, k) for k in GapRecord.__slots__}) for g in dirty]
            if not copies:
                return
            try:
                with self.engine.begin() as conn:
                    ids = vital_gaps.save(conn, copies)
            except Exception:
                with self._lock:
                    self.tracker.dirty.update(dirty)
                raise
            by_copy = dict(zip(copies, dirty, strict=True))
            with self._lock:
                self.tracker.saved({by_copy[c]: i for c, i in ids.items()})

    # -- thread -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Run :meth:`run_once` every ``interval`` seconds in a daemon thread until :meth:`stop`."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and save what changed (best effort)."""
        self._thread.stop(timeout)
        try:
            self.flush(everything=True)
        except Exception as exc:
            log.warning("sequence gaps not saved at stop", extra={"error": str(exc)[:300]})

    def _loop(self) -> None:
        last_warning = float("-inf")
        while not self._thread.stopping.wait(self.interval):
            try:
                self.run_once()
            except Exception as exc:
                if time.monotonic() - last_warning > 30:
                    last_warning = time.monotonic()
                    log.warning("sequence gap round failed, will retry", extra={"error": str(exc)[:300]})
