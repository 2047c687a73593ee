"""The consumer's clinical step: NEWS2 and the alarm engine for every stored sample, a 1 Hz tick, and the
control channel (acknowledge, new nurse observation, changed limits, admission changes) from the web app.

Everything clinical belongs to the admission lying in the bed, not to the bed: NEWS2's oxygen, ACVPU and manual
vitals come only from observations of the bed's current admission, and when the occupant changes (an ``adt``
control message, or a reload that finds another admission) the bed starts clean: alarm state, last values, NEWS2.

The engine (``domain.alarms``) is pure; this module feeds it, publishes its changes (``pantau:alarms:{ward}``,
``pantau:ward:{ward}``; docs/live-data.md) and hands them to the :class:`~bridge.alarm_journal.AlarmJournal`,
which stores them in ``alarm_event``. Alarm state is snapshotted to the live store so a restarted consumer resumes
in-progress delays and active alarms.

Two ways in. The embedded demo hands each batch over in the process (``on_samples``: alarm delays on the
processing clock). Production reads the beds' samples back from Redis streams partitioned by bed
(:mod:`bridge.clinical_worker`, with a :class:`Scope`: the partitions this evaluator owns): there every alarm delay
runs on the *sample's* time (each bed has its own clock, the newest sample time, advanced by the wall clock only
while its partition is caught up), so a replayed backlog gives the episodes their real length. A monitor newly
paired with the bed whose clock is behind the bed's continues the bed's time (its samples are shifted by the
difference), so its episodes keep their real length too.

Outages (a nurse must see an alarm whatever is down):

* the database is never on the way to a screen: changes are published first and stored by the journal, which
  keeps them in order and retries until the database is back;
* every ``REPUBLISH_EVERY_S`` the whole alarm state of every ward (each bed's alarms, set or cleared) is written
  and published again, and NEWS2 scores that failed to publish are sent again, so a key or a screen that missed a
  message while the live store was away converges within seconds of its return;
* the unsaved journal is snapshotted to the live store, so a consumer killed during a database outage loses at
  most the last second of it.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import orjson
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bridge.alarm_journal import AlarmJournal, Stored
from data import live_keys
from data.alarm_limits import bed_limits
from data.cuff_readings import CuffReading, Stay, open_stays, stay_cuff_readings
from data.db import Database
from data.live_store import LiveBatch, LiveStore
from data.models import AlarmEvent, AlarmLimit, Bed, BedOccupancy, DeviceAssignment, Observation, Ward
from data.wards import occupants
from domain import clock
from domain.alarms import BedAlarms, Change, Limits, Reading, effective_limits, ward_profile
from domain.clock import epoch_ms, utcnow
from domain.news2 import NOT_APPLICABLE, news2
from domain.qsofa import POSITIVE_THRESHOLD as QSOFA_POSITIVE
from domain.qsofa import altered_from_acvpu, qsofa
from domain.vitals_contract import MEASURED_FIELDS, VitalsMessage

if TYPE_CHECKING:
    from bridge.clinical_order import Unit

log = logging.getLogger(__name__)
OBSERVATION_VALID = timedelta(hours=12)  # oxygen/ACVPU older than this no longer completes a NEWS2
MANUAL_VITAL_VALID = timedelta(hours=4)  # a manual vital fills in for a missing monitor value this long
SNAPSHOT_EVERY_S = 10
REPUBLISH_EVERY_S = 3  # a screen or key that missed an alarm message is right again within this long
# The web app's control messages only hurry a reload along: one lost (the live store away when the change was
# committed) is read from the database within this long, and as soon as the control subscription is back.
RECONCILE_EVERY_S = 60.0
RECONCILE_RETRY_S = 5.0  # after a reload the database refused
JOURNAL_IDLE_S = 1.0
FLUSH_WAIT_S = 5.0  # how long a flush waits for another still running (stuck on a database that does not answer)
NEWS2_INPUTS = ("rr", "spo2", "sbp", "hr", "temp")
SILENT_MS = 1000  # durable path: a bed's time runs on the wall clock only after this long without a sample
_PAIRED_BEDS = select(DeviceAssignment.bed_id).where(DeviceAssignment.until.is_(None))  # beds with a monitor now
NOT_SCORED = (None, True, NOT_APPLICABLE, None)  # the NEWS2 summary of a patient NEWS2 does not score


def _epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_ms(moment)


@dataclass
class BedContext:
    """What the engine needs to know about one bed beside the samples."""

    bed_id: int
    code: str
    ward: str
    limits: Limits
    spo2_scale: int = 1
    on_oxygen: bool | None = None
    consciousness: str | None = None
    observed_ms: int | None = None
    manual: dict[str, tuple[float, int]] = field(default_factory=dict)  # parameter → (value, epoch ms)
    last: dict[str, float | None] = field(default_factory=dict)
    news2: tuple | None = None
    occupied: bool = True  # an empty bed's monitor is not a patient: no NEWS2, no alarms
    # NEWS2 and qSOFA score from then (16th birthday; never: maternity ward, pregnant or postpartum); None: now
    scored_from_ms: int | None = None
    paired: bool = False  # a monitor is paired with the bed: its silence is "no data", even before a first sample
    admission_id: int | None = None  # whose context this is; another admission starts clean
    alarms: BedAlarms = field(default_factory=BedAlarms)
    # Durable path only: the bed's clock (newest sample time evaluated, received by a consumer at ``heard_ms``,
    # epoch ms), the newest (pairing, step of sample time) evaluated (bridge.clinical_order), and what the current
    # pairing's samples add to their time to continue the bed's clock (its monitor's clock is behind the previous).
    clock_ms: int | None = None
    heard_ms: int = 0
    last_step: tuple[int, int] | None = None
    offset_ms: int = 0


def _saved_state(context: BedContext) -> dict[str, str | int | None]:
    """What a snapshot keeps of a bed: its alarm state, its monitors' newest NEWS2 inputs (a cuff reading comes
    only every few minutes) and whose stay they belong to."""
    return {
        "state": orjson.dumps(context.alarms.to_dict()).decode(),
        "last": orjson.dumps(context.last).decode(),
        "admission": context.admission_id,
    }


def _saved_clock(context: BedContext) -> dict[str, int | None]:
    """What a durable-path snapshot keeps of a bed's clock (:meth:`ClinicalPipeline.restore_beds` reads it)."""
    pairing, step = context.last_step if context.last_step is not None else (None, None)
    return {"clock": context.clock_ms, "step": step, "pairing": pairing, "offset": context.offset_ms}


