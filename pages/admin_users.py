"""Admin: user accounts — list, create, change roles, disable, reset passwords — without a shell."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from auth.password_policy import MIN_LENGTH
from domain.roles import ROLES
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/pengguna",
    name_key="nav_admin_users",
    title="Pengguna · Pantau",
    roles=["admin"],
    order=90,
    nav=True,
    nav_group="admin",
)


def role_options() -> list[dict]:
    return [{"label": t(f"role_{r}"), "value": r} for r in ROLES]


def _create_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("users_create_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("users_username"), html_for="admin-new-username"),
                    dbc.Input(id="admin-new-username", maxLength=64, autoComplete="off", className="mb-2"),
                    dbc.FormText(t("users_username_hint"), className="d-block mb-2"),
                    dbc.Label(t("users_full_name"), html_for="admin-new-fullname"),
                    dbc.Input(id="admin-new-fullname", maxLength=200, className="mb-2"),
                    dbc.Label(t("users_roles")),
                    dbc.Checklist(
                        id="admin-new-roles", options=role_options(), value=[], inline=True, className="mb-2"
                    ),
                    dbc.Label(t("users_password"), html_for="admin-new-password"),
                    dbc.Input(
                        id="admin-new-password",
                        type="password",
                        autoComplete="new-password",
                        placeholder=t("users_password_placeholder"),
                    ),
                    html.Div(id="admin-new-password-error", className="mt-2"),  # a refused password, beside it
                    dbc.FormText(t("password_rules", n=MIN_LENGTH), className="d-block mb-3"),
                    dbc.Button(t("users_create_submit"), id="admin-new-submit", color="primary"),
                    html.Div(id="admin-new-feedback", className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def _edit_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("users_edit_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("users_select"), html_for="admin-edit-user"),
                    dcc.Dropdown(id="admin-edit-user", placeholder=t("users_select_placeholder"), className="mb-2"),
                    dbc.Label(t("users_roles")),
                    dbc.Checklist(
                        id="admin-edit-roles", options=role_options(), value=[], inline=True, className="mb-2"
                    ),
                    dbc.Switch(id="admin-edit-active", label=t("users_active"), value=True, className="mb-3"),
                    dbc.ButtonGroup(
                        [
                            dbc.Button(t("users_save"), id="admin-edit-save", color="primary"),
                            dbc.Button(t("users_reset_password"), id="admin-edit-reset", color="warning", outline=True),
                        ]
                    ),
                    html.Div(id="admin-edit-feedback", className="mt-3"),
                ]
            ),
        ]
    )


def layout(**_query: str) -> dbc.Row:
    return dbc.Row(
        [
            dcc.Store(id="admin-users-version", data=0),
            dbc.Col(
                dbc.Card([dbc.CardHeader(t("users_list_title")), html.Div(id="admin-users-table")]),
                lg=7,
                className="mb-3",
            ),
            dbc.Col([_create_card(), _edit_card()], lg=5),
        ]
    )
