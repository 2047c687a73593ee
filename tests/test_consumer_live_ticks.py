"""What a batch puts in the live store (bridge/consumer/live_ticks.py), built into a recording batch: stream
entries, ticks on the ward's channel and the beds' latest values, in arrival order; vital signs and cuff readings
each written only if not older than the hash's by pairing, then sample time (``newer pairing,ts``, ``newer
nibp_pairing,nibp_ts``), device status as it comes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.consumer.live_ticks import BedMemory, fill_live_batch
from bridge.consumer.messages import Sample, StatusUpdate
from data import live_keys
from data.live_store import MemoryLiveStore
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

    def set_latest_if_newer(self, key: str, values: Mapping[str, Any], stamps: tuple[str, ...]) -> None:
        self.ops.append((f"newer {','.join(stamps)}", key, dict(values)))

    def of(self, kind: str) -> list[Any]:
        return [value for op, _, value in self.ops if op == kind]


def sample(seq: int, ts: int, bed: str = BED, pairing: int = 1, **values: Any) -> Sample:
    return Sample(VitalsMessage("S", DEVICE, seq, ts, ts + 7, **values), bed, WARD, 1, pairing)


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
            {"t": "v", "bed": BED, "p": 1, "ts": T0, "rx": T0 + 7, "hr": 80, "spo2": 97, "temp": 36.8,
             "st": {"ecg": "ok", "spo2": "off"}},
        ),
        (
            "newer pairing,ts",
            live_keys.latest(BED),
            {"bed": BED, "ward": WARD, "device": DEVICE, "pairing": 1, "ts": T0, "rx": T0 + 7, "hr": 80, "spo2": 97,
             "rr": None, "temp": 36.8, "st_ecg": "ok", "st_spo2": "off"},
        ),
    ]  # fmt: skip


def test_a_cuff_reading_replaces_the_last_and_rides_on_later_ticks() -> None:
    memory = BedMemory()
    first = build([sample(1, T0, hr=80, sbp=121, dbp=78, map=92), sample(2, T0 + 1000, hr=81)], memory=memory)
    assert first.of("stream")[0] == {"ts": T0, "hr": 80, "sbp": 121, "dbp": 78, "map": 92}
    assert first.of("stream")[1] == {"ts": T0 + 1000, "hr": 81}
    cuff = {"sbp": 121, "dbp": 78, "map": 92, "nibp_pairing": 1, "nibp_ts": T0}
    assert [{k: tick.get(k) for k in cuff} for tick in first.of("publish")] == [cuff, cuff]
    assert first.of("newer nibp_pairing,nibp_ts") == [cuff]
    assert not set(cuff) & set(first.of("newer pairing,ts")[0])  # the vital signs' write leaves the cuff's fields alone

    second = build([sample(3, T0 + 2000, hr=82, sbp=140)], memory=memory)  # the cuff measured only the systolic
    tick = second.of("publish")[0]
    assert (tick["sbp"], tick["nibp_ts"]) == (140, T0 + 2000) and "dbp" not in tick and "map" not in tick
    latest = second.of("newer nibp_pairing,nibp_ts")[0]
    assert (latest["sbp"], latest["dbp"], latest["map"]) == (140, None, None)  # the old parts are deleted


def test_an_older_sample_of_the_bed_goes_to_the_stream_only() -> None:
    memory = BedMemory()
    build([sample(5, T0 + 5000, hr=85)], memory=memory)
    batch = build([sample(4, T0 + 4000, hr=84)], memory=memory)  # another monitor of the bed, late
    assert batch.ops == [("stream", live_keys.vitals_stream(BED), {"ts": T0 + 4000, "hr": 84})]
    assert memory.latest == {BED: (1, T0 + 5000)}


def test_a_monitor_paired_later_is_newer_whatever_its_clock_says() -> None:
    """A bed's new monitor whose clock is behind the old one's goes live at once, cuff reading and all; the old
    monitor's samples, however late its clock, are history from then on."""
    live, memory = MemoryLiveStore(), BedMemory()
    for batch_samples in (
        [sample(9, T0 + 60_000, hr=70, sbp=130, dbp=85, map=100)],  # the old monitor, its clock a minute ahead
        [sample(1, T0, pairing=2, hr=101, sbp=150, dbp=90, map=110)],  # the new one, paired later
        [sample(10, T0 + 61_000, hr=71)],  # the old monitor's last sample, late
    ):
        batch = RecordingBatch()
        fill_live_batch(batch, batch_samples, [], {}, memory, 3600)
        real = live.batch()
        fill_live_batch(real, batch_samples, [], {}, BedMemory(), 3600)  # as another consumer would write it
        real.execute()
    assert [tick["hr"] for tick in batch.of("publish")] == []  # the last batch: stream only
    assert memory.latest == {BED: (2, T0)}
    shown = live.get_latest(live_keys.latest(BED))
    assert (shown["hr"], shown["pairing"], shown["ts"]) == ("101", "2", str(T0))
    assert (shown["sbp"], shown["nibp_pairing"], shown["nibp_ts"]) == ("150", "2", str(T0))


