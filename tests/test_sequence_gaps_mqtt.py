"""Sequence gaps end to end on real Mosquitto + PostgreSQL: a gap is found, the monitor is asked to resend, the
rows end up complete and stored once; an unanswered gap becomes unfillable and shows in the bed's trend data;
a broker killed with ``kill -9`` loses acknowledged messages and the backfill brings every one of them back."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select, text

from bridge.sequence_gaps import GapPolicy
from data.models import VitalGap
from data.mqtt_client import BrokerAddress
from data.trends import missing_spans
from domain.clock import now_ms
from iot_sim.faults import Faults
from iot_sim.simulator import Simulator
from testkit.servers import MosquittoServer
from tests.test_consumer import (  # mosquitto_server and mqtt_url: this module's own broker too
    SITE,
    Rig,
    make_rig,
    mosquitto_server,  # noqa: F401 - fixture
    mqtt_url,  # noqa: F401 - fixture
    pg_database,  # noqa: F401 - fixture
    vitals,
    wait_until,
)

pytestmark = pytest.mark.services

FAST = GapPolicy(settle=0.5, retry=0.5, max_attempts=3)
WAIT = 60.0


@pytest.fixture
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    return make_rig(request, "postgres", tmp_path, beds=3)


def stored_seqs(rig: Rig, device: str) -> list[int]:
    """Every stored seq of ``device`` (a seq stored twice would appear twice)."""
    with rig.db.engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT seq FROM vital_sample WHERE device_id = :d ORDER BY seq"), {"d": device}
            ).scalars()
        )


def gaps(rig: Rig, device: str) -> list[VitalGap]:
    with rig.db.session() as s:
        rows = list(s.scalars(select(VitalGap).where(VitalGap.device_id == device).order_by(VitalGap.from_seq)))
        s.expunge_all()
        return rows


def cutoffs(sim: Simulator) -> dict[str, int]:
    """Each simulated monitor's last seq so far."""
    return {m.device_id: m.seq - 1 for m in sim.fleet.monitors}


def incomplete(rig: Rig, upto: dict[str, int]) -> dict[str, str]:
    """Each device whose seqs from its first stored one (a first message dropped is no gap: nothing came before
    it) to ``upto`` are not all stored, each once: what is missing or doubled, and its gap rows."""
    found = {}
    for device, last in upto.items():
        seqs = [n for n in stored_seqs(rig, device) if n <= last]
        if not seqs or seqs != list(range(seqs[0], last + 1)):
            missing = sorted(set(range(seqs[0], last + 1)) - set(seqs)) if seqs else "all"
            doubled = sorted({n for n in seqs if seqs.count(n) > 1})
            rows = [(g.from_seq, g.to_seq, g.state) for g in gaps(rig, device)]
            found[device] = f"missing {missing}, doubled {doubled}, gaps {rows}"
    return found


def wait_complete(rig: Rig, upto: dict[str, int], consumer) -> None:
    """Wait (bounded) until every device is complete up to ``upto``; a timeout says what is missing and why."""
    try:
        wait_until(lambda: not incomplete(rig, upto), timeout=WAIT, what="every seq of every monitor stored")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: {incomplete(rig, upto)}; gap metrics {consumer.metrics.snapshot()['gaps']}"
        ) from None


