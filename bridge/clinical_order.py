"""One partition's entries, as read from its stream, put back into each bed's sample-time order for the engine.

Consumers that share the subscription (and a consumer's own writer threads) append a bed's samples in the order
their batches are handed over, not in the order the monitor sent them: another consumer may still hold samples of
a second whose later samples are here (its queue is up to a few thousand messages behind). So samples wait here,
per bed, in *steps* of sample time (``step_ms``, 1 s by default), and a step is evaluated once, complete: when its
newest sample has waited ``hold_s`` since it was read, and either a later step of the bed has been read or the
stream has been read to its end. Steps go out in order: one still waiting holds back the later ones.

A step belongs to its monitor's pairing with the bed (``FeedEntry.pairing``, larger for a later pairing): steps
are ordered by pairing, then sample time. A monitor paired later therefore follows its predecessor whatever its
clock says (it may be behind the old monitor's), and the old monitor's samples after that are late.

A step is evaluated on its newest sample (``ts``, then ``seq``), carrying the step's newest cuff reading: at 1 Hz
that is every sample, and a replayed backlog costs one evaluation per bed and second of sample time whatever the
batching, so one consumer and several give the same alarms. A sample of a step already evaluated (a redelivery,
a replay after a crash, a consumer later than ``hold_s``) is skipped and counted as ``late``; one the partition's
previous owner had already read (``seen_until``: it was evaluated there, or counted late there) is skipped and
counted as ``repeated``. A new owner resumes at the offset, before entries the old one evaluated out of read order
(a bed's step waits while another bed's go), so a takeover re-reads some: they are not samples the evaluator missed.

The hold covers a consumer that keeps feeding, however much slower: its next step of a bed is read before the
other's later steps are due. It does not cover consumers that stall together in a backlog (a commit that holds them,
a starved machine): the steps read before the stall wait out the hold and go, and the samples of those seconds that
the other consumer fed after the stall come late. So each sample entry names its consumer (``FeedEntry.feeder``),
and while the partition replays a backlog (its newest sample read is more than ``REPLAY_LAG_MS`` older than the wall
clock) a bed's step also waits for every consumer that fed the bed and fed the partition in the last
``FEEDER_WAIT_S``, until it has fed a later step of the bed, for at most ``FEEDER_WAIT_S`` beyond the hold. A
consumer among the announced feeders (``live_keys.CLINICAL_FEEDERS``, :class:`bridge.consumer.presence.Presence`)
is waited for the same way on a bed it has fed nothing of yet: one whose first batch comes later than the hold
after another's (a consumer started late, or slow to its first commit) is known before its entries are. Live
(samples read within seconds of their time) nothing waits longer than the hold: an alarm is not delayed for a
consumer that may have nothing more of the bed.

``offset`` is the newest entry id up to which every entry read is evaluated or skipped: where a new owner of the
partition resumes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.clinical_feed import FeedEntry, decode
from data.live_store import StreamEntry, parse_stream_id
from domain.vitals_contract import DeviceStatus, VitalsMessage

__all__ = ["REPLAY_LAG_MS", "PartitionOrder", "Unit"]

REPLAY_LAG_MS = 5_000  # samples read this much after their time come from a backlog
FEEDER_WAIT_S = 5.0  # a consumer that fed the partition this recently is waited for, this long at most
FEEDER_FORGET_S = 60.0  # a consumer not read for this long is forgotten
_NO_STEP = (-1, -1)


@dataclass(frozen=True, slots=True)
class Unit:
    """What the engine evaluates next for ``bed``: one step's sample (``msg``) or one status update."""

    bed: str
    step: int | None = None
    msg: VitalsMessage | None = None
    pairing: int = 0
    status: DeviceStatus | None = None
    received: int = 0
    seen: float = 0.0  # time.monotonic() when the last of the step's samples was read


@dataclass(slots=True)
class _Waiting:
    entry_id: str
    msg: VitalsMessage
    seen: float  # time.monotonic() when read


@dataclass(slots=True)
class _Feeder:
    """One consumer's progress in a partition."""

    seen: float  # time.monotonic() when its last entry was read
    steps: dict[str, tuple[int, int]] = field(default_factory=dict)  # bed -> newest (pairing, step) it fed
    announced: bool = False  # among the announced feeders at the last :meth:`PartitionOrder.ready`

    def may_bring(self, bed: str, step: tuple[int, int]) -> bool:
        """It may still feed samples of ``bed``'s ``step``: it fed none later, and it fed the bed or is announced."""
        fed = self.steps.get(bed)
        return self.announced if fed is None else fed <= step


