"""The finance page: one report per filter change (its KPI cards, charts and tables all drawn from that one
``Report``), the filter written back into the address, drill-downs paged on the server, and audited exports.

Every callback belongs to ``pages.finance`` (callbacks.registry), so the request guard refuses it to any role that
may not open the page; the export checks the role again before it builds anything."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import clientside_callback, page_callback
from components.chart_theme import chart_theme
from components.finance_charts import report_figures
from components.finance_exports import ExportHeader, report_csv, report_pdf, report_xlsx
from components.finance_format import cell_text, label, period_text
from components.finance_view import (
    DRILL_GRID_ID,
    GRAPH_ID,
    GRID_ID,
    FinanceView,
    column_defs,
    compared_periods,
    filter_words,
    graph_id,
    kpi_row,
    parse_view,
    running_note,
    table_grid,
    view_query,
)
from components.graph_config import graph_config
from components.shell import THEME_STORE
from data.audit import record_by
from data.facility import facility_profile
from data.finance_reports import build_report, drill, filter_choices
from data.runtime import current_runtime
from data.schedules import local_today, site_zone
from domain.clock import utcnow
from domain.finance import PAYERS, UNITS, Report, ReportFilter, Table, month_period
from domain.roles import may_open
from i18n.web import current_language
from pages.finance import EXPORT_FORMATS, PRESETS, ROLES, Ids

OWNER = "pages.finance"
WIDE_CHARTS = ("by_day", "barber_johnson")  # drawn across the page
CHART_ONLY = ("barber_johnson",)  # its figures are the chart's points; by_ward_month has them in full
WIDE_TABLE_COLUMNS = 5  # a table this wide gets the page's width
DRILL_BLOCK = 100  # rows per request of the drill-down grid (its cacheBlockSize)
EXPORTERS = {"xlsx": report_xlsx, "csv": report_csv, "pdf": report_pdf}
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "pdf": "application/pdf",
}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def view_of(report: str | None, start: str | None, end: str | None, *picked: Any) -> FinanceView | None:
    """The filter controls' values as a view; ``None`` when the period is incomplete or reversed."""
    first, last = _day(start), _day(end)
    if first is None or last is None or first > last:
        return None
    unit, poli, ward, doctor, payer = picked
    flt = ReportFilter(
        start=first,
        end=last,
        unit=unit if unit in UNITS else None,
        poli_id=int(poli) if poli else None,
        ward_id=int(ward) if ward else None,
        doctor_id=int(doctor) if doctor else None,
        payer=payer if payer in PAYERS else None,
    )
    return FinanceView(report or "revenue", flt)


def _build(view: FinanceView) -> tuple[Report, date]:
    """The view's report, and the site's today."""
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        today = local_today(session, site_id)
        return build_report(session, site_id, view.report, view.flt, today=today), today


def _section(title: str, body: Any, element_id: str | None = None) -> dbc.Card:
    extra = {"id": element_id} if element_id else {}
    return dbc.Card(
        [dbc.CardHeader(title, className="fw-semibold"), dbc.CardBody(body, className="p-2")],
        className="h-100 shadow-sm",
        **extra,
    )


def _table_body(table: Table, lang: str) -> Any:
    if not table.rows:
        return html.P(label("finpg_no_rows", lang), className="text-body-secondary mb-0 p-2")
    return table_grid(table, lang)


def report_content(report: Report, theme_name: str | None, lang: str, note: html.Div | None = None) -> html.Div:
    """``note`` (which days a running period covers), the KPI cards, then the charts, then every table of the
    report as a grid."""
    theme = chart_theme(theme_name)
    figures = report_figures(report, theme, lang)
    charts = [
        dbc.Col(
            _section(
                label(table.title, lang),
                dcc.Graph(figure=figure, id=graph_id(table), config=graph_config(displayModeBar=False)),
                f"finpg-chart-{table.key}",
            ),
            lg=12 if len(figures) == 1 or table.key in WIDE_CHARTS else 6,
        )
        for table, figure in figures
    ]
    shown = [table for table in report.tables if table.key not in CHART_ONLY]
    tables = [
        dbc.Col(
            _section(label(table.title, lang), _table_body(table, lang), f"finpg-table-{table.key}"),
            lg=12 if len(table.columns) >= WIDE_TABLE_COLUMNS or len(shown) == 1 else 6,
        )
        for table in shown
    ]
    return html.Div(
        [
            note,
            kpi_row(report, lang),
            dbc.Row(charts, className="g-3 mb-3"),
            html.Div(html.Small(label("finpg_drill_hint", lang), className="text-body-secondary"), className="mb-2"),
            dbc.Row(tables, className="g-3"),
        ],
        id=f"finpg-report-{report.key}",
    )


