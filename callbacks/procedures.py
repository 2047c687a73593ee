"""Procedures page (``/tindakan``): find a visit or stay, list its procedure lines, charge one (once per form
token) and cancel one with a reason, through ``data.procedures``."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.development.base_component import Component
from flask_login import current_user
from sqlalchemy.orm import Session

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from data import procedures
from data.runtime import current_runtime
from data.schedules import local_today
from domain.errors import FieldErrors, InputError
from i18n.web import money, t
from pages.procedures import NO_DOCTOR, Ids, new_token

PAGE = "pages.procedures"
FIELDS = {"code": Ids.CODE, "quantity": Ids.QUANTITY, "doctor": Ids.DOCTOR}


def _alert(key: str, color: str, element_id: str) -> dbc.Alert:
    return dbc.Alert(t(key), color=color, className="mb-0", id=element_id)


def _result_link(found: procedures.Episode) -> html.Li:
    query = f"admission={found.admission_id}" if found.admission_id else f"visit={found.visit_id}"
    kind = t("proc_episode_stay") if found.admission_id else t("proc_episode_visit")
    return html.Li(html.A(f"{found.name} · {found.mrn} · {kind} · {found.place}", href=f"/tindakan?{query}"))


@page_callback(
    PAGE,
    Output(Ids.RESULTS, "children"),
    Input(Ids.SEARCH_GO, "n_clicks"),
    Input(Ids.SEARCH, "n_submit"),
    State(Ids.SEARCH, "value"),
    prevent_initial_call=True,
)
def search(_clicks: int | None, _submit: int | None, query: str | None) -> Component:
    with current_runtime().db.session() as db:
        found = procedures.find_episodes(db, current_actor(), query or "", local_today(db, current_user.site_id))
    if not found:
        return html.P(t("proc_search_none"), className="text-body-secondary mb-0", id="proc-search-none")
    return html.Ul([_result_link(e) for e in found], className="mb-0", id="proc-search-found")


def _lines_table(lines: Sequence[procedures.ProcedureLine]) -> Component:
    if not lines:
        return html.P(t("proc_lines_empty"), className="text-body-secondary m-3", id="proc-lines-empty")
    head = [t(k) for k in ("proc_col_date", "proc_col_service", "proc_col_qty", "proc_col_price", "proc_col_amount",
                           "proc_col_doctor", "proc_col_state")]  # fmt: skip
    rows = []
    for line in lines:
        if line.reversed:
            state = dbc.Badge(t("proc_cancelled"), color="secondary")
        else:
            state = dbc.Button(
                t("proc_cancel"), id={"type": Ids.CANCEL, "line": line.id}, size="sm", color="danger", outline=True
            )
        price = money(line.unit_price) if line.priced else t("proc_unpriced")
        rows.append(
            html.Tr(
                [
                    html.Td(f"{line.service_date:%d-%m-%Y}"),
                    html.Td(line.description),
                    html.Td(line.quantity),
                    html.Td(price),
                    html.Td(money(line.amount)),
                    html.Td(line.doctor or "—"),
                    html.Td(state),
                ],
                className="text-body-secondary text-decoration-line-through" if line.reversed else None,
            )
        )
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        size="sm",
        hover=True,
        responsive=True,
        className="mb-0",
        id="proc-lines-table",
    )


def _episode(db: Session, data: dict) -> procedures.Episode:
    return procedures.episode(db, current_user.site_id, visit_id=data.get("visit"), admission_id=data.get("admission"))


@page_callback(PAGE, Output(Ids.LINES, "children"), Input(Ids.REFRESH, "data"), State(Ids.EPISODE, "data"))
def render_lines(_refresh: int | None, data: dict | None) -> Component:
    if not data:
        return no_update
    with current_runtime().db.session() as db:
        lines = procedures.procedure_lines(db, current_user.site_id, _episode(db, data))
    return _lines_table(lines)


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    Output(Ids.REFRESH, "data", allow_duplicate=True),
    Output(Ids.FORM_KEY, "data"),
    Output(Ids.CODE, "value"),
    Output(Ids.QUANTITY, "value"),
    *[Output(i, "invalid") for i in FIELDS.values()],
    *[Output(Ids.error(i), "children") for i in FIELDS.values()],
    Input(Ids.CHARGE, "n_clicks"),
    State(Ids.EPISODE, "data"),
    State(Ids.FORM_KEY, "data"),
    State(Ids.CODE, "value"),
    State(Ids.QUANTITY, "value"),
    State(Ids.DOCTOR, "value"),
    State(Ids.REFRESH, "data"),
    running=[(Output(Ids.CHARGE, "disabled"), True, False)],
    prevent_initial_call=True,
)
def charge(_clicks: int, data: dict, token: str, code: str | None, quantity: str | None, doctor: str | None,
           refresh: int | None) -> tuple:  # fmt: skip
    clean = [False] * len(FIELDS) + [""] * len(FIELDS)
    data = data or {}  # no episode: ``episode`` refuses with its message
    try:
        with current_runtime().db.session() as db:
            new = procedures.charge_procedure(
                db,
                current_actor(),
                token=token,
                code=code,
                quantity=quantity,
                doctor_id=None if doctor == NO_DOCTOR else doctor,
                day=local_today(db, current_user.site_id),
                visit_id=data.get("visit"),
                admission_id=data.get("admission"),
            )
    except InputError as exc:  # keep what was typed; mark the wrong fields
        errors = exc.errors if isinstance(exc, FieldErrors) else {}
        marks = [f in errors for f in FIELDS]
        messages = [t(errors[f].key, **errors[f].params) if f in errors else "" for f in FIELDS]
        alert = _alert("proc_fix_fields", "warning", "proc-error") if errors else input_error_alert(exc)
        return alert, no_update, no_update, no_update, no_update, *marks, *messages
    if not new:
        return _alert("proc_already", "info", "proc-already"), no_update, no_update, no_update, no_update, *clean
    done = _alert("proc_charged", "success", "proc-charged")
    return done, (refresh or 0) + 1, new_token(), None, "1", *clean


@page_callback(
    PAGE,
    Output(Ids.CANCEL_MODAL, "is_open"),
    Output(Ids.CANCEL_LINE, "data"),
    Output(Ids.CANCEL_WHAT, "children"),
    Output(Ids.CANCEL_REASON, "value"),
    Output(Ids.CANCEL_REASON, "invalid"),
    Input({"type": Ids.CANCEL, "line": ALL}, "n_clicks"),
    Input(Ids.CANCEL_CLOSE, "n_clicks"),
    State(Ids.EPISODE, "data"),
    prevent_initial_call=True,
)
def ask_cancel(clicks: list, _close: int | None, data: dict) -> tuple:
    trigger = ctx.triggered_id
    if trigger == Ids.CANCEL_CLOSE:
        return False, None, no_update, no_update, no_update
    if not isinstance(trigger, dict) or not any(clicks):
        return no_update, no_update, no_update, no_update, no_update  # the table was redrawn, nothing clicked
    with current_runtime().db.session() as db:
        lines = procedures.procedure_lines(db, current_user.site_id, _episode(db, data))
    line = next((x for x in lines if x.id == trigger["line"]), None)
    if line is None:
        return no_update, no_update, no_update, no_update, no_update
    what = t("proc_cancel_what", service=line.description, date=f"{line.service_date:%d-%m-%Y}")
    return True, line.id, what, "", False


@page_callback(
    PAGE,
    Output(Ids.CANCEL_MODAL, "is_open", allow_duplicate=True),
    Output(Ids.CANCEL_REASON, "invalid", allow_duplicate=True),
    Output(Ids.error(Ids.CANCEL_REASON), "children"),
    Output(Ids.FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.REFRESH, "data", allow_duplicate=True),
    Input(Ids.CANCEL_GO, "n_clicks"),
    State(Ids.CANCEL_LINE, "data"),
    State(Ids.CANCEL_REASON, "value"),
    State(Ids.REFRESH, "data"),
    running=[(Output(Ids.CANCEL_GO, "disabled"), True, False)],
    prevent_initial_call=True,
)
def cancel(_clicks: int, line_id: int | None, reason: str | None, refresh: int | None) -> tuple:
    if line_id is None:
        return False, no_update, no_update, no_update, no_update
    try:
        with current_runtime().db.session() as db:
            procedures.reverse_procedure(db, current_actor(), line_id, reason)
    except FieldErrors as exc:  # no reason, or too long: say so beside the field, keep the dialog open
        error = exc.errors["reason"]
        return no_update, True, t(error.key, **error.params), no_update, no_update
    except InputError as exc:  # already cancelled (another screen), or not a procedure
        alert = input_error_alert(exc)
        alert.id = "proc-error"
        return False, False, "", alert, (refresh or 0) + 1
    return False, False, "", _alert("proc_cancel_done", "success", "proc-cancelled"), (refresh or 0) + 1
