"""Monthly targets page (``/keuangan/target``): the chosen year's grid, and saving it — every cell checked first,
a wrong one marked beside itself with what was typed kept, nothing saved until all are right."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from data.finance_targets import save_year, year_targets
from data.runtime import current_runtime
from domain.errors import FieldErrors, InputError
from domain.finance import TARGET_METRICS
from domain.formats import thousands
from i18n.web import current_language, money, t
from pages.finance_targets import Ids

PAGE = "pages.finance_targets"
CELLS = {"type": Ids.CELL, "month": ALL, "metric": ALL}
CELL_ERRORS = {"type": Ids.CELL_ERROR, "month": ALL, "metric": ALL}
TOTALS = {"type": Ids.TOTAL, "metric": ALL}


def _year(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _totals(amounts: dict[tuple[int, str], int]) -> list[str]:
    return [money(sum(v for (_m, metric), v in amounts.items() if metric == m)) for m in TARGET_METRICS]


@page_callback(
    PAGE,
    Output(CELLS, "value"),
    Output(CELLS, "invalid"),
    Output(CELL_ERRORS, "children"),
    Output(TOTALS, "children"),
    Output(Ids.FEEDBACK, "children"),
    Input(Ids.YEAR, "value"),
)
def load(year: str | None) -> tuple:
    with current_runtime().db.session() as db:
        amounts = {(c.month.month, c.metric): c.amount for c in year_targets(db, current_user.site_id, _year(year))}
    cells, lang = ctx.outputs_list[0], current_language()
    values = [
        thousands(amounts[key], lang) if (key := (c["id"]["month"], c["id"]["metric"])) in amounts else ""
        for c in cells
    ]
    return values, [False] * len(cells), [""] * len(cells), _totals(amounts), None


@page_callback(
    PAGE,
    Output(CELLS, "invalid", allow_duplicate=True),
    Output(CELL_ERRORS, "children", allow_duplicate=True),
    Output(TOTALS, "children", allow_duplicate=True),
    Output(Ids.FEEDBACK, "children", allow_duplicate=True),
    Input(Ids.SAVE, "n_clicks"),
    State(Ids.YEAR, "value"),
    State(CELLS, "value"),
    running=[(Output(Ids.SAVE, "disabled"), True, False)],
    prevent_initial_call=True,
)
def save(_clicks: int, year: str | None, typed: list) -> tuple:
    cells = [(c["id"]["month"], c["id"]["metric"]) for c in ctx.states_list[1]]
    form = dict(zip(cells, typed, strict=True))
    keep_totals = [no_update] * len(TARGET_METRICS)
    try:
        with current_runtime().db.session() as db:
            changed = save_year(db, current_actor(), current_user.site_id, _year(year), form)
            amounts = {(c.month.month, c.metric): c.amount for c in year_targets(db, current_user.site_id, _year(year))}
    except FieldErrors as exc:
        wrong = [exc.errors.get(f"{m}:{metric}") for m, metric in cells]
        messages = [t(e.key, **e.params) if e else "" for e in wrong]
        alert = dbc.Alert(t("tgt_fix"), color="warning", className="mb-0", id="tgt-error")
        return [e is not None for e in wrong], messages, keep_totals, alert
    except InputError as exc:
        return [False] * len(cells), [""] * len(cells), keep_totals, input_error_alert(exc)
    if not changed:
        done = dbc.Alert(t("tgt_nothing"), color="info", className="mb-0", id="tgt-saved")
    else:
        done = dbc.Alert(t("tgt_saved", n=changed), color="success", className="mb-0", id="tgt-saved")
    return [False] * len(cells), [""] * len(cells), _totals(amounts), done
