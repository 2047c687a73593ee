"""Papan tempat tidur: every ward's beds by class and status, masked patients, length of stay, NEWS2."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dropdown import dropdown
from i18n.web import t

dash.register_page(
    __name__,
    path="/rawat-inap/tempat-tidur",
    name_key="nav_bed_board",
    title="Papan tempat tidur · Pantau",
    roles=["nurse", "doctor", "admin", "manager", "front_desk"],
    order=21,
    nav=True,
    nav_group="inpatient",
)

REFRESH_SECONDS = 30
SETTABLE = ("available", "out_of_service")  # cleaning and occupied come from transfers and discharges


class Ids:
    """Component ids shared with callbacks/bed_board.py."""

    VERSION = "bedboard-version"
    REFRESH = "bedboard-refresh"
    WARD = "bedboard-ward"
    SUMMARY = "bedboard-summary"
    BOARD = "bedboard-board"
    VERSIONS = "bedboard-versions"  # {bed id: row version shown}
    STATUS_CARD = "bedboard-status-card"
    STATUS_BED = "bedboard-status-bed"
    STATUS = "bedboard-status"
    REASON = "bedboard-reason"
    STATUS_SAVE = "bedboard-status-save"
    STATUS_FEEDBACK = "bedboard-status-feedback"


def _status_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("bedboard_status_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("inpatient_bed"), html_for=Ids.STATUS_BED),
                    dropdown(id=Ids.STATUS_BED, className="mb-2"),
                    dbc.Label(t("bedboard_status_to"), html_for=Ids.STATUS),
                    dbc.RadioItems(
                        id=Ids.STATUS,
                        options=[{"label": t(f"bedboard_state_{s}"), "value": s} for s in SETTABLE],
                        value="available",
                        inline=True,
                        className="mb-2",
                    ),
                    dbc.Label(t("bedboard_reason"), html_for=Ids.REASON),
                    dbc.Input(id=Ids.REASON, maxLength=200, className="mb-2"),
                    dbc.Button(t("bedboard_status_save"), id=Ids.STATUS_SAVE, color="primary"),
                    html.Div(id=Ids.STATUS_FEEDBACK, className="mt-2"),
                ]
            ),
        ],
        id=Ids.STATUS_CARD,
        className="mb-3",
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Store(id=Ids.VERSIONS),
            dcc.Interval(id=Ids.REFRESH, interval=REFRESH_SECONDS * 1000),
            html.H2(t("bedboard_title"), className="h4 mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label(t("bedboard_ward"), html_for=Ids.WARD),
                            dropdown(id=Ids.WARD, placeholder=t("bedboard_all_wards"), className="mb-3"),
                            _status_card(),
                        ],
                        lg=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Card(
                                [dbc.CardHeader(t("bedboard_summary")), html.Div(id=Ids.SUMMARY)], className="mb-3"
                            ),
                            html.Div(id=Ids.BOARD),
                        ],
                        lg=9,
                    ),
                ]
            ),
        ]
    )
