"""Admin: bedside monitors and their broker credentials — register, rotate, retire — without a shell."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/monitor",
    name_key="nav_admin_devices",
    title="Monitor · Pantau",
    roles=["admin"],
    order=91,
    nav=True,
    nav_group="admin",
)


def _register_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("devices_register_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("devices_device_id"), html_for="devices-new-id"),
                    dbc.Input(id="devices-new-id", maxLength=64, autoComplete="off", className="mb-1"),
                    dbc.FormFeedback(id="devices-new-id-error", type="invalid"),
                    dbc.FormText(t("devices_device_id_hint"), className="d-block mb-2"),
                    dbc.Label(t("devices_model"), html_for="devices-new-model"),
                    dbc.Input(id="devices-new-model", maxLength=100, className="mb-2"),
                    dbc.FormFeedback(id="devices-new-model-error", type="invalid", className="mb-2"),
                    dbc.Label(t("devices_bed"), html_for="devices-new-bed"),
                    dcc.Dropdown(id="devices-new-bed", className="mb-3"),
                    dbc.Button(t("devices_register_submit"), id="devices-new-submit", color="primary"),
                    html.Div(id="devices-new-feedback", className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def _manage_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("devices_manage_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("devices_select"), html_for="devices-pick"),
                    dcc.Dropdown(id="devices-pick", className="mb-3"),
                    dbc.ButtonGroup(
                        [
                            dbc.Button(t("devices_rotate"), id="devices-rotate", color="warning", outline=True),
                            dbc.Button(t("devices_retire"), id="devices-retire", color="danger", outline=True),
                        ]
                    ),
                    dcc.ConfirmDialog(id="devices-retire-confirm"),
                    html.Div(id="devices-manage-feedback", className="mt-3"),
                ]
            ),
        ]
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="devices-version", data=0),
            html.Div(id="devices-broker-note"),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card([dbc.CardHeader(t("devices_list_title")), html.Div(id="devices-table")]),
                        lg=7,
                        className="mb-3",
                    ),
                    dbc.Col([_register_card(), _manage_card()], lg=5),
                ]
            ),
        ]
    )
