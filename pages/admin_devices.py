"""Admin: bedside monitors and their broker credentials — register, rotate, retire — without a shell."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dropdown import dropdown
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


class Ids:
    """Component ids shared with callbacks/admin_devices.py."""

    VERSION = "devices-version"
    BROKER_NOTE = "devices-broker-note"
    TABLE = "devices-table"
    NEW_SUBMIT = "devices-new-submit"
    NEW_FEEDBACK = "devices-new-feedback"
    PICK = "devices-pick"
    ROTATE = "devices-rotate"
    RETIRE = "devices-retire"
    RETIRE_CONFIRM = "devices-retire-confirm"
    MANAGE_FEEDBACK = "devices-manage-feedback"

    @staticmethod
    def new_field(name: str) -> str:
        """An input of the register form: ``id``, ``model`` or ``bed``."""
        return f"devices-new-{name}"

    @staticmethod
    def new_field_error(name: str) -> str:
        """The message under the register form's input ``name``."""
        return f"devices-new-{name}-error"


def _register_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("devices_register_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("devices_device_id"), html_for=Ids.new_field("id")),
                    dbc.Input(id=Ids.new_field("id"), maxLength=64, autoComplete="off", className="mb-1"),
                    dbc.FormFeedback(id=Ids.new_field_error("id"), type="invalid"),
                    dbc.FormText(t("devices_device_id_hint"), className="d-block mb-2"),
                    dbc.Label(t("devices_model"), html_for=Ids.new_field("model")),
                    dbc.Input(id=Ids.new_field("model"), maxLength=100, className="mb-2"),
                    dbc.FormFeedback(id=Ids.new_field_error("model"), type="invalid", className="mb-2"),
                    dbc.Label(t("devices_bed"), html_for=Ids.new_field("bed")),
                    dropdown(id=Ids.new_field("bed"), className="mb-3"),
                    dbc.Button(t("devices_register_submit"), id=Ids.NEW_SUBMIT, color="primary"),
                    html.Div(id=Ids.NEW_FEEDBACK, className="mt-3"),
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
                    dbc.Label(t("devices_select"), html_for=Ids.PICK),
                    dropdown(id=Ids.PICK, className="mb-3"),
                    dbc.ButtonGroup(
                        [
                            dbc.Button(t("devices_rotate"), id=Ids.ROTATE, color="warning", outline=True),
                            dbc.Button(t("devices_retire"), id=Ids.RETIRE, color="danger", outline=True),
                        ]
                    ),
                    dcc.ConfirmDialog(id=Ids.RETIRE_CONFIRM),
                    html.Div(id=Ids.MANAGE_FEEDBACK, className="mt-3"),
                ]
            ),
        ]
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.VERSION, data=0),
            html.Div(id=Ids.BROKER_NOTE),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card([dbc.CardHeader(t("devices_list_title")), html.Div(id=Ids.TABLE)]),
                        lg=7,
                        className="mb-3",
                    ),
                    dbc.Col([_register_card(), _manage_card()], lg=5),
                ]
            ),
        ]
    )
