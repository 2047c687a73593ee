"""The BPJS claims page's pieces (pages/claims.py, callbacks/claims.py): filters, the list, the claim form, "Buat
klaim" and the claim-status file upload. Their component ids are defined once, here."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dropdown import dropdown
from components.grid import GRID_COLOURS, grid_words
from components.typed_date import typed_date_input
from components.upload_report import spreadsheet_drop
from data.claims import EDIT_FIELDS, ClaimEventView, ClaimView
from domain.finance import CLAIM_EPISODES, CLAIM_STATES
from i18n.web import money, t

UPLOAD_MAX_BYTES = 2 * 1024 * 1024
MOVE_FIELDS = ("status", "on", "reason")


class Ids:
    """Component ids of the claims page."""

    STATUS = "claim-filter-status"
    EPISODE = "claim-filter-episode"
    FROM = "claim-filter-from"  # service end, first day
    UNTIL = "claim-filter-until"
    NEAR = "claim-filter-near"
    GRID = "claim-grid"
    COUNT = "claim-count"
    CURRENT = "claim-current"  # {"id", "version"} of the claim in the form
    TITLE = "claim-form-title"
    FIELD = "claim-field-"  # + one of EDIT_FIELDS
    FEEDBACK = "claim-feedback-"  # + one of EDIT_FIELDS or MOVE_FIELDS
    SAVE = "claim-save"
    SAVE_MSG = "claim-save-msg"
    MOVE_TO = "claim-move-to"
    MOVE_ON = "claim-move-on"
    REASON = "claim-move-reason"
    MOVE = "claim-move"
    MOVE_MSG = "claim-move-msg"
    HISTORY = "claim-history"
    NEW_EPISODE = "claim-new-episode"
    NEW_SEP = "claim-new-sep"
    NEW = "claim-new"
    NEW_MSG = "claim-new-msg"
    UPLOAD = "claim-upload"
    CHECKED = "claim-upload-checked"
    REPORT = "claim-upload-report"
    APPLY = "claim-apply"
    APPLY_MSG = "claim-apply-msg"
    # One store per kind of change: the list, the form and the episode picker listen to the ones that concern them.
    SAVED, MOVED, CREATED, IMPORTED = "claim-saved", "claim-moved", "claim-created", "claim-imported"


def status_text(status: str) -> str:
    return t(f"fin_claim_status_{status}")


def episode_text(episode: str) -> str:
    return t(f"fin_unit_{episode}")


def _money(value: int | None) -> str:
    return "—" if value is None else money(value)


def _day(value) -> str:
    return "—" if value is None else f"{value:%d/%m/%Y}"


def grid_rows(views: list[ClaimView]) -> list[dict]:
    """The list's rows as text (the grid formats nothing itself); ``near`` colours the deadline."""
    return [
        {
            "id": str(v.id),
            "sep": v.sep_number,
            "episode": episode_text(v.episode),
            "place": v.place,
            "service_end": _day(v.service_end),
            "inacbg": v.inacbg_code or "—",
            "hospital": _money(v.hospital_tariff),
            "inacbg_tariff": _money(v.inacbg_tariff),
            "submitted": _money(v.submitted_amount),
            "approved": _money(v.approved_amount),
            "status": status_text(v.status),
            "deadline": deadline_text(v),
            "near": v.near_limit,
            "due": _day(v.verification_due),
        }
        for v in views
    ]


def deadline_text(view: ClaimView) -> str:
    if view.status not in ("coded", "grouped", "final"):
        return _day(view.deadline)
    left = t("claim_days_left", n=view.days_left) if view.days_left >= 0 else t("claim_days_late", n=-view.days_left)
    return f"{_day(view.deadline)} ({left})"