class PartitionOrder:
    """Entries in (:meth:`add`), units out (:meth:`add` for status updates, :meth:`ready` for samples).

    ``evaluated(bed)`` is the newest ``(pairing, step)`` of the bed already evaluated (``None``: none yet);
    ``seen_until`` the newest entry id the partition's previous owner had read when it committed that state."""

    def __init__(
        self,
        step_ms: int,
        hold_s: float,
        evaluated: Callable[[str], tuple[int, int] | None],
        seen_until: str | None = None,
    ) -> None:
        self.step_ms = step_ms
        self.hold_s = hold_s
        self.evaluated = evaluated
        self.offset: str | None = None
        self.late = 0
        self.repeated = 0
        self._seen_until = parse_stream_id(seen_until) if seen_until else None
        self.broken = 0
        self._beds: dict[str, dict[tuple[int, int], list[_Waiting]]] = {}  # bed -> (pairing, step) -> samples
        self._read: deque[str] = deque()
        self._waiting: set[str] = set()
        self._feeders: dict[str, _Feeder] = {}
        self.replaying = False  # the last read that brought samples brought a backlog's (``REPLAY_LAG_MS``)

    def add(self, entries: list[StreamEntry], now: float, wall_ms: int) -> list[Unit]:
        """Take entries read in stream order at ``now`` (``time.monotonic()``; ``wall_ms``: the epoch ms then);
        return the status updates among them (applied at once)."""
        units: list[Unit] = []
        newest: int | None = None
        for entry_id, fields in entries:
            self._read.append(entry_id)
            entry: FeedEntry | None = decode(entry_id, fields)
            if entry is None:
                self.broken += 1
            elif entry.msg is not None:
                step = (entry.pairing, entry.msg.ts // self.step_ms)
                newest = entry.msg.ts if newest is None else max(newest, entry.msg.ts)
                if entry.feeder:
                    self._fed(entry.feeder, entry.bed, step, now)
                self._wait(entry.bed, entry_id, step, entry.msg, now)
            else:
                units.append(Unit(entry.bed, status=entry.status, received=entry.received))
        if newest is not None:
            self.replaying = wall_ms - newest > REPLAY_LAG_MS
        self._advance()
        return units

    def _fed(self, name: str, bed: str, step: tuple[int, int], now: float) -> None:
        feeder = self._feeders.get(name)
        if feeder is None:
            feeder = self._feeders[name] = _Feeder(now)
        feeder.seen = now
        if step > feeder.steps.get(bed, _NO_STEP):
            feeder.steps[bed] = step

    def _waited_for(self, now: float, announced: frozenset[str]) -> list[_Feeder]:
        """The consumers a step may still wait for: while the partition replays, those ``announced`` and those that
        fed it in the last ``FEEDER_WAIT_S``, when there are two or more."""
        feeders = self._feeders
        for name in [n for n, f in feeders.items() if now - f.seen > FEEDER_FORGET_S and n not in announced]:
            del feeders[name]
        for name in announced - feeders.keys():
            feeders[name] = _Feeder(now)
        for name, feeder in feeders.items():
            feeder.announced = name in announced
        if not self.replaying:
            return []
        feeding = [f for f in feeders.values() if f.announced or now - f.seen <= FEEDER_WAIT_S]
        return feeding if len(feeding) > 1 else []

    def _wait(self, bed: str, entry_id: str, step: tuple[int, int], msg: VitalsMessage, now: float) -> None:
        last = self.evaluated(bed)
        if last is not None and step <= last:
            if self._seen_until is not None and parse_stream_id(entry_id) <= self._seen_until:
                self.repeated += 1
            else:
                self.late += 1
            return
        self._beds.setdefault(bed, {}).setdefault(step, []).append(_Waiting(entry_id, msg, now))
        self._waiting.add(entry_id)

    def holds(self, bed: str) -> bool:
        """Samples of ``bed`` are waiting here: more of its time is on its way."""
        return bed in self._beds

    def ready(self, exhausted: bool, now: float, announced: frozenset[str] = frozenset()) -> list[Unit]:
        """The steps now complete, per bed in sample-time order. ``exhausted``: the last read reached the end of
        the stream; ``announced``: the consumers now among the announced feeders."""
        units: list[Unit] = []
        feeders = self._waited_for(now, announced)
        for bed in list(self._beds):
            steps = self._beds[bed]
            order = sorted(steps)
            for n, step in enumerate(order):
                followed = n + 1 < len(order) or exhausted
                waited = now - max(w.seen for w in steps[step])
                if not followed or waited < self.hold_s:
                    break
                if waited < self.hold_s + FEEDER_WAIT_S and any(f.may_bring(bed, step) for f in feeders):
                    break  # a consumer may still bring samples of this step
                units.append(self._unit(bed, step, steps.pop(step)))
            if not steps:
                del self._beds[bed]
        self._advance()
        return units

    def _unit(self, bed: str, step: tuple[int, int], waiting: list[_Waiting]) -> Unit:
        """The step's newest sample, with the step's newest cuff reading when it has none itself."""
        for w in waiting:
            self._waiting.discard(w.entry_id)
        newest = max(waiting, key=lambda w: (w.msg.ts, w.msg.seq)).msg
        if not newest.has_nibp:
            cuffs = [w.msg for w in waiting if w.msg.has_nibp]
            if cuffs:
                cuff = max(cuffs, key=lambda m: (m.ts, m.seq))
                newest = newest._replace(sbp=cuff.sbp, dbp=cuff.dbp, map=cuff.map)
        return Unit(bed, step=step[1], msg=newest, pairing=step[0], seen=max(w.seen for w in waiting))

    def _advance(self) -> None:
        read, waiting = self._read, self._waiting
        while read and read[0] not in waiting:
            self.offset = read.popleft()
