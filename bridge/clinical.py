"""The consumer's clinical step: NEWS2 and the alarm engine for every stored sample, a 1 Hz tick, and the
control channel (acknowledge, new nurse observation, changed limits) from the web app.

The engine (``domain.alarms``) is pure; this module feeds it, persists its changes to ``alarm_event`` and
publishes them (``pantau:alarms:{ward}``, ``pantau:ward:{ward}``; docs/live-data.md). Alarm state is
snapshotted to the live store so a restarted consumer resumes in-progress delays and active alarms.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.db import Database
from data.live_store import LiveStore
from data.models import AlarmEvent, AlarmLimit, Bed, BedOccupancy, Observation, Ward
from domain.alarms import PARAMETERS, BedAlarms, Change, Limits, Reading, effective_limits
from domain.news2 import news2
from domain.qsofa import POSITIVE_THRESHOLD as QSOFA_POSITIVE
from domain.qsofa import altered_from_acvpu, qsofa
from domain.vitals_contract import VitalsMessage

log = logging.getLogger(__name__)
CONTROL_CHANNEL = "pantau:control"
OBSERVATION_VALID = timedelta(hours=12)  # oxygen/ACVPU older than this no longer completes a NEWS2
MANUAL_VITAL_VALID = timedelta(hours=4)  # a manual vital fills in for a missing monitor value this long
SNAPSHOT_EVERY_S = 10
NEWS2_INPUTS = ("rr", "spo2", "sbp", "hr", "temp")
# The message fields the alarm engine reads, under the same names in VitalsMessage and Reading.
READING_FIELDS = (*PARAMETERS, "ecg_status", "spo2_status", "sqi_ecg", "sqi_spo2")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


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
    alarms: BedAlarms = field(default_factory=BedAlarms)


class ClinicalPipeline:
    """Thread-safe: ``on_samples`` runs on the consumer's thread, ``tick`` and control on this one's."""

    def __init__(self, db: Database, live: LiveStore, *, site_id: int | None = None) -> None:
        self.db, self.live, self.site_id = db, live, site_id
        self._lock = threading.RLock()
        self._changes: list[tuple[BedContext, list[Change]]] = []  # collected by _batch, written by _flush
        self._scores: list[tuple[BedContext, tuple]] = []
        self._beds: dict[str, BedContext] = {}
        self._by_device: dict[str, str] = {}
        self._stop = threading.Event()
        self._inbox: queue.SimpleQueue[tuple[list, int]] = queue.SimpleQueue()
        self._running = False
        self._threads: list[threading.Thread] = []
        self._last_snapshot = 0.0

    # ------------------------------------------------------------------ set-up

    def load(self) -> None:
        """(Re)load beds, limits, occupancy and observations from the database; restore alarm snapshots."""
        with self.db.session() as session:
            query = select(Bed, Ward).join(Ward).where(Bed.active.is_(True))
            if self.site_id is not None:
                query = query.where(Ward.site_id == self.site_id)
            rows = session.execute(query).all()
            overrides: dict[int, dict] = {}
            for limit in session.scalars(select(AlarmLimit)):
                overrides.setdefault(limit.bed_id, {})[limit.parameter] = (limit.low, limit.high)
            occupied = set(session.scalars(select(BedOccupancy.bed_id).where(BedOccupancy.until.is_(None))))
            scales = dict(
                session.execute(
                    select(BedOccupancy.bed_id, BedOccupancy.spo2_scale).where(BedOccupancy.until.is_(None))
                ).all()
            )
            with self._lock:
                for bed, ward in rows:
                    profile = "icu" if ward.kind == "icu" else "adult"
                    context = self._beds.get(bed.code) or BedContext(bed.id, bed.code, ward.code, Limits())
                    context.limits = effective_limits(profile, overrides.get(bed.id))
                    context.spo2_scale = scales.get(bed.id, 1)
                    context.occupied = bed.id in occupied
                    self._beds[bed.code] = context
                for code in self._beds:
                    self._load_observation(session, code)
        self._restore_snapshots()

    def _load_observation(self, session: Session, code: str) -> None:
        context = self._beds[code]
        obs = session.scalar(
            select(Observation)
            .where(Observation.bed_id == context.bed_id)
            .order_by(Observation.taken_at.desc())
            .limit(1)
        )
        if obs is None:
            return
        context.on_oxygen, context.consciousness = obs.on_oxygen, obs.consciousness
        context.observed_ms = _ms(obs.taken_at)
        for name in NEWS2_INPUTS:
            value = getattr(obs, name)
            if value is not None:
                context.manual[name] = (value, context.observed_ms)

    def _restore_snapshots(self) -> None:
        keys = [f"pantau:alarmstate:{code}" for code in self._beds]
        try:
            stored = self.live.get_latest_many(keys)
        except Exception:  # without the live store we start fresh
            log.warning("alarm snapshots unavailable; starting with empty alarm state")
            return
        with self._lock:
            for code, context in self._beds.items():
                state = stored.get(f"pantau:alarmstate:{code}", {}).get("state")
                if state:
                    context.alarms = BedAlarms.from_dict(json.loads(state))

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
        reading = Reading(ts_ms=m.ts, received_ms=m.received, **{f: getattr(m, f) for f in READING_FIELDS})
        changes = context.alarms.observe(reading, context.limits, now_ms)
        for name in ("rr", "spo2", "hr", "temp"):
            context.last[name] = getattr(m, name)
        if m.sbp is not None:
            context.last["sbp"] = m.sbp
        changes += self._rescore(context, now_ms)
        self._apply(context, changes)

    def _rescore(self, context: BedContext, now_ms: int) -> list[Change]:
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
        summary = (score.total, score.complete, score.risk, positive)
        if summary != context.news2:
            context.news2 = summary
            self._scores.append((context, summary))
        # An incomplete total is a lower bound: it may raise an alert when it already reaches the threshold.
        return context.alarms.observe_news2(score.total if score.complete or score.total >= 5 else None, now_ms)

    def tick(self, now_ms: int) -> None:
        """About once a second: no-data detection, escalation, snapshots."""
        with self._batch():
            for context in self._beds.values():
                if context.occupied:
                    self._apply(context, context.alarms.tick(now_ms))
        if time.monotonic() - self._last_snapshot >= SNAPSHOT_EVERY_S:
            self._last_snapshot = time.monotonic()
            self.snapshot()

    def handle_control(self, raw: str) -> None:
        """A message on ``pantau:control`` from the web app."""
        try:
            message = json.loads(raw)
            kind, code = message["t"], message.get("bed")
        except (ValueError, KeyError, TypeError):
            log.warning("malformed control message ignored")
            return
        if kind == "limits":
            self.load()
            return
        context = self._beds.get(code)
        if context is None:
            return
        now_ms = int(time.time() * 1000)
        with self._batch():
            if kind == "ack":
                change = context.alarms.acknowledge(
                    message["condition"], message.get("by_id") or message.get("by"), message.get("where"), now_ms
                )
                self._apply(context, [change] if change else [])
            elif kind == "obs":
                with self.db.session() as session:
                    self._load_observation(session, code)
                self._apply(context, self._rescore(context, now_ms))

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
        if not changes and not scores:
            return
        if changes:
            with self.db.session() as session:
                for context, bed_changes in changes:
                    for change in bed_changes:
                        self._persist(session, context, change)
        batch = self.live.batch()
        for context in {id(c): c for c, _ in changes}.values():
            active = [a.live() for a in context.alarms.active()]
            batch.set_latest(f"pantau:alarms:{context.ward}", {context.code: json.dumps(active) if active else None})
            batch.publish(f"pantau:ward:{context.ward}", json.dumps({"t": "a", "bed": context.code, "alarms": active}))
        for context, (total, complete, risk, qsofa_positive) in scores:
            # NEWS2 and the qSOFA screen beside it (DESIGN §5's secondary badge), into the hash and to the ward.
            batch.set_latest(
                f"pantau:latest:{context.code}",
                {
                    "news2": total,
                    "news2_complete": "1" if complete else "0",
                    "news2_risk": risk,
                    "qsofa": {True: "1", False: "0"}.get(qsofa_positive),
                },
            )
            batch.publish(
                f"pantau:ward:{context.ward}",
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
        try:
            batch.execute()
        except Exception:  # alarms are in the database; the screens catch up on reconnect
            log.exception("could not publish alarms and scores")

    def _persist(self, session: Session, context: BedContext, change: Change) -> None:
        alarm = change.alarm
        if change.kind == "started":
            row = AlarmEvent(
                bed_id=context.bed_id,
                condition=alarm.condition,
                kind=alarm.kind,
                priority=alarm.priority,
                started_at=_at(alarm.started_ms),
                value=alarm.value,
                message=alarm.message[:200],
            )
            session.add(row)
            session.flush()
            context.alarms.assign_id(alarm.condition, row.id)
            return
        if alarm.id is None:
            return
        values: dict = {}
        if change.kind == "ended":
            values["ended_at"] = _at(alarm.ended_ms or int(time.time() * 1000))
        elif change.kind == "escalated":
            values["escalated_at"] = _at(alarm.escalated_ms)
            log.warning("alarm escalated", extra={"bed": context.code, "condition": alarm.condition})
        elif change.kind == "acknowledged":
            values.update(
                acknowledged_at=_at(alarm.acked_ms),
                acknowledged_where=alarm.acked_where,
                acknowledged_by=alarm.acked_by if isinstance(alarm.acked_by, int) else None,
            )
        query = update(AlarmEvent).where(AlarmEvent.id == alarm.id)
        if change.kind == "acknowledged":
            query = query.where(AlarmEvent.acknowledged_at.is_(None))  # the web route may have recorded it first
        session.execute(query.values(**values))

    def snapshot(self) -> None:
        with self._lock:
            states = {code: json.dumps(c.alarms.to_dict()) for code, c in self._beds.items()}
        try:
            for code, state in states.items():
                self.live.set_latest(f"pantau:alarmstate:{code}", {"state": state})
        except Exception:
            log.warning("alarm snapshot failed")

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Load, then run the tick and the control subscription in background threads."""
        self.load()
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._tick_loop, name="clinical-tick", daemon=True),
            threading.Thread(target=self._control_loop, name="clinical-control", daemon=True),
            threading.Thread(target=self._work_loop, name="clinical-samples", daemon=True),
        ]
        self._running = True
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._running = False
        self._drain_inbox()  # what the consumer handed over last is still scored
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

    def _tick_loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.tick(int(time.time() * 1000))
            except Exception:  # a bad tick must not stop alarm supervision
                log.exception("alarm tick failed")

    def _control_loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self.live.subscribe(CONTROL_CHANNEL) as subscription:
                    while not self._stop.is_set():
                        message = subscription.get(timeout=1.0)
                        if message is not None:
                            self.handle_control(message[1])
            except Exception:  # live store down: retry
                log.exception("control channel failed; retrying")
                self._stop.wait(2.0)
