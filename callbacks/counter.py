"""Queue counter: choose the service point, show its lines, and run every counter action in one transaction.

The browser's choice is never trusted: each request checks that the user's roles may run the point, and a
ticket acted on must be in that point's line as this user sees it. Boards hear of a change after commit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from flask_login import current_user
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy.orm import Session

from auth.session import current_actor
from callbacks.registry import clientside_callback, page_callback
from components.input_error import input_error_alert, input_error_text
from components.local_time import local_when
from components.queue_line import (
    CALL_LATE_ID,
    CANCEL_ROW_ID,
    FINISH_LATE_ROW_ID,
    counts,
    current_panel,
    late_table,
    left_open_card,
    session_hours,
    waiting_table,
)
from data import queue_actions
from data.procedures import ticket_visit
from data.queue_tickets import publish
from data.queue_views import CounterView, LineEntry, counter_view, point_names, service_start
from data.runtime import current_runtime
from data.schedules import today_sessions
from data.service_counters import counters_at
from domain.clock import utcnow
from domain.errors import InputError
from domain.free_text import clean_text, readable
from domain.queue_points import PHARMACY_POINTS, is_known_point, may_operate, poli_code_of
from domain.roles import may_open
from i18n.web import t
from pages.counter import FINISH_REFER, Ids

PAGE = "pages.counter"
ALL_DOCTORS = "all"
ACTION_BUTTONS = (Ids.CALL_NEXT, Ids.RECALL, Ids.SKIP, Ids.START, Ids.FINISH, Ids.CANCEL)


@dataclass(frozen=True)
class Choice:
    """The counter this browser runs: a service point, optionally one doctor session, and the counter's name."""

    point: str
    session_id: int | None
    counter: str
    title: str


def _alert(text: str, colour: str, alert_id: str = "counter-message") -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="mb-0 py-2", id=alert_id)


def operable(point: str | None) -> bool:
    return bool(point) and is_known_point(point) and may_operate(current_user.roles, point)


def parse_choice(data: object) -> Choice:
    """The stored choice, checked against the user's roles (a browser may send anything)."""
    if not isinstance(data, dict) or not operable(data.get("point")):
        raise InputError("counter_err_point")
    session_id = data.get("session_id")
    counter = str(data.get("counter") or "").strip()[:40]
    if (session_id is not None and not isinstance(session_id, int)) or not counter:
        raise InputError("counter_err_point")
    return Choice(data["point"], session_id, counter, str(data.get("title") or counter))


@page_callback(
    PAGE,
    Output(Ids.POINT, "value"),
    Output(Ids.NAME, "value"),
    Input(Ids.CHOICE, "data"),
)
def restore_choice(data: object) -> tuple:
    """Put the remembered choice back into the form."""
    try:
        choice = parse_choice(data)
    except InputError:
        return no_update, no_update
    return choice.point, choice.counter


@page_callback(
    PAGE,
    Output(Ids.SESSION, "options"),
    Output(Ids.SESSION, "value"),
    Output(Ids.SESSION, "disabled"),
    Output(Ids.NAME, "placeholder"),
    Output(Ids.FINISH_OPTIONS, "hidden"),
    Output(Ids.REFER, "options"),
    Output(Ids.NAME_PICK, "options"),
    Output(Ids.NAME_PICK, "value"),
    Output(Ids.NAME_PICK_BOX, "hidden"),
    Output(Ids.NAME_FREE, "hidden"),
    Input(Ids.POINT, "value"),
    State(Ids.CHOICE, "data"),
)
def point_changed(point: str | None, data: object) -> tuple:
    """A poli offers its doctor sessions and, when finishing, the other polis' open sessions to refer to; a point
    with configured counters offers them as the counter's name (free text only where none is configured)."""
    no_sessions = [{"label": t("counter_no_session"), "value": ALL_DOCTORS}]
    if not operable(point):
        return no_sessions, ALL_DOCTORS, True, "", True, [], [], None, True, False
    code = poli_code_of(point)
    with current_runtime().db.session() as session:
        name = point_names(session, current_user.site_id).get(point, point)
        sessions = today_sessions(session, current_user.site_id) if code else []
        configured = counters_at(session, current_user.site_id, point)
    stored_name = data.get("counter") if isinstance(data, dict) and data.get("point") == point else None
    names = (
        [{"label": n, "value": n} for n in configured],
        stored_name if stored_name in configured else None,
        not configured,
        bool(configured),
    )
    if code is None:
        return no_sessions, ALL_DOCTORS, True, name, True, [], *names
    own = [s for s in sessions if s.poli_code == code]
    options = [{"label": t("counter_all_doctors"), "value": ALL_DOCTORS}]
    options += [{"label": f"{s.doctor_name} ({session_hours(s)})", "value": str(s.id)} for s in own]
    stored = data.get("session_id") if isinstance(data, dict) and data.get("point") == point else None
    value = str(stored) if stored in {s.id for s in own} else ALL_DOCTORS
    refer = [
        {"label": f"{s.poli_name} · {s.doctor_name} ({session_hours(s)})", "value": str(s.id)}
        for s in sessions
        if s.poli_code != code and s.open
    ]
    return options, value, False, name, False, refer, *names


