"""Procedures and supporting services of one visit or stay (``/tindakan?admission=ID`` or ``?visit=ID``, or found
by medical record number or booking code): the lines charged so far, each with "Batalkan", and the entry form.
The form's token (a fresh one each time the form is shown) makes a double click or a retry charge once."""

from __future__ import annotations

import secrets

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component
from flask_login import current_user

from auth.session import current_actor
from components.dialog import dialog
from data.procedures import Episode, open_episode
from data.runtime import current_runtime
from data.schedules import local_today
from data.setup_doctors import list_doctors
from data.tariffs import procedure_choices
from domain.errors import InputError
from i18n.web import t

dash.register_page(
    __name__,
    path="/tindakan",
    name_key="proc_nav",
    title="Tindakan · Pantau",
    roles=["nurse", "doctor", "front_desk", "admin"],
    order=22,
    nav=True,
    nav_group="inpatient",
)

NO_DOCTOR = "none"  # the doctor select's "no doctor" (a select shows a blank for an empty value)


class Ids:
    """Component ids shared with callbacks/procedures.py."""

    SEARCH = "proc-search"
    SEARCH_GO = "proc-search-go"
    RESULTS = "proc-results"
    EPISODE = "proc-episode"
    FORM_KEY = "proc-form-key"
    REFRESH = "proc-refresh"
    LINES = "proc-lines"
    CODE = "proc-code"
    QUANTITY = "proc-quantity"
    DOCTOR = "proc-doctor"
    CHARGE = "proc-charge"
    FEEDBACK = "proc-feedback"
    CANCEL = "proc-cancel"  # pattern id {"type": CANCEL, "line": id}
    CANCEL_MODAL = "proc-cancel-modal"
    CANCEL_WHAT = "proc-cancel-what"
    CANCEL_LINE = "proc-cancel-line"
    CANCEL_REASON = "proc-cancel-reason"
    CANCEL_GO = "proc-cancel-go"
    CANCEL_CLOSE = "proc-cancel-close"

    @staticmethod
    def error(field: str) -> str:
        return f"{field}-error"


def new_token() -> str:
    return secrets.token_urlsafe(16)


def _search() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Label(t("proc_search"), html_for=Ids.SEARCH),
                dbc.InputGroup(
                    [
                        dbc.Input(id=Ids.SEARCH, autoComplete="off", maxLength=32, debounce=True),
                        dbc.Button(t("proc_search_button"), id=Ids.SEARCH_GO, color="secondary"),
                    ]
                ),
                dbc.FormText(t("proc_search_hint")),
                html.Div(id=Ids.RESULTS, className="mt-2"),
            ]
        ),
        className="mb-3",
    )


def _header(chosen: Episode) -> html.Div:
    kind = t("proc_episode_stay") if chosen.admission_id else t("proc_episode_visit")
    return html.Div(
        [
            html.Strong(chosen.name, id="proc-patient"),
            f" · {chosen.mrn} · {kind} · {chosen.place} · ",
            dbc.Badge(t(f"fin_payer_{chosen.payer}"), color="info", text_color="dark"),
        ],
        className="mb-3",
    )


def _field(label: str, control: object, control_id: str) -> html.Div:
    return html.Div(
        [dbc.Label(label, html_for=control_id), control, dbc.FormFeedback(id=Ids.error(control_id), type="invalid")],
        className="mb-2",
    )


def _entry_form(choices: list, doctors: list) -> dbc.Card:
    services = [{"value": c.code, "label": f"{c.name} ({c.code})"} for c in choices]
    doctor_options = [{"value": NO_DOCTOR, "label": t("proc_doctor_none")}] + [
        {"value": str(d.id), "label": d.name} for d in doctors if d.active
    ]
    return dbc.Card(
        [
            dbc.CardHeader(t("proc_form")),
            dbc.CardBody(
                [
                    _field(
                        t("proc_service"),
                        dbc.Select(id=Ids.CODE, options=services, placeholder=t("proc_service_placeholder")),
                        Ids.CODE,
                    ),
                    _field(
                        t("proc_quantity"),
                        dbc.Input(id=Ids.QUANTITY, value="1", inputMode="numeric", maxLength=2, autoComplete="off"),
                        Ids.QUANTITY,
                    ),
                    _field(
                        t("proc_doctor"), dbc.Select(id=Ids.DOCTOR, options=doctor_options, value=NO_DOCTOR), Ids.DOCTOR
                    ),
                    dbc.Button(t("proc_charge"), id=Ids.CHARGE, color="primary", className="mt-2"),
                    html.Div(id=Ids.FEEDBACK, className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def _cancel_modal() -> dbc.Modal:
    return dialog(
        [
            dbc.ModalHeader(dbc.ModalTitle(t("proc_cancel_title"))),
            dbc.ModalBody(
                [
                    html.P(id=Ids.CANCEL_WHAT),
                    dcc.Store(id=Ids.CANCEL_LINE),
                    dbc.Label(t("proc_cancel_reason"), html_for=Ids.CANCEL_REASON),
                    dbc.Input(id=Ids.CANCEL_REASON, maxLength=200, autoComplete="off"),
                    dbc.FormFeedback(id=Ids.error(Ids.CANCEL_REASON), type="invalid"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(t("proc_cancel_keep"), id=Ids.CANCEL_CLOSE, color="secondary", outline=True),
                    dbc.Button(t("proc_cancel_confirm"), id=Ids.CANCEL_GO, color="danger"),
                ]
            ),
        ],
        id=Ids.CANCEL_MODAL,
        is_open=False,
    )


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def layout(admission: str | None = None, visit: str | None = None, **_query: str) -> html.Div:
    admission_id, visit_id = _number(admission), _number(visit)
    chosen, choices, doctors = None, [], []
    notice: Component = html.P(t("proc_none_open"), className="text-body-secondary", id="proc-none")
    if admission_id is not None or visit_id is not None:
        with current_runtime().db.session() as session:
            try:
                chosen = open_episode(session, current_actor(), visit_id=visit_id, admission_id=admission_id)
            except InputError:
                notice = dbc.Alert(t("proc_err_episode"), color="warning", id="proc-none")
            else:
                today = local_today(session, current_user.site_id)
                choices = procedure_choices(session, current_user.site_id, today)
                doctors = list_doctors(session, current_user.site_id)
    episode = {"visit": chosen.visit_id, "admission": chosen.admission_id} if chosen else None
    # The episode's part is drawn (hidden) without one too, so every id its callbacks name is always on the page.
    section = html.Div(
        [
            dcc.Store(id=Ids.EPISODE, data=episode),
            dcc.Store(id=Ids.FORM_KEY, data=new_token()),
            dcc.Store(id=Ids.REFRESH, data=0),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card([dbc.CardHeader(t("proc_lines")), html.Div(id=Ids.LINES)], className="mb-3"), lg=7
                    ),
                    dbc.Col(_entry_form(choices, doctors), lg=5),
                ]
            ),
            _cancel_modal(),
        ],
        hidden=chosen is None,
    )
    head = _header(chosen) if chosen else notice
    return html.Div([html.H1(t("proc_title"), className="h4 mb-3"), _search(), head, section])
