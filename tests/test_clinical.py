"""The consumer's clinical step on real storage: alarms persisted and published, acknowledged over the control
channel, NEWS2 completed by a nurse's observation, state surviving a restart."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bridge.clinical import ClinicalPipeline
from bridge.clinical_feed import encode_sample
from bridge.clinical_worker import ClinicalWorker
from data import live_keys
from data.admissions import current_admission
from data.live_store import MemoryLiveStore
from data.models import (
    AlarmEvent,
    Bed,
    BedOccupancy,
    DeviceAssignment,
    Observation,
    Patient,
    User,
    VitalSample,
    Ward,
)
from data.wards import bed_by_code
from domain.alarms import Alarm, Change
from domain.clock import now_ms, utcnow
from domain.vitals_contract import VitalsMessage
from tests.test_cuff_readings import move_patient

T0 = 1_800_000_000_000


def any_bed(_code: str) -> bool:
    """A partition holding every bed: its snapshot waits for every change."""
    return True


def sample(second: int, **values) -> VitalsMessage:
    base = dict(hr=80.0, spo2=97.0, rr=16.0, temp=36.8, ecg_status="ok", spo2_status="ok", sqi_ecg=0.95, sqi_spo2=0.95)
    base.update(values)
    ts = T0 + second * 1000
    return VitalsMessage(site="DEMO", device_id="MON-ICU-03", seq=second, ts=ts, received=ts, **base)


def feed(pipeline: ClinicalPipeline, seconds: range, **values) -> None:
    for s in seconds:
        pipeline.on_samples([SimpleNamespace(msg=sample(s, **values), bed="ICU-03")], T0 + s * 1000)


def test_desaturation_raises_one_alarm_that_a_nurse_acknowledges(any_app):
    runtime = any_app.runtime
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    with runtime.live.subscribe(live_keys.ward_channel("ICU")) as channel:
        feed(pipeline, range(0, 5))
        feed(pipeline, range(5, 30), spo2=85.0)
        messages = []
        while (m := channel.get(timeout=0.2)) is not None:
            messages.append(json.loads(m[1]))
    with runtime.db.session() as s:
        events = list(s.scalars(select(AlarmEvent).where(AlarmEvent.condition == "spo2_low")))
    assert len(events) == 1 and events[0].ended_at is None
    active = json.loads(runtime.live.get_latest(live_keys.ward_alarms("ICU"))["ICU-03"])
    assert [a["condition"] for a in active] == ["spo2_low"] and active[0]["acked"] is False
    assert any(m["t"] == "a" and m["alarms"] for m in messages)

    pipeline.handle_control(
        json.dumps(
            {
                "t": "ack",
                "bed": "ICU-03",
                "condition": "spo2_low",
                "by": "perawat",
                "by_id": 3,
                "where": "ICU@127.0.0.1",
            }
        )
    )
    with runtime.db.session() as s:
        event = s.get(AlarmEvent, events[0].id)
        assert event.acknowledged_at is not None and event.acknowledged_where == "ICU@127.0.0.1"
    assert json.loads(runtime.live.get_latest(live_keys.ward_alarms("ICU"))["ICU-03"])[0]["acked"] is True

    feed(pipeline, range(30, 60), spo2=97.0)
    with runtime.db.session() as s:
        assert s.get(AlarmEvent, events[0].id).ended_at is not None
    assert "ICU-03" not in runtime.live.get_latest(live_keys.ward_alarms("ICU"))


def test_news2_is_incomplete_until_the_nurse_records_oxygen_and_consciousness(sqlite_app):
    runtime = sqlite_app.runtime
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    feed(pipeline, range(0, 3), sbp=120.0)
    latest = runtime.live.get_latest(live_keys.latest("ICU-03"))
    assert latest["news2_complete"] == "0"
    with runtime.db.session() as s:
        bed = bed_by_code(s, 1, "ICU-03")
        admission_id = current_admission(s, bed.id).id
        s.add(Observation(bed_id=bed.id, admission_id=admission_id, on_oxygen=True, consciousness="A"))
    pipeline.handle_control(json.dumps({"t": "obs", "bed": "ICU-03"}))
    latest = runtime.live.get_latest(live_keys.latest("ICU-03"))
    # HR 80 (0) + SpO2 97 (0) + RR 16 (0) + temp 36.8 (0) + SBP 120 (0) + oxygen (2) + alert (0) = 2
    assert (latest["news2"], latest["news2_complete"], latest["news2_risk"]) == ("2", "1", "low")
    assert latest["qsofa"] == "0"  # RR 16, SBP 120, alert: no qSOFA criterion


def test_qsofa_screen_turns_positive(sqlite_app):
    runtime = sqlite_app.runtime
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    feed(pipeline, range(0, 3), rr=16.0, sbp=130.0)
    assert runtime.live.get_latest(live_keys.latest("ICU-03")).get("qsofa") is None  # mentation unknown, 0 of 2 known
    feed(pipeline, range(3, 6), rr=24.0, sbp=98.0)  # RR ≥ 22 and SBP ≤ 100: positive whatever the mentation
    assert runtime.live.get_latest(live_keys.latest("ICU-03"))["qsofa"] == "1"
    with runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "ICU-03").id
        s.add(
            Observation(bed_id=bed_id, admission_id=current_admission(s, bed_id).id, on_oxygen=False, consciousness="A")
        )
    pipeline.handle_control(json.dumps({"t": "obs", "bed": "ICU-03"}))
    assert runtime.live.get_latest(live_keys.latest("ICU-03"))["qsofa"] == "1"


def test_alarm_state_survives_a_restart(sqlite_app):
    runtime = sqlite_app.runtime
    first = ClinicalPipeline(runtime.db, runtime.live)
    first.load()
    feed(first, range(0, 20), spo2=85.0)
    first.snapshot()
    second = ClinicalPipeline(runtime.db, runtime.live)
    second.load()
    feed(second, range(20, 25), spo2=85.0)
    with runtime.db.session() as s:
        assert len(list(s.scalars(select(AlarmEvent).where(AlarmEvent.condition == "spo2_low")))) == 1


def observe_air_and_alert(runtime) -> None:
    """A nurse's observation for ICU-03 at ``T0`` (on air, alert): NEWS2 is complete once the monitors give the
    rest."""
    with runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "ICU-03").id
        s.add(
            Observation(
                bed_id=bed_id,
                admission_id=current_admission(s, bed_id).id,
                on_oxygen=False,
                consciousness="A",
                taken_at=datetime.fromtimestamp(T0 / 1000, UTC),
            )
        )


def test_the_last_cuff_reading_counts_in_news2_after_a_restart(sqlite_app):
    """A cuff measures every few minutes: a restarted consumer (or a new owner of the bed's partition) scores
    with the reading the last one had, instead of an incomplete NEWS2 until the cuff measures again."""
    runtime = sqlite_app.runtime
    observe_air_and_alert(runtime)
    first = ClinicalPipeline(runtime.db, runtime.live)
    first.load()
    feed(first, range(0, 1), sbp=95.0)  # the cuff: SBP 91–100 scores 2
    feed(first, range(1, 5))
    # HR 80, SpO2 97, RR 16, temp 36.8 (0 each) + SBP 95 (2) + air, alert (0) = 2
    latest = runtime.live.get_latest(live_keys.latest("ICU-03"))
    assert (latest["news2"], latest["news2_complete"]) == ("2", "1")
    first.snapshot()
    saved = first.bed_states({"ICU-03"}, any_bed)  # what the durable path commits with its partition's offset
    runtime.live.set_latest(live_keys.latest("ICU-03"), {"news2": None, "news2_complete": None})

    second = ClinicalPipeline(runtime.db, runtime.live)
    second.load()
    feed(second, range(5, 8))  # no cuff reading since the restart
    latest = runtime.live.get_latest(live_keys.latest("ICU-03"))
    assert (latest["news2"], latest["news2_complete"]) == ("2", "1")

    taken_over = ClinicalPipeline(runtime.db, MemoryLiveStore())
    taken_over.load()
    taken_over.live.set_latest(live_keys.alarm_state("ICU-03"), saved[live_keys.alarm_state("ICU-03")])
    taken_over.restore_beds(["ICU-03"])
    feed(taken_over, range(8, 10))
    latest = taken_over.live.get_latest(live_keys.latest("ICU-03"))
    assert (latest["news2"], latest["news2_complete"]) == ("2", "1")


def test_without_a_snapshot_the_stored_cuff_reading_counts_in_news2(sqlite_app):
    """The embedded demo's in-memory store starts empty after a restart: the newest stored cuff reading of the
    patient's stay is scored, not an incomplete NEWS2 until the cuff measures again."""
    runtime = sqlite_app.runtime
    observe_air_and_alert(runtime)
    with runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "ICU-03").id
        taken = utcnow() - timedelta(minutes=5)
        s.execute(update(BedOccupancy).where(BedOccupancy.bed_id == bed_id).values(since=taken - timedelta(hours=1)))
        s.add(VitalSample(device_id="MON-ICU-03", ts=taken, seq=1, bed_id=bed_id, received_at=taken, sbp=95.0))
    live = MemoryLiveStore()  # nothing in it: no snapshot
    pipeline = ClinicalPipeline(runtime.db, live)
    pipeline.load()
    feed(pipeline, range(0, 3))
    latest = live.get_latest(live_keys.latest("ICU-03"))
    assert (latest["news2"], latest["news2_complete"]) == ("2", "1")  # SBP 95 scores 2, the rest 0


