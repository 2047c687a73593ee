"""Doctor punctuality report: the month's figures from ``data.schedule_punctuality``."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, html
from flask_login import current_user

from callbacks.registry import page_callback
from components.input_error import input_error_text
from data.runtime import current_runtime
from data.schedule_punctuality import month_punctuality
from data.schedules import local_today
from domain.errors import InputError
from domain.punctuality import Deviation
from i18n.web import current_language, t
from pages.doctor_punctuality import Ids

PAGE = "pages.doctor_punctuality"


def _minutes(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:.1f}"
    return text.replace(".", ",") if current_language() == "id" else text


def _cells(d: Deviation) -> list[html.Td]:
    return [html.Td(d.count), html.Td(_minutes(d.mean)), html.Td(_minutes(d.median))]


@page_callback(
    PAGE,
    Output(Ids.MONTH, "value"),
    Input(Ids.MONTH, "id"),
)
def default_month(_id: str) -> str:
    with current_runtime().db.session() as db:
        return f"{local_today(db, current_user.site_id):%Y-%m}"


@page_callback(
    PAGE,
    Output(Ids.TABLE, "children"),
    Output(Ids.MONTH_ERROR, "children"),
    Input(Ids.MONTH, "value"),
    prevent_initial_call=True,
)
def render(month: str | None) -> tuple:
    try:
        with current_runtime().db.session() as db:
            rows = month_punctuality(db, current_user.site_id, month or "")
    except InputError as exc:
        return None, input_error_text(exc)
    if not rows:
        return dbc.Alert(t("punct_none"), color="info", id="punct-none"), ""
    heads = ["punct_col_doctor", "punct_col_sessions", "punct_col_late", "punct_col_mean", "punct_col_median"]
    heads += ["punct_col_finished", "punct_col_early", "punct_col_mean", "punct_col_median"]
    body = [
        html.Tr(
            [html.Td(r.doctor), html.Td(r.sessions), *_cells(r.late), html.Td(r.finished), *_cells(r.early)],
            **{"data-doctor": str(r.doctor_id)},
        )
        for r in rows
    ]
    table = dbc.Table(
        [html.Thead(html.Tr([html.Th(t(k)) for k in heads])), html.Tbody(body)],
        hover=True,
        responsive=True,
        size="sm",
        id="punct-grid",
    )
    return table, ""
