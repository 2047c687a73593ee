"""Pieces of the BPJS sync status page: the sandbox/production badge, the outbox figures, the failures table with
its retry buttons, and the task-id completeness table and chart."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from components.chart_theme import ChartTheme
from data.bpjs_status import BpjsTarget, SyncStatus
from domain.formats import local_datetime
from i18n.web import current_language, t

KINDS = {"antrean_add", "updatewaktu", "batal", "farmasi_add", "updatejadwaldokter"}
RETRY_ID = "bsync-retry"  # type of the retry buttons' pattern-matching ids ({"type": …, "id": …}), heard by callbacks


def target_badge(target: BpjsTarget) -> html.Div:
    """The switch shown large: SANDBOX (yellow) or PRODUKSI — host (red), with what it means."""
    if target.mode == "production":
        badge = dbc.Badge(t("bsync_production", host=target.host), color="danger", id="bsync-target")
        note = t("bsync_production_note")
    else:
        badge = dbc.Badge(t("bsync_sandbox"), color="warning", text_color="dark", id="bsync-target")
        note = t("bsync_sandbox_note", host=target.host) if target.host else t("bsync_sandbox_note_empty")
    badge.className = "fs-4 px-3 py-2"
    return html.Div([badge, html.Div(note, className="small text-body-secondary mt-1")], className="text-end")


def not_configured_alert(target: BpjsTarget) -> dbc.Alert | None:
    if target.configured:
        return None
    return dbc.Alert(
        [html.Strong(t("bsync_not_configured")), " ", t("bsync_not_configured_help")],
        color="warning",
        id="bsync-not-configured",
    )


def _decimal(value: float) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if current_language() == "id" else text


def seconds_text(value: float | None) -> str:
    """``0,4 detik`` / ``0.4 s``; ``—`` when nothing was measured."""
    return "—" if value is None else t("bsync_seconds", value=_decimal(value))


def age_text(seconds: float) -> str:
    """A waiting time in words: ``45 detik``, ``3 menit``, ``2 jam 5 menit``, ``3 hari``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return t("bsync_age_seconds", n=seconds)
    if seconds < 3600:
        return t("bsync_age_minutes", n=seconds // 60)
    if seconds < 48 * 3600:
        return t("bsync_age_hours", h=seconds // 3600, m=seconds % 3600 // 60)
    return t("bsync_age_days", n=seconds // 86400)


def booking_text(booking_code: str | None) -> str:
    """The booking code, or "jadwal dokter" for a schedule update (it has none)."""
    return booking_code or t("bsync_schedule_update")


def kind_text(kind: str, task: int | None) -> str:
    """``antrean/add``, ``updatewaktu task 4``, ``antrean/batal``, ``antrean/farmasi/add``,
    ``updatejadwaldokter``."""
    if kind not in KINDS:
        return kind
    return t(f"bsync_kind_{kind}", task=task if task is not None else "?")


def stall_alert(status: SyncStatus, now: datetime, timezone: str) -> dbc.Alert | None:
    if status.stalled_since is None:
        return None
    since = local_datetime(status.stalled_since, timezone, current_language())
    return dbc.Alert(
        t("bsync_stalled", since=since, age=age_text((now - status.stalled_since).total_seconds())),
        color="danger",
        id="bsync-stalled",
    )


def _card(label: str, value: object, element_id: str, note: str = "", colour: str | None = None) -> dbc.Col:
    body = [
        html.Div(label, className="small text-body-secondary"),
        html.Div(value, className="fs-3 fw-semibold" + (f" text-{colour}" if colour else ""), id=f"{element_id}-value"),
    ]
    if note:
        body.append(html.Div(note, className="small text-body-secondary"))
    return dbc.Col(dbc.Card(dbc.CardBody(body), id=element_id, className="h-100"), lg=2, md=4, sm=6)


def status_cards(status: SyncStatus, now: datetime, timezone: str) -> dbc.Row:
    counts, lang = status.counts, current_language()
    oldest = "—" if status.oldest_pending is None else age_text((now - status.oldest_pending).total_seconds())
    last = t("bsync_last_sent", at=local_datetime(status.last_sent_at, timezone, lang)) if status.last_sent_at else ""
    return dbc.Row(
        [
            _card(t("bsync_pending"), counts["pending"], "bsync-card-pending"),
            _card(t("bsync_sent"), counts["sent"], "bsync-card-sent", last),
            _card(
                t("bsync_failed"), counts["failed"], "bsync-card-failed", colour="danger" if counts["failed"] else None
            ),
            _card(t("bsync_oldest"), oldest, "bsync-card-oldest"),
            _card(t("bsync_last_hour"), status.sent_last_hour, "bsync-card-hour"),
            _card(
                t("bsync_ack"),
                f"{seconds_text(status.ack_p50_seconds)} / {seconds_text(status.ack_p95_seconds)}",
                "bsync-card-ack",
                t("bsync_ack_note", n=status.acked_today),
            ),
        ],
        className="g-3 mb-3",
    )


def failures_table(failures: list[dict], timezone: str, can_retry: bool) -> dbc.Table | dbc.Alert:
    """Refused calls with BPJS's own message; admins and managers get a retry button per row."""
    if not failures:
        return dbc.Alert(t("bsync_no_failures"), color="success", id="bsync-failures-table")
    lang = current_language()
    heads = ["bsync_col_time", "bsync_col_booking", "bsync_col_kind", "bsync_col_poli", "bsync_col_attempts"]
    heads += ["bsync_col_message"] + (["bsync_col_action"] if can_retry else [])
    rows = []
    for f in failures:
        cells = [
            html.Td(local_datetime(f["created_at"], timezone, lang), className="text-nowrap"),
            html.Td(html.Code(f["booking_code"]) if f["booking_code"] else booking_text(None)),
            html.Td(kind_text(f["kind"], f["task"]), className="text-nowrap"),
            html.Td(f["poli"]),
            html.Td(f["attempts"]),
            html.Td([dbc.Badge(f["code"], color="danger", className="me-2") if f["code"] else None, f["message"]]),
        ]
        if can_retry:
            button = dbc.Button(
                t("bsync_retry"), id={"type": RETRY_ID, "id": f["id"]}, size="sm", color="primary", outline=True
            )
            cells.append(html.Td(button))
        rows.append(html.Tr(cells, **{"data-id": str(f["id"])}))
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(t(k)) for k in heads])), html.Tbody(rows)],
        id="bsync-failures-table",
        hover=True,
        responsive=True,
        size="sm",
        className="align-middle",
    )