class CommandListener:
    """Records the commands published to the rig's monitors."""

    def __init__(self, url: str) -> None:
        address = BrokerAddress.from_url(url)
        self.commands: list[tuple[str, bytes]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-cmd-{uuid.uuid4().hex[:8]}")
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.on_message = lambda c, u, m: self.commands.append((m.topic, m.payload))
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        self.client.subscribe(f"pantau/v1/{SITE}/cmd/#", qos=1)
        assert subscribed.wait(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_dropped_messages_are_asked_for_and_stored_once(rig: Rig) -> None:
    devices = rig.device_ids
    consumer = rig.consumer(gap_policy=FAST)
    sim = Simulator(rig.mqtt_url, SITE, devices, rate=10, faults=Faults(drop=0.2, duplicate=0.1, reorder=0.1),
                    control=False, client_id_prefix=f"test-sim-{rig.prefix}")  # fmt: skip
    sim.start()
    try:
        assert sim.wait_ready(10)
        wait_until(lambda: sim.stats()["dropped"] >= 10, timeout=WAIT, what="dropped messages")
        upto = cutoffs(sim)
        dropped = sim.stats()["dropped"]
        wait_complete(rig, upto, consumer)

        def saved_filled() -> bool:
            rows = [row for d in devices for row in gaps(rig, d) if row.to_seq <= upto[d]]
            return bool(rows) and all(row.state == "filled" for row in rows)

        wait_until(saved_filled, what="the gaps up to then saved as filled")
        g = consumer.metrics.gaps
        assert g.detected >= 1 and g.requests >= 1 and g.unfillable == 0 and g.samples_unfillable == 0
    finally:
        sim.stop()
    assert sim.stats()["resend_requests"] >= 1 and sim.stats()["resent"] >= dropped - len(devices)
    text_metrics = consumer.metrics.prometheus()
    assert "pantau_consumer_gaps_detected_total" in text_metrics
    assert consumer.metrics.snapshot()["gaps"]["detected"] == g.detected


def test_an_unanswered_gap_becomes_unfillable_and_shows_on_the_trend(rig: Rig) -> None:
    device = rig.device_ids[0]
    bed_id = rig.devices[device][2]
    listener = CommandListener(rig.mqtt_url)
    try:
        consumer = rig.consumer(gap_policy=GapPolicy(settle=0.3, retry=0.3, max_attempts=2))
        t0 = now_ms() - 30_000
        seqs = [*range(0, 10), *range(15, 20)]  # 10..14 never sent, and nobody answers the resend
        rig.publisher.send([vitals(device, n, t0 + n * 1000, hr=70 + n) for n in seqs])
        # (Gaps an earlier test's consumer left open in this database are taken over too: count this device's.)
        wait_until(lambda: [r.state for r in gaps(rig, device)] == ["unfillable"], timeout=WAIT, what="gap given up")
        assert consumer.metrics.gaps.unfillable >= 1
        (row,) = gaps(rig, device)
        assert (row.from_seq, row.to_seq, row.attempts, row.bed_id) == (10, 14, 2, bed_id)
        assert row.from_ts == datetime.fromtimestamp((t0 + 9000) / 1000, UTC)
        assert row.to_ts == datetime.fromtimestamp((t0 + 15000) / 1000, UTC)
        topic = f"pantau/v1/{SITE}/cmd/{device}"

        def mine() -> list[bytes]:
            return [payload for where, payload in listener.commands if where == topic]

        wait_until(lambda: len(mine()) >= 2, what="the resend requests on the monitor's command topic")
        assert mine() == [b'{"cmd":"resend","from_seq":10,"to_seq":14}'] * 2
        assert stored_seqs(rig, device) == seqs
        with rig.db.session() as s:
            since = datetime.now(UTC) - timedelta(hours=1)
            spans = missing_spans(s, [(bed_id, since, None)], since)  # the bed as one stay
        assert [(sp.start, sp.end, sp.state) for sp in spans] == [(row.from_ts, row.to_ts, "unfillable")]
    finally:
        listener.close()


def test_a_broker_killed_with_kill_9_loses_nothing_after_backfill(rig: Rig) -> None:
    devices = rig.device_ids
    with MosquittoServer(autosave_interval=3600) as broker:  # nothing saved before the crash
        address = BrokerAddress.from_url(broker.url)
        client_id = rig.client_id()
        consumer = rig.consumer(client_id, gap_policy=FAST, broker=address)
        sim = Simulator(broker.url, SITE, devices, rate=10, control=False,
                        client_id_prefix=f"test-sim-{rig.prefix}")  # fmt: skip
        sim.start()
        try:
            assert sim.wait_ready(10)
            wait_until(lambda: all(stored_seqs(rig, d) for d in devices), what="first samples stored")
            consumer.stop(5)
            # The broker acknowledges these and queues them for the consumer's session, in memory only.
            queued_from = sim.stats()["vitals"]
            wait_until(lambda: sim.stats()["vitals"] >= queued_from + 30, what="messages queued for the consumer")
            broker.stop(kill=True)
            broker.start()
            consumer = rig.consumer(client_id, gap_policy=FAST, broker=address)
            wait_until(lambda: consumer.metrics.gaps.detected >= 1, timeout=WAIT, what="the lost messages noticed")
            upto = cutoffs(sim)
            wait_complete(rig, upto, consumer)
        finally:
            sim.stop()
        g = consumer.metrics.gaps
        assert g.samples_missing >= 30 and g.samples_unfillable == 0 and sim.stats()["resent"] >= 30
