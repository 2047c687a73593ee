"""Front desk: find or register the patient, book a doctor session open today, hand out the poli number."""

from __future__ import annotations

import re
import secrets

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.typed_date import typed_date_input
from i18n.web import t

dash.register_page(
    __name__,
    path="/pendaftaran",
    name_key="reg_nav",
    title="Pendaftaran · Pantau",
    roles=["front_desk", "admin"],
    order=20,
    nav=True,
    nav_group="queue",
)


class Ids:
    """Component ids shared with callbacks/registration.py."""

    SEARCH_BY = "reg-search-by"
    SEARCH_LABEL = "reg-search-label"
    SEARCH_TEXT = "reg-search-text"
    SEARCH_BIRTH = "reg-search-birth"
    SEARCH_SUBMIT = "reg-search-submit"
    SEARCH_FEEDBACK = "reg-search-feedback"
    HITS = "reg-hits"
    HITS_DATA = "reg-hits-data"
    PICK = "reg-pick"
    PATIENT = "reg-patient"
    VERSION = "reg-version"
    REFRESH = "reg-refresh"
    CHOSEN = "reg-chosen"
    SESSION = "reg-session"
    PAYER = "reg-payer"
    REFERRAL = "reg-referral"
    ADMISSION = "reg-admission"
    SUBMIT = "reg-submit"
    FEEDBACK = "reg-feedback"
    RESULT = "reg-result"
    AGE_WARNING = "reg-age-warning"
    AGE_WARNING_TEXT = "reg-age-warning-text"
    AGE_CONFIRM = "reg-age-confirm"
    ADMISSION_TAKE = "reg-admission-take"
    ADMISSION_RESULT = "reg-admission-result"
    NEW_TOGGLE = "reg-new-toggle"
    NEW_COLLAPSE = "reg-new-collapse"
    NEW_BODY = "reg-new-body"
    NEW_TOKEN = "reg-new-token"  # noqa: S105 (a component id: the store of the form's submission token)
    NEW_SUBMIT = "reg-new-submit"
    NEW_FIELDSET = "reg-new-fieldset"
    NEW_FEEDBACK = "reg-new-feedback"
    NEW_DUPLICATE = "reg-new-duplicate"
    NEW_DUPLICATE_TEXT = "reg-new-duplicate-text"
    NEW_DUPLICATE_HITS = "reg-new-duplicate-hits"
    NEW_CONFIRM = "reg-new-confirm"
    NEW_ANOTHER = "reg-new-another"

    @staticmethod
    def new_field(name: str) -> str:
        """An input of the new-patient form (``NEW_PATIENT_FIELDS``)."""
        return f"reg-new-{name}"

    @staticmethod
    def new_field_error(name: str) -> str:
        """The error line under the new-patient form's input ``name``."""
        return f"reg-new-{name}-error"


SEARCH_MODES = ("mrn", "name", "nik", "bpjs")
NEW_PATIENT_FIELDS = ("name", "birth", "sex", "phone", "nik", "bpjs")
NO_TICKET = "none"  # the desk-number choice "none" (a <select> cannot hold an empty value and show its label)
# Room for separators and spaces ("3171 0123 0190 0001"): a browser cuts what is longer without a word, so the
# limit is generous and the server says what is wrong with the number.
ENTRY_LENGTH = 40
REFRESH_MS = 30_000  # places left and desk numbers change as other desks work
TOKEN = re.compile(r"[0-9a-f]{32}")  # a new-patient form's submission token (secrets.token_hex(16))


def _field(label: str, control: object, field: str, hint: str = "") -> html.Div:
    """A labelled form control with its own error line under it."""
    parts = [dbc.Label(label, html_for=Ids.new_field(field)), control]
    if hint:
        parts.append(dbc.FormText(hint, className="d-block"))
    parts.append(html.Div(id=Ids.new_field_error(field), className="invalid-feedback d-block"))
    return html.Div(parts, className="mb-2")


def _search_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("reg_search_title")),
            dbc.CardBody(
                [
                    dbc.RadioItems(
                        id=Ids.SEARCH_BY,
                        options=[{"label": t(f"reg_search_by_{m}"), "value": m} for m in SEARCH_MODES],
                        value="mrn",
                        inline=True,
                        className="mb-2",
                    ),
                    dbc.Label(t("reg_search_text_mrn"), html_for=Ids.SEARCH_TEXT, id=Ids.SEARCH_LABEL),
                    dbc.Input(id=Ids.SEARCH_TEXT, maxLength=200, autoComplete="off", className="mb-2"),
                    dbc.Label(t("reg_birth_date"), html_for=Ids.SEARCH_BIRTH),
                    typed_date_input(Ids.SEARCH_BIRTH),
                    dbc.FormText(t("reg_search_birth_hint"), className="d-block mb-2"),
                    dbc.Button(
                        [html.I(className="bi bi-search me-1"), t("reg_search_submit")],
                        id=Ids.SEARCH_SUBMIT,
                        color="primary",
                    ),
                    html.Div(id=Ids.SEARCH_FEEDBACK, className="mt-2"),
                    html.Div(id=Ids.HITS, className="mt-2"),
                ]
            ),
        ],
        className="mb-3",
    )


