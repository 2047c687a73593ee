"""A label only screen readers see, for a form field whose meaning the eye takes from a table's headers."""

from __future__ import annotations

import json

import dash_bootstrap_components as dbc


def hidden_label(text: str, field_id: str | dict[str, str | int]) -> dbc.Label:
    """``text`` as the label of the field ``field_id``. A pattern-matching id is rendered as Dash writes it into the
    page (its keys sorted, compact JSON), which is what the label's ``for`` must name."""
    target = json.dumps(field_id, sort_keys=True, separators=(",", ":")) if isinstance(field_id, dict) else field_id
    return dbc.Label(text, html_for=target, className="visually-hidden")