def _share_badge(share: float | None) -> dbc.Badge:
    if share is None:
        return dbc.Badge("—", color="secondary")
    colour = "success" if share >= 1 else "warning" if share >= 0.9 else "danger"
    return dbc.Badge(f"{share * 100:.0f} %", color=colour, text_color="dark" if colour == "warning" else None)


def completeness_table(rows: list[dict]) -> dbc.Table | dbc.Alert:
    """Per poli: JKN visits, finished ones, complete and ordered ones, and the share, with a total row."""
    if not rows:
        return dbc.Alert(t("bsync_no_jkn_visits"), color="secondary", id="bsync-completeness-table")
    visits, finished, complete = (sum(r[k] for r in rows) for k in ("visits", "finished", "complete"))
    total = {"poli": t("bsync_all_polis"), "visits": visits, "finished": finished, "complete": complete}
    total["share"] = complete / finished if finished else None
    heads = ("bsync_col_poli", "bsync_col_visits", "bsync_col_finished", "bsync_col_complete", "bsync_col_share")
    cells = ("poli", "visits", "finished", "complete")
    body = [
        html.Tr(
            [*(html.Td(r[k]) for k in cells), html.Td(_share_badge(r["share"]))],
            className="fw-semibold" if r is total else None,
        )
        for r in [*rows, total]
    ]
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(t(k)) for k in heads])), html.Tbody(body)],
        id="bsync-completeness-table",
        hover=True,
        responsive=True,
        size="sm",
        className="align-middle",
    )


def completeness_figure(rows: list[dict], theme: ChartTheme) -> go.Figure:
    """The share per poli as bars against the 100 % target line; polis with nothing finished are left empty."""
    shares = [None if r["share"] is None else r["share"] * 100 for r in rows]
    fig = go.Figure(
        go.Bar(
            x=[r["poli"] for r in rows],
            y=shares,
            marker_color=[theme.good if s is not None and s >= 100 else theme.danger for s in shares],
            text=[f"{s:.0f} %" if s is not None else "" for s in shares],
            textposition="auto",
            name=t("bsync_col_share"),
        )
    )
    fig.add_hline(y=100, line_dash="dash", line_color=theme.warning, annotation_text=t("bsync_target"))
    fig.update_layout(
        template=theme.template,
        height=300,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        yaxis={"title": t("bsync_axis_percent"), "range": [0, 110]},
        showlegend=False,
    )
    return fig
