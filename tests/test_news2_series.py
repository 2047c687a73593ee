"""The bed page's NEWS2 history (``data.trends.news2_series``): scored from the trend's values and the nurse's
latest observation, and only from the patient's 16th birthday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pandas as pd

from data.trends import news2_series

START = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _trend(minutes: int) -> pd.DataFrame:
    """A toddler's normal values each minute: heart rate 125 and breathing 32 (NEWS2 would give 2 + 3)."""
    index = pd.DatetimeIndex([START + timedelta(minutes=m) for m in range(minutes)], name="time")
    return pd.DataFrame({"hr": 125.0, "spo2": 98.0, "rr": 32.0, "temp": 36.9, "sbp": 120.0}, index=index)


OBSERVED = [SimpleNamespace(taken_at=START - timedelta(hours=1), on_oxygen=False, consciousness="A")]


def test_every_trend_time_is_scored_with_the_nurses_latest_observation():
    series = news2_series(_trend(10), OBSERVED, spo2_scale=1)
    assert len(series) == 10 and set(series["total"]) == {5} and series["complete"].all()


def test_the_history_starts_at_the_sixteenth_birthday():
    birthday = START + timedelta(minutes=6)  # local midnight of the birthday, in UTC
    series = news2_series(_trend(10), OBSERVED, spo2_scale=1, scored_from=birthday)
    assert list(series.index) == [START + timedelta(minutes=m) for m in range(6, 10)]
    assert news2_series(_trend(5), OBSERVED, spo2_scale=1, scored_from=birthday).empty  # all before: none