def test_a_transferred_patients_news2_goes_on_with_her_cuff_reading(sqlite_app):
    """Moved from ICU-03 to ICU-13 with her monitor, she has no new cuff reading yet: her NEWS2 on the new bed
    scores the one taken on ICU-03 (and her observation), complete, not incomplete until the cuff measures again."""
    runtime = sqlite_app.runtime
    observe_air_and_alert(runtime)
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    move_patient(runtime.db, utcnow(), "ICU-03", "ICU-13", {12: 95.0})
    pipeline.handle_control(json.dumps({"t": "adt", "bed": "ICU-13"}))  # as the transfer publishes it
    for second in range(3):
        pipeline.on_samples([SimpleNamespace(msg=sample(second), bed="ICU-13")], T0 + second * 1000)
    latest = runtime.live.get_latest(live_keys.latest("ICU-13"))
    assert (latest["news2"], latest["news2_complete"]) == ("2", "1")  # SBP 95 scores 2, the rest 0
    move_patient(runtime.db, utcnow(), "ICU-13", "ICU-14", {})  # moved on, by a reload's way this time
    pipeline.load()
    for second in range(3, 6):
        pipeline.on_samples([SimpleNamespace(msg=sample(second), bed="ICU-14")], T0 + second * 1000)
    latest = runtime.live.get_latest(live_keys.latest("ICU-14"))
    assert (latest["news2"], latest["news2_complete"]) == ("2", "1")


