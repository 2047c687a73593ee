"""The "no access" message shown in place of a page the user may not open."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from i18n.web import t


def forbidden() -> dbc.Container:
    return dbc.Container(
        dbc.Alert(
            [
                html.H4(t("forbidden_title"), id="forbidden"),
                html.P(t("forbidden_text")),
                dbc.Button(t("back_home"), href="/", color="primary", external_link=True, className="me-3"),
                # as on the server-rendered 403 page: a colleague at a shared workstation signs in as themself
                html.A(t("error_sign_in_other"), href="/logout", className="alert-link", id="forbidden-switch-user"),
            ],
            color="warning",
            className="mt-4",
        )
    )
