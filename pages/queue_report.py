"""Queue dashboard for managers: patients, waits, no-shows, the ≤ 60 min share and doctors' late starts over
a range of days: today by default, or ``?dari=2026-01-05&sampai=2026-01-11`` (a link that can be shared).
The figures are filled by callbacks/queue_report.py."""

from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.date_picker import date_range
from data.runtime import current_runtime
from data.schedules import local_today
from i18n.web import t

dash.register_page(
    __name__,
    path="/laporan/antrean",
    name_key="qrep_nav",
    title="Laporan Antrean · Pantau",
    roles=["manager", "admin"],
    order=60,
    nav=True,
    nav_group="reports",
)


class Ids:
    """Component ids shared with callbacks/queue_report.py."""

    RANGE = "qrep-range"
    CONTENT = "qrep-content"


def _day(value: str | None, default: date) -> date:
    try:
        return min(date.fromisoformat(value), default) if value else default
    except ValueError:
        return default


def layout(dari: str | None = None, sampai: str | None = None, **_query: str) -> html.Div:
    with current_runtime().db.session() as session:
        today = local_today(session, current_user.site_id)
    end = _day(sampai, today)
    start = _day(dari, end)
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(html.H1(t("qrep_title"), className="h4 mb-0"), width="auto"),
                    dbc.Col(
                        [
                            dbc.Label(t("qrep_range"), html_for=Ids.RANGE, className="me-2 mb-0"),
                            date_range(
                                id=Ids.RANGE,
                                start_date=start,
                                end_date=end,
                                max_date_allowed=today,
                                minimum_nights=0,
                            ),
                        ],
                        width="auto",
                        className="d-flex align-items-center",
                    ),
                ],
                className="align-items-center justify-content-between g-2 mb-3",
            ),
            dcc.Loading(html.Div(id=Ids.CONTENT), delay_show=300),
        ],
        className="queue-report",
    )
