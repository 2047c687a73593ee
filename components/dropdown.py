"""Dash's dropdown speaking the user's language: its own words (search, clear, select all, "3 selected", none found)
are English unless given, on every dropdown of an Indonesian page."""

from __future__ import annotations

from dash import dcc

from i18n.web import t

# dcc.Dropdown's ``labels`` keys and their catalogue keys.
_LABELS = {
    "select_all": "dropdown_select_all",
    "deselect_all": "dropdown_deselect_all",
    "selected_count": "dropdown_selected_count",
    "search": "dropdown_search",
    "clear_search": "dropdown_clear_search",
    "clear_selection": "dropdown_clear_selection",
    "no_options_found": "dropdown_no_options_found",
}


def dropdown(**props: object) -> dcc.Dropdown:
    """A ``dcc.Dropdown`` with ``props`` and its own words from the catalogue."""
    return dcc.Dropdown(labels={name: t(key) for name, key in _LABELS.items()}, **props)
