"""Layout pieces of a queue counter: the patient at the counter, the waiting and late lines, the day's counts.
Staff screens only: full names are shown here, never on a public board."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import html

from data.queue_views import CounterView, LineEntry
from data.schedules import SessionInfo
from domain.formats import clock, clock_range
from i18n.web import current_language, t

# Types of the row buttons' pattern-matching ids ({"type": …, "ticket": …, "label": …}), heard by callbacks/counter.py.
CALL_LATE_ID = "counter-call-late"
CANCEL_ROW_ID = "counter-cancel-row"
FINISH_LATE_ROW_ID = "counter-finish-late-row"
STATUS_COLOURS = {
    "booked": "secondary",
    "waiting": "primary",
    "called": "warning",
    "serving": "success",
    "skipped": "danger",
    "done": "secondary",
    "cancelled": "dark",
}


def clock_time(moment: datetime | None, timezone: str) -> str:
    """``08.05`` (``08:05`` in English) in the site's zone; a dash when unknown."""
    if moment is None:
        return "—"
    return clock(moment.astimezone(ZoneInfo(timezone)), current_language())


def session_hours(info: SessionInfo) -> str:
    """A doctor session's practice hours, ``08.00–14.00`` (``08:00–14:00`` in English)."""
    return clock_range(info.start_time, info.end_time, current_language())


def payer_label(payer: str) -> str:
    return t(f"counter_payer_{payer}") if payer else "—"


def status_badge(entry: LineEntry) -> dbc.Badge:
    text = t(f"counter_state_{entry.status}")
    if entry.status in ("called", "serving") and entry.counter:
        text = t("counter_state_at", state=text, counter=entry.counter)
    return dbc.Badge(text, color=STATUS_COLOURS.get(entry.status, "secondary"), className="counter-status")


def _earlier(entry: LineEntry) -> dbc.Badge | None:
    """For a ticket carried over from the day before (the night's line), which day it is of: two tickets may then
    share a number."""
    if entry.earlier is None:
        return None
    day = t("counter_from_day", day=f"{entry.earlier:%d/%m}")
    return dbc.Badge(day, color="warning", text_color="dark", className="ms-2 counter-earlier")


def _number(entry: LineEntry) -> list:
    return [entry.label, _earlier(entry)]


def _row_id(table: str, entry: LineEntry) -> str:
    return f"counter-{table}-{entry.label}" + (f"-{entry.earlier:%Y%m%d}" if entry.earlier else "")


def current_panel(entry: LineEntry | None) -> html.Div:
    """The number at this counter, large, with who it is."""
    if entry is None:
        return html.Div(t("counter_none_current"), className="text-body-secondary py-4", id="counter-current-empty")
    return html.Div(
        [
            html.Div(entry.label, className="display-1 fw-bold font-monospace lh-1", id="counter-current-label"),
            html.Div(entry.name or "—", className="fs-4 fw-semibold mt-2", id="counter-current-name"),
            html.Div(
                [
                    dbc.Badge(payer_label(entry.payer), color="info", text_color="dark", className="me-2"),
                    status_badge(entry),
                    _earlier(entry),
                    html.Span(
                        t("counter_calls", calls=entry.call_count),
                        className="ms-2 text-body-secondary",
                        id="counter-current-calls",
                    ),
                ],
                className="mt-2",
            ),
        ],
        className="py-2",
    )


def _action(kind: str, entry: LineEntry, label_key: str, colour: str) -> dbc.Button:
    return dbc.Button(
        t(label_key),
        id={"type": kind, "ticket": entry.ticket_id, "label": entry.label},
        size="sm",
        color=colour,
        outline=True,
        className="ms-1",
    )


def _table(head: list[str], rows: list[html.Tr], table_id: str, empty_key: str) -> html.Div:
    if not rows:
        return html.Div(t(empty_key), className="text-body-secondary p-3", id=table_id)
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        hover=True,
        size="sm",
        responsive=True,
        className="mb-0 align-middle",
        id=table_id,
    )


