"""Jadwal hari ini: today's sessions as they stand now, refreshed each minute."""

from __future__ import annotations

from dash import Input, Output, html
from flask_login import current_user

from callbacks.registry import page_callback
from components.schedule_today import today_table
from data.runtime import current_runtime
from data.schedules import local_today, today_sessions
from domain.clock import utcnow
from domain.formats import long_date
from i18n.web import current_language
from pages.schedule_today import Ids


@page_callback(
    "pages.schedule_today", Output(Ids.TABLE, "children"), Output(Ids.DAY, "children"), Input(Ids.TICK, "n_intervals")
)
def show_today(_tick: int | None) -> tuple[html.Div, str]:
    now = utcnow()
    with current_runtime().db.session() as session:
        sessions = today_sessions(session, current_user.site_id, now)
        today = local_today(session, current_user.site_id, now)
    return today_table(sessions), long_date(today, current_language())