def test_enrichers_fields_go_to_the_latest_values_and_the_ticks_by_their_short_names() -> None:
    extra = {BED: {"news2": 3, "news2_complete": "1", "news2_risk": "low", "qsofa": None}}
    batch = build([sample(1, T0, hr=80)], extra=extra)
    tick = batch.of("publish")[0]
    assert (tick["news2"], tick["complete"], tick["risk"]) == (3, True, "low") and "qsofa" not in tick
    latest = batch.of("newer pairing,ts")[0]
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


def test_writes_keep_arrival_order_and_each_bed_gets_one_latest_write_of_its_vital_signs() -> None:
    batch = build([sample(1, T0, hr=80), sample(2, T0, bed="ICU-02", hr=90), sample(3, T0 + 1000, hr=81)])
    assert [(op, key) for op, key, _ in batch.ops] == [
        ("stream", live_keys.vitals_stream(BED)),
        ("publish", live_keys.ward_channel(WARD)),
        ("stream", live_keys.vitals_stream("ICU-02")),
        ("publish", live_keys.ward_channel(WARD)),
        ("stream", live_keys.vitals_stream(BED)),
        ("publish", live_keys.ward_channel(WARD)),
        ("newer pairing,ts", live_keys.latest(BED)),
        ("newer pairing,ts", live_keys.latest("ICU-02")),
    ]
    assert batch.of("newer pairing,ts")[0]["hr"] == 81


def test_a_bed_with_a_cuff_reading_and_a_status_gets_three_writes_each_with_its_own_rule() -> None:
    update = StatusUpdate(DeviceStatus("S", DEVICE, True, 55), BED, WARD, 1, T0)
    batch = build([sample(1, T0, hr=80, sbp=120, dbp=80, map=93)], [update])
    assert [(op, key) for op, key, _ in batch.ops if op != "stream" and op != "publish"] == [
        ("newer pairing,ts", live_keys.latest(BED)),
        ("newer nibp_pairing,nibp_ts", live_keys.latest(BED)),
        ("latest", live_keys.latest(BED)),
    ]
    assert batch.of("latest") == [{"bed": BED, "ward": WARD, "device": DEVICE, "online": 1, "battery": 55}]


def test_two_consumers_writing_out_of_order_leave_the_newer_sample_and_cuff_reading_in_the_hash() -> None:
    """With a shared subscription the consumer that writes last may hold the older sample of a bed."""
    live = MemoryLiveStore()
    newer, older = BedMemory(), BedMemory()  # each consumer remembers only what it wrote itself
    for memory, samples in (
        (newer, [sample(2, T0 + 1000, hr=90, sbp=150, dbp=95, map=113)]),
        (older, [sample(1, T0, hr=80, sbp=120, dbp=80, map=93)]),
    ):
        batch = live.batch()
        fill_live_batch(batch, samples, [], {}, memory, 3600)
        batch.execute()
    shown = live.get_latest(live_keys.latest(BED))
    assert (shown["ts"], shown["hr"], shown["sbp"], shown["nibp_ts"]) == (str(T0 + 1000), "90", "150", str(T0 + 1000))
