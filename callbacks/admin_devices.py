"""Admin monitor management: every action goes through ``data.device_credentials`` and lands in the audit log."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update
from flask_login import current_user

from auth.reauth import confirm_needed
from auth.session import current_actor
from callbacks.bed_changes import tell_live_side
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from components.live_note import with_live_note
from components.local_time import local_when
from components.one_time_secret import one_time_secret
from components.shell import confirm_first_alert
from data import device_credentials, wards
from data.admissions import monitor_bed
from data.broker_admin import BrokerAdmin, open_broker_admin
from data.runtime import current_runtime
from domain.errors import InputError
from i18n.web import t
from pages.admin_devices import Ids

PAGE = "pages.admin_devices"
# The register form's field each refusal belongs to; its message is shown there, the rest above the form.
FIELD_OF_ERROR = {
    "devices_error_id": "id",
    "devices_error_reserved": "id",
    "devices_error_exists": "id",
    "devices_error_model": "model",
}
REGISTER_FIELDS = ("id", "model")
_STATE_COLOURS = {"active": "success", "none": "secondary", "retired": "dark"}


def _broker() -> BrokerAdmin:
    runtime = current_runtime()
    return open_broker_admin(runtime.settings, runtime.broker)


def _site() -> dict:
    return {"site_id": current_user.site_id, "site_code": current_runtime().settings.site_code}


def _issued(credential: device_credentials.IssuedCredential) -> dbc.Alert:
    message = t("devices_issued", device_id=credential.device_id)
    return one_time_secret(message, credential.password, t("devices_password_once"), element_id="devices-password")


@page_callback(
    PAGE,
    Output(Ids.TABLE, "children"),
    Output(Ids.PICK, "options"),
    Output(Ids.new_field("bed"), "options"),
    Output(Ids.BROKER_NOTE, "children"),
    Input(Ids.VERSION, "data"),
)
def render_devices(_version: int) -> tuple:
    with current_runtime().db.session() as db:
        rows = device_credentials.list_devices(db, current_user.site_id)
        beds = [
            {"label": f"{bed.code} — {ward.name}", "value": bed.code}
            for ward in wards.list_wards(db, current_user.site_id)
            for bed in ward.beds
            if bed.active
        ]
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(k))
                for k in (
                    "devices_col_device",
                    "devices_col_model",
                    "devices_col_bed",
                    "devices_col_state",
                    "devices_col_issued",
                )
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(v.device_id, className="text-nowrap"),
                html.Td(v.model or "—"),
                html.Td(v.bed or "—", className="text-nowrap"),
                html.Td(dbc.Badge(t(f"devices_state_{v.state}"), color=_STATE_COLOURS[v.state])),
                html.Td(local_when(v.issued_at)),
            ]
        )
        for v in rows
    ]
    table = (
        dbc.Table([head, html.Tbody(body)], hover=True, responsive=True, className="mb-0", id="devices-grid")
        if rows
        else html.P(t("devices_empty"), className="text-body-secondary m-3")
    )
    options = [{"label": v.device_id, "value": v.device_id} for v in rows if v.state != "retired"]
    enforced = _broker().enabled
    note = dbc.Alert(
        t("devices_broker_enforced" if enforced else "devices_broker_open"),
        color="info" if enforced else "warning",
        className="mb-3",
        id="devices-broker-mode",
    )
    return table, options, beds, note


@page_callback(
    PAGE,
    Output(Ids.NEW_FEEDBACK, "children"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.new_field("id"), "value"),
    Output(Ids.new_field("model"), "value"),
    Output(Ids.new_field("bed"), "value"),
    *[Output(Ids.new_field(field), "invalid") for field in REGISTER_FIELDS],
    *[Output(Ids.new_field_error(field), "children") for field in REGISTER_FIELDS],
    Input(Ids.NEW_SUBMIT, "n_clicks"),
    State(Ids.new_field("id"), "value"),
    State(Ids.new_field("model"), "value"),
    State(Ids.new_field("bed"), "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def register(_clicks: int, device_id: str | None, model: str | None, bed: str | None, version: int) -> tuple:
    if confirm_needed():  # keep what was typed
        return confirm_first_alert(), *[no_update] * (4 + 2 * len(REGISTER_FIELDS))
    try:
        with current_runtime().db.session() as db:
            issued = device_credentials.register_device(
                db, current_actor(), _broker(), **_site(), device_id=device_id or "", model=model or "", bed_code=bed
            )
            served = monitor_bed(db, current_user.site_id, issued.device_id)
    except InputError as exc:
        field = FIELD_OF_ERROR.get(exc.key)
        marks = [f == field for f in REGISTER_FIELDS]
        messages = [t(exc.key, **exc.params) if f == field else "" for f in REGISTER_FIELDS]
        alert = None if field else input_error_alert(exc)
        return alert, no_update, no_update, no_update, no_update, *marks, *messages  # keep what was typed
    told = tell_live_side([served] if served else [])
    return with_live_note(_issued(issued), told), version + 1, "", "", None, False, False, "", ""


@page_callback(
    PAGE,
    Output(Ids.RETIRE_CONFIRM, "displayed"),
    Output(Ids.RETIRE_CONFIRM, "message"),
    Output(Ids.MANAGE_FEEDBACK, "children"),
    Input(Ids.RETIRE, "n_clicks"),
    State(Ids.PICK, "value"),
    prevent_initial_call=True,
)
def ask_retire(_clicks: int, device_id: str | None) -> tuple:
    if not device_id:
        return False, no_update, dbc.Alert(t("devices_select_first"), color="warning", className="mb-0")
    with current_runtime().db.session() as db:
        watching = monitor_bed(db, current_user.site_id, device_id, with_patient=True)
    if watching is not None:  # the admin is told a patient loses her monitor before she confirms
        return True, t("devices_retire_confirm_patient", device_id=device_id, bed=watching.code), None
    return True, t("devices_retire_confirm", device_id=device_id), None


@page_callback(
    PAGE,
    Output(Ids.MANAGE_FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.PICK, "value"),
    Input(Ids.ROTATE, "n_clicks"),
    Input(Ids.RETIRE_CONFIRM, "submit_n_clicks"),
    State(Ids.PICK, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def change(_rotate: int, _retire: int, device_id: str | None, version: int) -> tuple:
    if not device_id:
        return dbc.Alert(t("devices_select_first"), color="warning", className="mb-0"), no_update, no_update
    if confirm_needed():
        return confirm_first_alert(), no_update, no_update
    try:
        with current_runtime().db.session() as db:
            if ctx.triggered_id == Ids.ROTATE:
                issued = device_credentials.rotate_credential(
                    db, current_actor(), _broker(), **_site(), device_id=device_id
                )
            else:
                served = monitor_bed(db, current_user.site_id, device_id)
                device_credentials.retire_device(
                    db, current_actor(), _broker(), site_id=current_user.site_id, device_id=device_id
                )
                issued = None
    except InputError as exc:
        return input_error_alert(exc), no_update, no_update
    if issued is not None:
        return _issued(issued), version + 1, no_update
    retired = dbc.Alert(t("devices_retired", device_id=device_id), color="success", className="mb-0")
    return with_live_note(retired, tell_live_side([served] if served else [])), version + 1, None
