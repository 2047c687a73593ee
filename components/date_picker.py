"""Dash's date pickers with their own words in the user's language: "Select Date", "Start Date" and "End Date" are
English unless given (a screen reader reads them even when a date is set). The calendar's month and day names
follow the page's ``<html lang>`` (assets/date_locale.js)."""

from __future__ import annotations

from dash import dcc

from i18n.web import t


def date_single(**props: object) -> dcc.DatePickerSingle:
    """A ``dcc.DatePickerSingle`` with ``props`` and its placeholder from the catalogue."""
    return dcc.DatePickerSingle(placeholder=t("date_pick"), **props)


def date_range(**props: object) -> dcc.DatePickerRange:
    """A ``dcc.DatePickerRange`` with ``props`` and its placeholders from the catalogue."""
    return dcc.DatePickerRange(
        start_date_placeholder_text=t("date_pick_start"), end_date_placeholder_text=t("date_pick_end"), **props
    )