def new_patient_form() -> html.Div:
    """A blank new-patient form with its own submission token: sending it twice saves one patient. Once saved it
    is locked (the fieldset) and shows what was stored; "another patient" replaces it with a fresh one."""
    return html.Div(
        [
            dcc.Store(id=Ids.NEW_TOKEN, data=secrets.token_hex(16)),
            html.Fieldset(
                [
                    _field(t("reg_new_name"), dbc.Input(id=Ids.new_field("name"), maxLength=200), "name"),
                    _field(t("reg_birth_date"), typed_date_input(Ids.new_field("birth")), "birth"),
                    _field(
                        t("reg_new_sex"),
                        dbc.RadioItems(
                            id=Ids.new_field("sex"),
                            options=[
                                {"label": t("reg_sex_L"), "value": "L"},
                                {"label": t("reg_sex_P"), "value": "P"},
                            ],
                            inline=True,
                        ),
                        "sex",
                    ),
                    _field(
                        t("reg_new_phone"),
                        dbc.Input(id=Ids.new_field("phone"), type="tel", maxLength=ENTRY_LENGTH, placeholder="08…"),
                        "phone",
                    ),
                    _field(
                        t("reg_new_nik"),
                        dbc.Input(id=Ids.new_field("nik"), inputMode="numeric", maxLength=ENTRY_LENGTH),
                        "nik",
                        t("reg_new_jkn_hint"),
                    ),
                    _field(
                        t("reg_new_bpjs"),
                        dbc.Input(id=Ids.new_field("bpjs"), inputMode="numeric", maxLength=ENTRY_LENGTH),
                        "bpjs",
                        t("reg_new_jkn_hint"),
                    ),
                    dbc.Button(t("reg_new_submit"), id=Ids.NEW_SUBMIT, color="primary", className="mt-1"),
                ],
                id=Ids.NEW_FIELDSET,
            ),
            html.Div(id=Ids.NEW_FEEDBACK, className="mt-2"),
            dbc.Alert(
                [
                    html.Div(id=Ids.NEW_DUPLICATE_TEXT),
                    html.Div(id=Ids.NEW_DUPLICATE_HITS, className="my-2"),
                    dbc.Button(t("reg_duplicate_confirm"), id=Ids.NEW_CONFIRM, color="warning", size="sm"),
                ],
                id=Ids.NEW_DUPLICATE,
                color="warning",
                is_open=False,
                className="mt-2 mb-0",
            ),
            dbc.Button(
                [html.I(className="bi bi-person-plus me-1"), t("reg_new_another")],
                id=Ids.NEW_ANOTHER,
                color="secondary",
                outline=True,
                className="mt-2",
                style={"display": "none"},
            ),
        ],
        id="reg-new-form",
    )


def _new_patient_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                dbc.Button(
                    [html.I(className="bi bi-person-plus me-1"), t("reg_new_title")],
                    id=Ids.NEW_TOGGLE,
                    color="link",
                    className="p-0 text-decoration-none",
                )
            ),
            dbc.Collapse(
                dbc.CardBody(new_patient_form(), id=Ids.NEW_BODY),
                id=Ids.NEW_COLLAPSE,
                is_open=False,
            ),
        ],
        className="mb-3",
    )


def _visit_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("reg_visit_title")),
            dbc.CardBody(
                [
                    html.Div(id=Ids.CHOSEN, className="mb-3"),
                    dbc.Label(t("reg_session"), html_for=Ids.SESSION),
                    dbc.RadioItems(id=Ids.SESSION, options=[], className="reg-sessions mb-3"),
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    dbc.Label(t("reg_payer")),
                                    dbc.RadioItems(
                                        id=Ids.PAYER,
                                        options=[
                                            {"label": t("reg_payer_jkn"), "value": "jkn"},
                                            {"label": t("reg_payer_non_jkn"), "value": "non_jkn"},
                                        ],
                                        value="non_jkn",
                                        inline=True,
                                    ),
                                ],
                                md=5,
                            ),
                            dbc.Col(
                                [
                                    dbc.Label(t("reg_referral"), html_for=Ids.REFERRAL),
                                    dbc.Input(id=Ids.REFERRAL, maxLength=40, autoComplete="off"),
                                    dbc.FormText(t("reg_referral_hint")),
                                ],
                                md=7,
                            ),
                        ],
                        className="mb-3",
                    ),
                    dbc.Label(t("reg_admission"), html_for=Ids.ADMISSION),
                    dbc.Select(id=Ids.ADMISSION, options=[], value=NO_TICKET),
                    dbc.FormText(t("reg_admission_hint"), className="d-block mb-3"),
                    dbc.Button(
                        [html.I(className="bi bi-ticket-perforated me-1"), t("reg_submit")],
                        id=Ids.SUBMIT,
                        color="success",
                        size="lg",
                    ),
                    html.Div(id=Ids.FEEDBACK, className="mt-3"),
                    dbc.Alert(
                        [
                            html.Div(id=Ids.AGE_WARNING_TEXT),
                            dbc.Button(
                                t("reg_age_confirm"), id=Ids.AGE_CONFIRM, color="warning", size="sm", className="mt-2"
                            ),
                        ],
                        id=Ids.AGE_WARNING,
                        color="warning",
                        is_open=False,
                        className="mt-3 mb-0",
                    ),
                ]
            ),
        ],
        className="mb-3",
    )


def _admission_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("reg_admission_card")),
            dbc.CardBody(
                [
                    html.P(t("reg_admission_take_hint"), className="text-body-secondary small"),
                    dbc.Button(t("reg_admission_take"), id=Ids.ADMISSION_TAKE, color="secondary", outline=True),
                    html.Div(id=Ids.ADMISSION_RESULT, className="mt-2"),
                ]
            ),
        ]
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.PATIENT),
            dcc.Store(id=Ids.HITS_DATA),
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Interval(id=Ids.REFRESH, interval=REFRESH_MS),
            dbc.Row(
                [
                    dbc.Col([_search_card(), _new_patient_card()], lg=5, xl=4),
                    dbc.Col(_visit_card(), lg=7, xl=5),
                    dbc.Col([html.Div(id=Ids.RESULT, className="mb-3"), _admission_card()], xl=3),
                ]
            ),
        ],
        id="reg-page",
    )
