"""Bed detail: trends and NEWS2 history per range; the nurse's observation form."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.development.base_component import Component
from flask_login import current_user
from sqlalchemy.orm import Session

from auth.reauth import confirm_needed
from auth.session import current_actor
from callbacks.registry import page_callback
from components import limits_editor, obstetric_card, spo2_scale_card
from components.chart_theme import chart_theme
from components.limits_editor import custom_note_class, limit_text
from components.live_note import with_live_note
from components.local_time import local_when
from components.shell import THEME_STORE, confirm_first_alert
from components.trend_figures import news2_figure, trend_figure
from data import live_keys
from data.admissions import admission_stays, current_admission
from data.alarm_limits import bed_profile, overrides, publish_limits_changed, set_overrides
from data.live_notify import notify
from data.models import Observation
from data.observations import record_observation
from data.obstetric import publish_obstetric_changed, set_obstetric
from data.runtime import current_runtime
from data.spo2_scale import ScaleHistory, last_order, prescribe, publish_scale_changed, scale_history
from data.trends import RANGES, alarm_history, missing_spans, news2_series, observations, vital_trend
from data.wards import BedView, bed_by_code, occupants
from domain.alarm_limit_ranges import SIDES, LimitField, LimitsRefused, ReasonRequired
from domain.alarms import PARAMETERS, PROFILES, Bounds
from domain.clock import utcnow
from domain.decimal_input import format_decimal, parse_decimal
from domain.errors import InputError
from domain.news2 import OBSTETRIC_ROLES
from domain.observations import validate_observation
from domain.spo2_scale import may_prescribe
from i18n.web import t
from pages.bed import MANUAL_FIELDS, Ids

PAGE = "pages.bed"
OBS_FIELDS = ("on_oxygen", "consciousness", *(name for name, _, _ in MANUAL_FIELDS))


def _bed(session: Session, code: str) -> BedView | None:
    return bed_by_code(session, current_user.site_id, code or "")


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
                    html.Td(local_when(e.started_at)),
                    html.Td(local_when(e.ended_at)),
                    html.Td(f"{local_when(e.acknowledged_at)} · {who}" if e.acknowledged_at else "—"),
                ]
            )
            for e, who in rows
        ]
    )
    return dbc.Table([head, body], size="sm", hover=True, responsive=True, className="mb-0", id="bed-alarm-table")


@page_callback(
    PAGE,
    Output(Ids.TREND, "figure"),
    Output(Ids.NEWS2, "figure"),
    Output(Ids.ALARM_HISTORY, "children"),
    Input(Ids.RANGE, "value"),
    Input(Ids.VERSION, "data"),
    Input(THEME_STORE, "data"),
    State(Ids.CODE, "data"),
)
def refresh_bed(range_key: str, _version: int, theme_name: str | None, code: str) -> tuple:
    """The trends, NEWS2 history and alarm history; again after an observation and in the colours of a new theme."""
    timezone, theme = current_runtime().settings.timezone, chart_theme(theme_name)
    range_key = range_key if range_key in RANGES else "1h"
    with current_runtime().db.session() as session:
        bed = _bed(session, code)
        if bed is None:
            return no_update, no_update, html.P(t("bed_unknown"))
        # Only the admission lying in the bed now: a new occupant never sees the previous patient's history.
        admission = current_admission(session, bed.id)
        stays = admission_stays(session, admission.id) if admission else []
        frame = vital_trend(session, stays, range_key)
        since = utcnow() - RANGES[range_key]
        taken = observations(session, admission.id, since - RANGES["24h"]) if admission else []
        occupant = occupants(session, [bed.id]).get(bed.id)
        scored_from = occupant.scored_from if occupant else None
        scales = scale_history(session, admission.id, bed.spo2_scale) if admission else ScaleHistory(bed.spo2_scale)
        scores = news2_series(frame, taken, scales, scored_from=scored_from)
        history = _history_table(alarm_history(session, stays)) if admission else _no_admission()
        missing = missing_spans(session, stays, since)
    unscored = scored_from is not None and utcnow() < scored_from
    trends = trend_figure(frame, timezone, missing, theme)
    news2 = news2_figure(scores, timezone, theme, unscored=unscored)
    return trends, news2, history


def _no_admission() -> html.P:
    return html.P(t("bed_no_admission_history"), className="text-body-secondary m-3", id="bed-no-admission")


@page_callback(
    PAGE,
    Output(Ids.OBS_FEEDBACK, "children"),
    Output(Ids.VERSION, "data"),
    *[Output(Ids.obs_field_error(f), "children") for f in OBS_FIELDS],
    *[Output(Ids.obs_field(name), "invalid") for name, _, _ in MANUAL_FIELDS],
    *[Output(Ids.obs_field(f), "value") for f in OBS_FIELDS],
    Input(Ids.OBS_SUBMIT, "n_clicks"),
    *[State(Ids.obs_field(f), "value") for f in OBS_FIELDS],
    State(Ids.ADMISSION, "data"),
    State(Ids.CODE, "data"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def save_observation(_clicks: int, *values: object) -> tuple:
    *fields, admission_id, code, version = values
    raw = dict(zip(OBS_FIELDS, fields, strict=True))
    obs, errors = validate_observation(raw)
    messages = [t(errors[f][0], **errors[f][1]) if f in errors else "" for f in OBS_FIELDS]
    invalid = [name in errors for name, _, _ in MANUAL_FIELDS]
    keep = [no_update] * len(OBS_FIELDS)
    if obs is None:
        return dbc.Alert(t("obs_fix_errors"), color="danger", className="mb-0"), no_update, *messages, *invalid, *keep
    if admission_id is None:  # the page was drawn for an empty bed (its form disabled): nothing for a newcomer
        return _alert("obs_err_no_patient", "danger"), no_update, *messages, *invalid, *keep
    try:
        with current_runtime().db.session() as session:
            bed = _bed(session, code)
            if bed is None:
                return dbc.Alert(t("bed_unknown"), color="danger"), no_update, *messages, *invalid, *keep
            row = record_observation(session, current_actor(), bed, obs, admission_id=admission_id)
    except InputError as exc:
        return _alert(exc.key, "danger", **exc.params), no_update, *messages, *invalid, *keep
    # The alarm/NEWS2 pipeline reloads this bed's observation and rescores at once.
    told = notify(current_runtime().live, [(live_keys.CONTROL_CHANNEL, live_keys.control_message("obs", bed.code))])
    # Every field is cleared, the two choices too: the next set is taken afresh, never copied forward.
    cleared = [None, None, *[""] * len(MANUAL_FIELDS)]
    return (
        _observation_saved(row, told),
        version + 1,
        *[""] * len(OBS_FIELDS),
        *[False] * len(MANUAL_FIELDS),
        *cleared,
    )


def _observation_saved(row: Observation, told: bool) -> Component:
    """The confirmation lists the set as stored, so the nurse sees that what was saved is what was taken; it says
    NEWS2 is recalculated only when the clinical step was ``told`` (else the note says when it follows)."""
    items = [
        html.Li(t("obs_oxygen_yes" if row.on_oxygen else "obs_air"), **{"data-field": "on_oxygen"}),
        html.Li(t(f"acvpu_{row.consciousness}"), **{"data-field": "consciousness"}),
    ]
    for name, label, unit in MANUAL_FIELDS:
        value = getattr(row, name)
        if value is not None:
            text = format_decimal(value)
            items.append(html.Li(f"{t(label)} {text} {unit}", **{"data-field": name, "data-value": text}))
    saved = t("obs_saved" if told else "obs_saved_not_told", time=local_when(row.taken_at))
    values = html.Ul(items, className="obs-saved-values mb-0 mt-1")
    return with_live_note(dbc.Alert([saved, values], color="success", className="mb-0"), told)


@page_callback(
    PAGE,
    Output(spo2_scale_card.FEEDBACK_ID, "children"),
    Output(spo2_scale_card.SHOWN_ID, "children"),
    Output(spo2_scale_card.REASON_ID, "invalid"),
    Output(spo2_scale_card.REASON_ERROR_ID, "children"),
    Output(spo2_scale_card.REASON_ID, "value"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input(spo2_scale_card.SUBMIT_ID, "n_clicks"),
    State(spo2_scale_card.CHOICE_ID, "value"),
    State(spo2_scale_card.REASON_ID, "value"),
    State(Ids.ADMISSION, "data"),
    State(Ids.CODE, "data"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def save_spo2_scale(
    _clicks: int, scale: object, reason: str | None, admission_id: int | None, code: str, version: int
) -> tuple:
    """A doctor puts the patient on SpO2 Scale 2 (with its indication) or back on Scale 1; the clinical step
    rescores her at once and the ward station marks her tile. What was typed stays when it is refused."""
    if not may_prescribe(current_user.roles):
        return _alert("spo2_scale_doctors_choose", "danger"), no_update, False, "", no_update, no_update
    if confirm_needed():
        return confirm_first_alert(), no_update, False, "", no_update, no_update
    try:
        with current_runtime().db.session() as session:
            bed = _bed(session, code)
            if bed is None:
                return _alert("bed_unknown", "danger"), no_update, False, "", no_update, no_update
            now = prescribe(session, current_actor(), bed_id=bed.id, admission_id=admission_id, scale=scale,
                            reason=reason)  # fmt: skip
            shown = spo2_scale_card.scale_shown(now.scale, last_order(session, admission_id))
    except InputError as exc:
        if exc.key.startswith("spo2_scale_err_reason"):
            return "", no_update, True, t(exc.key, **exc.params), no_update, no_update
        return _alert(exc.key, "danger", **exc.params), no_update, False, "", no_update, no_update
    if now.amended:
        return _alert("spo2_scale_amended", "success", scale=now.scale), shown, False, "", "", version + 1
    if not now.changed:
        return _alert("spo2_scale_unchanged", "secondary", scale=now.scale), shown, False, "", "", no_update
    told = publish_scale_changed(current_runtime().live, bed.ward, bed.code, now.scale)
    confirmation = with_live_note(_alert(f"spo2_scale_saved_{now.scale}", "success"), told)
    return confirmation, shown, False, "", "", version + 1


@page_callback(
    PAGE,
    Output(obstetric_card.FEEDBACK_ID, "children"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input(obstetric_card.SUBMIT_ID, "n_clicks"),
    State(obstetric_card.CHECK_ID, "value"),
    State(Ids.ADMISSION, "data"),
    State(Ids.CODE, "data"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def save_obstetric(_clicks: int, checked: list | None, admission_id: int | None, code: str, version: int) -> tuple:
    """A nurse, midwife or doctor records that the patient is pregnant or just delivered, or no longer: the
    clinical step stops or resumes scoring her NEWS2 at once, and the page's NEWS2 history follows."""
    if not current_user.roles & OBSTETRIC_ROLES:
        return _alert("obstetric_who", "danger"), no_update
    obstetric = obstetric_card.YES in (checked or [])
    try:
        with current_runtime().db.session() as session:
            bed = _bed(session, code)
            if bed is None:
                return _alert("bed_unknown", "danger"), no_update
            changed = set_obstetric(
                session, current_actor(), bed_id=bed.id, admission_id=admission_id, obstetric=obstetric
            )
    except InputError as exc:
        return _alert(exc.key, "danger", **exc.params), no_update
    if not changed:
        return _alert("obstetric_unchanged", "secondary"), no_update
    told = publish_obstetric_changed(current_runtime().live, bed.code)
    key = "obstetric_saved_on" if obstetric else "obstetric_saved_off"
    return with_live_note(_alert(key, "success"), told), version + 1


