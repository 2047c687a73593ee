"""Finance for managers, admins and the finance office: revenue, BPJS claims, receivables, INA-CBG margin and bed
indicators for a period and filter carried in the address (``/keuangan?laporan=revenue&dari=2026-03-01&
sampai=2026-03-31&penjamin=jkn``), so a link reproduces the view on any web worker. The figures are drawn by
callbacks/finance.py from one report per filter change."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.date_picker import date_range
from components.dialog import dialog
from components.dropdown import dropdown
from components.finance_view import REPORTS, FinanceView, drill_grid, parse_view
from data.finance_reports import filter_choices
from data.runtime import current_runtime
from data.schedules import local_today
from domain.finance import PAYERS, UNITS
from domain.roles import may_open
from i18n.web import current_language, t

ROLES = ["manager", "admin", "finance"]
dash.register_page(
    __name__,
    path="/keuangan",
    name_key="finpg_nav",
    title="Keuangan · Pantau",
    roles=ROLES,
    order=55,
    nav=True,
    nav_group="reports",
)
# The other finance pages (built by their own modules), linked from this page's header when the user may open them.
RELATED = (
    ("/keuangan/kasir", "finpg_link_cashier", "bi-cash-coin"),
    ("/keuangan/klaim", "finpg_link_claims", "bi-file-earmark-medical"),
    ("/keuangan/impor", "finpg_link_import", "bi-upload"),
    ("/keuangan/target", "finpg_link_targets", "bi-bullseye"),
    ("/admin/tarif", "finpg_link_tariffs", "bi-tags"),
)
PRESETS = ("this_month", "last_month", "this_year")


class Ids:
    """Component ids shared with callbacks/finance.py."""

    URL = "finpg-url"
    RANGE = "finpg-range"
    PRESET = "finpg-preset"  # + "-" + one of PRESETS
    UNIT = "finpg-unit"
    POLI = "finpg-poli"
    WARD = "finpg-ward"
    DOCTOR = "finpg-doctor"
    PAYER = "finpg-payer"
    TABS = "finpg-tabs"
    CONTENT = "finpg-content"
    PERIOD = "finpg-period"
    EXPORT = "finpg-export"  # + "-" + xlsx | csv | pdf
    DOWNLOAD = "finpg-download"
    DRILL_MODAL = "finpg-drill-modal"
    DRILL_TITLE = "finpg-drill-title"
    DRILL_BODY = "finpg-drill-body"
    DRILL_COUNT = "finpg-drill-count"
    DRILL_STORE = "finpg-drill-store"  # the open drill-down: its name, row key and opening
    DRILL_ROWS = "finpg-drill-rows"  # the last rows answer, handed to the grid only if it is for what it asked


EXPORT_FORMATS = ("xlsx", "csv", "pdf")


def _related_links() -> html.Div:
    links = []
    for path, key, icon in RELATED:
        page = next((p for p in dash.page_registry.values() if p["path"] == path), None)
        if page is not None and may_open(current_user.roles, page.get("roles")):
            links.append(dbc.Button([html.I(className=f"bi {icon} me-1"), t(key)], href=path, color="link", size="sm"))
    return html.Div(links, className="d-flex flex-wrap", id="finpg-related")


def _select(element_id: str, label_key: str, options: list[dict], value: object) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(t(label_key), html_for=element_id, className="small mb-1"),
            dropdown(
                id=element_id, options=options, value=value, placeholder=t("finpg_all"), clearable=True, searchable=True
            ),
        ],
        lg=True,
        md=4,
        sm=6,
    )


def _filters(view: FinanceView, choices: dict[str, list[tuple[int, str]]], today: date) -> dbc.Card:
    flt = view.flt
    presets = dbc.ButtonGroup(
        [
            dbc.Button(t(f"finpg_preset_{p}"), id=f"{Ids.PRESET}-{p}", color="secondary", outline=True, size="sm")
            for p in PRESETS
        ],
        className="me-2",
    )
    period = html.Div(
        [
            dbc.Label(t("finpg_period"), html_for=Ids.RANGE, className="small mb-0 me-1"),
            presets,
            html.Div(
                date_range(
                    id=Ids.RANGE,
                    start_date=flt.start,
                    end_date=flt.end,
                    max_date_allowed=today.replace(month=12, day=31),
                    minimum_nights=0,
                ),
                style={"minWidth": "18rem", "maxWidth": "22rem"},
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-2",
    )
    named = {kind: [{"label": name, "value": ident} for ident, name in pairs] for kind, pairs in choices.items()}
    units = [{"label": t(f"fin_unit_{u}"), "value": u} for u in UNITS]
    payers = [{"label": t(f"fin_payer_{p}"), "value": p} for p in PAYERS]
    return dbc.Card(
        dbc.CardBody(
            [
                period,
                dbc.Row(
                    [
                        _select(Ids.UNIT, "finpg_unit", units, flt.unit),
                        _select(Ids.POLI, "finpg_poli", named.get("polis", []), flt.poli_id),
                        _select(Ids.WARD, "finpg_ward", named.get("wards", []), flt.ward_id),
                        _select(Ids.DOCTOR, "finpg_doctor", named.get("doctors", []), flt.doctor_id),
                        _select(Ids.PAYER, "finpg_payer", payers, flt.payer),
                    ],
                    className="g-2",
                ),
            ],
            className="py-2",
        ),
        className="mb-3 shadow-sm",
        id="finpg-filters",
    )


def _exports() -> html.Div:
    buttons = [
        dbc.Button(
            [html.I(className="bi bi-download me-1"), fmt.upper()],
            id=f"{Ids.EXPORT}-{fmt}",
            color="primary",
            outline=fmt != "xlsx",
            size="sm",
        )
        for fmt in EXPORT_FORMATS
    ]
    return html.Div([*buttons, dcc.Download(id=Ids.DOWNLOAD)], className="d-flex gap-2")


def _drill_modal() -> dbc.Modal:
    return dialog(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=Ids.DRILL_TITLE)),
            dbc.ModalBody(
                [html.Div(id=Ids.DRILL_COUNT, hidden=True), drill_grid(current_language())], id=Ids.DRILL_BODY
            ),
        ],
        id=Ids.DRILL_MODAL,
        size="xl",
        scrollable=True,
        is_open=False,
    )


def layout(**query: str) -> html.Div:
    with current_runtime().db.session() as session:
        today = local_today(session, current_user.site_id)
        choices = filter_choices(session, current_user.site_id)
    view = parse_view(query, today)
    return html.Div(
        [
            dcc.Location(id=Ids.URL, refresh=False, search=f"?{urlencode(query)}" if query else ""),
            dcc.Store(id=Ids.DRILL_STORE),
            dcc.Store(id=Ids.DRILL_ROWS),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H1(t("finpg_title"), className="h4 mb-0"),
                            html.Div(id=Ids.PERIOD, className="text-body-secondary"),
                        ],
                        width="auto",
                    ),
                    dbc.Col(_related_links(), width="auto"),
                    dbc.Col(_exports(), width="auto", className="ms-auto"),
                ],
                className="align-items-center g-2 mb-2",
            ),
            _filters(view, choices, today),
            dbc.RadioItems(
                id=Ids.TABS,
                value=view.report,
                options=[{"label": t(f"finpg_tab_{key}"), "value": key} for key in REPORTS],
                className="btn-group flex-wrap mb-3 finpg-reports",
                inputClassName="btn-check",
                labelClassName="btn btn-outline-primary",
                labelCheckedClassName="active",
            ),
            dcc.Loading(html.Div(id=Ids.CONTENT, className="finpg-content"), delay_show=400),
            _drill_modal(),
        ],
        className="finance-page",
    )
