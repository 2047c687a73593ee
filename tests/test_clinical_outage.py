"""Alarms survive a database or live-store outage (issue 10 §2), on real PostgreSQL and Redis that the tests stop
and start again on the same port: a dedicated server per module (PostgreSQL) or per test (Redis), never the
session-wide ones other tests share.

The clinical step runs with its threads (``start()``); a monitor thread hands it one sample a second, as the
consumer does."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import distinct, func, select

from auth.demo_accounts import seed_demo
from bridge.clinical import REPUBLISH_EVERY_S, ClinicalPipeline
from bridge.consumer import Consumer, ConsumerHooks, ConsumerOptions
from data import live_keys
from data.db import Database
from data.live_store import LiveStore, open_live_store
from data.migrate import upgrade
from data.models import AlarmEvent, User, VitalSample
from data.wards import bed_by_code
from domain.alarms import CONDITIONS
from domain.vitals_contract import VitalsMessage
from testkit.servers import PostgresServer, RedisServer
from tests.fixtures_app import make_settings
from tests.test_consumer import Publisher, runtime

pytestmark = [pytest.mark.services, pytest.mark.slow]

BED, WARD, CONDITION, DEVICE = "ICU-03", "ICU", "spo2_extreme_low", "MON-ICU-03"
ONSET_S = CONDITIONS[CONDITION].onset_delay_ms / 1000
OUTAGE_S = 15.0
NORMAL_SPO2, CRITICAL_SPO2 = 97.0, 75.0


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except Exception:  # the service under test may be away
            result = None
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


class Monitor:
    """A bedside monitor: one sample a second, SpO2 as set, handed to ``deliver`` — the clinical step's
    ``on_samples`` (as the consumer does) or an MQTT publish (to the real consumer)."""

    def __init__(self, deliver: Callable[[VitalsMessage], None]) -> None:
        self.deliver = deliver
        self.spo2 = NORMAL_SPO2
        self.sent_critical = False  # a critical sample has been handed over
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-monitor", daemon=True)
        self._seq = 0

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = int(time.time() * 1000)
            self._seq += 1
            spo2 = self.spo2
            message = VitalsMessage(
                site="DEMO", device_id=DEVICE, seq=self._seq, ts=now, received=now, hr=80.0, spo2=spo2,
                rr=16.0, temp=36.8, ecg_status="ok", spo2_status="ok", sqi_ecg=0.95, sqi_spo2=0.95,
            )  # fmt: skip
            self.deliver(message)
            self.sent_critical = self.sent_critical or spo2 == CRITICAL_SPO2
            self._stop.wait(1.0)


@dataclass
class Ward:
    """What a test works with: the database, the live store and the running clinical step."""

    db: Database
    live: LiveStore
    pipeline: ClinicalPipeline
    nurse_id: int
    bed_id: int

    def shown(self) -> list[dict]:
        """The bed's alarms as the ward's live-store key has them."""
        raw = self.live.get_latest(live_keys.ward_alarms(WARD)).get(BED)
        return json.loads(raw) if raw else []

    def shown_alarm(self) -> dict | None:
        return next((a for a in self.shown() if a["condition"] == CONDITION), None)

    def rows(self) -> list[AlarmEvent]:
        with self.db.session() as session:
            query = select(AlarmEvent).where(AlarmEvent.bed_id == self.bed_id, AlarmEvent.condition == CONDITION)
            return list(session.scalars(query))

    def deliver(self, message: VitalsMessage) -> None:
        """Hand a sample to the clinical step as the consumer does once it is stored."""
        self.pipeline.on_samples([SimpleNamespace(msg=message, bed=BED)], message.received)

    def acknowledge(self) -> int:
        """Send the web app's acknowledgement on the control channel; how many subscribers received it."""
        message = {"t": "ack", "bed": BED, "condition": CONDITION, "by": "perawat", "by_id": self.nurse_id}
        return self.live.publish(live_keys.CONTROL_CHANNEL, json.dumps({**message, "where": f"{WARD}@127.0.0.1"}))