@dataclass
class LimitsForm:
    """Everything the limits callback can change on the page; ``no_update`` where it leaves something alone."""

    feedback: object = no_update
    dialog_open: object = no_update
    widened: object = no_update
    reason_invalid: object = no_update
    reason_error: object = no_update
    reason: object = no_update
    note_class: object = no_update
    field_errors: dict[LimitField, str] | None = None  # None: leave the fields' marks as they are
    values: dict[str, Bounds] | None = None  # None: keep what the nurse typed; else show these (what is stored)

    def outputs(self) -> tuple:
        def per_field(pick: Callable[[str, int], object], given: object) -> list[list]:
            return [[no_update if given is None else pick(p, i) for p in PARAMETERS] for i, _ in enumerate(SIDES)]

        errors = self.field_errors or {}
        marks = per_field(lambda p, i: (p, SIDES[i]) in errors, self.field_errors)
        texts = per_field(lambda p, i: errors.get((p, SIDES[i]), ""), self.field_errors)
        values = per_field(lambda p, i: limit_text((self.values or {}).get(p, (None, None))[i]), self.values)
        return (
            self.feedback,
            self.dialog_open,
            self.widened,
            self.reason_invalid,
            self.reason_error,
            self.reason,
            self.note_class,
            *marks,
            *texts,
            *values,
        )


