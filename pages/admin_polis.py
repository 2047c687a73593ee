"""Admin: the hospital's polis — create, edit, retire; ticket prefix, BPJS code, TV board, service time."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.setup_form import SetupFormIds, list_card, setup_card, setup_field, text_input
from domain.setup_rules import SERVICE_MINUTES_MAX
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/poli",
    name_key="setup_nav_polis",
    title="Poli · Pantau",
    roles=["admin"],
    order=87,
    nav=True,
    nav_group="admin",
)


class Ids:
    """Component ids shared with callbacks/admin_polis.py."""

    REFRESH = "setup-polis-refresh"
    POLI = SetupFormIds("setup-poli")


def _form() -> dbc.Card:
    ids = Ids.POLI
    fields = [
        setup_field(ids, "code", t("setup_code"), text_input(ids, "code", 16), t("setup_poli_code_hint")),
        setup_field(ids, "name", t("setup_name"), text_input(ids, "name", 100)),
        setup_field(
            ids,
            "queue_prefix",
            t("setup_queue_prefix"),
            text_input(ids, "queue_prefix", 2),
            t("setup_queue_prefix_hint"),
        ),
        setup_field(ids, "bpjs_code", t("setup_bpjs_poli"), text_input(ids, "bpjs_code", 3), t("setup_bpjs_poli_hint")),
        setup_field(
            ids, "board_group", t("setup_board_group"), text_input(ids, "board_group", 32), t("setup_board_group_hint")
        ),
        setup_field(
            ids,
            "default_service_minutes",
            t("setup_service_minutes"),
            text_input(ids, "default_service_minutes", 3, inputMode="numeric"),
            t("setup_service_minutes_hint", high=SERVICE_MINUTES_MAX),
        ),
        html.P(
            [t("setup_poli_ages_elsewhere"), " ", dcc.Link(t("qadmin_nav"), href="/admin/antrean")],
            className="small text-body-secondary mb-0",
        ),
    ]
    return setup_card(ids, t("setup_poli_form"), t("setup_poli_pick"), fields)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.REFRESH, data=0),
            dbc.Row([dbc.Col(list_card(Ids.POLI, t("setup_poli_list")), lg=7), dbc.Col(_form(), lg=5)]),
        ]
    )
