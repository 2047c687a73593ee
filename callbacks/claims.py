"""BPJS claims page: the list under its filters, the claim form (save, move), "Buat klaim" and the claim-status
file (dry run, apply). Every write checks the user's role here as well as in the layout: a manager only reads."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.claims import EDIT_FIELDS, MOVE_FIELDS, Ids, grid_rows, history_items, status_text
from components.input_error import input_error_alert, input_error_text
from components.typed_date import typed_date_or_none
from components.upload_report import row_errors_table, uploaded_bytes
from data.claim_import import ClaimImportRefused, apply_claim_file, check_claim_file
from data.claims import ClaimFilter, claim_detail, claim_list, move_claim, open_candidates, open_claim, update_claim
from data.runtime import current_runtime
from data.schedules import local_today
from domain.claim_rules import next_states
from domain.errors import FieldErrors, InputError
from domain.formats import day_first, thousands
from i18n.web import current_language, t
from pages.claims import may_write

PAGE = "pages.claims"
LIST_LIMIT = 500


def _ok(key: str, element_id: str, **params: object) -> dbc.Alert:
    return dbc.Alert(t(key, **params), color="success", className="mb-0 py-2", id=element_id)


def _read_only() -> dbc.Alert:
    return dbc.Alert(t("claim_read_only"), color="warning", className="mb-0")


@page_callback(
    PAGE,
    Output(Ids.GRID, "rowData"),
    Output(Ids.COUNT, "children"),
    Input(Ids.STATUS, "value"),
    Input(Ids.EPISODE, "value"),
    Input(Ids.FROM, "value"),
    Input(Ids.UNTIL, "value"),
    Input(Ids.NEAR, "value"),
    Input(Ids.SAVED, "data"),
    Input(Ids.MOVED, "data"),
    Input(Ids.CREATED, "data"),
    Input(Ids.IMPORTED, "data"),
)
def show_list(status, episode, start, end, near, *_changes) -> tuple:
    """The claims under the filters, those still to submit first by deadline, then the newest (at most
    ``LIST_LIMIT``; the count says so)."""
    chosen = ClaimFilter(
        status or None, episode or None, typed_date_or_none(start), typed_date_or_none(end), bool(near)
    )
    with current_runtime().db.session() as db:
        views, total = claim_list(db, current_user.site_id, chosen, 0, LIST_LIMIT)
    shown = t("claim_count", n=total) if total <= LIST_LIMIT else t("claim_count_cut", n=LIST_LIMIT, total=total)
    return grid_rows(views), shown


@page_callback(
    PAGE,
    Output(Ids.CURRENT, "data"),
    Output(Ids.TITLE, "children"),
    *(Output(Ids.FIELD + f, "value") for f in EDIT_FIELDS),
    Output(Ids.MOVE_TO, "options"),
    Output(Ids.MOVE_TO, "value"),
    Output(Ids.MOVE_ON, "value"),
    Output(Ids.REASON, "value"),
    Output(Ids.HISTORY, "children"),
    Output(Ids.SAVE, "disabled"),
    Output(Ids.MOVE, "disabled"),
    Output(Ids.SAVE_MSG, "children", allow_duplicate=True),
    Output(Ids.MOVE_MSG, "children", allow_duplicate=True),
    Input(Ids.GRID, "cellClicked"),
    Input(Ids.CREATED, "data"),
    Input(Ids.SAVED, "data"),
    Input(Ids.MOVED, "data"),
    Input(Ids.IMPORTED, "data"),
    State(Ids.CURRENT, "data"),
    prevent_initial_call=True,
)
def fill_form(cell: dict | None, created: dict | None, _saved, _moved, _imported, current: dict | None) -> tuple:
    """The picked (or just created) claim in the form, at its current row version."""
    claim_id = (current or {}).get("id")
    if ctx.triggered_id == Ids.GRID and cell and cell.get("rowId"):
        claim_id = int(cell["rowId"])
    elif ctx.triggered_id == Ids.CREATED and created:
        claim_id = created.get("id")
    if not claim_id:
        return (no_update,) * (len(EDIT_FIELDS) + 11)
    try:
        with current_runtime().db.session() as db:
            view, events = claim_detail(db, current_user.site_id, int(claim_id))
            today = local_today(db, current_user.site_id)
    except InputError:
        return (None, t("claim_form_empty"), *([""] * len(EDIT_FIELDS)), [], None, None, "", [], True, True, None, None)
    values = [view.inacbg_code or "", view.hospital_tariff, view.inacbg_tariff, view.submitted_amount,
              view.approved_amount, view.topup_amount]  # fmt: skip
    lang = current_language()
    values = ["" if v is None else (v if isinstance(v, str) else thousands(v, lang)) for v in values]
    options = [{"label": status_text(s), "value": s} for s in next_states(view.status)]
    title = t("claim_form_title", sep=view.sep_number, status=status_text(view.status))
    writable = may_write()
    # Another claim picked: the messages about the previous one go; after a save or a move they stay.
    message = None if ctx.triggered_id in (Ids.GRID, Ids.CREATED) else no_update
    return (
        {"id": view.id, "version": view.version},
        title,
        *values,
        options,
        options[0]["value"] if options else None,
        day_first(today) if options else None,
        "",
        history_items(events),
        not writable,
        not (writable and options),
        message,
        message,
    )


def _marks(fields: tuple[str, ...], exc: InputError | None) -> tuple[list[bool], list[str]]:
    """Which fields to mark invalid, and each one's message."""
    errors = exc.errors if isinstance(exc, FieldErrors) else {}
    return [f in errors for f in fields], [input_error_text(errors[f]) if f in errors else "" for f in fields]