def _scored_with(context: BedContext) -> tuple:
    """What of the bed's stay its score depends on and the database holds: a reload that finds it changed rescores."""
    return context.admission_id, context.observed_ms, context.scored_from_ms, context.spo2_scale


def _moved_in(context: BedContext, admission_id: int | None) -> bool:
    """Whether the bed's stay, as just read, is of a patient other than the one its context is of."""
    return admission_id not in (None, context.admission_id)


class Scope(Protocol):
    """Which beds this evaluator answers for (the durable path, :mod:`bridge.clinical_worker`)."""

    def owns(self, bed_code: str) -> bool:
        """The bed's partition is this evaluator's: its alarms are published and stored here."""
        ...

    def silence_ms(self, bed_code: str) -> int | None:
        """How long the bed's partition has been read to its end since the bed's last step evaluated here was read;
        ``None`` while no time may pass for the bed by the wall clock (not owned, not read to its end, or
        samples of it waiting)."""
        ...

    def flowing_ms(self) -> int | None:
        """How long samples have been evaluated here since the first one (``None`` before any): a bed with nothing
        while others' samples flow has a silent monitor, not a backlog still to come."""
        ...


class ClinicalPipeline:
    """Thread-safe: ``on_samples`` runs on the consumer's thread, ``tick`` and control on this one's."""

    def __init__(
        self, db: Database, live: LiveStore, *, site_id: int | None = None, scope: Scope | None = None
    ) -> None:
        self.db, self.live, self.site_id, self.scope = db, live, site_id, scope
        self._lock = threading.RLock()
        self._changes: list[tuple[BedContext, list[Change]]] = []  # collected by _batch, written by _flush
        self._scores: list[tuple[BedContext, tuple]] = []
        self._beds: dict[str, BedContext] = {}
        self._stop = threading.Event()
        self._inbox: queue.SimpleQueue[tuple[list, int]] = queue.SimpleQueue()
        self._running = False
        self._threads: list[threading.Thread] = []
        self._last_snapshot = 0.0
        self._last_republish = 0.0
        self.journal = AlarmJournal(db)
        self._journal_wake = threading.Event()
        self._journal_saved = 0  # the journal revision last written to the live store
        self._unsent: dict[str, tuple[BedContext, tuple]] = {}  # bed → NEWS2 summary not yet published
        self._live_down = False
        self._journal_restored = False  # until then the journal's snapshot belongs to the previous run
        self._state_restored = False  # alarm state snapshots are read once, by the first load
        # Run after an ``adt`` control message (the consumer's device map: a new monitor pairing counts at once).
        self.adt_listeners: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ set-up

    def load(self) -> None:
        """(Re)load beds, limits, occupancy and observations from the database; the first time, restore the alarm
        snapshots (a reload for changed limits must not put back a state up to ``SNAPSHOT_EVERY_S`` old)."""
        with self.db.session() as session:
            query = select(Bed, Ward).join(Ward).where(Bed.active.is_(True))
            if self.site_id is not None:
                query = query.where(Ward.site_id == self.site_id)
            rows = session.execute(query).all()
            overrides: dict[int, dict] = {}
            for limit in session.scalars(select(AlarmLimit)):
                overrides.setdefault(limit.bed_id, {})[limit.parameter] = (limit.low, limit.high)
            stays = {
                bed_id: (admission_id, scale)
                for bed_id, admission_id, scale in session.execute(
                    select(BedOccupancy.bed_id, BedOccupancy.admission_id, BedOccupancy.spo2_scale).where(
                        BedOccupancy.until.is_(None)
                    )
                )
            }
            newest = self._latest_observations(session, [admission_id for admission_id, _ in stays.values()])
            observations = {bed_id: newest.get(admission_id) for bed_id, (admission_id, _) in stays.items()}
            paired = set(session.scalars(_PAIRED_BEDS))
            patients = occupants(session)
            arrived = self._new_patients(rows, stays) if self._state_restored else set()
            cuffs = self._stored_cuff_readings(session, arrived) if arrived else {}
        now_ms = clock.now_ms()
        with self._batch():  # only now: no database round trip may hold up the alarms
            for bed, ward in rows:
                context = self._beds.get(bed.code) or BedContext(bed.id, bed.code, ward.code, Limits())
                before = _scored_with(context)
                patient = patients.get(bed.id)
                profile = patient.profile if patient else ward_profile(ward.kind)
                context.limits = effective_limits(profile, overrides.get(bed.id))
                context.paired = bed.id in paired
                context.scored_from_ms = _epoch_ms(patient.scored_from if patient else None)
                self._beds[bed.code] = context
                stay = stays.get(bed.id, (None, 1))
                self._take_stay(context, bed.id in stays, *stay, observations.get(bed.id), now_ms, cuffs.get(bed.code))
                changed = before != _scored_with(context)
                if changed and context.occupied and self._state_restored and self._owns(context):
                    self._apply(context, self._rescore(context, now_ms))  # as its adt or obs message would have
        if not self._state_restored:
            self._restore_snapshots()
            self._state_restored = True
            self.take_stored_cuff_readings(list(self._beds))

    def _new_patients(self, rows: Sequence[tuple[Bed, Ward]], stays: dict[int, tuple[int | None, int]]) -> set[str]:
        """This evaluator's beds whose admission has changed since the last load (a patient admitted or moved in)."""
        codes = set()
        for bed, _ in rows:
            context = self._beds.get(bed.code)
            admission_id = stays.get(bed.id, (None, 1))[0]
            if context is not None and self._owns(context) and _moved_in(context, admission_id):
                codes.add(bed.code)
        return codes

    @staticmethod
    def _stored_cuff_readings(session: Session, codes: set[str]) -> dict[str, CuffReading]:
        """The newest stored cuff reading of the patient's stay on each of the beds ``codes``, on this bed or one
        she was transferred from (``data.cuff_readings``)."""
        stays = {code: stay for code, stay in open_stays(session).items() if code in codes}
        return stay_cuff_readings(session, stays, utcnow())

    def take_stored_cuff_readings(self, codes: list[str]) -> None:
        """Occupied beds of ``codes`` with no systolic score with their patient's newest stored cuff reading, not
        an incomplete NEWS2 until the cuff measures again: at start when a bed's snapshot brought none (the
        embedded demo's in-memory store, or Redis restarted empty), and when a new owner of a partition finds a
        snapshot of the bed's previous admission. The database away is logged: NEWS2 then waits for the cuff."""
        with self._lock:
            beds = [bed for bed in (self._beds.get(code) for code in codes) if bed is not None and bed.occupied]
            wanted = {bed.code for bed in beds if bed.last.get("sbp") is None}
        if not wanted:
            return
        try:
            with self.db.session() as session:
                cuffs = self._stored_cuff_readings(session, wanted)
        except SQLAlchemyError:
            log.warning("stored cuff readings unavailable; NEWS2 waits for the next cuff reading", exc_info=True)
            return
        with self._lock:
            for code, reading in cuffs.items():
                context = self._beds[code]
                if context.last.get("sbp") is None and reading.sbp is not None:
                    context.last["sbp"] = reading.sbp

    @staticmethod
    def _latest_observation(session: Session, admission_id: int | None) -> Observation | None:
        """The admission's newest observation: never one of a previous occupant of the bed."""
        if admission_id is None:
            return None
        return ClinicalPipeline._latest_observations(session, [admission_id]).get(admission_id)

    @staticmethod
    def _latest_observations(session: Session, admission_ids: Collection[int]) -> dict[int, Observation]:
        """Each admission's newest observation, in one query (a reload of every bed asks for all of them)."""
        if not admission_ids:
            return {}
        order = (Observation.taken_at.desc(), Observation.id.desc())
        rank = func.row_number().over(partition_by=Observation.admission_id, order_by=order).label("rank")
        ranked = select(Observation.id, rank).where(Observation.admission_id.in_(admission_ids)).subquery()
        newest = select(Observation).join(ranked, ranked.c.id == Observation.id).where(ranked.c.rank == 1)
        return {row.admission_id: row for row in session.scalars(newest) if row.admission_id is not None}

    def _reload_bed(self, context: BedContext) -> None:
        """An ``adt`` message: read the bed's stay (admission, SpO2 scale), its limits (a transferred patient's own
        came with her, a discharged one's ended) and that admission's observation, then take them over (a new
        occupant starts clean) and rescore."""
        with self.db.session() as session:  # before taking the lock: a slow database must not hold up alarms
            stay = session.execute(
                select(BedOccupancy.admission_id, BedOccupancy.spo2_scale, BedOccupancy.since).where(
                    BedOccupancy.bed_id == context.bed_id, BedOccupancy.until.is_(None)
                )
            ).first()
            admission_id, scale, since = stay if stay is not None else (None, 1, None)
            observation = self._latest_observation(session, admission_id)
            paired = session.scalar(_PAIRED_BEDS.where(DeviceAssignment.bed_id == context.bed_id).limit(1))
            patient = occupants(session, [context.bed_id]).get(context.bed_id)
            scored_from = patient.scored_from if patient else None
            limits = bed_limits(session, context.bed_id, patient.profile if patient else None)
            cuff = None
            if since is not None and _moved_in(context, admission_id):
                readings = stay_cuff_readings(session, {context.code: Stay(context.bed_id, since)}, utcnow())
                cuff = readings.get(context.code)
        now_ms = clock.now_ms()
        with self._batch():
            context.paired = paired is not None
            context.limits = limits
            context.scored_from_ms = _epoch_ms(scored_from)
            self._take_stay(context, stay is not None, admission_id, scale, observation, now_ms, cuff)
            if context.occupied:
                self._apply(context, self._rescore(context, now_ms))

    def _take_stay(
        self,
        context: BedContext,
        occupied: bool,
        admission_id: int | None,
        scale: int,
        observation: Observation | None,
        now_ms: int,
        cuff: CuffReading | None = None,
    ) -> None:
        """The bed's current stay, as read from the database (inside ``_batch``); ``cuff``: the new patient's newest
        stored cuff reading, on this bed or one she was moved from. The first load fills fresh contexts (their
        alarm state comes from the snapshots next): nothing to reset there."""
        if admission_id != context.admission_id and self._state_restored and self._owns(context):
            self._reset(context, now_ms)
            if cuff is not None and cuff.sbp is not None:  # her NEWS2 goes on, not incomplete until the next
                context.last["sbp"] = cuff.sbp
        context.occupied, context.admission_id, context.spo2_scale = occupied, admission_id, scale
        self._use_observation(context, observation)

    def _reset(self, context: BedContext, now_ms: int) -> None:
        """Another occupant (or none): forget the previous patient's alarms, values, observation and NEWS2.

        Her open episodes end now in the journal, which only ends a row still open: one the discharge already
        closed is neither re-opened nor re-written. Screens get the empty alarm list and a blank NEWS2."""
        ended = [Change("ended", replace(alarm, ended_ms=now_ms)) for alarm in context.alarms.active()]
        context.alarms = BedAlarms()
        context.on_oxygen = context.consciousness = context.observed_ms = None
        context.manual.clear()
        context.last.clear()
        self._unsent.pop(context.code, None)
        if context.news2 is not None:
            context.news2 = None
            self._scores.append((context, (None, False, None, None)))
        self._changes.append((context, ended))  # also when none ended: the bed's alarm list is written again

    @staticmethod
    def _use_observation(context: BedContext, obs: Observation | None) -> None:
        if obs is None:
            return
        context.on_oxygen, context.consciousness = obs.on_oxygen, obs.consciousness
        context.observed_ms = epoch_ms(obs.taken_at)
        for name in NEWS2_INPUTS:
            value = getattr(obs, name)
            if value is not None:
                context.manual[name] = (value, context.observed_ms)

    def _restore_snapshots(self) -> None:
        try:
            self.restore_beds(list(self._beds))
        except Exception:  # without the live store we start fresh
            log.warning("alarm snapshots unavailable; starting with empty alarm state")

    def restore_beds(self, codes: list[str]) -> None:
        """Take the beds' alarm state and their monitors' newest NEWS2 inputs from their snapshots (on the durable
        path also their clock and last step, so a new owner of a partition goes on where the previous one
        committed). Raises when the live store is away."""
        stored = self.live.get_latest_many([live_keys.alarm_state(code) for code in codes])
        with self._lock:
            for code in codes:
                context = self._beds.get(code)
                saved = stored.get(live_keys.alarm_state(code), {})
                if context is None or not saved:
                    continue
                # A snapshot of another admission (discharged while the consumer was down) is not this patient's.
                same = saved.get("admission", str(context.admission_id)) == str(context.admission_id)
                if saved.get("state") and same:
                    context.alarms = BedAlarms.from_dict(json.loads(saved["state"]))
                if saved.get("last") and same:  # the newest cuff reading comes only every few minutes
                    context.last = json.loads(saved["last"])
                if self.scope is not None:
                    context.clock_ms = int(saved["clock"]) if saved.get("clock") else None
                    context.heard_ms = clock.now_ms()
                    pairing = int(saved.get("pairing") or 0)
                    context.last_step = (pairing, int(saved["step"])) if saved.get("step") else None
                    context.offset_ms = int(saved.get("offset") or 0)

    def bed_states(
        self, codes: set[str], waits_for: Callable[[str], bool]
    ) -> dict[str, dict[str, str | int | None]] | None:
        """The durable path's snapshot of the beds (``live_keys.alarm_state``): alarm state, admission, clock, last
        pairing and step and the pairing's offset, written by the evaluator together with its partition's offset;
        ``None`` while the journal holds a change not stored yet of a bed ``waits_for`` accepts (its partition's
        beds: a snapshot must never be ahead of the database)."""
        with self._lock:
            if self.journal.holds(waits_for):
                return None
            return {
                live_keys.alarm_state(c.code): {**_saved_state(c), **_saved_clock(c)}
                for c in (self._beds[code] for code in codes if code in self._beds)
            }

    def bed_codes(self) -> list[str]:
        with self._lock:
            return list(self._beds)

    def last_step(self, bed_code: str) -> tuple[int, int] | None:
        """The newest (pairing, step of sample time) evaluated for the bed (durable path)."""
        context = self._beds.get(bed_code)
        return context.last_step if context is not None else None

    def _owns(self, context: BedContext) -> bool:
        return self.scope is None or self.scope.owns(context.code)

    def _bed_now(self, context: BedContext, wall_ms: int) -> int:
        """The bed's time: on the durable path its newest sample time plus the wall time since a consumer received
        that sample."""
        if context.clock_ms is None:
            return wall_ms
        return context.clock_ms + max(0, wall_ms - context.heard_ms)

    # ------------------------------------------------------------------ inputs

    def on_samples(self, samples: list, now_ms: int) -> None:
        """Consumer hook: durable new samples, each with ``.msg`` (VitalsMessage) and ``.bed`` (bed code).

        Once started, the samples are handed to the clinical thread so that scoring never holds up ingestion;
        before ``start()`` (tests) they are evaluated at once."""
        if self._running:
            self._inbox.put((samples, now_ms))
        else:
            self.evaluate(samples, now_ms)

    def evaluate(self, samples: list, now_ms: int) -> None:
        """Score and run the alarm engine. Each bed is evaluated once, on its newest sample (carrying the newest
        cuff reading): at 1 Hz that is every sample, and in a backlog it is the bed's current state — the cost
        stays per bed, not per message."""
        newest: dict[str, VitalsMessage] = {}
        cuff: dict[str, VitalsMessage] = {}
        for sample in samples:
            message, bed = sample.msg, sample.bed
            if bed not in newest or message.ts >= newest[bed].ts:
                newest[bed] = message
            if message.has_nibp and (bed not in cuff or message.ts >= cuff[bed].ts):
                cuff[bed] = message
        with self._batch():
            for bed, message in newest.items():
                context = self._beds.get(bed)
                if context is None or not context.occupied:
                    continue
                reading = cuff.get(bed)
                if reading is not None and not message.has_nibp:
                    message = message._replace(sbp=reading.sbp, dbp=reading.dbp, map=reading.map)
                self._observe(context, message, now_ms)

    def evaluate_units(self, units: list[Unit]) -> set[str]:
        """The durable path: each unit (:mod:`bridge.clinical_order`) of a bed in its sample-time order, with alarm
        delays on the sample's time; returns the beds touched (to snapshot with the partition's offset)."""
        touched: set[str] = set()
        with self._batch():
            for unit in units:
                context = self._beds.get(unit.bed)
                if context is None:
                    continue
                touched.add(unit.bed)
                if unit.msg is not None:
                    ts = self._bed_time(context, unit)
                    now = ts if context.clock_ms is None else max(ts, context.clock_ms)
                    context.clock_ms, context.heard_ms = now, unit.msg.received
                    context.last_step = (unit.pairing, unit.step)
                    if context.occupied:
                        self._observe(context, unit.msg, now)
                elif unit.status is not None and context.occupied:
                    now = self._bed_now(context, unit.received)
                    online, battery = unit.status.online, unit.status.battery
                    changes = context.alarms.observe_status(
                        online is not False, None if battery is None else int(battery), now
                    )
                    self._apply(context, changes)
        return touched

    @staticmethod
    def _bed_time(context: BedContext, unit: Unit) -> int:
        """The unit's sample time on the bed's clock. A monitor paired with the bed after the one evaluated last
        starts a new offset: none when its clock is ahead of the bed's, else the difference, so the bed's time
        (and every alarm delay running on it) goes on where it was rather than stopping until the new clock
        catches up."""
        ts = unit.msg.ts  # type: ignore[union-attr]
        if context.last_step is not None and unit.pairing != context.last_step[0]:
            context.offset_ms = 0 if context.clock_ms is None else max(0, context.clock_ms - ts)
        return ts + context.offset_ms

    def on_status(self, updates: list, now_ms: int) -> None:
        """Consumer hook: device status messages, each with ``.status`` (online, battery) and ``.bed``."""
        with self._batch():
            for update in updates:
                context = self._beds.get(update.bed)
                if context is None or not context.occupied:
                    continue
                online, battery = update.status.online, update.status.battery
                changes = context.alarms.observe_status(
                    online is not False, None if battery is None else int(battery), now_ms
                )
                self._apply(context, changes)

    def _observe(self, context: BedContext, m: VitalsMessage, now_ms: int) -> None:
        reading = Reading(ts_ms=m.ts, received_ms=m.received, **{f: getattr(m, f) for f in MEASURED_FIELDS})
        changes = context.alarms.observe(reading, context.limits, now_ms)
        for name in ("rr", "spo2", "hr", "temp"):
            context.last[name] = getattr(m, name)
        if m.sbp is not None:
            context.last["sbp"] = m.sbp
        changes += self._rescore(context, now_ms)
        self._apply(context, changes)

    def _rescore(self, context: BedContext, now_ms: int) -> list[Change]:
        """Score the bed's patient and run the NEWS2 alarm; a patient under 16, pregnant or postpartum, or on a
        maternity ward is not scored (``NOT_SCORED``)."""
        if context.scored_from_ms is not None and now_ms < context.scored_from_ms:
            summary, alarm_total = NOT_SCORED, None
        else:
            summary, alarm_total = self._score(context, now_ms)
        if summary != context.news2:
            context.news2 = summary
            self._scores.append((context, summary))
        return context.alarms.observe_news2(alarm_total, now_ms)

    @staticmethod
    def _score(context: BedContext, now_ms: int) -> tuple[tuple, int | None]:
        """The bed's NEWS2 summary (total, complete, risk, qSOFA positive) and the total its alarm judges."""
        values = {}
        for name in NEWS2_INPUTS:
            value = context.last.get(name)
            manual = context.manual.get(name)
            if value is None and manual and now_ms - manual[1] <= MANUAL_VITAL_VALID.total_seconds() * 1000:
                value = manual[0]
            values[name] = value
        fresh = (
            context.observed_ms is not None and now_ms - context.observed_ms <= OBSERVATION_VALID.total_seconds() * 1000
        )
        score = news2(
            **values,
            on_oxygen=context.on_oxygen if fresh else None,
            consciousness=context.consciousness if fresh else None,
            spo2_scale=context.spo2_scale,
        )
        sepsis_screen = qsofa(
            rr=values["rr"],
            sbp=values["sbp"],
            altered_mentation=altered_from_acvpu(context.consciousness) if fresh else None,
        )
        # Two known criteria already make the screen positive, whatever the unknown third would be.
        positive = True if sepsis_screen.total >= QSOFA_POSITIVE else sepsis_screen.positive
        # An incomplete total is a lower bound: it may raise an alert when it already reaches the threshold.
        alarm_total = score.total if score.complete or score.total >= 5 else None
        return (score.total, score.complete, score.risk, positive), alarm_total

    def tick(self, now_ms: int) -> None:
        """About once a second: no-data detection, escalation, the periodic republish, snapshots."""
        with self._batch():
            for context in self._beds.values():
                bed_now = self._tick_time(context, now_ms) if context.occupied else None
                if bed_now is not None:
                    self._apply(context, context.alarms.tick(bed_now))
        if time.monotonic() - self._last_republish >= REPUBLISH_EVERY_S:
            self._last_republish = time.monotonic()
            self.republish()
        if self.scope is not None:
            return  # the evaluator snapshots its beds with their partition's offset
        if time.monotonic() - self._last_snapshot >= SNAPSHOT_EVERY_S:
            self._last_snapshot = time.monotonic()
            self.snapshot()
        else:
            self._save_journal()

    def _tick_time(self, context: BedContext, wall_ms: int) -> int | None:
        """The bed's time for a tick, or ``None`` when none may pass. On the durable path the wall clock moves a
        bed's time on only by how long its partition has been read to its end with no new sample of the bed, once
        that is ``SILENT_MS``: while samples flow (a backlog too, however late they are read) they alone make its
        time, so a replay raises the same alarms however fast it is read. A bed with nothing evaluated yet (no
        snapshot of its clock) whose monitor is paired, while other beds' samples flow, has a monitor silent since
        this evaluator took it over: its time starts on the wall clock from then, so its "no data" is raised too."""
        if self.scope is None:
            return self._bed_now(context, wall_ms)
        silence = self.scope.silence_ms(context.code)
        if silence is None or silence < SILENT_MS:
            return None
        if context.clock_ms is None:
            if not context.paired:
                return None  # no monitor: nothing is missing
            flowing = self.scope.flowing_ms()
            if flowing is None or flowing < SILENT_MS:
                return None  # no samples flow yet (consumers starting, a backlog to come): not this bed's silence
            context.clock_ms = context.heard_ms = wall_ms - silence
        return context.clock_ms + silence

    def handle_control(self, raw: str) -> None:
        """A message on ``live_keys.CONTROL_CHANNEL`` from the web app."""
        try:
            message = json.loads(raw)
            kind, code = message["t"], message.get("bed")
        except (ValueError, KeyError, TypeError):
            log.warning("malformed control message ignored")
            return
        if kind == "adt":
            self._on_adt(code)
            return
        if kind in ("limits", "wards"):
            self.load()
            return
        context = self._beds.get(code)
        if context is None or not self._owns(context):
            return
        if kind == "obs":
            with self.db.session() as session:  # before taking the lock: a slow database must not hold up alarms
                observation = self._latest_observation(session, context.admission_id)
        now_ms = clock.now_ms()
        with self._batch():
            if kind == "ack":
                change = context.alarms.acknowledge(
                    message["condition"], message.get("by_id") or message.get("by"), message.get("where"), now_ms
                )
                self._apply(context, [change] if change else [])
            elif kind == "obs":
                self._use_observation(context, observation)
                self._apply(context, self._rescore(context, now_ms))

    def _on_adt(self, code: str | None) -> None:
        """Admitted, transferred, discharged or a monitor paired: the listeners (device map) first, then the bed
        (a bed not known yet, new since the last load, loads everything)."""
        self._tell_adt_listeners()
        context = self._beds.get(code or "")
        if context is None:
            self.load()
        elif self._owns(context):
            self._reload_bed(context)

    # ------------------------------------------------------------------ outputs

    @contextmanager
    def _batch(self) -> Iterator[None]:
        """Hold the lock; collect alarm changes and NEWS2 updates; write them together at the end (one database
        transaction, one live-store round trip), however many beds changed."""
        with self._lock:
            self._changes, self._scores = [], []
            try:
                yield
            finally:
                changes, scores = self._changes, self._scores
                self._changes, self._scores = [], []
                self._flush(changes, scores)

    def _apply(self, context: BedContext, changes: list[Change]) -> None:
        if changes:
            self._changes.append((context, changes))

    def _flush(self, changes: list[tuple[BedContext, list[Change]]], scores: list[tuple[BedContext, tuple]]) -> None:
        """Publish first (the screens never wait for the database), then hand the changes to the journal."""
        if not changes and not scores:
            return
        batch = self.live.batch()
        for context, bed_changes in changes:
            self.journal.append(context.bed_id, context.code, bed_changes)
            for change in bed_changes:
                if change.kind == "escalated":
                    log.warning("alarm escalated", extra={"bed": context.code, "condition": change.alarm.condition})
        for context in {id(c): c for c, _ in changes}.values():
            self._write_alarms(batch, context)
        self._unsent.update({context.code: (context, summary) for context, summary in scores})
        self._write_scores(batch)
        self._send(batch)
        if self._running:
            if changes:
                self._journal_wake.set()
        elif len(self.journal):  # no journal thread (tests, before start): store now, after publishing
            self.store_pending()

    def _write_alarms(self, batch: LiveBatch, context: BedContext) -> None:
        """The bed's whole alarm list: its field of the ward's hash (removed when none) and one ``a`` message."""
        active = [a.live() for a in context.alarms.active()]
        batch.set_latest(live_keys.ward_alarms(context.ward), {context.code: json.dumps(active) if active else None})
        batch.publish(
            live_keys.ward_channel(context.ward), json.dumps({"t": "a", "bed": context.code, "alarms": active})
        )

    def _write_scores(self, batch: LiveBatch) -> None:
        """NEWS2 and the qSOFA screen beside it (DESIGN §5's secondary badge), into the hash and to the ward, for
        every bed whose newest score is not yet published."""
        for context, summary in self._unsent.values():
            total, complete, risk, qsofa_positive = summary
            self._write_score_fields(batch, context, summary)
            batch.publish(
                live_keys.ward_channel(context.ward),
                json.dumps(
                    {
                        "t": "n",
                        "bed": context.code,
                        "news2": total,
                        "complete": complete,
                        "risk": risk,
                        "qsofa": qsofa_positive,
                    }
                ),
            )

    @staticmethod
    def _write_score_fields(batch: LiveBatch, context: BedContext, summary: tuple) -> None:
        total, complete, risk, qsofa_positive = summary
        batch.set_latest(
            live_keys.latest(context.code),
            {
                "news2": total,
                "news2_complete": "1" if complete else "0",
                "news2_risk": risk,
                "qsofa": {True: "1", False: "0"}.get(qsofa_positive),
            },
        )

    def _send(self, batch: LiveBatch) -> None:
        """Execute ``batch``; when the live store is away, keep the scores for the next try (the alarms are
        rewritten whole by ``republish``). Logged once per outage."""
        try:
            batch.execute()
        except Exception:
            if not self._live_down:
                log.warning("could not publish alarms and scores; republishing until the live store is back")
            self._live_down = True
            return
        if self._live_down:
            log.info("live store back; alarms and scores republished")
        self._live_down = False
        self._unsent.clear()

    def republish(self) -> None:
        """Write every bed's alarms (set or cleared) again and publish them to the wards, send the unsent scores,
        and put each occupied bed's NEWS2 back into its hash (a restarted Redis is empty, and a steady score is
        otherwise written only when it changes): whatever a key or a screen missed is right again after this."""
        with self._lock:
            batch = self.live.batch()
            for context in self._beds.values():
                if not self._owns(context):
                    continue
                self._write_alarms(batch, context)
                if context.occupied and context.news2 is not None and context.code not in self._unsent:
                    self._write_score_fields(batch, context, context.news2)
            self._write_scores(batch)
            self._send(batch)

    def store_pending(self) -> None:
        """Store what the journal holds (the journal thread's work); give the engine the ids of newly stored
        alarms, which the live objects then carry. Never waits long for a flush already running, so ``stop()``
        cannot hang on an unreachable database."""
        stored = self.journal.flush(wait_s=FLUSH_WAIT_S)
        if stored:
            with self._lock:
                for row in stored:
                    self._assign_id(row)

    def sync_acknowledgements(self) -> None:
        """Take over acknowledgements the web app stored but whose control message never came (the live store was
        away when it was sent, or the subscription was being renewed): otherwise the alarm would go on sounding and
        escalate although a nurse has acknowledged it. One query by primary key; the database is read outside the
        lock."""
        with self._lock:
            waiting = {
                a.id: (context, a.condition)
                for context in self._beds.values()
                if self._owns(context)
                for a in context.alarms.active()
                if a.id is not None and a.acked_ms is None
            }
        if not waiting:
            return
        with self.db.session() as session:
            acked = session.execute(
                select(
                    AlarmEvent.id, AlarmEvent.acknowledged_at, AlarmEvent.acknowledged_by, AlarmEvent.acknowledged_where
                ).where(AlarmEvent.id.in_(waiting), AlarmEvent.acknowledged_at.is_not(None))
            ).all()
        if not acked:
            return
        with self._batch():
            for row_id, at, by, where in acked:
                context, condition = waiting[row_id]
                if any(a.id == row_id and a.acked_ms is None for a in context.alarms.active()):  # still that episode
                    change = context.alarms.acknowledge(condition, by, where, epoch_ms(at))
                    self._apply(context, [change] if change else [])

    def _assign_id(self, row: Stored) -> None:
        context = self._beds.get(row.bed_code)
        if context is None:
            return
        for alarm in context.alarms.active():
            if alarm.condition == row.condition and alarm.started_ms == row.started_ms and alarm.id is None:
                context.alarms.assign_id(row.condition, row.alarm_id)

    def snapshot(self) -> None:
        """Write every bed's alarm state and the unsaved journal to the live store (resumed by ``start``). Not on the
        durable path, whose evaluator snapshots its beds with their partition's offset."""
        if self.scope is not None:
            return
        with self._lock:
            states = {live_keys.alarm_state(code): _saved_state(c) for code, c in self._beds.items()}
        try:
            for key, state in states.items():
                self.live.set_latest(key, state)
        except Exception:
            log.warning("alarm snapshot failed")
        self._save_journal()

    def _save_journal(self) -> None:
        """Snapshot the journal when it changed since the last snapshot (at most once a tick). Not before the
        previous run's snapshot has been read, which would otherwise be overwritten unread."""
        if not self._journal_restored:
            self._restore_journal()
            if not self._journal_restored:
                return
        revision = self.journal.revision
        if revision == self._journal_saved:
            return
        pending = self.journal.to_list()
        try:
            self.live.set_latest(
                live_keys.alarm_journal(self.site_id), {"pending": json.dumps(pending) if pending else None}
            )
        except Exception:
            return  # the live store is away: kept for the next tick
        self._journal_saved = revision

    def _restore_journal(self) -> None:
        """Queue the changes a previous run could not store (stored ones are recognised and not stored twice)."""
        try:
            raw = self.live.get_latest(live_keys.alarm_journal(self.site_id)).get("pending")
        except Exception:
            log.warning("alarm journal snapshot unavailable; trying again")
            return
        self._journal_restored = True
        if raw:
            self.journal.restore(json.loads(raw))
            log.info("alarm journal restored: %d unsaved changes", len(self.journal))

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Load, then run the tick, the control subscription, the samples and the journal in background threads."""
        self.load()
        if self.scope is None:  # the durable path replays its partitions instead
            self._restore_journal()
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._tick_loop, name="clinical-tick", daemon=True),
            threading.Thread(target=self._control_loop, name="clinical-control", daemon=True),
            threading.Thread(target=self._work_loop, name="clinical-samples", daemon=True),
            threading.Thread(target=self._journal_loop, name="clinical-journal", daemon=True),
        ]
        self._running = True
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the threads; score what is left, try once more to store the journal, and snapshot what is not
        stored (the next start resumes it)."""
        self._stop.set()
        self._journal_wake.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._running = False
        self._drain_inbox()  # what the consumer handed over last is still scored
        self.store_pending()
        if len(self.journal):
            log.warning("stopping with %d unsaved alarm changes; kept in the live store", len(self.journal))
        self.snapshot()

    def _work_loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            self._drain_inbox([first])

    def _drain_inbox(self, items: list | None = None) -> None:
        """Evaluate everything waiting, merged: a backlog costs one evaluation per bed, not one per batch."""
        items = list(items or [])
        while True:
            try:
                items.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        if not items:
            return
        try:
            self.evaluate([s for batch, _ in items for s in batch], items[-1][1])
        except Exception:  # scoring must never stop; the samples themselves are already stored
            log.exception("clinical evaluation failed")

    def _tell_adt_listeners(self) -> None:
        for listener in self.adt_listeners:
            listener()

    def _tick_loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.tick(clock.now_ms())
            except Exception:  # a bad tick must not stop alarm supervision
                log.exception("alarm tick failed")

    def _journal_loop(self) -> None:
        """The clinical step's database thread: store alarm changes as they come, retry with the journal's backoff
        while the database is away, and, when nothing waits, take over acknowledgements every
        ``REPUBLISH_EVERY_S``."""
        last_sync = 0.0
        while not self._stop.is_set():
            delay = self.journal.retry_in()
            if delay is None and time.monotonic() - last_sync >= REPUBLISH_EVERY_S:
                last_sync = time.monotonic()
                try:
                    self.sync_acknowledgements()
                except Exception:  # the database is away: the journal will notice and back off
                    log.debug("acknowledgements not synchronised", exc_info=True)
            if delay != 0:
                self._journal_wake.wait(JOURNAL_IDLE_S if delay is None else min(delay, JOURNAL_IDLE_S))
                self._journal_wake.clear()
                continue
            self.store_pending()

    def _control_loop(self) -> None:
        """Control messages in order, and between them a reload of every bed every ``RECONCILE_EVERY_S`` and
        after the subscription was away (on this thread, so a reload never races an ``adt`` message's)."""
        reload_at = time.monotonic() + RECONCILE_EVERY_S  # start() has just loaded
        while not self._stop.is_set():
            try:
                with self.live.subscribe(live_keys.CONTROL_CHANNEL) as subscription:
                    while not self._stop.is_set():
                        if time.monotonic() >= reload_at:
                            reload_at = time.monotonic() + self._reconcile()
                        message = subscription.get(timeout=1.0)
                        if message is not None:
                            self._handle_safely(message[1])
            except Exception:  # live store down: retry, then read what its messages would have said
                log.exception("control channel failed; retrying")
                reload_at = 0.0
                self._stop.wait(2.0)

    def _reconcile(self) -> float:
        """Reload every bed from the database, then tell the ``adt`` listeners (a monitor moved by a transfer whose
        message was lost is mapped to its new bed now, not at the device map's own next reload); the seconds until
        the next reload."""
        try:
            self.load()
        except Exception as exc:  # the database away: no traceback every few seconds, the journal logs the outage
            log.warning("beds not reloaded from the database; trying again soon", extra={"error": str(exc)[:300]})
            return RECONCILE_RETRY_S
        self._tell_adt_listeners()
        return RECONCILE_EVERY_S

    def _handle_safely(self, raw: str) -> None:
        """One failing message (an observation read while the database is away) must not drop the subscription
        and with it the acknowledgements sent meanwhile."""
        try:
            self.handle_control(raw)
        except Exception:
            log.exception("control message failed")
