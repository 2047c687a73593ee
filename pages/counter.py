"""Queue counter: the admission desk, a poli or the pharmacy calls, serves and sends on its patients."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.dialog import dialog
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


class Ids:
    """Component ids shared with callbacks/counter.py."""

    CHOICE = "counter-choice"
    VERSION = "counter-version"
    CURRENT_TICKET = "counter-current-ticket"
    SHOWN = "counter-shown"
    INTERVAL = "counter-interval"
    POINT = "counter-point"
    SESSION = "counter-session"
    NAME = "counter-name"
    NAME_FREE = "counter-name-free"  # the free-text name, shown when the point has no configured counters
    NAME_PICK = "counter-name-pick"  # the point's configured counters (/admin/loket)
    NAME_PICK_BOX = "counter-name-pick-box"
    OPEN = "counter-open"
    SETUP_FEEDBACK = "counter-setup-feedback"
    HEADING = "counter-heading"
    CURRENT = "counter-current"
    CALL_NEXT = "counter-call-next"
    RECALL = "counter-recall"
    SKIP = "counter-skip"
    START = "counter-start"
    FINISH = "counter-finish"
    CANCEL = "counter-cancel"
    SKIP_HINT = "counter-skip-hint"
    FINISH_OPTIONS = "counter-finish-options"
    FINISH_TO = "counter-finish-to"
    REFER = "counter-refer"
    FEEDBACK = "counter-feedback"
    WAITING = "counter-waiting"
    LATE = "counter-late"
    LEFT_OPEN = "counter-left-open"
    COUNTS = "counter-counts"
    LATE_PICK = "counter-late-pick"
    CANCEL_PICK = "counter-cancel-pick"
    CANCEL_TARGET = "counter-cancel-target"
    CANCEL_MODAL = "counter-cancel-modal"
    CANCEL_TITLE = "counter-cancel-title"
    CANCEL_REASON = "counter-cancel-reason"
    CANCEL_ERROR = "counter-cancel-error"
    CANCEL_DISMISS = "counter-cancel-dismiss"
    CANCEL_CONFIRM = "counter-cancel-confirm"
    FINISH_LATE_PICK = "counter-finish-late-pick"
    FINISH_LATE_TARGET = "counter-finish-late-target"
    FINISH_LATE_MODAL = "counter-finish-late-modal"
    FINISH_LATE_TITLE = "counter-finish-late-title"
    FINISH_LATE_AT = "counter-finish-late-at"
    FINISH_LATE_ERROR = "counter-finish-late-error"
    FINISH_LATE_DISMISS = "counter-finish-late-dismiss"
    FINISH_LATE_CONFIRM = "counter-finish-late-confirm"


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
                    dbc.Label(t("counter_point"), html_for=Ids.POINT),
                    dbc.Select(
                        id=Ids.POINT,
                        options=options,
                        placeholder=t("counter_point_placeholder"),
                        className="mb-2",
                    ),
                    dbc.Label(t("counter_session"), html_for=Ids.SESSION),
                    dbc.Select(id=Ids.SESSION, options=[], className="mb-2"),
                    html.Div(
                        [
                            dbc.Label(t("counter_name"), html_for=Ids.NAME_PICK),
                            dbc.Select(id=Ids.NAME_PICK, options=[], placeholder=t("counter_name_pick")),
                        ],
                        id=Ids.NAME_PICK_BOX,
                        hidden=True,
                        className="mb-3",
                    ),
                    html.Div(
                        [
                            dbc.Label(t("counter_name"), html_for=Ids.NAME),
                            dbc.Input(id=Ids.NAME, maxLength=40, className="mb-1"),
                            dbc.FormText(t("counter_name_hint"), className="d-block mb-3"),
                        ],
                        id=Ids.NAME_FREE,
                    ),
                    dbc.Button(t("counter_open"), id=Ids.OPEN, color="secondary"),
                    html.Div(id=Ids.SETUP_FEEDBACK, className="mt-2"),
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
                id=Ids.FINISH_TO,
                options=[{"label": t(key), "value": value} for value, key in choices],
                value=FINISH_DONE,
            ),
            dbc.Select(id=Ids.REFER, options=[], placeholder=t("counter_refer_placeholder"), className="mt-2"),
        ],
        id=Ids.FINISH_OPTIONS,
        hidden=True,
    )


def _buttons() -> html.Div:
    buttons = [
        (Ids.CALL_NEXT, "counter_call_next", "primary"),
        (Ids.RECALL, "counter_recall", "warning"),
        (Ids.SKIP, "counter_skip", "secondary"),
        (Ids.START, "counter_start", "success"),
        (Ids.FINISH, "counter_finish", "success"),
        (Ids.CANCEL, "counter_cancel", "danger"),
    ]
    return html.Div(
        [
            dbc.Button(t(key), id=bid, color=colour, outline=bid != Ids.CALL_NEXT, className="me-2 mb-2")
            for bid, key, colour in buttons
        ]
    )


def _current_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(html.Span(t("counter_pick_first"), id=Ids.HEADING)),
            dbc.CardBody(
                [
                    html.Div(id=Ids.CURRENT),
                    _buttons(),
                    html.Small(id=Ids.SKIP_HINT, className="text-body-secondary d-block counter-hint"),
                    _finish_choice(),
                    html.Div(id=Ids.FEEDBACK, className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def _question(modal: str, title: str, label: str, field: dbc.Input, error: str, buttons: tuple) -> dbc.Modal:
    """A dialog asking for one value before an action: its ``field``, a refusal beside it, back and go."""
    (back, back_id), (go, go_id, colour) = buttons
    return dialog(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=title)),
            dbc.ModalBody([dbc.Label(t(label), html_for=field.id), field, html.Div(id=error, className="mt-2")]),
            dbc.ModalFooter(
                [
                    dbc.Button(t(back), id=back_id, color="secondary", outline=True),
                    dbc.Button(t(go), id=go_id, color=colour),
                ]
            ),
        ],
        id=modal,
        is_open=False,
    )


def _cancel_modal() -> dbc.Modal:
    field = dbc.Input(id=Ids.CANCEL_REASON, maxLength=200)
    buttons = (("counter_cancel_back", Ids.CANCEL_DISMISS), ("counter_cancel_confirm", Ids.CANCEL_CONFIRM, "danger"))
    return _question(Ids.CANCEL_MODAL, Ids.CANCEL_TITLE, "counter_cancel_reason", field, Ids.CANCEL_ERROR, buttons)


def _finish_late_modal() -> dbc.Modal:
    """When an earlier day's unfinished service ended, as its record gives it (a clock time, site time)."""
    field = dbc.Input(id=Ids.FINISH_LATE_AT, type="time")
    buttons = (("counter_cancel_back", Ids.FINISH_LATE_DISMISS), ("counter_finish", Ids.FINISH_LATE_CONFIRM, "success"))
    labels = (Ids.FINISH_LATE_TITLE, "counter_finish_late_at")
    return _question(Ids.FINISH_LATE_MODAL, *labels, field, Ids.FINISH_LATE_ERROR, buttons)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.CHOICE, storage_type="local"),
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Store(id=Ids.CURRENT_TICKET),
            dcc.Store(id=Ids.SHOWN),  # fingerprint of what the lines show: a refresh repeats nothing
            dcc.Store(id=Ids.CANCEL_TARGET),
            dcc.Store(id=Ids.LATE_PICK),
            dcc.Store(id=Ids.CANCEL_PICK),
            dcc.Store(id=Ids.FINISH_LATE_PICK),
            dcc.Store(id=Ids.FINISH_LATE_TARGET),
            dcc.Interval(id=Ids.INTERVAL, interval=REFRESH_MS),
            _cancel_modal(),
            _finish_late_modal(),
            dbc.Row(
                [
                    dbc.Col([_current_card(), _setup_card(point_options(current_user.roles))], lg=5, xl=4),
                    dbc.Col(
                        [
                            dbc.Row(id=Ids.COUNTS, className="g-2 mb-3"),
                            dbc.Card(
                                [dbc.CardHeader(t("counter_waiting_title")), html.Div(id=Ids.WAITING)],
                                className="mb-3",
                            ),
                            dbc.Card([dbc.CardHeader(t("counter_late_title")), html.Div(id=Ids.LATE)]),
                            html.Div(id=Ids.LEFT_OPEN),
                        ],
                        lg=7,
                        xl=8,
                    ),
                ]
            ),
        ]
    )
