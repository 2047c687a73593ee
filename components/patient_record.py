"""The patient record page's pieces: the demographics (an edit form for those who may correct them), the history
(visits with their queue tickets, stays with a link to their vitals, bills), the possible duplicates and the
delete, merge and purge controls. Ids live in ``Ids``, shared with callbacks/patient.py."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dialog import dialog
from components.local_time import local_when
from components.typed_date import typed_date_input
from data.patient_records import DuplicateMatch, RecordView
from domain.formats import long_date
from domain.patient_rules import EDITABLE_FIELDS
from i18n.web import current_language, money, t

ENTRY_LENGTH = 40  # identifier and phone inputs: room for separators; the server says what is wrong
ADDRESS_LENGTH = 500
SHOWN_FIELDS = ("nik", "bpjs", "phone", "address")  # the identifiers the record page decrypts (and audits)


class Ids:
    """Component ids of the record page (pages/patient.py draws it, callbacks/patient.py answers it)."""

    PATIENT_ID = "pat-id"
    VERSION = "pat-version"
    SAVE = "pat-save"
    FIELDSET = "pat-fieldset"
    FEEDBACK = "pat-feedback"
    NIK_CONFIRM = "pat-nik-confirm"
    NIK_CONFIRM_TEXT = "pat-nik-confirm-text"
    NIK_CONFIRM_SAVE = "pat-nik-confirm-save"
    DELETE_OPEN = "pat-delete-open"
    DELETE_MODAL = "pat-delete-modal"
    DELETE_REASON = "pat-delete-reason"
    DELETE_REASON_ERROR = "pat-delete-reason-error"
    DELETE_CONFIRM = "pat-delete-confirm"
    DELETE_CANCEL = "pat-delete-cancel"
    STATE = "pat-state"
    MERGE = "pat-merge"
    MERGE_CHOSEN = "pat-merge-chosen"
    MERGE_CONFIRM = "pat-merge-confirm"
    MERGE_FEEDBACK = "pat-merge-feedback"
    PURGE = "pat-purge"
    PURGE_CONFIRM = "pat-purge-confirm"
    PURGE_FEEDBACK = "pat-purge-feedback"

    @staticmethod
    def field(name: str) -> str:
        """An input of the edit form (``domain.patient_rules.EDITABLE_FIELDS``)."""
        return f"pat-field-{name}"

    @staticmethod
    def field_error(name: str) -> str:
        """The message under an input of the edit form."""
        return f"pat-field-{name}-error"


def _date(day: object) -> str:
    return long_date(day, current_language()) if day else "—"  # type: ignore[arg-type]


def record_state(view: RecordView) -> dbc.Alert | None:
    """Why the record is read only: deleted (with the reason), merged into another record, or purged."""
    if view.purged:
        return dbc.Alert(t("pat_state_purged"), color="secondary", id="pat-state-purged")
    if view.merged_into_mrn:
        link = dcc.Link(view.merged_into_mrn, href=f"/pasien/{view.merged_into_mrn}")
        return dbc.Alert([t("pat_state_merged"), " ", link], color="warning", id="pat-state-merged")
    if view.deleted_at:
        text = t("pat_state_deleted", when=local_when(view.deleted_at), reason=view.delete_reason or "—")
        return dbc.Alert(text, color="warning", id="pat-state-deleted")
    return None


def _input(field: str, value: object) -> object:
    if field == "sex":
        options = [{"label": t("reg_sex_L"), "value": "L"}, {"label": t("reg_sex_P"), "value": "P"}]
        return dbc.RadioItems(id=Ids.field(field), options=options, value=value, inline=True)
    if field == "birth_date":
        return typed_date_input(Ids.field(field), value)  # type: ignore[arg-type]
    if field == "address":
        return dbc.Textarea(id=Ids.field(field), value=value or "", maxLength=ADDRESS_LENGTH, rows=2)
    numeric = {"nik": "numeric", "bpjs": "numeric", "phone": "tel"}
    if field in numeric:
        return dbc.Input(
            id=Ids.field(field), value=value or "", inputMode=numeric[field], maxLength=ENTRY_LENGTH, autoComplete="off"
        )
    return dbc.Input(id=Ids.field(field), value=value or "", maxLength=200, autoComplete="off")


def edit_form(view: RecordView) -> html.Fieldset:
    """The demographics as a form: each field with its own message under it; a NIK that disagrees with the birth
    date or sex is asked about before it is saved."""
    record = view.record
    values = {f: getattr(record, f) for f in EDITABLE_FIELDS}
    rows = [
        html.Div(
            [
                dbc.Label(t(f"pat_field_{f}"), html_for=Ids.field(f)),
                _input(f, values[f]),
                html.Div(id=Ids.field_error(f), className="invalid-feedback d-block"),
            ],
            className="mb-2",
        )
        for f in EDITABLE_FIELDS
    ]
    return html.Fieldset(
        [
            *rows,
            dbc.Button([html.I(className="bi bi-save me-1"), t("pat_save")], id=Ids.SAVE, color="primary"),
            html.Div(id=Ids.FEEDBACK, className="mt-2"),
            dbc.Alert(
                [
                    html.Div(id=Ids.NIK_CONFIRM_TEXT),
                    dbc.Button(
                        t("pat_nik_confirm"), id=Ids.NIK_CONFIRM_SAVE, color="warning", size="sm", className="mt-2"
                    ),
                ],
                id=Ids.NIK_CONFIRM,
                color="warning",
                is_open=False,
                className="mt-2 mb-0",
            ),
        ],
        id=Ids.FIELDSET,
    )


def demographics(view: RecordView) -> dbc.Table:
    """The demographics read only (nurses, doctors, and anyone on a deleted record)."""
    record = view.record
    shown = {
        "name": record.name or t("pat_state_purged"),
        "birth_date": _date(record.birth_date),
        "sex": t(f"reg_sex_{record.sex}"),
        **{f: getattr(record, f) or "—" for f in SHOWN_FIELDS},
    }
    rows = [
        html.Tr([html.Th(t(f"pat_field_{f}"), scope="row"), html.Td(shown[f], id=f"pat-show-{f}")])
        for f in EDITABLE_FIELDS
    ]
    return dbc.Table(html.Tbody(rows), size="sm", className="mb-0", id="pat-demographics")


def _table(head: list[str], rows: list[html.Tr], empty_key: str, table_id: str) -> object:
    if not rows:
        return html.P(t(empty_key), className="text-body-secondary mb-0", id=table_id)
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(t(k)) for k in head])), html.Tbody(rows)],
        size="sm",
        hover=True,
        responsive=True,
        className="mb-0",
        id=table_id,
    )


def visits_table(view: RecordView) -> object:
    """Outpatient visits, newest first, each with the lines it stood in (desk, poli, pharmacy)."""
    rows = [
        html.Tr(
            [
                html.Td(_date(v.service_date)),
                html.Td(v.poli),
                html.Td(v.booking_code),
                html.Td(t(f"pat_visit_{v.status}")),
                html.Td(
                    ", ".join(f"{k.label} ({t(f'counter_state_{k.status}')})" for k in v.tickets) or "—",
                    className="small",
                ),
            ]
        )
        for v in view.visits
    ]
    head = ["pat_col_date", "pat_col_poli", "pat_col_booking", "pat_col_status", "pat_col_tickets"]
    return _table(head, rows, "pat_no_visits", "pat-visits")


def admissions_table(view: RecordView) -> object:
    """Stays, newest first; the open one links to its bed (live vitals and trends), each to its procedures."""
    rows = []
    for a in view.admissions:
        bed = a.bed_code or "—"
        if a.discharged_at is None and a.bed_code:
            bed = dcc.Link(a.bed_code, href=f"/bed/{a.bed_code}")
        rows.append(
            html.Tr(
                [
                    html.Td(local_when(a.admitted_at)),
                    html.Td(local_when(a.discharged_at) if a.discharged_at else t("pat_admission_open")),
                    html.Td(bed),
                    html.Td(dcc.Link(t("proc_link"), href=f"/tindakan?admission={a.id}")),
                ]
            )
        )
    head = ["pat_col_admitted", "pat_col_discharged", "pat_col_bed", "pat_col_procedures"]
    return _table(head, rows, "pat_no_admissions", "pat-admissions")


def invoices_table(view: RecordView) -> object:
    rows = [
        html.Tr(
            [
                html.Td(i.number),
                html.Td(_date(i.issued_on)),
                html.Td(money(i.total), className="text-end"),
                html.Td(money(i.paid), className="text-end"),
                html.Td(i.status),
            ]
        )
        for i in view.invoices
    ]
    head = ["pat_col_invoice", "pat_col_date", "pat_col_total", "pat_col_paid", "pat_col_status"]
    return _table(head, rows, "pat_no_invoices", "pat-invoices")


def duplicates_card(duplicates: tuple[DuplicateMatch, ...], *, can_merge: bool) -> dbc.Card | None:
    """Other live records that may be this person; an admin may merge one into this record."""
    if not duplicates:
        return None
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(d.mrn, href=f"/pasien/{d.mrn}")),
                html.Td(d.name),
                html.Td(_date(d.birth_date)),
                html.Td(t(f"pat_duplicate_{d.reason}")),
                html.Td(
                    dbc.Button(
                        t("pat_merge"), id={"type": Ids.MERGE, "index": d.id}, size="sm", color="danger", outline=True
                    )
                    if can_merge
                    else None
                ),
            ]
        )
        for d in duplicates
    ]
    head = ["reg_mrn", "reg_name", "reg_birth_date", "pat_col_reason", "pat_col_action"]
    return dbc.Card(
        [
            dbc.CardHeader(t("pat_duplicates_title")),
            dbc.CardBody(
                [
                    html.P(t("pat_duplicates_hint" if can_merge else "pat_duplicates_hint_read"), className="small"),
                    _table(head, rows, "pat_no_duplicates", "pat-duplicates"),
                ]
            ),
        ],
        className="mb-3 border-warning",
        id="pat-duplicates-card",
    )


def danger_card(*, can_delete: bool, can_purge: bool) -> dbc.Card:
    """Delete (with a reason, behind a dialog) and, for an admin, purge after the retention period."""
    delete = [
        html.P(t("pat_delete_hint"), className="small text-body-secondary"),
        dbc.Button(t("pat_delete"), id=Ids.DELETE_OPEN, color="danger", outline=True, size="sm"),
    ]
    purge = (
        [
            html.Hr() if can_delete else None,
            html.P(t("pat_purge_hint"), className="small text-body-secondary"),
            dbc.Button(t("pat_purge"), id=Ids.PURGE, color="danger", outline=True, size="sm"),
            dcc.ConfirmDialog(id=Ids.PURGE_CONFIRM, message=t("pat_purge_confirm")),
            html.Div(id=Ids.PURGE_FEEDBACK, className="mt-2"),
        ]
        if can_purge
        else []
    )
    return dbc.Card(
        [
            dbc.CardHeader(t("pat_delete_title")),
            dbc.CardBody([*(delete if can_delete else []), *purge]),
        ],
        className="mb-3",
    )


def delete_modal() -> dbc.Modal:
    """Asks for the reason before a record is deleted."""
    return dialog(
        [
            dbc.ModalHeader(dbc.ModalTitle(t("pat_delete_title"))),
            dbc.ModalBody(
                [
                    html.P(t("pat_delete_confirm_text")),
                    dbc.Label(t("pat_delete_reason"), html_for=Ids.DELETE_REASON),
                    dbc.Textarea(id=Ids.DELETE_REASON, maxLength=500, rows=2),
                    html.Div(id=Ids.DELETE_REASON_ERROR, className="invalid-feedback d-block"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(t("thr_cancel"), id=Ids.DELETE_CANCEL, color="secondary", outline=True),
                    dbc.Button(t("pat_delete"), id=Ids.DELETE_CONFIRM, color="danger"),
                ]
            ),
        ],
        id=Ids.DELETE_MODAL,
        is_open=False,
    )
