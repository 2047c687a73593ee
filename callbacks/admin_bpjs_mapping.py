"""BPJS mapping page: on-demand pulls (asked of the BPJS worker, polled until it answers), one save per row
(audited), and today's schedule compared with BPJS's jadwal.

The page never calls BPJS itself: the worker owns the BPJS connection, so a slow or dead BPJS cannot hold a web
request; the page sets a request row and polls it every ``POLL_MS`` for up to ``WAIT_LIMIT``."""

from __future__ import annotations

from datetime import datetime, timedelta

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.hidden_label import hidden_label
from data.bpjs_reference import (
    BPJS_LIBUR,
    DIFFERENT,
    MISMATCHES,
    MISSING_IN_BPJS,
    MISSING_IN_PANTAU,
    SAME,
    UNCHECKED,
    Mapping,
    PullState,
    RefOption,
    ScheduleCheck,
    compare_schedule,
    doctor_mappings,
    doctor_options,
    map_doctor,
    map_poli,
    poli_mappings,
    poli_options,
    pull_state,
    request_pull,
)
from data.runtime import current_runtime
from data.schedules import local_today, site_zone
from domain.clock import utcnow
from domain.errors import InputError
from domain.formats import local_datetime, long_date
from i18n.web import current_language, t
from pages.admin_bpjs_mapping import Ids

PAGE = "pages.admin_bpjs_mapping"
WAIT_LIMIT = timedelta(seconds=60)  # after this, the worker is probably not running: say so and stop polling
MAPPERS = {"poli": map_poli, "doctor": map_doctor}
# Each kind's mapping-row id types: the code select, its status cell, its save button.
ROW_IDS = {
    "poli": {"code": Ids.POLI_CODE, "status": Ids.POLI_STATUS, "save": Ids.POLI_SAVE},
    "doctor": {"code": Ids.DOCTOR_CODE, "status": Ids.DOCTOR_STATUS, "save": Ids.DOCTOR_SAVE},
}
MAPPING_STATE_COLOURS = {"mapped": "success", "unmapped": "secondary", "gone": "danger", "unknown": "warning"}
SCHEDULE_COLOURS = {
    SAME: "success",
    DIFFERENT: "warning",
    BPJS_LIBUR: "warning",
    MISSING_IN_BPJS: "danger",
    MISSING_IN_PANTAU: "danger",
}  # the rest (not mapped, not pulled): secondary


def _when(moment: datetime, zone: str) -> str:
    return local_datetime(moment, zone, current_language())


def _status(state: PullState, zone: str, now: datetime) -> object:
    if state.pending:
        if now - state.requested_at < WAIT_LIMIT:
            return html.Span(
                [dbc.Spinner(size="sm", spinner_class_name="me-2"), t("bref_pull_waiting")], id="bref-pull-message"
            )
        message = t("bref_pull_stuck", time=_when(state.requested_at, zone))
        return dbc.Alert(message, color="warning", className="mb-0 py-2", id="bref-pull-message")
    last = t("bref_last_pulled", time=_when(state.succeeded_at, zone)) if state.succeeded_at else t("bref_never_pulled")
    if state.ok is False:
        failed = t("bref_last_failed", time=_when(state.attempted_at, zone), message=state.message)
        return dbc.Alert(
            [html.Div(last), html.Div(failed)], color="warning", className="mb-0 py-2", id="bref-pull-message"
        )
    return html.Span(last, id="bref-pull-message", className="text-body-secondary")


@page_callback(
    PAGE,
    Output(Ids.PULL_STATUS, "children"),
    Output(Ids.POLL, "disabled"),
    Output(Ids.PULL, "disabled"),
    Output(Ids.REF_VERSION, "data"),
    Input(Ids.PULL, "n_clicks"),
    Input(Ids.POLL, "n_intervals"),
    State(Ids.REF_VERSION, "data"),
)
def pull_status(_clicks: int | None, _ticks: int | None, version: int) -> tuple:
    """Ask the worker for a pull (button), then follow the request until it is done or clearly stuck."""
    now = utcnow()
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        if ctx.triggered_id == Ids.PULL:
            request_pull(session, current_actor(), now)
        state = pull_state(session, site_id)
        zone = site_zone(session, site_id).key
    waiting = state.pending and now - state.requested_at < WAIT_LIMIT
    if ctx.triggered_id is None:  # first draw: the tables wait for this output, so give it
        redraw = version or 0
    else:
        redraw = (version or 0) + 1 if ctx.triggered_id == Ids.POLL and not state.pending else no_update
    return _status(state, zone, now), not waiting, waiting, redraw


