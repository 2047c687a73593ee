"""The finance page's charts, each drawn from one table of a ``domain.finance.Report`` in the shown theme's
colours (components/chart_theme.py). Every bar or point carries its table row's drill-down key as ``customdata``
(JSON text), so a click opens the rows behind it.

Which chart a table gets is decided by its key (docs/finance.md): revenue by day, payer mix, revenue by unit,
claims by status, receivables ageing, margin per CBG group, and the Barber-Johnson chart of the bed indicators.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from components.chart_theme import ChartTheme
from components.finance_format import cell_text, label
from domain.finance import Column, Report, Table

# Receivables ageing buckets, in the order of the ageing table's money columns (the drill-down's "bucket" codes).
AGE_BUCKETS = ("0-30", "31-60", "61-90", ">90")
# Barber-Johnson (1973), as adopted by Depkes RI (Pedoman SIRS / Barber-Johnson efficiency area): a ward is
# efficient with BOR 75–85 %, AvLOS 3–12 days, TOI 1–3 days and BTO above 30 times a year.
BJ_BOR_LINES = (60, 75, 85)
BJ_BTO_LINES = (30, 40, 60)  # times a year
BJ_EFFICIENT = {"bor": (75, 85), "avlos": (3, 12), "toi": (1, 3), "bto_min": 30}
YEAR_DAYS = 365
CHART_HEIGHT = 320


def table_of(report: Report, key: str) -> Table | None:
    """The report's table called ``key``, if it has one."""
    return next((t for t in report.tables if t.key == key), None)


def column_index(table: Table, keys: Sequence[str] = (), kind: str | None = None, nth: int = 0) -> int | None:
    """The index of the first column whose key is one of ``keys``, else the ``nth`` column of ``kind``."""
    for i, column in enumerate(table.columns):
        if column.key in keys:
            return i
    of_kind = [i for i, column in enumerate(table.columns) if kind and column.kind == kind]
    return of_kind[nth] if len(of_kind) > nth else None


def _keys(table: Table, extra: Callable[[int], dict] | None = None) -> list[str]:
    keys = list(table.row_keys) if table.row_keys else [{} for _ in table.rows]
    return [json.dumps({**key, **(extra(i) if extra else {})}, sort_keys=True) for i, key in enumerate(keys)]


def _names(table: Table, index: int, lang: str) -> list[str]:
    column: Column = table.columns[index]
    return [cell_text(row[index], column.kind, lang) for row in table.rows]


def _finish(fig: go.Figure, theme: ChartTheme, *, y_title: str = "", money: bool = True) -> go.Figure:
    fig.update_layout(
        template=theme.template,
        height=CHART_HEIGHT,
        margin={"l": 60, "r": 10, "t": 30, "b": 40},
        legend={"orientation": "h", "y": 1.15, "x": 0},
        yaxis_title=y_title,
        hovermode="closest",
        clickmode="event",
    )
    if money:
        fig.update_yaxes(tickprefix="Rp ", separatethousands=True, rangemode="tozero")
    return fig


def revenue_by_day(table: Table, theme: ChartTheme, lang: str) -> go.Figure:
    """Earned (bars) and received (line) per day."""
    day = column_index(table, ("day",), "date") or 0
    earned = column_index(table, ("earned",), "rupiah", 0)
    received = column_index(table, ("received",), "rupiah", 1)
    days = [row[day] for row in table.rows]
    keys = _keys(table)
    fig = go.Figure(
        go.Bar(
            x=days,
            y=[row[earned] for row in table.rows],
            name=label(table.columns[earned].label, lang),
            marker_color=theme.series[0],
            customdata=keys,
        )
    )
    if received is not None:
        fig.add_scatter(
            x=days,
            y=[row[received] for row in table.rows],
            name=label(table.columns[received].label, lang),
            mode="lines+markers",
            line={"color": theme.warning, "width": 2},
            customdata=keys,
        )
    fig.update_xaxes(tickformat="%d/%m")
    return _finish(fig, theme)


