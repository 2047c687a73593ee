"""The vitals consumer end to end, on the production services (PostgreSQL + Redis + Mosquitto started by the
suite) and on the embedded ones (SQLite + in-memory live store + the amqtt broker), plus its data helpers:
batch inserts, dead letters, the device directory, partitions, rollups and the live store batch."""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bridge.consumer import Consumer, ConsumerHooks, ConsumerOptions, Sample
from bridge.consumer import pipeline as consumer_pipeline
from bridge.embedded_broker import EmbeddedBroker
from config import Settings, load_settings
from data import live_keys, partitions
from data.db import Database
from data.field_crypto import FieldCipher
from data.live_store import LiveStore, MemoryLiveStore, open_live_store
from data.migrate import upgrade
from data.models import Bed, Device, DeviceAssignment, Site, VitalSample, Ward
from data.mqtt_client import BrokerAddress, broker_address
from data.mqtt_topics import ALL_STATUS, ALL_VITALS
from data.runtime import Runtime
from data.vitals import (
    DEAD_LETTER_SAMPLE,
    DeadLetterRow,
    DeviceDirectory,
    insert_dead_letters,
    insert_samples,
    insert_samples_detailed,
)
from domain.clock import now_ms
from testkit.servers import MosquittoServer

WAIT = 20.0
SITE = "TEST"


def wait_until(predicate: Callable[[], object], timeout: float = WAIT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def vitals(device: str, seq: int, ts: int | None = None, **values: object) -> tuple[str, bytes]:
    """A valid vitals message of ``device`` (override or add fields with ``values``)."""
    body: dict[str, object] = {"v": 1, "device_id": device, "seq": seq, "ts": ts if ts is not None else now_ms()}
    body.update(values)
    return f"pantau/v1/{SITE}/vitals/{device}", json.dumps(body).encode()


# --------------------------------------------------------------------------------------------------- seeding


def site_row(s: Session) -> Site:
    """The tests' site (``SITE``), created the first time."""
    site = s.scalar(select(Site).where(Site.code == SITE))
    if site is None:
        site = Site(code=SITE, name="Test hospital")
        s.add(site)
        s.flush()
    return site


def seed_beds(db: Database, prefix: str, count: int, ward: str | None = None) -> dict[str, tuple[str, str, int]]:
    """A ward (``{prefix}W`` unless given) with ``count`` beds ``{prefix}-NN`` and monitors ``{prefix}-MON-NN``.

    Returns device id -> (bed code, ward code, bed id). Prefixes keep tests apart in a shared database/Redis.
    """
    ward_code = ward or f"{prefix}W"
    out = {}
    with db.session() as s:
        site = site_row(s)
        ward_row = s.scalar(select(Ward).where(Ward.site_id == site.id, Ward.code == ward_code))
        if ward_row is None:
            ward_row = Ward(site_id=site.id, code=ward_code, name=f"Ward {ward_code}")
            s.add(ward_row)
            s.flush()
        for n in range(1, count + 1):
            bed = Bed(ward_id=ward_row.id, code=f"{prefix}-{n:02d}", label=f"Bed {n}")
            device = Device(site_id=site.id, device_id=f"{prefix}-MON-{n:02d}", model="test")
            s.add_all([bed, device])
            s.flush()
            s.add(DeviceAssignment(device_pk=device.id, bed_id=bed.id))
            out[device.device_id] = (bed.code, ward_code, bed.id)
    return out


def move_device(db: Database, device_id: str, bed_id: int) -> None:
    """Close the device's open assignment and open one at ``bed_id`` (a monitor moved to another bed)."""
    with db.session() as s:
        device = s.scalar(select(Device).where(Device.device_id == device_id))
        s.execute(
            update(DeviceAssignment)
            .where(DeviceAssignment.device_pk == device.id, DeviceAssignment.until.is_(None))
            .values(until=datetime.now(UTC))
        )
        s.add(DeviceAssignment(device_pk=device.id, bed_id=bed_id))


def purge_session(mqtt_url: str, client_id: str) -> None:
    """Drop a persistent session from the broker (connect once with a clean session)."""
    address = BrokerAddress.from_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    with contextlib.suppress(OSError):
        client.connect(address.host, address.port)
        client.loop_start()
        time.sleep(0.1)
        client.disconnect()
        client.loop_stop()


def create_session(mqtt_url: str, client_id: str) -> None:
    """Create a consumer's persistent session with its subscriptions, so messages queue before it starts."""
    address = BrokerAddress.from_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(address.host, address.port)
    client.loop_start()
    client.subscribe([(ALL_VITALS, 1), (ALL_STATUS, 1)])
    assert subscribed.wait(WAIT), "no SUBACK"
    client.disconnect()
    client.loop_stop()


class Publisher:
    """A plain QoS 1 publisher (what a monitor does); ``send`` waits until the broker has every message."""

    def __init__(self, mqtt_url: str) -> None:
        address = BrokerAddress.from_url(mqtt_url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
        self.client.max_inflight_messages_set(200)
        self.client.connect(address.host, address.port)
        self.client.loop_start()

    def send(self, messages: list[tuple[str, bytes]], *, retain: bool = False, timeout: float = 60) -> None:
        infos = [self.client.publish(topic, payload, qos=1, retain=retain) for topic, payload in messages]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert info.is_published(), "the broker did not acknowledge a publish"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -------------------------------------------------------------------------------------------------- the rig


@dataclass
class Rig:
    """One backend set (``postgres``: PostgreSQL + Redis + Mosquitto; ``embedded``: SQLite + memory + amqtt)
    with a prefix of its own for the test's wards, beds, monitors and live keys."""

    kind: str
    settings: Settings
    db: Database
    live: LiveStore
    mqtt_url: str
    prefix: str
    devices: dict[str, tuple[str, str, int]]
    consumers: list[Consumer] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    _publisher: Publisher | None = None

    @property
    def device_ids(self) -> list[str]:
        return sorted(self.devices)

    def client_id(self) -> str:
        client_id = f"test-consumer-{uuid.uuid4().hex[:10]}"
        self.client_ids.append(client_id)
        return client_id

    def consumer(
        self,
        client_id: str | None = None,
        *,
        start: bool = True,
        hooks: ConsumerHooks | None = None,
        broker: BrokerAddress | None = None,
        **options: Any,
    ) -> Consumer:
        """A consumer on the rig's services (``broker``: another address for the broker), started unless told."""
        options.setdefault("directory_ttl", 0.2)
        options.setdefault("snapshot_interval", 0.2)
        options.setdefault("maintenance_interval", 3600)
        consumer_options = ConsumerOptions(client_id=client_id or self.client_id(), **options)
        consumer = Consumer(runtime(self.settings, self.db, self.live, broker), consumer_options, hooks)
        self.consumers.append(consumer)
        if start:
            consumer.start()
            assert consumer.wait_ready(WAIT), "consumer did not subscribe"
        return consumer

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher(self.mqtt_url)
        return self._publisher

    def stored(self) -> int:
        with self.db.engine.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM vital_sample WHERE device_id LIKE :p"), {"p": f"{self.prefix}-%"}
            ).scalar()

    def dead_letters(self) -> list[tuple]:
        with self.db.engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT reason, device_id, topic, detail, payload FROM dead_letter "
                    "WHERE topic LIKE :t OR device_id LIKE :p ORDER BY id"
                ),
                {"t": f"%{self.prefix}%", "p": f"{self.prefix}%"},
            ).all()

    def close(self) -> None:
        for consumer in self.consumers:
            consumer.stop(5)
        if self._publisher is not None:
            self._publisher.close()
        if self.kind == "postgres":
            for client_id in self.client_ids:
                purge_session(self.mqtt_url, client_id)


