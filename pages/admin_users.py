"""Admin: user accounts — list, create, change roles, disable, reset passwords — without a shell."""

from __future__ import annotations

from typing import ClassVar

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from auth.password_policy import MIN_LENGTH
from components.dropdown import dropdown
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


class Ids:
    """Component ids shared with callbacks/admin_users.py."""

    USERS_TABLE = "admin-users-table"
    USERS_VERSION = "admin-users-version"
    NEW_USERNAME = "admin-new-username"
    NEW_FULLNAME = "admin-new-fullname"
    NEW_ROLES = "admin-new-roles"
    NEW_PASSWORD = "admin-new-password"  # noqa: S105 (a component id, not a password)
    NEW_SUBMIT = "admin-new-submit"
    NEW_FEEDBACK = "admin-new-feedback"
    EDIT_USER = "admin-edit-user"
    EDIT_ROLES = "admin-edit-roles"
    EDIT_ACTIVE = "admin-edit-active"
    EDIT_WARDS = "admin-edit-wards"  # the wards she works in: her ward list and home page open there
    EDIT_POLIS = "admin-edit-polis"
    EDIT_SAVE = "admin-edit-save"
    EDIT_RESET = "admin-edit-reset"
    EDIT_MFA_RESET = "admin-edit-mfa-reset"  # clears the user's TOTP authenticator (auth.mfa.reset_mfa)
    EDIT_FEEDBACK = "admin-edit-feedback"
    TV_BOARD = "admin-tv-board"
    TV_LABEL = "admin-tv-label"
    TV_CREATE = "admin-tv-create"
    TV_FEEDBACK = "admin-tv-feedback"
    TV_TABLE = "admin-tv-table"
    TV_PICK = "admin-tv-pick"
    TV_REVOKE = "admin-tv-revoke"
    TV_REVOKE_FEEDBACK = "admin-tv-revoke-feedback"
    # The new-user form's fields as ``auth.users.create_user`` names them in ``FieldErrors``, with their controls.
    NEW_FIELDS: ClassVar[dict[str, str]] = {
        "username": NEW_USERNAME,
        "full_name": NEW_FULLNAME,
        "roles": NEW_ROLES,
        "password": NEW_PASSWORD,
    }
    # The TV form's fields as ``auth.tv_boards.create_tv_board`` names them, with their controls.
    TV_FIELDS: ClassVar[dict[str, str]] = {"board": TV_BOARD, "label": TV_LABEL}
    # The edit form's fields as ``auth.users.change_account`` names them, with their controls.
    EDIT_FIELDS: ClassVar[dict[str, str]] = {"roles": EDIT_ROLES, "active": EDIT_ACTIVE}

    @staticmethod
    def error_of(control: str) -> str:
        """Where the message of a refused field shows, beside its control."""
        return f"{control}-error"


def role_options() -> list[dict]:
    return [{"label": t(f"role_{r}"), "value": r} for r in ROLES]


def _field(label: str | None, control: Component, hint: str | None = None) -> html.Div:
    """A field of one of the page's forms, labelled unless its control carries its own label (a switch), with the
    message of its refusal beside it."""
    parts = []
    if label is not None:
        parts.append(dbc.Label(label, html_for=control.id if isinstance(control, dbc.Input | dbc.Select) else None))
    parts += [control, dbc.FormFeedback(id=Ids.error_of(control.id), type="invalid", className="d-block")]
    if hint:
        parts.append(dbc.FormText(hint, className="d-block"))
    return html.Div(parts, className="mb-2")


