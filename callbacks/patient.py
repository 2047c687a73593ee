"""Patient records: the search list (pages/patients.py) and the record page (pages/patient.py) — correction with a
message by each wrong field and the NIK confirmation, delete with a reason, merge and purge behind a confirmation
and the step-up check. Every change goes through ``data.patient_records``; roles are checked here again, since
nurses and doctors may open the record page but not change it."""

from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask_login import current_user

from auth.reauth import confirm_needed
from auth.session import current_actor
from callbacks.bed_changes import tell_live_side
from callbacks.registry import page_callback
from components.input_error import input_error_alert, input_error_text
from components.live_note import with_live_note
from components.patient_record import Ids
from components.shell import confirm_first_alert
from components.typed_date import read_typed_date
from data.patient_records import merge, purge, soft_delete, update_patient
from data.queue_registration import search_patients
from data.runtime import current_runtime
from data.schedules import local_today
from domain.errors import FieldErrors, InputError
from domain.formats import day_first, long_date
from domain.patient_rules import ADMIN_ROLES, EDITABLE_FIELDS, WRITE_ROLES, NikMismatch
from i18n.web import current_language, t
from pages.patients import SEARCH_MODES
from pages.patients import Ids as ListIds

LIST_PAGE = "pages.patients"
PAGE = "pages.patient"
INVALID_MARKED = tuple(f for f in EDITABLE_FIELDS if f != "sex")  # a radio group has no "invalid" look


def _alert(key: str, color: str, alert_id: str, **params: object) -> dbc.Alert:
    return dbc.Alert(t(key, **params), color=color, className="mb-0", id=alert_id)


def _forbidden() -> dbc.Alert:
    return _alert("err_forbidden", "danger", "pat-forbidden")


# ---- the search list --------------------------------------------------------------------------------------------


@page_callback(
    LIST_PAGE,
    Output(ListIds.SEARCH_FEEDBACK, "children"),
    Output(ListIds.HITS, "children"),
    Input(ListIds.SEARCH_SUBMIT, "n_clicks"),
    Input(ListIds.SEARCH_TEXT, "n_submit"),
    State(ListIds.SEARCH_BY, "value"),
    State(ListIds.SEARCH_TEXT, "value"),
    State(ListIds.SEARCH_BIRTH, "value"),
    prevent_initial_call=True,
)
def search(_clicks: int, _submit: int, mode: str, text: str | None, birth: str | None) -> tuple:
    """Find live records; each hit links to its record page. The search is audited (miss or hit)."""
    runtime, criteria = current_runtime(), mode if mode in SEARCH_MODES else "mrn"
    try:
        birth_date = read_typed_date(birth)
    except InputError as exc:
        return input_error_alert(exc), None
    with runtime.db.session() as session:  # a miss is audited too: return from inside, committed
        try:
            found = search_patients(
                session, runtime.cipher, current_actor(), **{criteria: (text or "").strip()}, birth_date=birth_date
            )
        except InputError as exc:
            return input_error_alert(exc), None
    lang = current_language()
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(p.mrn, href=f"/pasien/{p.mrn}")),
                html.Td(p.name),
                html.Td(long_date(p.birth_date, lang)),
                html.Td(t(f"reg_sex_{p.sex}")),
            ]
        )
        for p in found
    ]
    head = html.Thead(html.Tr([html.Th(t(k)) for k in ("reg_mrn", "reg_name", "reg_birth_date", "reg_sex")]))
    return None, dbc.Table([head, html.Tbody(rows)], hover=True, size="sm", className="mb-0", id="pat-hits-table")


# ---- correction -------------------------------------------------------------------------------------------------


def _mismatch_text(exc: NikMismatch) -> str:
    what = ", ".join(t(f"pat_mismatch_{m}") for m in exc.mismatches)
    return t("pat_nik_mismatch", what=what, **exc.params)


def _form_answer(
    feedback: object,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    confirm: str | None = None,
    version: object = no_update,
) -> tuple:
    """The save callback's outputs in order: feedback, each field's message, each field's invalid mark, each
    field's value (the stored form after a save; else what was typed stays), the NIK question, the version."""
    errors = errors or {}
    shown = [no_update] * len(EDITABLE_FIELDS)
    if values is not None:
        shown = [_shown(values[f]) for f in EDITABLE_FIELDS]
    return (
        feedback,
        *(errors.get(f) for f in EDITABLE_FIELDS),
        *(f in errors for f in INVALID_MARKED),
        *shown,
        confirm is not None,
        confirm,
        version,
    )


