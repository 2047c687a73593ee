"""The bed trend with sequence gaps: lost data is shaded and labelled, lines break at every gap."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pandas as pd

from components.trend_figures import MAX_BANDS, ROWS, _bands, trend_figure
from data.trends import MissingSpan
from i18n.id import STRINGS

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def frame(seconds: int = 120) -> pd.DataFrame:
    index = pd.DatetimeIndex([T0 + timedelta(seconds=s) for s in range(seconds)], name="time")
    return pd.DataFrame({"hr": [80.0 + s % 5 for s in range(seconds)], "spo2": 97.0, "rr": 16.0, "sbp": math.nan,
                         "dbp": math.nan, "map": math.nan, "temp": 36.8}, index=index)  # fmt: skip


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_lost_and_pending_gaps_are_shaded_and_lines_break():
    data = frame()
    data = data.drop(data.index[21:30]).drop(data.index[41:45])  # what the gaps left out
    missing = [MissingSpan(at(20), at(30), "unfillable"), MissingSpan(at(40), at(45), "pending")]
    fig = trend_figure(data, "Asia/Jakarta", missing)
    shapes = fig.layout.shapes
    assert len(shapes) == 2 * (ROWS - 1)  # on every panel with data (no cuff reading here: NIBP is empty)
    lost = [s for s in shapes if s.fillcolor == "#ff6b6b"]
    assert len(lost) == ROWS - 1
    assert pd.Timestamp(lost[0].x0) == pd.Timestamp(at(20)) and pd.Timestamp(lost[0].x1) == pd.Timestamp(at(30))
    notes = [a.text for a in fig.layout.annotations[ROWS:]]  # after the panel titles
    assert notes == [STRINGS["trend_gap_lost"]]  # once, on the top panel; a pending gap has no note
    hr = next(tr for tr in fig.data if tr.line.color == "#3ddc84")
    xs = [pd.Timestamp(x) for x in hr.x]
    gaps_in_line = [xs[i] for i, y in enumerate(hr.y) if y is None or math.isnan(y)]
    assert gaps_in_line == [pd.Timestamp(at(25)).tz_convert("Asia/Jakarta"),
                            pd.Timestamp(at(42.5)).tz_convert("Asia/Jakarta")]  # fmt: skip


def test_without_gaps_nothing_changes():
    fig = trend_figure(frame(), "UTC")
    assert fig.layout.shapes == () and all(not any(math.isnan(y) for y in tr.y) for tr in fig.data if len(tr.y))


def test_spans_outside_the_data_are_left_out_and_many_are_merged():
    fig = trend_figure(frame(), "UTC", [MissingSpan(at(-600), at(-500), "unfillable")])
    assert fig.layout.shapes == ()
    spans = [(at(s), at(s + 0.5)) for s in range(0, 3000, 10)]  # 300 one-sample gaps in 50 minutes
    bands = _bands(spans, at(0), at(3000))
    assert 1 <= len(bands) <= MAX_BANDS
    assert bands[0][0] <= at(0) + timedelta(seconds=5) and bands[-1][1] >= at(2990)