def _alert(key: str, colour: str, **params: object) -> dbc.Alert:
    return dbc.Alert(t(key, **params), color=colour, className="mb-0")


def _widened_items(profile: str, widened: tuple[LimitField, ...], wanted: dict[str, Bounds]) -> list[html.Li]:
    items = []
    for param, side in widened:
        index = SIDES.index(side)
        items.append(
            html.Li(
                t(
                    "limits_widened_item",
                    param=t(f"param_{param}"),
                    side=t(f"limits_side_{side}"),
                    value=format_decimal(wanted[param][index]),
                    profile=format_decimal(PROFILES[profile][param][index]),
                )
            )
        )
    return items


@page_callback(
    PAGE,
    Output(limits_editor.FEEDBACK_ID, "children"),
    Output(limits_editor.CONFIRM_ID, "is_open"),
    Output(limits_editor.WIDENED_ID, "children"),
    Output(limits_editor.REASON_ID, "invalid"),
    Output(limits_editor.REASON_ERROR_ID, "children"),
    Output(limits_editor.REASON_ID, "value"),
    Output(limits_editor.CUSTOM_NOTE_ID, "className"),
    *[Output({"type": limits_editor.LIMIT_ID, "param": ALL, "side": side}, "invalid") for side in SIDES],
    *[Output({"type": limits_editor.LIMIT_ERROR_ID, "param": ALL, "side": side}, "children") for side in SIDES],
    *[Output({"type": limits_editor.LIMIT_ID, "param": ALL, "side": side}, "value") for side in SIDES],
    Input(limits_editor.SAVE_ID, "n_clicks"),
    Input(limits_editor.CONFIRM_SAVE_ID, "n_clicks"),
    Input(limits_editor.RESET_ID, "n_clicks"),
    Input(limits_editor.CANCEL_ID, "n_clicks"),
    State({"type": limits_editor.LIMIT_ID, "param": ALL, "side": "low"}, "value"),
    State({"type": limits_editor.LIMIT_ID, "param": ALL, "side": "high"}, "value"),
    State(limits_editor.REASON_ID, "value"),
    State(Ids.CODE, "data"),
    State(Ids.ADMISSION, "data"),
    prevent_initial_call=True,
)
def save_limits(
    _save: int,
    _confirm: int,
    _reset: int,
    _cancel: int,
    lows: list,
    highs: list,
    reason: str,
    code: str,
    admission_id: int | None,
) -> tuple:
    """Save (asks for a reason first when a limit is widened), confirm with the reason, or reset to the profile."""
    trigger = ctx.triggered_id
    if trigger == limits_editor.CANCEL_ID:
        return LimitsForm(dialog_open=False).outputs()
    if confirm_needed():  # the typed limits and reason stay; saving again after the check goes on
        return LimitsForm(feedback=confirm_first_alert(), dialog_open=False).outputs()
    reset = trigger == limits_editor.RESET_ID
    wanted = {} if reset else {p: (_number(lo), _number(hi)) for p, lo, hi in zip(PARAMETERS, lows, highs, strict=True)}
    try:
        with current_runtime().db.session() as session:
            bed = _bed(session, code)
            if bed is None:
                return LimitsForm(feedback=_alert("bed_unknown", "danger")).outputs()
            profile = bed_profile(session, bed.id)
            asked_reason = reason if trigger == limits_editor.CONFIRM_SAVE_ID else None
            changed = set_overrides(
                session, current_actor(), bed.id, wanted, admission_id=admission_id, reason=asked_reason
            )
            stored = overrides(session, bed.id)
    except LimitsRefused as exc:
        messages = {field: t(key, **params) for field, (key, params) in exc.fields.items()}
        return LimitsForm(feedback=_alert(exc.key, "danger"), dialog_open=False, field_errors=messages).outputs()
    except ReasonRequired as exc:
        asked = trigger == limits_editor.CONFIRM_SAVE_ID
        return LimitsForm(
            feedback="",
            dialog_open=True,
            widened=_widened_items(profile, exc.widened, wanted),
            reason_invalid=asked,
            reason_error=t(exc.key, **exc.params) if asked else "",
            field_errors={},
        ).outputs()
    except InputError as exc:
        return LimitsForm(feedback=_alert(exc.key, "danger", **exc.params), dialog_open=False).outputs()
    custom = bool(stored)
    told = publish_limits_changed(current_runtime().live, bed.ward, bed.code, custom=custom) if changed else True
    key = "limits_reset_done" if reset and changed else "limits_saved" if changed else "limits_unchanged"
    return LimitsForm(
        feedback=with_live_note(_alert(key, "success"), told),
        dialog_open=False,
        reason_invalid=False,
        reason_error="",
        reason="",
        note_class=custom_note_class(custom),
        field_errors={},
        values=stored,  # the fields show what is now stored: "８８" or "88,0" typed reads back as 88
    ).outputs()


def _number(value: object) -> float | None:
    if value is None or not str(value).strip():
        return None
    try:
        return parse_decimal(str(value))
    except ValueError:
        return math.nan  # refused by the range check with "enter a number"