@page_callback(
    PAGE,
    Output(Ids.CHOICE, "data"),
    Output(Ids.SETUP_FEEDBACK, "children"),
    Input(Ids.OPEN, "n_clicks"),
    State(Ids.POINT, "value"),
    State(Ids.SESSION, "value"),
    State(Ids.NAME, "value"),
    State(Ids.NAME_PICK, "value"),
    prevent_initial_call=True,
)
def open_counter(
    _clicks: int, point: str | None, session_value: str | None, name: str | None, picked: str | None
) -> tuple:
    """Remember which counter this browser runs (refused for a point the user's roles may not run, or for a
    name that is not one of the point's configured counters when it has some)."""
    if not operable(point):
        return no_update, _alert(t("counter_err_point"), "danger", "counter-setup-message")
    with current_runtime().db.session() as session:
        point_name = point_names(session, current_user.site_id).get(point, point)
        configured = counters_at(session, current_user.site_id, point)
        if configured and picked not in configured:
            return no_update, _alert(t("counter_err_name_pick"), "danger", "counter-setup-message")
        name = picked if configured else name
        chosen = None
        if poli_code_of(point) and (session_value or "").isdigit():
            code = poli_code_of(point)
            today = today_sessions(session, current_user.site_id)
            chosen = next((s for s in today if str(s.id) == session_value and s.poli_code == code), None)
            if chosen is None:
                return no_update, _alert(t("counter_err_session"), "danger", "counter-setup-message")
    counter = (name or "").strip()[:40] or point_name
    parts = (point_name, counter if counter != point_name else "", chosen.doctor_name if chosen else "")
    title = " · ".join(p for p in parts if p)
    data = {"point": point, "session_id": chosen.id if chosen else None, "counter": counter, "title": title}
    return data, None


def _usable_actions(view: CounterView, calls_before_skip: int) -> frozenset[str]:
    """The action buttons that fit the patient at the counter: nothing there → call; called → recall, start,
    cancel and, once called often enough, skip; being served → finish. The server checks again; this only spares
    clicks that would be refused."""
    current = view.current
    if current is None:
        return frozenset({Ids.CALL_NEXT})
    if current.status == "called":
        may_skip = {Ids.SKIP} if current.call_count >= calls_before_skip else set()
        return frozenset({Ids.RECALL, Ids.START, Ids.CANCEL, *may_skip})
    return frozenset({Ids.FINISH})


def _disabled(usable: frozenset[str]) -> tuple[bool, ...]:
    """The ``disabled`` outputs of ``ACTION_BUTTONS``, in their order."""
    return tuple(button not in usable for button in ACTION_BUTTONS)


@page_callback(
    PAGE,
    Output(Ids.HEADING, "children"),
    Output(Ids.CURRENT, "children"),
    Output(Ids.CURRENT_TICKET, "data"),
    *(Output(button, "disabled") for button in ACTION_BUTTONS),
    Output(Ids.SKIP_HINT, "children"),
    Output(Ids.WAITING, "children"),
    Output(Ids.LATE, "children"),
    Output(Ids.LEFT_OPEN, "children"),
    Output(Ids.COUNTS, "children"),
    Output(Ids.SHOWN, "data"),
    Input(Ids.INTERVAL, "n_intervals"),
    Input(Ids.CHOICE, "data"),
    Input(Ids.VERSION, "data"),
    State(Ids.SHOWN, "data"),
)
def render(_tick: int, data: object, _version: int, shown: str | None) -> tuple:
    """The counter's lines, every few seconds and right after each action (a timer tick is not activity).
    A refresh that would show the same leaves the page alone, so it cannot swallow a click on a line."""
    fresh = _lines(data)
    key = fingerprint(fresh)
    return (*((no_update,) * len(fresh) if key == shown else fresh), key)