def payer_mix(table: Table, theme: ChartTheme, lang: str) -> go.Figure:
    """Each payer's share of revenue (donut)."""
    payer = column_index(table, ("payer",), "payer") or 0
    amount = column_index(table, ("amount",), "rupiah")
    fig = go.Figure(
        go.Pie(
            labels=_names(table, payer, lang),
            values=[row[amount] for row in table.rows],
            hole=0.55,
            sort=False,
            customdata=_keys(table),
            textinfo="percent",
            hovertemplate="%{label}: Rp %{value:,.0f} (%{percent})<extra></extra>",
            marker={"line": {"color": theme.background, "width": 2}},
        )
    )
    fig.update_layout(template=theme.template, height=CHART_HEIGHT, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def bars(
    table: Table, theme: ChartTheme, lang: str, *, value_kind: str = "rupiah", horizontal: bool = False
) -> go.Figure:
    """One bar per row: the first column names it, the first ``value_kind`` column is its height."""
    name = 0
    value = column_index(table, (), value_kind) or 1
    names, values = _names(table, name, lang), [row[value] for row in table.rows]
    bar = (
        go.Bar(y=names, x=values, orientation="h", customdata=_keys(table), marker_color=theme.series[0])
        if horizontal
        else go.Bar(x=names, y=values, customdata=_keys(table), marker_color=theme.series[0])
    )
    fig = go.Figure(bar)
    fig.update_layout(showlegend=False, bargap=0.4 if len(values) > 2 else 0.6)
    if horizontal:
        fig.update_yaxes(autorange="reversed")
        fig = _finish(fig, theme, money=False)
        if value_kind == "rupiah":
            fig.update_xaxes(tickprefix="Rp ", separatethousands=True)
        return fig
    return _finish(fig, theme, money=value_kind == "rupiah")


def claims_by_status(table: Table, theme: ChartTheme, lang: str) -> go.Figure:
    """Claim count per status."""
    return bars(table, theme, lang, value_kind="count")


def ageing(table: Table, theme: ChartTheme, lang: str) -> go.Figure:
    """Outstanding per payer, stacked by age from young (calm) to over 90 days (red)."""
    payer = column_index(table, ("payer",), "payer") or 0
    buckets = [i for i, c in enumerate(table.columns) if c.kind == "rupiah"][: len(AGE_BUCKETS)]
    colours = (theme.series[0], theme.series[1], theme.warning, theme.danger)
    names = _names(table, payer, lang)
    fig = go.Figure()
    for n, index in enumerate(buckets):
        fig.add_bar(
            x=names,
            y=[row[index] for row in table.rows],
            name=label(table.columns[index].label, lang),
            marker_color=colours[n],
            customdata=_keys(table, lambda _i, n=n: {"bucket": AGE_BUCKETS[n]}),
        )
    fig = _finish(fig, theme)
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    return fig


def margin_per_cbg(table: Table, theme: ChartTheme, lang: str) -> go.Figure:
    """Margin (hospital tariff against INA-CBG) per CBG group: green where INA-CBG pays more, red where less."""
    name = 0
    margin = column_index(table, ("margin",), "rupiah", 2)
    if margin is None:
        return bars(table, theme, lang)
    values = [row[margin] for row in table.rows]
    fig = go.Figure(
        go.Bar(
            x=_names(table, name, lang),
            y=values,
            customdata=_keys(table),
            marker_color=[theme.good if (v or 0) >= 0 else theme.danger for v in values],
        )
    )
    fig.update_layout(showlegend=False)
    return _finish(fig, theme)


def clip_polygon(points: list[tuple[float, float]], a: float, b: float, c: float) -> list[tuple[float, float]]:
    """``points`` (a convex polygon) cut to the half-plane a·x + b·y ≤ c (Sutherland–Hodgman)."""
    inside = [a * x + b * y <= c + 1e-9 for x, y in points]
    kept: list[tuple[float, float]] = []
    for i, (p, p_in) in enumerate(zip(points, inside, strict=True)):
        q, q_in = points[(i + 1) % len(points)], inside[(i + 1) % len(points)]
        if p_in:
            kept.append(p)
        if p_in != q_in:
            fp, fq = a * p[0] + b * p[1] - c, a * q[0] + b * q[1] - c
            s = fp / (fp - fq)
            kept.append((p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])))
    return kept


def efficient_area() -> list[tuple[float, float]]:
    """The Barber-Johnson efficient area in (TOI, AvLOS): BOR 75–85 %, AvLOS 3–12, TOI 1–3, BTO > 30 a year."""
    (bor_low, bor_high), (los_low, los_high), (toi_low, toi_high) = (
        BJ_EFFICIENT["bor"],
        BJ_EFFICIENT["avlos"],
        BJ_EFFICIENT["toi"],
    )
    area = [(toi_low, los_low), (toi_high, los_low), (toi_high, los_high), (toi_low, los_high)]
    low, high = bor_low / (100 - bor_low), bor_high / (100 - bor_high)
    for a, b, c in (
        (low, -1, 0),  # AvLOS ≥ TOI × BOR/(100 − BOR) at 75 %
        (-high, 1, 0),  # AvLOS ≤ … at 85 %
        (1, 1, YEAR_DAYS / BJ_EFFICIENT["bto_min"]),  # AvLOS + TOI ≤ 365 / 30
    ):
        area = clip_polygon(area, a, b, c)
    distinct = [p for i, p in enumerate(area) if not _same(p, area[i - 1])]  # a cut through a corner repeats it
    return distinct