def _create_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("users_create_title")),
            dbc.CardBody(
                [
                    _field(
                        t("users_username"),
                        dbc.Input(id=Ids.NEW_USERNAME, maxLength=64, autoComplete="off"),
                        t("users_username_hint"),
                    ),
                    _field(t("users_full_name"), dbc.Input(id=Ids.NEW_FULLNAME, maxLength=200)),
                    _field(
                        t("users_roles"), dbc.Checklist(id=Ids.NEW_ROLES, options=role_options(), value=[], inline=True)
                    ),
                    _field(
                        t("users_password"),
                        dbc.Input(
                            id=Ids.NEW_PASSWORD,
                            type="password",
                            autoComplete="new-password",
                            placeholder=t("users_password_placeholder"),
                        ),
                    ),
                    dbc.FormText(t("password_rules", n=MIN_LENGTH), className="d-block mb-3"),
                    dbc.Button(t("users_create_submit"), id=Ids.NEW_SUBMIT, color="primary"),
                    html.Div(id=Ids.NEW_FEEDBACK, className="mt-3"),
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
                    dbc.Label(t("users_select"), html_for=Ids.EDIT_USER),
                    dropdown(id=Ids.EDIT_USER, placeholder=t("users_select_placeholder"), className="mb-2"),
                    _field(
                        t("users_roles"),
                        dbc.Checklist(id=Ids.EDIT_ROLES, options=role_options(), value=[], inline=True),
                    ),
                    _field(None, dbc.Switch(id=Ids.EDIT_ACTIVE, label=t("users_active"), value=True, className="mb-0")),
                    # The places' lists close after each pick: left open, a list lies over the Save button below,
                    # and a press meant for Save gave the account one more ward or poli instead.
                    dbc.Label(t("users_wards"), html_for=Ids.EDIT_WARDS),
                    dropdown(
                        id=Ids.EDIT_WARDS, multi=True, closeOnSelect=True, placeholder=t("users_none"), className="mb-2"
                    ),
                    dbc.Label(t("users_polis"), html_for=Ids.EDIT_POLIS),
                    dropdown(
                        id=Ids.EDIT_POLIS, multi=True, closeOnSelect=True, placeholder=t("users_none"), className="mb-1"
                    ),
                    dbc.FormText(t("users_places_hint"), className="d-block mb-3"),
                    dbc.ButtonGroup(
                        [
                            dbc.Button(t("users_save"), id=Ids.EDIT_SAVE, color="primary"),
                            dbc.Button(t("users_reset_password"), id=Ids.EDIT_RESET, color="warning", outline=True),
                            dbc.Button(t("mfa_reset_button"), id=Ids.EDIT_MFA_RESET, color="warning", outline=True),
                        ]
                    ),
                    html.Div(id=Ids.EDIT_FEEDBACK, className="mt-3"),
                ]
            ),
        ]
    )


def _tv_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("tv_title")),
            dbc.CardBody(
                [
                    _field(t("tv_board"), dbc.Select(id=Ids.TV_BOARD, options=[])),
                    _field(
                        t("tv_label"), dbc.Input(id=Ids.TV_LABEL, maxLength=100, placeholder=t("tv_label_placeholder"))
                    ),
                    dbc.Button(t("tv_create"), id=Ids.TV_CREATE, color="primary", className="mt-2"),
                    html.Div(id=Ids.TV_FEEDBACK, className="mt-3"),
                    html.Div(id=Ids.TV_TABLE, className="mt-3"),
                    dbc.Label(t("tv_pick"), html_for=Ids.TV_PICK),
                    dropdown(id=Ids.TV_PICK, className="mb-2"),
                    dbc.Button(t("tv_revoke"), id=Ids.TV_REVOKE, color="danger", outline=True),
                    html.Div(id=Ids.TV_REVOKE_FEEDBACK, className="mt-3"),
                ]
            ),
        ],
        className="mt-3",
    )


def layout(**_query: str) -> dbc.Row:
    return dbc.Row(
        [
            dcc.Store(id=Ids.USERS_VERSION, data=0),
            dbc.Col(
                dbc.Card([dbc.CardHeader(t("users_list_title")), html.Div(id=Ids.USERS_TABLE)]),
                lg=7,
                className="mb-3",
            ),
            dbc.Col([_create_card(), _edit_card(), _tv_card()], lg=5),
        ]
    )
