"""Tariff master: every service's price per care class and payer with its validity, filtered by unit and by the day
it is in force; add, edit and end tariffs (callbacks/admin_tariffs.py through ``data.tariffs``)."""

from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.dropdown import dropdown
from components.setup_form import SetupFormIds, choice_input, list_card, setup_field, text_input
from components.typed_date import typed_date_input
from data.runtime import current_runtime
from data.schedules import local_today
from domain.finance import PAYERS, UNITS
from domain.hospital import CARE_CLASSES
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/tarif",
    name_key="tar_nav",
    title="Tarif · Pantau",
    roles=["admin", "finance"],
    order=89,
    nav=True,
    nav_group="admin",
)


EVERY = "*"  # the selects' "every unit / class / payer" (a select shows a blank for an empty value)


class Ids:
    """Component ids shared with callbacks/admin_tariffs.py."""

    REFRESH = "tariff-refresh"
    FILTER_UNIT = "tariff-filter-unit"
    FILTER_AT = "tariff-filter-at"
    FORM = SetupFormIds("tariff")
    END = "tariff-end"
    END_CONFIRM = "tariff-end-confirm"


def unit_options() -> list[tuple[str, str]]:
    return [(unit, t(f"fin_unit_{unit}")) for unit in UNITS]


def _filters(today: date) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label(t("tar_filter_unit"), html_for=Ids.FILTER_UNIT),
                    dbc.Select(
                        id=Ids.FILTER_UNIT,
                        value=EVERY,
                        options=[{"value": EVERY, "label": t("tar_filter_all_units")}]
                        + [{"value": v, "label": label} for v, label in unit_options()],
                    ),
                ],
                md=4,
            ),
            dbc.Col(
                [
                    dbc.Label(t("tar_filter_at"), html_for=Ids.FILTER_AT),
                    typed_date_input(Ids.FILTER_AT, today, debounce=True),
                    dbc.FormText(t("tar_filter_at_hint")),
                ],
                md=5,
            ),
        ],
        className="mb-3",
    )


def _form() -> dbc.Card:
    ids = Ids.FORM
    fields = [
        setup_field(ids, "code", t("tar_code"), text_input(ids, "code", 32), t("tar_code_hint")),
        setup_field(ids, "name", t("tar_name"), text_input(ids, "name", 200)),
        setup_field(ids, "unit", t("tar_unit"), choice_input(ids, "unit", unit_options())),
        setup_field(
            ids,
            "care_class",
            t("tar_class"),
            choice_input(ids, "care_class", [(EVERY, t("tar_class_all")), *((c, c) for c in CARE_CLASSES)]),
        ),
        setup_field(
            ids,
            "payer",
            t("tar_payer"),
            choice_input(ids, "payer", [(EVERY, t("tar_payer_all")), *((p, t(f"fin_payer_{p}")) for p in PAYERS)]),
        ),
        setup_field(
            ids, "amount", t("tar_amount"), text_input(ids, "amount", 24, inputMode="numeric"), t("tar_amount_hint")
        ),
        setup_field(ids, "valid_from", t("tar_from"), typed_date_input(ids.field("valid_from"))),
        setup_field(
            ids, "valid_until", t("tar_until"), typed_date_input(ids.field("valid_until")), t("tar_until_hint")
        ),
    ]
    return dbc.Card(
        [
            dbc.CardHeader(t("tar_form")),
            dbc.CardBody(
                [
                    dbc.Label(t("tar_pick"), html_for=ids.pick),
                    dropdown(id=ids.pick, placeholder=t("tar_pick_new"), className="mb-3"),
                    *fields,
                    html.Div(
                        [
                            dbc.Button(t("tar_save"), id=ids.save, color="primary", className="me-2"),
                            dbc.Button(t("tar_end"), id=Ids.END, color="danger", outline=True, disabled=True),
                        ],
                        className="mt-3",
                    ),
                    dcc.ConfirmDialog(id=Ids.END_CONFIRM, message=t("tar_end_confirm")),
                    html.Div(id=ids.feedback, className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def layout(**_query: str) -> html.Div:
    with current_runtime().db.session() as session:
        today = local_today(session, current_user.site_id)
    return html.Div(
        [
            html.H1(t("tar_title"), className="h4 mb-3"),
            dcc.Store(id=Ids.REFRESH, data=0),
            _filters(today),
            dbc.Row([dbc.Col(list_card(Ids.FORM, t("tar_list")), lg=8), dbc.Col(_form(), lg=4)]),
        ]
    )
