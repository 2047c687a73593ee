"""The ingest processes' garbage-collector setting."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bridge.collector import YOUNG_THRESHOLD, collect_for_batches


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_the_young_generation_is_collected_less_often_and_the_older_ones_keep_their_ratios(thresholds):
    collect_for_batches()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, thresholds[1], thresholds[2])
