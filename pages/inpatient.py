"""Rawat inap: admit a registered patient or an emergency one to a bed with its monitor; transfer and discharge."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dialog import dialog
from components.dropdown import dropdown
from components.typed_date import typed_date_input
from components.typed_time import typed_time_input
from domain.finance import PAYERS
from domain.formats import NAME_MAX
from domain.hospital import DISCHARGE_KINDS
from i18n.web import t

dash.register_page(
    __name__,
    path="/rawat-inap",
    name_key="nav_inpatient",
    title="Rawat inap · Pantau",
    roles=["nurse", "doctor", "admin", "front_desk"],
    order=20,
    nav=True,
    nav_group="inpatient",
)

SOURCES = ("desk", "poli")  # an emergency admission has its own button


class Ids:
    """Component ids shared with callbacks/inpatient.py."""

    VERSION = "inpatient-version"
    SEARCH_MRN = "inpatient-search-mrn"
    SEARCH_NAME = "inpatient-search-name"
    SEARCH_BIRTH = "inpatient-search-birth"
    SEARCH = "inpatient-search"
    SEARCH_FEEDBACK = "inpatient-search-feedback"
    PATIENT = "inpatient-patient"
    WARD = "inpatient-ward"
    BED = "inpatient-bed"
    SOURCE = "inpatient-source"
    PAYER = "inpatient-payer"
    BPJS_PATIENTS = "inpatient-bpjs-patients"  # ids of the found patients with a BPJS card number on record
    MONITOR = "inpatient-monitor"
    MONITOR_TYPED = "inpatient-monitor-typed"
    ADMIT = "inpatient-admit"
    ER_NAME = "inpatient-er-name"
    ER_SEX = "inpatient-er-sex"
    ER_AGE = "inpatient-er-age"
    ADMIT_ER = "inpatient-admit-er"
    ADMIT_FEEDBACK = "inpatient-admit-feedback"
    LIST = "inpatient-list"
    LIST_FEEDBACK = "inpatient-list-feedback"
    CHOSEN = "inpatient-chosen"  # {"id": admission, "version": shown version, "bed": code}
    TRANSFER_MODAL = "inpatient-transfer-modal"
    TRANSFER_TITLE = "inpatient-transfer-title"
    TRANSFER_BED = "inpatient-transfer-bed"
    TRANSFER_MONITOR = "inpatient-transfer-monitor"
    TRANSFER_MONITOR_ID = "inpatient-transfer-monitor-id"
    TRANSFER_SAVE = "inpatient-transfer-save"
    TRANSFER_FEEDBACK = "inpatient-transfer-feedback"
    DISCHARGE_MODAL = "inpatient-discharge-modal"
    DISCHARGE_TITLE = "inpatient-discharge-title"
    DISCHARGE_KIND = "inpatient-discharge-kind"
    DIED_DATE = "inpatient-died-date"
    DIED_TIME = "inpatient-died-time"
    REFERRED_TO = "inpatient-referred-to"
    DIED_FIELDS = "inpatient-died-fields"
    REFERRED_FIELDS = "inpatient-referred-fields"
    DISCHARGE_NOTE = "inpatient-discharge-note"
    DISCHARGE_SAVE = "inpatient-discharge-save"
    DISCHARGE_FEEDBACK = "inpatient-discharge-feedback"
    TRANSFER_OPEN = "inpatient-transfer-open"  # pattern type, {"type": ..., "admission": id}
    DISCHARGE_OPEN = "inpatient-discharge-open"


def _field(label_key: str, control, control_id: str) -> html.Div:
    return html.Div([dbc.Label(t(label_key), html_for=control_id), control], className="mb-2")


def _search_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("inpatient_admit_title")),
            dbc.CardBody(
                [
                    html.P(t("inpatient_search_hint"), className="small text-body-secondary"),
                    dbc.Row(
                        [
                            dbc.Col(
                                _field("inpatient_mrn", dbc.Input(id=Ids.SEARCH_MRN, maxLength=32), Ids.SEARCH_MRN),
                                md=4,
                            ),
                            dbc.Col(
                                _field(
                                    "inpatient_name", dbc.Input(id=Ids.SEARCH_NAME, maxLength=NAME_MAX), Ids.SEARCH_NAME
                                ),
                                md=4,
                            ),
                            dbc.Col(
                                _field(
                                    "inpatient_birth_date",
                                    typed_date_input(Ids.SEARCH_BIRTH),
                                    Ids.SEARCH_BIRTH,
                                ),
                                md=4,
                            ),
                        ]
                    ),
                    dbc.Button(t("inpatient_search"), id=Ids.SEARCH, color="secondary", className="mb-2"),
                    html.Div(id=Ids.SEARCH_FEEDBACK),
                    _field("inpatient_patient", dropdown(id=Ids.PATIENT), Ids.PATIENT),
                    _field(
                        "inpatient_source",
                        dbc.RadioItems(
                            id=Ids.SOURCE,
                            options=[{"label": t(f"inpatient_source_{s}"), "value": s} for s in SOURCES],
                            value="desk",
                            inline=True,
                        ),
                        Ids.SOURCE,
                    ),
                    _field(
                        "cap_payer",
                        dropdown(
                            id=Ids.PAYER,
                            options=[{"label": t(f"cap_payer_{p}"), "value": p} for p in PAYERS],
                            value="umum",
                            clearable=False,
                        ),
                        Ids.PAYER,
                    ),
                    dbc.Button(t("inpatient_admit"), id=Ids.ADMIT, color="primary"),
                    html.Hr(),
                    html.H6(t("inpatient_er_title")),
                    html.P(t("inpatient_er_hint"), className="small text-body-secondary"),
                    dbc.Row(
                        [
                            dbc.Col(
                                _field("inpatient_er_name", dbc.Input(id=Ids.ER_NAME, maxLength=NAME_MAX), Ids.ER_NAME),
                                md=5,
                            ),
                            dbc.Col(
                                _field(
                                    "inpatient_er_sex",
                                    dbc.RadioItems(
                                        id=Ids.ER_SEX,
                                        options=[{"label": t(f"inpatient_sex_{s}"), "value": s} for s in ("L", "P")],
                                        value="L",
                                        inline=True,
                                    ),
                                    Ids.ER_SEX,
                                ),
                                md=3,
                            ),
                            dbc.Col(
                                _field(
                                    "inpatient_er_age",
                                    dbc.Input(id=Ids.ER_AGE, inputMode="numeric", maxLength=3),
                                    Ids.ER_AGE,
                                ),
                                md=4,
                            ),
                        ]
                    ),
                    dbc.Button(t("inpatient_admit_er"), id=Ids.ADMIT_ER, color="danger", outline=True),
                ]
            ),
        ],
        className="mb-3",
    )


def _bed_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("inpatient_bed_title")),
            dbc.CardBody(
                [
                    _field("inpatient_ward", dropdown(id=Ids.WARD), Ids.WARD),
                    _field("inpatient_bed", dropdown(id=Ids.BED), Ids.BED),
                    _field("inpatient_monitor", dropdown(id=Ids.MONITOR), Ids.MONITOR),
                    _field(
                        "inpatient_monitor_typed",
                        dbc.Input(id=Ids.MONITOR_TYPED, maxLength=64, autoComplete="off"),
                        Ids.MONITOR_TYPED,
                    ),
                    dbc.FormText(t("inpatient_monitor_hint")),
                    html.Div(id=Ids.ADMIT_FEEDBACK, className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def _transfer_modal() -> dbc.Modal:
    return dialog(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=Ids.TRANSFER_TITLE)),
            dbc.ModalBody(
                [
                    _field("inpatient_transfer_bed", dropdown(id=Ids.TRANSFER_BED), Ids.TRANSFER_BED),
                    _field(
                        "inpatient_transfer_monitor",
                        dbc.RadioItems(
                            id=Ids.TRANSFER_MONITOR,
                            options=[
                                {"label": t(f"inpatient_monitor_{m}"), "value": m} for m in ("follow", "keep", "other")
                            ],
                            value="follow",
                        ),
                        Ids.TRANSFER_MONITOR,
                    ),
                    _field(
                        "inpatient_monitor_typed",
                        dbc.Input(id=Ids.TRANSFER_MONITOR_ID, maxLength=64),
                        Ids.TRANSFER_MONITOR_ID,
                    ),
                    html.Div(id=Ids.TRANSFER_FEEDBACK),
                ]
            ),
            dbc.ModalFooter(dbc.Button(t("inpatient_transfer_save"), id=Ids.TRANSFER_SAVE, color="primary")),
        ],
        id=Ids.TRANSFER_MODAL,
        is_open=False,
    )


def _discharge_modal() -> dbc.Modal:
    return dialog(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=Ids.DISCHARGE_TITLE)),
            dbc.ModalBody(
                [
                    _field(
                        "inpatient_discharge_kind",
                        dbc.RadioItems(
                            id=Ids.DISCHARGE_KIND,
                            options=[{"label": t(f"inpatient_kind_{k}"), "value": k} for k in DISCHARGE_KINDS],
                            value="home",
                        ),
                        Ids.DISCHARGE_KIND,
                    ),
                    # Each kind's own fields show only when it is chosen (callbacks/inpatient.py).
                    dbc.Row(
                        [
                            dbc.Col(_field("inpatient_died_date", typed_date_input(Ids.DIED_DATE), Ids.DIED_DATE)),
                            dbc.Col(_field("inpatient_died_time", typed_time_input(Ids.DIED_TIME), Ids.DIED_TIME)),
                        ],
                        id=Ids.DIED_FIELDS,
                    ),
                    html.Div(
                        _field("inpatient_referred_to", dbc.Input(id=Ids.REFERRED_TO, maxLength=200), Ids.REFERRED_TO),
                        id=Ids.REFERRED_FIELDS,
                    ),
                    _field(
                        "inpatient_discharge_note",
                        dbc.Textarea(id=Ids.DISCHARGE_NOTE, maxLength=500),
                        Ids.DISCHARGE_NOTE,
                    ),
                    html.Div(id=Ids.DISCHARGE_FEEDBACK),
                ]
            ),
            dbc.ModalFooter(dbc.Button(t("inpatient_discharge_save"), id=Ids.DISCHARGE_SAVE, color="danger")),
        ],
        id=Ids.DISCHARGE_MODAL,
        is_open=False,
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Store(id=Ids.CHOSEN),
            dcc.Store(id=Ids.BPJS_PATIENTS, data=[]),
            html.H2(t("inpatient_title"), className="h4 mb-3"),
            dbc.Row([dbc.Col(_search_card(), lg=7), dbc.Col(_bed_card(), lg=5)]),
            dbc.Card(
                [
                    dbc.CardHeader(t("inpatient_list_title")),
                    html.Div(id=Ids.LIST_FEEDBACK),
                    html.Div(id=Ids.LIST),
                ]
            ),
            _transfer_modal(),
            _discharge_modal(),
        ]
    )