@pytest.fixture(scope="module")
def mosquitto_server() -> Iterator[MosquittoServer]:
    """A broker of these modules' own: retained status messages that other tests' simulators leave on the
    session broker would reach these consumers as unknown devices and spoil the exact counts."""
    with MosquittoServer() as server:
        yield server


@pytest.fixture(scope="module")
def mqtt_url(mosquitto_server: MosquittoServer) -> str:
    return mosquitto_server.url


@pytest.fixture(scope="module")
def pg_database(postgres_server) -> Iterator[Database]:
    """One migrated PostgreSQL database for the module (tests use prefixes of their own)."""
    url = postgres_server.create_database(f"c_{uuid.uuid4().hex[:12]}")
    upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path_factory.mktemp('consumer') / 'pantau.db'}"
    upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def embedded_broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as broker:
        broker.start(0)
        yield broker


def runtime(settings: Settings, db: Database, live: LiveStore, broker: BrokerAddress | None = None) -> Runtime:
    """The consumer's services: the test's database and live store, and ``broker`` or the one of ``settings``."""
    cipher = FieldCipher(settings.data_keys, settings.blind_index_key)
    return Runtime(settings, db, live, cipher, broker or broker_address(settings))


def _settings(tmp_path: Path, database_url: str, redis_url: str, mqtt_url: str) -> Settings:
    return load_settings(env="test", database_url=database_url, redis_url=redis_url, mqtt_url=mqtt_url,
                         var_dir=tmp_path / "var")  # fmt: skip


def make_rig(request: pytest.FixtureRequest, kind: str, tmp_path: Path, beds: int = 4) -> Rig:
    prefix = f"T{uuid.uuid4().hex[:6]}"
    if kind == "postgres":
        db = request.getfixturevalue("pg_database")
        redis_url = request.getfixturevalue("redis_url")
        mqtt_url = request.getfixturevalue("mqtt_url")
        live = open_live_store(redis_url)
    else:
        db = request.getfixturevalue("sqlite_database")
        redis_url = "memory://"
        mqtt_url = request.getfixturevalue("embedded_broker").url
        live = MemoryLiveStore()
    rig = Rig(kind, _settings(tmp_path, db.url, redis_url, mqtt_url), db, live, mqtt_url, prefix,
              seed_beds(db, prefix, beds))  # fmt: skip
    request.addfinalizer(live.close)
    request.addfinalizer(rig.close)
    return rig


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.services), "embedded"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    return make_rig(request, request.param, tmp_path)


@pytest.fixture
def pg_rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    return make_rig(request, "postgres", tmp_path)


@pytest.fixture
def emb_rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    return make_rig(request, "embedded", tmp_path)


# ------------------------------------------------------------------------------------------ consumer: happy


