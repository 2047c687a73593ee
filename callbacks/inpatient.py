"""Rawat inap page: every change goes through ``data.admissions`` (audited) and is published after its commit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.development.base_component import Component
from flask_login import current_user

from auth.session import current_actor
from callbacks.bed_changes import tell_live_side
from callbacks.registry import clientside_callback, page_callback
from components.input_error import input_error_alert
from components.live_note import with_live_note
from components.local_time import local_when
from components.typed_date import read_typed_date
from components.typed_time import read_typed_time
from data import admissions, inpatient_views, wards
from data.queue_registration import search_patients
from data.runtime import current_runtime
from domain.clock import utcnow
from domain.errors import InputError
from domain.formats import day_first
from domain.length_of_stay import may_move_patients
from i18n.web import t
from pages.inpatient import Ids

PAGE = "pages.inpatient"
TRANSFER, DISCHARGE = "transfer", "discharge"


def _done(key: str, **params: object) -> dbc.Alert:
    return dbc.Alert(t(key, **params), color="success", className="mb-0", dismissable=True)


def _told(result: admissions.AdtResult, key: str, **params: object) -> Component:
    """The confirmation of a committed move, once the clinical step and the stations are told of it."""
    return with_live_note(_done(key, **params), tell_live_side(result.beds))


def _check_may_move() -> None:
    if not may_move_patients(current_user.roles):
        raise InputError("adt_err_front_desk_moves")


def _row(row: inpatient_views.AdmissionRow, movable: bool) -> html.Tr:
    key = {"admission": row.admission_id, "version": row.version, "bed": row.bed}
    actions = (
        dbc.ButtonGroup(
            [
                dbc.Button(
                    t("inpatient_transfer"),
                    id={"type": Ids.TRANSFER_OPEN, **key},
                    size="sm",
                    color="secondary",
                    outline=True,
                ),
                dbc.Button(
                    t("inpatient_discharge"),
                    id={"type": Ids.DISCHARGE_OPEN, **key},
                    size="sm",
                    color="danger",
                    outline=True,
                ),
            ]
        )
        if movable
        else ""
    )
    name = [row.patient] + ([" ", dbc.Badge(t("inpatient_incomplete"), color="warning")] if row.incomplete else [])
    return html.Tr(
        [
            html.Td(row.bed, className="text-nowrap"),
            html.Td(row.ward),
            html.Td(name),
            html.Td(row.mrn),
            html.Td(local_when(row.admitted_at)),
            html.Td(t("inpatient_los_days", n=row.los_days)),
            html.Td(t(f"inpatient_source_{row.source}")),
            html.Td(actions),
        ],
        id=f"inpatient-row-{row.bed}",
    )


@page_callback(
    PAGE,
    Output(Ids.LIST, "children"),
    Output(Ids.WARD, "options"),
    Output(Ids.MONITOR, "options"),
    Output(Ids.TRANSFER_BED, "options"),
    Input(Ids.VERSION, "data"),
)
def render(_version: int) -> tuple:
    site = current_user.site_id
    with current_runtime().db.session() as db:
        rows = inpatient_views.current_admissions(db, site, utcnow())
        ward_options = [{"label": w.name, "value": w.id} for w in wards.list_wards(db, site) if w.active]
        monitors = inpatient_views.free_monitors(db, site)
        beds = inpatient_views.available_beds(db, site)
    movable = may_move_patients(current_user.roles)
    columns = ("bed", "ward", "patient", "mrn", "since", "los", "source")
    head = html.Thead(html.Tr([html.Th(t(f"inpatient_col_{c}")) for c in columns] + [html.Th("")]))
    table = (
        dbc.Table([head, html.Tbody([_row(r, movable) for r in rows])], hover=True, responsive=True, className="mb-0")
        if rows
        else html.P(t("inpatient_list_empty"), className="text-body-secondary m-3")
    )
    bed_options = [
        {"label": t("inpatient_bed_option_ward", bed=b.code, ward=b.ward, care_class=b.care_class), "value": b.id}
        for b in beds
    ]
    return table, ward_options, [{"label": m, "value": m} for m in monitors], bed_options


@page_callback(PAGE, Output(Ids.BED, "options"), Input(Ids.WARD, "value"), Input(Ids.VERSION, "data"))
def ward_beds(ward_id: int | None, _version: int) -> list[dict]:
    if not ward_id:
        return []
    with current_runtime().db.session() as db:
        beds = inpatient_views.available_beds(db, current_user.site_id, ward_id)
    return [{"label": t("inpatient_bed_option", bed=b.code, care_class=b.care_class), "value": b.id} for b in beds]


@page_callback(
    PAGE,
    Output(Ids.PATIENT, "options"),
    Output(Ids.PATIENT, "value"),
    Output(Ids.SEARCH_FEEDBACK, "children"),
    Output(Ids.BPJS_PATIENTS, "data"),
    Input(Ids.SEARCH, "n_clicks"),
    State(Ids.SEARCH_MRN, "value"),
    State(Ids.SEARCH_NAME, "value"),
    State(Ids.SEARCH_BIRTH, "value"),
    prevent_initial_call=True,
)
def search(_clicks: int, mrn: str | None, name: str | None, birth: str | None) -> tuple:
    runtime = current_runtime()
    try:
        born = read_typed_date(birth)
    except InputError as exc:
        return [], None, input_error_alert(exc), []
    with runtime.db.session() as db:  # a miss is audited too: its message returns from inside, committed
        try:
            found = search_patients(
                db, runtime.cipher, current_actor(), mrn=mrn or "", name=name or "", birth_date=born
            )
        except InputError as exc:
            return [], None, input_error_alert(exc), []
    options = [{"label": f"{p.mrn} · {p.name} · {day_first(p.birth_date)}", "value": p.id} for p in found]
    return options, options[0]["value"] if len(options) == 1 else None, None, [p.id for p in found if p.has_bpjs]


@page_callback(
    PAGE,
    Output(Ids.PAYER, "value"),
    Input(Ids.PATIENT, "value"),
    State(Ids.BPJS_PATIENTS, "data"),
    prevent_initial_call=True,
)
def default_payer(patient_id: int | None, with_card: list[int] | None) -> str:
    """JKN for a patient with a BPJS card number on record, else self-pay; the desk may change it."""
    return "jkn" if patient_id in (with_card or []) else "umum"


@page_callback(
    PAGE,
    Output(Ids.ADMIT_FEEDBACK, "children"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input(Ids.ADMIT, "n_clicks"),
    Input(Ids.ADMIT_ER, "n_clicks"),
    State(Ids.PATIENT, "value"),
    State(Ids.SOURCE, "value"),
    State(Ids.PAYER, "value"),
    State(Ids.BED, "value"),
    State(Ids.MONITOR, "value"),
    State(Ids.MONITOR_TYPED, "value"),
    State(Ids.ER_NAME, "value"),
    State(Ids.ER_SEX, "value"),
    State(Ids.ER_AGE, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def admit(
    _admit: int,
    _er: int,
    patient_id: int | None,
    source: str | None,
    payer: str | None,
    bed_id: int | None,
    monitor: str | None,
    typed: str | None,
    er_name: str | None,
    er_sex: str | None,
    er_age: str | None,
    version: int,
) -> tuple:
    runtime = current_runtime()
    device = (typed or "").strip() or monitor
    try:
        with runtime.db.session() as db:
            if ctx.triggered_id == Ids.ADMIT_ER:
                result = admissions.admit_emergency(
                    db,
                    runtime.cipher,
                    current_actor(),
                    name_hint=er_name or "",
                    sex=er_sex or "L",
                    approx_age_years=er_age,
                    bed_id=bed_id or 0,
                    device_id=device,
                    payer=payer or "",
                )
            else:
                result = admissions.admit(
                    db,
                    current_actor(),
                    patient_id=patient_id or 0,
                    bed_id=bed_id or 0,
                    source=source or "desk",
                    device_id=device,
                    payer=payer or "",
                )
            bed = result.beds[0].code
    except InputError as exc:
        return input_error_alert(exc), no_update  # the form keeps what was chosen
    return _told(result, "inpatient_admitted", bed=bed), version + 1


@page_callback(
    PAGE,
    Output(Ids.CHOSEN, "data"),
    Output(Ids.TRANSFER_MODAL, "is_open"),
    Output(Ids.TRANSFER_TITLE, "children"),
    Output(Ids.DISCHARGE_MODAL, "is_open"),
    Output(Ids.DISCHARGE_TITLE, "children"),
    Output(Ids.LIST_FEEDBACK, "children"),
    Input({"type": Ids.TRANSFER_OPEN, "admission": ALL, "version": ALL, "bed": ALL}, "n_clicks"),
    Input({"type": Ids.DISCHARGE_OPEN, "admission": ALL, "version": ALL, "bed": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def open_action(_transfers: list, _discharges: list) -> tuple:
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        return (no_update,) * 6  # the list was re-drawn: nothing was clicked
    try:
        _check_may_move()
    except InputError as exc:
        return no_update, False, no_update, False, no_update, input_error_alert(exc)
    chosen = dict(ctx.triggered_id)
    is_transfer = chosen.pop("type") == Ids.TRANSFER_OPEN
    title = t("inpatient_transfer_title" if is_transfer else "inpatient_discharge_title", bed=chosen["bed"])
    return chosen, is_transfer, title, not is_transfer, title, None


@page_callback(
    PAGE,
    Output(Ids.TRANSFER_FEEDBACK, "children"),
    Output(Ids.TRANSFER_MODAL, "is_open", allow_duplicate=True),
    Output(Ids.LIST_FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input(Ids.TRANSFER_SAVE, "n_clicks"),
    State(Ids.CHOSEN, "data"),
    State(Ids.TRANSFER_BED, "value"),
    State(Ids.TRANSFER_MONITOR, "value"),
    State(Ids.TRANSFER_MONITOR_ID, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def save_transfer(
    _clicks: int, chosen: dict | None, bed_id: int | None, monitor: str | None, device: str | None, version: int
) -> tuple:
    typed = (device or "").strip()
    try:
        _check_may_move()
        if not chosen:
            raise InputError("adt_err_admission_unknown")
        monitor = _transfer_monitor(monitor, typed)
        with current_runtime().db.session() as db:
            result = admissions.transfer(
                db,
                current_actor(),
                admission_id=chosen["admission"],
                to_bed_id=bed_id or 0,
                monitor=monitor,
                version=chosen["version"],
            )
            target = result.beds[1].code
    except InputError as exc:
        return input_error_alert(exc), no_update, no_update, no_update
    return None, False, _told(result, "inpatient_transferred", bed=chosen["bed"], to=target), version + 1


def _transfer_monitor(choice: str | None, typed: str) -> str:
    """The transfer's monitor (``admissions.transfer``) from the choice and the id typed or scanned: an id typed
    under another choice is never dropped without a word, nor is "another monitor" without its id."""
    if choice == "other":
        if not typed:
            raise InputError("adt_err_device_missing")
        return typed
    if typed:
        raise InputError("adt_err_device_typed_unused", device_id=typed)
    return choice or admissions.MONITOR_FOLLOWS


# The discharge's own fields for the kind chosen: the time of death for "deceased", the hospital for "referred"
# (what stays typed in a hidden field is ignored: the server keeps each only for its kind).
clientside_callback(
    'function (kind) { return [kind !== "deceased", kind !== "referred"]; }',
    Output(Ids.DIED_FIELDS, "hidden"),
    Output(Ids.REFERRED_FIELDS, "hidden"),
    Input(Ids.DISCHARGE_KIND, "value"),
)


# A monitor id typed or scanned in the transfer form is the monitor to pair: its choice follows.
clientside_callback(
    'function (typed) { return typed && typed.trim() ? "other" : window.dash_clientside.no_update; }',
    Output(Ids.TRANSFER_MONITOR, "value", allow_duplicate=True),
    Input(Ids.TRANSFER_MONITOR_ID, "value"),
    prevent_initial_call=True,
)


# The transfer and discharge forms opened for a patient start empty, the monitor following her as the form says:
# what was chosen or typed for the one before (a bed, a death, a referral) never carries over to the next.
clientside_callback(
    'function () { return [null, "follow", "", null, "home", "", "", "", "", null]; }',
    Output(Ids.TRANSFER_BED, "value"),
    Output(Ids.TRANSFER_MONITOR, "value"),
    Output(Ids.TRANSFER_MONITOR_ID, "value"),
    Output(Ids.TRANSFER_FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.DISCHARGE_KIND, "value"),
    Output(Ids.DIED_DATE, "value"),
    Output(Ids.DIED_TIME, "value"),
    Output(Ids.REFERRED_TO, "value"),
    Output(Ids.DISCHARGE_NOTE, "value"),
    Output(Ids.DISCHARGE_FEEDBACK, "children", allow_duplicate=True),
    Input(Ids.CHOSEN, "data"),
    prevent_initial_call=True,
)


def _local_instant(day: str | None, clock: str | None, zone: ZoneInfo) -> datetime | None:
    """A date typed day first and a time on the 24-hour clock, in the site's zone, as an aware instant; nothing
    typed → None; one of the two left empty, or one that cannot be read, raises the message that says which."""
    typed_day = read_typed_date(day, "typed_date_invalid")
    typed_clock = read_typed_time(clock)
    if typed_day is None and typed_clock is None:
        return None
    if typed_day is None or typed_clock is None:
        raise InputError("adt_err_died_at_required")
    return datetime.combine(typed_day, typed_clock, tzinfo=zone)


@page_callback(
    PAGE,
    Output(Ids.DISCHARGE_FEEDBACK, "children"),
    Output(Ids.DISCHARGE_MODAL, "is_open", allow_duplicate=True),
    Output(Ids.LIST_FEEDBACK, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input(Ids.DISCHARGE_SAVE, "n_clicks"),
    State(Ids.CHOSEN, "data"),
    State(Ids.DISCHARGE_KIND, "value"),
    State(Ids.DIED_DATE, "value"),
    State(Ids.DIED_TIME, "value"),
    State(Ids.REFERRED_TO, "value"),
    State(Ids.DISCHARGE_NOTE, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def save_discharge(
    _clicks: int,
    chosen: dict | None,
    kind: str | None,
    died_day: str | None,
    died_clock: str | None,
    referred_to: str | None,
    note: str | None,
    version: int,
) -> tuple:
    zone = ZoneInfo(current_runtime().settings.timezone)
    try:
        _check_may_move()
        if not chosen:
            raise InputError("adt_err_admission_unknown")
        died_at = _local_instant(died_day, died_clock, zone) if kind == "deceased" else None
        with current_runtime().db.session() as db:
            result = admissions.discharge(
                db,
                current_actor(),
                admission_id=chosen["admission"],
                kind=kind or "",
                version=chosen["version"],
                died_at=died_at,
                referred_to=referred_to,
                note=note,
            )
    except InputError as exc:
        return input_error_alert(exc), no_update, no_update, no_update
    return None, False, _told(result, "inpatient_discharged", bed=chosen["bed"]), version + 1
