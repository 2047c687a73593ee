"""The "no access" message shown in place of a page the user may not open."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html
from flask import has_request_context
from flask_login import current_user

from components.shell import logout_form
from i18n.web import t


def _switch_user() -> list[html.Form]:
    """Sign out to let someone else sign in; only for a signed-in request (a POST form needs its CSRF token)."""
    if not has_request_context() or not current_user.is_authenticated:
        return []
    link = "btn btn-link alert-link p-0"
    return [logout_form(t("error_sign_in_other"), button_id="forbidden-switch-user", class_name=link)]


def forbidden() -> dbc.Container:
    return dbc.Container(
        dbc.Alert(
            [
                html.H4(t("forbidden_title"), id="forbidden"),
                html.P(t("forbidden_text")),
                html.Div(
                    [
                        dbc.Button(t("back_home"), href="/", color="primary", external_link=True),
                        # as on the server-rendered 403 page: a colleague at a shared workstation signs in as themself
                        *_switch_user(),
                    ],
                    className="d-flex flex-wrap align-items-center gap-3",
                ),
            ],
            color="warning",
            className="mt-4",
        )
    )