_COLUMNS = (
    ("sep", "claim_col_sep", 205),
    ("episode", "claim_col_episode", 120),
    ("place", "claim_col_place", 140),
    ("service_end", "claim_col_service_end", 140),
    ("inacbg", "claim_col_inacbg", 130),
    ("hospital", "claim_col_hospital", 130),
    ("inacbg_tariff", "claim_col_inacbg_tariff", 130),
    ("submitted", "claim_col_submitted", 130),
    ("approved", "claim_col_approved", 130),
    ("status", "claim_col_status", 120),
    ("deadline", "claim_col_deadline", 210),
    ("due", "claim_col_due", 140),
)
_RIGHT = {"hospital", "inacbg_tariff", "submitted", "approved"}


def claims_grid() -> dag.AgGrid:
    """The claims list: a click on a row opens the claim in the form."""
    defs = []
    for key, label, width in _COLUMNS:
        col = {"field": key, "headerName": t(label), "width": width, "sortable": True, "resizable": True}
        if key in _RIGHT:
            col["type"] = "rightAligned"
        if key == "deadline":
            col["cellClassRules"] = {"text-danger fw-bold claim-near": "params.data.near"}
        defs.append(col)
    return dag.AgGrid(
        id=Ids.GRID,
        columnDefs=defs,
        rowData=[],
        getRowId="params.data.id",
        dashGridOptions={
            "rowHeight": 32,
            "pagination": True,
            "paginationPageSize": 50,
            "localeText": grid_words("claim_no_rows"),
        },
        style={**GRID_COLOURS, "height": "420px"},
        className="claim-grid",
    )


def filters(start, end) -> dbc.Row:
    statuses = [{"label": status_text(s), "value": s} for s in CLAIM_STATES]
    episodes = [{"label": episode_text(e), "value": e} for e in CLAIM_EPISODES]
    return dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label(t("claim_filter_status"), html_for=Ids.STATUS),
                    dropdown(id=Ids.STATUS, options=statuses, placeholder=t("claim_all")),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    dbc.Label(t("claim_filter_episode"), html_for=Ids.EPISODE),
                    dropdown(id=Ids.EPISODE, options=episodes, placeholder=t("claim_all")),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    dbc.Label(t("claim_filter_from"), html_for=Ids.FROM),
                    typed_date_input(Ids.FROM, start, debounce=True),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    dbc.Label(t("claim_filter_until"), html_for=Ids.UNTIL),
                    typed_date_input(Ids.UNTIL, end, debounce=True),
                ],
                md=2,
            ),
            dbc.Col(
                dbc.Checklist(
                    id=Ids.NEAR,
                    options=[{"label": t("claim_filter_near"), "value": "near"}],
                    value=[],
                    switch=True,
                    className="mt-4",
                ),
                md=4,
            ),
        ],
        className="g-2 mb-2",
    )


def _field(name: str, label_key: str, disabled: bool) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(t(label_key), html_for=Ids.FIELD + name),
            dbc.Input(
                id=Ids.FIELD + name,
                type="text",
                disabled=disabled,
                inputMode="numeric" if name != "inacbg_code" else "text",
                maxLength=20,
            ),
            dbc.FormFeedback(id=Ids.FEEDBACK + name, type="invalid"),
        ],
        md=4,
    )


