"""Admin user management: every action goes through ``auth.users`` and lands in the audit log."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update
from flask_login import current_user

from auth import mfa, users
from auth.passwords import generate_password
from auth.proxy_urls import public_url_for
from auth.reauth import confirm_needed
from auth.session import current_actor
from auth.tv_boards import TvBoard, board_paths, create_tv_board, list_tv_boards, revoke_tv_board
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from components.local_time import local_when
from components.one_time_secret import one_time_secret
from components.setup_form import field_messages
from components.shell import confirm_first_alert
from data.models import User
from data.runtime import current_runtime
from data.setup_polis import list_polis
from data.staff_assignments import polis_of, set_staff_polis, set_staff_wards, wards_of
from data.wards import list_wards
from domain.errors import FieldErrors, InputError
from i18n.web import t
from pages.admin_users import Ids

PAGE = "pages.admin_users"


def _status(user: User) -> dbc.Badge:
    if not user.active:
        return dbc.Badge(t("users_status_disabled"), color="secondary")
    return dbc.Badge(t("users_status_active"), color="success")


def _mfa_status(user: User) -> dbc.Badge | str:
    """Whether the account signs in with a TOTP code (a TV's account never does)."""
    if user.role_names == {"display"}:
        return ""
    if mfa.mfa_enabled(user):
        return dbc.Badge(t("mfa_users_on"), color="success")
    return dbc.Badge(t("mfa_users_off"), color="secondary")


def _one_time_password(message: str, password: str) -> dbc.Alert:
    return one_time_secret(message, password, t("users_password_once"))


@page_callback(
    PAGE,
    Output(Ids.USERS_TABLE, "children"),
    Output(Ids.EDIT_USER, "options"),
    Output(Ids.EDIT_WARDS, "options"),
    Output(Ids.EDIT_POLIS, "options"),
    Output(Ids.TV_BOARD, "options"),
    Output(Ids.TV_TABLE, "children"),
    Output(Ids.TV_PICK, "options"),
    Input(Ids.USERS_VERSION, "data"),
)
def render_users(_version: int) -> tuple:
    with current_runtime().db.session() as db:
        rows = users.list_users(db, current_user.site_id)
        ward_options = [
            {"label": f"{w.code} — {w.name}", "value": w.id} for w in list_wards(db, current_user.site_id) if w.active
        ]
        poli_options = [
            {"label": f"{p.code} — {p.name}", "value": p.id} for p in list_polis(db, current_user.site_id) if p.active
        ]
        boards = board_paths(db, current_user.site_id)
        tvs = list_tv_boards(db, current_user.site_id)
        body = [
            html.Tr(
                [
                    html.Td(u.username),
                    html.Td(u.full_name),
                    html.Td(", ".join(t(f"role_{r}") for r in sorted(u.role_names))),
                    html.Td(_status(u)),
                    html.Td(_mfa_status(u)),
                    html.Td(local_when(u.last_login_at)),
                ]
            )
            for u in rows
        ]
        options = [{"label": f"{u.username} — {u.full_name}", "value": u.id} for u in rows]
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(k))
                for k in (
                    "users_username",
                    "users_full_name",
                    "users_roles",
                    "users_status",
                    "mfa_users_column",
                    "users_last_login",
                )
            ]
        )
    )
    table = dbc.Table(
        [head, html.Tbody(body)], hover=True, responsive=True, className="admin-users-table mb-0", id="admin-users-grid"
    )
    tv_pick = [{"label": f"{b.label} — {b.board_path or '/'}", "value": b.token_id} for b in tvs if b.active]
    return table, options, ward_options, poli_options, boards, _tv_table(tvs), tv_pick