def _who(entry: LineEntry) -> list[html.Td]:
    """A line row's first cells: the number (with its day when not today's), the name, the payer and the state."""
    return [
        html.Td(_number(entry), className="font-monospace fw-semibold"),
        html.Td(entry.name or "—"),
        html.Td(payer_label(entry.payer)),
        html.Td(status_badge(entry)),
    ]


def waiting_table(entries: list[LineEntry], timezone: str, doctors: dict[int, str] | None = None) -> html.Div:
    """Everyone still to be served, by number, with their estimated call time (and doctor, when the counter
    serves several: each doctor's line has its own estimates)."""
    keys = ["counter_col_number", "counter_col_name", "counter_col_payer", "counter_col_status"]
    keys += ["counter_col_doctor"] if doctors else []
    head = [t(k) for k in (*keys, "counter_col_estimate", "counter_col_action")]
    rows = [
        html.Tr(
            [
                *_who(e),
                *([html.Td(doctors.get(e.session_id, "—"))] if doctors else []),
                html.Td(clock_time(e.estimate, timezone), className="font-monospace"),
                html.Td(_action(CANCEL_ROW_ID, e, "counter_cancel_short", "danger") if e.status == "waiting" else ""),
            ],
            id=_row_id("waiting", e),
        )
        for e in entries
    ]
    return _table(head, rows, "counter-waiting-table", "counter_waiting_empty")


def late_table(entries: list[LineEntry]) -> html.Div:
    """Patients skipped after enough calls; they can be called again when they turn up."""
    head = [t(k) for k in ("counter_col_number", "counter_col_name", "counter_col_calls", "counter_col_action")]
    rows = [
        html.Tr(
            [
                html.Td(_number(e), className="font-monospace fw-semibold"),
                html.Td(e.name or "—"),
                html.Td(str(e.call_count)),
                html.Td(
                    [
                        _action(CALL_LATE_ID, e, "counter_call_late", "primary"),
                        _action(CANCEL_ROW_ID, e, "counter_cancel_short", "danger"),
                    ]
                ),
            ],
            id=_row_id("late", e),
        )
        for e in entries
    ]
    return _table(head, rows, "counter-late-table", "counter_late_empty")


def left_open_card(entries: list[LineEntry]) -> dbc.Card | None:
    """Earlier days' numbers nobody closed: a patient never served, to be cancelled as a no-show (which tells BPJS),
    or a service never finished, to be finished at the time its record gives; nothing when there are none."""
    if not entries:
        return None
    keys = ("counter_col_number", "counter_col_name", "counter_col_payer", "counter_col_status", "counter_col_action")
    rows = [
        html.Tr(
            [
                *_who(e),
                html.Td(
                    _action(FINISH_LATE_ROW_ID, e, "counter_finish_late_short", "success")
                    if e.status == "serving"
                    else _action(CANCEL_ROW_ID, e, "counter_cancel_short", "danger")
                ),
            ],
            id=_row_id("left-open", e),
        )
        for e in entries
    ]
    return dbc.Card(
        [
            dbc.CardHeader(t("counter_left_open_title", count=len(entries))),
            dbc.CardBody(html.Small(t("counter_left_open_hint"), className="text-body-secondary"), className="py-2"),
            _table([t(k) for k in keys], rows, "counter-left-open-table", "counter_late_empty"),
        ],
        className="mt-3 border-warning",
        id="counter-left-open-card",
    )


def counts(view: CounterView) -> list[dbc.Col]:
    """Small figures: waiting, late, booked but not arrived, done today."""
    figures = (
        ("waiting", sum(e.status == "waiting" for e in view.waiting)),
        ("late", len(view.late)),
        ("booked", view.booked),
        ("done", view.done),
    )
    return [
        dbc.Col(
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(str(value), className="fs-2 fw-bold font-monospace", id=f"counter-count-{key}"),
                        html.Small(t(f"counter_count_{key}"), className="text-body-secondary"),
                    ],
                    className="py-2",
                )
            ),
            xs=6,
            md=3,
        )
        for key, value in figures
    ]