@pytest.fixture(scope="module")
def outage_postgres(tmp_path_factory) -> Iterator[tuple[PostgresServer, str]]:
    """This module's own PostgreSQL (the tests stop it) and a migrated, seeded template database on it."""
    server = PostgresServer(fast=False).start()  # durable: a commit survives the immediate stop of an outage
    try:
        url = server.create_database("outage_template")
        upgrade(url)
        db = Database(url)
        with db.session() as session:
            seed_demo(session, make_settings(tmp_path_factory.mktemp("outage"), url, "memory://", ""))
        db.dispose()  # a template must have no open connection while it is copied
        yield server, "outage_template"
    finally:
        server.stop()


@pytest.fixture
def outage_redis() -> Iterator[RedisServer]:
    """A Redis for one test (the test stops it; its alarm snapshots must not leak into the next test)."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def ward(outage_postgres, outage_redis) -> Iterator[Ward]:
    """A fresh copy of the demo database and the clinical step running on it."""
    server, template = outage_postgres
    server.start()  # a previous test that failed mid-outage may have left it stopped
    db = Database(server.create_database(f"t_{uuid.uuid4().hex[:12]}", template=template))
    live = open_live_store(outage_redis.url)
    with db.session() as session:
        nurse_id = session.scalar(select(User.id).order_by(User.id).limit(1))
        bed_id = bed_by_code(session, 1, BED).id
    pipeline = ClinicalPipeline(db, live)
    pipeline.start()
    try:
        yield Ward(db, live, pipeline, nurse_id, bed_id)
    finally:
        server.start()
        outage_redis.start()
        pipeline.stop()
        live.close()
        db.dispose()


def test_postgres_outage_alarm_shown_at_once_and_stored_complete_afterwards(ward, outage_postgres):
    server, _ = outage_postgres
    with Monitor(ward.deliver) as monitor:
        wait_for(lambda: ward.live.get_latest(live_keys.latest(BED)).get("news2"), 10, "first NEWS2 published")
        server.halt()
        down_at = time.monotonic()
        monitor.spo2 = CRITICAL_SPO2
        wait_for(ward.shown_alarm, ONSET_S + 5, "critical SpO2 alarm on the ward key")
        assert monitor.sent_critical
        assert ward.shown_alarm()["id"] is None  # not stored yet: the screen did not wait for the database

        # The nurse acknowledges while the alarm's row cannot exist yet; then the patient recovers.
        assert ward.acknowledge() >= 1
        wait_for(lambda: (ward.shown_alarm() or {}).get("acked"), 5, "acknowledgement shown")
        monitor.spo2 = NORMAL_SPO2
        wait_for(lambda: ward.shown_alarm() is None, 15, "latched alarm ended after ack and recovery")
        waiting = [e["kind"] for e in ward.pipeline.journal.to_list() if e["alarm"]["condition"] == CONDITION]
        assert waiting == ["started", "acknowledged", "ended"]  # the whole episode waits for the database, in order
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))  # the outage lasts (at least) 15 s
        server.start()

        def complete() -> AlarmEvent | None:
            rows = ward.rows()
            done = [r for r in rows if r.ended_at is not None and r.acknowledged_at is not None]
            return done[0] if done else None

        row = wait_for(complete, 20, "alarm_event row with raise, acknowledgement and end")
    rows = ward.rows()
    assert len(rows) == 1, "one alarm per episode, stored once"
    assert row.acknowledged_by == ward.nurse_id and row.acknowledged_where == f"{WARD}@127.0.0.1"
    assert row.priority == "high" and row.started_at < row.acknowledged_at <= row.ended_at
    wait_for(lambda: len(ward.pipeline.journal) == 0, 10, "journal emptied")


def test_redis_outage_alarm_stored_on_time_and_screens_converge_after(ward, outage_redis):
    with Monitor(ward.deliver) as monitor:
        wait_for(lambda: ward.live.get_latest(live_keys.latest(BED)).get("news2") == "0", 10, "NEWS2 0 shown")
        outage_redis.halt()
        down_at = time.monotonic()
        monitor.spo2 = CRITICAL_SPO2
        rows = wait_for(ward.rows, ONSET_S + 5, "alarm_event row while the live store is down")
        assert monitor.sent_critical
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        outage_redis.start()  # empty: every key and message must come from the clinical step's republish

        with ward.live.subscribe(live_keys.ward_channel(WARD)) as channel:

            def alarm_message() -> dict | None:
                while (message := channel.get(timeout=0.2)) is not None:
                    body = json.loads(message[1])
                    if (
                        body["t"] == "a"
                        and body["bed"] == BED
                        and any(a["condition"] == CONDITION for a in body["alarms"])
                    ):
                        return body
                return None

            body = wait_for(alarm_message, REPUBLISH_EVERY_S + 5, "ward message with the active alarm")
        shown = wait_for(ward.shown_alarm, 5, "ward key with the active alarm")
        assert shown["id"] == rows[0].id and body["alarms"][0]["id"] == rows[0].id
        # The NEWS2 that changed while the live store was away (SpO2 75 scores 3) was sent again.
        assert ward.live.get_latest(live_keys.latest(BED)).get("news2") == "3"

        # The control channel came back by itself: an acknowledgement reaches the engine and the database.
        wait_for(ward.acknowledge, 10, "control channel subscribed again")
        wait_for(lambda: (ward.shown_alarm() or {}).get("acked"), 5, "acknowledgement shown")
        wait_for(lambda: ward.rows()[0].acknowledged_at is not None, 5, "acknowledgement stored")
    assert len(ward.rows()) == 1


def test_postgres_outage_with_the_real_consumer_alarm_reaches_the_station(ward, outage_postgres, tmp_path, mqtt_url):
    server, _ = outage_postgres
    settings = make_settings(tmp_path, ward.db.url, "memory://", mqtt_url)
    consumer = Consumer(
        runtime(settings, ward.db, ward.live),
        ConsumerOptions(client_id=f"outage-{uuid.uuid4().hex[:8]}"),
        ConsumerHooks(on_samples=[ward.pipeline.on_samples], on_status=[ward.pipeline.on_status]),
    )
    publisher = Publisher(mqtt_url)
    published: list[int] = []  # seq of each sample the broker has accepted

    def publish(message: VitalsMessage) -> None:
        body = {k: getattr(message, k) for k in ("device_id", "seq", "ts", "hr", "spo2", "rr", "temp")}
        publisher.send([(f"pantau/v1/{message.site}/vitals/{message.device_id}", json.dumps({"v": 1, **body}))])
        published.append(message.seq)

    def latest_ts() -> int:
        return int(ward.live.get_latest(live_keys.latest(BED)).get("ts", 0))

    def stored() -> tuple[int, int]:
        """Samples of this test's monitor in ``vital_sample``: rows, and distinct sequence numbers."""
        with ward.db.engine.connect() as conn:
            return tuple(conn.execute(
                select(func.count(), func.count(distinct(VitalSample.seq))).where(
                    VitalSample.device_id == DEVICE, VitalSample.ts >= datetime.fromtimestamp(started / 1000, UTC)
                )
            ).one())  # fmt: skip

    started = int(time.time() * 1000)
    consumer.start()
    try:
        assert consumer.wait_ready(15), "the consumer did not subscribe"  # else the first samples go nowhere
        with Monitor(publish) as monitor:
            wait_for(lambda: ward.live.get_latest(live_keys.latest(BED)).get("news2"), 15, "first NEWS2 published")
            server.halt()
            halted = time.monotonic()
            monitor.spo2 = CRITICAL_SPO2
            wait_for(ward.shown_alarm, ONSET_S + 3, "critical SpO2 alarm on the ward key while PostgreSQL is down")
            shown = latest_ts()
            wait_for(lambda: latest_ts() > shown, 3, "vitals still live while PostgreSQL is down")
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - halted)))  # the outage lasts its 15 s
            server.start()
        # Once PostgreSQL is back: every sample stored exactly once, and the alarm's row.
        wait_for(lambda: stored() == (len(published),) * 2, 30, "every sample stored once after the outage")
        wait_for(ward.rows, 15, "the alarm's alarm_event row after the outage")
    finally:
        server.start()
        consumer.stop(10)
        publisher.close()
