"""The bed page's NEWS2 history (``data.trends.news2_series``): scored from the trend's values and the nurse's
latest observation, only from the patient's 16th birthday, and on the SpO2 scale she was on at each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pandas as pd

from data.spo2_scale import ScaleHistory
from data.trends import news2_series

START = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _trend(minutes: int) -> pd.DataFrame:
    """A toddler's normal values each minute: heart rate 125 and breathing 32 (NEWS2 would give 2 + 3)."""
    index = pd.DatetimeIndex([START + timedelta(minutes=m) for m in range(minutes)], name="time")
    return pd.DataFrame({"hr": 125.0, "spo2": 98.0, "rr": 32.0, "temp": 36.9, "sbp": 120.0}, index=index)


OBSERVED = [SimpleNamespace(taken_at=START - timedelta(hours=1), on_oxygen=False, consciousness="A")]


def test_every_trend_time_is_scored_with_the_nurses_latest_observation():
    series = news2_series(_trend(10), OBSERVED, ScaleHistory(1))
    assert len(series) == 10 and set(series["total"]) == {5} and series["complete"].all()


def test_the_history_starts_at_the_sixteenth_birthday():
    birthday = START + timedelta(minutes=6)  # local midnight of the birthday, in UTC
    series = news2_series(_trend(10), OBSERVED, ScaleHistory(1), scored_from=birthday)
    assert list(series.index) == [START + timedelta(minutes=m) for m in range(6, 10)]
    assert news2_series(_trend(5), OBSERVED, ScaleHistory(1), scored_from=birthday).empty  # all before: none


def test_each_time_is_scored_on_the_spo2_scale_the_patient_was_on_then():
    """SpO2 89 % on air: 3 points on Scale 1 (91 or less), none on Scale 2 (88 or more) from the doctor's choice."""
    chosen = START + timedelta(minutes=4)
    trend = _trend(8).assign(hr=80.0, rr=16.0)  # an adult's: nothing but the SpO2 scores
    trend["spo2"] = 89.0
    series = news2_series(trend, OBSERVED, ScaleHistory(1, ((chosen, 2),)))
    assert list(series["total"]) == [3, 3, 3, 3, 0, 0, 0, 0]
    back = chosen + timedelta(minutes=2)
    series = news2_series(trend, OBSERVED, ScaleHistory(1, ((chosen, 2), (back, 1))))
    assert list(series["total"]) == [3, 3, 3, 3, 0, 0, 3, 3]
