"""Admin counters: every change goes through ``data.service_counters`` (audited, row versions checked)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert, input_error_text
from data import service_counters
from data.queue_views import point_names
from data.runtime import current_runtime
from domain.errors import FieldErrors, InputError
from i18n.web import t
from pages.admin_counters import FIELDS, NEW, Ids

PAGE = "pages.admin_counters"
KEEP_TYPED = (no_update,) * len(FIELDS)


@page_callback(
    PAGE,
    Output(Ids.TABLE, "children"),
    Output(Ids.PICK, "options"),
    Output(Ids.field("point"), "options"),
    Input(Ids.VERSION, "data"),
)
def render_counters(_version: int) -> tuple:
    with current_runtime().db.session() as db:
        rows = service_counters.list_counters(db, current_user.site_id)
        names = point_names(db, current_user.site_id)
    head = html.Thead(
        html.Tr([*(html.Th(t(k)) for k in ("counters_code", "counters_name", "counters_point")), html.Th()])
    )
    body = [
        html.Tr(
            [
                html.Td(r.code),
                html.Td(r.name),
                html.Td(names.get(r.point, r.point)),
                html.Td(None if r.active else dbc.Badge(t("counters_retired"), color="secondary")),
            ]
        )
        for r in rows
    ]
    table = dbc.Table([head, html.Tbody(body)], hover=True, responsive=True, className="mb-0", id="counters-grid")
    picks = [{"label": t("counters_new"), "value": NEW}]
    picks += [{"label": f"{r.code} — {r.name}", "value": r.id} for r in rows if r.active]
    points = [{"label": f"{name} ({point})", "value": point} for point, name in names.items()]
    return table, picks, points


@page_callback(
    PAGE,
    Output(Ids.field("code"), "value"),
    Output(Ids.field("code"), "disabled"),
    Output(Ids.field("name"), "value"),
    Output(Ids.field("point"), "value"),
    Output(Ids.ROW_VERSION, "data"),
    Output(Ids.RETIRE, "disabled"),
    Input(Ids.PICK, "value"),
)
def load_counter(pick: int | str | None) -> tuple:
    """The picked counter into the form (its code stays), or an empty form for a new one."""
    if pick in (None, NEW):
        return "", False, "", None, None, True
    with current_runtime().db.session() as db:
        row = next((r for r in service_counters.list_counters(db, current_user.site_id) if r.id == pick), None)
    if row is None:
        return "", False, "", None, None, True
    return row.code, True, row.name, row.point, row.version, False


def _field_outputs(errors: dict[str, InputError]) -> list:
    """``invalid`` and message of each form field, in ``FIELDS`` order."""
    out: list = []
    for name in FIELDS:
        err = errors.get(name)
        out += [err is not None, input_error_text(err) if err else None]
    return out


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.PICK, "value"),
    *[Output(Ids.field(name), "value", allow_duplicate=True) for name in FIELDS],
    *[o for name in FIELDS for o in (Output(Ids.field(name), "invalid"), Output(Ids.field_error(name), "children"))],
    Input(Ids.SAVE, "n_clicks"),
    Input(Ids.RETIRE, "n_clicks"),
    State(Ids.PICK, "value"),
    State(Ids.ROW_VERSION, "data"),
    *[State(Ids.field(name), "value") for name in FIELDS],
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def save_counter(_save: int, _retire: int, pick: int | str | None, row_version: int | None, *rest: object) -> tuple:
    """Create, save or retire, then an empty form again; a refused field keeps what was typed and says why
    beside it."""
    *typed, version = rest
    values = dict(zip(FIELDS, typed, strict=True))
    retiring = ctx.triggered_id == Ids.RETIRE
    try:
        with current_runtime().db.session() as db:
            if pick in (None, NEW):
                counter = service_counters.create_counter(db, current_actor(), values)
            elif retiring:
                counter = service_counters.retire_counter(db, current_actor(), int(pick), row_version)
            else:
                counter = service_counters.update_counter(db, current_actor(), int(pick), values, row_version)
            code, done_key = counter.code, "counters_retired_done" if retiring else "counters_saved"
    except FieldErrors as exc:
        return None, no_update, no_update, *KEEP_TYPED, *_field_outputs(exc.errors)
    except InputError as exc:
        return input_error_alert(exc), no_update, no_update, *KEEP_TYPED, *_field_outputs({})
    message = dbc.Alert(t(done_key, code=code), color="success", className="mb-0")
    return message, version + 1, NEW, "", "", None, *_field_outputs({})