FILTER_STATES = (
    (Ids.TABS, "value"),
    (Ids.RANGE, "start_date"),
    (Ids.RANGE, "end_date"),
    (Ids.UNIT, "value"),
    (Ids.POLI, "value"),
    (Ids.WARD, "value"),
    (Ids.DOCTOR, "value"),
    (Ids.PAYER, "value"),
)


@page_callback(
    OWNER,
    Output(Ids.RANGE, "start_date"),
    Output(Ids.RANGE, "end_date"),
    *(Input(f"{Ids.PRESET}-{p}", "n_clicks") for p in PRESETS),
    prevent_initial_call=True,
)
def pick_preset(*_clicks: int | None) -> tuple[date, date]:
    """This month, last month or this year (site-local)."""
    with current_runtime().db.session() as session:
        today = local_today(session, current_user.site_id)
    preset = str(ctx.triggered_id).removeprefix(f"{Ids.PRESET}-")
    if preset == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if preset == "last_month":
        last = date(today.year, today.month, 1).toordinal() - 1
        previous = date.fromordinal(last)
        return month_period(previous.year, previous.month)
    return month_period(today.year, today.month)


@page_callback(
    OWNER,
    Output(Ids.URL, "search"),
    Output(Ids.CONTENT, "children"),
    Output(Ids.PERIOD, "children"),
    *(Input(i, p) for i, p in FILTER_STATES),
    Input(THEME_STORE, "data"),
    State(Ids.URL, "search"),
)
def show_report(report_key: str | None, start: str | None, end: str | None, *rest: Any) -> tuple:
    """Build the chosen report once and draw all of it; keep the filter in the address. An address that already
    says this view is left alone: rewriting ``/keuangan`` as its long form would add a history entry that the Back
    button returns to, and that would be rewritten again (a trap)."""
    *picked, theme, search = rest
    lang = current_language()
    view = view_of(report_key, start, end, *picked)
    if view is None:
        return no_update, dbc.Alert(label("finpg_pick_period", lang), color="warning", id="finpg-error"), ""
    report, today = _build(view)
    period = period_text(view.flt.start, view.flt.end, lang)
    shown = parse_view(dict(parse_qsl((search or "").lstrip("?"))), today)
    content = report_content(report, theme, lang, running_note(view.flt.as_of(today), lang))
    return (no_update if shown == view else view_query(view)), content, period


@page_callback(
    OWNER,
    *(Output(i, p, allow_duplicate=True) for i, p in FILTER_STATES),
    Input(Ids.URL, "search"),
    *(State(i, p) for i, p in FILTER_STATES),
    prevent_initial_call=True,
)
def follow_address(search: str | None, *filters: Any) -> tuple:
    """Back and Forward change the address only: set the filter to what it says (which redraws the report)."""
    with current_runtime().db.session() as session:
        today = local_today(session, current_user.site_id)
    wanted = parse_view(dict(parse_qsl((search or "").lstrip("?"))), today)
    if wanted == view_of(*filters):
        raise PreventUpdate
    flt = wanted.flt
    return wanted.report, flt.start, flt.end, flt.unit, flt.poli_id, flt.ward_id, flt.doctor_id, flt.payer


def _fired(group: int, trigger: dict) -> int | None:
    """The position of the ``trigger`` component among the ``group``-th wildcard input's components."""
    return next((n for n, i in enumerate(ctx.inputs_list[group]) if i["id"] == trigger), None)


