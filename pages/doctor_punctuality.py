"""Report: each doctor's late starts and early finishes in a month, from the queue's task times."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from i18n.web import t

dash.register_page(
    __name__,
    path="/laporan/ketepatan-dokter",
    name_key="punct_nav",
    title="Ketepatan Waktu Dokter · Pantau",
    roles=["manager", "admin"],
    order=61,
    nav=True,
    nav_group="reports",
)


class Ids:
    """Component ids shared with callbacks/doctor_punctuality.py."""

    MONTH = "punct-month"
    MONTH_ERROR = "punct-month-error"
    TABLE = "punct-table"


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H4(t("punct_title"), className="mb-1"),
            html.P(t("punct_note"), className="text-body-secondary small"),
            dbc.Row(
                dbc.Col(
                    [
                        dbc.Label(t("punct_month"), html_for=Ids.MONTH),
                        dbc.Input(id=Ids.MONTH, type="month", debounce=True),
                        html.Div(id=Ids.MONTH_ERROR, className="invalid-feedback d-block"),
                    ],
                    md=3,
                ),
                className="mb-3",
            ),
            html.Div(id=Ids.TABLE),
        ]
    )
