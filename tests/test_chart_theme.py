"""Chart themes: every colour that carries meaning stands out from its theme's background, and the figures take
their colours from the theme they are given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from components.chart_theme import DARK, LIGHT, THEMES, ChartTheme, chart_theme
from components.trend_figures import news2_figure, trend_figure

GRAPHIC, TEXT = 3.0, 4.5  # WCAG 2.1: non-text contrast (1.4.11), text (1.4.3)


def contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def meaningful(theme: ChartTheme) -> dict[str, str]:
    return {**theme.vitals, "news2": theme.news2, "warning": theme.warning, "danger": theme.danger,
            "good": theme.good, "first": theme.series[0], "second": theme.series[1]}  # fmt: skip


@pytest.mark.parametrize("theme", THEMES.values(), ids=THEMES)
def test_every_colour_stands_out_from_the_background(theme: ChartTheme):
    assert contrast(theme.text, theme.background) >= TEXT
    faint = {k: round(contrast(c, theme.background), 2) for k, c in meaningful(theme).items()}
    assert all(ratio >= GRAPHIC for ratio in faint.values()), faint


def test_unknown_or_missing_theme_is_the_dark_default():
    assert chart_theme("light") is LIGHT
    assert chart_theme(None) is DARK and chart_theme("sepia") is DARK


def test_figures_draw_in_the_theme_given():
    index = pd.DatetimeIndex([datetime(2026, 12, 3, 8, tzinfo=UTC) + timedelta(minutes=m) for m in range(3)])
    vitals = pd.DataFrame({"hr": 80.0, "spo2": 97.0, "rr": 16.0, "sbp": 120.0, "dbp": 75.0, "temp": 36.8}, index)
    scores = pd.DataFrame({"total": [1, 2, 2], "complete": [True, True, False]}, index)
    for theme in (DARK, LIGHT):
        trends = trend_figure(vitals, "Asia/Jakarta", theme=theme)
        assert trends.layout.template.layout.font.color == theme.text
        assert {tr.uid: tr.line.color for tr in trends.data} == dict(theme.vitals)
        news2 = news2_figure(scores, "Asia/Jakarta", theme)
        assert news2.layout.template.layout.font.color == theme.text
        assert {tr.marker.color for tr in news2.data} == {theme.news2}
