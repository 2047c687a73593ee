"""The audit trail for the administrator (/admin/audit): who did what to which record, from where, filtered by
user, patient (RM), action, object and days carried in the address, paged on the server, exported to CSV (itself
audited, after a fresh password or code check). callbacks/admin_audit.py draws and exports."""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component
from flask_login import current_user

from components.audit_view import AuditView, action_options, audit_grid, kind_options, parse_query
from components.date_picker import date_range
from components.dropdown import dropdown
from data.runtime import current_runtime
from data.schedules import local_today
from i18n.web import t

ROLES = ["admin"]
dash.register_page(
    __name__,
    path="/admin/audit",
    name_key="audit_nav",
    title="Jejak audit · Pantau",
    roles=ROLES,
    order=96,
    nav=True,
    nav_group="admin",
)


class Ids:
    """Component ids shared with callbacks/admin_audit.py."""

    URL = "audit-url"
    USERNAME = "audit-username"
    MRN = "audit-mrn"
    ACTION = "audit-action"
    TARGET_TYPE = "audit-target-type"
    TARGET_ID = "audit-target-id"
    RANGE = "audit-range"
    CLEAR = "audit-clear"
    STORE = "audit-filter"  # the filter the grid pages through (resolved: RM -> patient id)
    MESSAGE = "audit-message"
    COUNT = "audit-count"
    RESULTS = "audit-results"
    EXPORT = "audit-export"
    DOWNLOAD = "audit-download"
    EXPORT_STATUS = "audit-export-status"


def _field(element_id: str, label_key: str, control: object, width: int = 2) -> dbc.Col:
    return dbc.Col(
        [dbc.Label(t(label_key), html_for=element_id, className="small mb-1"), control], lg=width, md=4, sm=6
    )


def _text_input(element_id: str, value: str | None, placeholder_key: str) -> dbc.Input:
    return dbc.Input(
        id=element_id,
        value=value or "",
        placeholder=t(placeholder_key),
        debounce=True,
        maxLength=64,
        size="sm",
        autoComplete="off",
    )


def _named_choice(element_id: str, options: list[dict[str, str]], value: str | None, any_key: str) -> Component:
    """A filter choosing a code by its name (searchable by name or code), empty for "any"."""
    return dropdown(
        id=element_id, options=options, value=value, placeholder=t(any_key), clearable=True, searchable=True
    )


def _filters(view: AuditView, today_max: str) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    _field(Ids.USERNAME, "audit_user", _text_input(Ids.USERNAME, view.username, "audit_user_hint")),
                    _field(Ids.MRN, "audit_patient", _text_input(Ids.MRN, view.mrn, "audit_patient_hint")),
                    _field(
                        Ids.ACTION,
                        "audit_action",
                        _named_choice(Ids.ACTION, action_options(view.action), view.action, "audit_any"),
                    ),
                    _field(
                        Ids.TARGET_TYPE,
                        "audit_object",
                        dbc.Row(
                            [
                                dbc.Col(
                                    _named_choice(
                                        Ids.TARGET_TYPE,
                                        kind_options(view.target_type),
                                        view.target_type,
                                        "audit_any_kind",
                                    ),
                                    width=7,
                                ),
                                dbc.Col(
                                    [
                                        dbc.Input(
                                            id=Ids.TARGET_ID,
                                            value=view.target_id or "",
                                            placeholder=t("audit_object_id_hint"),
                                            debounce=True,
                                            maxLength=64,
                                            autoComplete="off",
                                            size="sm",
                                        ),
                                        dbc.Label(
                                            t("audit_object_id_hint"),
                                            html_for=Ids.TARGET_ID,
                                            class_name="visually-hidden",
                                        ),
                                    ],
                                    width=5,
                                ),
                            ],
                            className="g-1",
                        ),
                        width=3,
                    ),
                    _field(
                        Ids.RANGE,
                        "audit_days",
                        html.Div(
                            date_range(
                                id=Ids.RANGE,
                                start_date=view.start,
                                end_date=view.end,
                                max_date_allowed=today_max,
                                minimum_nights=0,
                                clearable=False,
                                start_date_placeholder_text=t("audit_from"),
                                end_date_placeholder_text=t("audit_until"),
                            ),
                        ),
                        width=3,
                    ),
                ],
                className="g-2 align-items-end",
            ),
            className="py-2",
        ),
        className="mb-2 shadow-sm",
        id="audit-filters",
    )


def layout(**query: str) -> html.Div:
    with current_runtime().db.session() as session:
        today = local_today(session, current_user.site_id)
    view = parse_query(query)
    return html.Div(
        [
            dcc.Location(id=Ids.URL, refresh=False, search=f"?{urlencode(query)}" if query else ""),
            dcc.Store(id=Ids.STORE),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H1(t("audit_title"), className="h4 mb-0"),
                            html.Div(t("audit_intro"), className="text-body-secondary small"),
                        ],
                        width="auto",
                    ),
                    dbc.Col(
                        html.Div(
                            [
                                dbc.Button(
                                    [html.I(className="bi bi-x-circle me-1"), t("audit_clear")],
                                    id=Ids.CLEAR,
                                    color="secondary",
                                    outline=True,
                                    size="sm",
                                ),
                                dbc.Button(
                                    [html.I(className="bi bi-download me-1"), t("audit_export")],
                                    id=Ids.EXPORT,
                                    color="primary",
                                    size="sm",
                                ),
                                dcc.Download(id=Ids.DOWNLOAD),
                            ],
                            className="d-flex gap-2",
                        ),
                        width="auto",
                        className="ms-auto",
                    ),
                ],
                className="align-items-center g-2 mb-2",
            ),
            _filters(view, today.isoformat()),
            html.Div(id=Ids.EXPORT_STATUS),
            html.Div(id=Ids.MESSAGE),
            html.Div(id=Ids.COUNT, className="small text-body-secondary mb-1"),
            html.Div(audit_grid(), id=Ids.RESULTS),
        ],
        className="audit-page",
    )