def test_valid_messages_are_stored_once_and_shown_live(rig: Rig) -> None:
    dev1, dev2 = rig.device_ids[:2]
    bed1, ward, bed1_id = rig.devices[dev1]
    bed2 = rig.devices[dev2][0]
    consumer = rig.consumer()
    ticks = rig.live.subscribe(live_keys.ward_channel(ward))
    t0 = now_ms() - 10_000
    messages = [
        vitals(dev1, 1, t0, hr=80, spo2=97, rr=16, temp=36.8, sqi={"ecg": 0.9, "spo2": 0.8},
               status={"ecg": "ok", "spo2": "ok"}),
        vitals(dev1, 2, t0 + 1000, hr=81, spo2=96, rr=17, temp=36.9, sbp=121, dbp=78, map=92,
               status={"ecg": "ok", "spo2": "ok"}),
        # SpO2 probe off: the old SpO2 must disappear; the cuff reading stays (NIBP comes only when measured).
        vitals(dev1, 3, t0 + 2000, hr=82, spo2=95, rr=None, temp=37.0, status={"ecg": "ok", "spo2": "off"}),
        vitals(dev2, 1, t0 + 500, hr=70),
    ]  # fmt: skip
    rig.publisher.send(messages)
    wait_until(lambda: rig.stored() == 4, what="4 rows")
    wait_until(lambda: rig.live.get_latest(live_keys.latest(bed2)), what="live store")

    with rig.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT device_id, seq, bed_id, hr, spo2, rr, sbp, dbp, map, temp, ecg_status, spo2_status, "
                "sqi_ecg, sqi_spo2, ts FROM vital_sample WHERE device_id = :d ORDER BY seq"
            ),
            {"d": dev1},
        ).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert {r.bed_id for r in rows} == {bed1_id}
    assert (rows[0].hr, rows[0].spo2, rows[0].sqi_ecg, rows[0].sqi_spo2) == (80, 97, 0.9, 0.8)
    assert (rows[1].sbp, rows[1].dbp, rows[1].map) == (121, 78, 92)
    assert rows[2].spo2 is None and rows[2].spo2_status == "off" and rows[2].rr is None
    with rig.db.session() as session:  # through the model: an aware UTC time on both backends
        first = session.scalar(select(VitalSample).where(VitalSample.device_id == dev1, VitalSample.seq == 1))
        assert first.ts == datetime.fromtimestamp(t0 / 1000, UTC)
        assert first.received_at >= first.ts

    with rig.db.engine.connect() as conn:  # the monitor's pairing with the bed orders the bed's samples
        pairing = conn.execute(
            text(
                "SELECT a.id FROM device_assignment a JOIN device d ON d.id = a.device_pk "
                "WHERE d.device_id = :d AND a.until IS NULL"
            ),
            {"d": dev1},
        ).scalar_one()
    latest = rig.live.get_latest(live_keys.latest(bed1))
    assert latest["bed"] == bed1 and latest["ward"] == ward and latest["device"] == dev1
    assert latest["pairing"] == latest["nibp_pairing"] == str(pairing)
    assert latest["ts"] == str(t0 + 2000)
    assert int(latest["rx"]) >= t0
    assert (latest["hr"], latest["temp"]) == ("82", "37.0")
    assert "spo2" not in latest and "rr" not in latest  # off / not measured: absent, never the last value
    assert (latest["sbp"], latest["dbp"], latest["map"], latest["nibp_ts"]) == ("121", "78", "92", str(t0 + 1000))
    assert (latest["st_ecg"], latest["st_spo2"]) == ("ok", "off")

    stream = rig.live.read_stream(live_keys.vitals_stream(bed1))
    assert [fields["ts"] for _, fields in stream] == [str(t0), str(t0 + 1000), str(t0 + 2000)]
    assert stream[1][1] == {"ts": str(t0 + 1000), "hr": "81", "spo2": "96", "rr": "17", "temp": "36.9",
                            "sbp": "121", "dbp": "78", "map": "92"}  # fmt: skip
    assert "spo2" not in stream[2][1]

    received = []
    while len(received) < 4:
        message = ticks.get(5)
        assert message is not None, f"only {len(received)} ward messages"
        received.append(json.loads(message[1]))
    ticks.close()
    last = [t for t in received if t["bed"] == bed1][-1]
    assert last == {
        "t": "v",
        "bed": bed1,
        "p": pairing,
        "ts": t0 + 2000,
        "rx": last["rx"],
        "hr": 82,
        "temp": 37.0,
        "sbp": 121,
        "dbp": 78,
        "map": 92,
        "nibp_pairing": pairing,
        "nibp_ts": t0 + 1000,
        "st": {"ecg": "ok", "spo2": "off"},
    }
    assert {t["bed"] for t in received} == {bed1, bed2}

    wait_until(lambda: consumer.metrics.stored == 4, what="counted once committed")  # the rows show first
    assert consumer.metrics.duplicates == 0
    wait_until(lambda: consumer.metrics.acked == 4, what="acks")
    key = live_keys.consumer_snapshot(consumer.client_id)
    wait_until(lambda: json.loads(rig.live.get_latest(key).get("json", "{}")).get("stored") == 4, what="snapshot")
    snapshot = json.loads(rig.live.get_latest(key)["json"])
    assert snapshot["client_id"] == consumer.client_id and snapshot["connected"] and snapshot["acked"] == 4


def test_redelivered_duplicates_are_counted_not_stored_twice(rig: Rig) -> None:
    device = rig.device_ids[0]
    consumer = rig.consumer()
    ts = now_ms()
    message = vitals(device, 7, ts, hr=90)
    rig.publisher.send([message])
    wait_until(lambda: consumer.metrics.stored == 1, what="first copy")
    rig.publisher.send([message, message, vitals(device, 8, ts + 1000, hr=91)])  # at-least-once: copies
    wait_until(lambda: consumer.metrics.stored + consumer.metrics.duplicates == 4, what="all copies")
    assert rig.stored() == 2
    assert consumer.metrics.stored == 2 and consumer.metrics.duplicates == 2
    # Same seq after a device restart but another ts: a different sample.
    rig.publisher.send([vitals(device, 7, ts + 5000, hr=92)])
    wait_until(lambda: rig.stored() == 3, what="restarted seq")
    # A second consumer (e.g. after a crash between commit and PUBACK) sees them all as duplicates.
    consumer.stop(5)
    again = rig.consumer()
    rig.publisher.send([message, vitals(device, 8, ts + 1000, hr=91)])
    wait_until(lambda: again.metrics.duplicates == 2, what="duplicates in the new consumer")
    assert again.metrics.stored == 0 and rig.stored() == 3


