"""The ``config`` of every chart: Plotly speaks the page's language (month and day names on time axes, the
decimal comma and thousands point in Indonesian), from Pantau's own catalogue rather than a vendored locale file."""

from __future__ import annotations

from typing import Any

from domain.formats import MONTHS, WEEKDAYS
from i18n.web import current_language

# Plotly's number separators: decimal mark, then thousands mark.
_SEPARATORS = {"id": (",", "."), "en": (".", ",")}
_DATE_FORMAT = {"id": "%d/%m/%Y", "en": "%m/%d/%Y"}


def plotly_locale(lang: str) -> dict[str, Any]:
    """A Plotly locale definition (``config.locales[lang]``) for ``lang``."""
    months, days = MONTHS[lang], WEEKDAYS[lang]
    decimal, thousands = _SEPARATORS[lang]
    return {
        "dictionary": {},
        "format": {
            "days": list(days),
            "shortDays": [day[:3] for day in days],
            "months": list(months),
            "shortMonths": [month[:3] for month in months],
            "date": _DATE_FORMAT[lang],
            "decimal": decimal,
            "thousands": thousands,
        },
    }


def graph_config(**extra: Any) -> dict[str, Any]:
    """``dcc.Graph(config=...)`` in the current request's language, plus ``extra`` (e.g. ``displayModeBar``)."""
    lang = current_language()
    if lang not in MONTHS:
        lang = "id"
    return {"displaylogo": False, "locale": lang, "locales": {lang: plotly_locale(lang)}, **extra}
