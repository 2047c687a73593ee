"""The simulator end to end: the real Mosquitto of the test session (``mqtt_url``), the embedded amqtt broker,
and ``python -m iot_sim`` stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson
import paho.mqtt.client as mqtt
import pytest

from bridge.embedded_broker import EmbeddedBroker
from data.mqtt_client import BrokerAddress, make_client
from data.mqtt_topics import sim_control_topic, sim_state_topic
from iot_sim.devices import demo_devices
from iot_sim.simulator import Simulator
from tests.test_iot_sim import check_vitals

ROOT = Path(__file__).resolve().parent.parent
WAIT = 8.0


class Recorder:
    """A subscriber that keeps every message it receives (topic, payload, retain flag); closed after the test."""

    opened: ClassVar[list[Recorder]] = []

    def __init__(self, url: str, topic: str, client_id: str | None = None) -> None:
        address = BrokerAddress.from_url(url)
        self.messages: list[tuple[str, bytes, bool]] = []
        self._cond = threading.Condition()
        subscribed = threading.Event()
        self.client = make_client(
            address,
            client_id or f"test-rec-{uuid.uuid4().hex[:10]}",
            persistent=client_id is not None,
            on_connect=lambda c, *args: c.subscribe(topic, qos=1),
            on_message=self._on_message,
        )
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect(address.host, address.port, keepalive=30)
        self.client.loop_start()
        Recorder.opened.append(self)
        assert subscribed.wait(WAIT), "no SUBACK"

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[tuple[str, bytes, bool]]], bool], timeout: float = WAIT) -> list:
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.messages), timeout), self.messages[-5:]
            return list(self.messages)

    def close(self) -> None:
        if self in Recorder.opened:
            Recorder.opened.remove(self)
            self.client.disconnect()
            self.client.loop_stop()


@pytest.fixture(autouse=True)
def close_recorders() -> Iterator[None]:
    yield
    while Recorder.opened:
        Recorder.opened[-1].close()


def kind(topic: str) -> str:
    return topic.split("/")[3]


def statuses(messages: list[tuple[str, bytes, bool]]) -> dict[str, dict]:
    """device id → newest status payload."""
    return {topic.rsplit("/", 1)[1]: orjson.loads(p) for topic, p, _ in messages if kind(topic) == "status"}


@pytest.mark.services
def test_simulator_against_mosquitto_publishes_retained_status_and_switches_scenario_at_run_time(mqtt_url):
    site = f"SIM{uuid.uuid4().hex[:8]}"
    devices = demo_devices(3)
    recorder = Recorder(mqtt_url, f"pantau/v1/{site}/#")
    sim = Simulator(mqtt_url, site, devices, seed=1, speed=4)
    sim.start()
    try:
        assert sim.wait_ready(WAIT)
        messages = recorder.wait_for(lambda ms: sum(kind(t) == "vitals" for t, *_ in ms) >= 6, timeout=5)
        numerics = [check_vitals(t, p) for t, p, _ in messages if kind(t) == "vitals"]
        assert {m["device_id"] for m in numerics} == set(devices)
        assert all(abs(m["ts"] - time.time() * 1000) < 10_000 for m in numerics)
        try:  # the consumer's own parser accepts them too
            from domain.vitals_contract import parse_vitals
        except ImportError:  # pragma: no cover - the consumer's contract module is optional here
            parse_vitals = None
        for topic, payload, _ in messages:
            if parse_vitals is not None and kind(topic) == "vitals":
                parse_vitals(topic, payload, int(time.time() * 1000))

        # The retained status reaches a subscriber that comes later.
        late = Recorder(mqtt_url, f"pantau/v1/{site}/status/+")
        retained = late.wait_for(lambda ms: len(statuses(ms)) == 3)
        late.close()
        assert all(r for _, _, r in retained)
        assert all(s["online"] is True and 0 <= s["battery"] <= 100 for s in statuses(retained).values())

        # Run-time switch through the control topic, as the admin page will do it.
        state = Recorder(mqtt_url, sim_state_topic(site))
        state.wait_for(lambda ms: any(orjson.loads(p).get("online") for _, p, _ in ms))
        switch = {"bed": "ICU-02", "scenario": "arrest"}
        recorder.client.publish(sim_control_topic(site), orjson.dumps(switch), qos=1).wait_for_publish(WAIT)
        recorder.wait_for(
            lambda ms: any(
                kind(t) == "vitals" and b'"MON-ICU-02"' in p and orjson.loads(p)["hr"] < 30 for t, p, _ in ms
            ),
            timeout=6,
        )
        state.wait_for(lambda ms: orjson.loads(ms[-1][1]).get("scenarios", {}).get("ICU-02") == "arrest")
        state.close()
        assert sim.scenarios()["ICU-02"] == "arrest"
    finally:
        sim.stop()
    assert sim.wait(1)

    # A clean stop leaves every monitor retained as offline.
    after = Recorder(mqtt_url, f"pantau/v1/{site}/status/+")
    offline = after.wait_for(lambda ms: len(statuses(ms)) == 3)
    after.close()
    assert all(s["online"] is False for s in statuses(offline).values())
    recorder.close()


@pytest.mark.services
def test_burst_after_a_broker_restart_delivers_every_message(mosquitto_server):
    site = f"RST{uuid.uuid4().hex[:8]}"
    # A persistent subscriber: the broker keeps what arrives while this subscriber reconnects too.
    recorder = Recorder(mosquitto_server.url, f"pantau/v1/{site}/vitals/+", client_id=f"test-rst-{site}")
    sim = Simulator(mosquitto_server.url, site, demo_devices(2), rate=5, burst=True, control=False)
    sim.start()
    try:
        assert sim.wait_ready(WAIT)
        recorder.wait_for(lambda ms: len(ms) >= 6)
        mosquitto_server.stop()
        time.sleep(0.8)  # the monitors keep measuring, queueing their numerics
        mosquitto_server.start()
        assert sim.wait_ready(15)  # both monitors back (their back-off is 1 s, then 2 s, ...)

        def flushed() -> bool:
            stats = sim.stats()
            return stats["queued"] > 0 and stats["flushed"] == stats["queued"]

        deadline = time.monotonic() + 5
        while not flushed() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flushed(), sim.stats()
        time.sleep(0.4)
    finally:
        sim.stop()
    stats = sim.stats()
    assert stats["lost"] == 0 and stats["queued"] == stats["flushed"]
    expected = stats["ticks"]

    def complete(ms: list) -> bool:
        seqs: dict[str, set[int]] = {}
        for topic, payload, _ in ms:
            seqs.setdefault(topic, set()).add(orjson.loads(payload)["seq"])
        return len(seqs) == 2 and all(s == set(range(expected)) for s in seqs.values())

    recorder.wait_for(complete, timeout=10)  # every seq of both monitors, none missing (duplicates allowed)


def test_simulator_against_the_embedded_broker():
    with EmbeddedBroker() as broker:
        broker.start(0)
        recorder = Recorder(broker.url, "pantau/v1/EMB/#")
        sim = Simulator(broker.url, "EMB", ["MON-ICU-01"], rate=4, control=False)
        sim.start()
        try:
            messages = recorder.wait_for(lambda ms: sum(kind(t) == "vitals" for t, *_ in ms) >= 2)
            assert statuses(messages)["MON-ICU-01"]["online"] is True
        finally:
            sim.stop()
        recorder.wait_for(lambda ms: statuses(ms).get("MON-ICU-01", {}).get("online") is False)
        recorder.close()


@pytest.mark.services
def test_cli_runs_until_sigterm_then_goes_offline_cleanly(mqtt_url):
    site = f"CLI{uuid.uuid4().hex[:8]}"
    recorder = Recorder(mqtt_url, f"pantau/v1/{site}/#")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    cmd = [sys.executable, "-m", "iot_sim", "--mqtt-url", mqtt_url, "--site", site, "--beds", "2", "--rate", "4"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        recorder.wait_for(lambda ms: sum(kind(t) == "vitals" for t, *_ in ms) >= 4, timeout=15)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    logs = [orjson.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    stopped = next(entry for entry in logs if entry["msg"] == "simulator stopped")
    assert stopped["vitals"] >= 4 and stopped["lost"] == 0
    messages = recorder.wait_for(lambda ms: all(s["online"] is False for s in statuses(ms).values()))
    assert set(statuses(messages)) == {"MON-ICU-01", "MON-ICU-02"}
    recorder.close()
