"""The callbacks of one setup form (``components.setup_form``), declared for a page from a ``SetupCrud``: list
the rows, open one in the form, save (a new row or the opened one, at the version it showed), retire after a
confirmation. Wrong fields are marked beside themselves and keep what was typed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, no_update
from dash.development.base_component import Component
from flask_login import current_user
from sqlalchemy.orm import Session

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from components.live_note import with_live_note
from components.setup_form import SetupFormIds, field_messages
from data.live_store import LiveStore
from data.runtime import current_runtime
from domain.actor import Actor
from domain.errors import FieldErrors, InputError
from i18n.web import t


@dataclass(frozen=True)
class SetupCrud:
    """What one setup form needs from its page: its ids and fields, and the services behind it. ``rows`` lists the
    site's rows (each with ``id``, ``version`` and ``active``); ``create`` None means rows are added elsewhere."""

    page: str
    ids: SetupFormIds
    fields: tuple[str, ...]
    refresh: str  # the page's store whose change re-reads the lists
    rows: Callable[[Session, int], Sequence[Any]]
    label: Callable[[Any], str]
    values: Callable[[Any], Mapping[str, str]]
    table: Callable[[Sequence[Any]], Component]
    create: Callable[[Session, Actor, Mapping[str, object]], Any] | None
    update: Callable[[Session, Actor, int, Mapping[str, object], int | None], Any]
    retire: Callable[[Session, Actor, int, int | None], Any]
    locked_on_edit: tuple[str, ...] = ()  # fields a saved row keeps (its code)
    saved: Callable[[LiveStore], bool] | None = None  # who is told once a save is committed (False: not now)


def _alert(key: str, color: str, element_id: str, **params: object) -> dbc.Alert:
    return dbc.Alert(t(key, **params), color=color, className="mb-0", id=element_id)


def _refusal(crud: SetupCrud, exc: InputError) -> dbc.Alert | None:
    """The alert above the form: the message of an error no field shows (a conflict, an occupied bed), or a
    reminder to fix the marked fields."""
    if isinstance(exc, FieldErrors) and set(exc.errors) <= set(crud.fields):
        return _alert("setup_fix_fields", "warning", f"{crud.ids.prefix}-error")
    alert = input_error_alert(exc)
    alert.id = f"{crud.ids.prefix}-error"
    return alert


def _unmarked(fields: Sequence[str]) -> list:
    """Every field unmarked: ``invalid`` False, then no message, as the callbacks' outputs list them."""
    return [False] * len(fields) + [""] * len(fields)


def _listing(crud: SetupCrud, db: Session) -> tuple[Component, list[dict]]:
    """The rows' table and the picker's options (the active rows)."""
    rows = crud.rows(db, current_user.site_id)
    return crud.table(rows), [{"label": crud.label(row), "value": row.id} for row in rows if row.active]


def register_setup_crud(crud: SetupCrud) -> None:
    """Declare the form's callbacks for its page."""
    ids, fields = crud.ids, crud.fields

    @page_callback(
        crud.page,
        Output(ids.table, "children"),
        Output(ids.pick, "options"),
        Input(crud.refresh, "data"),
    )
    def render(_refresh: int | None) -> tuple:
        with current_runtime().db.session() as db:
            return _listing(crud, db)

    @page_callback(
        crud.page,
        *[Output(ids.field(f), "value") for f in fields],
        *[Output(ids.field(f), "disabled") for f in crud.locked_on_edit],
        *[Output(ids.field(f), "invalid") for f in fields],
        *[Output(ids.error(f), "children") for f in fields],
        Output(ids.version, "data"),
        Output(ids.retire, "disabled"),
        Input(ids.pick, "value"),
    )
    def open_row(row_id: int | None) -> tuple:
        row = None
        if row_id is not None:
            with current_runtime().db.session() as db:
                row = next((r for r in crud.rows(db, current_user.site_id) if r.id == row_id), None)
        values = crud.values(row) if row is not None else {}
        editing = row is not None
        return (
            *(values.get(f, "") for f in fields),
            *[editing] * len(crud.locked_on_edit),
            *_unmarked(fields),
            row.version if editing else None,
            not editing,
        )

    @page_callback(
        crud.page,
        Output(ids.feedback, "children"),
        Output(crud.refresh, "data", allow_duplicate=True),
        *[Output(ids.field(f), "invalid", allow_duplicate=True) for f in fields],
        *[Output(ids.error(f), "children", allow_duplicate=True) for f in fields],
        Output(ids.version, "data", allow_duplicate=True),
        Output(ids.table, "children", allow_duplicate=True),
        Output(ids.pick, "options", allow_duplicate=True),
        Output(ids.pick, "value", allow_duplicate=True),
        Input(ids.save, "n_clicks"),
        State(ids.pick, "value"),
        State(ids.version, "data"),
        State(crud.refresh, "data"),
        *[State(ids.field(f), "value") for f in fields],
        running=[(Output(ids.save, "disabled"), True, False)],
        prevent_initial_call=True,
    )
    def save(_clicks: int, row_id: int | None, version: int | None, refresh: int | None, *typed: str | None) -> tuple:
        form = dict(zip(fields, typed, strict=True))
        try:
            with current_runtime().db.session() as db:
                if row_id is None:
                    if crud.create is None:
                        raise InputError("setup_pick_first")
                    row = crud.create(db, current_actor(), form)
                else:
                    row = crud.update(db, current_actor(), row_id, form, version)
                db.flush()
                saved_id, saved_version = row.id, row.version
                table, options = _listing(crud, db)
        except InputError as exc:  # keep what was typed; mark the wrong fields
            marks, messages = field_messages(fields, exc)
            return _refusal(crud, exc), no_update, *marks, *messages, no_update, no_update, no_update, no_update
        told = crud.saved(current_runtime().live) if crud.saved is not None else True
        done = with_live_note(_alert("setup_saved", "success", f"{ids.prefix}-saved"), told)
        return done, (refresh or 0) + 1, *_unmarked(fields), saved_version, table, options, saved_id

    @page_callback(
        crud.page,
        Output(ids.retire_confirm, "displayed"),
        Output(ids.retire_confirm, "message"),
        Input(ids.retire, "n_clicks"),
        State(ids.pick, "value"),
        prevent_initial_call=True,
    )
    def ask_retire(_clicks: int, row_id: int | None) -> tuple:
        return row_id is not None, t("setup_retire_confirm")

    @page_callback(
        crud.page,
        Output(ids.feedback, "children", allow_duplicate=True),
        Output(crud.refresh, "data", allow_duplicate=True),
        Output(ids.pick, "value", allow_duplicate=True),
        Input(ids.retire_confirm, "submit_n_clicks"),
        State(ids.pick, "value"),
        State(ids.version, "data"),
        State(crud.refresh, "data"),
        prevent_initial_call=True,
    )
    def retire(_clicks: int, row_id: int | None, version: int | None, refresh: int | None) -> tuple:
        if row_id is None:
            return no_update, no_update, no_update
        try:
            with current_runtime().db.session() as db:
                crud.retire(db, current_actor(), row_id, version)
        except InputError as exc:
            return _refusal(crud, exc), no_update, no_update
        return _alert("setup_retired", "success", f"{ids.prefix}-saved"), (refresh or 0) + 1, None
