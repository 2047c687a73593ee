"""The finance page's pieces without a browser: the Barber-Johnson chart's efficient area and iso-lines, the drill
keys carried by chart points, KPI changes, and the address that reproduces a view."""

from __future__ import annotations

import json
from datetime import date

import pytest

from components.chart_theme import LIGHT
from components.finance_charts import ageing, barber_johnson, efficient_area
from components.finance_view import change_percent, parse_view, view_query
from domain.finance import Column, ReportFilter, Table

TODAY = date(2026, 3, 17)


def test_efficient_area_is_the_hand_worked_polygon():
    """BOR 75–85 % (AvLOS = 3·TOI … 5,67·TOI), TOI 1–3, AvLOS 3–12, AvLOS + TOI ≤ 365/30 = 12,17: at TOI 1 the
    area spans AvLOS 3–5,67; the 85 % line meets the BTO-30 line at TOI 12,17/6,67 = 1,825 (AvLOS 10,34); at
    TOI 3 only AvLOS 9–9,17 is left."""
    corners = sorted((round(x, 3), round(y, 3)) for x, y in efficient_area())
    assert corners == [(1.0, 3.0), (1.0, 5.667), (1.825, 10.342), (3.0, 9.0), (3.0, 9.167)]


def test_barber_johnson_draws_iso_lines_and_ward_points():
    table = Table(
        key="barber_johnson",
        title="fin_table_barber_johnson",
        columns=(
            Column("ward", "fin_col_ward"),
            Column("toi", "fin_col_toi", "days"),
            Column("avlos", "fin_col_avlos", "days"),
            Column("bor", "fin_col_bor", "percent"),
            Column("bto", "fin_col_bto", "times"),
        ),
        rows=(("Melati", 2.0, 6.0, 75.0, 3.75), ("ICU", None, None, None, None)),
        row_keys=({"ward_id": 4}, {"ward_id": 5}),
    )
    fig = barber_johnson(table, LIGHT, "id")
    iso = [trace for trace in fig.data if trace.text is not None and len(trace.text) in (2, 3)]
    lines = {trace.text[1]: (trace.x[1], trace.y[1]) for trace in iso if "BOR" in trace.text[1]}
    for level, (x, y) in ((60, lines["BOR 60 %"]), (75, lines["BOR 75 %"]), (85, lines["BOR 85 %"])):
        assert y == pytest.approx(x * level / (100 - level))
    bto30 = next(trace for trace in iso if trace.text[1] == "BTO 30")
    assert all(x + y == pytest.approx(365 / 30) for x, y in zip(bto30.x, bto30.y, strict=True))
    points = fig.data[-1]
    assert list(points.x) == [2.0] and list(points.y) == [6.0]  # a ward without figures is no point
    assert [json.loads(k) for k in points.customdata] == [{"ward_id": 4}]


def test_ageing_bars_carry_their_bucket_and_payer():
    table = Table(
        key="ageing",
        title="fin_table_ageing",
        columns=(
            Column("payer", "fin_col_payer", "payer"),
            *(Column(k, f"fin_col_{k}", "rupiah") for k in ("0-30", "31-60", "61-90", ">90", "total")),
        ),
        rows=(("jkn", 100, 200, 0, 50, 350),),
        row_keys=({"payer": "jkn"},),
    )
    fig = ageing(table, LIGHT, "id")
    assert [list(bar.y) for bar in fig.data] == [[100], [200], [0], [50]]  # the total is no stack
    assert [json.loads(bar.customdata[0]) for bar in fig.data][3] == {"bucket": ">90", "payer": "jkn"}


def test_change_against_an_earlier_figure():
    assert change_percent(450_000, 300_000) == pytest.approx(50.0)
    assert change_percent(80, 100) == pytest.approx(-20.0)
    assert change_percent(-50, -100) == pytest.approx(50.0)  # a loss halved is better
    assert change_percent(5, 0) is None and change_percent(None, 5) is None and change_percent(5, None) is None


def test_the_address_reproduces_the_view():
    query = {"laporan": "claims", "dari": "2026-02-01", "sampai": "2026-02-28", "penjamin": "jkn", "poli": "3"}
    view = parse_view(query, TODAY)
    assert view.report == "claims"
    assert view.flt == ReportFilter(date(2026, 2, 1), date(2026, 2, 28), poli_id=3, payer="jkn")
    assert parse_view(dict(p.split("=") for p in view_query(view)[1:].split("&")), TODAY) == view


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"dari": "2026-03-10", "sampai": "2026-03-01"},  # reversed
        {"dari": "kemarin", "sampai": "2026-03-01"},
        {"laporan": "gaji", "penjamin": "bpjs", "unit": "dapur", "poli": "x1"},
    ],
)
def test_an_unreadable_address_shows_this_month_for_everyone(query):
    view = parse_view(query, TODAY)
    assert view.report == "revenue"
    assert view.flt == ReportFilter(date(2026, 3, 1), date(2026, 3, 31))
