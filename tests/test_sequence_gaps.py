"""The sequence-gap tracker (pure): detection, restart, reorder, duplicates, partial fills, requests, bounds."""

from __future__ import annotations

import orjson
import pytest

from bridge.sequence_gaps import GapPolicy, GapTracker, Observed, ResendRequest
from data.vital_gaps import GapRecord

T0 = 1_764_000_000_000  # epoch ms
SITE = "DEMO"


def sample(seq: int, ts: int | None = None, device: str = "MON-A", bed_id: int | None = 7) -> Observed:
    return Observed(SITE, device, seq, T0 + seq * 1000 if ts is None else ts, bed_id)


def feed(tracker: GapTracker, seqs, now: int = T0) -> None:
    for seq in seqs:
        tracker.observe(sample(seq), now)


def spans(tracker: GapTracker, device: str = "MON-A") -> list[tuple[int, int]]:
    return [(g.from_seq, g.to_seq) for g in tracker.open_gaps(device)]


def test_in_order_stream_has_no_gap():
    tracker = GapTracker()
    feed(tracker, range(100))
    assert spans(tracker) == []
    assert tracker.counters.detected == 0
    assert tracker.dirty == set()


def test_a_jump_opens_a_gap_with_the_neighbours_times_and_bed():
    tracker = GapTracker()
    feed(tracker, [1, 2, 3, 7])
    (gap,) = tracker.open_gaps("MON-A")
    assert (gap.from_seq, gap.to_seq) == (4, 6)
    assert (gap.from_ts, gap.to_ts) == (T0 + 3000, T0 + 7000)
    assert gap.bed_id == 7 and gap.state == "open" and gap.attempts == 0
    assert tracker.counters.detected == 1 and tracker.counters.samples_missing == 3
    assert gap in tracker.dirty


def test_first_sample_of_a_device_is_only_a_baseline():
    tracker = GapTracker()
    feed(tracker, [500, 501])
    assert spans(tracker) == []


def test_a_late_sample_from_before_the_first_one_seen_opens_the_gap_between_them():
    """Seq 1 lost and seq 0 overtaken by seq 2: the tracker starts at 2, then 0 shows that 1 is missing."""
    tracker = GapTracker()
    feed(tracker, [2, 3, 0])
    assert spans(tracker) == [(1, 1)]
    (gap,) = tracker.open_gaps("MON-A")
    assert (gap.from_ts, gap.to_ts) == (T0, T0 + 2000)
    feed(tracker, [1])
    assert spans(tracker) == [] and tracker.counters.filled == 1
    feed(tracker, [4, -1])  # right below the new floor: nothing missing between them
    assert spans(tracker) == []


def test_reordered_sample_fills_the_gap_before_any_request():
    tracker = GapTracker()
    feed(tracker, [1, 2, 4, 3, 5])
    assert spans(tracker) == []
    assert tracker.counters.filled == 1 and tracker.counters.samples_filled == 1
    (closed,) = tracker.dirty
    assert closed.state == "filled" and closed.closed_at == T0
    assert tracker.due(T0 + 60_000) == {}


def test_duplicates_change_nothing():
    tracker = GapTracker()
    feed(tracker, [1, 2, 3, 3, 2, 6, 6, 3])
    assert spans(tracker) == [(4, 5)]
    assert tracker.counters.detected == 1 and tracker.counters.samples_filled == 0


def test_partial_fill_splits_and_shrinks():
    tracker = GapTracker()
    feed(tracker, [0, 11])
    assert spans(tracker) == [(1, 10)]
    feed(tracker, [5])
    assert spans(tracker) == [(1, 4), (6, 10)]
    left, right = tracker.open_gaps("MON-A")
    assert left.to_ts == T0 + 5000 and right.from_ts == T0 + 5000
    feed(tracker, [1, 10])
    assert spans(tracker) == [(2, 4), (6, 9)]
    feed(tracker, [2, 3, 4, 6, 7, 8, 9])
    assert spans(tracker) == []
    assert tracker.counters.samples_filled == 10
    assert tracker.counters.filled == 2  # the original record and the part split off


