"""Putting a partition's entries back into each bed's sample-time order (bridge/clinical_order.py), and the feed's
encoding and partitioning (bridge/clinical_feed.py)."""

from __future__ import annotations

import threading
import time

from bridge.clinical_feed import decode, encode_sample, partition_of
from bridge.clinical_order import PartitionOrder
from bridge.consumer.presence import Presence
from data.live_keys import CLINICAL_FEEDERS, SHARED_CONSUMERS
from data.live_store import UNCAPPED, LiveStoreError, MemoryLiveStore
from domain.vitals_contract import VitalsMessage

T0 = 1_800_000_000_000
LIVE = T0 + 61_000  # the wall clock of a ward whose samples are read as they come


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
    assert order.add(entries, now=0.0, wall_ms=LIVE) == []
    assert order.ready(exhausted=False, now=0.5) == []  # another consumer may still bring samples of these
    units = order.ready(exhausted=False, now=1.0)
    a = [(u.step, u.msg.seq) for u in units if u.bed == "A"]
    assert a == [(T0 // 1000, 2), (T0 // 1000 + 1, 3)]  # each second on its newest sample; second 2 still open
    assert [u.bed for u in units if u.bed == "B"] == []  # B's only second waits too
    assert order.offset is None  # the first entry read (second 2 of A) still waits
    for unit in units:
        done[unit.bed] = (unit.pairing, unit.step)
    late = entry(6, "A", 4, T0 + 1_900, spo2=80)  # a straggler later than the hold, of a second evaluated
    order.add([late], now=1.5, wall_ms=LIVE)
    assert order.late == 1
    units = order.ready(exhausted=True, now=1.6)  # end of the stream, held long enough
    assert sorted((u.bed, u.msg.seq) for u in units) == [("A", 5), ("B", 1)]
    assert order.offset == late[0]


def test_entries_the_previous_owner_read_are_repeated_not_late() -> None:
    """A new owner resumes at the offset, before entries its predecessor evaluated out of read order: those (read
    up to ``seen_until``) count as repeated; a sample of an evaluated second read after them is late."""
    done = {"A": (1, T0 // 1000 + 1)}  # the previous owner evaluated A up to its second 1
    order = PartitionOrder(1000, 1.0, done.get, seen_until=f"{T0 // 1000 + 2}-0")
    order.add(
        [entry(1, "B", 1, T0 + 100), entry(2, "A", 3, T0 + 1_200), entry(3, "A", 4, T0 + 1_700)], now=0.0, wall_ms=LIVE
    )
    assert (order.repeated, order.late) == (1, 1)  # entry 2 was read before, entry 3 was not
    assert [u.bed for u in order.ready(exhausted=True, now=2.0)] == ["B"]


def test_a_monitor_paired_later_follows_its_predecessor_whatever_its_clock_says() -> None:
    """The new monitor's clock is a minute behind the old one's: its steps still come after the old monitor's, and
    the old monitor's samples after the swap are late."""
    done, order = evaluated_steps()
    order.add(
        [entry(1, "A", 50, T0 + 60_500, hr=70), entry(2, "A", 1, T0 + 300, pairing=2, hr=120)], now=0.0, wall_ms=LIVE
    )
    units = order.ready(exhausted=True, now=5.0)
    assert [(u.pairing, u.step, u.msg.hr) for u in units] == [(1, T0 // 1000 + 60, 70), (2, T0 // 1000, 120)]
    done["A"] = (units[-1].pairing, units[-1].step)
    order.add(
        [entry(3, "A", 51, T0 + 61_500, hr=71), entry(4, "A", 2, T0 + 1_300, pairing=2, hr=121)], now=6.0, wall_ms=LIVE
    )
    assert order.late == 1
    assert [(u.pairing, u.msg.hr) for u in order.ready(exhausted=True, now=9.0)] == [(2, 121)]


def test_an_entry_appended_without_a_pairing_reads_as_pairing_0() -> None:
    entry_id, fields = entry(1, "A", 7, T0, hr=81.0)
    del fields["p"]
    decoded = decode(entry_id, fields)
    assert decoded is not None and decoded.pairing == 0 and decoded.msg is not None and decoded.msg.hr == 81.0


def test_a_step_carries_its_newest_cuff_reading() -> None:
    _, order = evaluated_steps()
    order.add(
        [entry(1, "A", 1, T0 + 100, hr=70, sbp=85, dbp=50, map=60), entry(2, "A", 2, T0 + 900, hr=72)],
        now=0.0,
        wall_ms=LIVE,
    )
    (unit,) = order.ready(exhausted=True, now=5.0)
    assert (unit.msg.seq, unit.msg.hr, unit.msg.sbp, unit.msg.map) == (2, 72, 85, 60)


def test_a_broken_entry_is_counted_and_passed() -> None:
    _, order = evaluated_steps()
    order.add([("1-0", {"k": "v", "b": "A", "m": "not json"}), ("2-0", {"x": "y"})], now=0.0, wall_ms=LIVE)
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


def fed_by(feeder: str, n: int, bed: str, seq: int, ts: int, **values: float) -> tuple[str, dict[str, str]]:
    entry_id, fields = entry(n, bed, seq, ts, **values)
    return entry_id, fields | {"f": feeder}


REPLAY = T0 + 600_000  # the wall clock while a backlog ten minutes old is replayed


def stalled_backlog(order: PartitionOrder, wall_ms: int) -> None:
    """Two consumers drain a backlog of bed X at 1 Hz, each its share (A the even seconds, B the odd ones); B has
    fed up to second 5, A up to second 20, when both stall."""
    order.add([fed_by("B", s, "X", s, T0 + s * 1000, hr=70) for s in range(1, 6, 2)], now=0.0, wall_ms=wall_ms)
    order.add([fed_by("A", 10 + s, "X", s, T0 + s * 1000, hr=80) for s in range(0, 21, 2)], now=0.1, wall_ms=wall_ms)


def test_a_replay_waits_beyond_the_hold_for_a_consumer_that_fed_the_bed_and_may_bring_more() -> None:
    """Both consumers stall for 3 s: without waiting, seconds 5 to 19 would go on A's samples alone and B's share of
    them would come late. Second 20 still waits: A may bring more samples of it."""
    done, order = evaluated_steps()
    stalled_backlog(order, REPLAY)
    units = order.ready(exhausted=True, now=3.0)  # the hold (1 s) is long past
    assert [u.step - T0 // 1000 for u in units] == [0, 1, 2, 3, 4]  # B has fed past these
    for unit in units:
        done[unit.bed] = (unit.pairing, unit.step)
    order.add([fed_by("B", 30 + s, "X", s, T0 + s * 1000, hr=71) for s in range(7, 22, 2)], now=3.1, wall_ms=REPLAY)
    units = order.ready(exhausted=True, now=4.5)
    assert [u.step - T0 // 1000 for u in units] == list(range(5, 20))  # both have fed past these
    assert order.late == 0


def test_a_live_ward_waits_for_no_consumer_beyond_the_hold() -> None:
    """The same entries read as they come (their samples seconds old, not minutes): nothing waits for B, whose
    next sample of the bed may be a while coming."""
    _, order = evaluated_steps()
    stalled_backlog(order, T0 + 21_000)
    units = order.ready(exhausted=True, now=3.0)
    assert [u.step - T0 // 1000 for u in units] == [*range(0, 7), *range(8, 21, 2)]


def test_a_replay_waits_for_no_consumer_that_stopped_feeding() -> None:
    _, order = evaluated_steps()
    stalled_backlog(order, REPLAY)
    assert len(order.ready(exhausted=True, now=3.0)) == 5
    assert order.ready(exhausted=True, now=4.9) == []  # B fed the partition 4.9 s ago: it may still bring more
    units = order.ready(exhausted=True, now=5.2)  # no longer: B and A have stopped feeding
    assert [u.step - T0 // 1000 for u in units] == [5, 6, *range(8, 21, 2)]


def test_a_replay_waits_for_a_consumer_no_longer_than_the_limit() -> None:
    """Both consumers go on feeding another bed, and B never gets past second 5 of X: X's later seconds go after
    the hold and the limit."""
    _, order = evaluated_steps()
    stalled_backlog(order, REPLAY)
    order.ready(exhausted=True, now=3.0)
    for n, at in enumerate((2.0, 4.0, 6.0)):
        other = [fed_by(f, 100 + 2 * n + i, "Y", n, T0 + n * 1000, hr=60) for i, f in enumerate("AB")]
        order.add(other, now=at, wall_ms=REPLAY)
        units = [u.step - T0 // 1000 for u in order.ready(exhausted=True, now=at + 0.2) if u.bed == "X"]
        assert units == ([5, 6, *range(8, 21, 2)] if at == 6.0 else [])  # read at 0.1: 1 s hold + 5 s limit


def test_a_sample_entry_names_the_consumer_that_fed_it() -> None:
    entry_id, fields = entry(1, "A", 7, T0, hr=81.0)
    assert decode(entry_id, fields | {"f": "pantau-consumer-2"}).feeder == "pantau-consumer-2"
    assert decode(entry_id, {k: v for k, v in fields.items() if k != "f"}).feeder == ""


def test_a_replay_waits_for_an_announced_consumer_that_has_fed_nothing_yet() -> None:
    """Only A has fed bed X when its steps are due; B is among the announced feeders (its first batch is late):
    they wait for B up to the limit, and go once B has fed a later second. Live, or with B not announced, they go
    after the hold."""
    backlog = [fed_by("A", s, "X", s, T0 + s * 1000, hr=80) for s in range(0, 10, 2)]
    both = frozenset({"A", "B"})
    _, order = evaluated_steps()
    order.add(backlog, now=0.0, wall_ms=REPLAY)
    assert order.ready(exhausted=True, now=3.0, announced=both) == []
    order.add([fed_by("B", 20, "X", 5, T0 + 5_000, hr=81)], now=3.5, wall_ms=REPLAY)
    units = order.ready(exhausted=True, now=3.6, announced=both)
    assert [(u.step - T0 // 1000, u.msg.hr) for u in units] == [(0, 80), (2, 80), (4, 80)]  # 5 waits for its hold
    assert order.late == 0

    _, unannounced = evaluated_steps()
    unannounced.add(backlog, now=0.0, wall_ms=REPLAY)
    assert len(unannounced.ready(exhausted=True, now=3.0, announced=frozenset({"A"}))) == 5

    _, limited = evaluated_steps()
    limited.add(backlog, now=0.0, wall_ms=REPLAY)
    assert limited.ready(exhausted=True, now=5.9, announced=both) == []
    assert len(limited.ready(exhausted=True, now=6.1, announced=both)) == 5  # the 1 s hold and the 5 s limit

    _, live = evaluated_steps()
    live.add(backlog, now=0.0, wall_ms=T0 + 10_000)
    assert len(live.ready(exhausted=True, now=3.0, announced=both)) == 5


def test_a_subscribed_consumer_is_announced_until_it_stops(monkeypatch) -> None:
    """The presence announces its consumer while subscribed, withdraws it when not, and takes it out on stop; a live
    store that fails is tried again."""
    monkeypatch.setattr("bridge.consumer.presence.ANNOUNCE_EVERY_S", 0.02)
    live, subscribed = MemoryLiveStore(), threading.Event()
    failing = {"claims": 2}
    claim = live.claim_slot

    def flaky_claim(*args, **kwargs):
        if failing["claims"]:
            failing["claims"] -= 1
            raise LiveStoreError("down")
        return claim(*args, **kwargs)

    monkeypatch.setattr(live, "claim_slot", flaky_claim)
    presence = Presence(live, "consumer-1", subscribed.is_set, [CLINICAL_FEEDERS])
    presence.start()
    try:
        time.sleep(0.1)
        assert live.slot_members(CLINICAL_FEEDERS) == [] and failing["claims"] == 2, "not subscribed yet"
        subscribed.set()
        assert poll(lambda: live.slot_members(CLINICAL_FEEDERS) == ["consumer-1"])
        assert failing["claims"] == 0, "announced once the store answered"
        subscribed.clear()
        assert poll(lambda: live.slot_members(CLINICAL_FEEDERS) == [])
        subscribed.set()
        assert poll(lambda: live.slot_members(CLINICAL_FEEDERS) == ["consumer-1"])
    finally:
        presence.stop()
    assert live.slot_members(CLINICAL_FEEDERS) == []


def test_a_presence_left_is_not_announced_again() -> None:
    """A consumer leaving the share while another stays is out of it for good, even while still subscribed (it
    takes what its session had queued); alone, it stays."""
    live = MemoryLiveStore()
    mine = Presence(live, "consumer-1", lambda: True, [CLINICAL_FEEDERS, SHARED_CONSUMERS])
    mine.start()
    try:
        assert poll(lambda: live.slot_members(SHARED_CONSUMERS) == ["consumer-1"])
        assert mine.leave_unless_alone(SHARED_CONSUMERS) is False, "the last one stays"
        live.claim_slot({SHARED_CONSUMERS: UNCAPPED}, "consumer-2", 5)
        assert mine.leave_unless_alone(SHARED_CONSUMERS) is True
        time.sleep(1.5)  # a renewal or more
        assert live.slot_members(SHARED_CONSUMERS) == ["consumer-2"]
        assert live.slot_members(CLINICAL_FEEDERS) == ["consumer-1"], "still feeding"
    finally:
        mine.stop()
    assert live.slot_members(CLINICAL_FEEDERS) == []


def poll(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
