"""A week of the practice plan as a grid: one column per day (date, holiday), its sessions as cards in time order
with doctor or poli, hours and quotas; a session that will not run is struck through with the reason."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from data.schedule_views import WeekDay, WeekSession
from domain.formats import clock_range, long_date, weekday_name
from i18n.web import current_language, t


def _session_card(item: WeekSession, show: str) -> html.Div:
    plan = item.plan
    closed = item.closed
    reason = t("schedule_on_leave") if closed == "leave" else closed
    return html.Div(
        [
            html.Div(clock_range(plan.start, plan.end, current_language()), className="schedule-hours fw-semibold"),
            html.Div(plan.doctor_name if show == "doctor" else plan.poli_name, className="schedule-who"),
            html.Div(
                t("schedule_quotas", jkn=plan.quota_jkn, non_jkn=plan.quota_non_jkn),
                className="small text-body-secondary",
            ),
            dbc.Badge(reason, color="secondary", className="mt-1 text-wrap") if closed else None,
        ],
        className="schedule-session" + (" schedule-session-closed" if closed else ""),
        **{"data-plan": str(plan.id)},
    )


def week_grid(days: list[WeekDay], show: str = "doctor", grid_id: str = "schedule-week-grid") -> html.Div:
    """The grid of ``days``; each card names the doctor (``show="doctor"``, a poli's week) or the poli."""
    lang = current_language()
    columns = []
    for day in days:
        holiday = day.holiday
        head = [
            html.Div(weekday_name(day.day.weekday(), lang), className="fw-semibold"),
            html.Div(long_date(day.day, lang), className="small"),
        ]
        if holiday is not None:
            label = holiday.name if holiday.closes else t("schedule_holiday_open", name=holiday.name)
            head.append(dbc.Badge(label, color="danger" if holiday.closes else "success", className="text-wrap"))
        sessions = [_session_card(item, show) for item in day.sessions] or [
            html.Div(t("schedule_no_session"), className="small text-body-secondary")
        ]
        columns.append(
            html.Div(
                [html.Div(head, className="schedule-day-head"), html.Div(sessions, className="schedule-day-body")],
                className="schedule-day" + (" schedule-day-holiday" if holiday and holiday.closes else ""),
                **{"data-day": day.day.isoformat()},
            )
        )
    return html.Div(columns, className="schedule-week", id=grid_id)