def test_every_reject_reason_is_dead_lettered(rig: Rig) -> None:
    device = rig.device_ids[0]
    consumer = rig.consumer()
    topic = f"pantau/v1/{SITE}/vitals/{device}"
    ts = now_ms()
    ok = {"v": 1, "device_id": device, "seq": 1, "ts": ts}
    cases = {
        "oversize": (topic, json.dumps({**ok, "pad": "x" * (70 * 1024)}).encode()),
        "bad_topic": (f"pantau/v1/{SITE}/vitals/{rig.prefix}.bad.id", json.dumps(ok).encode()),
        "not_json": (topic, b"{not json"),
        "not_object": (topic, b"[1, 2, 3]"),
        "missing_field": (topic, json.dumps({k: v for k, v in ok.items() if k != "seq"}).encode()),
        "bad_version": (topic, json.dumps({**ok, "v": 2}).encode()),
        "device_mismatch": (topic, json.dumps({**ok, "device_id": f"{rig.prefix}-OTHER"}).encode()),
        "bad_type": (topic, json.dumps({**ok, "hr": "abc"}).encode()),
        "impossible_value": (topic, json.dumps({**ok, "hr": 900}).encode()),
        "clock_skew": (topic, json.dumps({**ok, "ts": ts - 3_600_000}).encode()),
        "unknown_device": vitals(f"{rig.prefix}-GHOST", 1, ts, hr=80),
    }
    rig.publisher.send([*cases.values(), vitals(device, 2, ts, hr=75)])
    wait_until(lambda: sum(consumer.metrics.dead_lettered.values()) == len(cases), what="dead letters")
    wait_until(lambda: rig.stored() == 1, what="the valid one")

    letters = rig.dead_letters()
    assert sorted(letter.reason for letter in letters) == sorted(cases)
    by_reason = {letter.reason: letter for letter in letters}
    assert dict(consumer.metrics.dead_lettered) == dict.fromkeys(cases, 1)
    assert by_reason["oversize"].device_id == device
    assert len(bytes(by_reason["oversize"].payload)) == DEAD_LETTER_SAMPLE  # a sample of it is kept
    assert bytes(by_reason["not_json"].payload) == b"{not json"
    assert by_reason["bad_topic"].device_id is None and by_reason["bad_topic"].topic == cases["bad_topic"][0]
    assert by_reason["unknown_device"].device_id == f"{rig.prefix}-GHOST"
    assert "hr" in by_reason["impossible_value"].detail
    wait_until(lambda: consumer.metrics.acked == len(cases) + 1, what="rejects acked too")


def test_a_monitor_moved_to_another_bed_is_picked_up(rig: Rig) -> None:
    device, other = rig.device_ids[0], rig.device_ids[1]
    bed_a, _, bed_a_id = rig.devices[device]
    bed_b, _, bed_b_id = rig.devices[other]
    consumer = rig.consumer(directory_ttl=0.2)
    ts = now_ms()
    rig.publisher.send([vitals(device, 1, ts, hr=60)])
    wait_until(lambda: rig.stored() == 1, what="first sample")
    move_device(rig.db, device, bed_b_id)
    time.sleep(0.3)  # the directory's TTL
    rig.publisher.send([vitals(device, 2, ts + 1000, hr=61)])
    wait_until(lambda: rig.stored() == 2, what="second sample")
    with rig.db.engine.connect() as conn:
        beds = conn.execute(
            text("SELECT seq, bed_id FROM vital_sample WHERE device_id = :d ORDER BY seq"), {"d": device}
        ).all()
    assert [tuple(row) for row in beds] == [(1, bed_a_id), (2, bed_b_id)]
    wait_until(lambda: rig.live.get_latest(live_keys.latest(bed_b)).get("hr") == "61", what="new bed live")
    assert rig.live.get_latest(live_keys.latest(bed_b))["device"] == device
    assert rig.live.get_latest(live_keys.latest(bed_a))["hr"] == "60"
    assert consumer.metrics.dead_lettered == {}


def test_device_status_updates_the_bed(rig: Rig) -> None:
    device = rig.device_ids[0]
    bed, ward, _ = rig.devices[device]
    seen = []
    consumer = rig.consumer(hooks=ConsumerHooks(on_status=[lambda updates, now: seen.extend(updates)]))
    ticks = rig.live.subscribe(live_keys.ward_channel(ward))
    topic = f"pantau/v1/{SITE}/status/{device}"
    rig.publisher.send([(topic, b'{"online": true, "battery": 40}')], retain=True)
    wait_until(lambda: rig.live.get_latest(live_keys.latest(bed)).get("battery") == "40", what="status")
    assert rig.live.get_latest(live_keys.latest(bed))["online"] == "1"
    message = ticks.get(5)
    assert message is not None and json.loads(message[1]) == {"t": "s", "bed": bed, "online": True, "battery": 40}
    rig.publisher.send([(topic, b'{"online": false}')], retain=True)  # the last will
    wait_until(lambda: rig.live.get_latest(live_keys.latest(bed)).get("online") == "0", what="offline")
    assert rig.live.get_latest(live_keys.latest(bed))["battery"] == "40"  # not in the will: kept
    wait_until(lambda: len(seen) == 2, what="status hook")
    assert [u.status.online for u in seen] == [True, False] and seen[0].bed == bed
    rig.publisher.send([(topic, b"")], retain=True)  # clearing the retained message is not an error
    rig.publisher.send([(topic, b'{"online": "yes"}')])
    wait_until(lambda: consumer.metrics.dead_lettered.get("bad_type") == 1, what="bad status dead-lettered")
    ticks.close()


# -------------------------------------------------------------------------------------------- consumer: hooks