def fingerprint(outputs: tuple) -> str:
    """A short digest of what ``render`` would show."""
    encoded = json.dumps(outputs, cls=PlotlyJSONEncoder, sort_keys=True).encode()
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def _with_procedures_link(panel: html.Div, visit_id: int | None) -> html.Div:
    """A poli counter's current patient with a link to their procedures (pages/procedures.py), for those allowed."""
    if visit_id is None or not may_open(current_user.roles, dash.page_registry["pages.procedures"].get("roles")):
        return panel
    link = dbc.Button(
        t("proc_link"), href=f"/tindakan?visit={visit_id}", color="link", size="sm", id="counter-procedures-link"
    )
    return html.Div([panel, link])


def _lines(data: object) -> tuple:
    settings = current_runtime().settings
    try:
        choice = parse_choice(data)
    except InputError:
        return (t("counter_pick_first"), None, None, *_disabled(frozenset()), "", None, None, None, [])
    code = poli_code_of(choice.point)
    with current_runtime().db.session() as session:
        view = counter_view(
            session, current_user.site_id, choice.point, choice.counter, utcnow(), session_id=choice.session_id
        )
        several = code is not None and choice.session_id is None  # each doctor's line has its own estimates
        today = today_sessions(session, current_user.site_id) if several else []
        doctors = {s.id: s.doctor_name for s in today if s.poli_code == code} if several else None
        visit_id = (
            ticket_visit(session, current_user.site_id, view.current.ticket_id) if code and view.current else None
        )
    current = view.current
    needed = settings.queue_calls_before_skip
    hint = ""
    if current is not None and current.status == "called" and current.call_count < needed:
        hint = t("counter_skip_hint", needed=needed)
    ticket = {"id": current.ticket_id, "label": current.label} if current else None
    return (
        choice.title,
        _with_procedures_link(current_panel(current), visit_id),
        ticket,
        *_disabled(_usable_actions(view, needed)),
        hint,
        waiting_table(view.waiting, settings.timezone, doctors),
        late_table(view.late),
        left_open_card(view.left_open),
        counts(view),
    )