def test_device_restart_is_not_a_gap_and_old_run_samples_do_not_fill_new_gaps():
    tracker = GapTracker()
    feed(tracker, [1000, 1001])
    restart = T0 + 2_000_000
    tracker.observe(sample(0, restart), T0)  # seq back to 0 with a later time
    assert spans(tracker) == []
    tracker.observe(sample(1, restart + 1000), T0)
    tracker.observe(sample(4, restart + 4000), T0)
    assert spans(tracker) == [(2, 3)]
    tracker.observe(sample(2, T0 + 2000), T0)  # seq 2 of the old run, long before: not this gap's sample
    assert spans(tracker) == [(2, 3)]
    tracker.observe(sample(2, restart + 2000), T0)
    assert spans(tracker) == [(3, 3)]


def test_late_sample_of_an_old_run_after_restart_is_ignored():
    tracker = GapTracker()
    feed(tracker, [10, 11])
    tracker.observe(sample(0, T0 + 100_000), T0)
    tracker.observe(sample(9, T0 + 9000), T0)  # higher seq, but older than the newest sample: late
    tracker.observe(sample(1, T0 + 101_000), T0)
    assert spans(tracker) == []
    assert tracker.counters.detected == 0


def test_requests_wait_for_the_settle_delay_then_retry_with_backoff_then_unfillable():
    policy = GapPolicy(settle=2, retry=5, max_attempts=3)
    tracker = GapTracker(policy)
    feed(tracker, [1, 5])
    assert tracker.due(T0 + 1999) == {}
    assert list(tracker.due(T0 + 2000)) == ["MON-A"]
    now = T0 + 2000
    requests = tracker.requests("MON-A", now, "X")
    assert requests == [ResendRequest(SITE, "MON-A", 2, 4)]
    assert orjson.loads(requests[0].payload) == {"cmd": "resend", "from_seq": 2, "to_seq": 4}
    assert requests[0].topic == "pantau/v1/DEMO/cmd/MON-A"
    tracker.requested(requests[0], now)
    (gap,) = tracker.open_gaps("MON-A")
    assert gap.state == "requested" and gap.attempts == 1 and gap.requested_at == now
    assert tracker.due(now + 4999) == {}
    for wait in (5000, 10000):  # attempts 2 and 3, after 5 s then 10 s
        now += wait
        (request,) = tracker.requests("MON-A", now, "X")
        tracker.requested(request, now)
    assert gap.attempts == 3
    assert tracker.requests("MON-A", now + 19_999, "X") == []
    assert tracker.requests("MON-A", now + 20_000, "X") == []  # the verdict after the last wait
    assert gap.state == "unfillable" and spans(tracker) == []
    assert tracker.counters.unfillable == 1 and tracker.counters.samples_unfillable == 3
    assert tracker.counters.requests == 3


def test_gaps_older_than_the_monitor_memory_are_unfillable_without_asking():
    tracker = GapTracker(GapPolicy(memory=60))
    feed(tracker, [1, 5])
    assert tracker.requests("MON-A", T0 + 5000 + 60_001, "X") == []
    assert tracker.counters.unfillable == 1


def test_neighbouring_gaps_are_merged_into_one_request_within_the_bound():
    tracker = GapTracker(GapPolicy(max_request=10))
    feed(tracker, [1, 3, 5, 7, 20, 22])
    requests = tracker.requests("MON-A", T0 + 60_000, "X")
    assert [(r.from_seq, r.to_seq) for r in requests] == [(2, 6), (8, 17), (18, 21)]  # 8..19 was split at 10
    for r in requests:
        tracker.requested(r, T0 + 60_000)
    assert all(g.attempts == 1 for g in tracker.open_gaps("MON-A"))