def _same(p: tuple[float, float], q: tuple[float, float]) -> bool:
    return abs(p[0] - q[0]) < 1e-9 and abs(p[1] - q[1]) < 1e-9


def barber_johnson(table: Table, theme: ChartTheme, lang: str) -> go.Figure:
    """TOI (x) against AvLOS (y), one point per ward and one for the hospital, over the BOR and BTO iso-lines."""
    name = 0
    toi, avlos = column_index(table, ("toi",), "days", 0), column_index(table, ("avlos",), "days", 1)
    bor, bto = column_index(table, ("bor",), "percent"), column_index(table, ("bto",), "times")
    points = [(i, row) for i, row in enumerate(table.rows) if row[toi] is not None and row[avlos] is not None]
    x_max = max([6.0] + [row[toi] * 1.2 for _, row in points])
    y_max = max([14.0] + [row[avlos] * 1.2 for _, row in points])
    fig = go.Figure()
    area = efficient_area()
    fig.add_scatter(
        x=[p[0] for p in area] + [area[0][0]],
        y=[p[1] for p in area] + [area[0][1]],
        fill="toself",
        fillcolor="rgba(25,135,84,0.18)",
        line={"color": theme.good, "width": 1},
        mode="lines",
        name=label("finpg_bj_efficient", lang),
        hoverinfo="skip",
    )
    for level in BJ_BOR_LINES:
        slope = level / (100 - level)
        end_x = min(x_max, y_max / slope)
        fig.add_scatter(
            x=[0, end_x],
            y=[0, end_x * slope],
            mode="lines+text",
            line={"color": theme.axis, "width": 1, "dash": "dot"},
            text=["", f"BOR {level} %"],
            textposition="bottom left",
            showlegend=False,
            hoverinfo="skip",
        )
    for times in BJ_BTO_LINES:
        total = YEAR_DAYS / times
        end_x, label_x = min(total, x_max), x_max * 0.06
        fig.add_scatter(
            x=[0, label_x, end_x],
            y=[total, total - label_x, total - end_x],
            mode="lines+text",
            line={"color": theme.warning, "width": 1, "dash": "dash"},
            text=["", f"BTO {times}", ""],
            textposition="top right",
            showlegend=False,
            hoverinfo="skip",
        )
    hover = [
        f"{row[name]}<br>TOI {cell_text(row[toi], 'days', lang)} · AvLOS {cell_text(row[avlos], 'days', lang)}"
        + (f"<br>BOR {cell_text(row[bor], 'percent', lang)}" if bor is not None else "")
        + (f" · BTO {cell_text(row[bto], 'times', lang)}" if bto is not None else "")
        for _, row in points
    ]
    keys = _keys(table)
    fig.add_scatter(
        x=[row[toi] for _, row in points],
        y=[row[avlos] for _, row in points],
        mode="markers+text",
        text=[str(row[name]) for _, row in points],
        textposition="top center",
        marker={"size": 12, "color": theme.series[0], "line": {"color": theme.text, "width": 1}},
        hovertext=hover,
        hoverinfo="text",
        customdata=[keys[i] for i, _ in points],
        name=label("finpg_bj_wards", lang),
    )
    fig = _finish(fig, theme, y_title=label("finpg_bj_avlos", lang), money=False)
    fig.update_xaxes(range=[0, x_max], title_text=label("finpg_bj_toi", lang))
    fig.update_yaxes(range=[0, y_max])
    fig.update_layout(height=420)
    return fig


# Which chart each table gets, per report: (table key, drawing function). Tables without one are read as grids.
CHARTS: dict[str, tuple[tuple[str, Callable[[Table, ChartTheme, str], go.Figure]], ...]] = {
    "revenue": (("by_day", revenue_by_day), ("by_payer", payer_mix), ("by_unit", bars)),
    "claims": (("by_status", claims_by_status),),
    "receivables": (("ageing", ageing),),
    "margin": (("per_cbg", margin_per_cbg),),
    "beds": (("barber_johnson", barber_johnson),),
}


def report_figures(report: Report, theme: ChartTheme, lang: str) -> list[tuple[Table, go.Figure]]:
    """The report's charts, in page order, each with the table it was drawn from (tables with no rows skipped)."""
    found = []
    for key, draw in CHARTS.get(report.key, ()):
        table = table_of(report, key)
        if table is not None and table.rows:
            found.append((table, draw(table, theme, lang)))
    return found