def claim_form(can_write: bool) -> dbc.Card:
    """The picked claim: its coding and amounts, a status move with date and reason, and its history."""
    disabled = not can_write
    labels = {
        "inacbg_code": "claim_col_inacbg",
        "hospital_tariff": "claim_col_hospital",
        "inacbg_tariff": "claim_col_inacbg_tariff",
        "submitted_amount": "claim_col_submitted",
        "approved_amount": "claim_col_approved",
        "topup_amount": "claim_col_topup",
    }
    fields = dbc.Row([_field(name, labels[name], disabled) for name in EDIT_FIELDS], className="g-2")
    move = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label(t("claim_move_to"), html_for=Ids.MOVE_TO),
                    dbc.Select(id=Ids.MOVE_TO, options=[], disabled=disabled),
                    dbc.FormFeedback(id=Ids.FEEDBACK + "status", type="invalid"),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label(t("claim_move_on"), html_for=Ids.MOVE_ON),
                    typed_date_input(Ids.MOVE_ON, disabled=disabled),
                    dbc.FormFeedback(id=Ids.FEEDBACK + "on", type="invalid"),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label(t("claim_move_reason"), html_for=Ids.REASON),
                    dbc.Input(id=Ids.REASON, type="text", maxLength=300, disabled=disabled),
                    dbc.FormFeedback(id=Ids.FEEDBACK + "reason", type="invalid"),
                ],
                md=6,
            ),
        ],
        className="g-2",
    )
    # Both buttons stay disabled until a claim is picked, and for good for a reader (the server refuses too).
    save = dbc.Button(t("claim_save"), id=Ids.SAVE, color="primary", className="me-2 mt-2", disabled=True)
    move_button = dbc.Button(t("claim_move"), id=Ids.MOVE, color="secondary", className="mt-2", disabled=True)
    note = (
        [] if can_write else [html.P(t("claim_read_only"), className="text-body-secondary mb-2", id="claim-read-only")]
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(t("claim_form_empty"), id=Ids.TITLE, className="h6"),
                *note,
                fields,
                html.Div(save),
                html.Div(id=Ids.SAVE_MSG, className="mt-2"),
                html.Hr(),
                move,
                html.Div(move_button),
                html.Div(id=Ids.MOVE_MSG, className="mt-2"),
                html.H3(t("claim_history"), className="h6 mt-3"),
                html.Ul(id=Ids.HISTORY, className="small mb-0"),
            ]
        ),
        className="mb-3",
    )


def history_items(events: list[ClaimEventView]) -> list[html.Li]:
    items = []
    for e in events:
        source = t("claim_source_import") if e.source == "import" else ""
        reason = f" — {e.reason}" if e.reason else ""
        items.append(html.Li(f"{_day(e.on)}: {status_text(e.status)}{reason} {source}".strip()))
    return items


def new_claim_card(can_write: bool) -> dbc.Card:
    """ "Buat klaim": a JKN episode without a claim and its SEP number."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(t("claim_new_title"), className="h6"),
                dbc.Label(t("claim_new_episode"), html_for=Ids.NEW_EPISODE),
                dropdown(id=Ids.NEW_EPISODE, options=[], placeholder=t("claim_new_pick")),
                dbc.Label(t("claim_col_sep"), html_for=Ids.NEW_SEP, className="mt-2"),
                dbc.Input(id=Ids.NEW_SEP, type="text", maxLength=30, placeholder=t("claim_new_sep_hint")),
                dbc.FormFeedback(id=Ids.FEEDBACK + "sep_number", type="invalid"),
                dbc.Button(t("claim_new_button"), id=Ids.NEW, color="primary", className="mt-2"),
                html.Div(id=Ids.NEW_MSG, className="mt-2"),
            ]
        ),
        className="mb-3",
        style=None if can_write else {"display": "none"},
    )


def import_card(can_write: bool) -> dbc.Card:
    """The monthly claim-status file: upload, dry-run results, apply."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(t("claim_import_title"), className="h6"),
                html.P(t("claim_import_hint"), className="small text-body-secondary"),
                spreadsheet_drop(Ids.UPLOAD, t("claim_import_upload"), UPLOAD_MAX_BYTES),
                html.Div(id=Ids.REPORT, className="mt-2"),
                dbc.Button(t("claim_import_apply"), id=Ids.APPLY, color="primary", className="mt-2", disabled=True),
                html.Div(id=Ids.APPLY_MSG, className="mt-2"),
            ]
        ),
        className="mb-3",
        style=None if can_write else {"display": "none"},
    )


def stores() -> list[dcc.Store]:
    return [dcc.Store(id=i) for i in (Ids.CURRENT, Ids.CHECKED, Ids.SAVED, Ids.MOVED, Ids.CREATED, Ids.IMPORTED)]
