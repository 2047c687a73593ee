"""The app's dialogs: a ``dbc.Modal`` that appears and goes at once, without the fade.

react-bootstrap's faded modal can miss the end of its closing transition on a busy page (an open upstream bug,
react-bootstrap issue 6153). The dialog is then invisible but stays over the page and takes every click until the
page is reloaded; the finance drill-down was once caught so in a browser test under load. Without the fade a
closed dialog leaves the page at once, so nothing can be left behind.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc


def dialog(children: Any, **props: Any) -> dbc.Modal:
    """A ``dbc.Modal`` with ``props``, never faded."""
    return dbc.Modal(children, fade=False, **props)
