"""Shown for an address that is no page of Pantau."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from domain.roles import EVERYONE
from i18n.web import t

dash.register_page(__name__, path="/404", name_key="not_found_title", roles=list(EVERYONE))


def layout(**_query: str) -> dbc.Container:
    return dbc.Container(
        dbc.Alert(
            [
                html.H4(t("not_found_title"), id="not-found"),
                html.P(t("not_found_text")),
                dbc.Button(t("back_home"), href="/", color="primary"),
            ],
            color="secondary",
            className="mt-4",
        )
    )
