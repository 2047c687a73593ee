"""Admin facility profile: load and save ``/admin/fasilitas`` through ``data.facility``."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from components.setup_form import field_messages
from data import facility
from data.runtime import current_runtime
from domain.errors import FieldErrors, InputError
from i18n.web import t
from pages.admin_facility import Ids

PAGE = "pages.admin_facility"
FIELDS = facility.FACILITY_FIELDS
ids = Ids.FORM


def _values(profile: facility.FacilityProfile) -> list[str]:
    return [getattr(profile, f) or "" for f in FIELDS]


@page_callback(
    PAGE,
    *[Output(ids.field(f), "value") for f in FIELDS],
    *[Output(ids.field(f), "invalid") for f in FIELDS],
    *[Output(ids.error(f), "children") for f in FIELDS],
    Output(ids.version, "data"),
    Input(Ids.RELOAD, "n_clicks"),
)
def load(_clicks: int | None) -> tuple:
    """The profile as saved (on opening, and when the admin reloads it after a conflict)."""
    with current_runtime().db.session() as db:
        profile = facility.facility_profile(db, current_user.site_id)
    return *_values(profile), *[False] * len(FIELDS), *[""] * len(FIELDS), profile.version


@page_callback(
    PAGE,
    Output(ids.feedback, "children"),
    *[Output(ids.field(f), "invalid", allow_duplicate=True) for f in FIELDS],
    *[Output(ids.error(f), "children", allow_duplicate=True) for f in FIELDS],
    Output(ids.version, "data", allow_duplicate=True),
    Input(ids.save, "n_clicks"),
    State(ids.version, "data"),
    *[State(ids.field(f), "value") for f in FIELDS],
    running=[(Output(ids.save, "disabled"), True, False)],
    prevent_initial_call=True,
)
def save(_clicks: int, version: int | None, *typed: str | None) -> tuple:
    """Save the profile at the version the form showed; wrong fields are marked, nothing typed is lost."""
    try:
        with current_runtime().db.session() as db:
            saved = facility.update_facility(db, current_actor(), dict(zip(FIELDS, typed, strict=True)), version)
    except InputError as exc:
        marks, messages = field_messages(FIELDS, exc)
        alert = None if isinstance(exc, FieldErrors) else input_error_alert(exc)
        if alert is not None:
            alert.id = "setup-facility-error"
        return alert, *marks, *messages, no_update
    done = dbc.Alert(t("setup_saved"), color="success", className="mb-0", id="setup-facility-saved")
    return done, *[False] * len(FIELDS), *[""] * len(FIELDS), saved.version
