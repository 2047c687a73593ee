"""A simulated monitor's trend memory and its answer to ``resend``: the same bytes, bounded memory."""

from __future__ import annotations

from types import SimpleNamespace

import orjson
import pytest

from data.mqtt_topics import command_topic
from domain.vitals_contract import ResendCommand, parse_command
from iot_sim.devices import demo_devices
from iot_sim.faults import Faults
from iot_sim.simulator import Simulator
from iot_sim.trend_memory import Numerics, TrendMemory
from tests.test_iot_sim import FakeClient, fake_clock, make_fleet


def published(fleet, ticks: int) -> dict[tuple[str, int], bytes]:
    """(device, seq) -> payload of every numerics message the fleet published in ``ticks`` ticks."""
    out = {}
    for _ in range(ticks):
        for o in fleet.tick():
            if o.kind == "vitals":
                body = orjson.loads(o.payload)
                out[(body["device_id"], body["seq"])] = o.payload
    return out


def test_a_dropped_message_is_remembered_and_resent_byte_for_byte():
    devices = demo_devices(3)
    reference = published(make_fleet(devices, seed=5), 400)  # no faults: every payload
    faulty = make_fleet(devices, seed=5, faults=Faults(drop=0.3, duplicate=0.1, reorder=0.1))
    seen = published(faulty, 400)
    missing = set(reference) - set(seen)
    assert len(missing) > 200  # the drop fault really dropped (and faults never change a payload)
    for index, device in enumerate(devices):
        resent = {orjson.loads(o.payload)["seq"]: o for o in faulty.resend(index, 0, 399)}
        assert sorted(resent) == list(range(400))
        for seq, o in resent.items():
            assert o.payload == reference[(device, seq)]
            assert (o.topic, o.qos, o.retain, o.kind) == (f"pantau/v1/TEST/vitals/{device}", 1, False, "vitals")
    part = faulty.resend(1, 10, 12)
    assert [orjson.loads(o.payload)["seq"] for o in part] == [10, 11, 12]


def test_memory_keeps_only_the_last_hour_and_is_compact():
    fleet = make_fleet(demo_devices(1), memory=60, rate=2)  # 60 s at 2 Hz: 120 samples
    published(fleet, 500)
    memory = fleet.monitors[0].memory
    assert memory is not None and len(memory) == memory.capacity == 120
    assert fleet.resend(0, 0, 379) == []
    assert [orjson.loads(o.payload)["seq"] for o in fleet.resend(0, 370, 385)] == list(range(380, 386))
    # 200 monitors x 1 Hz x 1 h fit in ~25 MB (a JSON payload each would be ~170 MB).
    assert TrendMemory(3600).nbytes * 200 < 30 * 1024 * 1024


def test_no_memory_means_no_resend():
    fleet = make_fleet(demo_devices(1), memory=0)
    published(fleet, 5)
    assert fleet.monitors[0].memory is None and fleet.resend(0, 0, 4) == []
    with pytest.raises(ValueError, match="memory"):
        make_fleet(demo_devices(1), memory=-1)


def test_values_round_trip_exactly_including_unmeasured_ones():
    memory = TrendMemory(3)
    samples = [
        Numerics(1, 10, 80, 97, 16, 121, 78, 92, 36.8, 0.97, 0.95, "ok", "ok"),
        Numerics(2, 20, None, None, None, None, None, None, 45.0, 0.0, 0.0, "off", "off"),
        Numerics(3, 30, 300, 0, 0, 300, 10, 20, 25.0, 1.0, 0.58, "noisy", "noisy"),
        Numerics(4, 40, 61, 88, 30, None, None, None, 39.1, 0.35, 0.3, "noisy", "ok"),
    ]
    for n in samples:
        memory.append(n)
    assert len(memory) == 3 and memory.between(0, 10) == samples[1:]


def test_the_consumer_and_the_monitor_share_the_command_format():
    command = ResendCommand(5, 9)
    assert parse_command(command.payload) == command
    assert orjson.loads(command.payload) == {"cmd": "resend", "from_seq": 5, "to_seq": 9}
    assert command_topic("S1", "MON-1") == "pantau/v1/S1/cmd/MON-1"
    bad = [b"nope", b"[]", b'{"cmd":"reboot"}', b'{"cmd":"resend","from_seq":5,"to_seq":4}']
    bad += [b'{"cmd":"resend","from_seq":-1,"to_seq":4}', b'{"cmd":"resend","from_seq":"1","to_seq":4}']
    for payload in bad:
        with pytest.raises(ValueError):
            parse_command(payload)


def test_the_simulator_answers_a_resend_on_the_vitals_topic_and_counts_it():
    sim = Simulator("mqtt://127.0.0.1:1", "TEST", demo_devices(2), clock=fake_clock(), control=False,
                    faults=Faults(drop=1.0))  # fmt: skip
    link = sim._links[1]
    link.client, link.connected = FakeClient(), True
    for _ in range(10):
        sim._send(sim.fleet.tick())
    assert [p for p in link.client.published if "/vitals/" in p[0]] == []  # everything dropped

    def command(payload: bytes) -> None:
        sim._on_command(
            link.client, link, SimpleNamespace(topic=command_topic("TEST", link.device_id), payload=payload)
        )

    command(ResendCommand(3, 6).payload)
    command(b'{"cmd":"resend"}')  # malformed: ignored, nothing published
    resent = [p for p in link.client.published if "/vitals/" in p[0]]
    assert [orjson.loads(p[1])["seq"] for p in resent] == [3, 4, 5, 6]
    assert all(p[0] == "pantau/v1/TEST/vitals/MON-ICU-02" and p[2:] == (1, False) for p in resent)
    stats = sim.stats()
    assert stats["resend_requests"] == 1 and stats["resent"] == 4 and stats["dropped"] == 20
    assert stats["remembered"] == 20 and stats["memory_bytes"] == 2 * 3600 * TrendMemory(1).nbytes
