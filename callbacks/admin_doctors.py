"""Admin doctors: the setup form of ``/admin/dokter`` through ``data.setup_doctors``, its poli and account
choices from ``data.setup_polis`` and the doctor-role accounts."""

from __future__ import annotations

from collections.abc import Sequence

from dash import Input, Output
from dash.development.base_component import Component
from flask_login import current_user

from callbacks.registry import page_callback
from callbacks.setup_crud import SetupCrud, register_setup_crud
from components.setup_form import rows_table
from data import setup_doctors, setup_polis
from data.runtime import current_runtime
from i18n.web import t
from pages.admin_doctors import Ids

PAGE = "pages.admin_doctors"
FORM_FIELDS = (*setup_doctors.DOCTOR_FIELDS, "username")


def _table(rows: Sequence[setup_doctors.DoctorRow]) -> Component:
    return rows_table(
        "setup-doctor-grid",
        [
            t("setup_doctor_name"),
            t("setup_sip"),
            t("setup_specialty"),
            t("setup_hfis"),
            t("setup_poli"),
            t("setup_account"),
            t("setup_state"),
        ],
        [
            (
                d.name,
                d.sip or "—",
                d.specialty or "—",
                d.bpjs_code or "—",
                d.poli_code or "—",
                d.username or "—",
                t("setup_active") if d.active else t("setup_retired_state"),
            )
            for d in rows
        ],
        [not d.active for d in rows],
    )


register_setup_crud(
    SetupCrud(
        page=PAGE,
        ids=Ids.DOCTOR,
        fields=FORM_FIELDS,
        refresh=Ids.REFRESH,
        rows=setup_doctors.list_doctors,
        label=lambda d: d.name,
        values=lambda d: {
            "name": d.name,
            "sip": d.sip or "",
            "specialty": d.specialty,
            "bpjs_code": d.bpjs_code or "",
            "poli_code": d.poli_code or "",
            "username": d.username or "",
        },
        table=_table,
        create=setup_doctors.create_doctor,
        update=setup_doctors.update_doctor,
        retire=setup_doctors.retire_doctor,
    )
)


@page_callback(
    PAGE,
    Output(Ids.DOCTOR.field("poli_code"), "options"),
    Output(Ids.DOCTOR.field("username"), "options"),
    Input(Ids.REFRESH, "data"),
)
def choices(_refresh: int | None) -> tuple:
    """The open polis and the doctor-role accounts, each list led by "none"."""
    with current_runtime().db.session() as db:
        polis = [p for p in setup_polis.list_polis(db, current_user.site_id) if p.active]
        accounts = setup_doctors.doctor_accounts(db, current_user.site_id)
    none = {"value": "", "label": t("setup_none")}
    return (
        [none, *({"value": p.code, "label": f"{p.code} — {p.name}"} for p in polis)],
        [none, *({"value": a.username, "label": f"{a.full_name} ({a.username})"} for a in accounts)],
    )
