"""Hybrid logical clock: order, encodings that sort like the values, tick and receive, the skew bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.hlc import MAX_COUNTER, MAX_SKEW_MS, MAX_WALL_MS, ClockError, ClockSkew, Hlc, receive, tick

NOW = 1_764_835_200_000  # 4 December 2025, 08:00 UTC, in epoch ms

nodes = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
clocks = st.builds(Hlc, st.integers(0, MAX_WALL_MS), st.integers(0, MAX_COUNTER - 10), nodes)
near_clocks = st.builds(Hlc, st.integers(NOW - 5_000, NOW + 5_000), st.integers(0, 50), st.sampled_from("ABC"))


@given(clocks, clocks)
def test_the_string_and_bytes_forms_sort_like_the_values(a: Hlc, b: Hlc) -> None:
    assert (a < b) == (a.encode() < b.encode()) == (a.to_bytes() < b.to_bytes())
    assert (a == b) == (a.encode() == b.encode())
    assert Hlc.decode(a.encode()) == a and Hlc.from_bytes(a.to_bytes()) == a


def test_ties_are_broken_by_the_node() -> None:
    assert Hlc(NOW, 3, "PKM-01") < Hlc(NOW, 3, "RS-01") < Hlc(NOW, 4, "PKM-01") < Hlc(NOW + 1, 0, "A")
    assert Hlc(NOW, 3, "PKM-01").encode() == "019ae8600c00.00000003.PKM-01"


@given(near_clocks, st.lists(st.integers(-3_000, 3_000), max_size=30))
def test_tick_is_strictly_monotonic_even_when_the_wall_clock_goes_back(start: Hlc, steps: list[int]) -> None:
    clock, now = start, NOW
    for step in steps:
        now += step
        later = tick(clock, now)
        assert later > clock and later.node == clock.node and later.wall_ms >= now
        clock = later


@given(near_clocks, near_clocks, st.integers(NOW - 5_000, NOW + 5_000))
def test_receive_is_later_than_both_inputs_and_stays_on_our_node(local: Hlc, remote: Hlc, now: int) -> None:
    merged = receive(local, remote, now)
    assert merged > local and merged > remote and merged.node == local.node
    assert merged.wall_ms == max(local.wall_ms, remote.wall_ms, now)
    assert tick(merged, now) > merged


def test_the_physical_clock_resets_the_counter() -> None:
    assert tick(Hlc(NOW, 7, "A"), NOW + 1) == Hlc(NOW + 1, 0, "A")
    assert tick(Hlc(NOW, 7, "A"), NOW - 50) == Hlc(NOW, 8, "A")
    assert receive(Hlc(NOW, 2, "A"), Hlc(NOW, 9, "B"), NOW) == Hlc(NOW, 10, "A")
    assert receive(Hlc(NOW, 2, "A"), Hlc(NOW + 40, 9, "B"), NOW) == Hlc(NOW + 40, 10, "A")
    assert receive(Hlc(NOW, 2, "A"), Hlc(NOW - 40, 9, "B"), NOW + 5) == Hlc(NOW + 5, 0, "A")


def test_a_remote_clock_far_ahead_is_refused_not_followed() -> None:
    local = Hlc(NOW, 0, "RS-01")
    with pytest.raises(ClockSkew, match="PKM-01 is 60001 ms ahead") as refused:
        receive(local, Hlc(NOW + 60_001, 0, "PKM-01"), NOW)
    assert refused.value.ahead_ms == 60_001
    assert receive(local, Hlc(NOW + 60_000, 0, "PKM-01"), NOW).wall_ms == NOW + 60_000
    with pytest.raises(ClockSkew):
        receive(local, Hlc(NOW + 2_000, 0, "PKM-01"), NOW, max_skew_ms=1_000)


@given(st.lists(st.tuples(st.booleans(), st.integers(-120_000, 120_000), st.integers(0, 1_000)), max_size=40))
def test_no_remote_drags_our_clock_further_ahead_than_the_bound(events: list[tuple[bool, int, int]]) -> None:
    clock, now = Hlc.zero("RS-01"), NOW
    for remote, offset, step in events:
        now += step
        if remote:
            try:
                clock = receive(clock, Hlc(now + offset, 0, "PKM-01"), now)
            except ClockSkew:
                assert offset > MAX_SKEW_MS
        else:
            clock = tick(clock, now)
        assert clock.wall_ms <= now + MAX_SKEW_MS


def test_a_counter_that_would_overflow_raises() -> None:
    with pytest.raises(ClockError, match="overflow"):
        tick(Hlc(NOW, MAX_COUNTER, "A"), NOW)


@pytest.mark.parametrize(
    "bad",
    [
        (-1, 0, "A"),
        (MAX_WALL_MS + 1, 0, "A"),
        (NOW, -1, "A"),
        (True, 0, "A"),
        (NOW, 0, ""),
        (NOW, 0, "a.b"),
        (NOW, 0, "é"),
        (NOW, 0, "A" * 65),
        (NOW, 0, "A\n"),
    ],
)
def test_out_of_range_values_are_refused(bad: tuple) -> None:
    with pytest.raises(ClockError):
        Hlc(*bad)


@pytest.mark.parametrize(
    "text",
    ["", "019ae88c8800.00000003", "019ae88c8800.00000003.A\n", "019AE88C8800.00000003.A", "19ae88c8800.00000003.A"],
)
def test_malformed_encodings_are_refused(text: str) -> None:
    with pytest.raises(ClockError):
        Hlc.decode(text)


@pytest.mark.parametrize("raw", [b"", b"\x00" * 12, b"\x00" * 12 + "é".encode()])
def test_malformed_bytes_are_refused(raw: bytes) -> None:
    with pytest.raises(ClockError):
        Hlc.from_bytes(raw)
