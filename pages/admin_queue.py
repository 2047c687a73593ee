"""Queue settings: the TV boards' running text (admins), closing a poli for today with a reason (admins and the
front desk, who hear first that a doctor cannot come), each poli's age range (admins; the desk warns outside it),
and today's doctor sessions with their quotas."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.hidden_label import hidden_label
from data.poli_settings import PoliAges, poli_age_ranges
from data.queue_views import running_text
from data.runtime import current_runtime
from data.schedules import day_sessions, local_today
from domain.clock import utcnow
from domain.formats import long_date
from i18n.web import current_language, t

dash.register_page(
    __name__,
    path="/admin/antrean",
    name_key="qadmin_nav",
    title="Pengaturan Antrean · Pantau",
    roles=["admin", "front_desk"],
    order=92,
    nav=True,
    nav_group="queue",
)

ADMIN_ROLES = frozenset({"admin"})  # the running text and the age ranges; closing a poli is the desk's too


def age_text(min_years: int | None, max_years: int | None) -> str:
    """``0–17 tahun``, ``≥ 18 tahun``, or "every age"."""
    if min_years is None and max_years is None:
        return t("qadmin_age_any")
    if max_years is None:
        return t("qadmin_age_from", min=min_years)
    if min_years is None:
        return t("qadmin_age_upto", max=max_years)
    return t("qadmin_age_between", min=min_years, max=max_years)


def age_table(polis: list[PoliAges]) -> dbc.Table:
    """Every poli with the ages it serves."""
    head = html.Thead(html.Tr([html.Th(t("qadmin_col_poli")), html.Th(t("qadmin_age_col"))]))
    rows = [html.Tr([html.Td(p.name), html.Td(age_text(p.min_years, p.max_years))]) for p in polis]
    return dbc.Table([head, html.Tbody(rows)], size="sm", className="mb-0 mt-3", id="qadmin-ages-table")


def _age_field(bound: str) -> dbc.Col:
    field_id = f"qadmin-age-{bound}"
    return dbc.Col(
        [
            dbc.Label(t(f"qadmin_age_{bound}"), html_for=field_id),
            dbc.Input(id=field_id, inputMode="numeric", maxLength=8, autoComplete="off"),
            html.Div(id=f"{field_id}-error", className="invalid-feedback d-block"),
        ]
    )


def _running_text_card(text: str, allowed: bool) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("qadmin_running_title")),
            dbc.CardBody(
                [
                    hidden_label(t("qadmin_running_title"), "qadmin-running-text"),
                    dbc.Textarea(id="qadmin-running-text", value=text, maxLength=500, rows=3, disabled=not allowed),
                    dbc.FormText(
                        t("qadmin_running_hint") if allowed else t("qadmin_running_admin_only"), className="d-block"
                    ),
                    dbc.Button(
                        t("qadmin_running_save"),
                        id="qadmin-running-save",
                        color="primary",
                        disabled=not allowed,
                        className="mt-2",
                    ),
                    html.Div(id="qadmin-running-feedback", className="mt-2"),
                ]
            ),
        ],
        className="mb-3",
    )


def _close_card(polis: dict[int, str]) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("qadmin_close_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("qadmin_poli"), html_for="qadmin-poli"),
                    dbc.Select(
                        id="qadmin-poli",
                        options=[{"label": name, "value": str(pid)} for pid, name in polis.items()],
                        placeholder=t("qadmin_poli_placeholder"),
                        className="mb-2",
                    ),
                    dbc.Label(t("qadmin_reason"), html_for="qadmin-reason"),
                    dbc.Input(
                        id="qadmin-reason", maxLength=200, placeholder=t("qadmin_reason_placeholder"), className="mb-3"
                    ),
                    dbc.Button(t("qadmin_close"), id="qadmin-close", color="danger", className="me-2"),
                    dbc.Button(t("qadmin_reopen"), id="qadmin-reopen", color="secondary", outline=True),
                    html.Div(id="qadmin-close-feedback", className="mt-2"),
                ]
            ),
        ]
    )


def _age_card(polis: list[PoliAges], allowed: bool) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("qadmin_age_title")),
            dbc.CardBody(
                [
                    html.P(t("qadmin_age_hint"), className="text-body-secondary small"),
                    html.Fieldset(
                        [
                            dbc.Label(t("qadmin_poli"), html_for="qadmin-age-poli"),
                            dbc.Select(
                                id="qadmin-age-poli",
                                options=[{"label": p.name, "value": str(p.id)} for p in polis],
                                placeholder=t("qadmin_poli_placeholder"),
                                className="mb-2",
                            ),
                            dbc.Row([_age_field("min"), _age_field("max")], className="mb-2"),
                            dbc.Button(t("qadmin_age_save"), id="qadmin-age-save", color="primary"),
                        ],
                        disabled=not allowed,
                    ),
                    dbc.FormText(t("qadmin_age_admin_only"), className="d-block") if not allowed else None,
                    html.Div(id="qadmin-age-feedback", className="mt-2"),
                    html.Div(age_table(polis), id="qadmin-ages"),
                ]
            ),
        ],
        className="mt-3",
    )


def layout(**_query: str) -> dbc.Row:
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        day = local_today(session, site_id, utcnow())
        polis = {s.poli_id: s.poli_name for s in day_sessions(session, site_id, day)}
        text = running_text(session, site_id)
        ages = poli_age_ranges(session, site_id)
    allowed = bool(current_user.roles & ADMIN_ROLES)
    return dbc.Row(
        [
            dcc.Store(id="qadmin-version", data=0),
            dbc.Col(
                [_running_text_card(text, allowed), _close_card(polis), _age_card(ages, allowed)],
                lg=5,
                className="mb-3",
            ),
            dbc.Col(
                dbc.Card(
                    [
                        dbc.CardHeader(t("qadmin_sessions_title", date=long_date(day, current_language()))),
                        html.Div(id="qadmin-sessions"),
                    ]
                ),
                lg=7,
            ),
        ]
    )
