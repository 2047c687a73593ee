"""Queue counter: the admission desk, a poli or the pharmacy calls, serves and sends on its patients."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from data.queue_views import point_names
from data.runtime import current_runtime
from data.schedules import today_sessions
from domain.queue_points import ADMISSION, PHARMACY_POINTS, may_operate, poli_point
from i18n.web import t

dash.register_page(
    __name__,
    path="/antrean/konter",
    name_key="counter_nav",
    title="Konter Antrean · Pantau",
    roles=["front_desk", "nurse", "doctor", "pharmacy", "admin"],
    order=21,
    nav=True,
    nav_group="queue",
)

REFRESH_MS = 5_000
FINISH_DONE, FINISH_REFER = "done", "refer"


def point_options(roles: frozenset[str]) -> list[dict]:
    """The service points this user may run today: the desk, each poli with a session today, the pharmacy."""
    runtime = current_runtime()
    site_id = current_user.site_id
    with runtime.db.session() as session:
        names = point_names(session, site_id)
        polis = dict.fromkeys(s.poli_code for s in today_sessions(session, site_id))
    points = [ADMISSION, *(poli_point(code) for code in polis), *PHARMACY_POINTS]
    return [{"label": names.get(p, p), "value": p} for p in points if may_operate(roles, p)]


def _setup_card(options: list[dict]) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("counter_setup_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("counter_point"), html_for="counter-point"),
                    dbc.Select(
                        id="counter-point",
                        options=options,
                        placeholder=t("counter_point_placeholder"),
                        className="mb-2",
                    ),
                    dbc.Label(t("counter_session"), html_for="counter-session"),
                    dbc.Select(id="counter-session", options=[], className="mb-2"),
                    dbc.Label(t("counter_name"), html_for="counter-name"),
                    dbc.Input(id="counter-name", maxLength=40, className="mb-1"),
                    dbc.FormText(t("counter_name_hint"), className="d-block mb-3"),
                    dbc.Button(t("counter_open"), id="counter-open", color="secondary"),
                    html.Div(id="counter-setup-feedback", className="mt-2"),
                ]
            ),
        ],
        className="mb-3",
    )


def _finish_choice() -> html.Div:
    choices = [
        (FINISH_DONE, "counter_finish_done"),
        (PHARMACY_POINTS[0], "counter_finish_compounded"),
        (PHARMACY_POINTS[1], "counter_finish_ready"),
        (FINISH_REFER, "counter_finish_refer"),
    ]
    return html.Div(
        [
            dbc.Label(t("counter_finish_to"), className="mt-3"),
            dbc.RadioItems(
                id="counter-finish-to",
                options=[{"label": t(key), "value": value} for value, key in choices],
                value=FINISH_DONE,
            ),
            dbc.Select(id="counter-refer", options=[], placeholder=t("counter_refer_placeholder"), className="mt-2"),
        ],
        id="counter-finish-options",
        hidden=True,
    )


def _buttons() -> html.Div:
    buttons = [
        ("counter-call-next", "counter_call_next", "primary"),
        ("counter-recall", "counter_recall", "warning"),
        ("counter-skip", "counter_skip", "secondary"),
        ("counter-start", "counter_start", "success"),
        ("counter-finish", "counter_finish", "success"),
        ("counter-cancel", "counter_cancel", "danger"),
    ]
    return html.Div(
        [
            dbc.Button(t(key), id=bid, color=colour, outline=bid != "counter-call-next", className="me-2 mb-2")
            for bid, key, colour in buttons
        ]
    )


def _current_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(html.Span(t("counter_pick_first"), id="counter-heading")),
            dbc.CardBody(
                [
                    html.Div(id="counter-current"),
                    _buttons(),
                    html.Small(id="counter-skip-hint", className="text-body-secondary d-block"),
                    _finish_choice(),
                    html.Div(id="counter-feedback", className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def _cancel_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id="counter-cancel-title")),
            dbc.ModalBody(
                [
                    dbc.Label(t("counter_cancel_reason"), html_for="counter-cancel-reason"),
                    dbc.Input(id="counter-cancel-reason", maxLength=200),
                    html.Div(id="counter-cancel-error", className="mt-2"),  # a refused reason, beside its field
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(t("counter_cancel_back"), id="counter-cancel-dismiss", color="secondary", outline=True),
                    dbc.Button(t("counter_cancel_confirm"), id="counter-cancel-confirm", color="danger"),
                ]
            ),
        ],
        id="counter-cancel-modal",
        is_open=False,
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="counter-choice", storage_type="local"),
            dcc.Store(id="counter-version", data=0),
            dcc.Store(id="counter-current-ticket"),
            dcc.Store(id="counter-shown"),  # fingerprint of what the lines show: a refresh repeats nothing
            dcc.Store(id="counter-cancel-target"),
            dcc.Store(id="counter-late-pick"),
            dcc.Store(id="counter-cancel-pick"),
            dcc.Interval(id="counter-interval", interval=REFRESH_MS),
            _cancel_modal(),
            dbc.Row(
                [
                    dbc.Col([_current_card(), _setup_card(point_options(current_user.roles))], lg=5, xl=4),
                    dbc.Col(
                        [
                            dbc.Row(id="counter-counts", className="g-2 mb-3"),
                            dbc.Card(
                                [dbc.CardHeader(t("counter_waiting_title")), html.Div(id="counter-waiting")],
                                className="mb-3",
                            ),
                            dbc.Card([dbc.CardHeader(t("counter_late_title")), html.Div(id="counter-late")]),
                        ],
                        lg=7,
                        xl=8,
                    ),
                ]
            ),
        ]
    )
