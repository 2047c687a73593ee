"""Admin: map BPJS reference codes (``ref/poli``, ``ref/dokter``) onto Pantau's polis and doctors, pull the
reference data on request, and see today's schedule as BPJS sees it next to Pantau's."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.bpjs_sync import target_badge
from config import Settings
from data.bpjs_status import bpjs_target
from data.runtime import current_runtime
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/bpjs/pemetaan",
    name_key="bref_nav",
    title="Pemetaan BPJS · Pantau",
    roles=["admin"],
    order=93,
    nav=True,
    nav_group="bpjs",
)


class Ids:
    """Component ids shared with callbacks/admin_bpjs_mapping.py."""

    PULL = "bref-pull"
    PULL_STATUS = "bref-pull-status"
    POLL = "bref-poll"
    REF_VERSION = "bref-ref-version"
    MAP_VERSION = "bref-map-version"
    MAPPING = "bref-mapping"
    COMPARE = "bref-compare"
    # Types of the mapping rows' pattern-matching ids ({"type": …, "id": row id}): each row's code select, status
    # cell and save button, drawn by the callbacks.
    POLI_CODE = "bref-poli-code"
    POLI_STATUS = "bref-poli-status"
    POLI_SAVE = "bref-poli-save"
    DOCTOR_CODE = "bref-doctor-code"
    DOCTOR_STATUS = "bref-doctor-status"
    DOCTOR_SAVE = "bref-doctor-save"


POLL_MS = 1500


def _pull_card(settings: Settings) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [html.H5(t("bref_title"), className="mb-0 me-auto"), target_badge(bpjs_target(settings))],
                className="d-flex align-items-center gap-3",
            ),
            dbc.CardBody(
                [
                    html.P(t("bref_intro"), className="text-body-secondary"),
                    html.Div(
                        [
                            dbc.Button(
                                [html.I(className="bi bi-cloud-download me-2"), t("bref_pull")],
                                id=Ids.PULL,
                                color="primary",
                            ),
                            html.Div(id=Ids.PULL_STATUS, className="flex-grow-1"),
                        ],
                        className="d-flex flex-wrap align-items-center gap-3",
                    ),
                    dbc.FormText(t("bref_pull_hint"), className="d-block mt-2"),
                    dcc.Interval(id=Ids.POLL, interval=POLL_MS, disabled=True),
                    dcc.Store(id=Ids.REF_VERSION, data=0),
                    dcc.Store(id=Ids.MAP_VERSION, data=0),
                ]
            ),
        ],
        className="mb-3",
    )


def layout(**_query: str) -> html.Div:
    """The pull card; the mapping tables and today's comparison are drawn by callbacks (and redrawn after a pull)."""
    return html.Div([_pull_card(current_runtime().settings), html.Div(id=Ids.MAPPING), html.Div(id=Ids.COMPARE)])
