"""Queue settings: running text and poli age ranges (admins only, checked here as well as disabled in the page),
closing and reopening a poli for today, today's sessions. Every change to a board tells the boards to redraw."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update
from flask_login import current_user

from auth.session import audit_signed_in, current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_text
from components.queue_line import session_hours
from data.poli_settings import poli_age_ranges, set_age_range
from data.queue_tickets import QueueEvent, publish
from data.queue_views import set_running_text
from data.runtime import current_runtime
from data.schedules import SessionInfo, close_poli, local_today, reopen_poli, today_sessions
from domain.age_range import AgeRange, years_bound
from domain.clock import utcnow
from domain.errors import InputError
from i18n.web import t
from pages.admin_queue import ADMIN_ROLES, Ids, age_table, age_text

PAGE = "pages.admin_queue"
EVERY_BOARD = (QueueEvent("change", "*"),)


def _alert(text: str, colour: str, alert_id: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="mb-0 py-2", id=alert_id)


@page_callback(
    PAGE,
    Output(Ids.RUNNING_FEEDBACK, "children"),
    Input(Ids.RUNNING_SAVE, "n_clicks"),
    State(Ids.RUNNING_TEXT, "value"),
    prevent_initial_call=True,
)
def save_running_text(_clicks: int, text: str | None) -> dbc.Alert:
    if not current_user.roles & ADMIN_ROLES:
        return _alert(t("qadmin_running_admin_only"), "danger", "qadmin-running-message")
    with current_runtime().db.session() as session:
        set_running_text(session, current_user.site_id, current_user.id, text or "")
        audit_signed_in(session, "board_running_text_set", detail={"characters": len((text or "").strip())})
    publish(current_runtime().live, current_user.site_id, EVERY_BOARD)
    return _alert(t("qadmin_running_saved"), "success", "qadmin-running-message")


@page_callback(
    PAGE,
    Output(Ids.CLOSE_FEEDBACK, "children"),
    Output(Ids.VERSION, "data"),
    Input(Ids.CLOSE, "n_clicks"),
    Input(Ids.REOPEN, "n_clicks"),
    State(Ids.POLI, "value"),
    State(Ids.REASON, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def close_or_reopen(_close: int, _reopen: int, poli: str | None, reason: str | None, version: int) -> tuple:
    """Close every session of the poli today (new registrations are refused with the reason), or undo it."""
    closing = ctx.triggered_id == Ids.CLOSE
    try:
        with current_runtime().db.session() as session:
            sessions = today_sessions(session, current_user.site_id)
            names = {str(s.poli_id): s.poli_name for s in sessions}
            if poli not in names:
                raise InputError("qadmin_err_poli")
            day = local_today(session, current_user.site_id, utcnow())
            if closing:
                changed = close_poli(session, current_actor(), int(poli), day, reason or "")
            else:
                changed = reopen_poli(session, current_actor(), int(poli), day)
    except InputError as err:
        return _alert(input_error_text(err), "danger", "qadmin-close-message"), no_update
    if not changed:
        key = "qadmin_already_closed" if closing else "qadmin_not_closed"
        return _alert(t(key, poli=names[poli]), "warning", "qadmin-close-message"), (version or 0) + 1
    publish(current_runtime().live, current_user.site_id, EVERY_BOARD)
    key = "qadmin_closed" if closing else "qadmin_reopened"
    return _alert(t(key, poli=names[poli], sessions=changed), "success", "qadmin-close-message"), (version or 0) + 1


def _status(info: SessionInfo) -> dbc.Badge:
    if info.closed_reason:
        return dbc.Badge(t("qadmin_status_closed", reason=info.closed_reason), color="danger")
    if info.over:
        return dbc.Badge(t("qadmin_status_over"), color="secondary")
    return dbc.Badge(t("qadmin_status_open"), color="success")


@page_callback(PAGE, Output(Ids.SESSIONS, "children"), Input(Ids.VERSION, "data"))
def render_sessions(_version: int) -> html.Div | dbc.Table:
    with current_runtime().db.session() as session:
        sessions = today_sessions(session, current_user.site_id)
    if not sessions:
        return html.Div(t("qadmin_no_sessions"), className="text-body-secondary p-3", id="qadmin-sessions-table")
    keys = ("qadmin_col_poli", "qadmin_col_doctor", "qadmin_col_hours", "qadmin_col_jkn", "qadmin_col_non_jkn")
    head = html.Thead(html.Tr([html.Th(t(k)) for k in (*keys, "qadmin_col_status")]))
    rows = [
        html.Tr(
            [
                html.Td(s.poli_name),
                html.Td(s.doctor_name),
                html.Td(session_hours(s), className="font-monospace text-nowrap"),
                html.Td(f"{s.booked_jkn}/{s.quota_jkn}", className="font-monospace"),
                html.Td(f"{s.booked_non_jkn}/{s.quota_non_jkn}", className="font-monospace"),
                html.Td(_status(s)),
            ]
        )
        for s in sessions
    ]
    return dbc.Table(
        [head, html.Tbody(rows)], hover=True, responsive=True, size="sm", className="mb-0", id="qadmin-sessions-table"
    )


@page_callback(
    PAGE,
    Output(Ids.age_field("min"), "value"),
    Output(Ids.age_field("max"), "value"),
    Input(Ids.AGE_POLI, "value"),
    prevent_initial_call=True,
)
def show_age_range(poli: str | None) -> tuple:
    """The chosen poli's range as it is now, to edit."""
    with current_runtime().db.session() as session:
        chosen = next((p for p in poli_age_ranges(session, current_user.site_id) if str(p.id) == poli), None)
    if chosen is None:
        return "", ""
    return (*(("" if v is None else str(v)) for v in (chosen.min_years, chosen.max_years)),)


