"""Patient records: find a patient (RM, name and birth date, NIK or BPJS number) and open the record."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from components.typed_date import typed_date_input
from domain.patient_rules import READ_ROLES
from i18n.web import t

dash.register_page(
    __name__,
    path="/pasien",
    name_key="pat_nav",
    title="Pasien · Pantau",
    roles=sorted(READ_ROLES),
    order=19,
    nav=True,
)

SEARCH_MODES = ("mrn", "name", "nik", "bpjs")


class Ids:
    """Component ids shared with callbacks/patient.py."""

    SEARCH_BY = "pat-search-by"
    SEARCH_TEXT = "pat-search-text"
    SEARCH_BIRTH = "pat-search-birth"
    SEARCH_SUBMIT = "pat-search-submit"
    SEARCH_FEEDBACK = "pat-search-feedback"
    HITS = "pat-hits"


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1(t("pat_list_title"), className="h4 mb-3"),
            dbc.Card(
                dbc.CardBody(
                    [
                        dbc.RadioItems(
                            id=Ids.SEARCH_BY,
                            options=[{"label": t(f"reg_search_by_{m}"), "value": m} for m in SEARCH_MODES],
                            value="mrn",
                            inline=True,
                            className="mb-2",
                        ),
                        dbc.Row(
                            [
                                dbc.Col(
                                    [
                                        dbc.Label(t("pat_search_text"), html_for=Ids.SEARCH_TEXT),
                                        dbc.Input(id=Ids.SEARCH_TEXT, maxLength=200, autoComplete="off"),
                                    ],
                                    md=5,
                                ),
                                dbc.Col(
                                    [
                                        dbc.Label(t("reg_birth_date"), html_for=Ids.SEARCH_BIRTH),
                                        typed_date_input(Ids.SEARCH_BIRTH),
                                    ],
                                    md=3,
                                ),
                                dbc.Col(
                                    dbc.Button(
                                        [html.I(className="bi bi-search me-1"), t("reg_search_submit")],
                                        id=Ids.SEARCH_SUBMIT,
                                        color="primary",
                                    ),
                                    md=2,
                                    className="d-flex align-items-end",
                                ),
                            ],
                            className="g-2",
                        ),
                        dbc.FormText(t("pat_search_hint"), className="d-block"),
                        html.Div(id=Ids.SEARCH_FEEDBACK, className="mt-2"),
                        html.Div(id=Ids.HITS, className="mt-2"),
                    ]
                ),
                className="mb-3",
            ),
        ],
        id="pat-list-page",
    )