# The line's row buttons are re-created on every refresh, and Dash fires a pattern-matching callback for new
# components: answering those in the browser keeps a timer refresh from reaching the server as a "click" (which
# would count as activity and keep an idle session alive). Only a real click writes the store the server hears.
PICK_ROW = """function () {
    const hit = window.dash_clientside.callback_context.triggered.find((t) => t.value);
    if (!hit) { return window.dash_clientside.no_update; }
    const id = JSON.parse(hit.prop_id.slice(0, hit.prop_id.lastIndexOf(".")));
    return {id: id.ticket, label: id.label, at: Date.now()};
}"""
for _kind, _store in (
    (CALL_LATE_ID, Ids.LATE_PICK),
    (CANCEL_ROW_ID, Ids.CANCEL_PICK),
    (FINISH_LATE_ROW_ID, Ids.FINISH_LATE_PICK),
):
    clientside_callback(
        PICK_ROW,
        Output(_store, "data"),
        Input({"type": _kind, "ticket": ALL, "label": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )


@page_callback(
    PAGE,
    Output(Ids.CANCEL_MODAL, "is_open"),
    Output(Ids.CANCEL_TARGET, "data"),
    Output(Ids.CANCEL_TITLE, "children"),
    Output(Ids.CANCEL_REASON, "value"),
    Output(Ids.CANCEL_ERROR, "children"),
    Output(Ids.CANCEL_REASON, "invalid"),
    Input(Ids.CANCEL, "n_clicks"),
    Input(Ids.CANCEL_PICK, "data"),
    Input(Ids.CANCEL_DISMISS, "n_clicks"),
    State(Ids.CURRENT_TICKET, "data"),
    prevent_initial_call=True,
)
def ask_cancel(_current: int, picked: dict | None, _dismiss: int, current: dict | None) -> tuple:
    """Confirm first: the number, and a reason (no-show by default); a fresh dialog shows no earlier refusal."""
    target = {Ids.CANCEL: current, Ids.CANCEL_PICK: picked}.get(ctx.triggered_id)
    if not target or not ctx.triggered[0]["value"]:
        return False, None, no_update, no_update, no_update, no_update
    ticket = {"id": target["id"], "label": target["label"]}
    title = t("counter_cancel_title", label=ticket["label"])
    return True, ticket, title, t("counter_cancel_default_reason"), None, False


def _require_reason(reason: str | None) -> None:
    """A cancellation is audited with its reason, so a blank one is refused."""
    if not readable(clean_text(reason)):
        raise InputError("counter_err_cancel_reason")


def _ticket_here(lines: Sequence[LineEntry | None], ticket_id: object) -> int:
    """``ticket_id`` as the screen showed it, if it is still in these lines of the counter (else refuse)."""
    for entry in lines:
        if entry is not None and entry.ticket_id == ticket_id:
            return entry.ticket_id
    raise InputError("counter_err_stale")


@dataclass(frozen=True)
class Click:
    """What the browser sent with an action: which control, the ticket it showed, and the form values."""

    trigger: object
    current_id: object
    late_id: object
    finish_to: str | None
    refer: str | None
    cancel_id: object
    reason: str | None


def _finish_args(choice: Choice, click: Click) -> tuple[dict, str]:
    """``finish`` keyword arguments for the chosen way out of a poli, and the message key to confirm it."""
    if poli_code_of(choice.point) is None or click.finish_to not in (*PHARMACY_POINTS, FINISH_REFER):
        return {}, "counter_did_finish"
    if click.finish_to == PHARMACY_POINTS[0]:
        return {"pharmacy": click.finish_to}, "counter_did_finish_compounded"
    if click.finish_to == PHARMACY_POINTS[1]:
        return {"pharmacy": click.finish_to}, "counter_did_finish_ready"
    if not (click.refer or "").isdigit():
        raise InputError("counter_err_refer")
    return {"refer_session_id": int(click.refer)}, "counter_did_refer"


def _perform(session: Session, choice: Choice, click: Click) -> tuple[queue_actions.CounterResult, str]:
    """Run the clicked action; returns its result and the catalogue key of the message to show."""
    now, who = utcnow(), current_actor()
    if click.trigger == Ids.CALL_NEXT:
        result = queue_actions.call_next(session, who, choice.point, choice.counter, now, session_id=choice.session_id)
        return result, "counter_did_call" if result.ticket_id else "counter_nobody_waiting"
    view = counter_view(session, who.site_id, choice.point, choice.counter, now, session_id=choice.session_id)
    line = [view.current, *view.waiting, *view.late]
    if click.trigger == Ids.LATE_PICK:
        ticket_id = _ticket_here(line, click.late_id)
        return queue_actions.call_ticket(session, who, ticket_id, choice.counter, now), "counter_did_call"
    if click.trigger == Ids.CANCEL_CONFIRM:  # its reason was checked in ``act``, inside the dialog
        ticket_id = _ticket_here([*line, *view.left_open], click.cancel_id)
        return queue_actions.cancel(session, who, ticket_id, now, click.reason), "counter_did_cancel"
    ticket_id = _ticket_here([view.current], click.current_id)
    if click.trigger == Ids.RECALL:
        return queue_actions.recall(session, who, ticket_id, now), "counter_did_call"
    if click.trigger == Ids.SKIP:
        needed = current_runtime().settings.queue_calls_before_skip
        return queue_actions.skip(session, who, ticket_id, needed), "counter_did_skip"
    if click.trigger == Ids.START:
        return queue_actions.start(session, who, ticket_id, now), "counter_did_start"
    args, done = _finish_args(choice, click)
    return queue_actions.finish(session, who, ticket_id, now, **args), done


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    Output(Ids.VERSION, "data"),
    Output(Ids.CANCEL_MODAL, "is_open", allow_duplicate=True),
    Output(Ids.CANCEL_ERROR, "children", allow_duplicate=True),
    Output(Ids.CANCEL_REASON, "invalid", allow_duplicate=True),
    Input(Ids.CALL_NEXT, "n_clicks"),
    Input(Ids.RECALL, "n_clicks"),
    Input(Ids.SKIP, "n_clicks"),
    Input(Ids.START, "n_clicks"),
    Input(Ids.FINISH, "n_clicks"),
    Input(Ids.LATE_PICK, "data"),
    Input(Ids.CANCEL_CONFIRM, "n_clicks"),
    State(Ids.CHOICE, "data"),
    State(Ids.CURRENT_TICKET, "data"),
    State(Ids.FINISH_TO, "value"),
    State(Ids.REFER, "value"),
    State(Ids.CANCEL_TARGET, "data"),
    State(Ids.CANCEL_REASON, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def act(
    _next: int,
    _recall: int,
    _skip: int,
    _start: int,
    _finish: int,
    late: dict | None,
    _confirm: int,
    data: object,
    current: dict | None,
    finish_to: str | None,
    refer: str | None,
    target: dict | None,
    reason: str | None,
    version: int | None,
) -> tuple:
    """One counter action in one transaction; an out-of-order or refused action changes nothing. A refused
    cancellation reason is answered inside the dialog, which stays open with what was typed."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        return no_update, no_update, no_update, no_update, no_update
    if ctx.triggered_id == Ids.CANCEL_CONFIRM:
        try:
            _require_reason(reason)
        except InputError as err:
            return no_update, no_update, no_update, input_error_alert(err), True
        dialog = (False, None, False)  # the dialog closes; the outcome shows on the counter card
    else:
        dialog = (no_update, no_update, no_update)
    click = Click(
        ctx.triggered_id,
        (current or {}).get("id"),
        (late or {}).get("id"),
        finish_to,
        refer,
        (target or {}).get("id"),
        reason,
    )
    try:
        choice = parse_choice(data)
        with current_runtime().db.session(write_lock=True) as session:  # reads the ticket, then changes it
            result, done = _perform(session, choice, click)
    except InputError as err:
        return _alert(input_error_text(err), "danger"), (version or 0) + 1, *dialog
    publish(current_runtime().live, current_user.site_id, result.events)
    text = t(done, label=result.label, counter=choice.counter)
    return _alert(text, "info" if result.ticket_id is None else "success"), (version or 0) + 1, *dialog


@page_callback(
    PAGE,
    Output(Ids.FINISH_LATE_MODAL, "is_open"),
    Output(Ids.FINISH_LATE_TARGET, "data"),
    Output(Ids.FINISH_LATE_TITLE, "children"),
    Output(Ids.FINISH_LATE_AT, "value"),
    Output(Ids.FINISH_LATE_ERROR, "children"),
    Output(Ids.FINISH_LATE_AT, "invalid"),
    Input(Ids.FINISH_LATE_PICK, "data"),
    Input(Ids.FINISH_LATE_DISMISS, "n_clicks"),
    prevent_initial_call=True,
)
def ask_finish_late(picked: dict | None, _dismiss: int) -> tuple:
    """Ask when an earlier day's unfinished service ended, saying when it began; nothing filled in for the nurse."""
    if ctx.triggered_id != Ids.FINISH_LATE_PICK or not picked:
        return False, None, no_update, no_update, no_update, no_update
    with current_runtime().db.session() as session:
        began = service_start(session, current_user.site_id, picked["id"])
    title = t("counter_finish_late_title", label=picked["label"], began=local_when(began) if began else "—")
    return True, {"id": picked["id"], "label": picked["label"]}, title, "", None, False


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Output(Ids.FINISH_LATE_MODAL, "is_open", allow_duplicate=True),
    Output(Ids.FINISH_LATE_ERROR, "children", allow_duplicate=True),
    Output(Ids.FINISH_LATE_AT, "invalid", allow_duplicate=True),
    Input(Ids.FINISH_LATE_CONFIRM, "n_clicks"),
    State(Ids.CHOICE, "data"),
    State(Ids.FINISH_LATE_TARGET, "data"),
    State(Ids.FINISH_LATE_AT, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def finish_late(_clicks: int, data: object, target: dict | None, typed: str | None, version: int | None) -> tuple:
    """Finish the service at the clock time typed; a refused time is answered in the dialog, which keeps it."""
    runtime = current_runtime()
    try:
        ended = _clock_time(typed)
        choice = parse_choice(data)
        with runtime.db.session(write_lock=True) as session:  # reads the ticket, then changes it
            now, who = utcnow(), current_actor()
            view = counter_view(session, who.site_id, choice.point, choice.counter, now, session_id=choice.session_id)
            ticket_id = _ticket_here(view.left_open, (target or {}).get("id"))
            result = queue_actions.finish_left_open(session, who, ticket_id, ended, now)
    except InputError as err:
        return no_update, no_update, True, input_error_alert(err), True
    publish(runtime.live, current_user.site_id, result.events)
    text = t("counter_did_finish", label=result.label, counter=choice.counter)
    return _alert(text, "success"), (version or 0) + 1, False, None, False


def _clock_time(typed: str | None) -> time:
    """``HH:MM`` as a time field sends it; anything else is refused."""
    try:
        return time.fromisoformat((typed or "").strip())
    except ValueError:
        raise InputError("counter_err_finish_time_missing") from None