def _shown(value: object) -> object:
    return day_first(value) if isinstance(value, date) else (value or "")


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    [Output(Ids.field_error(f), "children") for f in EDITABLE_FIELDS],
    [Output(Ids.field(f), "invalid") for f in INVALID_MARKED],
    [Output(Ids.field(f), "value") for f in EDITABLE_FIELDS],
    Output(Ids.NIK_CONFIRM, "is_open"),
    Output(Ids.NIK_CONFIRM_TEXT, "children"),
    Output(Ids.VERSION, "data"),
    Input(Ids.SAVE, "n_clicks"),
    Input(Ids.NIK_CONFIRM_SAVE, "n_clicks"),
    [State(Ids.field(f), "value") for f in EDITABLE_FIELDS],
    State(Ids.PATIENT_ID, "data"),
    State(Ids.VERSION, "data"),
    running=[(Output(Ids.SAVE, "disabled"), True, False)],
    prevent_initial_call=True,
)
def save(_save: int, _confirm: int, *values: object) -> tuple:
    """Save the corrected record; wrong fields each get their message and keep what was typed; a NIK that
    disagrees with the birth date or sex is asked about first ("it is the number on the KTP")."""
    *typed, patient_id, version = values
    if not current_user.roles & WRITE_ROLES:
        return _form_answer(_forbidden())
    form = dict(zip(EDITABLE_FIELDS, typed, strict=True))
    runtime = current_runtime()
    try:
        form["birth_date"] = read_typed_date(form["birth_date"])  # type: ignore[arg-type]
    except InputError as exc:
        return _form_answer(_alert("reg_new_fix", "warning", "pat-fix"), errors={"birth_date": input_error_text(exc)})
    try:
        with runtime.db.session() as session:
            saved = update_patient(
                session,
                runtime.cipher,
                current_actor(),
                int(patient_id),  # type: ignore[arg-type]
                version=version,  # type: ignore[arg-type]
                values=form,
                today=local_today(session, current_user.site_id),
                nik_confirmed=ctx.triggered_id == Ids.NIK_CONFIRM_SAVE,
            )
    except NikMismatch as exc:
        text = _mismatch_text(exc)
        return _form_answer(None, errors={"nik": text}, confirm=text)
    except FieldErrors as exc:
        errors = {f: input_error_text(e) for f, e in exc.errors.items()}
        return _form_answer(_alert("reg_new_fix", "warning", "pat-fix"), errors=errors)
    except InputError as exc:
        return _form_answer(input_error_alert(exc))
    if not saved.changed:
        return _form_answer(_alert("pat_nothing_changed", "info", "pat-unchanged"), values=saved.values)
    told = tell_live_side(saved.beds)
    fields = ", ".join(t(f"pat_field_{f}") for f in saved.changed)
    return _form_answer(
        with_live_note(_alert("pat_saved", "success", "pat-saved", fields=fields), told),
        values=saved.values,
        version=saved.version,
    )


@page_callback(
    PAGE,
    Output(Ids.NIK_CONFIRM, "is_open", allow_duplicate=True),
    Input(Ids.field("nik"), "value"),
    prevent_initial_call=True,
)
def withdraw_nik_question(_nik: str | None) -> bool:
    """Another NIK typed: the question was about the one before, so its "save anyway" goes."""
    return False


# ---- delete, merge, purge ---------------------------------------------------------------------------------------


