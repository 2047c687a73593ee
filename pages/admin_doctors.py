"""Admin: the hospital's doctors — create, edit, retire; SIP, specialty, HFIS code, poli, linked account."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.setup_form import SetupFormIds, choice_input, list_card, setup_card, setup_field, text_input
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/dokter",
    name_key="setup_nav_doctors",
    title="Dokter · Pantau",
    roles=["admin"],
    order=88,
    nav=True,
    nav_group="admin",
)


class Ids:
    """Component ids shared with callbacks/admin_doctors.py."""

    REFRESH = "setup-doctors-refresh"
    DOCTOR = SetupFormIds("setup-doctor")


def _form() -> dbc.Card:
    ids = Ids.DOCTOR
    fields = [
        setup_field(ids, "name", t("setup_doctor_name"), text_input(ids, "name", 200), t("setup_doctor_name_hint")),
        setup_field(ids, "sip", t("setup_sip"), text_input(ids, "sip", 64)),
        setup_field(ids, "specialty", t("setup_specialty"), text_input(ids, "specialty", 100)),
        setup_field(ids, "bpjs_code", t("setup_hfis"), text_input(ids, "bpjs_code", 16, inputMode="numeric")),
        setup_field(ids, "poli_code", t("setup_poli"), choice_input(ids, "poli_code", [])),
        setup_field(ids, "username", t("setup_account"), choice_input(ids, "username", []), t("setup_account_hint")),
    ]
    return setup_card(ids, t("setup_doctor_form"), t("setup_doctor_pick"), fields)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.REFRESH, data=0),
            dbc.Row([dbc.Col(list_card(Ids.DOCTOR, t("setup_doctor_list")), lg=7), dbc.Col(_form(), lg=5)]),
        ]
    )
