"""Pieces of the facility sync page: how to configure sync when it is off, the peer table (queue, lag, last
message, error, verify), and the open conflicts' grid rows with their two values."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from components.bpjs_sync import age_text
from components.grid import GRID_COLOURS, grid_words
from components.local_time import local_when
from data.facility_sync_views import ConflictView, PeerView
from data.runtime import current_runtime
from domain.record_merge import Value
from i18n.web import current_language, t

FIELDS = ("name", "birth_date", "sex", "nik", "bpjs", "phone", "address", "incomplete", "_deleted")
KNOWN_ERRORS = frozenset({"clock_skew", "key", "auth", "link", "checksum"})
LAG_WARNING_SECONDS = 300  # a peer this far behind is shown in red: its link or its worker is down
GRID_ID = "fsync-conflicts"


def not_configured_alert() -> dbc.Alert:
    """Sync is off in this database: what to set and run to turn it on."""
    return dbc.Alert(
        [
            html.Strong(t("fsync_not_configured")),
            html.P(t("fsync_not_configured_help"), className="mb-1 mt-2"),
            html.Pre(
                "PANTAU_SITE_CODE=RS-01\nPANTAU_SYNC_PEERS=PKM-01\nPANTAU_SYNC_KEYS=PKM-01:k1:<base64 32 byte>\n"
                "python -m bridge.facility_sync run",
                className="mb-1 small",
            ),
            html.Small(t("fsync_not_configured_doc")),
        ],
        color="warning",
        id="fsync-not-configured",
    )


def updated_text(moment: datetime) -> str:
    """``Diperbarui 08.05.03`` in the site's zone: the peer table's refresh is visible."""
    local = moment.astimezone(ZoneInfo(current_runtime().settings.timezone))
    separator = "." if current_language() == "id" else ":"
    return t("fsync_updated", at=local.strftime(f"%H{separator}%M{separator}%S"))


def _when(moment: datetime | None, now: datetime) -> list:
    if moment is None:
        return ["—"]
    return [local_when(moment), html.Br(), html.Small(t("fsync_ago", age=age_text((now - moment).total_seconds())))]


def _error(peer: PeerView) -> list | str:
    if peer.last_error is None:
        return "—"
    help_key = f"fsync_error_{peer.last_error}" if peer.last_error in KNOWN_ERRORS else "fsync_error_other"
    return [
        dbc.Badge(peer.last_error, color="danger", className="me-1"),
        html.Small(t(help_key)),
        html.Br(),
        html.Small(local_when(peer.last_error_at), className="text-body-secondary"),
    ]


def _verify(peer: PeerView) -> list | str:
    if peer.verified_at is None:
        return t("fsync_never_verified")
    differences = peer.verify_differences or 0
    summary = t("fsync_verify_summary", records=peer.verify_records or 0, differences=differences)
    cell: list = [
        dbc.Badge(summary, color="danger" if differences else "success", className="me-1"),
        html.Br(),
        html.Small(local_when(peer.verified_at), className="text-body-secondary"),
    ]
    if peer.verify_detail:
        cell.append(
            html.Details(
                [
                    html.Summary(t("fsync_verify_detail", n=len(peer.verify_detail)), className="small"),
                    html.Ul([html.Li(html.Code(r)) for r in peer.verify_detail], className="small mb-0"),
                ]
            )
        )
    return cell


def peer_table(peers: list[PeerView], now: datetime) -> dbc.Table | dbc.Alert:
    """One row per active peer (``data-peer`` names it)."""
    if not peers:
        return dbc.Alert(t("fsync_no_peers"), color="secondary", id="fsync-peer-table")
    heads = ("peer", "pending", "lag", "last_message", "last_applied", "error", "verify")
    rows = []
    for p in peers:
        lag = None if p.oldest_pending_at is None else (now - p.oldest_pending_at).total_seconds()
        late = lag is not None and lag >= LAG_WARNING_SECONDS
        cells = [
            html.Td(html.Strong(p.peer)),
            html.Td(p.pending, className="fs-5 fw-semibold", **{"data-col": "pending"}),
            html.Td("—" if lag is None else age_text(lag), className="text-danger fw-semibold" if late else None),
            html.Td(_when(p.last_message_at, now)),
            html.Td(_when(p.last_applied_at, now)),
            html.Td(_error(p)),
            html.Td(_verify(p)),
        ]
        rows.append(html.Tr(cells, **{"data-peer": p.peer}))
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(t(f"fsync_col_{k}")) for k in heads])), html.Tbody(rows)],
        id="fsync-peer-table",
        hover=True,
        responsive=True,
        size="sm",
        className="align-middle",
    )


def value_text(value: Value) -> str:
    """A conflicting value as staff read it: ``Ya``/``Tidak`` for true/false, ``—`` for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("fsync_yes") if value else t("fsync_no")
    return str(value)


def field_text(field: str) -> str:
    return t(f"fsync_field_{field.lstrip('_')}") if field in FIELDS else field


def conflict_rows(conflicts: list[ConflictView]) -> list[dict]:
    """Grid rows; the record links to the patient's page here when a patient row holds it."""
    return [
        {
            "id": c.id,
            "record": f"[{c.mrn}](/pasien/{c.mrn})" if c.mrn else f"`{c.record_id[:8]}…`",
            "field": field_text(c.field),
            "won_value": value_text(c.won_value),
            "won_by": f"{c.won.site} · {local_when(c.won.at)}",
            "lost_value": value_text(c.lost_value),
            "lost_by": f"{c.lost.site} · {local_when(c.lost.at)}",
            "found_at": local_when(c.found_at),
        }
        for c in conflicts
    ]


def conflicts_grid() -> dag.AgGrid:
    """Open conflicts, one per row; rows ticked are marked reviewed by the button above."""
    widths = {"record": 130, "field": 130, "won_value": 190, "won_by": 310, "lost_value": 190, "lost_by": 310}
    columns = [
        {
            "field": key,
            "headerName": t(f"fsync_col_{key}"),
            "sortable": True,
            "resizable": True,
            **({"width": widths[key]} if key in widths else {"flex": 1, "minWidth": 180}),
            **({"cellRenderer": "markdown"} if key == "record" else {}),
        }
        for key in ("record", "field", "won_value", "won_by", "lost_value", "lost_by", "found_at")
    ]
    return dag.AgGrid(
        id=GRID_ID,
        columnDefs=columns,
        rowData=[],
        getRowId="params.data.id",
        dashGridOptions={
            "rowHeight": 34,
            "rowSelection": {"mode": "multiRow", "enableClickSelection": True},
            "pagination": True,
            "paginationPageSize": 50,
            "localeText": grid_words("fsync_no_conflicts"),
        },
        style={**GRID_COLOURS, "height": "420px"},
        className="fsync-grid",
    )
