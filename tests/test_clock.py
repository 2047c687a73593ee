"""``domain.clock.epoch_ms`` and ``now_ms``: the epoch milliseconds monitors, screens and BPJS speak, counted
exactly."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.clock import epoch_ms, now_ms

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=4_102_444_800_000), st.integers(min_value=0, max_value=999))
def test_a_moment_made_from_milliseconds_gives_them_back_whatever_is_below_a_millisecond(ms: int, micros: int):
    assert epoch_ms(EPOCH + timedelta(milliseconds=ms, microseconds=micros)) == ms


def test_the_zone_does_not_change_the_instant():
    wib = datetime(2026, 12, 5, 15, 30, 0, 123456, tzinfo=timezone(timedelta(hours=7)))
    assert epoch_ms(wib) == epoch_ms(wib.astimezone(UTC)) == 1_796_459_400_123


def test_a_moment_before_the_epoch_is_counted_towards_the_past():
    assert epoch_ms(EPOCH - timedelta(microseconds=1)) == -1


def test_a_naive_datetime_is_refused():
    with pytest.raises(TypeError):
        epoch_ms(datetime(2026, 12, 5, 8, 30))


def test_now_is_the_wall_clock_in_whole_milliseconds():
    before = time.time_ns() // 1_000_000
    now = now_ms()
    assert isinstance(now, int) and before <= now <= time.time_ns() // 1_000_000
