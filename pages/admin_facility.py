"""Admin: the facility profile — name, BPJS PPK code, time zone (WIB/WITA/WIT) and class."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.setup_form import SetupFormIds, choice_input, setup_field, text_input
from domain.hospital import FACILITY_CLASSES, TIMEZONES
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/fasilitas",
    name_key="setup_nav_facility",
    title="Profil Fasilitas · Pantau",
    roles=["admin"],
    order=85,
    nav=True,
    nav_group="admin",
)


class Ids:
    """Component ids shared with callbacks/admin_facility.py."""

    FORM = SetupFormIds("setup-facility")
    RELOAD = "setup-facility-reload"


def layout(**_query: str) -> html.Div:
    ids = Ids.FORM
    zones = [(zone, f"{abbr} ({zone})") for zone, abbr in TIMEZONES.items()]
    classes = [("", t("setup_none")), *((c, t(f"setup_facility_class_{c.lower()}")) for c in FACILITY_CLASSES)]
    return dbc.Card(
        [
            dbc.CardHeader(t("setup_facility_title")),
            dbc.CardBody(
                [
                    dcc.Store(id=ids.version),
                    setup_field(ids, "name", t("setup_facility_name"), text_input(ids, "name", 200)),
                    setup_field(ids, "ppk_code", t("setup_ppk"), text_input(ids, "ppk_code", 8), t("setup_ppk_hint")),
                    setup_field(ids, "timezone", t("setup_timezone"), choice_input(ids, "timezone", zones)),
                    setup_field(
                        ids, "facility_class", t("setup_facility_class"), choice_input(ids, "facility_class", classes)
                    ),
                    dbc.Button(t("setup_save"), id=ids.save, color="primary", className="me-2 mt-2"),
                    dbc.Button(t("setup_reload"), id=Ids.RELOAD, color="secondary", outline=True, className="mt-2"),
                    html.Div(id=ids.feedback, className="mt-3"),
                ]
            ),
        ],
        style={"maxWidth": "40rem"},
    )
