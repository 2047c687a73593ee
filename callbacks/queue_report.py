"""Queue dashboard: compute the report for the chosen days and render its cards, figures and tables (the figures
in the colours of the theme shown, components/chart_theme.py)."""

from __future__ import annotations

import math
from datetime import date

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, dcc, html
from flask_login import current_user

from callbacks.registry import page_callback
from components.chart_theme import ChartTheme, chart_theme
from components.graph_config import graph_config
from components.shell import THEME_STORE
from data.queue_reports import PoliFigures, QueueReport, queue_report
from data.runtime import current_runtime
from domain.clock import utcnow
from domain.errors import InputError
from domain.formats import long_date
from domain.queue_kpi import SHARE_TARGET, WAIT_TARGET, meets_target
from i18n.web import current_language, t
from pages.queue_report import Ids

DAY_MS = 86_400_000


def _minutes(value: float | None) -> str:
    return "—" if value is None else t("qrep_minutes", n=round(value))


def _percent(value: float | None) -> str:
    """Rounded down, so a share just under the target never reads as the target (79.6 % is "79 %", red)."""
    return "—" if value is None else f"{math.floor(value * 100 + 1e-9)} %"


def _target_badge(value: float | None, element_id: str | None = None) -> dbc.Badge:
    """The ≤ 60 min share, green when it reaches the target, red when not, grey when nothing to judge."""
    reached = meets_target(value)
    colour = "secondary" if reached is None else "success" if reached else "danger"
    extra = {"id": element_id} if element_id else {}
    return dbc.Badge(_percent(value), color=colour, className="fs-6", **extra)


def _figure(fig: go.Figure, y_title: str, theme: ChartTheme) -> go.Figure:
    fig.update_layout(
        template=theme.template,
        height=320,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        legend={"orientation": "h", "y": 1.12, "x": 0},
        yaxis_title=y_title,
    )
    return fig


def waits_figure(report: QueueReport, theme: ChartTheme) -> go.Figure:
    """Mean wait (registration → doctor) and mean service per poli, against the 60 min target."""
    names = [p.name for p in report.polis]
    wait, service = theme.series
    fig = go.Figure(
        [
            go.Bar(x=names, y=[p.wait_mean for p in report.polis], name=t("qrep_wait_mean"), marker_color=wait),
            go.Bar(
                x=names, y=[p.service_mean for p in report.polis], name=t("qrep_service_mean"), marker_color=service
            ),
        ]
    )
    target = WAIT_TARGET.total_seconds() / 60
    fig.add_hline(y=target, line_dash="dash", line_color=theme.warning, annotation_text=t("qrep_target_wait"))
    highest = max([p.wait_mean or 0 for p in report.polis] + [p.service_mean or 0 for p in report.polis])
    fig.update_layout(barmode="group", yaxis_range=[0, max(target, highest) * 1.15])
    return _figure(fig, t("qrep_axis_minutes"), theme)


def daily_share_figure(report: QueueReport, theme: ChartTheme) -> go.Figure:
    """The ≤ 60 min share per day, each point green or red against the target."""
    shares = [d.in_time_share for d in report.days]
    fig = go.Figure(
        go.Scatter(
            x=[d.day for d in report.days],
            y=[None if s is None else s * 100 for s in shares],
            mode="lines+markers",
            name=t("qrep_in_time"),
            line={"color": theme.series[0]},
            marker={"size": 9, "color": [theme.good if meets_target(s) else theme.danger for s in shares]},
            connectgaps=False,
        )
    )
    fig.add_hline(y=SHARE_TARGET * 100, line_dash="dash", line_color=theme.warning, annotation_text=t("qrep_target"))
    fig.update_yaxes(range=[0, 105])
    fig.update_xaxes(tickformat="%d/%m", dtick=DAY_MS if len(report.days) <= 14 else None)
    return _figure(fig, t("qrep_axis_percent"), theme)


def _card(label: str, value: object, element_id: str, note: str = "") -> dbc.Col:
    body = [html.Div(label, className="small text-body-secondary"), html.Div(value, className="fs-3 fw-semibold")]
    if note:
        body.append(html.Div(note, className="small text-body-secondary"))
    return dbc.Col(dbc.Card(dbc.CardBody(body), id=element_id, className="h-100"), md=3, sm=6)


