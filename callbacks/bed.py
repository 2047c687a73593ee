"""Bed detail: trends and NEWS2 history per range; the nurse's observation form."""

from __future__ import annotations

import json
from datetime import datetime

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, html, no_update
from flask import request
from flask_login import current_user
from sqlalchemy.orm import Session

from auth.session import audit_signed_in
from callbacks.registry import page_callback
from components.trend_figures import news2_figure, trend_figure
from data.alarm_limits import publish_limits_changed, set_overrides
from data.models import Observation, utcnow
from data.runtime import current_runtime
from data.trends import RANGES, alarm_history, news2_series, observations, vital_trend
from data.wards import BedView, bed_by_code
from domain.alarms import PARAMETERS
from domain.errors import InputError
from domain.formats import local_datetime
from domain.observations import validate_observation
from i18n.web import current_language, t
from pages.bed import MANUAL_FIELDS

PAGE = "pages.bed"
OBS_FIELDS = ("on_oxygen", "consciousness", *(name for name, _, _ in MANUAL_FIELDS))
CONTROL_CHANNEL = "pantau:control"


def _bed(session: Session, code: str) -> BedView | None:
    return bed_by_code(session, current_user.site_id, code or "")


def _when(moment: datetime | None) -> str:
    return local_datetime(moment, current_runtime().settings.timezone, current_language()) if moment else "—"


def _history_table(rows: list) -> dbc.Table | html.P:
    if not rows:
        return html.P(t("bed_no_alarms_yet"), className="text-body-secondary m-3")
    head = html.Thead(
        html.Tr([html.Th(t(k)) for k in ("hist_alarm", "hist_priority", "hist_start", "hist_end", "hist_ack")])
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(t(f"alarm_{e.condition}")),
                    html.Td(t(f"priority_{e.priority}")),
                    html.Td(_when(e.started_at)),
                    html.Td(_when(e.ended_at)),
                    html.Td(f"{_when(e.acknowledged_at)} · {who}" if e.acknowledged_at else "—"),
                ]
            )
            for e, who in rows
        ]
    )
    return dbc.Table([head, body], size="sm", hover=True, responsive=True, className="mb-0", id="bed-alarm-table")


@page_callback(
    PAGE,
    Output("bed-trend", "figure"),
    Output("bed-news2", "figure"),
    Output("bed-alarm-history", "children"),
    Input("bed-range", "value"),
    Input("bed-version", "data"),
    State("bed-code", "data"),
)
def refresh_bed(range_key: str, _version: int, code: str) -> tuple:
    timezone = current_runtime().settings.timezone
    range_key = range_key if range_key in RANGES else "1h"
    with current_runtime().db.session() as session:
        bed = _bed(session, code)
        if bed is None:
            return no_update, no_update, html.P(t("bed_unknown"))
        frame = vital_trend(session, bed.id, range_key)
        since = utcnow() - RANGES[range_key]
        scores = news2_series(frame, observations(session, bed.id, since - RANGES["24h"]), bed.spo2_scale)
        history = alarm_history(session, bed.id)
    return trend_figure(frame, timezone), news2_figure(scores, timezone), _history_table(history)


@page_callback(
    PAGE,
    Output("obs-feedback", "children"),
    Output("bed-version", "data"),
    *[Output(f"obs-{f}-error", "children") for f in OBS_FIELDS],
    *[Output(f"obs-{name}", "invalid") for name, _, _ in MANUAL_FIELDS],
    *[Output(f"obs-{name}", "value") for name, _, _ in MANUAL_FIELDS],
    Input("obs-submit", "n_clicks"),
    *[State(f"obs-{f}", "value") for f in OBS_FIELDS],
    State("bed-code", "data"),
    State("bed-version", "data"),
    prevent_initial_call=True,
)
def save_observation(_clicks: int, *values: object) -> tuple:
    *fields, code, version = values
    raw = dict(zip(OBS_FIELDS, fields, strict=True))
    obs, errors = validate_observation(raw)
    messages = [t(errors[f][0], **errors[f][1]) if f in errors else "" for f in OBS_FIELDS]
    invalid = [name in errors for name, _, _ in MANUAL_FIELDS]
    keep = [no_update] * len(MANUAL_FIELDS)
    if obs is None:
        return dbc.Alert(t("obs_fix_errors"), color="danger", className="mb-0"), no_update, *messages, *invalid, *keep
    with current_runtime().db.session() as session:
        bed = _bed(session, code)
        if bed is None:
            return dbc.Alert(t("bed_unknown"), color="danger"), no_update, *messages, *invalid, *keep
        row = Observation(
            bed_id=bed.id,
            patient_id=bed.patient_id,
            recorded_by=current_user.id,
            on_oxygen=obs.on_oxygen,
            consciousness=obs.consciousness,
            rr=obs.rr,
            spo2=obs.spo2,
            sbp=obs.sbp,
            dbp=obs.dbp,
            hr=obs.hr,
            temp=obs.temp,
        )
        session.add(row)
        session.flush()
        audit_signed_in(
            session,
            "observation_recorded",
            target_type="patient",
            target_id=bed.patient_id,
            detail={"bed": bed.code, "observation": row.id},
        )
    # The alarm/NEWS2 pipeline reloads this bed's observation and rescores at once.
    current_runtime().live.publish(CONTROL_CHANNEL, json.dumps({"t": "obs", "bed": bed.code}))
    saved = dbc.Alert(t("obs_saved", time=_when(row.taken_at)), color="success", className="mb-0")
    return saved, version + 1, *[""] * len(OBS_FIELDS), *[False] * len(MANUAL_FIELDS), *[""] * len(MANUAL_FIELDS)


@page_callback(
    PAGE,
    Output("limits-feedback", "children"),
    Input("limits-save", "n_clicks"),
    State({"type": "limit", "param": ALL, "side": "low"}, "value"),
    State({"type": "limit", "param": ALL, "side": "high"}, "value"),
    State("bed-code", "data"),
    prevent_initial_call=True,
)
def save_limits(_clicks: int, lows: list, highs: list, code: str) -> dbc.Alert:
    wanted = {p: (_number(lo), _number(hi)) for p, lo, hi in zip(PARAMETERS, lows, highs, strict=True)}
    try:
        with current_runtime().db.session() as session:
            bed = _bed(session, code)
            if bed is None:
                return dbc.Alert(t("bed_unknown"), color="danger")
            changed = set_overrides(
                session,
                bed.id,
                wanted,
                user_id=current_user.id,
                username=current_user.username,
                site_id=current_user.site_id,
                ip=request.remote_addr,
            )
    except InputError as exc:
        return dbc.Alert(t(exc.key, **exc.params), color="danger", className="mb-0")
    if changed:
        custom = any(lo is not None or hi is not None for lo, hi in wanted.values())
        publish_limits_changed(current_runtime().live, bed.ward, bed.code, custom=custom)
    return dbc.Alert(t("limits_saved" if changed else "limits_unchanged"), color="success", className="mb-0")


def _number(value: object) -> float | None:
    return None if value in (None, "") else float(value)