def test_hooks_run_once_per_new_sample_and_never_stop_ingestion(emb_rig: Rig) -> None:
    rig = emb_rig
    device = rig.device_ids[0]
    batches: list[tuple[list[Sample], int]] = []

    def record(samples: list[Sample], now: int) -> None:
        batches.append((samples, now))

    def broken(samples: list[Sample], now: int) -> None:
        raise RuntimeError("alarm engine bug")

    def news2(samples: list[Sample], now: int) -> dict:
        return {s.bed: {"news2": 3, "news2_complete": "1", "news2_risk": "low"} for s in samples}

    consumer = rig.consumer(hooks=ConsumerHooks(on_samples=[broken, record], enrichers=[news2]))
    bed, ward, _ = rig.devices[device]
    ticks = rig.live.subscribe(live_keys.ward_channel(ward))
    ts = now_ms()
    rig.publisher.send([vitals(device, n, ts + n, hr=70 + n) for n in range(5)])
    wait_until(lambda: sum(len(b[0]) for b in batches) == 5, what="hook calls")
    rig.publisher.send([vitals(device, 0, ts, hr=70)])  # a duplicate: not given to hooks again ...
    rig.publisher.send([vitals(device, 5, ts + 5, hr=75)])  # ... which the next new sample shows
    wait_until(lambda: consumer.metrics.duplicates == 1 and consumer.metrics.stored == 6, what="duplicate")
    wait_until(lambda: any(s.msg.seq == 5 for batch, _ in batches for s in batch), what="the next sample")
    samples = [s for batch, _ in batches for s in batch]
    assert [s.msg.seq for s in samples] == [0, 1, 2, 3, 4, 5]
    assert samples[0].bed == bed and samples[0].ward == ward and samples[0].msg.hr == 70
    assert consumer.metrics.hook_errors == len(batches)
    latest = rig.live.get_latest(live_keys.latest(bed))
    assert (latest["news2"], latest["news2_complete"], latest["news2_risk"]) == ("3", "1", "low")
    tick = json.loads(ticks.get(5)[1])
    assert (tick["news2"], tick["complete"], tick["risk"]) == (3, True, "low")
    ticks.close()