class Owns:
    """A durable-path scope owning the beds in ``beds`` (the partitions' owner, bridge.clinical_worker)."""

    def __init__(self) -> None:
        self.beds: set[str] = set()

    def owns(self, bed_code: str) -> bool:
        return bed_code in self.beds

    def silence_ms(self, bed_code: str) -> int | None:
        return None  # these tests give the beds samples: no time passes by the wall clock

    def flowing_ms(self) -> int | None:
        return None


def test_a_new_owner_finding_the_previous_admissions_snapshot_scores_the_stored_cuff_reading(sqlite_app):
    """A patient was moved into ICU-13 while another evaluator owned it, and its last snapshot is of the bed's
    previous admission: the new owner drops that snapshot's values and scores her stored cuff reading."""
    runtime, scope, live = sqlite_app.runtime, Owns(), MemoryLiveStore()
    pipeline = ClinicalPipeline(runtime.db, live, scope=scope)
    pipeline.load()
    move_patient(runtime.db, utcnow(), "ICU-03", "ICU-13", {12: 95.0})
    pipeline.load()  # the worker's reload before it takes a partition over
    previous = {"last": json.dumps({"sbp": 180.0, "hr": 120.0}), "admission": "999999"}
    live.set_latest(live_keys.alarm_state("ICU-13"), previous)
    scope.beds.add("ICU-13")
    pipeline.restore_beds(["ICU-13"])
    assert json.loads(pipeline.bed_states({"ICU-13"}, any_bed)[live_keys.alarm_state("ICU-13")]["last"]) == {}
    pipeline.take_stored_cuff_readings(["ICU-13"])
    saved = pipeline.bed_states({"ICU-13"}, any_bed)[live_keys.alarm_state("ICU-13")]
    assert json.loads(saved["last"]) == {"sbp": 95.0}


