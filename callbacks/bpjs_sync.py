"""BPJS sync status: refresh the figures and failures (every 10 s; the timer is not user activity), retry a
refused call (admins and managers only, checked here as well as hidden in the page), and a day's completeness."""

from __future__ import annotations

import logging
from datetime import date

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, ctx, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.bpjs_sync import (
    RETRY_ID,
    booking_text,
    completeness_figure,
    completeness_table,
    failures_table,
    kind_text,
    stall_alert,
    status_cards,
)
from components.chart_theme import chart_theme
from components.shell import THEME_STORE
from data.bpjs_outbox import task_completeness
from data.bpjs_status import retry_failure, sync_status
from data.runtime import current_runtime
from data.schedules import site_zone
from domain.clock import utcnow
from i18n.web import t
from pages.bpjs_sync import RETRY_ROLES, Ids

PAGE = "pages.bpjs_sync"
log = logging.getLogger(__name__)


@page_callback(
    PAGE,
    Output(Ids.CARDS, "children"),
    Output(Ids.FAILURES, "children"),
    Output(Ids.STALL, "children"),
    Input(Ids.INTERVAL, "n_intervals"),
    Input(Ids.VERSION, "data"),
)
def refresh(_ticks: int | None, _version: int) -> tuple:
    now = utcnow()
    with current_runtime().db.session() as session:
        status = sync_status(session, current_user.site_id, now)
        zone = site_zone(session, current_user.site_id).key
    can_retry = bool(current_user.roles & RETRY_ROLES)
    return (
        status_cards(status, now, zone),
        failures_table(status.failures, zone, can_retry),
        stall_alert(status, now, zone),
    )


def _alert(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="py-2", id="bsync-feedback-message", dismissable=True)


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    Output(Ids.VERSION, "data"),
    Input({"type": RETRY_ID, "id": ALL}, "n_clicks"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def retry(_clicks: list[int | None], version: int) -> tuple:
    """Put the clicked failed call back in line; the worker sends it (and the booking's later calls) next."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0].get("value"):
        return no_update, no_update  # the table was redrawn: new buttons, nothing clicked
    if not current_user.roles & RETRY_ROLES:
        log.warning("BPJS retry refused", extra={"user": current_user.username})
        return _alert(t("bsync_retry_refused"), "danger"), no_update
    with current_runtime().db.session() as session:
        retried = retry_failure(session, current_actor(), int(trigger["id"]), utcnow())
    if retried is None:
        return _alert(t("bsync_retry_gone"), "warning"), (version or 0) + 1
    kind = kind_text(retried.kind, retried.task)
    return _alert(t("bsync_retried", booking=booking_text(retried.booking_code), kind=kind), "success"), (
        version or 0
    ) + 1


@page_callback(
    PAGE,
    Output(Ids.COMPLETENESS, "children"),
    Output(Ids.COMPLETENESS_CHART, "figure"),
    Input(Ids.DAY, "date"),
    Input(Ids.INTERVAL, "n_intervals"),
    Input(THEME_STORE, "data"),
)
def completeness(day: str | None, _ticks: int | None, theme: str | None) -> tuple:
    try:
        chosen = date.fromisoformat((day or "")[:10])
    except ValueError:
        return dbc.Alert(t("bsync_pick_day"), color="secondary", id="bsync-completeness-table"), go.Figure()
    with current_runtime().db.session() as session:
        rows = task_completeness(session, current_user.site_id, chosen)
    return completeness_table(rows), completeness_figure(rows, chart_theme(theme))