def test_database_error_retries_the_store_but_shows_each_sample_once(
    emb_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Samples go live and to the hooks before they are stored: once, however often a failing store is retried;
    a resent older sample (a filled sequence gap) is stored and never shown."""
    rig = emb_rig
    device = rig.device_ids[0]
    bed, ward, _ = rig.devices[device]
    database_down = threading.Event()
    attempts: list[int] = []
    real_insert = consumer_pipeline.insert_samples

    def insert(conn: object, rows: list[tuple]) -> int:
        attempts.append(len(rows))
        if database_down.is_set():
            raise sqlite3.OperationalError("database is locked")  # transient: the batch is retried
        return real_insert(conn, rows)

    monkeypatch.setattr(consumer_pipeline, "insert_samples", insert)
    shown: list[int] = []
    consumer = rig.consumer(
        hooks=ConsumerHooks(on_samples=[lambda samples, now: shown.extend(s.msg.seq for s in samples)])
    )
    ticks = rig.live.subscribe(live_keys.ward_channel(ward))
    ts = now_ms() - 10_000

    database_down.set()
    rig.publisher.send([vitals(device, n, ts + 1000 * n, hr=70 + n) for n in (1, 2, 4)])  # seq 3 is missing
    wait_until(lambda: shown == [1, 2, 4], what="samples shown while the database fails")
    wait_until(lambda: consumer.metrics.db_errors >= 3, what="the store retried")
    assert rig.stored() == 0 and consumer.metrics.acked == 0
    assert rig.live.get_latest(live_keys.latest(bed))["ts"] == str(ts + 4000)
    database_down.clear()
    wait_until(lambda: rig.stored() == 3 and consumer.metrics.acked == 3, what="stored once the database is back")
    assert len(attempts) > 2 and consumer.metrics.stored == 3 and consumer.metrics.duplicates == 0

    rig.publisher.send([vitals(device, 3, ts + 3000, hr=73)])  # resent by the monitor: older than seq 4
    wait_until(lambda: rig.stored() == 4, what="the resent sample stored")
    rig.publisher.send([vitals(device, 5, ts + 5000, hr=75)])
    wait_until(lambda: shown[-1:] == [5], what="the next new sample shown")
    assert shown == [1, 2, 4, 5]
    wait_until(lambda: consumer.metrics.stored == 5, what="the next sample stored")  # shown first, stored after
    assert rig.stored() == 5 and consumer.metrics.duplicates == 0
    received = []
    while not received or received[-1]["ts"] != ts + 5000:
        message = ticks.get(5)
        assert message is not None, f"ticks so far: {received}"
        received.append(json.loads(message[1]))
    ticks.close()
    assert [t["ts"] - ts for t in received if t["t"] == "v"] == [1000, 2000, 4000, 5000]
    assert rig.live.get_latest(live_keys.latest(bed))["ts"] == str(ts + 5000)


def test_stock_paho_path_works_too(emb_rig: Rig) -> None:
    consumer = emb_rig.consumer(fast_receive=False, writers=1)
    assert type(consumer._client) is mqtt.Client
    device = emb_rig.device_ids[0]
    emb_rig.publisher.send(
        [vitals(device, n, now_ms() + n, hr=60) for n in range(30)] + [(f"pantau/v1/{SITE}/vitals/{device}", b"x")]
    )
    wait_until(lambda: emb_rig.stored() == 30, what="rows")
    wait_until(lambda: consumer.metrics.dead_lettered.get("not_json") == 1, what="dead letter")
    wait_until(lambda: consumer.metrics.acked == 31, what="acks")


# ------------------------------------------------------------------------------------------ consumer: faults


class TcpProxy:
    """A TCP forwarder whose link can be cut (existing connections closed, new ones refused) and restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.up = True
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.server.close()


@pytest.mark.services
def test_database_outage_is_retried_and_nothing_is_acked_before_commit(pg_rig: Rig, tmp_path: Path) -> None:
    rig = pg_rig
    url = rig.db.engine.url
    proxy = TcpProxy(url.host, url.port)
    proxied = Database(url.set(port=proxy.port).render_as_string(hide_password=False))
    try:
        client_id = rig.client_id()
        settings = _settings(tmp_path, proxied.url, rig.settings.redis_url, rig.mqtt_url)
        options = ConsumerOptions(client_id=client_id, directory_ttl=3600, maintenance_interval=3600)
        first = Consumer(runtime(settings, proxied, rig.live), options)
        first.start()
        assert first.wait_ready(WAIT)
        device = rig.device_ids[0]
        ts = now_ms()
        rig.publisher.send([vitals(device, n, ts + n) for n in range(10)])
        wait_until(lambda: rig.stored() == 10, what="rows before the outage")
        wait_until(lambda: first.metrics.acked == 10, what="acks before the outage")

        proxy.cut()  # the database goes away
        rig.publisher.send([vitals(device, n, ts + n) for n in range(10, 30)])
        wait_until(lambda: first.metrics.db_errors >= 2, what="failed attempts")
        assert rig.stored() == 10 and first.metrics.acked == 10  # nothing acknowledged without a commit
        assert first.metrics.last_error and not first.healthy()
        proxy.restore()  # ... and comes back: the same batch is retried
        wait_until(lambda: rig.stored() == 30, what="rows after the outage")
        wait_until(lambda: first.metrics.acked == 30, what="acks after the outage")

        proxy.cut()  # down again, and the consumer is stopped meanwhile
        rig.publisher.send([vitals(device, n, ts + n) for n in range(30, 45)])
        wait_until(lambda: first.metrics.received == 45, what="received while down")
        first.stop(2)  # cannot commit: gives up without acking
        assert first.metrics.acked == 30
        proxy.restore()
        second = rig.consumer(client_id)  # the broker delivers the 15 again
        wait_until(lambda: rig.stored() == 45, what="redelivered rows")
        with rig.db.engine.connect() as conn:
            assert conn.execute(
                text("SELECT count(DISTINCT (device_id, ts, seq)) FROM vital_sample WHERE device_id = :d"),
                {"d": device},
            ).scalar() == 45  # fmt: skip
        assert second.metrics.stored == 15
    finally:
        proxy.close()
        proxied.dispose()


@pytest.mark.services
def test_redis_down_samples_are_still_stored_and_acked(pg_rig: Rig, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    dead = open_live_store(f"redis://127.0.0.1:{closed}/0")
    options = ConsumerOptions(client_id=pg_rig.client_id(), maintenance_interval=3600, snapshot_interval=0.2)
    consumer = Consumer(runtime(pg_rig.settings, pg_rig.db, dead), options)
    pg_rig.consumers.append(consumer)
    consumer.start()
    assert consumer.wait_ready(WAIT)
    device = pg_rig.device_ids[0]
    ts = now_ms()
    for n in range(4):  # several batches
        pg_rig.publisher.send([vitals(device, n * 10 + k, ts + n * 10 + k) for k in range(10)])
        time.sleep(0.1)
    wait_until(lambda: pg_rig.stored() == 40, what="rows without redis")
    wait_until(lambda: consumer.metrics.acked == 40, what="acks without redis")
    assert consumer.metrics.live_errors >= 1
    assert "live store" in (consumer.metrics.last_error or "") or consumer.metrics.live_skipped
    dead.close()


# --------------------------------------------------------------------------------------- consumer: plumbing


def test_metrics_endpoint_and_health(emb_rig: Rig) -> None:
    consumer = emb_rig.consumer(metrics_port=0)
    device = emb_rig.device_ids[0]
    emb_rig.publisher.send([vitals(device, 1, hr=60), (f"pantau/v1/{SITE}/vitals/{device}", b"[]")])
    wait_until(lambda: consumer.metrics.acked == 2, what="acks")
    base = f"http://127.0.0.1:{consumer.metrics_port}"
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        body = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/plain")
    label = f'client_id="{consumer.client_id}"'
    assert f"pantau_consumer_stored_total{{{label}}} 1" in body
    assert f'pantau_consumer_dead_lettered_total{{{label},reason="not_object"}} 1' in body
    assert "# TYPE pantau_consumer_commit_seconds summary" in body
    assert f'pantau_consumer_commit_seconds{{{label},quantile="0.99"}}' in body
    assert f"pantau_consumer_lag_seconds{{{label}}}" in body
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
        health = json.loads(response.read())
    assert health["ok"] is True and health["stored"] == 1 and health["batches"] >= 1
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{base}/nothing", timeout=5)


def test_stop_flushes_and_is_idempotent(emb_rig: Rig) -> None:
    consumer = emb_rig.consumer(batch_wait=1.0, batch_idle=1.0, batch_size=10_000)
    device = emb_rig.device_ids[0]
    emb_rig.publisher.send([vitals(device, n, now_ms() + n) for n in range(20)])
    wait_until(lambda: consumer.metrics.received == 20, what="received")
    consumer.stop(5)  # the batch still collecting is committed and acked before the disconnect
    assert emb_rig.stored() == 20 and consumer.metrics.acked == 20
    consumer.stop(5)


def test_maintenance_runs_on_start_and_by_hand(pg_rig: Rig) -> None:
    consumer = pg_rig.consumer()
    wait_until(lambda: len(partitions.list_partitions(pg_rig.db.engine)) >= 3, what="partitions at start")
    result = consumer.run_maintenance()
    assert set(result) == {
        "partitions_created",
        "rollup_rows",
        "partitions_dropped",
        "gaps_dropped",
        "dead_letters_dropped",
        "cuff_readings_restored",
        "census_days",
    }
    assert consumer.retention_days == 30


# ------------------------------------------------------------------------------------------------ data layer


def _row(device: str, ts: int, seq: int, bed_id: int | None = None, hr: float | None = 80.0) -> tuple:
    return (device, ts, seq, bed_id, ts + 5, hr, 97, 16, None, None, None, 36.8, "ok", "off", 0.9, None)


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.services), "sqlite"])
def database(request: pytest.FixtureRequest) -> Database:
    return request.getfixturevalue("pg_database" if request.param == "postgres" else "sqlite_database")