def test_stored_cuff_readings_out_of_reach_leave_news2_to_wait_for_the_cuff(sqlite_app, monkeypatch, caplog):
    """The database away when a partition is taken over: the new owner goes on (logged), its NEWS2 incomplete
    until the cuff measures again, rather than failing the takeover."""
    runtime = sqlite_app.runtime
    pipeline = ClinicalPipeline(runtime.db, MemoryLiveStore())
    pipeline.load()  # ICU-03 has no cuff reading stored: none to score with yet

    def database_down():
        raise OperationalError("SELECT 1", {}, ConnectionError("database down"))

    monkeypatch.setattr(runtime.db, "session", database_down)
    pipeline.take_stored_cuff_readings(["ICU-03"])
    assert "stored cuff readings unavailable" in caplog.text


def test_changed_limits_do_not_put_back_an_older_alarm_state(sqlite_app):
    live = MemoryLiveStore()  # private: memory:// stores are shared by the whole process
    pipeline = ClinicalPipeline(sqlite_app.runtime.db, live)
    pipeline.load()
    feed(pipeline, range(0, 20), spo2=85.0)
    pipeline.snapshot()  # unacknowledged
    ack = {"t": "ack", "bed": "ICU-03", "condition": "spo2_low", "by": "perawat", "where": "ICU@127.0.0.1"}
    pipeline.handle_control(json.dumps(ack))
    pipeline.handle_control(json.dumps({"t": "limits", "bed": "ICU-03"}))  # reloads limits from the database
    pipeline.republish()
    assert json.loads(live.get_latest(live_keys.ward_alarms("ICU"))["ICU-03"])[0]["acked"] is True


def test_an_acknowledgement_stored_without_its_control_message_is_taken_over(sqlite_app):
    db, live = sqlite_app.runtime.db, MemoryLiveStore()
    pipeline = ClinicalPipeline(db, live)
    pipeline.load()
    feed(pipeline, range(0, 20), spo2=85.0)
    with db.session() as s:  # what the web route stores before it publishes (the publish is lost)
        nurse = s.scalar(select(User.id).order_by(User.id).limit(1))
        s.execute(
            update(AlarmEvent)
            .where(AlarmEvent.condition == "spo2_low")
            .values(acknowledged_at=utcnow(), acknowledged_by=nurse, acknowledged_where="ICU@10.0.0.9")
        )
    pipeline.sync_acknowledgements()
    shown = json.loads(live.get_latest(live_keys.ward_alarms("ICU"))["ICU-03"])[0]
    assert shown["acked"] is True and shown["ack_by"] == nurse


def active_alarms(live: MemoryLiveStore, bed_code: str) -> list[str]:
    return [a["condition"] for a in json.loads(live.get_latest(live_keys.ward_alarms("ICU")).get(bed_code, "[]"))]


def test_a_backlog_read_long_after_it_came_goes_by_its_samples_time_not_by_the_wall_clock(sqlite_app, monkeypatch):
    """The durable path: 40 s of samples that a consumer received a minute ago (a backlog) are read and evaluated
    now. The bed's time is its samples': the wall clock since they were received does not move it on, so no "no
    data" cuts the desaturation in them. Only once the bed's partition has been read to its end with nothing new
    of the bed for longer than the no-data wait (and, after a backlog, the grace for a pause in its drain) does its
    time move on, and then "no data" is raised."""
    monkeypatch.setattr("bridge.clinical_worker.REPLAY_GRACE_S", 1.0)
    live = MemoryLiveStore()
    worker = ClinicalWorker(sqlite_app.runtime.db, live, partitions=1, lease_s=30, hold_ms=0, step_ms=1000)
    worker._leases()  # takes the partition; the test reads it, not the worker's thread
    received = now_ms() - 60_000
    batch = live.batch()
    for second in range(40):
        at = received + second * 1000
        msg = sample(second, spo2=85.0 if second >= 10 else 97.0)._replace(ts=at, received=at)
        batch.append_stream(live_keys.clinical_partition(0), encode_sample("ICU-03", 0, msg), 10_000)
    batch.execute()
    worker._step(0)
    assert worker.evaluated == 40
    worker.pipeline.tick(now_ms())
    assert active_alarms(live, "ICU-03") == ["spo2_low"]
    time.sleep(4.5)  # the partition read to its end again and again, with nothing new of the bed
    worker._step(0)
    worker.pipeline.tick(now_ms())
    assert "no_data" in active_alarms(live, "ICU-03")


