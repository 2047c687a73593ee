"""Plotly figures for a bed's trends and NEWS2 history (SVG traces: ward PCs often have no WebGL).

Missing samples (sequence gaps, :func:`data.trends.missing_spans`) break every line, so a gap is never drawn as
a flat line; a gap the monitor could not resend is shaded red and labelled "data hilang", one still being
filled is shaded grey. Colours come from the chart theme (components/chart_theme.py) the caller names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.chart_theme import DARK, ChartTheme
from data.trends import MissingSpan
from i18n.web import t

# (column, label key, row); each line in its vital sign's colour of the theme.
TRACES = (
    ("hr", "vital_hr", 1),
    ("spo2", "vital_spo2", 2),
    ("rr", "vital_rr", 3),
    ("sbp", "trend_sbp", 4),
    ("dbp", "trend_dbp", 4),
    ("temp", "vital_temp", 5),
)
ROWS = 5
TREND_HEIGHT, NEWS2_HEIGHT = 620, 240  # pixels
MAX_BANDS = 30  # shaded bands per state; nearer ones are merged beyond that


class BandStyle(NamedTuple):
    """How the band over a missing span is drawn."""

    colour: str
    opacity: float
    note_key: str | None  # a pending gap gets no note (it is being filled)


def _band_styles(theme: ChartTheme) -> dict[str, BandStyle]:
    """Missing-span state -> its band."""
    return {
        "unfillable": BandStyle(theme.danger, 0.22, "trend_gap_lost"),
        "pending": BandStyle(theme.pending, 0.12, None),
    }


def _layout(
    fig: go.Figure, height: int, empty: bool, theme: ChartTheme, top: int = 10, empty_key: str = "trend_no_data"
) -> go.Figure:
    if empty:
        fig.add_annotation(
            text=t(empty_key), showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 16}
        )
        fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        template=theme.template,
        height=height,
        margin={"l": 50, "r": 10, "t": top, "b": 30},
        showlegend=False,
        hovermode="x unified",
        uirevision="keep",
    )
    return fig


def _bands(spans: Sequence[tuple[datetime, datetime]], first: datetime, last: datetime) -> list[tuple]:
    """Spans clipped to ``[first, last]``, at least 1/300 of it wide, neighbours merged to ``MAX_BANDS``."""
    width = (last - first) / 300
    clipped = sorted((max(a, first), min(b, last)) for a, b in spans if b >= first and a <= last)
    bands = [(min(a, b - width), max(b, a + width)) for a, b in clipped]
    join = width
    while True:
        merged: list[tuple] = []
        for a, b in bands:
            if merged and a - merged[-1][1] <= join:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        if len(merged) <= MAX_BANDS:
            return merged
        join *= 2
        bands = merged


def _local(spans: Sequence[MissingSpan], timezone: str) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    return [(pd.Timestamp(sp.start).tz_convert(timezone), pd.Timestamp(sp.end).tz_convert(timezone), sp.state)
            for sp in spans]  # fmt: skip


def _breaks(local: list[tuple], index: pd.DatetimeIndex) -> list[pd.Timestamp]:
    """The middle of each missing span inside the data's time range: where the lines must stop."""
    if index.empty:
        return []
    first, last = index.min(), index.max()
    return [a + (b - a) / 2 for a, b, _ in local if first <= a + (b - a) / 2 <= last]


def _shade(fig: go.Figure, local: list[tuple], index: pd.DatetimeIndex, rows: Sequence[int], theme: ChartTheme) -> None:
    """Shade the missing spans inside the data's time range on the panels ``rows`` (those with data: an empty
    panel has no time axis of its own); the first of them carries the note."""
    if not local or index.empty or not rows:
        return
    first, last = index.min(), index.max()
    for state, style in _band_styles(theme).items():
        for a, b in _bands([(a, b) for a, b, st in local if st == state], first, last):
            for row in rows:
                note = {}
                if style.note_key and row == rows[0]:
                    note = {
                        "annotation_text": t(style.note_key),
                        "annotation_position": "top left",
                        "annotation_font": {"size": 10, "color": style.colour},
                    }
                band = {"fillcolor": style.colour, "opacity": style.opacity, "line_width": 0, "layer": "below"}
                fig.add_vrect(x0=a, x1=b, row=row, col=1, **band, **note)


def trend_figure(
    frame: pd.DataFrame, timezone: str, missing: Sequence[MissingSpan] = (), theme: ChartTheme = DARK
) -> go.Figure:
    """The bed's vitals, one panel per parameter; ``missing`` spans are shaded and break the lines."""
    fig = make_subplots(
        rows=ROWS,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=[t(k) for k in ("vital_hr", "vital_spo2", "vital_rr", "vital_nibp", "vital_temp")],
    )
    local = frame.tz_convert(timezone) if not frame.empty else frame
    spans = _local(missing, timezone)
    breaks = _breaks(spans, local.index)
    filled: list[int] = []  # panels with data
    for column, label, row in TRACES:
        series = local[column].dropna() if column in local else pd.Series(dtype=float)
        if not series.empty and row not in filled:
            filled.append(row)
        if breaks and not series.empty:  # a NaN point at each gap: the line stops there (connectgaps is off)
            series = pd.concat([series, pd.Series(float("nan"), index=pd.DatetimeIndex(breaks))]).sort_index()
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series.values,
                name=t(label),
                uid=column,  # a stable identity across redraws (and for the browser tests)
                mode="lines+markers" if column in ("sbp", "dbp") else "lines",
                line={"color": theme.vitals[column], "width": 1.5},
                marker={"size": 4},
            ),
            row=row,
            col=1,
        )
    _shade(fig, spans, local.index, filled, theme)
    return _layout(fig, TREND_HEIGHT, frame.empty, theme, top=28)  # room for the top panel's title


def news2_figure(series: pd.DataFrame, timezone: str, theme: ChartTheme = DARK, *, unscored: bool = False) -> go.Figure:
    """The NEWS2 total over time (open markers where the score was incomplete), with the medium (5) and high (7)
    risk lines; for a patient NEWS2 does not score now (``unscored``: under 16, pregnant or postpartum, a maternity
    ward), why not."""
    fig = go.Figure()
    if not series.empty:
        local = series.tz_convert(timezone)
        for complete, symbol in ((True, "circle"), (False, "circle-open")):
            part = local[local["complete"] == complete]
            fig.add_trace(
                go.Scatter(
                    x=part.index,
                    y=part["total"],
                    mode="markers+lines" if complete else "markers",
                    marker={"symbol": symbol, "size": 6, "color": theme.news2},
                    line={"color": theme.news2},
                    name=t("news2_complete" if complete else "news2_incomplete"),
                )
            )
    for level, colour in () if unscored else ((5, theme.news2), (7, theme.danger)):
        fig.add_hline(y=level, line={"dash": "dot", "color": colour, "width": 1})
    fig.update_yaxes(range=[0, 20], title_text="NEWS2")
    empty = "news2_not_applicable_chart" if unscored else "trend_no_data"
    return _layout(fig, NEWS2_HEIGHT, series.empty, theme, empty_key=empty)
