"""Facility sync page: refresh the peer table every few seconds (the timer is not user activity), load the open
conflicts (on opening, on "Muat ulang" and after marking; each load audited as a read), mark ticked ones
reviewed (audited; one another admin marked first is reported, not marked again)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, no_update

from auth.session import current_actor
from callbacks.registry import page_callback
from components.facility_sync import conflict_rows, peer_table, updated_text
from data.facility_sync_views import CONFLICT_LIMIT, mark_reviewed, open_conflicts, peer_views, sync_site
from data.runtime import current_runtime
from domain.clock import utcnow
from i18n.web import t
from pages.admin_facility_sync import Ids

PAGE = "pages.admin_facility_sync"


@page_callback(
    PAGE,
    Output(Ids.PEERS, "children"),
    Output(Ids.UPDATED, "children"),
    Input(Ids.INTERVAL, "n_intervals"),
)
def refresh(_ticks: int | None) -> tuple:
    now = utcnow()
    with current_runtime().db.session() as session:
        peers = peer_views(session) if sync_site(session) else []
    return peer_table(peers, now), updated_text(now)


@page_callback(
    PAGE,
    Output(Ids.GRID, "rowData"),
    Output(Ids.COUNT, "children"),
    Input(Ids.VERSION, "data"),
    Input(Ids.RELOAD, "n_clicks"),
)
def load_conflicts(_version: int, _reload: int | None) -> tuple:
    runtime = current_runtime()
    with runtime.db.session() as session:
        conflicts = open_conflicts(session, runtime.cipher, current_actor()) if sync_site(session) else []
    count = len(conflicts)
    badge = dbc.Badge(
        f"{count}+" if count >= CONFLICT_LIMIT else count, color="warning" if count else "success", text_color="dark"
    )
    return conflict_rows(conflicts), badge


def _alert(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="py-2", id="fsync-feedback-message", dismissable=True)


@page_callback(
    PAGE,
    Output(Ids.FEEDBACK, "children"),
    Output(Ids.VERSION, "data"),
    Input(Ids.REVIEW, "n_clicks"),
    State(Ids.GRID, "selectedRows"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def review(clicks: int | None, selected: list[dict] | None, version: int) -> tuple:
    """Mark the ticked conflicts reviewed; the grid reloads (another admin's marks disappear too)."""
    if not clicks:
        return no_update, no_update
    ids = [int(row["id"]) for row in selected or [] if isinstance(row, dict) and "id" in row]
    if not ids:
        return _alert(t("fsync_pick_first"), "secondary"), no_update
    with current_runtime().db.session() as session:
        done = mark_reviewed(session, current_actor(), ids, utcnow())
    parts = []
    if done.marked:
        parts.append(t("fsync_marked", n=len(done.marked)))
    if done.already:
        parts.append(t("fsync_already", n=len(done.already)))
    colour = "warning" if done.already else "success"
    return _alert(" ".join(parts), colour), (version or 0) + 1
