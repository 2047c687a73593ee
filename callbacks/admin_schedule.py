"""Admin schedule: the plan's form and table, and the year's holidays; every change goes through
``data.doctor_schedules`` / ``data.holidays`` and lands in the audit log."""

from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert, input_error_text
from components.typed_date import read_typed_date
from data import doctor_schedules, holidays
from data.doctor_schedules import AffectedBooking, PlanRow
from data.runtime import current_runtime
from domain.errors import FieldErrors, InputError
from domain.formats import clock, clock_range, day_first, long_date, weekday_name
from i18n.web import current_language, t
from pages.admin_schedule import ERROR_FIELD, FIELDS, Ids

PAGE = "pages.admin_schedule"
FIELD_INPUTS = [Ids.field(name) for name in FIELDS]


def _plan_table(rows: list[PlanRow]) -> html.Div:
    if not rows:
        return html.P(t("schedule_plan_empty"), className="text-body-secondary mb-0")
    lang = current_language()
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(k) if k else "")
                for k in (
                    "schedule_col_doctor",
                    "schedule_col_poli",
                    "schedule_col_day",
                    "schedule_col_hours",
                    "schedule_col_quota",
                    "schedule_col_valid",
                    "",
                )
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(r.doctor_name),
                html.Td(r.poli_name),
                html.Td(weekday_name(r.weekday, lang)),
                html.Td(clock_range(r.start, r.end, lang), className="text-nowrap"),
                html.Td(t("schedule_quotas", jkn=r.quota_jkn, non_jkn=r.quota_non_jkn)),
                html.Td(_validity(r)),
                html.Td(
                    dbc.ButtonGroup(
                        [
                            dbc.Button(
                                t("schedule_edit"),
                                id={"type": Ids.EDIT, "plan": r.id},
                                size="sm",
                                color="primary",
                                outline=True,
                            ),
                            dbc.Button(
                                t("schedule_retire"),
                                id={"type": Ids.RETIRE, "plan": r.id},
                                size="sm",
                                color="danger",
                                outline=True,
                            ),
                        ]
                    )
                ),
            ],
            **{"data-plan": str(r.id)},
        )
        for r in rows
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True, id="admin-schedule-grid")


def _validity(row: PlanRow) -> str:
    lang = current_language()
    if row.valid_from is None and row.valid_until is None:
        return t("schedule_valid_always")
    first = long_date(row.valid_from, lang) if row.valid_from else "…"
    last = long_date(row.valid_until, lang) if row.valid_until else "…"
    return f"{first} – {last}"


@page_callback(
    PAGE,
    Output(Ids.TABLE, "children"),
    Output(Ids.PLAN_VERSIONS, "data"),
    Input(Ids.VERSION, "data"),
    Input(Ids.FILTER_POLI, "value"),
)
def render_plan(_version: int, poli_id: str | None) -> tuple:
    with current_runtime().db.session() as session:
        rows = doctor_schedules.list_plan(session, current_user.site_id, poli_id=int(poli_id) if poli_id else None)
    return _plan_table(rows), {str(r.id): r.version for r in rows}


def _affected(affected: list[AffectedBooking]) -> html.Div:
    lang = current_language()
    items = [
        html.Li(
            f"{b.booking_code} · {long_date(b.service_date, lang)} · {b.patient} · {t(f'schedule_payer_{b.payer}')}"
        )
        for b in affected
    ]
    return html.Div([html.P(t("schedule_bookings_kept", n=len(affected)), className="mb-1"), html.Ul(items)])