@page_callback(
    PAGE,
    Output(Ids.SAVED, "data"),
    Output(Ids.SAVE_MSG, "children"),
    *(Output(Ids.FIELD + f, "invalid") for f in EDIT_FIELDS),
    *(Output(Ids.FEEDBACK + f, "children") for f in EDIT_FIELDS),
    Input(Ids.SAVE, "n_clicks"),
    State(Ids.CURRENT, "data"),
    *(State(Ids.FIELD + f, "value") for f in EDIT_FIELDS),
    prevent_initial_call=True,
)
def save(clicks: int | None, current: dict | None, *typed: str | None) -> tuple:
    """Save the coding and amounts; wrong fields are marked beside themselves and keep what was typed."""
    clean = ([False] * len(EDIT_FIELDS), [""] * len(EDIT_FIELDS))
    if not may_write():
        return no_update, _read_only(), *clean[0], *clean[1]
    if not current:
        return no_update, None, *clean[0], *clean[1]
    try:
        with current_runtime().db.session() as db:
            fields = dict(zip(EDIT_FIELDS, typed, strict=True))
            update_claim(db, current_actor(), int(current["id"]), current.get("version"), fields)
    except InputError as exc:
        invalid, messages = _marks(EDIT_FIELDS, exc)
        alert = None if isinstance(exc, FieldErrors) else input_error_alert(exc)
        return no_update, alert, *invalid, *messages
    return clicks, _ok("claim_saved", "claim-saved-ok"), *clean[0], *clean[1]


@page_callback(
    PAGE,
    Output(Ids.MOVED, "data"),
    Output(Ids.MOVE_MSG, "children"),
    Output(Ids.MOVE_TO, "invalid"),
    Output(Ids.MOVE_ON, "invalid"),
    Output(Ids.REASON, "invalid"),
    *(Output(Ids.FEEDBACK + f, "children") for f in MOVE_FIELDS),
    Input(Ids.MOVE, "n_clicks"),
    State(Ids.CURRENT, "data"),
    State(Ids.MOVE_TO, "value"),
    State(Ids.MOVE_ON, "value"),
    State(Ids.REASON, "value"),
    prevent_initial_call=True,
)
def move(clicks: int | None, current: dict | None, status: str | None, on: str | None, reason: str | None) -> tuple:
    """Move the claim one step (a reason for pending, not eligible and dispute)."""
    clean = (False, False, False, "", "", "")
    if not may_write():
        return no_update, _read_only(), *clean
    if not current or not status:
        return no_update, None, *clean
    day = typed_date_or_none(on)
    if day is None:
        return no_update, None, False, True, False, "", t("typed_date_invalid"), ""
    try:
        with current_runtime().db.session() as db:
            move_claim(db, current_actor(), int(current["id"]), current.get("version"), status, reason, day)
    except InputError as exc:
        invalid, messages = _marks(MOVE_FIELDS, exc)
        alert = None if isinstance(exc, FieldErrors) else input_error_alert(exc)
        return no_update, alert, *invalid, *messages
    return clicks, _ok("claim_moved", "claim-moved-ok", status=status_text(status)), *clean


@page_callback(
    PAGE,
    Output(Ids.NEW_EPISODE, "options"),
    Input(Ids.CREATED, "data"),
    Input(Ids.IMPORTED, "data"),
)
def candidates(*_changes) -> list[dict]:
    """JKN visits and discharged stays without a claim (the last six months)."""
    with current_runtime().db.session() as db:
        found = open_candidates(db, current_user.site_id)
    kinds = {"visit": t("fin_unit_rawat_jalan"), "admission": t("fin_unit_rawat_inap")}
    return [{"label": f"{kinds[c.kind]} · {c.label}", "value": f"{c.kind}:{c.id}"} for c in found]