@page_callback(
    PAGE,
    Output(Ids.DELETE_MODAL, "is_open"),
    Input(Ids.DELETE_OPEN, "n_clicks"),
    Input(Ids.DELETE_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def toggle_delete(_open: int, _cancel: int) -> bool:
    return ctx.triggered_id == Ids.DELETE_OPEN


@page_callback(
    PAGE,
    Output(Ids.DELETE_REASON_ERROR, "children"),
    Output(Ids.DELETE_REASON, "invalid"),
    Output(Ids.DELETE_MODAL, "is_open", allow_duplicate=True),
    Output(Ids.STATE, "children"),
    Output(Ids.FIELDSET, "disabled"),
    Input(Ids.DELETE_CONFIRM, "n_clicks"),
    State(Ids.DELETE_REASON, "value"),
    State(Ids.PATIENT_ID, "data"),
    State(Ids.VERSION, "data"),
    running=[(Output(Ids.DELETE_CONFIRM, "disabled"), True, False)],
    prevent_initial_call=True,
)
def delete(_clicks: int, reason: str | None, patient_id: int, version: int) -> tuple:
    """Delete softly with the reason typed in the dialog (kept, marked deleted, found by no search)."""
    if not current_user.roles & WRITE_ROLES:
        return t("err_forbidden"), True, no_update, no_update, no_update
    if confirm_needed():  # the dialog and the reason stay
        return t("thr_confirm_first"), False, no_update, no_update, no_update
    try:
        with current_runtime().db.session() as session:
            soft_delete(
                session, current_runtime().cipher, current_actor(), int(patient_id), version=version, reason=reason
            )
    except InputError as exc:
        return input_error_text(exc), True, no_update, no_update, no_update
    return None, False, False, _alert("pat_deleted", "success", "pat-deleted"), True


@page_callback(
    PAGE,
    Output(Ids.MERGE_CONFIRM, "displayed"),
    Output(Ids.MERGE_CONFIRM, "message"),
    Output(Ids.MERGE_CHOSEN, "data"),
    Input({"type": Ids.MERGE, "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def ask_merge(clicks: list[int | None]) -> tuple:
    if not any(clicks) or not isinstance(ctx.triggered_id, dict):
        return no_update, no_update, no_update
    return True, t("pat_merge_confirm"), ctx.triggered_id["index"]


def _moved_text(moved: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(moved.items())) or "—"


@page_callback(
    PAGE,
    Output(Ids.MERGE_FEEDBACK, "children"),
    Input(Ids.MERGE_CONFIRM, "submit_n_clicks"),
    State(Ids.MERGE_CHOSEN, "data"),
    State(Ids.PATIENT_ID, "data"),
    prevent_initial_call=True,
)
def do_merge(_clicks: int, duplicate_id: int | None, patient_id: int) -> dbc.Alert:
    """Merge the chosen duplicate into this record (admins): its visits, stays and bills move here."""
    if not current_user.roles & ADMIN_ROLES:
        return _forbidden()
    if not isinstance(duplicate_id, int):
        return _alert("pat_merge_choose", "warning", "pat-merge-choose")
    if confirm_needed():
        return confirm_first_alert()
    runtime = current_runtime()
    try:
        with runtime.db.session() as session:
            result = merge(session, runtime.cipher, current_actor(), keep_id=int(patient_id), duplicate_id=duplicate_id)
    except InputError as exc:
        return input_error_alert(exc)
    return dbc.Alert(
        [t("pat_merged", moved=_moved_text(result.moved)), " ", html.A(t("pat_reload"), href="", id="pat-reload")],
        color="success",
        className="mb-0",
        id="pat-merged",
    )


@page_callback(
    PAGE,
    Output(Ids.PURGE_CONFIRM, "displayed"),
    Input(Ids.PURGE, "n_clicks"),
    prevent_initial_call=True,
)
def ask_purge(_clicks: int) -> bool:
    return True


@page_callback(
    PAGE,
    Output(Ids.PURGE_FEEDBACK, "children"),
    Input(Ids.PURGE_CONFIRM, "submit_n_clicks"),
    State(Ids.PATIENT_ID, "data"),
    prevent_initial_call=True,
)
def do_purge(_clicks: int, patient_id: int) -> dbc.Alert:
    """Erase the record's name and identifiers after the retention period (admins), keeping an anonymous stub."""
    if not current_user.roles & ADMIN_ROLES:
        return _forbidden()
    if confirm_needed():
        return confirm_first_alert()
    try:
        with current_runtime().db.session() as session:
            purge(session, current_actor(), int(patient_id), today=local_today(session, current_user.site_id))
    except InputError as exc:
        return input_error_alert(exc)
    return _alert("pat_purged", "success", "pat-purged")
