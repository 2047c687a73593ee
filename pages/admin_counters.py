"""Admin: the counters of each service point (loket, poli rooms, pharmacy windows) — create, rename, retire."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dropdown import dropdown
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/loket",
    name_key="nav_admin_counters",
    title="Loket · Pantau",
    roles=["admin"],
    order=93,
    nav=True,
    nav_group="admin",
)

FIELDS = ("code", "name", "point")
NEW = "new"  # the picker's value for "a new counter"


class Ids:
    """Component ids shared with callbacks/admin_counters.py."""

    VERSION = "counters-version"
    TABLE = "counters-table"
    PICK = "counters-pick"
    ROW_VERSION = "counters-row-version"
    SAVE = "counters-save"
    RETIRE = "counters-retire"
    FEEDBACK = "counters-feedback"

    @staticmethod
    def field(name: str) -> str:
        """An input of the form: ``code``, ``name`` or ``point``."""
        return f"counters-{name}"

    @staticmethod
    def field_error(name: str) -> str:
        """The message under the form's input ``name``."""
        return f"counters-{name}-error"


def _form_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("counters_form_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("counters_pick"), html_for=Ids.PICK),
                    dropdown(
                        id=Ids.PICK,
                        options=[{"label": t("counters_new"), "value": NEW}],
                        value=NEW,
                        clearable=False,
                        className="mb-3",
                    ),
                    dbc.Label(t("counters_code"), html_for=Ids.field("code")),
                    dbc.Input(id=Ids.field("code"), maxLength=16, autoComplete="off"),
                    dbc.FormFeedback(id=Ids.field_error("code"), type="invalid"),
                    dbc.FormText(t("counters_code_hint"), className="d-block mb-2"),
                    dbc.Label(t("counters_name"), html_for=Ids.field("name")),
                    dbc.Input(id=Ids.field("name"), maxLength=40),
                    dbc.FormFeedback(id=Ids.field_error("name"), type="invalid"),
                    dbc.Label(t("counters_point"), html_for=Ids.field("point"), className="mt-2"),
                    dbc.Select(id=Ids.field("point"), options=[]),
                    dbc.FormFeedback(id=Ids.field_error("point"), type="invalid"),
                    html.Div(
                        [
                            dbc.Button(t("counters_save"), id=Ids.SAVE, color="primary", className="me-2"),
                            dbc.Button(t("counters_retire"), id=Ids.RETIRE, color="danger", outline=True),
                        ],
                        className="mt-3",
                    ),
                    html.Div(id=Ids.FEEDBACK, className="mt-3"),
                ]
            ),
        ]
    )


def layout(**_query: str) -> dbc.Row:
    return dbc.Row(
        [
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Store(id=Ids.ROW_VERSION),
            dbc.Col(
                dbc.Card([dbc.CardHeader(t("counters_list_title")), html.Div(id=Ids.TABLE)]), lg=7, className="mb-3"
            ),
            dbc.Col(_form_card(), lg=5),
        ]
    )