@page_callback(
    PAGE,
    Output(Ids.AGE_FEEDBACK, "children"),
    Output(Ids.age_field_error("min"), "children"),
    Output(Ids.age_field_error("max"), "children"),
    Output(Ids.age_field("min"), "invalid"),
    Output(Ids.age_field("max"), "invalid"),
    Output(Ids.AGES, "children"),
    Output(Ids.age_field("min"), "value", allow_duplicate=True),
    Output(Ids.age_field("max"), "value", allow_duplicate=True),
    Input(Ids.AGE_SAVE, "n_clicks"),
    State(Ids.AGE_POLI, "value"),
    State(Ids.age_field("min"), "value"),
    State(Ids.age_field("max"), "value"),
    prevent_initial_call=True,
)
def save_age_range(_clicks: int, poli: str | None, low: str | None, high: str | None) -> tuple:
    """Check each bound next to its field (whole years 0–150, min ≤ max), then store the range and show it as
    stored."""
    kept = (no_update,) * 3  # the table and what was typed
    if not current_user.roles & ADMIN_ROLES:
        return _alert(t("qadmin_age_admin_only"), "danger", "qadmin-age-message"), None, None, False, False, *kept
    errors: dict[str, InputError] = {}
    bounds: dict[str, int | None] = {}
    for name, text in (("min", low), ("max", high)):
        try:
            bounds[name] = years_bound(text)
        except InputError as err:
            errors[name] = err
    try:
        if errors:
            raise InputError("qadmin_age_fix")
        ages = AgeRange(bounds["min"], bounds["max"])
        if not (poli or "").isdigit():
            raise InputError("qadmin_age_poli_required")
        with current_runtime().db.session() as session:
            saved = set_age_range(session, current_actor(), int(poli), ages)
            polis = poli_age_ranges(session, current_user.site_id)
    except InputError as err:
        if err.key == "err_age_order":
            errors["max"] = err
        shown = {k: input_error_text(e) for k, e in errors.items()}
        problem = input_error_text(InputError("qadmin_age_fix")) if errors else input_error_text(err)
        return (
            _alert(problem, "danger", "qadmin-age-message"),
            shown.get("min"),
            shown.get("max"),
            "min" in shown,
            "max" in shown,
            *kept,
        )
    done = t("qadmin_age_saved", poli=saved.name, ages=age_text(saved.min_years, saved.max_years))
    stored = ("" if v is None else str(v) for v in (saved.min_years, saved.max_years))
    return _alert(done, "success", "qadmin-age-message"), None, None, False, False, age_table(polis), *stored
