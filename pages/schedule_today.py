"""Jadwal hari ini: today's sessions with their state and how much of each quota is used."""

from __future__ import annotations

import dash
from dash import dcc, html

from i18n.web import t

dash.register_page(
    __name__,
    path="/jadwal/hari-ini",
    name_key="nav_schedule_today",
    title="Jadwal Hari Ini · Pantau",
    roles=["front_desk", "doctor", "nurse", "admin", "manager"],
    order=29,
    nav=True,
    nav_group="schedule",
)

REFRESH_MS = 60_000  # states follow the clock and the doctors' first calls; a minute is fresh enough


class Ids:
    """Component ids shared with callbacks/schedule_today.py."""

    TICK = "schedule-today-tick"
    TABLE = "schedule-today-body"
    DAY = "schedule-today-day"


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1(t("schedule_today_title"), className="h3 mb-1"),
            html.P(id=Ids.DAY, className="text-body-secondary"),
            dcc.Interval(id=Ids.TICK, interval=REFRESH_MS),
            html.Div(id=Ids.TABLE),
        ]
    )
