"""Finance: import bill lines exported from a SIMRS (CSV or XLSX) — map the file's columns, dry run, then apply
all or nothing. Lines imported before are skipped (data/bill_import.py); the callbacks are
callbacks/finance_import.py."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.upload_report import spreadsheet_drop
from data.bill_import import MAX_BYTES, MAX_ROWS
from domain.formats import thousands
from i18n.web import current_language, t

dash.register_page(
    __name__,
    path="/keuangan/impor",
    name_key="bimp_nav",
    title="Impor Tagihan · Pantau",
    roles=["finance", "admin"],
    order=58,
    nav=True,
    nav_group="reports",
)

# The browser refuses a file far past the limit (the request must stay under the server's 4 MB); the server
# refuses anything past MAX_BYTES with a message.
UPLOAD_MAX_BYTES = MAX_BYTES + MAX_BYTES // 4


class Ids:
    """Component ids shared with callbacks/finance_import.py."""

    SYSTEM = "bimp-system"
    UPLOAD = "bimp-upload"
    FILE = "bimp-file"
    MAPPING = "bimp-mapping"
    MAP_TYPE = "bimp-map"  # pattern id {"type": MAP_TYPE, "field": <Pantau field>} of each mapping select
    CHECK = "bimp-check"
    CHECKED = "bimp-checked"  # {"sha256", "mapping", "system", "name"} of a file whose dry run found no error
    REPORT = "bimp-report"
    APPLY = "bimp-apply"
    RESULT = "bimp-result"


def layout(**_query: str) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(html.H1(t("bimp_title"), className="h5 mb-0")),
            dbc.CardBody(
                [
                    dcc.Store(id=Ids.CHECKED),
                    html.P(t("bimp_intro"), className="mb-3"),
                    dbc.Label(t("bimp_system"), html_for=Ids.SYSTEM),
                    dbc.Input(id=Ids.SYSTEM, placeholder=t("bimp_system_placeholder"), maxLength=30, className="mb-1"),
                    dbc.FormText(t("bimp_system_hint"), className="d-block mb-3"),
                    spreadsheet_drop(Ids.UPLOAD, t("bimp_upload"), UPLOAD_MAX_BYTES),
                    dbc.FormText(
                        t("bimp_upload_hint", n=thousands(MAX_ROWS, current_language()), mb=MAX_BYTES / 1_000_000),
                        className="d-block mb-3",
                    ),
                    html.Div(id=Ids.FILE, className="mb-2"),
                    html.Div(id=Ids.MAPPING, className="mb-3"),
                    html.Div(
                        [
                            dbc.Button(t("bimp_check"), id=Ids.CHECK, color="secondary", disabled=True),
                            dbc.Button(t("bimp_apply"), id=Ids.APPLY, color="primary", disabled=True),
                        ],
                        className="d-flex gap-2 mb-3",
                    ),
                    dcc.Loading(html.Div(id=Ids.REPORT, className="mb-3"), type="default"),
                    html.Div(id=Ids.RESULT),
                ]
            ),
        ]
    )