def test_a_monitor_silent_since_the_evaluator_started_raises_no_data(sqlite_app):
    """An evaluator starting with no snapshot of a bed's clock (the live store restarted empty, the embedded demo's
    memory store) whose monitor sends nothing (it died while Pantau was down): the bed's time starts on the wall
    clock when its partition was taken over, and "no data" is raised after the wait, as for a monitor that stops.
    Its samples, once they come, are evaluated on the bed's time from then on. A bed with no monitor paired has
    nothing missing."""
    with sqlite_app.runtime.db.session() as s, s.begin():  # ICU-05's monitor taken away: a patient without one
        bed_id = s.scalar(select(Bed.id).where(Bed.code == "ICU-05"))
        s.execute(update(DeviceAssignment).where(DeviceAssignment.bed_id == bed_id).values(until=utcnow()))
    live = MemoryLiveStore()
    worker = ClinicalWorker(sqlite_app.runtime.db, live, partitions=1, lease_s=30, hold_ms=0, step_ms=1000)
    worker._leases()  # takes the partition; the test reads it, not the worker's thread

    def passes(seconds: int, beds: tuple[str, ...] = ()) -> None:
        """The worker's passes and the pipeline's ticks about once a second, each with a sample of ``beds``."""
        for _ in range(seconds):
            time.sleep(1.0)
            batch = live.batch()
            for bed in beds:
                msg = sample(0)._replace(ts=now_ms(), received=now_ms())
                batch.append_stream(live_keys.clinical_partition(0), encode_sample(bed, 0, msg), 100)
            batch.execute()
            worker._step(0)
            worker.pipeline.tick(now_ms())

    passes(6)  # nothing flows at all (the consumers not started yet, a backlog to come): no bed's silence
    assert active_alarms(live, "ICU-03") == [] and active_alarms(live, "ICU-04") == []
    passes(6, ("ICU-04",))  # the other monitors' samples flow, ICU-03's does not
    assert "no_data" in active_alarms(live, "ICU-03") and "no_data" not in active_alarms(live, "ICU-04")
    assert active_alarms(live, "ICU-05") == []
    passes(2, ("ICU-03", "ICU-04"))
    assert "no_data" not in active_alarms(live, "ICU-03")


def test_the_time_the_partitions_could_not_be_read_is_no_beds_silence(sqlite_app, monkeypatch):
    """The live store away for longer than the no-data wait (a Redis restart), while the consumer holds back the
    samples it cannot append: once the partitions can be read again, the outage is not counted as the beds' silence
    (nor do the steps read before it and evaluated after it bring it back), so no "no data" is raised for monitors
    that kept sending. A bed still silent for the no-data wait after that gets it."""
    live = MemoryLiveStore()
    worker = ClinicalWorker(sqlite_app.runtime.db, live, partitions=1, lease_s=30, hold_ms=1000, step_ms=1000)
    worker._leases()  # takes the partition; the test reads it, not the worker's thread
    batch = live.batch()
    for second in range(3):
        at = now_ms() - 3000 + second * 1000
        msg = sample(second)._replace(ts=at, received=at)
        batch.append_stream(live_keys.clinical_partition(0), encode_sample("ICU-03", 0, msg), 10_000)
    batch.execute()
    worker._step(0)  # read; its steps wait out the hold
    assert worker.evaluated == 0
    readable = live.read_stream

    def away(*_args: object, **_kwargs: object) -> list:
        raise ConnectionError("live store away")

    monkeypatch.setattr(live, "read_stream", away)
    with pytest.raises(ConnectionError):
        worker._step(0)
    worker._pass_failed(read_any=False)  # what the worker's loop does when a pass could read nothing
    time.sleep(3.6)  # longer than the no-data wait at 1 Hz
    monkeypatch.setattr(live, "read_stream", readable)
    worker._step(0)  # read to its end: the steps read before the outage evaluated, the held-back batch comes next
    assert worker.evaluated == 3
    worker.pipeline.tick(now_ms())
    assert "no_data" not in active_alarms(live, "ICU-03")
    time.sleep(3.6)  # now really silent since the store came back
    worker._step(0)
    worker.pipeline.tick(now_ms())
    assert "no_data" in active_alarms(live, "ICU-03")


