"""Jadwal poli: the chosen poli's week as a grid."""

from __future__ import annotations

from datetime import date

from dash import Input, Output, html
from flask_login import current_user

from callbacks.registry import page_callback
from components.schedule_week import week_grid
from data.runtime import current_runtime
from data.schedule_views import plan_week, week_start
from i18n.web import t
from pages.schedule_week import Ids


@page_callback("pages.schedule_week", Output(Ids.GRID, "children"), Input(Ids.POLI, "value"), Input(Ids.WEEK, "date"))
def show_week(poli_id: int | None, day: str | None) -> html.Div:
    if poli_id is None or not day:
        return html.P(t("schedule_pick_poli"), className="text-body-secondary")
    monday = week_start(date.fromisoformat(day[:10]))
    with current_runtime().db.session() as session:
        days = plan_week(session, current_user.site_id, monday, poli_id=int(poli_id))
    return week_grid(days, show="doctor")
