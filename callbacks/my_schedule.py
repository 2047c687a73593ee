"""Jadwal saya: the signed-in doctor's week, at every poli they practise in."""

from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
from dash import Input, Output, html
from flask_login import current_user

from callbacks.registry import page_callback
from components.schedule_week import week_grid
from data.runtime import current_runtime
from data.schedule_views import doctor_of_user, plan_week, week_start
from i18n.web import t
from pages.my_schedule import Ids


@page_callback("pages.my_schedule", Output(Ids.GRID, "children"), Input(Ids.WEEK, "date"))
def show_my_week(day: str | None) -> html.Div | dbc.Alert:
    with current_runtime().db.session() as session:
        doctor = doctor_of_user(session, current_user.id)
        if doctor is None:
            return dbc.Alert(t("my_schedule_no_doctor"), color="info", id="my-schedule-unlinked")
        if not day:
            return html.Div()
        monday = week_start(date.fromisoformat(day[:10]))
        days = plan_week(session, current_user.site_id, monday, doctor_id=doctor.id)
    return week_grid(days, show="poli", grid_id="my-schedule-grid")
