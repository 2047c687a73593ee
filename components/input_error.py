"""The alert that answers a mistake a person can correct (``InputError``) in their language."""

from __future__ import annotations

import dash_bootstrap_components as dbc

from domain.errors import InputError
from i18n.web import t


def input_error_alert(exc: InputError) -> dbc.Alert:
    """The catalogue message of ``exc`` as a red alert."""
    return dbc.Alert(t(exc.key, **exc.params), color="danger", className="mb-0")