def test_a_pass_that_read_and_then_failed_lets_a_silent_beds_time_pass(sqlite_app):
    """Redis answering reads but refusing writes (say, out of memory): the partitions are read, each pass fails
    after it, and a monitor that went quiet still raises "no data" after the wait."""
    live = MemoryLiveStore()
    worker = ClinicalWorker(sqlite_app.runtime.db, live, partitions=1, lease_s=30, hold_ms=0, step_ms=1000)
    worker._leases()
    at = now_ms() - 1000
    batch = live.batch()
    batch.append_stream(live_keys.clinical_partition(0), encode_sample("ICU-03", 0, sample(0)._replace(ts=at)), 100)
    batch.execute()
    worker._step(0)
    for _ in range(8):  # passes that read, then failed
        worker._step(0)
        worker._pass_failed(read_any=True)
        time.sleep(0.5)
    worker._step(0)
    worker.pipeline.tick(now_ms())
    assert "no_data" in active_alarms(live, "ICU-03")


def test_a_partitions_snapshot_waits_only_for_the_stored_changes_of_its_own_beds(sqlite_app):
    """An evaluator commits a partition once the journal has stored its beds' changes: a change of a bed in another
    partition still waiting does not hold it back (waiting for every bed's, a busy ward's partitions went
    uncommitted for as long as alarms kept coming)."""
    pipeline = ClinicalPipeline(sqlite_app.runtime.db, MemoryLiveStore(), scope=Owns())
    pipeline.load()
    started = Alarm("spo2_low", "physiological", "medium", T0, 85.0, "SpO2 85 < 90")
    pipeline.journal.append(1, "ICU-03", [Change("started", started)])  # the journal's thread is not running
    assert pipeline.bed_states({"ICU-04"}, lambda code: code == "ICU-04") is not None
    assert pipeline.bed_states({"ICU-03"}, lambda code: code == "ICU-03") is None
    assert pipeline.bed_states({"ICU-04"}, any_bed) is None  # a partition of every bed


def test_a_pause_in_a_backlogs_drain_is_not_the_monitors_silence(sqlite_app, monkeypatch):
    """A backlog minutes old drained with a pause longer than the no-data wait (a slow commit, a starved CPU): no
    "no data", and the alarm whose onset delay was running starts at its sample time, as without the pause (the
    pause raised "no data" for a moment and set the onset back). A monitor that stays silent still raises "no
    data", at most the grace later."""
    monkeypatch.setattr("bridge.clinical_worker.REPLAY_GRACE_S", 3.0)
    live = MemoryLiveStore()
    worker = ClinicalWorker(sqlite_app.runtime.db, live, partitions=1, lease_s=30, hold_ms=0, step_ms=1000)
    worker._leases()
    t0 = now_ms() - 120_000
    t0 -= t0 % 1000

    def drain(seconds: range) -> None:
        batch = live.batch()
        for second in seconds:  # SpO2 below 90 from second 5: the alarm is due 10 s in, at second 15
            at = t0 + second * 1000
            msg = sample(second, spo2=85.0 if second >= 5 else 97.0)._replace(ts=at, received=at)
            batch.append_stream(live_keys.clinical_partition(0), encode_sample("ICU-03", 0, msg), 1000)
        batch.execute()
        worker._step(0)
        worker._step(0)  # read to its end: the last step evaluated too
        worker.pipeline.tick(now_ms())

    drain(range(0, 10))
    time.sleep(3.6)  # the drain pauses, longer than the no-data wait at 1 Hz
    worker._step(0)
    worker.pipeline.tick(now_ms())
    assert "no_data" not in active_alarms(live, "ICU-03")
    drain(range(10, 20))
    assert "spo2_low" in active_alarms(live, "ICU-03")
    worker.pipeline.journal.flush()
    with sqlite_app.runtime.db.session() as s:
        episodes = s.execute(select(AlarmEvent.condition, AlarmEvent.started_at)).all()
    since_t0 = [(c, int(at.replace(tzinfo=UTC).timestamp() * 1000) - t0) for c, at in episodes]
    assert [(c, ms) for c, ms in since_t0 if ms >= 0] == [("spo2_low", 15_000)]  # and no "no data"
    time.sleep(3.6)  # the monitor silent from here: after the wait and the grace
    worker._step(0)
    worker.pipeline.tick(now_ms())
    assert "no_data" not in active_alarms(live, "ICU-03")  # within the grace
    time.sleep(3.0)
    worker._step(0)
    worker.pipeline.tick(now_ms())
    assert "no_data" in active_alarms(live, "ICU-03")


