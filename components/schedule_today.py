"""Today's sessions as a table: poli, doctor, hours, state (practising / not yet started / on leave / finished /
closed, with the reason) and each quota's use (JKN and non-JKN: booked, left)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from components.queue_line import session_hours
from data.schedules import SessionInfo
from i18n.web import t

STATE_COLOURS = {
    "practising": "success",
    "not_started": "info",
    "on_leave": "warning",
    "finished": "secondary",
    "closed": "danger",
}
LIGHT_COLOURS = frozenset({"info", "warning"})


def _quota(booked: int, quota: int) -> html.Td:
    return html.Td(t("schedule_quota_use", booked=booked, quota=quota, left=max(quota - booked, 0)))


def _state(info: SessionInfo) -> html.Td:
    colour = STATE_COLOURS[info.state]
    text = "dark" if colour in LIGHT_COLOURS else None  # white on Bootstrap's info/warning is unreadable
    badge = dbc.Badge(t(f"schedule_state_{info.state}"), color=colour, text_color=text)
    reason = info.closed_reason if info.state == "closed" else None
    return html.Td([badge, html.Div(reason, className="small text-body-secondary")] if reason else badge)


def today_table(sessions: list[SessionInfo]) -> html.Div:
    """The table, or a line saying there is no session today."""
    if not sessions:
        return html.P(t("schedule_today_empty"), className="text-body-secondary")
    keys = ("schedule_col_poli", "schedule_col_doctor", "schedule_col_hours", "schedule_col_state")
    head = html.Thead(html.Tr([html.Th(t(k)) for k in (*keys, "schedule_col_jkn", "schedule_col_non_jkn")]))
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(info.poli_name),
                    html.Td(info.doctor_name),
                    html.Td(session_hours(info), className="text-nowrap"),
                    _state(info),
                    _quota(info.booked_jkn, info.quota_jkn),
                    _quota(info.booked_non_jkn, info.quota_non_jkn),
                ],
                **{"data-state": info.state},
            )
            for info in sessions
        ]
    )
    return dbc.Table([head, body], hover=True, responsive=True, id="schedule-today-table")
