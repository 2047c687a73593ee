"""Admin wards and beds: the two setup forms of ``/admin/bangsal`` and its "add a bed" button, all through
``data.setup_wards``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import Input, Output, State, no_update
from dash.development.base_component import Component
from sqlalchemy.orm import Session

from auth.session import current_actor
from callbacks.registry import page_callback
from callbacks.setup_crud import SetupCrud, register_setup_crud
from components.input_error import input_error_alert
from components.setup_form import rows_table
from data import setup_wards
from data.runtime import current_runtime
from domain.errors import InputError
from i18n.web import t
from pages.admin_wards import Ids

PAGE = "pages.admin_wards"


def _state(active: bool) -> str:
    return t("setup_active") if active else t("setup_retired_state")


def _ward_table(rows: Sequence[setup_wards.WardRow]) -> Component:
    return rows_table(
        "setup-ward-grid",
        [
            t("setup_code"),
            t("setup_name"),
            t("setup_ward_kind"),
            t("setup_care_class"),
            t("setup_bed_count"),
            t("setup_state"),
        ],
        [(w.code, w.name, t(f"setup_kind_{w.kind}"), w.care_class, w.bed_count, _state(w.active)) for w in rows],
        [not w.active for w in rows],
    )


@dataclass(frozen=True)
class _WardBed:
    """A bed with its ward, as the bed form lists it."""

    ward: setup_wards.WardRow
    bed: setup_wards.BedRow

    @property
    def id(self) -> int:
        return self.bed.id

    @property
    def version(self) -> int:
        return self.bed.version

    @property
    def active(self) -> bool:
        return self.bed.active


def _beds(session: Session, site_id: int) -> list[_WardBed]:
    return [_WardBed(w, b) for w in setup_wards.list_wards_with_beds(session, site_id) for b in w.beds]


def _bed_table(rows: Sequence[_WardBed]) -> Component:
    return rows_table(
        "setup-bed-grid",
        [
            t("setup_code"),
            t("setup_ward"),
            t("setup_bed_label"),
            t("setup_care_class"),
            t("setup_bed_status"),
            t("setup_state"),
        ],
        [
            (
                r.bed.code,
                r.ward.name,
                r.bed.label,
                r.bed.care_class or t("setup_class_of_ward_short", care_class=r.ward.care_class),
                t(f"setup_bed_status_{r.bed.status}"),
                _state(r.bed.active),
            )
            for r in rows
        ],
        [not r.bed.active for r in rows],
    )


register_setup_crud(
    SetupCrud(
        page=PAGE,
        ids=Ids.WARD,
        fields=setup_wards.WARD_FIELDS,
        refresh=Ids.REFRESH,
        rows=setup_wards.list_wards_with_beds,
        label=lambda w: f"{w.code} — {w.name}",
        values=lambda w: {
            "code": w.code,
            "name": w.name,
            "kind": w.kind,
            "care_class": w.care_class,
            "bed_count": str(w.bed_count),
        },
        table=_ward_table,
        create=setup_wards.create_ward,
        update=setup_wards.update_ward,
        retire=setup_wards.retire_ward,
        locked_on_edit=("code", "bed_count"),
        saved=setup_wards.publish_wards_changed,
    )
)
register_setup_crud(
    SetupCrud(
        page=PAGE,
        ids=Ids.BED,
        fields=("label", "care_class"),
        refresh=Ids.REFRESH,
        rows=_beds,
        label=lambda r: f"{r.bed.code} — {r.bed.label} ({r.ward.name})",
        values=lambda r: {"label": r.bed.label, "care_class": r.bed.care_class or ""},
        table=_bed_table,
        create=None,
        update=setup_wards.update_bed,
        retire=setup_wards.retire_bed,
    )
)


@page_callback(
    PAGE,
    Output(Ids.WARD.feedback, "children", allow_duplicate=True),
    Output(Ids.REFRESH, "data", allow_duplicate=True),
    Input(Ids.ADD_BED, "n_clicks"),
    State(Ids.WARD.pick, "value"),
    State(Ids.REFRESH, "data"),
    prevent_initial_call=True,
)
def add_bed(_clicks: int, ward_id: int | None, refresh: int | None) -> tuple:
    """One more numbered bed in the opened ward."""
    if ward_id is None:
        return dbc.Alert(
            t("setup_pick_ward_first"), color="warning", className="mb-0", id="setup-ward-error"
        ), no_update
    try:
        with current_runtime().db.session() as db:
            code = setup_wards.add_bed(db, current_actor(), ward_id).code
    except InputError as exc:
        return input_error_alert(exc), no_update
    added = dbc.Alert(t("setup_bed_added", bed=code), color="success", className="mb-0", id="setup-ward-saved")
    return added, (refresh or 0) + 1