def test_a_large_jump_is_split_per_request_and_the_part_beyond_memory_is_unfillable():
    tracker = GapTracker(GapPolicy(max_request=100, max_gap=250))
    tracker.observe(sample(0, T0), T0)
    tracker.observe(sample(1001, T0 + 1_001_000), T0)
    assert spans(tracker) == [(751, 850), (851, 950), (951, 1000)]
    assert tracker.counters.unfillable == 1 and tracker.counters.samples_unfillable == 750
    assert tracker.counters.samples_missing == 1000
    gaps = tracker.open_gaps("MON-A")
    # Bounds are the (interpolated) times of the neighbouring seq numbers, as for an unsplit gap.
    assert [(g.from_ts, g.to_ts) for g in gaps] == [
        (T0 + (g.from_seq - 1) * 1000, T0 + (g.to_seq + 1) * 1000) for g in gaps
    ]
    tracker.observe(sample(800, T0 + 800_000), T0)  # interpolated bounds still take the real sample
    assert spans(tracker) == [(751, 799), (801, 850), (851, 950), (951, 1000)]


def test_open_gaps_per_device_are_bounded():
    tracker = GapTracker(GapPolicy(max_open_per_device=3))
    feed(tracker, [0, 2, 4, 6, 8, 10])
    assert spans(tracker) == [(5, 5), (7, 7), (9, 9)]
    assert tracker.counters.unfillable == 2


def test_devices_are_independent_and_the_site_is_remembered():
    tracker = GapTracker()
    for seq in (1, 3):
        tracker.observe(Observed("EAST", "MON-B", seq, T0 + seq * 1000, None), T0)
    feed(tracker, [1, 2, 3])
    assert spans(tracker, "MON-A") == [] and spans(tracker, "MON-B") == [(2, 2)]
    (request,) = tracker.requests("MON-B", T0 + 60_000, "X")
    assert request.topic == "pantau/v1/EAST/cmd/MON-B"


def test_restore_continues_from_the_stored_state():
    tracker = GapTracker()
    stored_gap = GapRecord("MON-A", 7, 4, 6, T0 + 3000, T0 + 7000, detected_at=T0, attempts=2, requested_at=T0, id=9)
    tracker.restore([("MON-A", 10, T0 + 10_000)], [stored_gap])
    feed(tracker, [11, 5, 14])
    assert spans(tracker) == [(4, 4), (6, 6), (12, 13)]
    assert stored_gap.id == 9 and stored_gap in tracker.dirty
    # Unknown site after a restart: the default one is used.
    assert tracker.requests("MON-C", T0, "DEMO") == []


def test_fill_stored_closes_gaps_found_in_the_database():
    tracker = GapTracker()
    feed(tracker, [1, 5])
    tracker.fill_stored("MON-A", [(2, T0 + 2000), (3, T0 + 3000), (4, T0 + 4000)], T0)
    assert spans(tracker) == []
    tracker.fill_stored("MON-X", [(1, T0)], T0)  # an unknown device: nothing to do


@pytest.mark.parametrize("offset", [0, 250])
def test_policy_times_follow_attempts(offset):
    policy = GapPolicy(settle=1, retry=2)
    gap = GapRecord("D", None, 1, 1, T0, T0, detected_at=T0)
    assert policy.due_at(gap) == T0 + 1000
    gap.attempts, gap.requested_at = 3, T0 + offset
    assert policy.due_at(gap) == T0 + offset + 8000


# ------------------------------------------------------------------------------ with the database (SQLite)


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000


@pytest.fixture
def engine(tmp_path):
    from data.db import Database
    from data.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    upgrade(url)
    db = Database(url)
    yield db.engine
    db.dispose()


def store(engine, device: str, seqs, received: int) -> list[Observed]:
    """Store samples ``seqs`` of ``device`` (ts = T0 + seq s) as the consumer would; return them as observed."""
    from data.vitals import insert_samples, sample_row
    from domain.vitals_contract import VitalsMessage

    messages = [VitalsMessage(SITE, device, seq, T0 + seq * 1000, received, hr=70.0) for seq in seqs]
    with engine.begin() as conn:
        insert_samples(conn, [sample_row(m, 7) for m in messages])
    return [Observed(SITE, device, m.seq, m.ts, 7) for m in messages]


