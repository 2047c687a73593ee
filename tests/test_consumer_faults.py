"""The consumer under faults, on the real services: nothing acknowledged is lost, nothing is stored twice.

(a) ``kill -9`` of the consumer process (``python -m bridge.consumer``) while a publisher sends 5,000 QoS 1
    messages; after a restart every message is stored exactly once.
(b) a broker restart (with persistence) while the consumer is stopped and messages are queued for it, and one
    while it runs: nothing lost, the consumer reconnects by itself.
(c) 10,000 malformed payloads of every kind, interleaved with valid ones: no crash, every one dead-lettered
    with its reason, every valid one stored.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from data import live_keys
from data.live_store import open_live_store
from domain.clock import now_ms
from tests.test_consumer import (  # mosquitto_server and mqtt_url: this module's own broker too
    SITE,
    Publisher,
    Rig,
    create_session,
    make_rig,
    mosquitto_server,  # noqa: F401 - fixture
    mqtt_url,  # noqa: F401 - fixture
    pg_database,  # noqa: F401 - fixture
    vitals,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.services


@pytest.fixture
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    return make_rig(request, "postgres", tmp_path, beds=16)


def distinct_stored(rig: Rig) -> tuple[int, int]:
    """(rows, distinct keys) of the rig's monitors."""
    with rig.db.engine.connect() as conn:
        return tuple(
            conn.execute(
                text("SELECT count(*), count(DISTINCT (device_id, ts, seq)) FROM vital_sample WHERE device_id LIKE :p"),
                {"p": f"{rig.prefix}-%"},
            ).one()
        )


