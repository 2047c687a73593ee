"""The alert that answers a mistake a person can correct (``InputError``) in their language."""

from __future__ import annotations

import dash_bootstrap_components as dbc

from domain.errors import InputError
from i18n.web import t


def input_error_text(exc: InputError) -> str:
    """The catalogue message of ``exc`` in the request's language; a ticket's state it names is in words too."""
    params = dict(exc.params)
    if exc.key == "err_ticket_state":
        params["state"] = t(f"counter_state_{params['state']}")
    return t(exc.key, **params)


def input_error_alert(exc: InputError) -> dbc.Alert:
    """The catalogue message of ``exc`` as a red alert."""
    return dbc.Alert(input_error_text(exc), color="danger", className="mb-0")