def _row_key_of_click(trigger: dict, clicks: list, cells: list, rows: list) -> tuple[dict, str] | None:
    """(row key, what was clicked in words) of the chart point or grid row that fired, if any."""
    if trigger.get("type") == GRAPH_ID:
        index = _fired(0, trigger)
        click = None if index is None else clicks[index]
        if not click or not click.get("points"):
            return None
        point = click["points"][0]
        data = point.get("customdata")
        if isinstance(data, list):
            data = data[0]
        if not data:
            return None
        key = json.loads(data)
        if "day" in key:  # a day's bar: its date as people write it
            return key, cell_text(date.fromisoformat(key["day"]), "date", current_language())
        return key, str(point.get("label") or point.get("text") or point.get("x") or "")
    index = _fired(1, trigger)
    if index is None or not cells[index]:
        return None
    cell, data = cells[index], rows[index] or []
    if cell.get("rowPinned") == "bottom" or not str(cell.get("rowId", "")).isdigit():
        return {}, label("finpg_all", current_language())
    row = data[int(cell["rowId"])] if int(cell["rowId"]) < len(data) else None
    if row is None:
        return None
    first = next(iter(row.values()), "")
    return json.loads(row.get("_key") or "{}"), str(first)


@page_callback(
    OWNER,
    Output(Ids.DRILL_MODAL, "is_open"),
    Output(Ids.DRILL_TITLE, "children"),
    Output(Ids.DRILL_COUNT, "children"),
    Output(Ids.DRILL_STORE, "data"),
    Output(DRILL_GRID_ID, "columnDefs"),
    Output(DRILL_GRID_ID, "columnSize"),
    Input({"type": GRAPH_ID, "table": ALL, "drill": ALL}, "clickData"),
    Input({"type": GRID_ID, "table": ALL, "drill": ALL}, "cellClicked"),
    State({"type": GRID_ID, "table": ALL, "drill": ALL}, "rowData"),
    *(State(i, p) for i, p in FILTER_STATES),
    prevent_initial_call=True,
)
def open_drill(clicks: list, cells: list, rows: list, *filters: Any) -> tuple:
    """A click on a bar, a point or a table row opens the rows behind it: the page's one drill-down grid gets this
    opening's columns, and the new store (its ``opened`` names this opening) empties the grid's row cache."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not trigger.get("drill") or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    found = _row_key_of_click(dict(trigger), clicks, cells, rows)
    view = view_of(*filters)
    if found is None or view is None:
        raise PreventUpdate
    row_key, what = found
    lang = current_language()
    with current_runtime().db.session() as session:
        site_id = current_user.site_id
        today = local_today(session, site_id)
        first = drill(session, site_id, view.flt, trigger["drill"], row_key, today=today, offset=0, limit=1)
    name = label(f"finpg_drill_{trigger['drill']}", lang)
    title = f"{name} · {what} · {label('finpg_rows', lang)}: {first.count}"
    store = {"name": trigger["drill"], "row_key": row_key, "opened": uuid.uuid4().hex[:12]}
    columns = column_defs(first.columns, lang, sortable=True)
    return True, title, str(first.count), store, columns, "autoSize"


# A new opening empties the grid's row cache (and any sort left from the previous one), so the grid asks again for
# the rows in view with the new store. The grid stays: one made anew per opening let a rows answer for a removed
# grid arrive after its replacement, and the browser could then drop the next answer.
REFRESH_DRILL = f"""async function () {{
    const api = await window.dash_ag_grid.getApiAsync("{DRILL_GRID_ID}");
    if (api.getDisplayedRowCount() > 0) {{ api.ensureIndexVisible(0); }}
    if (api.getColumnState().some((column) => column.sort)) {{
        api.applyColumnState({{defaultState: {{sort: null}}}});
    }}
    api.purgeInfiniteCache();
    return window.dash_clientside.no_update;
}}"""
clientside_callback(
    REFRESH_DRILL, Output(DRILL_GRID_ID, "scrollTo"), Input(Ids.DRILL_STORE, "data"), prevent_initial_call=True
)

# The grid fills the request it made last with whatever answer comes next, so an answer reaches it only when it is
# for that request: this opening, the same first row and sort. A late answer for an earlier opening or sort is
# dropped (the grid's own request is answered in its turn).
HAND_ROWS = """function (answer, store, request) {
    const same = (a, b) => JSON.stringify(a || []) === JSON.stringify(b || []);
    if (!answer || !store || !request || answer.opened !== store.opened || answer.startRow !== request.startRow
        || !same(answer.sortModel, request.sortModel)) {
        return window.dash_clientside.no_update;
    }
    return {rowData: answer.rowData, rowCount: answer.rowCount};
}"""
clientside_callback(
    HAND_ROWS,
    Output(DRILL_GRID_ID, "getRowsResponse"),
    Input(Ids.DRILL_ROWS, "data"),
    State(Ids.DRILL_STORE, "data"),
    State(DRILL_GRID_ID, "getRowsRequest"),
    prevent_initial_call=True,
)


@page_callback(
    OWNER,
    Output(Ids.DRILL_ROWS, "data"),
    Input(DRILL_GRID_ID, "getRowsRequest"),
    State(Ids.DRILL_STORE, "data"),
    *(State(i, p) for i, p in FILTER_STATES),
    prevent_initial_call=True,
)
def drill_rows(request: dict | None, store: dict | None, *filters: Any) -> dict:
    """One block of the drill-down's rows, sorted on the server by the grid's sort column, named with the opening
    and the request it answers (HAND_ROWS gives the grid only the answer to what it asked last)."""
    view = view_of(*filters)
    if not request or not store or view is None:
        raise PreventUpdate
    start = max(int(request.get("startRow") or 0), 0)
    limit = max(min(int(request.get("endRow") or start + DRILL_BLOCK) - start, 1000), 1)
    sort = (request.get("sortModel") or [None])[0]
    lang = current_language()
    with current_runtime().db.session() as session:
        page = drill(
            session,
            current_user.site_id,
            view.flt,
            store["name"],
            store.get("row_key") or {},
            today=local_today(session, current_user.site_id),
            offset=start,
            limit=limit,
            sort=sort["colId"] if sort else None,
            descending=bool(sort and sort.get("sort") == "desc"),
        )
    rows = [{c.key: cell_text(v, c.kind, lang) for c, v in zip(page.columns, row, strict=True)} for row in page.rows]
    return {
        "opened": store.get("opened"),
        "startRow": request.get("startRow"),
        "sortModel": request.get("sortModel") or [],
        "rowData": rows,
        "rowCount": page.count,
    }


def export_header(session: Any, report: Report, view: FinanceView, lang: str, today: date) -> ExportHeader:
    """The export's heading; a running period names the days it is compared with among the filters."""
    site_id = current_user.site_id
    choices = filter_choices(session, site_id)
    compared = compared_periods(view.flt.as_of(today), lang)
    extra = ((label("finpg_compared", lang), " · ".join(compared)),) if compared else ()
    return ExportHeader(
        hospital=facility_profile(session, site_id).name,
        title=label(report.title, lang),
        period=period_text(view.flt.start, view.flt.end, lang),
        filters=filter_words(view.flt, choices, lang) + extra,
        printed_by=current_user.full_name,
        printed_at=utcnow().astimezone(site_zone(session, site_id)),
    )


