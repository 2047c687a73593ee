"""Bed board: draws the wards' beds (and records any missing midnight census); nurses and admins set bed states."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from dash import Input, Output, State, html, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.bed_changes import tell_live_side
from callbacks.registry import page_callback
from components.bed_board import counts_table, ward_card
from components.input_error import input_error_alert
from components.live_note import with_live_note
from data import admissions, census, inpatient_views
from data.runtime import current_runtime
from data.schedules import local_today
from domain.clock import utcnow
from domain.errors import InputError
from domain.length_of_stay import BED_STATUS_ROLES
from i18n.web import t
from pages.bed_board import Ids

PAGE = "pages.bed_board"


@page_callback(
    PAGE,
    Output(Ids.WARD, "options"),
    Output(Ids.SUMMARY, "children"),
    Output(Ids.BOARD, "children"),
    Output(Ids.STATUS_BED, "options"),
    Output(Ids.VERSIONS, "data"),
    Output(Ids.STATUS_CARD, "style"),
    Input(Ids.WARD, "value"),
    Input(Ids.VERSION, "data"),
    Input(Ids.REFRESH, "n_intervals"),
)
def render(ward_id: int | None, _version: int, _tick: int | None) -> tuple:
    runtime, site, now = current_runtime(), current_user.site_id, utcnow()
    with runtime.db.session() as db:
        census.ensure_census(db, site, local_today(db, site, now) - timedelta(days=1))
        boards = inpatient_views.bed_board(db, site, None, now)
    shown = [b for b in boards if ward_id in (None, "") or b.id == ward_id]
    news2 = inpatient_views.news2_by_bed(runtime.live, [bed.code for b in shown for bed in b.beds])
    total = sum((b.counts for b in shown), Counter())
    beds = [bed for b in shown for bed in b.beds if bed.status != "occupied"]
    settable = [{"label": f"{bed.code} — {t(f'bedboard_state_{bed.status}')}", "value": bed.id} for bed in beds]
    allowed = bool(current_user.roles & BED_STATUS_ROLES)
    return (
        [{"label": f"{b.name} ({b.code})", "value": b.id} for b in boards],
        counts_table(total, "bedboard-counts-all"),
        [ward_card(b, news2) for b in shown] or html.P(t("bedboard_empty"), className="text-body-secondary"),
        settable,
        {str(bed.id): bed.version for bed in beds},
        None if allowed else {"display": "none"},
    )


@page_callback(
    PAGE,
    Output(Ids.STATUS_FEEDBACK, "children"),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input(Ids.STATUS_SAVE, "n_clicks"),
    State(Ids.STATUS_BED, "value"),
    State(Ids.STATUS, "value"),
    State(Ids.REASON, "value"),
    State(Ids.VERSIONS, "data"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def set_status(_clicks: int, bed_id: int | None, status: str | None, reason: str | None, versions: dict, version: int):
    try:
        if not current_user.roles & BED_STATUS_ROLES:
            raise InputError("adt_err_bed_status_role")
        with current_runtime().db.session() as db:
            bed = admissions.set_bed_status(
                db,
                current_actor(),
                bed_id=bed_id or 0,
                status=status or "",
                version=(versions or {}).get(str(bed_id)),
                reason=reason,
            )
    except InputError as exc:
        return input_error_alert(exc), no_update
    told = tell_live_side([bed])
    saved = html.Div(
        t("bedboard_status_saved", bed=bed.code, status=t(f"bedboard_state_{status}")), className="text-success"
    )
    return with_live_note(saved, told), version + 1