def summary_cards(total: PoliFigures) -> dbc.Row:
    return dbc.Row(
        [
            _card(t("qrep_patients"), total.patients, "qrep-card-patients"),
            _card(
                t("qrep_wait"),
                _minutes(total.wait_mean),
                "qrep-card-wait",
                t("qrep_median_is", value=_minutes(total.wait_median)),
            ),
            _card(
                t("qrep_in_time"),
                _target_badge(total.in_time_share, "qrep-in-time-total"),
                "qrep-card-in-time",
                t("qrep_in_time_note", done=total.in_time, counted=total.judged, target=_percent(SHARE_TARGET)),
            ),
            _card(t("qrep_no_show"), _percent(total.no_show_rate), "qrep-card-no-show"),
        ],
        className="g-3 mb-3",
    )


def _poli_row(figures: PoliFigures, *, total: bool = False) -> html.Tr:
    cells = [
        figures.name if not total else t("qrep_all_polis"),
        figures.patients,
        f"{_minutes(figures.wait_mean)} / {_minutes(figures.wait_median)}",
        f"{_minutes(figures.service_mean)} / {_minutes(figures.service_median)}",
        f"{_percent(figures.no_show_rate)} ({figures.no_shows})",
    ]
    row = [html.Td(c) for c in cells] + [html.Td(_target_badge(figures.in_time_share))]
    return html.Tr(row, className="fw-semibold" if total else None, **{"data-poli": figures.code or "ALL"})


def poli_table(report: QueueReport) -> dbc.Table:
    heads = ("qrep_poli", "qrep_patients", "qrep_wait_cols", "qrep_service_cols", "qrep_no_show", "qrep_in_time")
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(t(k)) for k in heads])),
            html.Tbody([_poli_row(p) for p in report.polis] + [_poli_row(report.total, total=True)]),
        ],
        id="qrep-poli-table",
        hover=True,
        responsive=True,
        size="sm",
        className="align-middle",
    )


def doctor_table(report: QueueReport) -> dbc.Table | dbc.Alert:
    if not report.doctors:
        return dbc.Alert(t("qrep_no_sessions"), color="secondary", id="qrep-doctor-table")
    heads = ("qrep_doctor", "qrep_poli", "qrep_sessions", "qrep_late_mean", "qrep_late_max", "qrep_status")
    rows = [
        html.Tr(
            [
                html.Td(d.doctor),
                html.Td(d.poli),
                html.Td(d.sessions),
                html.Td(_minutes(d.late_mean)),
                html.Td(_minutes(d.late_max)),
                html.Td(
                    dbc.Badge(t("qrep_not_started", n=d.not_started), color="warning", text_color="dark")
                    if d.not_started
                    else ""
                ),
            ]
        )
        for d in report.doctors
    ]
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(t(k)) for k in heads])), html.Tbody(rows)],
        id="qrep-doctor-table",
        hover=True,
        responsive=True,
        size="sm",
        className="align-middle",
    )


def _section(title: str, body: object) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className="mb-3")


def report_content(report: QueueReport, theme: ChartTheme) -> html.Div:
    lang = current_language()
    period = long_date(report.start, lang)
    if report.end != report.start:
        period = f"{period} – {long_date(report.end, lang)}"
    waits = dcc.Graph(figure=waits_figure(report, theme), id="qrep-waits", config=graph_config())
    charts = [_section(t("qrep_waits_by_poli"), waits)]
    if report.end != report.start:
        daily = dcc.Graph(figure=daily_share_figure(report, theme), id="qrep-daily", config=graph_config())
        charts.append(_section(t("qrep_in_time_by_day"), daily))
    return html.Div(
        [
            html.P(period, className="text-body-secondary", id="qrep-period"),
            summary_cards(report.total),
            dbc.Row([dbc.Col(c, lg=12 // len(charts)) for c in charts], className="g-3"),
            _section(
                t("qrep_by_poli"), [poli_table(report), html.Small(t("qrep_method"), className="text-body-secondary")]
            ),
            _section(t("qrep_late_starts"), doctor_table(report)),
        ]
    )


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


@page_callback(
    "pages.queue_report",
    Output(Ids.CONTENT, "children"),
    Input(Ids.RANGE, "start_date"),
    Input(Ids.RANGE, "end_date"),
    Input(THEME_STORE, "data"),
)
def show_report(start: str | None, end: str | None, theme: str | None) -> html.Div | dbc.Alert:
    if not start or not end:
        return dbc.Alert(t("qrep_pick_range"), color="secondary")
    try:
        with current_runtime().db.session() as session:
            report = queue_report(session, current_user.site_id, _day(start), _day(end), utcnow())
    except InputError as err:
        return dbc.Alert(t(err.key, **err.params), color="warning", id="qrep-error")
    except ValueError:
        return dbc.Alert(t("qrep_pick_range"), color="warning", id="qrep-error")
    return report_content(report, chart_theme(theme))
