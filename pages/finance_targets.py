"""Monthly finance targets (``/keuangan/target``): a year's grid of 12 months × (revenue, BPJS claims paid) for
the whole hospital, filled and saved by callbacks/finance_targets.py through ``data.finance_targets``."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from components.finance_format import month_name
from components.hidden_label import hidden_label
from data.runtime import current_runtime
from data.schedules import local_today
from domain.finance import TARGET_METRICS
from i18n.web import current_language, t

dash.register_page(
    __name__,
    path="/keuangan/target",
    name_key="tgt_nav",
    title="Target Keuangan · Pantau",
    roles=["manager", "admin", "finance"],
    order=57,
    nav=True,
    nav_group="reports",
)


class Ids:
    """Component ids shared with callbacks/finance_targets.py."""

    YEAR = "tgt-year"
    CELL = "tgt-cell"  # pattern id {"type": CELL, "month": 1-12, "metric": "revenue"}
    CELL_ERROR = "tgt-cell-error"  # the same keys
    TOTAL = "tgt-total"  # pattern id {"type": TOTAL, "metric": ...}
    SAVE = "tgt-save"
    FEEDBACK = "tgt-feedback"


def _cell(month: int, metric: str) -> html.Td:
    key = {"month": month, "metric": metric}
    label = f"{t(f'tgt_{metric}')} {month_name(month, current_language())}"
    return html.Td(
        [
            hidden_label(label, {"type": Ids.CELL, **key}),
            dbc.Input(
                id={"type": Ids.CELL, **key},
                inputMode="numeric",
                maxLength=24,
                autoComplete="off",
                size="sm",
                className="text-end",
            ),
            dbc.FormFeedback(id={"type": Ids.CELL_ERROR, **key}, type="invalid"),
        ]
    )


def _grid() -> dbc.Table:
    lang = current_language()
    head = html.Thead(html.Tr([html.Th(t("tgt_month"))] + [html.Th(t(f"tgt_{m}")) for m in TARGET_METRICS]))
    rows = [
        html.Tr([html.Th(month_name(month, lang))] + [_cell(month, m) for m in TARGET_METRICS])
        for month in range(1, 13)
    ]
    total = html.Tr(
        [html.Th(t("tgt_total"))]
        + [html.Th(id={"type": Ids.TOTAL, "metric": m}, className="text-end") for m in TARGET_METRICS]
    )
    return dbc.Table([head, html.Tbody([*rows, total])], size="sm", className="mb-0", id="tgt-grid")


def layout(**_query: str) -> html.Div:
    with current_runtime().db.session() as session:
        year = local_today(session, current_user.site_id).year
    return html.Div(
        [
            html.H1(t("tgt_title"), className="h4 mb-3"),
            dbc.Row(
                dbc.Col(
                    [
                        dbc.Label(t("tgt_year"), html_for=Ids.YEAR),
                        dbc.Select(id=Ids.YEAR, value=str(year), options=[str(y) for y in range(year - 2, year + 3)]),
                    ],
                    width=3,
                ),
                className="mb-2",
            ),
            html.P(t("tgt_hint"), className="small text-body-secondary"),
            dbc.Card(dbc.CardBody(_grid()), className="mb-3"),
            dbc.Button(t("tgt_save"), id=Ids.SAVE, color="primary"),
            html.Div(id=Ids.FEEDBACK, className="mt-3"),
        ]
    )
