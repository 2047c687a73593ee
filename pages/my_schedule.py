"""Jadwal saya: the signed-in doctor's own week (the doctor whose account this is, ``Doctor.user_id``)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from components.date_picker import date_single
from data.runtime import current_runtime
from data.schedule_views import doctor_of_user, week_start
from data.schedules import local_today
from i18n.web import t

dash.register_page(
    __name__,
    path="/jadwal/saya",
    name_key="nav_my_schedule",
    title="Jadwal Saya · Pantau",
    roles=["doctor"],
    order=31,
    nav=True,
    nav_group="schedule",
)


class Ids:
    """Component ids shared with callbacks/my_schedule.py."""

    WEEK = "my-schedule-day"
    GRID = "my-schedule-body"


def layout(**_query: str) -> html.Div:
    with current_runtime().db.session() as session:
        doctor = doctor_of_user(session, current_user.id)
        today = local_today(session, current_user.site_id)
    return html.Div(
        [
            html.H1(t("my_schedule_title"), className="h3 mb-1"),
            html.P(doctor.name if doctor else "", className="text-body-secondary"),
            dbc.Label(t("schedule_week_of"), html_for=Ids.WEEK, className="d-block"),
            date_single(id=Ids.WEEK, date=week_start(today).isoformat(), className="mb-3"),
            html.Div(id=Ids.GRID),
        ]
    )
