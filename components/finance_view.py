"""Pieces of the finance page (/keuangan): the filter carried in the address (``?dari=…&sampai=…&penjamin=jkn``),
KPI cards compared with the previous period, the same period last year and the target, and report tables as
AG Grids. Values become text through components/finance_format.py only, as in the exports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from components.finance_format import cell_text, label, period_text
from components.grid import GRID_COLOURS, grid_words
from domain.finance import PAYERS, UNITS, Kpi, Report, ReportFilter, Table, month_period
from i18n import translate

REPORTS = ("revenue", "claims", "receivables", "margin", "beds")
# The address's query names (Indonesian, as the page's own path).
QUERY = {"start": "dari", "end": "sampai", "unit": "unit", "poli": "poli", "ward": "bangsal", "doctor": "dokter"}
QUERY_PAYER, QUERY_REPORT = "penjamin", "laporan"
# KPIs where a rise is bad news (shown red when they go up).
LOWER_IS_BETTER = frozenset(
    {
        "unpriced",
        "near_limit",
        "outstanding",
        "days_in_ar",
        "discharge_to_submission_days",
        "submission_to_payment_days",
        "toi",
        "ndr",
        "gdr",
    }
)
GRID_HEIGHT_PX = 320
# Component id types of what the page draws after it opens (callbacks/finance.py matches them with ALL).
GRAPH_ID, GRID_ID = "finpg-graph", "finpg-grid"
# The drill-down's one grid, in the page's modal for the page's life: a new opening sets its columns and purges its
# row cache (callbacks/finance.py).
DRILL_GRID_ID = "finpg-drill-grid"


@dataclass(frozen=True)
class FinanceView:
    """What the page shows: a report key and its filter."""

    report: str
    flt: ReportFilter


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def parse_view(query: dict[str, str], today: date) -> FinanceView:
    """The view an address asks for; anything missing or unreadable falls back to this month, every payer."""
    start, end = _day(query.get(QUERY["start"])), _day(query.get(QUERY["end"]))
    if start is None or end is None or start > end:
        start, end = month_period(today.year, today.month)
    unit, payer, report = query.get(QUERY["unit"]), query.get(QUERY_PAYER), query.get(QUERY_REPORT)
    flt = ReportFilter(
        start=start,
        end=end,
        unit=unit if unit in UNITS else None,
        poli_id=_number(query.get(QUERY["poli"])),
        ward_id=_number(query.get(QUERY["ward"])),
        doctor_id=_number(query.get(QUERY["doctor"])),
        payer=payer if payer in PAYERS else None,
    )
    return FinanceView(report if report in REPORTS else REPORTS[0], flt)


def view_query(view: FinanceView) -> str:
    """The address's query string (``?…``) that reproduces ``view``."""
    flt = view.flt
    pairs = {
        QUERY_REPORT: view.report,
        QUERY["start"]: flt.start.isoformat(),
        QUERY["end"]: flt.end.isoformat(),
        QUERY["unit"]: flt.unit,
        QUERY["poli"]: flt.poli_id,
        QUERY["ward"]: flt.ward_id,
        QUERY["doctor"]: flt.doctor_id,
        QUERY_PAYER: flt.payer,
    }
    return "?" + urlencode({k: v for k, v in pairs.items() if v is not None})


def filter_words(
    flt: ReportFilter, choices: dict[str, list[tuple[int, str]]], lang: str
) -> tuple[tuple[str, str], ...]:
    """The filter as (label, value) pairs in words, for an export's header ("Penjamin", "JKN")."""
    names = {kind: dict(pairs) for kind, pairs in choices.items()}
    words = []
    if flt.unit:
        words.append((label("finpg_unit", lang), cell_text(flt.unit, "unit", lang)))
    for kind, value, key in (
        ("polis", flt.poli_id, "finpg_poli"),
        ("wards", flt.ward_id, "finpg_ward"),
        ("doctors", flt.doctor_id, "finpg_doctor"),
    ):
        if value is not None:
            words.append((label(key, lang), names.get(kind, {}).get(value, str(value))))
    if flt.payer:
        words.append((label("finpg_payer", lang), cell_text(flt.payer, "payer", lang)))
    return tuple(words)


def change_percent(value: float | None, before: float | None) -> float | None:
    """The change from ``before`` to ``value`` in percent of ``before`` (``None`` when there is nothing to compare)."""
    if value is None or before is None or before == 0:
        return None
    return (value - before) / abs(before) * 100


def _change(kpi: Kpi, before: float | None, what: str, lang: str) -> html.Div:
    change = change_percent(kpi.value, before)
    if change is None:
        return html.Div(f"{label(what, lang)}: –", className="small text-body-secondary")
    arrow = "▲" if change > 0 else "▼" if change < 0 else "＝"
    good = (change < 0) if kpi.key in LOWER_IS_BETTER else (change > 0)
    colour = "text-body-secondary" if change == 0 else "text-success" if good else "text-danger"
    return html.Div(
        [
            html.Span(f"{arrow} {cell_text(abs(change), 'percent', lang)}", className=f"fw-semibold {colour}"),
            html.Span(f" {label(what, lang)} ({cell_text(before, kpi.kind, lang)})", className="text-body-secondary"),
        ],
        className="small",
    )


