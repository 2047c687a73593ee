"""The alert that shows a freshly issued password once (user accounts, monitor credentials)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def one_time_secret(message: str, secret: str, note: str, element_id: str | None = None) -> dbc.Alert:
    """``message``, the secret in large selectable type, and ``note`` (it will not be shown again)."""
    code = html.Code(secret, className="one-time-secret d-block my-2", **({"id": element_id} if element_id else {}))
    return dbc.Alert([html.Div(message), code, html.Small(note)], color="success", className="mb-0")