def _saved(message: str, affected: list[AffectedBooking]) -> dbc.Alert:
    body = [html.P(message, className="mb-1")]
    if affected:
        body.append(_affected(affected))
    return dbc.Alert(body, color="warning" if affected else "success", className="mb-0", id="admin-schedule-saved")


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.EDITING, "data", allow_duplicate=True),
    Output(Ids.FORM_TITLE, "children", allow_duplicate=True),
    *[Output(Ids.field(name), "invalid") for name in FIELDS],
    *[Output(Ids.field_error(name), "children") for name in FIELDS],
    Input(Ids.SAVE, "n_clicks"),
    *[State(field, "value") for field in FIELD_INPUTS],
    State(Ids.OPEN_ON_HOLIDAYS, "value"),
    State(Ids.EDITING, "data"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def save(_clicks: int, *args: object) -> tuple:
    *field_values, open_on_holidays, editing, version = args
    values = dict(zip(FIELDS, field_values, strict=True)) | {"open_on_holidays": bool(open_on_holidays)}
    try:
        with current_runtime().db.session() as session:
            if editing:
                change = doctor_schedules.update_session(
                    session, current_actor(), int(editing["id"]), values, editing["version"]
                )
                affected = change.affected
            else:
                doctor_schedules.create_session(session, current_actor(), values)
                affected = []
    except FieldErrors as exc:
        errors = {ERROR_FIELD.get(field, field): error for field, error in exc.errors.items()}
        marks = [name in errors for name in FIELDS]
        messages = [input_error_text(errors[name]) if name in errors else "" for name in FIELDS]
        return None, no_update, no_update, no_update, *marks, *messages  # what was typed stays
    except InputError as exc:
        return input_error_alert(exc), no_update, no_update, no_update, *[False] * len(FIELDS), *[""] * len(FIELDS)
    message = t("schedule_updated" if editing else "schedule_created")
    cleared = (*[False] * len(FIELDS), *[""] * len(FIELDS))
    # the form stays filled, for a similar session, as a new one
    return _saved(message, affected), version + 1, None, t("schedule_form_new"), *cleared


@page_callback(
    PAGE,
    Output(Ids.EDITING, "data"),
    Output(Ids.FORM_TITLE, "children"),
    *[Output(field, "value") for field in FIELD_INPUTS],
    Output(Ids.OPEN_ON_HOLIDAYS, "value"),
    Input({"type": Ids.EDIT, "plan": ALL}, "n_clicks"),
    Input(Ids.NEW, "n_clicks"),
    prevent_initial_call=True,
)
def fill_form(_edits: list, _new: int | None) -> tuple:
    trigger = ctx.triggered_id
    unchanged = (no_update,) * (len(FIELDS) + 1)
    if trigger == Ids.NEW:
        return None, t("schedule_form_new"), *unchanged
    if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
        return no_update, no_update, *unchanged
    with current_runtime().db.session() as session:
        rows = doctor_schedules.list_plan(session, current_user.site_id)
    row = next((r for r in rows if r.id == trigger["plan"]), None)
    if row is None:
        return no_update, no_update, *unchanged
    values = (
        str(row.doctor_id),
        str(row.poli_id),
        str(row.weekday),
        clock(row.start, current_language()),
        clock(row.end, current_language()),
        str(row.quota_jkn),
        str(row.quota_non_jkn),
        "" if row.capacity is None else str(row.capacity),
        day_first(row.valid_from) if row.valid_from else "",
        day_first(row.valid_until) if row.valid_until else "",
    )
    title = t("schedule_form_edit", doctor=row.doctor_name)
    return {"id": row.id, "version": row.version}, title, *values, row.open_on_holidays


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.RETIRE, "plan": ALL}, "n_clicks"),
    State(Ids.PLAN_VERSIONS, "data"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def retire(_clicks: list, versions: dict, version: int) -> tuple:
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
        return no_update, no_update
    try:
        with current_runtime().db.session() as session:
            change = doctor_schedules.retire_session(
                session, current_actor(), int(trigger["plan"]), versions.get(str(trigger["plan"]))
            )
    except InputError as exc:
        return input_error_alert(exc), no_update
    return _saved(t("schedule_retired"), change.affected), version + 1


# --- holidays ----------------------------------------------------------------------------------------------------


def _holiday_table(found: dict[date, holidays.Holiday]) -> html.Div:
    lang = current_language()
    rows = []
    for day, holiday in found.items():
        if holiday.kind == holidays.NATIONAL:
            action = dbc.Button(
                t("holiday_keep_open"),
                id={"type": Ids.KEEP_OPEN, "day": day.isoformat()},
                size="sm",
                color="success",
                outline=True,
            )
        else:
            action = dbc.Button(
                t("holiday_remove"),
                id={"type": Ids.REMOVE, "day": day.isoformat()},
                size="sm",
                color="secondary",
                outline=True,
            )
        rows.append(
            html.Tr(
                [
                    html.Td(long_date(day, lang), className="text-nowrap"),
                    html.Td(holiday.name),
                    html.Td(
                        dbc.Badge(t(f"holiday_kind_{holiday.kind}"), color="danger" if holiday.closes else "success")
                    ),
                    html.Td(action),
                ],
                **{"data-day": day.isoformat()},
            )
        )
    head = html.Thead(
        html.Tr([html.Th(t(k) if k else "") for k in ("holiday_day", "holiday_name", "holiday_kind", "")])
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id="admin-holiday-grid")


@page_callback(
    PAGE,
    Output(Ids.HOLIDAY_TABLE, "children"),
    Input(Ids.HOLIDAY_YEAR, "value"),
    Input(Ids.HOLIDAY_VERSION, "data"),
)
def render_holidays(year: str | None, _version: int) -> html.Div:
    if not year:
        return html.Div()
    with current_runtime().db.session() as session:
        found = holidays.holidays_between(session, current_user.site_id, date(int(year), 1, 1), date(int(year), 12, 31))
    return _holiday_table(found)


@page_callback(
    PAGE,
    Output(Ids.HOLIDAY_FEEDBACK, "children"),
    Output(Ids.HOLIDAY_VERSION, "data", allow_duplicate=True),
    Input(Ids.HOLIDAY_ADD, "n_clicks"),
    Input({"type": Ids.KEEP_OPEN, "day": ALL}, "n_clicks"),
    Input({"type": Ids.REMOVE, "day": ALL}, "n_clicks"),
    State(Ids.HOLIDAY_DAY, "value"),
    State(Ids.HOLIDAY_NAME, "value"),
    State(Ids.HOLIDAY_VERSION, "data"),
    prevent_initial_call=True,
)
def change_holiday(_add: int, _open: list, _remove: list, day: str | None, name: str | None, version: int) -> tuple:
    trigger = ctx.triggered_id
    if trigger != Ids.HOLIDAY_ADD and (not isinstance(trigger, dict) or not ctx.triggered[0]["value"]):
        return no_update, no_update
    try:
        with current_runtime().db.session() as session:
            actor = current_actor()
            if trigger == Ids.HOLIDAY_ADD:
                chosen = read_typed_date(day, "typed_date_invalid")
                if chosen is None:
                    raise InputError("typed_date_invalid")
                holidays.set_site_holiday(session, actor, chosen, holidays.COLLECTIVE, name or "")
            elif trigger["type"] == Ids.KEEP_OPEN:
                holidays.set_site_holiday(session, actor, date.fromisoformat(trigger["day"]), holidays.KEEP_OPEN)
            else:
                holidays.remove_site_holiday(session, actor, date.fromisoformat(trigger["day"]))
    except (InputError, ValueError) as exc:
        error = exc if isinstance(exc, InputError) else InputError("err_holiday_day")
        return input_error_alert(error), no_update
    return dbc.Alert(t("holiday_saved"), color="success", className="mb-0"), version + 1