def _audit_detail(view: FinanceView, fmt: str) -> dict:
    flt = view.flt
    chosen = {
        "unit": flt.unit,
        "poli_id": flt.poli_id,
        "ward_id": flt.ward_id,
        "doctor_id": flt.doctor_id,
        "payer": flt.payer,
    }
    return {
        "report": view.report,
        "format": fmt,
        "period": [flt.start.isoformat(), flt.end.isoformat()],
        "filters": {k: v for k, v in chosen.items() if v is not None},
    }


@page_callback(
    OWNER,
    Output(Ids.DOWNLOAD, "data"),
    *(Input(f"{Ids.EXPORT}-{fmt}", "n_clicks") for fmt in EXPORT_FORMATS),
    *(State(i, p) for i, p in FILTER_STATES),
    prevent_initial_call=True,
)
def export(*values: Any) -> dict:
    """The shown report as XLSX, CSV or PDF, with an audit row (report, format, period, filters; no patient)."""
    if not may_open(current_user.roles, ROLES):
        raise PreventUpdate
    fmt = str(ctx.triggered_id).removeprefix(f"{Ids.EXPORT}-")
    view = view_of(*values[len(EXPORT_FORMATS) :])
    if fmt not in EXPORTERS or view is None or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    lang = current_language()
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        today = local_today(session, site_id)
        report = build_report(session, site_id, view.report, view.flt, today=today)
        header = export_header(session, report, view, lang, today)
        content = EXPORTERS[fmt](report, header, lang)
        record_by(
            session,
            current_actor(),
            "finance_export",
            target_type="finance_report",
            target_id=view.report,
            detail=_audit_detail(view, fmt),
        )
    name = f"keuangan-{view.report}-{view.flt.start.isoformat()}-{view.flt.end.isoformat()}.{fmt}"
    return dcc.send_bytes(content, name, type=MEDIA[fmt])