def _badge(text: str, colour: str) -> dbc.Badge:
    return dbc.Badge(text, color=colour, text_color="dark" if colour == "warning" else None)


def _state_badge(row: Mapping) -> dbc.Badge:
    return _badge(t(f"bref_state_{row.state}", code=row.bpjs_code or ""), MAPPING_STATE_COLOURS[row.state])


def _choices(row: Mapping, options: list[RefOption]) -> list[dict]:
    choices = [{"label": t("bref_choose"), "value": ""}] + [{"label": o.label, "value": o.code} for o in options]
    if row.bpjs_code and row.bpjs_code not in {o.code for o in options}:  # keep showing what is stored
        choices.append(
            {"label": f"{row.bpjs_code} ({t(f'bref_state_{row.state}', code=row.bpjs_code)})", "value": row.bpjs_code}
        )
    return choices


def _mapping_table(kind: str, rows: list[Mapping], options: list[RefOption]) -> dbc.Card:
    head = html.Thead(html.Tr([html.Th(t(f"bref_col_pantau_{kind}")), html.Th(t(f"bref_col_bpjs_{kind}")), html.Th()]))
    ids = ROW_IDS[kind]
    body = [
        html.Tr(
            [
                html.Td([html.Div(row.name), html.Small(row.detail, className="text-body-secondary")]),
                html.Td(
                    [
                        hidden_label(f"{t(f'bref_col_bpjs_{kind}')}: {row.name}", {"type": ids["code"], "id": row.id}),
                        dbc.Select(
                            id={"type": ids["code"], "id": row.id},
                            options=_choices(row, options),
                            value=row.bpjs_code or "",
                            size="sm",
                        ),
                        html.Div(_state_badge(row), id={"type": ids["status"], "id": row.id}, className="mt-1"),
                    ]
                ),
                html.Td(
                    dbc.Button(t("bref_save"), id={"type": ids["save"], "id": row.id}, size="sm", color="primary"),
                    className="text-end",
                ),
            ]
        )
        for row in rows
    ]
    return dbc.Card(
        [
            dbc.CardHeader(t(f"bref_{kind}_title")),
            dbc.Table([head, html.Tbody(body)], size="sm", className="mb-0 align-middle", id=f"bref-{kind}-table"),
        ],
        className="mb-3",
    )


@page_callback(PAGE, Output(Ids.MAPPING, "children"), Input(Ids.REF_VERSION, "data"))
def render_mapping(_version: int) -> object:
    """Both mapping tables, or a clear message when no reference data has been pulled yet."""
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        polis, poli_choices = poli_mappings(session, site_id), poli_options(session, site_id)
        doctors, doctor_choices = doctor_mappings(session, site_id), doctor_options(session, site_id)
    if not poli_choices and not doctor_choices:
        return dbc.Alert(t("bref_empty"), color="info", id="bref-empty")
    return dbc.Row(
        [
            dbc.Col(_mapping_table("poli", polis, poli_choices), xl=5),
            dbc.Col(_mapping_table("doctor", doctors, doctor_choices), xl=7),
        ]
    )


