"""Dash's date pickers as Pantau shows them: their own words in the user's language ("Select Date", "Start Date"
and "End Date" are English unless given, and a screen reader reads them even when a date is set), dates written
day first (DD/MM/YYYY, not Dash's ISO default) and weeks from Monday. The calendar's month and day names follow
the page's ``<html lang>`` (assets/date_locale.js)."""

from __future__ import annotations

from dash import dcc

from i18n.web import t

# How every date picker shows dates: day first, as Indonesia writes them, and weeks from Monday.
_SHOWN = {"display_format": "DD/MM/YYYY", "first_day_of_week": 1}


def date_single(**props: object) -> dcc.DatePickerSingle:
    """A ``dcc.DatePickerSingle`` with ``props`` and its placeholder from the catalogue."""
    return dcc.DatePickerSingle(**_SHOWN | {"placeholder": t("date_pick")} | props)


def date_range(**props: object) -> dcc.DatePickerRange:
    """A ``dcc.DatePickerRange`` with ``props`` and its placeholders from the catalogue."""
    words = {"start_date_placeholder_text": t("date_pick_start"), "end_date_placeholder_text": t("date_pick_end")}
    return dcc.DatePickerRange(**_SHOWN | words | props)