def _tv_table(boards: list[TvBoard]) -> dbc.Table | None:
    if not boards:
        return None
    head = html.Thead(html.Tr([html.Th(t(k)) for k in ("tv_label", "tv_board", "users_status", "tv_last_used")]))
    body = [
        html.Tr(
            [
                html.Td(b.label),
                html.Td(html.Code(b.board_path or "/")),
                html.Td(
                    dbc.Badge(t("users_status_active"), color="success")
                    if b.active
                    else dbc.Badge(t("tv_revoked"), color="secondary")
                ),
                html.Td(local_when(b.last_used_at)),
            ]
        )
        for b in boards
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", responsive=True, id="admin-tv-grid", className="mb-2")


_UNMARKED = {Ids.NEW_ROLES, Ids.EDIT_ROLES, Ids.EDIT_ACTIVE}  # a checklist or a switch has no invalid mark


def _field_outputs(exc: InputError | None, fields: dict[str, str] = Ids.NEW_FIELDS) -> list:
    """Each field's message beside it, then whether each input is marked wrong, from ``FieldErrors`` (``fields``:
    the form's field names and their controls)."""
    wrong, messages = field_messages(list(fields), exc)
    return messages + [bad for bad, control in zip(wrong, fields.values(), strict=True) if control not in _UNMARKED]


@page_callback(
    PAGE,
    Output(Ids.NEW_FEEDBACK, "children"),
    *[Output(Ids.error_of(control), "children") for control in Ids.NEW_FIELDS.values()],
    *[Output(control, "invalid") for control in Ids.NEW_FIELDS.values() if control not in _UNMARKED],
    Output(Ids.USERS_VERSION, "data", allow_duplicate=True),
    Output(Ids.NEW_USERNAME, "value"),
    Output(Ids.NEW_FULLNAME, "value"),
    Output(Ids.NEW_PASSWORD, "value"),
    Output(Ids.NEW_ROLES, "value"),
    Input(Ids.NEW_SUBMIT, "n_clicks"),
    State(Ids.NEW_USERNAME, "value"),
    State(Ids.NEW_FULLNAME, "value"),
    State(Ids.NEW_ROLES, "value"),
    State(Ids.NEW_PASSWORD, "value"),
    State(Ids.USERS_VERSION, "data"),
    prevent_initial_call=True,
)
def create_user(
    _clicks: int,
    username: str | None,
    full_name: str | None,
    roles: list[str] | None,
    password: str | None,
    version: int,
) -> tuple:
    """A new account; every refused field says why beside it at once, and what was typed stays."""
    keep_typed = (no_update,) * 5
    if confirm_needed():
        return confirm_first_alert(), *_field_outputs(None), *keep_typed
    chosen = password or generate_password()
    try:
        with current_runtime().db.session() as db:
            user = users.create_user(
                db,
                current_actor(),
                site_id=current_user.site_id,
                username=username or "",
                full_name=full_name or "",
                roles=roles or [],
                password=chosen,
            )
            name = user.username
    except FieldErrors as exc:
        return None, *_field_outputs(exc), *keep_typed
    except InputError as exc:
        return input_error_alert(exc), *_field_outputs(None), *keep_typed
    message = t("users_created", username=name)
    feedback = (
        dbc.Alert(message, color="success", className="mb-0") if password else _one_time_password(message, chosen)
    )
    return feedback, *_field_outputs(None), version + 1, "", "", "", []


@page_callback(
    PAGE,
    Output(Ids.EDIT_ROLES, "value"),
    Output(Ids.EDIT_ACTIVE, "value"),
    Output(Ids.EDIT_WARDS, "value"),
    Output(Ids.EDIT_POLIS, "value"),
    Output(Ids.EDIT_FEEDBACK, "children"),
    *[Output(Ids.error_of(control), "children", allow_duplicate=True) for control in Ids.EDIT_FIELDS.values()],
    Input(Ids.EDIT_USER, "value"),
    prevent_initial_call=True,
)
def load_user(user_id: int | None) -> tuple:
    """The chosen user's roles, status and places, without the previous user's messages."""
    cleared = _field_outputs(None, Ids.EDIT_FIELDS)
    if user_id is None:
        return [], True, [], [], None, *cleared
    with current_runtime().db.session() as db:
        user = users.site_user(db, current_user.site_id, user_id)
        if user is None:
            return [], True, [], [], dbc.Alert(t("users_not_found"), color="danger", className="mb-0"), *cleared
        wards = [w.id for w in wards_of(db, user.id)]
        polis = [p.id for p in polis_of(db, user.id)]
        return sorted(user.role_names), user.active, wards, polis, None, *cleared


@page_callback(
    PAGE,
    Output(Ids.EDIT_FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.USERS_VERSION, "data", allow_duplicate=True),
    *[Output(Ids.error_of(control), "children") for control in Ids.EDIT_FIELDS.values()],
    Input(Ids.EDIT_SAVE, "n_clicks"),
    Input(Ids.EDIT_RESET, "n_clicks"),
    State(Ids.EDIT_USER, "value"),
    State(Ids.EDIT_ROLES, "value"),
    State(Ids.EDIT_ACTIVE, "value"),
    State(Ids.EDIT_WARDS, "value"),
    State(Ids.EDIT_POLIS, "value"),
    State(Ids.USERS_VERSION, "data"),
    prevent_initial_call=True,
)
def change_user(
    _save: int,
    _reset: int,
    user_id: int | None,
    roles: list[str] | None,
    active: bool,
    ward_ids: list[int] | None,
    poli_ids: list[int] | None,
    version: int,
) -> tuple:
    """Save the chosen user's roles, status and places, or reset her password; each refused field says why beside
    it, all at once."""
    cleared = _field_outputs(None, Ids.EDIT_FIELDS)
    if user_id is None:
        return dbc.Alert(t("users_select_first"), color="warning", className="mb-0"), no_update, *cleared
    if confirm_needed():
        return confirm_first_alert(), no_update, *cleared
    new_password = generate_password()
    try:
        with current_runtime().db.session() as db:
            user = users.site_user(db, current_user.site_id, user_id)
            if user is None:
                return dbc.Alert(t("users_not_found"), color="danger", className="mb-0"), no_update, *cleared
            if ctx.triggered_id == Ids.EDIT_RESET:
                users.reset_password(db, current_actor(), user, new_password)
            else:
                users.change_account(db, current_actor(), user, roles=roles or [], active=active)
                set_staff_wards(db, current_actor(), user.id, ward_ids or [])
                set_staff_polis(db, current_actor(), user.id, poli_ids or [])
            name = user.username
    except FieldErrors as exc:
        return (
            dbc.Alert(t("users_not_saved"), color="danger", className="mb-0"),
            no_update,
            *_field_outputs(exc, Ids.EDIT_FIELDS),
        )
    except InputError as exc:
        return input_error_alert(exc), no_update, *cleared
    if ctx.triggered_id == Ids.EDIT_RESET:
        return _one_time_password(t("users_password_reset", username=name), new_password), version + 1, *cleared
    return dbc.Alert(t("users_saved", username=name), color="success", className="mb-0"), version + 1, *cleared


@page_callback(
    PAGE,
    Output(Ids.EDIT_FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.USERS_VERSION, "data", allow_duplicate=True),
    Input(Ids.EDIT_MFA_RESET, "n_clicks"),
    State(Ids.EDIT_USER, "value"),
    State(Ids.USERS_VERSION, "data"),
    prevent_initial_call=True,
)
def reset_user_mfa(_clicks: int, user_id: int | None, version: int) -> tuple:
    """Clear a user's authenticator and recovery codes (a lost phone) and end their sessions."""
    if user_id is None:
        return dbc.Alert(t("users_select_first"), color="warning", className="mb-0"), no_update
    if confirm_needed():
        return confirm_first_alert(), no_update
    with current_runtime().db.session() as db:
        user = users.site_user(db, current_user.site_id, user_id)
        if user is None:
            return dbc.Alert(t("users_not_found"), color="danger", className="mb-0"), no_update
        name = user.username
        if not mfa.mfa_enabled(user) and user.totp_secret_enc is None:
            return dbc.Alert(t("mfa_reset_none", username=name), color="info", className="mb-0"), no_update
        mfa.reset_mfa(db, current_actor(), user)
    return dbc.Alert(t("mfa_reset_done", username=name), color="success", className="mb-0"), version + 1


@page_callback(
    PAGE,
    Output(Ids.TV_FEEDBACK, "children"),
    *[Output(Ids.error_of(control), "children") for control in Ids.TV_FIELDS.values()],
    *[Output(control, "invalid") for control in Ids.TV_FIELDS.values()],
    Output(Ids.USERS_VERSION, "data", allow_duplicate=True),
    Output(Ids.TV_LABEL, "value"),
    Input(Ids.TV_CREATE, "n_clicks"),
    State(Ids.TV_BOARD, "value"),
    State(Ids.TV_LABEL, "value"),
    State(Ids.USERS_VERSION, "data"),
    prevent_initial_call=True,
)
def create_tv(_clicks: int, board: str | None, label: str | None, version: int) -> tuple:
    """A new TV for one screen: its address with the token is shown once, to open on the TV. Each wrong field
    says why beside it, and the name typed stays."""
    if confirm_needed():
        return confirm_first_alert(), *_field_outputs(None, Ids.TV_FIELDS), no_update, no_update
    try:
        with current_runtime().db.session() as db:
            _user, token = create_tv_board(db, current_actor(), board or "", label or "")
    except FieldErrors as exc:
        return None, *_field_outputs(exc, Ids.TV_FIELDS), no_update, no_update
    except InputError as exc:
        return input_error_alert(exc), *_field_outputs(None, Ids.TV_FIELDS), no_update, no_update
    address = public_url_for("auth.display_sign_in", token=token)
    shown = one_time_secret(t("tv_created", board=board), address, t("tv_address_once"), element_id="admin-tv-address")
    return shown, *_field_outputs(None, Ids.TV_FIELDS), version + 1, ""


@page_callback(
    PAGE,
    Output(Ids.TV_REVOKE_FEEDBACK, "children"),
    Output(Ids.USERS_VERSION, "data", allow_duplicate=True),
    Input(Ids.TV_REVOKE, "n_clicks"),
    State(Ids.TV_PICK, "value"),
    State(Ids.USERS_VERSION, "data"),
    prevent_initial_call=True,
)
def revoke_tv(_clicks: int, token_id: int | None, version: int) -> tuple:
    """Revoke a TV: its account is disabled, so its screen signs out at once."""
    if token_id is None:
        return dbc.Alert(t("tv_pick_first"), color="warning", className="mb-0"), no_update
    if confirm_needed():
        return confirm_first_alert(), no_update
    try:
        with current_runtime().db.session() as db:
            user = revoke_tv_board(db, current_actor(), int(token_id))
            name = user.full_name
    except InputError as exc:
        return input_error_alert(exc), no_update
    return dbc.Alert(t("tv_revoked_done", label=name), color="success", className="mb-0"), version + 1