def test_insert_samples_counts_new_rows_and_skips_known_keys(database: Database) -> None:
    device = f"I{uuid.uuid4().hex[:8]}"
    ts = now_ms()
    rows = [_row(device, ts + n, n) for n in range(5)]
    with database.engine.begin() as conn:
        assert insert_samples(conn, rows) == 5
    with database.engine.begin() as conn:
        result = insert_samples_detailed(conn, [*rows[3:], _row(device, ts + 10, 10), _row(device, ts + 10, 10)])
    assert result.new == 1 and result.new_keys == frozenset({(device, ts + 10, 10)})
    with database.session() as session:  # a Session works as well
        assert insert_samples(session, [_row(device, ts + 11, 11)]) == 1
    with database.engine.connect() as conn:
        got = conn.execute(
            text("SELECT seq, hr, spo2_status, sqi_spo2, ts, received_at FROM vital_sample WHERE device_id = :d "
                 "ORDER BY seq"),
            {"d": device},
        ).all()  # fmt: skip
    assert [r.seq for r in got] == [0, 1, 2, 3, 4, 10, 11]
    assert got[0].hr == 80.0 and got[0].spo2_status == "off" and got[0].sqi_spo2 is None
    stored_ts = got[0].ts
    if isinstance(stored_ts, str):  # SQLite through text(): SQLAlchemy's text form
        assert stored_ts == datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    else:
        assert stored_ts == datetime.fromtimestamp(ts / 1000, UTC)


def test_insert_dead_letters_truncates(database: Database) -> None:
    marker = f"dl-{uuid.uuid4().hex[:8]}"
    letters = [
        DeadLetterRow(now_ms(), f"pantau/v1/S/vitals/{marker}", marker, "oversize", "x" * 900, b"y" * 100_000),
        DeadLetterRow(now_ms(), "t" * 400, None, "bad_topic", None, None),
    ]
    with database.engine.begin() as conn:
        assert insert_dead_letters(conn, letters) == 2
    with database.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT reason, detail, payload, payload_size, payload_truncated FROM dead_letter WHERE device_id = :d"
            ),
            {"d": marker},
        ).one()
    assert row.reason == "oversize" and len(row.detail) == 500 and len(bytes(row.payload)) == DEAD_LETTER_SAMPLE
    assert row.payload_size == 100_000 and row.payload_truncated


def test_device_directory_follows_assignments(database: Database) -> None:
    prefix = f"D{uuid.uuid4().hex[:6]}"
    devices = seed_beds(database, prefix, 2)
    directory = DeviceDirectory(database.engine, ttl=3600, miss_interval=0)
    first, second = sorted(devices)
    assert directory.lookup(first).bed == devices[first][0]
    assert directory.lookup(f"{prefix}-NOPE") is None
    move_device(database, first, devices[second][2])
    assert directory.lookup(first).bed == devices[first][0]  # cached
    directory.invalidate()
    ref = directory.lookup(first)
    assert (ref.bed, ref.ward, ref.bed_id) == devices[second]
    # A device assigned after the last load is found on a miss.
    new = seed_beds(database, f"{prefix}N", 1, ward=f"{prefix}W")
    assert directory.lookup_many(list(new))[next(iter(new))].bed == f"{prefix}N-01"


def test_device_directory_keeps_its_map_while_the_database_is_away(sqlite_database: Database) -> None:
    prefix = f"D{uuid.uuid4().hex[:6]}"
    devices = seed_beds(sqlite_database, prefix, 1)
    device = next(iter(devices))
    directory = DeviceDirectory(sqlite_database.engine, ttl=0, miss_interval=0, retry_interval=3600)
    assert directory.lookup(device).bed == devices[device][0]
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    away = create_engine(f"postgresql+psycopg2://pantau@127.0.0.1:{port}/pantau", connect_args={"connect_timeout": 2})
    directory.engine = away
    try:
        reloads = directory.reloads
        assert directory.lookup(device).bed == devices[device][0]  # stale (ttl 0), reload fails: the map stays
        assert directory.failing and directory.reloads == reloads
        assert directory.lookup(f"{prefix}-NEVER-SEEN") is None  # only a device never seen is unknown
        with pytest.raises(OperationalError):  # for a caller about to refuse it: the outage, not "unknown"
            directory.lookup_many([f"{prefix}-NEVER-SEEN"], confirm_misses=True)
        cold = DeviceDirectory(away)
        with pytest.raises(OperationalError):  # nothing loaded yet: no device can be told
            cold.lookup(device)
    finally:
        away.dispose()
    directory.engine = sqlite_database.engine
    directory.retry_interval = 0  # the database is back: the next lookup reloads
    assert directory.lookup(device).bed == devices[device][0]
    assert not directory.failing and directory.reloads == reloads + 1


@pytest.mark.services
def test_partitions_are_created_ahead_idempotently_and_concurrently(postgres_server) -> None:
    url = postgres_server.create_database(f"p_{uuid.uuid4().hex[:12]}")
    upgrade(url)
    db = Database(url)
    try:
        today = date(2030, 1, 10)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                partitions.ensure_partitions(db.engine, days_ahead=2, today=today)
            except BaseException as exc:  # collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        names = partitions.list_partitions(db.engine)
        assert set(names) == {"vital_sample_20300110", "vital_sample_20300111", "vital_sample_20300112"}
        assert partitions.ensure_partitions(db.engine, days_ahead=2, today=today) == []

        # Rows that fell into the default partition for a day without one are moved when it is created.
        stray = int(datetime(2030, 1, 13, 8, tzinfo=UTC).timestamp() * 1000)
        with db.engine.begin() as conn:
            insert_samples(conn, [_row("P-1", stray, 1), _row("P-1", stray + 1, 2)])
        assert partitions.ensure_partitions(db.engine, days_ahead=3, today=today) == ["vital_sample_20300113"]
        with db.engine.connect() as conn:
            where = conn.execute(text("SELECT tableoid::regclass::text, count(*) FROM vital_sample GROUP BY 1")).all()
        assert dict(where) == {"vital_sample_20300113": 2}

        dropped = partitions.drop_expired(db.engine, retention_days=30, today=date(2030, 2, 11))
        assert dropped == ["vital_sample_20300110", "vital_sample_20300111"]
        assert set(partitions.list_partitions(db.engine)) == {"vital_sample_20300112", "vital_sample_20300113"}
        with pytest.raises(TypeError):
            partitions.partition_name(datetime(2030, 1, 1))  # type: ignore[arg-type]
    finally:
        db.dispose()