def kpi_card(kpi: Kpi, lang: str) -> dbc.Card:
    """A KPI: its value, ▲/▼ against the previous period and last year, and the share of its target reached."""
    body = [
        html.Div(
            label(kpi.label, lang),
            className="small text-body-secondary text-uppercase fw-semibold",
            id=f"finpg-kpi-{kpi.key}-label",
        ),
        html.Div(cell_text(kpi.value, kpi.kind, lang), className="fs-4 fw-bold", id=f"finpg-kpi-{kpi.key}-value"),
        _change(kpi, kpi.previous, "finpg_vs_previous", lang),
        _change(kpi, kpi.last_year, "finpg_vs_last_year", lang),
    ]
    if kpi.target and kpi.value is not None:
        reached = kpi.value / kpi.target * 100
        body.append(
            html.Div(
                [
                    html.Div(
                        f"{label('finpg_target', lang)} {cell_text(kpi.target, kpi.kind, lang)} · "
                        f"{cell_text(reached, 'percent', lang)}",
                        className="small text-body-secondary mt-1",
                    ),
                    dbc.Progress(
                        value=min(reached, 100),
                        color="success" if reached >= 100 else "warning",
                        style={"height": "6px"},
                        className="mt-1",
                    ),
                ],
                id=f"finpg-kpi-{kpi.key}-target",
            )
        )
    return dbc.Card(dbc.CardBody(body), id=f"finpg-kpi-{kpi.key}", className="h-100 shadow-sm finpg-kpi")


def kpi_row(report: Report, lang: str) -> dbc.Row:
    return dbc.Row(
        [dbc.Col(kpi_card(k, lang), xl=3, lg=4, sm=6) for k in report.kpis], className="g-3 mb-3", id="finpg-kpis"
    )


def compared_periods(flt: ReportFilter, lang: str) -> tuple[str, str] | None:
    """The days a running period (``ReportFilter.as_of``) is compared with, in words: (previous, last year);
    ``None`` for a period that is over."""
    if flt.through is None:
        return None
    previous, last_year = (period_text(f.start, f.end, lang) for f in (flt.previous(), flt.last_year()))
    return previous, last_year


def running_note(flt: ReportFilter, lang: str) -> html.Div | None:
    """Above the KPI cards of a running period: which days its figures, comparisons and target cover."""
    compared = compared_periods(flt, lang)
    if compared is None or flt.through is None:
        return None
    through = period_text(flt.through, flt.through, lang)
    text = translate("finpg_running", lang, through=through, previous=compared[0], last_year=compared[1])
    return html.Div(html.Small(text, className="text-body-secondary"), className="mb-2", id="finpg-running")


def grid_id(table: Table) -> dict[str, str]:
    return {"type": GRID_ID, "table": table.key, "drill": table.drill or ""}


def graph_id(table: Table) -> dict[str, str]:
    return {"type": GRAPH_ID, "table": table.key, "drill": table.drill or ""}


def _rows(table: Table, lang: str) -> list[dict]:
    keys = list(table.row_keys) if table.row_keys else [{} for _ in table.rows]
    return [
        {
            **{c.key: cell_text(value, c.kind, lang) for c, value in zip(table.columns, row, strict=True)},
            "_key": json.dumps(key, sort_keys=True),
        }
        for row, key in zip(table.rows, keys, strict=True)
    ]


def column_defs(columns: tuple, lang: str, *, sortable: bool) -> list[dict]:
    numeric = {"rupiah", "count", "percent", "days", "permille", "times"}
    return [
        {
            "field": c.key,
            "headerName": label(c.label, lang),
            "sortable": sortable,
            "type": "rightAligned" if c.kind in numeric else None,
            "flex": 1,
            "minWidth": 110,
        }
        for c in columns
    ]


def table_grid(table: Table, lang: str) -> dag.AgGrid:
    """A report table as a grid (rows in the report's order; a click on a row opens its drill-down)."""
    total = []
    if table.total is not None:
        cells = {c.key: cell_text(v, c.kind, lang) for c, v in zip(table.columns, table.total, strict=True)}
        if table.total[0] is None:  # the label cell of a totals row
            cells[table.columns[0].key] = label("finpg_total", lang)
        total = [{**cells, "_key": "{}"}]
    return dag.AgGrid(
        id=grid_id(table),
        columnDefs=column_defs(table.columns, lang, sortable=False),
        rowData=_rows(table, lang),
        columnSize="responsiveSizeToFit",
        dashGridOptions={
            "pinnedBottomRowData": total,
            "rowHeight": 32,
            "headerHeight": 36,
            "localeText": grid_words("finpg_no_rows", lang),
        },
        className="finpg-grid" + (" finpg-grid-drill" if table.drill else ""),
        style={**GRID_COLOURS, "height": f"{min(GRID_HEIGHT_PX, 46 + 32 * (len(table.rows) + len(total)))}px"},
    )


def drill_grid(lang: str) -> dag.AgGrid:
    """The drill-down's grid: rows fetched page by page from the server (infinite row model), sorted there. One grid
    for the page's life; each opening gives it its columns (``column_defs``) and empties its row cache."""
    return dag.AgGrid(
        id=DRILL_GRID_ID,
        columnDefs=[],
        rowModelType="infinite",
        dashGridOptions={
            "cacheBlockSize": 100,
            "maxBlocksInCache": 10,
            "rowHeight": 30,
            "localeText": grid_words("finpg_no_rows", lang),
        },
        style={**GRID_COLOURS, "height": "60vh"},
    )
