"""Jadwal poli: a poli's week of the practice plan (doctors, hours, quotas), with holidays and leave marked."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from components.date_picker import date_single
from components.dropdown import dropdown
from data.runtime import current_runtime
from data.schedule_views import polis, week_start
from data.schedules import local_today
from i18n.web import t

dash.register_page(
    __name__,
    path="/jadwal",
    name_key="nav_schedule_week",
    title="Jadwal Poli · Pantau",
    roles=["front_desk", "doctor", "nurse", "admin", "manager"],
    order=30,
    nav=True,
    nav_group="schedule",
)


class Ids:
    """Component ids shared with callbacks/schedule_week.py."""

    POLI = "schedule-week-poli"
    WEEK = "schedule-week-day"
    GRID = "schedule-week-body"


def layout(**_query: str) -> html.Div:
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        options = [{"label": p.name, "value": p.id} for p in polis(session, site_id)]
        today = local_today(session, site_id)
    return html.Div(
        [
            html.H1(t("schedule_week_title"), className="h3 mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label(t("schedule_poli"), html_for=Ids.POLI),
                            dropdown(
                                id=Ids.POLI,
                                options=options,
                                value=options[0]["value"] if options else None,
                                clearable=False,
                            ),
                        ],
                        md=5,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(t("schedule_week_of"), html_for=Ids.WEEK, className="d-block"),
                            date_single(id=Ids.WEEK, date=week_start(today).isoformat()),
                        ],
                        md=4,
                    ),
                ],
                className="mb-3 g-2",
            ),
            html.Div(id=Ids.GRID),
        ]
    )