@page_callback(
    PAGE,
    Output(Ids.CREATED, "data"),
    Output(Ids.NEW_MSG, "children"),
    Output(Ids.NEW_SEP, "invalid"),
    Output(Ids.FEEDBACK + "sep_number", "children"),
    Output(Ids.NEW_SEP, "value"),
    Input(Ids.NEW, "n_clicks"),
    State(Ids.NEW_EPISODE, "value"),
    State(Ids.NEW_SEP, "value"),
    prevent_initial_call=True,
)
def create(_clicks: int | None, episode: str | None, sep: str | None) -> tuple:
    """Open the claim of the chosen episode; the form then shows it."""
    if not may_write():
        return no_update, _read_only(), False, "", no_update
    kind, _, raw_id = (episode or "").partition(":")
    try:
        if kind not in ("visit", "admission") or not raw_id.isdigit():
            raise InputError("claim_err_pick_episode")
        target = {"visit_id" if kind == "visit" else "admission_id": int(raw_id)}
        with current_runtime().db.session() as db:
            claim_id = open_claim(db, current_actor(), sep_number=sep or "", **target)
    except InputError as exc:
        invalid, messages = _marks(("sep_number",), exc)
        alert = None if isinstance(exc, FieldErrors) else input_error_alert(exc)
        return no_update, alert, invalid[0], messages[0], no_update
    return {"id": claim_id}, _ok("claim_created", "claim-created-ok"), False, "", ""


def _report(report, name: str):
    if report.already:
        return dbc.Alert(t("claim_import_already", name=name), color="info", className="mb-0", id="claim-imp-already")
    if report.ok:
        text = t("claim_import_ok", name=name, n=report.rows, moved=report.moved, updated=report.updated,
                 unchanged=report.unchanged)  # fmt: skip
        return dbc.Alert(text, color="success", className="mb-0", id="claim-imp-ok")
    alert = dbc.Alert(t("claim_import_errors", name=name, n=len(report.errors)), color="danger", className="mb-2")
    return html.Div([alert, row_errors_table(report.errors, table_id="claim-imp-errors", row_class="claim-imp-error")])


@page_callback(
    PAGE,
    Output(Ids.REPORT, "children"),
    Output(Ids.CHECKED, "data"),
    Output(Ids.APPLY, "disabled"),
    Output(Ids.APPLY_MSG, "children"),
    Input(Ids.UPLOAD, "contents"),
    State(Ids.UPLOAD, "filename"),
    prevent_initial_call=True,
)
def dry_run(contents: str | None, filename: str | None) -> tuple:
    """Check every line against the claims as they are; apply only when nothing was wrong."""
    if not may_write():
        return _read_only(), None, True, None
    if not contents:
        return None, None, True, None
    name = (filename or "-")[:100]
    try:
        with current_runtime().db.session() as db:
            report = check_claim_file(db, current_actor(), uploaded_bytes(contents))
    except InputError as exc:
        return input_error_alert(exc), None, True, None
    checked = {"sha256": report.sha256, "name": name} if report.ok and not report.already else None
    return _report(report, name), checked, checked is None, None


@page_callback(
    PAGE,
    Output(Ids.IMPORTED, "data"),
    Output(Ids.APPLY_MSG, "children", allow_duplicate=True),
    Output(Ids.REPORT, "children", allow_duplicate=True),
    Output(Ids.APPLY, "disabled", allow_duplicate=True),
    Input(Ids.APPLY, "n_clicks"),
    State(Ids.UPLOAD, "contents"),
    State(Ids.CHECKED, "data"),
    prevent_initial_call=True,
)
def apply(clicks: int | None, contents: str | None, checked: dict | None) -> tuple:
    """Apply the checked file: every line in one transaction, or none."""
    if not may_write():
        return no_update, _read_only(), no_update, True
    if not isinstance(checked, dict) or not contents:
        return no_update, input_error_alert(InputError("import_err_not_checked")), no_update, True
    name = str(checked.get("name"))
    try:
        with current_runtime().db.session() as db:
            report = apply_claim_file(db, current_actor(), uploaded_bytes(contents), str(checked.get("sha256")))
    except ClaimImportRefused as exc:
        return no_update, input_error_alert(exc), _report(exc.report, name), True
    except InputError as exc:
        return no_update, input_error_alert(exc), no_update, True
    if report.already:
        return no_update, _report(report, name), None, True
    done = t("claim_import_applied", n=report.rows, moved=report.moved, updated=report.updated)
    return clicks, dbc.Alert(done, color="success", className="mb-0", id="claim-imp-applied"), None, True
