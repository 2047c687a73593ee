"""BPJS sync status: where the worker sends (sandbox or production), the outbox by state, refused calls with
BPJS's message (admins and managers retry them; the front desk reads), and a day's task-id completeness per poli.
Filled and refreshed every 10 s by callbacks/bpjs_sync.py."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.bpjs_sync import not_configured_alert, target_badge
from components.date_picker import date_single
from components.graph_config import graph_config
from data.bpjs_status import bpjs_target
from data.runtime import current_runtime
from data.schedules import local_today
from i18n.web import t

dash.register_page(
    __name__,
    path="/bpjs/sinkronisasi",
    name_key="bsync_nav",
    title="Sinkronisasi BPJS · Pantau",
    roles=["admin", "manager", "front_desk"],
    order=65,
    nav=True,
    nav_group="bpjs",
)


class Ids:
    """Component ids shared with callbacks/bpjs_sync.py."""

    STALL = "bsync-stall"
    CARDS = "bsync-cards"
    FEEDBACK = "bsync-feedback"
    FAILURES = "bsync-failures"
    DAY = "bsync-day"
    COMPLETENESS = "bsync-completeness"
    COMPLETENESS_CHART = "bsync-completeness-chart"
    VERSION = "bsync-version"
    INTERVAL = "bsync-interval"


RETRY_ROLES = frozenset({"admin", "manager"})
REFRESH_MS = 10_000


def _section(title: str, body: list, element_id: str) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className="mb-3", id=element_id)


def layout(**_query: str) -> html.Div:
    runtime = current_runtime()
    target = bpjs_target(runtime.settings)
    with runtime.db.session() as session:
        today = local_today(session, current_user.site_id)
    can_retry = bool(current_user.roles & RETRY_ROLES)
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H1(t("bsync_title"), className="h4 mb-1"),
                            html.Div(t("bsync_subtitle"), className="text-body-secondary small"),
                        ]
                    ),
                    dbc.Col(target_badge(target), width="auto"),
                ],
                className="align-items-center g-2 mb-3",
            ),
            not_configured_alert(target),
            html.Div(id=Ids.STALL),
            html.Div(id=Ids.CARDS),
            _section(
                t("bsync_failures_title"),
                [
                    html.P(
                        t("bsync_failures_help") if can_retry else t("bsync_read_only"),
                        className="small text-body-secondary",
                        id="bsync-failures-help",
                    ),
                    html.Div(id=Ids.FEEDBACK),
                    html.Div(id=Ids.FAILURES),
                ],
                "bsync-failures-card",
            ),
            _section(
                t("bsync_completeness_title"),
                [
                    dbc.Row(
                        [
                            dbc.Col(dbc.Label(t("bsync_day"), html_for=Ids.DAY, className="mb-0"), width="auto"),
                            dbc.Col(
                                date_single(
                                    id=Ids.DAY,
                                    date=today,
                                    max_date_allowed=today,
                                ),
                                width="auto",
                            ),
                        ],
                        className="align-items-center g-2 mb-3",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(html.Div(id=Ids.COMPLETENESS), lg=6),
                            dbc.Col(
                                dcc.Graph(id=Ids.COMPLETENESS_CHART, config=graph_config(displayModeBar=False)),
                                lg=6,
                            ),
                        ],
                        className="g-3",
                    ),
                    html.Small(t("bsync_completeness_method"), className="text-body-secondary"),
                ],
                "bsync-completeness-card",
            ),
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Interval(id=Ids.INTERVAL, interval=REFRESH_MS),
        ],
        className="bpjs-sync",
    )