def test_partitions_are_a_no_op_on_sqlite(sqlite_database: Database) -> None:
    assert partitions.ensure_partitions(sqlite_database.engine) == []
    device = f"E{uuid.uuid4().hex[:8]}"
    old = int((datetime.now(UTC) - timedelta(days=40)).timestamp() * 1000)
    with sqlite_database.engine.begin() as conn:
        insert_samples(conn, [_row(device, old, 1), _row(device, now_ms(), 2)])
    assert partitions.drop_expired(sqlite_database.engine, retention_days=30) == []
    with sqlite_database.engine.connect() as conn:
        left = conn.execute(text("SELECT seq FROM vital_sample WHERE device_id = :d"), {"d": device}).scalars().all()
    assert left == [2]


def test_rollups_of_closed_minutes(database: Database) -> None:
    prefix = f"R{uuid.uuid4().hex[:6]}"
    devices = seed_beds(database, prefix, 1)
    device = next(iter(devices))
    bed_id = devices[device][2]
    minute = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)
    base = int(minute.timestamp() * 1000)
    rows = [
        _row(device, base + 1_000, 1, bed_id, hr=60),
        _row(device, base + 30_000, 2, bed_id, hr=70),
        _row(device, base + 59_999, 3, bed_id, hr=None),
        _row(device, base + 61_000, 4, bed_id, hr=100),  # next minute
        _row(device, base + 125_000, 5, bed_id, hr=50),  # the minute still open at ``until``
        _row(device, base + 2_000, 6, None, hr=200),  # no bed: not rolled up
    ]
    if database.dialect == "postgresql":
        partitions.ensure_partitions(database.engine, days_ahead=0, today=minute.date())
    with database.engine.begin() as conn:
        insert_samples(conn, rows)
    until = minute + timedelta(minutes=2, seconds=30)
    assert partitions.refresh_rollups(database.engine, minute + timedelta(seconds=20), until) == 2
    with database.engine.connect() as conn:
        got = conn.execute(
            text("SELECT minute, n, hr_avg, hr_min, hr_max, spo2_avg, temp_avg FROM vital_rollup_1m "
                 "WHERE bed_id = :b ORDER BY minute"),
            {"b": bed_id},
        ).all()  # fmt: skip
    assert [(r.n, r.hr_avg, r.hr_min, r.hr_max, r.spo2_avg) for r in got] == [
        (3, 65, 60, 70, 97),
        (1, 100, 100, 100, 97),
    ]
    assert str(got[0].minute).startswith("2031-05-06 07:08:00")
    # A late sample of a closed minute is folded in when the minutes are refreshed again.
    with database.engine.begin() as conn:
        insert_samples(conn, [_row(device, base + 40_000, 7, bed_id, hr=90)])
    assert partitions.refresh_rollups(database.engine, minute, until) == 2
    with database.engine.connect() as conn:
        n, avg = conn.execute(
            text("SELECT n, hr_avg FROM vital_rollup_1m WHERE bed_id = :b ORDER BY minute LIMIT 1"), {"b": bed_id}
        ).one()
    assert (n, avg) == (4, (60 + 70 + 90) / 3)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest) -> Iterator[LiveStore]:
    live = MemoryLiveStore() if request.param == "memory" else open_live_store(request.getfixturevalue("redis_url"))
    yield live
    live.close()


def test_live_batch_applies_writes_in_order_on_both_backends(store: LiveStore) -> None:
    ns = f"pantau-test:{uuid.uuid4().hex[:8]}"
    sub = store.subscribe(f"{ns}:chan")
    store.set_latest(f"{ns}:h", {"old": "x", "keep": 1})
    batch = store.batch()
    batch.set_latest(f"{ns}:h", {"hr": 82, "temp": 36.8, "old": None, "name": "ICU-01"})
    for n in range(5):
        batch.append_stream(f"{ns}:s", {"ts": 1000 + n, "hr": 80 + n, "spo2": None}, maxlen=3, approximate=False)
    batch.publish(f"{ns}:chan", '{"t":"v"}')
    batch.set_latest(f"{ns}:h", {"hr": 83})
    assert len(batch) >= 8
    assert store.get_latest(f"{ns}:h") == {"old": "x", "keep": "1"}  # nothing before execute()
    batch.execute()
    assert len(batch) == 0
    assert store.get_latest(f"{ns}:h") == {"keep": "1", "hr": "83", "temp": "36.8", "name": "ICU-01"}
    entries = store.read_stream(f"{ns}:s")
    assert [fields for _, fields in entries] == [{"ts": str(1000 + n), "hr": str(80 + n)} for n in (2, 3, 4)]
    assert sub.get(5) == (f"{ns}:chan", '{"t":"v"}')
    store.batch().execute()  # empty: nothing to do
    with pytest.raises(ValueError):
        store.batch().append_stream(f"{ns}:s", {"hr": None}, maxlen=10)
    with pytest.raises(TypeError):
        store.batch().set_latest(f"{ns}:h", {"bad": True})
    sub.close()
