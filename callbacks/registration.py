"""Registration desk: search and register patients, book a session, take an admission number. Every change goes
through ``data.queue_registration``; queue events are published after the transaction has committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.ticket import ticket_summary
from components.typed_date import read_typed_date
from data.queue_lookup import serving_admission_tickets
from data.queue_registration import (
    AgeOutsideRange,
    PatientMatch,
    PossibleDuplicate,
    SavedPatient,
    register_patient,
    register_visit,
    search_patients,
    take_admission_ticket,
)
from data.queue_tickets import publish
from data.runtime import Runtime, current_runtime
from data.schedules import SessionInfo, day_sessions, local_today
from domain.clock import utcnow
from domain.errors import FieldErrors, InputError
from domain.formats import clock_range, day_first, long_date
from domain.queue_ticket import ticket_facts
from i18n.web import current_language, t
from pages.registration import NEW_PATIENT_FIELDS, NO_TICKET, SEARCH_MODES, TOKEN, Ids, new_patient_form

PAGE = "pages.registration"
# Which form field each of the service's fields is.
FORM_FIELD = {"name": "name", "birth_date": "birth", "sex": "sex", "phone": "phone", "nik": "nik", "bpjs": "bpjs"}
REQUIRED_MESSAGE = {
    "name": "err_full_name_required",
    "birth": "err_birth_date_required",
    "sex": "reg_sex_required",
    "phone": "reg_phone_required",
}
INPUT_FIELDS = tuple(f for f in NEW_PATIENT_FIELDS if f != "sex")


def _alert(message: str, alert_id: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(message, color=color, className="mb-0", id=alert_id)


def _error(exc: InputError, alert_id: str) -> dbc.Alert:
    return _alert(t(exc.key, **exc.params), alert_id)


def _as_data(patient: PatientMatch) -> dict:
    """A patient as the page keeps it in the browser (what the desk already sees on screen)."""
    return {
        "id": patient.id,
        "mrn": patient.mrn,
        "name": patient.name,
        "birth_date": patient.birth_date.isoformat(),
        "sex": patient.sex,
        "has_bpjs": patient.has_bpjs,
    }


def _ticket_id(value: str | None) -> int | None:
    if not value or value == NO_TICKET:
        return None
    if not value.isdigit():
        raise InputError("err_admission_ticket")
    return int(value)


# ---- search and pick --------------------------------------------------------------------------------------------


@page_callback(
    PAGE,
    Output(Ids.SEARCH_LABEL, "children"),
    Input(Ids.SEARCH_BY, "value"),
)
def search_label(mode: str) -> str:
    return t(f"reg_search_text_{mode if mode in SEARCH_MODES else 'mrn'}")


def _hits_table(hits: list[dict], table_id: str = "reg-hits-table") -> dbc.Table:
    head = html.Thead(
        html.Tr([*(html.Th(t(k)) for k in ("reg_mrn", "reg_name", "reg_birth_date", "reg_sex", "reg_bpjs")), html.Th()])
    )
    rows = [
        html.Tr(
            [
                html.Td(h["mrn"]),
                html.Td(h["name"]),
                html.Td(long_date(date.fromisoformat(h["birth_date"]), current_language())),
                html.Td(h["sex"]),
                html.Td(t("reg_yes") if h["has_bpjs"] else t("reg_no")),
                html.Td(
                    dbc.Button(
                        t("reg_pick"),
                        id={"type": Ids.PICK, "index": h["id"]},
                        size="sm",
                        color="primary",
                        outline=True,
                    )
                ),
            ]
        )
        for h in hits
    ]
    return dbc.Table([head, html.Tbody(rows)], hover=True, size="sm", className="reg-hits mb-0", id=table_id)


@page_callback(
    PAGE,
    Output(Ids.SEARCH_FEEDBACK, "children"),
    Output(Ids.HITS, "children"),
    Output(Ids.HITS_DATA, "data"),
    Input(Ids.SEARCH_SUBMIT, "n_clicks"),
    Input(Ids.SEARCH_TEXT, "n_submit"),
    State(Ids.SEARCH_BY, "value"),
    State(Ids.SEARCH_TEXT, "value"),
    State(Ids.SEARCH_BIRTH, "value"),
    prevent_initial_call=True,
)
def search(_clicks: int, _submit: int, mode: str, text: str | None, birth: str | None) -> tuple:
    text = (text or "").strip()
    criteria = mode if mode in SEARCH_MODES else "mrn"  # the search function's keyword of that name
    runtime = current_runtime()
    try:
        birth_date = read_typed_date(birth)
    except InputError as exc:
        return _error(exc, "reg-search-error"), None, []
    with runtime.db.session() as session:  # a miss is audited too: its message returns from inside, committed
        try:
            found = search_patients(session, runtime.cipher, current_actor(), **{criteria: text}, birth_date=birth_date)
        except InputError as exc:
            return _error(exc, "reg-search-error"), None, []
    hits = [_as_data(p) for p in found]
    return None, _hits_table(hits), hits


@page_callback(
    PAGE,
    Output(Ids.PATIENT, "data"),
    Output(Ids.PAYER, "value"),
    Input({"type": Ids.PICK, "index": ALL}, "n_clicks"),
    State(Ids.HITS_DATA, "data"),
    prevent_initial_call=True,
)
def pick(clicks: list[int | None], hits: list[dict] | None) -> tuple:
    if not any(clicks) or not isinstance(ctx.triggered_id, dict):
        return no_update, no_update
    chosen = next((h for h in hits or [] if h["id"] == ctx.triggered_id["index"]), None)
    if chosen is None:
        return no_update, no_update
    return chosen, "jkn" if chosen["has_bpjs"] else "non_jkn"


@page_callback(
    PAGE,
    Output(Ids.CHOSEN, "children"),
    Input(Ids.PATIENT, "data"),
)
def show_chosen(patient: dict | None) -> html.Div:
    if not patient:
        return dbc.Alert(t("reg_no_patient"), color="secondary", className="mb-0 py-2", id="reg-chosen-none")
    born = long_date(date.fromisoformat(patient["birth_date"]), current_language())
    return dbc.Alert(
        [
            html.I(className="bi bi-person-check me-2"),
            html.Strong(patient["name"], id="reg-chosen-name"),
            html.Span(f" · {t('reg_mrn')} {patient['mrn']} · {born} · {patient['sex']} · ", className="small"),
            html.Span(t("reg_bpjs") + ": " + (t("reg_yes") if patient["has_bpjs"] else t("reg_no")), className="small"),
            dcc.Link(
                t("pat_open_record"),
                href=f"/pasien/{patient['mrn']}",
                className="alert-link small ms-2",
                id="reg-record-link",
            ),
        ],
        color="info",
        className="mb-0 py-2",
    )


# ---- new patient ------------------------------------------------------------------------------------------------


@page_callback(
    PAGE,
    Output(Ids.NEW_COLLAPSE, "is_open"),
    Input(Ids.NEW_TOGGLE, "n_clicks"),
    State(Ids.NEW_COLLAPSE, "is_open"),
    prevent_initial_call=True,
)
def toggle_new(_clicks: int, is_open: bool) -> bool:
    return not is_open


@dataclass(frozen=True)
class NewPatientOutcome:
    """Everything the new-patient callback sets, by name (the outputs' order is ``outputs()``'s)."""

    feedback: object = None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] | None = None  # the stored values, shown in place of what was typed
    locked: bool = False
    duplicates: list[dict] | None = None
    patient: dict | None = None

    def outputs(self) -> tuple:
        shown = self.values or {}
        return (
            self.feedback,
            *(self.errors.get(f) for f in NEW_PATIENT_FIELDS),
            *(f in self.errors for f in INPUT_FIELDS),
            *(shown.get(f, no_update) for f in NEW_PATIENT_FIELDS),
            self.locked,
            {} if self.locked else {"display": "none"},
            self.duplicates is not None,
            t("reg_possible_duplicate", n=len(self.duplicates)) if self.duplicates else None,
            _hits_table(self.duplicates, "reg-new-duplicate-table") if self.duplicates else None,
            self.duplicates if self.duplicates is not None else no_update,
            self.patient or no_update,
            ("jkn" if self.patient["has_bpjs"] else "non_jkn") if self.patient else no_update,
        )


@page_callback(
    PAGE,
    Output(Ids.NEW_FEEDBACK, "children"),
    [Output(Ids.new_field_error(f), "children") for f in NEW_PATIENT_FIELDS],
    [Output(Ids.new_field(f), "invalid") for f in INPUT_FIELDS],
    [Output(Ids.new_field(f), "value") for f in NEW_PATIENT_FIELDS],
    Output(Ids.NEW_FIELDSET, "disabled"),
    Output(Ids.NEW_ANOTHER, "style"),
    Output(Ids.NEW_DUPLICATE, "is_open"),
    Output(Ids.NEW_DUPLICATE_TEXT, "children"),
    Output(Ids.NEW_DUPLICATE_HITS, "children"),
    Output(Ids.HITS_DATA, "data", allow_duplicate=True),
    Output(Ids.PATIENT, "data", allow_duplicate=True),
    Output(Ids.PAYER, "value", allow_duplicate=True),
    Input(Ids.NEW_SUBMIT, "n_clicks"),
    Input(Ids.NEW_CONFIRM, "n_clicks"),
    [State(Ids.new_field(f), "value") for f in NEW_PATIENT_FIELDS],
    State(Ids.NEW_TOKEN, "data"),
    running=[(Output(Ids.NEW_SUBMIT, "disabled"), True, False)],
    prevent_initial_call=True,
)
def create_patient(_clicks: int, _confirm: int, *values: str | None) -> tuple:
    """Save the form once (its token makes a repeat return the same patient), then lock it showing what was
    stored. Wrong fields get their own message and keep what was typed; a possible duplicate asks first."""
    *typed, token = values
    form = dict(zip(NEW_PATIENT_FIELDS, ((v or "").strip() for v in typed), strict=True))
    missing = {f: t(key) for f, key in REQUIRED_MESSAGE.items() if not form[f]}  # plainer than "wrong format"
    try:
        saved = _register_new(form, token, warn_duplicate=ctx.triggered_id != Ids.NEW_CONFIRM)
    except PossibleDuplicate as exc:
        return NewPatientOutcome(duplicates=[_as_data(p) for p in exc.matches]).outputs()
    except FieldErrors as exc:  # every wrong field at once, each next to itself
        errors = {FORM_FIELD[f]: t(e.key, **e.params) for f, e in exc.errors.items()} | missing
        return NewPatientOutcome(_alert(t("reg_new_fix"), "reg-new-error", "warning"), errors).outputs()
    except InputError as exc:
        return NewPatientOutcome(_error(exc, "reg-new-error")).outputs()
    key = "reg_new_repeated" if saved.repeated else "reg_new_saved"
    shown = {
        "name": saved.name,
        "birth": day_first(saved.birth_date),
        "sex": saved.sex,
        "phone": saved.phone or "",
        "nik": saved.nik or "",
        "bpjs": saved.bpjs or "",
    }
    done = _alert(t(key, mrn=saved.mrn), "reg-new-saved", "success")
    return NewPatientOutcome(done, values=shown, locked=True, patient=_as_data(saved)).outputs()


def _register_new(form: dict[str, str], token: str | None, *, warn_duplicate: bool) -> SavedPatient:
    """``register_patient`` with the form's fields. A birth date that cannot be read is checked as missing, so every
    other wrong field is named with it, not only once the date is put right; its own message says why."""
    runtime = current_runtime()
    unreadable = None
    try:
        birth = read_typed_date(form["birth"])
    except InputError as exc:
        birth, unreadable = None, exc
    try:
        return _registered(runtime, form, birth, token, warn_duplicate=warn_duplicate)
    except FieldErrors as exc:
        if unreadable is None:
            raise
        raise FieldErrors(exc.errors | {"birth_date": unreadable}) from None


def _registered(
    runtime: Runtime, form: dict[str, str], birth: date | None, token: str | None, *, warn_duplicate: bool
) -> SavedPatient:
    with runtime.db.session() as session:
        return register_patient(
            session,
            runtime.cipher,
            current_actor(),
            name=form["name"],
            birth_date=birth,
            sex=form["sex"],
            phone=form["phone"],
            nik=form["nik"],
            bpjs=form["bpjs"],
            today=local_today(session, current_user.site_id),
            submission_token=token if isinstance(token, str) and TOKEN.fullmatch(token) else None,
            warn_duplicate=warn_duplicate,
        )


@page_callback(
    PAGE,
    Output(Ids.NEW_BODY, "children"),
    Input(Ids.NEW_ANOTHER, "n_clicks"),
    prevent_initial_call=True,
)
def another_patient(_clicks: int) -> html.Div:
    """A fresh, empty form with a new token for the next new patient."""
    return new_patient_form()


# ---- sessions, registration, admission number -------------------------------------------------------------------


def _session_option(info: SessionInfo) -> dict:
    hours = clock_range(info.start_time, info.end_time, current_language())
    if info.closed_reason:
        meta = t("reg_session_closed", reason=info.closed_reason)
    elif info.over:
        meta = t("reg_session_over")
    else:
        meta = t(
            "reg_session_quota",
            jkn=max(info.quota_jkn - info.booked_jkn, 0),
            jkn_total=info.quota_jkn,
            non_jkn=max(info.quota_non_jkn - info.booked_non_jkn, 0),
            non_jkn_total=info.quota_non_jkn,
        )
    label = html.Span(
        [
            html.Strong(info.poli_name),
            " — ",
            info.doctor_name,
            html.Div(f"{hours} · {meta}", className="reg-session-meta"),
        ]
    )
    return {"label": label, "value": info.id, "disabled": not info.open}


@page_callback(
    PAGE,
    Output(Ids.SESSION, "options"),
    Output(Ids.ADMISSION, "options"),
    Input(Ids.VERSION, "data"),
    Input(Ids.PATIENT, "data"),
    Input(Ids.REFRESH, "n_intervals"),
)
def load_choices(_version: int, _patient: dict | None, _tick: int) -> tuple:
    """Today's sessions with their places left, and the desk numbers now served: fresh for each patient."""
    site_id, now = current_user.site_id, utcnow()
    with current_runtime().db.session() as session:
        today = local_today(session, site_id, now)
        sessions = day_sessions(session, site_id, today, now)
        admissions = serving_admission_tickets(session, site_id, now)
    admission_options = [{"label": t("reg_admission_none"), "value": NO_TICKET}] + [
        {"label": f"{a.label} — {a.counter}" if a.counter else a.label, "value": str(a.id)} for a in admissions
    ]
    return [_session_option(s) for s in sessions], admission_options


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    Output(Ids.RESULT, "children"),
    Output(Ids.VERSION, "data"),
    Output(Ids.ADMISSION, "value"),
    Output(Ids.AGE_WARNING, "is_open"),
    Output(Ids.AGE_WARNING_TEXT, "children"),
    Input(Ids.SUBMIT, "n_clicks"),
    Input(Ids.AGE_CONFIRM, "n_clicks"),
    State(Ids.PATIENT, "data"),
    State(Ids.SESSION, "value"),
    State(Ids.PAYER, "value"),
    State(Ids.REFERRAL, "value"),
    State(Ids.ADMISSION, "value"),
    State(Ids.VERSION, "data"),
    running=[(Output(Ids.SUBMIT, "disabled"), True, False)],  # a double click must not book twice
    prevent_initial_call=True,
)
def register(
    _clicks: int,
    _confirmed: int,
    patient: dict | None,
    session_id: int | None,
    payer: str | None,
    referral: str | None,
    admission_id: str | None,
    version: int,
) -> tuple:
    runtime, now = current_runtime(), utcnow()
    referral = (referral or "").strip()
    try:
        if not patient or not isinstance(patient.get("id"), int):
            raise InputError("err_patient_unknown")
        if session_id is None:
            raise InputError("err_session_unknown")
        with runtime.db.session() as session:
            booked = register_visit(
                session,
                current_actor(),
                patient_id=patient["id"],
                session_id=session_id,
                payer=payer or "",
                now=now,
                admission_ticket_id=_ticket_id(admission_id),
                referral_number=referral if payer == "jkn" and referral else None,
                warn_age=ctx.triggered_id != Ids.AGE_CONFIRM,
            )
    except AgeOutsideRange as exc:  # nothing booked yet: the clerk confirms or changes the choice
        return None, None, no_update, no_update, True, t(exc.key, **exc.params)
    except InputError as exc:  # no ticket stays on screen that is not this patient's
        return _error(exc, "reg-error"), None, version + 1, no_update, False, None
    publish(runtime.live, current_user.site_id, list(booked.events))
    facts = ticket_facts(booked.status(), runtime.settings.timezone, current_language())
    summary = ticket_summary(
        facts,
        f"{patient['name']} · {t('reg_mrn')} {patient['mrn']}",
        f"/antrean/tiket/{facts.booking_code}?cetak=1",
        f"/antrean/status/{facts.booking_code}",
    )
    line = facts.poli_line
    done = _alert(
        t("reg_registered", name=patient["name"], label=line.label if line else "", poli=facts.poli),
        "reg-registered",
        "success",
    )
    return done, summary, version + 1, NO_TICKET, False, None


