"""Putting a partition's entries back into each bed's sample-time order (bridge/clinical_order.py), and the feed's
encoding and partitioning (bridge/clinical_feed.py)."""

from __future__ import annotations

from bridge.clinical_feed import decode, encode_sample, partition_of
from bridge.clinical_order import PartitionOrder
from domain.vitals_contract import VitalsMessage

T0 = 1_800_000_000_000


def entry(n: int, bed: str, seq: int, ts: int, pairing: int = 1, **values: float) -> tuple[str, dict[str, str]]:
    msg = VitalsMessage("S", f"MON-{bed}-{pairing}", seq, ts, ts, **values)
    return f"{T0 // 1000 + n}-0", encode_sample(bed, pairing, msg)


def evaluated_steps() -> tuple[dict[str, tuple[int, int]], PartitionOrder]:
    done: dict[str, tuple[int, int]] = {}
    return done, PartitionOrder(1000, 1.0, done.get)


def test_a_bed_is_evaluated_once_per_second_of_sample_time_in_order_whatever_the_arrival_order() -> None:
    done, order = evaluated_steps()
    # Two consumers' batches interleaved: seconds 2 and 0 of bed A arrive before second 1.
    entries = [
        entry(1, "A", 5, T0 + 2_100, spo2=90),
        entry(2, "A", 1, T0 + 100, spo2=99),
        entry(3, "B", 1, T0 + 200, spo2=97),
        entry(4, "A", 2, T0 + 600, spo2=98),
        entry(5, "A", 3, T0 + 1_500, spo2=95),
    ]
    assert order.add(entries, now=0.0) == []
    assert order.ready(exhausted=False, now=0.5) == []  # another consumer may still bring samples of these
    units = order.ready(exhausted=False, now=1.0)
    a = [(u.step, u.msg.seq) for u in units if u.bed == "A"]
    assert a == [(T0 // 1000, 2), (T0 // 1000 + 1, 3)]  # each second on its newest sample; second 2 still open
    assert [u.bed for u in units if u.bed == "B"] == []  # B's only second waits too
    assert order.offset is None  # the first entry read (second 2 of A) still waits
    for unit in units:
        done[unit.bed] = (unit.pairing, unit.step)
    late = entry(6, "A", 4, T0 + 1_900, spo2=80)  # a straggler later than the hold, of a second evaluated
    order.add([late], now=1.5)
    assert order.late == 1
    units = order.ready(exhausted=True, now=1.6)  # end of the stream, held long enough
    assert sorted((u.bed, u.msg.seq) for u in units) == [("A", 5), ("B", 1)]
    assert order.offset == late[0]


def test_a_monitor_paired_later_follows_its_predecessor_whatever_its_clock_says() -> None:
    """The new monitor's clock is a minute behind the old one's: its steps still come after the old monitor's, and
    the old monitor's samples after the swap are late."""
    done, order = evaluated_steps()
    order.add([entry(1, "A", 50, T0 + 60_500, hr=70), entry(2, "A", 1, T0 + 300, pairing=2, hr=120)], now=0.0)
    units = order.ready(exhausted=True, now=5.0)
    assert [(u.pairing, u.step, u.msg.hr) for u in units] == [(1, T0 // 1000 + 60, 70), (2, T0 // 1000, 120)]
    done["A"] = (units[-1].pairing, units[-1].step)
    order.add([entry(3, "A", 51, T0 + 61_500, hr=71), entry(4, "A", 2, T0 + 1_300, pairing=2, hr=121)], now=6.0)
    assert order.late == 1
    assert [(u.pairing, u.msg.hr) for u in order.ready(exhausted=True, now=9.0)] == [(2, 121)]


def test_an_entry_appended_without_a_pairing_reads_as_pairing_0() -> None:
    entry_id, fields = entry(1, "A", 7, T0, hr=81.0)
    del fields["p"]
    decoded = decode(entry_id, fields)
    assert decoded is not None and decoded.pairing == 0 and decoded.msg is not None and decoded.msg.hr == 81.0


def test_a_step_carries_its_newest_cuff_reading() -> None:
    _, order = evaluated_steps()
    order.add([entry(1, "A", 1, T0 + 100, hr=70, sbp=85, dbp=50, map=60), entry(2, "A", 2, T0 + 900, hr=72)], now=0.0)
    (unit,) = order.ready(exhausted=True, now=5.0)
    assert (unit.msg.seq, unit.msg.hr, unit.msg.sbp, unit.msg.map) == (2, 72, 85, 60)


def test_a_broken_entry_is_counted_and_passed() -> None:
    _, order = evaluated_steps()
    order.add([("1-0", {"k": "v", "b": "A", "m": "not json"}), ("2-0", {"x": "y"})], now=0.0)
    assert order.broken == 2
    assert order.offset == "2-0"


def test_partition_is_stable_and_entries_round_trip() -> None:
    assert partition_of("ICU-03", 16) == partition_of("ICU-03", 16) == 8
    assert {partition_of(f"B-{n}", 4) for n in range(40)} == {0, 1, 2, 3}
    entry_id, fields = entry(1, "A", 7, T0, hr=81.0, ecg_status="ok")
    decoded = decode(entry_id, fields)
    assert decoded is not None and decoded.msg is not None
    assert (decoded.bed, decoded.pairing, decoded.msg.seq, decoded.msg.hr, decoded.msg.ecg_status) == (
        "A",
        1,
        7,
        81.0,
        "ok",
    )
