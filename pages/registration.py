"""Front desk: find or register the patient, book a doctor session open today, hand out the poli number."""

from __future__ import annotations

import re
import secrets

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

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
    parts = [dbc.Label(label, html_for=f"reg-new-{field}"), control]
    if hint:
        parts.append(dbc.FormText(hint, className="d-block"))
    parts.append(html.Div(id=f"reg-new-{field}-error", className="invalid-feedback d-block"))
    return html.Div(parts, className="mb-2")


def _search_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("reg_search_title")),
            dbc.CardBody(
                [
                    dbc.RadioItems(
                        id="reg-search-by",
                        options=[{"label": t(f"reg_search_by_{m}"), "value": m} for m in SEARCH_MODES],
                        value="mrn",
                        inline=True,
                        className="mb-2",
                    ),
                    dbc.Label(t("reg_search_text_mrn"), html_for="reg-search-text", id="reg-search-label"),
                    dbc.Input(id="reg-search-text", maxLength=200, autoComplete="off", className="mb-2"),
                    dbc.Label(t("reg_birth_date"), html_for="reg-search-birth"),
                    dbc.Input(id="reg-search-birth", type="date"),
                    dbc.FormText(t("reg_search_birth_hint"), className="d-block mb-2"),
                    dbc.Button(
                        [html.I(className="bi bi-search me-1"), t("reg_search_submit")],
                        id="reg-search-submit",
                        color="primary",
                    ),
                    html.Div(id="reg-search-feedback", className="mt-2"),
                    html.Div(id="reg-hits", className="mt-2"),
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
            dcc.Store(id="reg-new-token", data=secrets.token_hex(16)),
            html.Fieldset(
                [
                    _field(t("reg_new_name"), dbc.Input(id="reg-new-name", maxLength=200), "name"),
                    _field(t("reg_birth_date"), dbc.Input(id="reg-new-birth", type="date"), "birth"),
                    _field(
                        t("reg_new_sex"),
                        dbc.RadioItems(
                            id="reg-new-sex",
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
                        dbc.Input(id="reg-new-phone", type="tel", maxLength=ENTRY_LENGTH, placeholder="08…"),
                        "phone",
                    ),
                    _field(
                        t("reg_new_nik"),
                        dbc.Input(id="reg-new-nik", inputMode="numeric", maxLength=ENTRY_LENGTH),
                        "nik",
                        t("reg_new_jkn_hint"),
                    ),
                    _field(
                        t("reg_new_bpjs"),
                        dbc.Input(id="reg-new-bpjs", inputMode="numeric", maxLength=ENTRY_LENGTH),
                        "bpjs",
                        t("reg_new_jkn_hint"),
                    ),
                    dbc.Button(t("reg_new_submit"), id="reg-new-submit", color="primary", className="mt-1"),
                ],
                id="reg-new-fieldset",
            ),
            html.Div(id="reg-new-feedback", className="mt-2"),
            dbc.Alert(
                [
                    html.Div(id="reg-new-duplicate-text"),
                    html.Div(id="reg-new-duplicate-hits", className="my-2"),
                    dbc.Button(t("reg_duplicate_confirm"), id="reg-new-confirm", color="warning", size="sm"),
                ],
                id="reg-new-duplicate",
                color="warning",
                is_open=False,
                className="mt-2 mb-0",
            ),
            dbc.Button(
                [html.I(className="bi bi-person-plus me-1"), t("reg_new_another")],
                id="reg-new-another",
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
                    id="reg-new-toggle",
                    color="link",
                    className="p-0 text-decoration-none",
                )
            ),
            dbc.Collapse(
                dbc.CardBody(new_patient_form(), id="reg-new-body"),
                id="reg-new-collapse",
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
                    html.Div(id="reg-chosen", className="mb-3"),
                    dbc.Label(t("reg_session"), html_for="reg-session"),
                    dbc.RadioItems(id="reg-session", options=[], className="reg-sessions mb-3"),
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    dbc.Label(t("reg_payer")),
                                    dbc.RadioItems(
                                        id="reg-payer",
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
                                    dbc.Label(t("reg_referral"), html_for="reg-referral"),
                                    dbc.Input(id="reg-referral", maxLength=40, autoComplete="off"),
                                    dbc.FormText(t("reg_referral_hint")),
                                ],
                                md=7,
                            ),
                        ],
                        className="mb-3",
                    ),
                    dbc.Label(t("reg_admission"), html_for="reg-admission"),
                    dbc.Select(id="reg-admission", options=[], value=NO_TICKET),
                    dbc.FormText(t("reg_admission_hint"), className="d-block mb-3"),
                    dbc.Button(
                        [html.I(className="bi bi-ticket-perforated me-1"), t("reg_submit")],
                        id="reg-submit",
                        color="success",
                        size="lg",
                    ),
                    html.Div(id="reg-feedback", className="mt-3"),
                    dbc.Alert(
                        [
                            html.Div(id="reg-age-warning-text"),
                            dbc.Button(
                                t("reg_age_confirm"), id="reg-age-confirm", color="warning", size="sm", className="mt-2"
                            ),
                        ],
                        id="reg-age-warning",
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
                    dbc.Button(t("reg_admission_take"), id="reg-admission-take", color="secondary", outline=True),
                    html.Div(id="reg-admission-result", className="mt-2"),
                ]
            ),
        ]
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="reg-patient"),
            dcc.Store(id="reg-hits-data"),
            dcc.Store(id="reg-version", data=0),
            dcc.Interval(id="reg-refresh", interval=REFRESH_MS),
            dbc.Row(
                [
                    dbc.Col([_search_card(), _new_patient_card()], lg=5, xl=4),
                    dbc.Col(_visit_card(), lg=7, xl=5),
                    dbc.Col([html.Div(id="reg-result", className="mb-3"), _admission_card()], xl=3),
                ]
            ),
        ],
        id="reg-page",
    )
