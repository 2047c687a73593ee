"""Plotly figures for a bed's trends and NEWS2 history (SVG traces: ward PCs often have no WebGL)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from i18n.web import t

# (column, label key, colour, row) — monitor colours as on the tiles.
TRACES = (
    ("hr", "vital_hr", "#3ddc84", 1),
    ("spo2", "vital_spo2", "#37c8ff", 2),
    ("rr", "vital_rr", "#ffd43b", 3),
    ("sbp", "trend_sbp", "#e9ecef", 4),
    ("dbp", "trend_dbp", "#adb5bd", 4),
    ("temp", "vital_temp", "#ffa94d", 5),
)
ROWS = 5


def _layout(fig: go.Figure, height: int, empty: bool) -> go.Figure:
    if empty:
        fig.add_annotation(
            text=t("trend_no_data"), showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 16}
        )
        fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        template="plotly_dark",
        height=height,
        margin={"l": 50, "r": 10, "t": 10, "b": 30},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        showlegend=False,
        hovermode="x unified",
        uirevision="keep",
    )
    return fig


def trend_figure(frame: pd.DataFrame, timezone: str) -> go.Figure:
    fig = make_subplots(
        rows=ROWS,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=[t(k) for k in ("vital_hr", "vital_spo2", "vital_rr", "vital_nibp", "vital_temp")],
    )
    local = frame.tz_convert(timezone) if not frame.empty else frame
    for column, label, colour, row in TRACES:
        series = local[column].dropna() if column in local else pd.Series(dtype=float)
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series.values,
                name=t(label),
                mode="lines+markers" if column in ("sbp", "dbp") else "lines",
                line={"color": colour, "width": 1.5},
                marker={"size": 4},
            ),
            row=row,
            col=1,
        )
    return _layout(fig, 620, frame.empty)


def news2_figure(series: pd.DataFrame, timezone: str) -> go.Figure:
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
                    marker={"symbol": symbol, "size": 6, "color": "#fd7e14"},
                    name=t("news2_complete" if complete else "news2_incomplete"),
                )
            )
    for level, colour in ((5, "#fd7e14"), (7, "#dc3545")):
        fig.add_hline(y=level, line={"dash": "dot", "color": colour, "width": 1})
    fig.update_yaxes(range=[0, 20], title_text="NEWS2")
    return _layout(fig, 240, series.empty)