def _born(runtime, bed_code: str, birth) -> None:
    with runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, bed_code).id
        s.get(Patient, current_admission(s, bed_id).patient_id).birth_date = birth


def test_news2_does_not_score_a_child_and_starts_on_the_sixteenth_birthday(sqlite_app):
    """NEWS2 is set for patients of 16 and over (RCP 2017): a toddler's normal heart rate of 135 and breathing of
    30 would score 6 and sound the NEWS2 alarm all day. Before the 16th birthday (site-local midnight) the bed shows
    NEWS2 as not applicable and no NEWS2 alarm is raised; from it the patient is scored."""
    runtime = sqlite_app.runtime
    zone = ZoneInfo("Asia/Jakarta")
    birthday = datetime.fromtimestamp(T0 / 1000, zone).date() + timedelta(days=1)
    _born(runtime, "ICU-03", birthday.replace(year=birthday.year - 16))
    observe_air_and_alert(runtime)
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    feed(pipeline, range(0, 60), hr=135.0, rr=30.0, sbp=120.0)
    latest = runtime.live.get_latest(live_keys.latest("ICU-03"))
    assert (latest.get("news2"), latest["news2_risk"], latest.get("qsofa")) == (None, "not_applicable", None)
    assert not {"news2_medium", "news2_high"} & set(active_alarms(runtime.live, "ICU-03"))

    midnight = datetime.combine(birthday, datetime.min.time(), tzinfo=zone).timestamp() * 1000
    first = int((midnight - T0) // 1000)
    feed(pipeline, range(first - 5, first), hr=135.0, rr=30.0, sbp=120.0)  # the last seconds of being 15
    assert runtime.live.get_latest(live_keys.latest("ICU-03"))["news2_risk"] == "not_applicable"
    feed(pipeline, range(first, first + 60), hr=135.0, rr=30.0, sbp=120.0)
    latest = runtime.live.get_latest(live_keys.latest("ICU-03"))
    assert (latest["news2"], latest["news2_risk"]) == ("6", "medium")  # HR 3 + RR 3
    assert "news2_medium" in active_alarms(runtime.live, "ICU-03")

    _born(runtime, "ICU-03", birthday.replace(year=birthday.year - 10))  # a corrected record, heard by the next adt
    pipeline.handle_control(json.dumps({"t": "adt", "bed": "ICU-03"}))
    feed(pipeline, range(first + 60, first + 65), hr=135.0, rr=30.0, sbp=120.0)
    assert runtime.live.get_latest(live_keys.latest("ICU-03"))["news2_risk"] == "not_applicable"
    assert not {"news2_medium", "news2_high"} & set(active_alarms(runtime.live, "ICU-03"))


def test_news2_scores_nobody_on_a_maternity_ward(sqlite_app):
    """Pregnancy, NEWS2's other exclusion, is not recorded per patient: a ward of the maternity kind stands for it.
    A pregnant woman's heart rate of 105 and breathing of 22 would score 3 there; she is not scored."""
    runtime = sqlite_app.runtime
    observe_air_and_alert(runtime)
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    feed(pipeline, range(0, 5), hr=105.0, rr=22.0, sbp=120.0)
    assert runtime.live.get_latest(live_keys.latest("ICU-03"))["news2"] == "3"  # HR 1 + RR 2 on an ICU
    with runtime.db.session() as s:  # an admin makes it a maternity ward; the web app tells the step
        s.execute(update(Ward).where(Ward.code == "ICU").values(kind="maternity"))
    pipeline.handle_control(live_keys.control_message("wards", ""))
    feed(pipeline, range(5, 10), hr=105.0, rr=22.0, sbp=120.0)
    latest = runtime.live.get_latest(live_keys.latest("ICU-03"))
    assert (latest.get("news2"), latest["news2_risk"]) == (None, "not_applicable")