def saved(engine) -> list[tuple]:
    from sqlalchemy import select

    from data.models import VitalGap

    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(VitalGap.device_id, VitalGap.from_seq, VitalGap.to_seq, VitalGap.state, VitalGap.attempts)
            .order_by(VitalGap.device_id, VitalGap.from_seq)
        )]  # fmt: skip


def test_gaps_are_saved_asked_for_and_survive_a_consumer_restart(engine):
    from bridge.sequence_gaps import SequenceGaps

    clock = Clock(T0 + 20_000)
    sent: list[tuple[str, bytes]] = []

    def publish(topic: str, payload: bytes) -> bool:
        sent.append((topic, payload))
        return True

    policy = GapPolicy(settle=2, retry=5, max_attempts=3)
    store(engine, "MON-A", range(0, 5), received=T0)  # stored by an earlier consumer
    first = SequenceGaps(engine, publish, default_site="X", policy=policy, clock=clock)
    first.observe(store(engine, "MON-A", [5, 6, 8, 9], received=clock.ms))
    first.flush()
    assert saved(engine) == []  # younger than the settle delay: seq 7 may still arrive reordered
    first.run_once()  # within the settle delay: nothing asked
    assert sent == []
    clock.ms += 2000
    first.run_once()
    assert sent == [("pantau/v1/DEMO/cmd/MON-A", b'{"cmd":"resend","from_seq":7,"to_seq":7}')]
    assert saved(engine) == [("MON-A", 7, 7, "requested", 1)]
    first.stop()

    # A new consumer: the open gap and the newest sample stored before it started (seq 9) come back.
    clock.ms += 1000
    second = SequenceGaps(engine, publish, default_site="X", policy=policy, clock=clock)
    second.observe(store(engine, "MON-A", [12], received=clock.ms))
    assert [(g.from_seq, g.to_seq) for g in second.tracker.open_gaps("MON-A")] == [(7, 7), (10, 11)]
    store(engine, "MON-A", [7], received=clock.ms)  # the resend arrived but was not seen (e.g. a duplicate)
    clock.ms += 5000
    second.run_once()
    assert saved(engine) == [("MON-A", 7, 7, "filled", 1), ("MON-A", 10, 11, "requested", 1)]
    assert sent[-1] == ("pantau/v1/DEMO/cmd/MON-A", b'{"cmd":"resend","from_seq":10,"to_seq":11}')
    assert second.counters.filled == 1 and second.counters.requests == 1


def test_nothing_is_counted_as_asked_while_the_broker_is_away(engine):
    from bridge.sequence_gaps import SequenceGaps

    clock = Clock(T0 + 20_000)
    gaps = SequenceGaps(engine, lambda topic, payload: False, default_site="X", clock=clock)
    gaps.observe(store(engine, "MON-B", [1, 4], received=clock.ms))
    clock.ms += 60_000
    gaps.run_once()
    assert saved(engine) == [("MON-B", 2, 3, "open", 0)] and gaps.counters.requests == 0


def test_a_gap_filled_within_the_settle_delay_is_never_written_and_one_left_open_is_saved_at_stop(engine):
    from bridge.sequence_gaps import SequenceGaps

    clock = Clock(T0 + 20_000)
    policy = GapPolicy(settle=2, retry=5, max_attempts=3)
    gaps = SequenceGaps(engine, lambda topic, payload: True, default_site="X", policy=policy, clock=clock)
    gaps.observe(store(engine, "MON-B", [0, 1, 3, 4, 6], received=clock.ms))  # 2 and 5 missing
    gaps.observe(store(engine, "MON-B", [2], received=clock.ms))  # reordered: here a moment later
    clock.ms += 1000
    gaps.flush()
    assert saved(engine) == []
    gaps.stop()  # a restart must not forget the gap still open
    assert saved(engine) == [("MON-B", 5, 5, "open", 0)]