@page_callback(
    PAGE,
    Output({"type": Ids.POLI_STATUS, "id": ALL}, "children"),
    Output({"type": Ids.DOCTOR_STATUS, "id": ALL}, "children"),
    Output(Ids.MAP_VERSION, "data"),
    Input({"type": Ids.POLI_SAVE, "id": ALL}, "n_clicks"),
    Input({"type": Ids.DOCTOR_SAVE, "id": ALL}, "n_clicks"),
    State({"type": Ids.POLI_CODE, "id": ALL}, "value"),
    State({"type": Ids.DOCTOR_CODE, "id": ALL}, "value"),
    State(Ids.MAP_VERSION, "data"),
    prevent_initial_call=True,
)
def save_mapping(poli_clicks: list, doctor_clicks: list, poli_codes: list, doctor_codes: list, version: int) -> tuple:
    """Save the one row whose button was pressed; its status cell says what happened."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict):
        raise PreventUpdate  # not a plain no_update: the wildcard outputs would need one list each
    kind = "poli" if trigger["type"] == Ids.POLI_SAVE else "doctor"
    clicks, codes = (poli_clicks, poli_codes) if kind == "poli" else (doctor_clicks, doctor_codes)
    ids = [item["id"]["id"] for item in ctx.inputs_list[0 if kind == "poli" else 1]]
    index = ids.index(trigger["id"])
    if not clicks[index]:  # the table was redrawn, nothing was pressed
        raise PreventUpdate
    statuses = [no_update] * len(ids)
    try:
        with current_runtime().db.session() as session:
            changed = MAPPERS[kind](session, current_actor(), trigger["id"], codes[index])
    except InputError as err:
        statuses[index] = dbc.Badge(t(err.key, **err.params), color="danger", className="text-wrap text-start")
        changed = False
    else:
        key = "bref_unchanged" if not changed else "bref_saved" if codes[index] else "bref_cleared"
        statuses[index] = _badge(t(key), "success" if changed else "secondary")
    other = [no_update] * len(ctx.inputs_list[1 if kind == "poli" else 0])
    poli_out, doctor_out = (statuses, other) if kind == "poli" else (other, statuses)
    return poli_out, doctor_out, (version or 0) + 1 if changed else no_update


def _hours(hours: tuple[str, ...]) -> str:
    return ", ".join(hours) or "—"


_MONO = "font-monospace text-nowrap"


def _pantau_hours(check: ScheduleCheck) -> list[object]:
    """The plan's hours, then those of sessions kept off the plan for their bookings, marked as such."""
    planned = [] if check.off_plan and not check.pantau else [html.Div(_hours(check.pantau), className=_MONO)]
    note = t("bref_off_plan_hours")
    kept = [
        html.Div(
            [html.Span(hours, className=_MONO), html.Span(note, className="small ms-1")],
            className="text-body-secondary",
        )
        for hours in check.off_plan
    ]
    return planned + kept


def _check_row(check: ScheduleCheck) -> html.Tr:
    badge = _badge(t(f"bref_status_{check.status}"), SCHEDULE_COLOURS.get(check.status, "secondary"))
    return html.Tr(
        [
            html.Td(check.poli),
            html.Td(check.doctor),
            html.Td(_pantau_hours(check)),
            html.Td(_hours(check.bpjs), className=_MONO),
            html.Td(badge, **{"data-status": check.status}),
        ]
    )


@page_callback(
    PAGE,
    Output(Ids.COMPARE, "children"),
    Input(Ids.REF_VERSION, "data"),
    Input(Ids.MAP_VERSION, "data"),
)
def render_comparison(_ref_version: int, _map_version: int) -> dbc.Card:
    """Today's sessions in Pantau next to BPJS's jadwal: what Mobile JKN patients can book."""
    now = utcnow()
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        day = local_today(session, site_id, now)
        checks = compare_schedule(session, site_id, day, now)
    title = t("bref_compare_title", date=long_date(day, current_language()))
    if not checks:
        body: object = html.Div(t("bref_compare_empty"), className="p-3 text-body-secondary")
    else:
        differ = sum(c.status in MISMATCHES for c in checks)
        unchecked = sum(c.status in UNCHECKED for c in checks)
        summary = t("bref_compare_summary", differ=differ, total=len(checks))
        if unchecked:
            summary += " " + t("bref_compare_unchecked", n=unchecked)
        columns = (
            "bref_col_poli",
            "bref_col_doctor",
            "bref_col_pantau_hours",
            "bref_col_bpjs_hours",
            "bref_col_status",
        )
        body = html.Div(
            [
                html.Div(
                    summary,
                    className="px-3 pt-2 " + ("text-warning" if differ or unchecked else "text-success"),
                    id="bref-compare-summary",
                ),
                dbc.Table(
                    [
                        html.Thead(html.Tr([html.Th(t(c)) for c in columns])),
                        html.Tbody([_check_row(c) for c in checks]),
                    ],
                    size="sm",
                    hover=True,
                    responsive=True,
                    className="mb-0",
                    id="bref-compare-table",
                ),
            ]
        )
    return dbc.Card(
        [
            dbc.CardHeader(title),
            dbc.CardBody(html.Small(t("bref_compare_hint"), className="text-body-secondary")),
            body,
        ],
        className="mb-3",
    )