@page_callback(
    PAGE,
    Output(Ids.RESULT, "children", allow_duplicate=True),
    Output(Ids.FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.AGE_WARNING, "is_open", allow_duplicate=True),
    Input(Ids.PATIENT, "data"),
    Input(Ids.SESSION, "value"),
    prevent_initial_call=True,
)
def forget_outcome(_patient: dict | None, _session: int | None) -> tuple:
    """Another patient: the last one's ticket and message go. Another patient or session: a warning given for
    the old choice is withdrawn, so its confirmation cannot book the new one."""
    if ctx.triggered_id == Ids.PATIENT:
        return None, None, False
    return no_update, no_update, False


@page_callback(
    PAGE,
    Output(Ids.ADMISSION_RESULT, "children"),
    Input(Ids.ADMISSION_TAKE, "n_clicks"),
    running=[(Output(Ids.ADMISSION_TAKE, "disabled"), True, False)],
    prevent_initial_call=True,
)
def take_admission(_clicks: int) -> html.Div:
    runtime = current_runtime()
    with runtime.db.session() as session:
        ticket, event = take_admission_ticket(session, current_user.site_id, utcnow())
        ticket_id, label = ticket.id, ticket.label
    publish(runtime.live, current_user.site_id, [event])
    return html.Div(
        [
            html.Div(label, className="reg-admission-number", id="reg-admission-number"),
            dbc.Button(
                [html.I(className="bi bi-printer me-1"), t("reg_admission_print")],
                href=f"/antrean/tiket-loket/{ticket_id}?cetak=1",
                target="_blank",
                external_link=True,
                color="primary",
                size="sm",
                className="mt-2",
                id="reg-admission-print",
            ),
        ]
    )
