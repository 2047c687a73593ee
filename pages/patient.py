"""One patient's record (``/pasien/<RM>``): demographics with the identifiers (the read is audited), visits and
queue history, stays with a link to their vitals, bills and possible duplicates. Front desk and admins correct
and delete; admins merge and purge; nurses and doctors read."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from auth.session import current_actor
from components.patient_record import (
    SHOWN_FIELDS,
    Ids,
    admissions_table,
    danger_card,
    delete_modal,
    demographics,
    duplicates_card,
    edit_form,
    invoices_table,
    record_state,
    visits_table,
)
from data.patient_records import RecordView, record_view
from data.runtime import current_runtime
from domain.patient_rules import ADMIN_ROLES, READ_ROLES, WRITE_ROLES
from i18n.web import t

dash.register_page(
    __name__,
    path_template="/pasien/<mrn>",
    path="/pasien/rekam",
    name_key="pat_record_nav",
    title="Rekam medis · Pantau",
    roles=sorted(READ_ROLES),
    order=19,
    nav=False,
)

__all__ = ["Ids", "layout"]


def _card(title_key: str, body: object, card_id: str) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(t(title_key)), dbc.CardBody(body)], className="mb-3", id=card_id)


def _record(view: RecordView) -> html.Div:
    roles = current_user.roles
    live = view.deleted_at is None
    can_write, is_admin = live and bool(roles & WRITE_ROLES), bool(roles & ADMIN_ROLES)
    record = view.record
    header = html.Div(
        [
            html.H1(record.name or t("pat_state_purged"), className="h4 mb-0 me-3", id="pat-name"),
            html.Span(f"{t('reg_mrn')} {record.mrn}", className="text-body-secondary", id="pat-mrn"),
            dbc.Button(t("pat_back"), href="/pasien", color="link", size="sm", className="ms-auto"),
        ],
        className="d-flex align-items-center gap-2 mb-2",
    )
    left = [
        _card("pat_demographics", edit_form(view) if can_write else demographics(view), "pat-demographics-card"),
        html.Div(id=Ids.STATE),
    ]
    if can_write or (is_admin and not view.purged):  # a deleted record: only its purge is left to do
        left.append(danger_card(can_delete=can_write, can_purge=is_admin and not view.purged))
    return html.Div(
        [
            dcc.Store(id=Ids.PATIENT_ID, data=record.id),
            dcc.Store(id=Ids.VERSION, data=view.version),
            dcc.Store(id=Ids.MERGE_CHOSEN),
            dcc.ConfirmDialog(id=Ids.MERGE_CONFIRM),
            delete_modal() if can_write else None,
            header,
            record_state(view),
            html.Div(id=Ids.MERGE_FEEDBACK, className="mb-2"),
            duplicates_card(view.duplicates, can_merge=live and is_admin),
            dbc.Row(
                [
                    dbc.Col(left, lg=5),
                    dbc.Col(
                        [
                            _card("pat_visits", visits_table(view), "pat-visits-card"),
                            _card("pat_admissions", admissions_table(view), "pat-admissions-card"),
                            _card("pat_invoices", invoices_table(view), "pat-invoices-card"),
                        ],
                        lg=7,
                    ),
                ],
                className="g-3",
            ),
        ],
        id="pat-record-page",
    )


def layout(mrn: str | None = None, **_query: str) -> html.Div | dbc.Alert:
    runtime = current_runtime()
    with runtime.db.session() as session:
        view = record_view(session, runtime.cipher, current_actor(), mrn or "", fields=SHOWN_FIELDS)
    if view is None:
        return dbc.Alert(t("pat_unknown", mrn=mrn or ""), color="warning", id="pat-unknown")
    return _record(view)
