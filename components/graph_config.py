"""The ``config`` of every chart: Plotly speaks the page's language (month and day names on time axes, the
decimal comma and thousands point in Indonesian, the mode bar's buttons), from Pantau's own catalogue rather than
a vendored locale file."""

from __future__ import annotations

from typing import Any

from domain.formats import MONTHS, WEEKDAYS
from i18n import translate
from i18n.web import current_language

# Plotly's number separators: decimal mark, then thousands mark.
_SEPARATORS = {"id": (",", "."), "en": (".", ",")}
_DATE_FORMAT = {"id": "%d/%m/%Y", "en": "%m/%d/%Y"}
# How a time axis writes a day under its hours, and a day with its year: day first in Indonesian ("8 Des 2026"),
# Plotly's own month first in English.
_DAY_FORMATS = {"id": {"dayMonth": "%-d %b", "dayMonthYear": "%-d %b %Y"}, "en": {}}
# Plotly's own words (the mode bar's buttons and the snapshot's messages), by the English text it looks them up by.
_WORDS = {
    "Autoscale": "plotly_autoscale",
    "Box Select": "plotly_box_select",
    "Lasso Select": "plotly_lasso_select",
    "Download plot": "plotly_download",
    "Download plot as a PNG": "plotly_download_png",
    "Pan": "plotly_pan",
    "Reset axes": "plotly_reset_axes",
    "Zoom": "plotly_zoom",
    "Zoom in": "plotly_zoom_in",
    "Zoom out": "plotly_zoom_out",
    "Double-click to zoom back out": "plotly_double_click",
    "Taking snapshot - this may take a few seconds": "plotly_snapshot_taking",
    "Snapshot succeeded": "plotly_snapshot_done",
    "Sorry, there was a problem downloading your snapshot!": "plotly_snapshot_failed",
}


# No mode-bar button that sends a chart out of the hospital: plotly.js 3 shows "Share chart..." by default, which
# uploads the chart's data (a patient's vital signs on the bed page) to Plotly's cloud. Nor Plotly's logo link.
_PRIVATE = {"displaylogo": False, "showSendToCloud": False, "showEditInChartStudio": False, "plotlyServerURL": ""}


def plotly_locale(lang: str) -> dict[str, Any]:
    """A Plotly locale definition (``config.locales[lang]``) for ``lang``."""
    months, days = MONTHS[lang], WEEKDAYS[lang]
    decimal, thousands = _SEPARATORS[lang]
    return {
        "dictionary": {english: translate(key, lang) for english, key in _WORDS.items()},
        "format": {
            "days": list(days),
            "shortDays": [day[:3] for day in days],
            "months": list(months),
            "shortMonths": [month[:3] for month in months],
            "date": _DATE_FORMAT[lang],
            **_DAY_FORMATS[lang],
            "decimal": decimal,
            "thousands": thousands,
        },
    }


def graph_config(**extra: Any) -> dict[str, Any]:
    """``dcc.Graph(config=...)`` in the current request's language, plus ``extra`` (e.g. ``displayModeBar``)."""
    lang = current_language()
    if lang not in MONTHS:
        lang = "id"
    return {**_PRIVATE, "locale": lang, "locales": {lang: plotly_locale(lang)}, **extra}
