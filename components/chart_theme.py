"""Chart colours for the light and dark themes: the one place a figure takes its colours from.

Each theme is a Plotly template (text, axes, grid, hover labels; transparent backgrounds, so a chart sits on its
card) and named colours for what the charts draw. Every colour that carries meaning — a vital sign's line, a
threshold, a bar — has at least 3:1 contrast against the theme's background (WCAG 2.1 non-text contrast, 1.4.11);
text has at least 4.5:1. The vital-sign colours are those of the bed tiles (assets/pantau.css): monitor colours
on dark, their darker twins on white.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import plotly.graph_objects as go

TRANSPARENT = "rgba(0,0,0,0)"


@dataclass(frozen=True)
class ChartTheme:
    """One theme's chart colours; ``background`` is Bootstrap's body background, which cards share."""

    name: str
    background: str
    text: str
    grid: str
    axis: str  # axis lines, zero lines and ticks
    vitals: MappingProxyType[str, str]  # line colour per vital sign (hr, spo2, rr, sbp, dbp, temp)
    news2: str  # the score's line and markers, and its medium-risk (5) line
    warning: str  # a target line
    danger: str  # NEWS2 high (7), a missed target, data lost for good
    good: str  # a target reached
    series: tuple[str, str]  # the first and second series of a chart (queue waits, service times)
    pending: str  # data still being filled

    @cached_property
    def template(self) -> go.layout.Template:
        """The Plotly template: every axis, label and hover box in this theme's colours."""
        axis = {"gridcolor": self.grid, "linecolor": self.axis, "zerolinecolor": self.axis, "tickcolor": self.axis}
        return go.layout.Template(
            layout={
                "font": {"color": self.text},
                "paper_bgcolor": TRANSPARENT,
                "plot_bgcolor": TRANSPARENT,
                "colorway": [*self.series, self.warning, self.good, self.danger],
                "xaxis": axis,
                "yaxis": axis,
                "legend": {"bgcolor": TRANSPARENT},
                "hoverlabel": {"bgcolor": self.background, "bordercolor": self.axis, "font": {"color": self.text}},
            }
        )


DARK = ChartTheme(
    name="dark",
    background="#212529",
    text="#dee2e6",
    grid="#343a40",
    axis="#6c757d",
    vitals=MappingProxyType(
        {"hr": "#3ddc84", "spo2": "#37c8ff", "rr": "#ffd43b", "sbp": "#e9ecef", "dbp": "#adb5bd", "temp": "#ffa94d"}
    ),
    news2="#fd7e14",
    warning="#ffc107",
    danger="#ff6b6b",
    good="#3ddc84",
    series=("#37c8ff", "#adb5bd"),
    pending="#adb5bd",
)
LIGHT = ChartTheme(
    name="light",
    background="#ffffff",
    text="#212529",
    grid="#e9ecef",
    axis="#adb5bd",
    vitals=MappingProxyType(
        {"hr": "#0b7a3e", "spo2": "#0a6c9c", "rr": "#8a6d00", "sbp": "#212529", "dbp": "#6c757d", "temp": "#b35900"}
    ),
    news2="#c4540a",
    warning="#8a6d00",
    danger="#b02a37",
    good="#198754",
    series=("#0a6c9c", "#6c757d"),
    pending="#6c757d",
)
THEMES = {theme.name: theme for theme in (DARK, LIGHT)}


def blank_figure(height: int) -> dict:
    """A chart's placeholder until its callback draws it: ``height`` tall, nothing on a transparent background
    (without it Plotly draws empty axes on a white sheet, a white flash in the dark theme)."""
    layout = {"height": height, "paper_bgcolor": TRANSPARENT, "plot_bgcolor": TRANSPARENT}
    return {"data": [], "layout": {**layout, "xaxis": {"visible": False}, "yaxis": {"visible": False}}}


def chart_theme(name: str | None) -> ChartTheme:
    """The theme called ``name``; dark (Pantau's default, the ward screens') for anything else."""
    return THEMES.get(name or "", DARK)
