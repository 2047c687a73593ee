"""Admin: the hospital's wards and their beds — create a ward with its beds, edit, retire, add and edit beds."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.setup_form import (
    SetupFormIds,
    choice_input,
    list_card,
    setup_card,
    setup_field,
    text_input,
)
from domain.hospital import CARE_CLASSES, WARD_KINDS
from domain.setup_rules import BED_COUNT_MAX
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/bangsal",
    name_key="setup_nav_wards",
    title="Bangsal & Tempat Tidur · Pantau",
    roles=["admin"],
    order=86,
    nav=True,
    nav_group="admin",
)


class Ids:
    """Component ids shared with callbacks/admin_wards.py."""

    REFRESH = "setup-wards-refresh"
    WARD = SetupFormIds("setup-ward")
    BED = SetupFormIds("setup-bed")
    ADD_BED = "setup-ward-add-bed"


def _care_classes(blank: str | None = None) -> list[tuple[str, str]]:
    options = [(c, t("setup_class_n", n=c) if c.isdigit() else c) for c in CARE_CLASSES]
    return [("", blank), *options] if blank else options


def _ward_form() -> dbc.Card:
    ids = Ids.WARD
    fields = [
        setup_field(ids, "code", t("setup_code"), text_input(ids, "code", 32), t("setup_ward_code_hint")),
        setup_field(ids, "name", t("setup_name"), text_input(ids, "name", 100)),
        setup_field(
            ids,
            "kind",
            t("setup_ward_kind"),
            choice_input(ids, "kind", [(k, t(f"setup_kind_{k}")) for k in WARD_KINDS]),
        ),
        setup_field(ids, "care_class", t("setup_care_class"), choice_input(ids, "care_class", _care_classes())),
        setup_field(
            ids,
            "bed_count",
            t("setup_bed_count"),
            text_input(ids, "bed_count", 3, inputMode="numeric"),
            t("setup_bed_count_hint", high=BED_COUNT_MAX),
        ),
    ]
    add = dbc.Button(t("setup_add_bed"), id=Ids.ADD_BED, color="secondary", outline=True, className="ms-2")
    return setup_card(ids, t("setup_ward_form"), t("setup_ward_pick"), fields, extra=[add])


def _bed_form() -> dbc.Card:
    ids = Ids.BED
    fields = [
        setup_field(ids, "label", t("setup_bed_label"), text_input(ids, "label", 64)),
        setup_field(
            ids,
            "care_class",
            t("setup_care_class"),
            choice_input(ids, "care_class", _care_classes(t("setup_class_of_ward"))),
        ),
    ]
    return setup_card(ids, t("setup_bed_form"), t("setup_bed_pick"), fields)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.REFRESH, data=0),
            dbc.Row(
                [
                    dbc.Col([list_card(Ids.WARD, t("setup_ward_list")), list_card(Ids.BED, t("setup_bed_list"))], lg=7),
                    dbc.Col([_ward_form(), _bed_form()], lg=5),
                ]
            ),
        ]
    )
