"""Every dialog the app draws appears and goes without the fade (``components.dialog``): a faded react-bootstrap
modal can stay, invisible, over a busy page and take every click. Checked on what each role is really served, so
a ``dbc.Modal`` made anywhere without ``components.dialog`` is found."""

from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash._utils import to_json

from components.dialog import dialog
from tests.test_callback_ids import drawn_components, served_layouts


def faded_dialogs(layout: object) -> list[str]:
    """The ids of the dash-bootstrap-components modals in ``layout`` (layout JSON) that would fade."""
    return [
        str(component["props"].get("id"))
        for component in drawn_components(layout)
        if component["namespace"] == "dash_bootstrap_components"
        and component["type"] == "Modal"
        and component["props"].get("fade") is not False
    ]


def test_no_dialog_the_app_serves_fades(sqlite_app):
    layouts = list(served_layouts(sqlite_app))
    modals = [c for layout in layouts for c in drawn_components(layout) if c["type"] == "Modal"]
    assert len({str(m["props"].get("id")) for m in modals}) >= 7  # the app's dialogs were served, not error pages
    faded = sorted({found for layout in layouts for found in faded_dialogs(layout)})
    assert faded == [], f"dialogs that fade (make them with components.dialog): {faded}"


def test_a_modal_made_without_the_helper_is_found():
    layout = json.loads(to_json([dialog("kept", id="kept"), dbc.Modal("faded", id="faded")]))
    assert faded_dialogs(layout) == ["faded"]