class ConsumerProcess:
    """``python -m bridge.consumer`` pointed at the test services through ``PANTAU_*``."""

    def __init__(self, rig: Rig, client_id: str) -> None:
        self.rig = rig
        self.client_id = client_id
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
        env.update(
            PANTAU_ENV="test",
            PANTAU_DATABASE_URL=self.rig.db.url,
            PANTAU_REDIS_URL=self.rig.settings.redis_url,
            PANTAU_MQTT_URL=self.rig.mqtt_url,
            PANTAU_LOG_LEVEL="WARNING",
            PANTAU_VAR_DIR=str(self.rig.settings.var_dir),
        )
        cmd = [sys.executable, "-m", "bridge.consumer", "--client-id", self.client_id, "--maintenance-interval", "3600"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def snapshot(self) -> dict:
        raw = self.rig.live.get_latest(live_keys.consumer_snapshot(self.client_id)).get("json")
        return json.loads(raw) if raw else {}

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            if self.proc.stderr is not None:
                self.proc.stderr.close()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()


def test_kill_9_mid_stream_then_restart_stores_every_message_exactly_once(rig: Rig) -> None:
    client_id = rig.client_id()
    create_session(rig.mqtt_url, client_id)  # nothing published from now on can miss the consumer
    consumer = ConsumerProcess(rig, client_id)
    total = 5000
    devices = rig.device_ids
    t0 = now_ms()
    messages = [vitals(devices[n % len(devices)], n, t0 + n, hr=60 + n % 50, spo2=95) for n in range(total)]
    publisher = Publisher(rig.mqtt_url)
    sent = threading.Event()

    def publish() -> None:
        for start in range(0, total, 100):  # a steady stream of about 2,000 messages a second
            publisher.send(messages[start : start + 100])
            time.sleep(0.04)
        sent.set()

    try:
        consumer.start()
        wait_until(lambda: consumer.snapshot().get("subscribed"), timeout=30, what="the consumer process")
        thread = threading.Thread(target=publish, daemon=True)
        thread.start()
        wait_until(lambda: distinct_stored(rig)[0] >= 1000, timeout=60, what="the first rows")
        consumer.kill()  # SIGKILL mid-stream: what was received but not committed was never acknowledged
        killed_at = distinct_stored(rig)[0]
        assert not sent.is_set(), "the stream was over before the kill"
        consumer.start()  # while the publisher goes on
        assert sent.wait(60), "the publisher did not finish"
        thread.join(10)
        wait_until(lambda: distinct_stored(rig)[1] >= total, timeout=60, what="every message after the restart")
        # The broker redelivers committed-but-unacked messages at the reconnect, ahead of newer ones on their topic
        # (MQTT keeps a topic's order), so they have all been received by now; SIGTERM stores what was received.
        assert consumer.terminate() == 0  # SIGTERM: flush, ack, disconnect, exit 0
        assert distinct_stored(rig) == (total, total)
        assert rig.dead_letters() == []
        after = consumer.snapshot()  # the restarted process's own counters (written when it stopped)
        assert after["stored"] == total - killed_at
        assert after["received"] >= after["stored"] + after["duplicates"]
    finally:
        consumer.close()
        publisher.close()


def test_broker_restart_with_queued_messages_loses_nothing(rig: Rig, mosquitto_server) -> None:  # noqa: F811
    client_id = rig.client_id()
    first = rig.consumer(client_id)
    devices = rig.device_ids
    t0 = now_ms()
    rig.publisher.send([vitals(devices[0], 0, t0, hr=70)])
    wait_until(lambda: rig.stored() == 1, what="first row")
    first.stop(5)

    queued = [vitals(devices[n % len(devices)], n, t0 + n, hr=70) for n in range(1, 1001)]
    rig.publisher.send(queued)  # held by the broker for the stopped consumer's session
    rig.publisher.close()
    rig._publisher = None
    mosquitto_server.restart()  # SIGTERM (saves its persistence file) and start on the same port

    second = rig.consumer(client_id)
    wait_until(lambda: rig.stored() == 1001, timeout=30, what="queued messages after the broker restart")

    # And a restart while the consumer runs: paho reconnects (1-30 s back-off), the session carries on.
    mosquitto_server.restart()
    wait_until(lambda: second.metrics.connected and second.ready.is_set(), timeout=30, what="reconnect")
    publisher = Publisher(rig.mqtt_url)
    try:
        publisher.send([vitals(devices[n % len(devices)], n, t0 + n, hr=70) for n in range(1001, 1101)])
        wait_until(lambda: rig.stored() == 1101, timeout=30, what="messages after the second restart")
    finally:
        publisher.close()
    assert distinct_stored(rig) == (1101, 1101)


def test_ten_thousand_malformed_payloads_are_dead_lettered_and_valid_ones_stored(rig: Rig) -> None:
    consumer = rig.consumer()
    device = rig.device_ids[0]
    topic = f"pantau/v1/{SITE}/vitals/{device}"
    t0 = now_ms()

    def ok(seq: int) -> dict:
        return {"v": 1, "device_id": device, "seq": seq, "ts": t0 + seq}

    kinds = [
        ("not_json", lambda n: (topic, b"{" + str(n).encode())),
        ("not_json", lambda n: (topic, b"\xff\xfe" + str(n).encode())),
        ("not_object", lambda n: (topic, json.dumps([n]).encode())),
        ("missing_field", lambda n: (topic, json.dumps({"v": 1, "device_id": device, "ts": t0}).encode())),
        ("bad_version", lambda n: (topic, json.dumps({**ok(n), "v": "one"}).encode())),
        ("device_mismatch", lambda n: (topic, json.dumps({**ok(n), "device_id": "SOMEONE-ELSE"}).encode())),
        ("bad_type", lambda n: (topic, json.dumps({**ok(n), "hr": "abc"}).encode())),
        ("bad_type", lambda n: (topic, json.dumps({**ok(n), "seq": str(n)}).encode())),
        ("impossible_value", lambda n: (topic, json.dumps({**ok(n), "spo2": 120}).encode())),
        ("impossible_value", lambda n: (topic, json.dumps({**ok(n), "status": {"ecg": "dead"}}).encode())),
        ("clock_skew", lambda n: (topic, json.dumps({**ok(n), "ts": t0 - 86_400_000}).encode())),
        ("bad_topic", lambda n: (f"pantau/v1/{SITE}/vitals/{rig.prefix}.x", json.dumps(ok(n)).encode())),
        ("unknown_device", lambda n: vitals(f"{rig.prefix}-GHOST", n, t0 + n, hr=80)),
    ]
    malformed = 10_000
    expected = Counter()
    messages = []
    valid = 0
    for n in range(malformed):
        reason, make = kinds[n % len(kinds)]
        expected[reason] += 1
        messages.append(make(n))
        if n % 10 == 0:
            messages.append(vitals(device, 100_000 + valid, t0 + valid, hr=72))
            valid += 1
    for n in range(10):  # a few oversize ones (70 KiB each)
        expected["oversize"] += 1
        messages.append((topic, json.dumps({**ok(n), "pad": "x" * 70 * 1024}).encode()))
    rig.publisher.send(messages, timeout=120)

    total = sum(expected.values())
    wait_until(lambda: sum(consumer.metrics.dead_lettered.values()) >= total, timeout=60, what="dead letters")
    wait_until(lambda: rig.stored() == valid, what="valid rows")
    assert dict(consumer.metrics.dead_lettered) == dict(expected)
    assert consumer.metrics.db_errors == 0 and consumer.healthy()
    with rig.db.engine.connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "SELECT reason, count(*) FROM dead_letter WHERE topic LIKE :t OR device_id LIKE :p GROUP BY reason"
                ),
                {"t": f"%{rig.prefix}%", "p": f"{rig.prefix}%"},
            ).all()
        )
        counted = dict(
            conn.execute(
                text("SELECT reason, sum(count) FROM dead_letter_count WHERE device_id LIKE :p GROUP BY reason"),
                {"p": f"{rig.prefix}%"},
            ).all()
        )
        no_device = conn.execute(
            text("SELECT count FROM dead_letter_count WHERE device_id = '' AND reason = 'bad_topic'")
        ).scalar()
    # Every refusal is counted per device and reason; only a bounded sample of them is kept as rows.
    assert set(rows) == set(expected) and all(1 <= rows[r] <= expected[r] for r in rows)
    assert sum(rows.values()) < total
    assert counted == {r: n for r, n in expected.items() if r != "bad_topic"}
    assert no_device >= expected["bad_topic"]
    wait_until(lambda: consumer.metrics.acked == total + valid, what="everything acked")
    live = open_live_store(rig.settings.redis_url)
    try:
        assert live.get_latest(live_keys.latest(rig.devices[device][0]))["hr"] == "72"
    finally:
        live.close()
