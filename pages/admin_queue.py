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


class Ids:
    """Component ids shared with callbacks/admin_queue.py."""

    VERSION = "qadmin-version"
    RUNNING_TEXT = "qadmin-running-text"
    RUNNING_SAVE = "qadmin-running-save"
    RUNNING_FEEDBACK = "qadmin-running-feedback"
    POLI = "qadmin-poli"
    REASON = "qadmin-reason"
    CLOSE = "qadmin-close"
    REOPEN = "qadmin-reopen"
    CLOSE_FEEDBACK = "qadmin-close-feedback"
    SESSIONS = "qadmin-sessions"
    AGE_POLI = "qadmin-age-poli"
    AGE_SAVE = "qadmin-age-save"
    AGE_FEEDBACK = "qadmin-age-feedback"
    AGES = "qadmin-ages"

    @staticmethod
    def age_field(bound: str) -> str:
        """The input of an age bound: ``min`` or ``max``."""
        return f"qadmin-age-{bound}"

    @staticmethod
    def age_field_error(bound: str) -> str:
        """The error line under the input of age bound ``bound``."""
        return f"qadmin-age-{bound}-error"


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
    return dbc.Col(
        [
            dbc.Label(t(f"qadmin_age_{bound}"), html_for=Ids.age_field(bound)),
            dbc.Input(id=Ids.age_field(bound), inputMode="numeric", maxLength=8, autoComplete="off"),
            html.Div(id=Ids.age_field_error(bound), className="invalid-feedback d-block"),
        ]
    )


def _running_text_card(text: str, allowed: bool) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("qadmin_running_title")),
            dbc.CardBody(
                [
                    hidden_label(t("qadmin_running_title"), Ids.RUNNING_TEXT),
                    dbc.Textarea(id=Ids.RUNNING_TEXT, value=text, maxLength=500, rows=3, disabled=not allowed),
                    dbc.FormText(
                        t("qadmin_running_hint") if allowed else t("qadmin_running_admin_only"), className="d-block"
                    ),
                    dbc.Button(
                        t("qadmin_running_save"),
                        id=Ids.RUNNING_SAVE,
                        color="primary",
                        disabled=not allowed,
                        className="mt-2",
                    ),
                    html.Div(id=Ids.RUNNING_FEEDBACK, className="mt-2"),
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
                    dbc.Label(t("qadmin_poli"), html_for=Ids.POLI),
                    dbc.Select(
                        id=Ids.POLI,
                        options=[{"label": name, "value": str(pid)} for pid, name in polis.items()],
                        placeholder=t("qadmin_poli_placeholder"),
                        className="mb-2",
                    ),
                    dbc.Label(t("qadmin_reason"), html_for=Ids.REASON),
                    dbc.Input(
                        id=Ids.REASON, maxLength=200, placeholder=t("qadmin_reason_placeholder"), className="mb-3"
                    ),
                    dbc.Button(t("qadmin_close"), id=Ids.CLOSE, color="danger", className="me-2"),
                    dbc.Button(t("qadmin_reopen"), id=Ids.REOPEN, color="secondary", outline=True),
                    html.Div(id=Ids.CLOSE_FEEDBACK, className="mt-2"),
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
                            dbc.Label(t("qadmin_poli"), html_for=Ids.AGE_POLI),
                            dbc.Select(
                                id=Ids.AGE_POLI,
                                options=[{"label": p.name, "value": str(p.id)} for p in polis],
                                placeholder=t("qadmin_poli_placeholder"),
                                className="mb-2",
                            ),
                            dbc.Row([_age_field("min"), _age_field("max")], className="mb-2"),
                            dbc.Button(t("qadmin_age_save"), id=Ids.AGE_SAVE, color="primary"),
                        ],
                        disabled=not allowed,
                    ),
                    dbc.FormText(t("qadmin_age_admin_only"), className="d-block") if not allowed else None,
                    html.Div(id=Ids.AGE_FEEDBACK, className="mt-2"),
                    html.Div(age_table(polis), id=Ids.AGES),
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
            dcc.Store(id=Ids.VERSION, data=0),
            dbc.Col(
                [_running_text_card(text, allowed), _close_card(polis), _age_card(ages, allowed)],
                lg=5,
                className="mb-3",
            ),
            dbc.Col(
                dbc.Card(
                    [
                        dbc.CardHeader(t("qadmin_sessions_title", date=long_date(day, current_language()))),
                        html.Div(id=Ids.SESSIONS),
                    ]
                ),
                lg=7,
            ),
        ]
    )
