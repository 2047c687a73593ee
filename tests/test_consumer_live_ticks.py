"""What a batch puts in the live store (bridge/consumer/live_ticks.py), built into a recording batch: stream
entries, ticks on the ward's channel and the beds' latest values, in arrival order."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.consumer.live_ticks import BedMemory, fill_live_batch
from bridge.consumer.messages import Sample, StatusUpdate
from data import live_keys
from domain.vitals_contract import DeviceStatus, VitalsMessage

BED, WARD, DEVICE = "ICU-01", "ICU", "MON-1"
T0 = 1_763_880_000_000


class RecordingBatch:
    """A :class:`data.live_store.LiveBatch` that only records what is added to it."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, str, Any]] = []

    def append_stream(self, key: str, fields: Mapping[str, Any], maxlen: int, *, approximate: bool = True) -> None:
        self.ops.append(("stream", key, dict(fields)))

    def publish(self, channel: str, message: str) -> None:
        self.ops.append(("publish", channel, json.loads(message)))

    def set_latest(self, key: str, values: Mapping[str, Any]) -> None:
        self.ops.append(("latest", key, dict(values)))

    def of(self, kind: str) -> list[Any]:
        return [value for op, _, value in self.ops if op == kind]


def sample(seq: int, ts: int, bed: str = BED, **values: Any) -> Sample:
    return Sample(VitalsMessage("S", DEVICE, seq, ts, ts + 7, **values), bed, WARD, 1)


def build(
    samples: list[Sample],
    updates: Sequence[StatusUpdate] = (),
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    memory: BedMemory | None = None,
) -> RecordingBatch:
    batch = RecordingBatch()
    fill_live_batch(batch, samples, list(updates), extra or {}, memory or BedMemory(), 3600)
    return batch


def test_a_sample_becomes_a_stream_entry_a_tick_and_the_beds_latest_values() -> None:
    batch = build([sample(1, T0, hr=80, spo2=97, rr=None, temp=36.8, ecg_status="ok", spo2_status="off")])
    assert batch.ops == [
        ("stream", live_keys.vitals_stream(BED), {"ts": T0, "hr": 80, "spo2": 97, "temp": 36.8}),
        (
            "publish",
            live_keys.ward_channel(WARD),
            {"t": "v", "bed": BED, "ts": T0, "rx": T0 + 7, "hr": 80, "spo2": 97, "temp": 36.8,
             "st": {"ecg": "ok", "spo2": "off"}},
        ),
        (
            "latest",
            live_keys.latest(BED),
            {"bed": BED, "ward": WARD, "device": DEVICE, "ts": T0, "rx": T0 + 7, "hr": 80, "spo2": 97, "rr": None,
             "temp": 36.8, "st_ecg": "ok", "st_spo2": "off"},
        ),
    ]  # fmt: skip


def test_a_cuff_reading_replaces_the_last_and_rides_on_later_ticks() -> None:
    memory = BedMemory()
    first = build([sample(1, T0, hr=80, sbp=121, dbp=78, map=92), sample(2, T0 + 1000, hr=81)], memory=memory)
    assert first.of("stream")[0] == {"ts": T0, "hr": 80, "sbp": 121, "dbp": 78, "map": 92}
    assert first.of("stream")[1] == {"ts": T0 + 1000, "hr": 81}
    cuff = {"sbp": 121, "dbp": 78, "map": 92, "nibp_ts": T0}
    assert [{k: tick.get(k) for k in cuff} for tick in first.of("publish")] == [cuff, cuff]
    assert {k: first.of("latest")[0][k] for k in cuff} == cuff

    second = build([sample(3, T0 + 2000, hr=82, sbp=140)], memory=memory)  # the cuff measured only the systolic
    tick = second.of("publish")[0]
    assert (tick["sbp"], tick["nibp_ts"]) == (140, T0 + 2000) and "dbp" not in tick and "map" not in tick
    latest = second.of("latest")[0]
    assert (latest["sbp"], latest["dbp"], latest["map"]) == (140, None, None)  # the old parts are deleted


def test_an_older_sample_of_the_bed_goes_to_the_stream_only() -> None:
    memory = BedMemory()
    build([sample(5, T0 + 5000, hr=85)], memory=memory)
    batch = build([sample(4, T0 + 4000, hr=84)], memory=memory)  # another monitor of the bed, late
    assert batch.ops == [("stream", live_keys.vitals_stream(BED), {"ts": T0 + 4000, "hr": 84})]
    assert memory.latest_ts == {BED: T0 + 5000}


def test_enrichers_fields_go_to_the_latest_values_and_the_ticks_by_their_short_names() -> None:
    extra = {BED: {"news2": 3, "news2_complete": "1", "news2_risk": "low", "qsofa": None}}
    batch = build([sample(1, T0, hr=80)], extra=extra)
    tick = batch.of("publish")[0]
    assert (tick["news2"], tick["complete"], tick["risk"]) == (3, True, "low") and "qsofa" not in tick
    latest = batch.of("latest")[0]
    assert (latest["news2"], latest["news2_complete"], latest["news2_risk"], latest["qsofa"]) == (3, "1", "low", None)
    assert build([sample(1, T0)], extra={BED: {"news2_complete": "0"}}).of("publish")[0]["complete"] is False


def test_a_status_update_is_a_message_and_the_beds_online_state() -> None:
    updates = [
        StatusUpdate(DeviceStatus("S", DEVICE, True, 40), BED, WARD, 1, T0),
        StatusUpdate(DeviceStatus("S", "MON-2", False, None), "ICU-02", WARD, 2, T0),
    ]
    batch = build([], updates)
    assert batch.ops == [
        ("publish", live_keys.ward_channel(WARD), {"t": "s", "bed": BED, "online": True, "battery": 40}),
        ("publish", live_keys.ward_channel(WARD), {"t": "s", "bed": "ICU-02", "online": False}),
        ("latest", live_keys.latest(BED), {"bed": BED, "ward": WARD, "device": DEVICE, "online": 1, "battery": 40}),
        ("latest", live_keys.latest("ICU-02"), {"bed": "ICU-02", "ward": WARD, "device": "MON-2", "online": 0}),
    ]


def test_writes_keep_arrival_order_and_each_bed_gets_one_latest_write() -> None:
    batch = build([sample(1, T0, hr=80), sample(2, T0, bed="ICU-02", hr=90), sample(3, T0 + 1000, hr=81)])
    assert [(op, key) for op, key, _ in batch.ops] == [
        ("stream", live_keys.vitals_stream(BED)),
        ("publish", live_keys.ward_channel(WARD)),
        ("stream", live_keys.vitals_stream("ICU-02")),
        ("publish", live_keys.ward_channel(WARD)),
        ("stream", live_keys.vitals_stream(BED)),
        ("publish", live_keys.ward_channel(WARD)),
        ("latest", live_keys.latest(BED)),
        ("latest", live_keys.latest("ICU-02")),
    ]
    assert batch.of("latest")[0]["hr"] == 81
