"""Facility sync (Sinkronisasi fasilitas), for the administrator: each peer site's queue, lag, last message, last
error and last verify, refreshed every few seconds; the open conflicts with both values (their read audited), each
marked reviewed once. When sync was never configured in this database the page says how to turn it on.
Filled by callbacks/admin_facility_sync.py."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.facility_sync import GRID_ID, conflicts_grid, not_configured_alert
from data.facility_sync_views import sync_site
from data.runtime import current_runtime
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/sinkron-fasilitas",
    name_key="fsync_nav",
    title="Sinkronisasi fasilitas · Pantau",
    roles=["admin"],
    order=94,
    nav=True,
    nav_group="admin",
)


class Ids:
    """Component ids shared with callbacks/admin_facility_sync.py."""

    BODY = "fsync-body"
    PEERS = "fsync-peers"
    UPDATED = "fsync-updated"
    INTERVAL = "fsync-interval"
    GRID = GRID_ID
    COUNT = "fsync-conflict-count"
    REVIEW = "fsync-review"
    RELOAD = "fsync-reload"
    FEEDBACK = "fsync-feedback"
    VERSION = "fsync-version"


REFRESH_MS = 5_000


def layout(**_query: str) -> html.Div:
    with current_runtime().db.session() as session:
        site = sync_site(session)
    header = dbc.Row(
        [
            dbc.Col(
                [
                    html.H1(t("fsync_title"), className="h4 mb-1"),
                    html.Div(t("fsync_subtitle"), className="text-body-secondary small"),
                ]
            ),
            dbc.Col(
                dbc.Badge(t("fsync_site", site=site), color="info", className="fs-6", id="fsync-site")
                if site
                else None,
                width="auto",
            ),
        ],
        className="align-items-center g-2 mb-3",
    )
    peers = dbc.Card(
        [
            dbc.CardHeader(
                [
                    html.Span(t("fsync_peers_title")),
                    html.Small(id=Ids.UPDATED, className="text-body-secondary float-end", **{"aria-live": "polite"}),
                ]
            ),
            dbc.CardBody(html.Div(id=Ids.PEERS)),
        ],
        className="mb-3",
        id="fsync-peers-card",
    )
    conflicts = dbc.Card(
        [
            dbc.CardHeader([html.Span(t("fsync_conflicts_title")), " ", html.Span(id=Ids.COUNT)]),
            dbc.CardBody(
                [
                    html.P(t("fsync_conflicts_help"), className="small text-body-secondary"),
                    html.Div(id=Ids.FEEDBACK),
                    html.Div(
                        [
                            dbc.Button(t("fsync_mark_reviewed"), id=Ids.REVIEW, color="primary", size="sm"),
                            dbc.Button(t("fsync_reload"), id=Ids.RELOAD, color="secondary", outline=True, size="sm"),
                        ],
                        className="d-flex gap-2 mb-2",
                    ),
                    conflicts_grid(),
                ]
            ),
        ],
        className="mb-3",
        id="fsync-conflicts-card",
    )
    return html.Div(
        [
            header,
            None if site else not_configured_alert(),
            html.Div([peers, conflicts], id=Ids.BODY, hidden=site is None),
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Interval(id=Ids.INTERVAL, interval=REFRESH_MS),
        ],
        className="facility-sync",
    )
