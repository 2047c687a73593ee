"""Under the confirmation of a saved change: the live side could not be told now (``data.live_notify``), so the
user knows the screens follow a little later and that saving again is not needed."""

from __future__ import annotations

from dash import html
from dash.development.base_component import Component

from i18n.web import t


def with_live_note(confirmation: Component, told: bool) -> Component:
    """``confirmation`` as it is when ``told``; otherwise with the note under it."""
    if told:
        return confirmation
    note = html.Div(
        [html.I(className="bi bi-hourglass-split me-1"), t("live_not_told")],
        className="live-not-told alert alert-warning small py-2 mt-2 mb-0",
        role="status",
    )
    return html.Div([confirmation, note])
