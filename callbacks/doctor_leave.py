"""Doctor leave page: every change goes through ``data.doctor_leave`` (audited); a refused form keeps what was
typed and shows each message beside its field."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.dropdown import dropdown
from components.input_error import input_error_alert, input_error_text
from components.typed_date import read_typed_dates
from data import doctor_leave
from data.runtime import current_runtime
from domain.errors import FieldErrors, InputError
from i18n.web import t
from pages.doctor_leave import FIELDS, Ids

PAGE = "pages.doctor_leave"
_OUTCOME_COLOURS = {"open": "warning", "moved": "success", "cancelled": "secondary"}


def _table(heads: list[str], rows: list[html.Tr], element_id: str) -> dbc.Table:
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(t(k)) for k in heads])), html.Tbody(rows)],
        hover=True,
        responsive=True,
        size="sm",
        className="align-middle mb-0",
        id=element_id,
    )


@page_callback(
    PAGE,
    Output(Ids.LEAVES, "children"),
    Output(Ids.PICK, "options"),
    Output(Ids.PICK, "value"),
    Output(Ids.field("doctor"), "options"),
    Output(Ids.field("substitute"), "options"),
    Input(Ids.VERSION, "data"),
    Input(Ids.CREATED, "data"),
    State(Ids.PICK, "value"),
)
def render_lists(_version: int, created: int | None, picked: int | None) -> tuple:
    """The leaves, and the choice of leave: the one just recorded, else the one chosen while it is in force."""
    with current_runtime().db.session() as db:
        actor = current_actor()
        leaves = doctor_leave.list_leaves(db, actor)
        doctors = doctor_leave.doctor_choices(db, current_user.site_id)
    rows = [
        html.Tr(
            [
                html.Td(x.doctor),
                html.Td(f"{x.first_day:%d-%m-%Y} – {x.last_day:%d-%m-%Y}", className="text-nowrap"),
                html.Td(x.substitute or "—"),
                html.Td(x.reason or "—"),
                html.Td(
                    dbc.Badge(t("leave_withdrawn"), color="secondary")
                    if x.cancelled
                    else dbc.Badge(t("leave_active"), color="primary")
                ),
            ],
            **{"data-id": str(x.id)},
        )
        for x in leaves
    ]
    heads = ["leave_col_doctor", "leave_col_days", "leave_col_substitute", "leave_col_reason", "leave_col_state"]
    table = _table(heads, rows, "leave-list-table") if rows else html.P(t("leave_none"), className="m-3")
    picks = [
        {"label": f"{x.doctor} {x.first_day:%d-%m-%Y} – {x.last_day:%d-%m-%Y}", "value": x.id}
        for x in leaves
        if not x.cancelled
    ]
    choices = [{"label": name, "value": doctor_id} for doctor_id, name in doctors]
    in_force = {p["value"] for p in picks}
    chosen = created if Ids.CREATED in ctx.triggered_prop_ids.values() else picked
    return table, picks, chosen if chosen in in_force else None, choices, choices


def _booking_row(booking: doctor_leave.Booking, targets: list[tuple[int, str]]) -> html.Tr:
    if booking.outcome == "open":
        action = html.Div(
            [
                dropdown(
                    id={"type": Ids.MOVE_TARGET, "visit": booking.visit_id},
                    options=[{"label": text, "value": sid} for sid, text in targets],
                    placeholder=t("leave_move_to"),
                    style={"minWidth": "16rem"},
                ),
                dbc.Button(t("leave_move"), id={"type": Ids.MOVE, "visit": booking.visit_id}, size="sm"),
                dbc.Button(
                    t("leave_cancel_booking"),
                    id={"type": Ids.CANCEL, "visit": booking.visit_id},
                    size="sm",
                    color="danger",
                    outline=True,
                ),
            ],
            className="d-flex gap-2 align-items-center",
        )
    else:
        action = booking.moved_to or ""
    return html.Tr(
        [
            html.Td(html.Code(booking.booking_code)),
            html.Td(booking.session_text, className="text-nowrap"),
            html.Td("JKN" if booking.payer == "jkn" else "non-JKN"),
            html.Td(booking.masked_name),
            html.Td(
                dbc.Badge(
                    t(f"leave_outcome_{booking.outcome}"),
                    color=_OUTCOME_COLOURS[booking.outcome],
                    text_color="dark" if booking.outcome == "open" else None,
                )
            ),
            html.Td(action),
        ],
        **{"data-visit": str(booking.visit_id)},
    )


@page_callback(
    PAGE,
    Output(Ids.BOOKINGS, "children"),
    Input(Ids.PICK, "value"),
    Input(Ids.VERSION, "data"),
)
def render_bookings(leave_id: int | None, _version: int) -> object:
    if not leave_id:
        return html.P(t("leave_pick_first"), className="text-body-secondary mb-0")
    try:
        with current_runtime().db.session() as db:
            bookings = doctor_leave.leave_bookings(db, current_actor(), leave_id)
            targets: dict[tuple, list[tuple[int, str]]] = {}  # bookings of one poli, payer and day share them
            for b in bookings:
                key = (b.poli_id, b.payer, b.service_date)
                if b.outcome == "open" and key not in targets:
                    targets[key] = doctor_leave.move_targets(db, current_actor(), b.visit_id)
            rows = [_booking_row(b, targets.get((b.poli_id, b.payer, b.service_date), [])) for b in bookings]
    except InputError as exc:
        return input_error_alert(exc)
    if not rows:
        return dbc.Alert(t("leave_no_bookings"), color="success", className="mb-0", id="leave-bookings-none")
    heads = ["leave_col_booking", "leave_col_session", "leave_col_payer", "leave_col_patient", "leave_col_state"]
    return _table([*heads, "leave_col_action"], rows, "leave-bookings-table")


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    Output(Ids.CREATED, "data"),
    *[Output(Ids.field_error(name), "children") for name in FIELDS],
    Input(Ids.SUBMIT, "n_clicks"),
    *[State(Ids.field(name), "value") for name in FIELDS],
    prevent_initial_call=True,
)
def create(
    _clicks: int,
    doctor: int | None,
    first_day: str | None,
    last_day: str | None,
    reason: str | None,
    substitute: int | None,
) -> tuple:
    blank = ["" for _ in FIELDS]
    try:
        days = read_typed_dates(first_day=first_day, last_day=last_day)
        with current_runtime().db.session() as db:
            result = doctor_leave.create_leave(
                db,
                current_actor(),
                doctor_id=doctor,
                first_day=days["first_day"],
                last_day=days["last_day"],
                reason=reason or "",
                substitute_id=substitute,
            )
    except FieldErrors as exc:
        messages = [input_error_text(exc.errors[f]) if f in exc.errors else "" for f in FIELDS]
        return None, no_update, *messages
    except InputError as exc:
        return input_error_alert(exc), no_update, *blank
    done = t("leave_created", sessions=result.sessions_closed, bookings=len(result.bookings))
    return dbc.Alert(done, color="success", className="mb-0"), result.leave_id, *blank


def _clicked() -> bool:
    """A real click (pattern-matching buttons also fire when a new table brings them in unclicked)."""
    return bool(ctx.triggered_id) and bool(ctx.triggered and ctx.triggered[0]["value"])


@page_callback(
    PAGE,
    Output(Ids.ACTION_FEEDBACK, "children"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.MOVE, "visit": ALL}, "n_clicks"),
    Input({"type": Ids.CANCEL, "visit": ALL}, "n_clicks"),
    State({"type": Ids.MOVE_TARGET, "visit": ALL}, "value"),
    State({"type": Ids.MOVE_TARGET, "visit": ALL}, "id"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def handle_booking(_moves: list, _cancels: list, targets: list, target_ids: list, version: int) -> tuple:
    if not _clicked():
        return no_update, no_update
    visit_id = ctx.triggered_id["visit"]
    chosen = {i["visit"]: v for i, v in zip(target_ids, targets, strict=True)}.get(visit_id)
    try:
        with current_runtime().db.session() as db:
            if ctx.triggered_id["type"] == Ids.CANCEL:
                doctor_leave.cancel_booking_for_leave(db, current_actor(), visit_id=visit_id)
                message = t("leave_booking_cancelled")
            elif not chosen:
                raise InputError("leave_err_target")
            else:
                doctor_leave.move_booking(db, current_actor(), visit_id=visit_id, to_session_id=chosen)
                message = t("leave_booking_moved")
    except InputError as exc:
        return input_error_alert(exc), no_update
    return dbc.Alert(message, color="success", className="mb-0"), version + 1


@page_callback(
    PAGE,
    Output(Ids.WITHDRAW_CONFIRM, "displayed"),
    Output(Ids.ACTION_FEEDBACK, "children", allow_duplicate=True),
    Input(Ids.WITHDRAW, "n_clicks"),
    State(Ids.PICK, "value"),
    prevent_initial_call=True,
)
def ask_withdraw(_clicks: int, leave_id: int | None) -> tuple:
    if not leave_id:
        return False, dbc.Alert(t("leave_pick_first"), color="warning", className="mb-0")
    return True, None


@page_callback(
    PAGE,
    Output(Ids.ACTION_FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input(Ids.MOVE_ALL, "n_clicks"),
    Input(Ids.WITHDRAW_CONFIRM, "submit_n_clicks"),
    State(Ids.PICK, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def leave_action(_move_all: int, _withdraw: int, leave_id: int | None, version: int) -> tuple:
    if not leave_id:
        return dbc.Alert(t("leave_pick_first"), color="warning", className="mb-0"), no_update
    try:
        with current_runtime().db.session() as db:
            if ctx.triggered_id == Ids.MOVE_ALL:
                left = doctor_leave.move_all_to_substitute(db, current_actor(), leave_id)
            else:
                reopened = doctor_leave.cancel_leave(db, current_actor(), leave_id)
    except InputError as exc:
        return input_error_alert(exc), no_update
    if ctx.triggered_id != Ids.MOVE_ALL:
        message, colour = t("leave_withdrawn_done", sessions=reopened), "success"
    elif left:
        message, colour = t("leave_moved_some", codes=", ".join(left)), "warning"
    else:
        message, colour = t("leave_moved_all"), "success"
    return dbc.Alert(message, color=colour, className="mb-0"), version + 1


@page_callback(
    PAGE,
    Output(Ids.CONTACTS, "children"),
    Input(Ids.CONTACTS_SHOW, "n_clicks"),
    Input(Ids.PICK, "value"),
    prevent_initial_call=True,
)
def show_contacts(_clicks: int, leave_id: int | None) -> object:
    if ctx.triggered_id != Ids.CONTACTS_SHOW:
        return None  # another leave chosen: its contacts stay hidden until asked for
    if not leave_id:
        return dbc.Alert(t("leave_pick_first"), color="warning", className="mb-0")
    try:
        with current_runtime().db.session() as db:
            contacts = doctor_leave.patients_to_contact(db, current_runtime().cipher, current_actor(), leave_id)
    except InputError as exc:
        return input_error_alert(exc)
    if not contacts:
        return dbc.Alert(t("leave_contacts_none"), color="info", className="mb-0")
    rows = [
        html.Tr([html.Td(c.name), html.Td(c.phone or "—"), html.Td(html.Code(c.booking_code)), html.Td(c.outcome)])
        for c in contacts
    ]
    heads = ["leave_col_name", "leave_col_phone", "leave_col_booking", "leave_col_now"]
    return html.Div([html.H6(t("leave_contacts_title")), _table(heads, rows, "leave-contacts-table")])
