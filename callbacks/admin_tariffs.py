"""Tariff master page (``/admin/tarif``): the filtered list, the form (add or edit; wrong fields marked beside
themselves, what was typed kept) and ending a tariff, through ``data.tariffs``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dash_bootstrap_components as dbc
from dash import Input, Output, State, no_update
from dash.development.base_component import Component
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from components.setup_form import field_messages, rows_table
from components.typed_date import typed_date_or_none
from data import tariffs
from data.runtime import current_runtime
from data.schedules import local_today
from domain.errors import FieldErrors, InputError
from domain.formats import day_first, thousands
from domain.tariff_rules import FIELDS
from i18n.web import current_language, money, t
from pages.admin_tariffs import EVERY, Ids

PAGE = "pages.admin_tariffs"
IDS = Ids.FORM
LOCKED = ("code", "care_class", "payer")  # a saved row keeps them: a new combination is a new tariff


def _state(row: tariffs.TariffRow, today: date) -> str:
    if row.valid_from > today:
        return t("tar_state_future")
    return t("tar_state_in_force") if row.active else t("tar_state_ended")


def _table(rows: Sequence[tariffs.TariffRow], today: date) -> Component:
    return rows_table(
        "tariff-grid",
        [t("tar_code"), t("tar_name"), t("tar_unit"), t("tar_class"), t("tar_payer"), t("tar_amount"),
         t("tar_validity"), t("tar_state")],
        [
            (
                r.code,
                r.name,
                t(f"fin_unit_{r.unit}"),
                r.care_class or t("tar_class_all"),
                t(f"fin_payer_{r.payer}") if r.payer else t("tar_payer_all"),
                money(r.amount),
                f"{r.valid_from:%d/%m/%Y} – " + (f"{r.valid_until:%d/%m/%Y}" if r.valid_until else "…"),
                _state(r, today),
            )
            for r in rows
        ],
        [not r.active for r in rows],
    )  # fmt: skip


def _who(row: tariffs.TariffRow) -> str:
    """The class and payer a row prices, in words."""
    payer = t(f"fin_payer_{row.payer}") if row.payer else t("tar_payer_all")
    return f"{row.care_class or t('tar_class_all')}, {payer}"


def _listing(unit: str | None, at: str | None) -> tuple[Component, list[dict]]:
    with current_runtime().db.session() as db:
        today = local_today(db, current_user.site_id)
        unit = None if unit in (None, "", EVERY) else unit
        rows = tariffs.tariff_list(db, current_user.site_id, at=typed_date_or_none(at), unit=unit, today=today)
    options = [
        {"label": f"{r.code} · {r.name} · {_who(r)} · {r.valid_from:%d/%m/%Y}", "value": r.id} for r in rows if r.active
    ]
    return _table(rows, today), options


def _unmarked() -> list:
    return [False] * len(FIELDS) + [""] * len(FIELDS)


@page_callback(
    PAGE,
    Output(IDS.table, "children"),
    Output(IDS.pick, "options"),
    Input(Ids.REFRESH, "data"),
    Input(Ids.FILTER_UNIT, "value"),
    Input(Ids.FILTER_AT, "value"),
)
def render(_refresh: int | None, unit: str | None, at: str | None) -> tuple:
    return _listing(unit, at)


def _values(row: tariffs.TariffRow | None) -> list[str]:
    if row is None:
        return [EVERY if f in ("care_class", "payer") else "" for f in FIELDS]
    shown = {
        "code": row.code,
        "name": row.name,
        "unit": row.unit,
        "care_class": row.care_class or EVERY,
        "payer": row.payer or EVERY,
        "amount": thousands(row.amount, current_language()),
        "valid_from": day_first(row.valid_from),
        "valid_until": day_first(row.valid_until) if row.valid_until else "",
    }
    return [shown[f] for f in FIELDS]


@page_callback(
    PAGE,
    *[Output(IDS.field(f), "value") for f in FIELDS],
    *[Output(IDS.field(f), "disabled") for f in LOCKED],
    *[Output(IDS.field(f), "invalid") for f in FIELDS],
    *[Output(IDS.error(f), "children") for f in FIELDS],
    Output(Ids.END, "disabled"),
    Input(IDS.pick, "value"),
)
def open_row(row_id: int | None) -> tuple:
    row = None
    if row_id is not None:
        with current_runtime().db.session() as db:
            row = next((r for r in tariffs.tariff_list(db, current_user.site_id) if r.id == row_id), None)
    editing = row is not None
    return (*_values(row), *[editing] * len(LOCKED), *_unmarked(), not editing)


def _refusal(exc: InputError) -> dbc.Alert:
    if isinstance(exc, FieldErrors) and set(exc.errors) <= set(FIELDS):
        return dbc.Alert(t("tar_fix_fields"), color="warning", className="mb-0", id="tariff-error")
    alert = input_error_alert(exc)
    alert.id = "tariff-error"
    return alert


@page_callback(
    PAGE,
    Output(IDS.feedback, "children"),
    *[Output(IDS.field(f), "invalid", allow_duplicate=True) for f in FIELDS],
    *[Output(IDS.error(f), "children", allow_duplicate=True) for f in FIELDS],
    Output(IDS.table, "children", allow_duplicate=True),
    Output(IDS.pick, "options", allow_duplicate=True),
    Output(IDS.pick, "value", allow_duplicate=True),
    Input(IDS.save, "n_clicks"),
    State(IDS.pick, "value"),
    State(Ids.FILTER_UNIT, "value"),
    State(Ids.FILTER_AT, "value"),
    *[State(IDS.field(f), "value") for f in FIELDS],
    running=[(Output(IDS.save, "disabled"), True, False)],
    prevent_initial_call=True,
)
def save(_clicks: int, row_id: int | None, unit: str | None, at: str | None, *typed: str | None) -> tuple:
    form = {f: "" if value == EVERY else value for f, value in zip(FIELDS, typed, strict=True)}
    try:
        with current_runtime().db.session() as db:
            if row_id is None:
                row = tariffs.create_tariff(db, current_actor(), form)
            else:
                row = tariffs.update_tariff(db, current_actor(), row_id, form)
            db.flush()
            saved_id = row.id
    except InputError as exc:  # keep what was typed; mark the wrong fields
        marks, messages = field_messages(FIELDS, exc)
        return _refusal(exc), *marks, *messages, no_update, no_update, no_update
    done = dbc.Alert(t("tar_saved"), color="success", className="mb-0", id="tariff-saved")
    # the listing and the options come with the saved row's id, so the picker opens it
    table, options = _listing(unit, at)
    if all(option["value"] != saved_id for option in options):
        options = [*options, {"label": form["code"].upper(), "value": saved_id}]
    return done, *_unmarked(), table, options, saved_id


@page_callback(
    PAGE,
    Output(Ids.END_CONFIRM, "displayed"),
    Input(Ids.END, "n_clicks"),
    State(IDS.pick, "value"),
    prevent_initial_call=True,
)
def ask_end(_clicks: int, row_id: int | None) -> bool:
    return row_id is not None


@page_callback(
    PAGE,
    Output(IDS.feedback, "children", allow_duplicate=True),
    Output(Ids.REFRESH, "data", allow_duplicate=True),
    Output(IDS.pick, "value", allow_duplicate=True),
    Input(Ids.END_CONFIRM, "submit_n_clicks"),
    State(IDS.pick, "value"),
    State(Ids.REFRESH, "data"),
    prevent_initial_call=True,
)
def end(_clicks: int, row_id: int | None, refresh: int | None) -> tuple:
    if row_id is None:
        return no_update, no_update, no_update
    try:
        with current_runtime().db.session() as db:
            tariffs.end_today(db, current_actor(), row_id, local_today(db, current_user.site_id))
    except InputError as exc:  # ended already, or it priced a line today
        alert = input_error_alert(exc)
        alert.id = "tariff-error"
        return alert, no_update, no_update
    done = dbc.Alert(t("tar_ended"), color="success", className="mb-0", id="tariff-saved")
    return done, (refresh or 0) + 1, None
