"""The audit viewer: the filter written into the address and resolved once (an RM to its patient), a new grid per
filter paged and sorted on the server, Back and Forward followed, and the CSV export (a fresh password or code
check first, capped at ``EXPORT_CAP`` rows, itself audited as ``audit_exported`` with its filter).

Every callback belongs to ``pages.admin_audit`` (callbacks.registry), so the request guard refuses it to anyone
but an admin; the export checks the role again before it reads anything."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask_login import current_user

from auth.reauth import confirm_needed
from auth.session import current_actor
from callbacks.registry import clientside_callback, page_callback
from components.audit_view import (
    BLOCK,
    EXPORT_CAP,
    GRID_ID,
    QUERY,
    AuditView,
    export_csv,
    filter_detail,
    make_view,
    name_order,
    parse_query,
    row_cells,
    to_filter,
    view_query,
)
from components.finance_format import cell_text
from data import audit_query
from data.audit import record_by
from data.runtime import current_runtime
from data.schedules import local_today, site_zone
from domain.roles import may_open
from i18n.web import current_language, t
from pages.admin_audit import ROLES, Ids

OWNER = "pages.admin_audit"
FILTER_VALUES = (
    (Ids.USERNAME, "value"),
    (Ids.MRN, "value"),
    (Ids.ACTION, "value"),
    (Ids.TARGET_TYPE, "value"),
    (Ids.TARGET_ID, "value"),
    (Ids.RANGE, "start_date"),
    (Ids.RANGE, "end_date"),
)


def _controls(view: AuditView) -> tuple:
    """The controls' values that show ``view`` (in FILTER_VALUES' order)."""
    return (
        view.username or "",
        view.mrn or "",
        view.action,
        view.target_type,
        view.target_id or "",
        view.start,
        view.end,
    )


def _stored_filter(store: dict | None) -> audit_query.AuditFilter | None:
    """The filter the grid pages through, rebuilt from the page's store for this user's site."""
    if not store:
        return None
    view = _stored_view(store)
    patient_id = store.get("patient_id")
    if view.mrn and not isinstance(patient_id, int):  # an RM no patient has: no rows
        return None
    with current_runtime().db.session() as session:
        zone = site_zone(session, current_user.site_id)
    return to_filter(view, current_user.site_id, zone, patient_id if isinstance(patient_id, int) else None)


def _stored_view(store: dict | None) -> AuditView:
    """The view last applied (kept in the page's store), only its known fields."""
    return make_view(**{k: v for k, v in ((store or {}).get("view") or {}).items() if k in QUERY})


def _count(value: int) -> str:
    return cell_text(value, "count", current_language())


def _address_view(search: str | None) -> AuditView:
    """The view an address (``?pengguna=...&rm=...``) says."""
    return parse_query(dict(parse_qsl((search or "").lstrip("?"))))


@page_callback(
    OWNER,
    Output(Ids.URL, "search"),
    Output(Ids.STORE, "data"),
    Output(Ids.COUNT, "children"),
    Output(Ids.MESSAGE, "children"),
    *(Output(i, p) for i, p in FILTER_VALUES),
    *(Input(i, p) for i, p in FILTER_VALUES),
    Input(Ids.URL, "search"),
    Input(Ids.CLEAR, "n_clicks"),
    State(Ids.STORE, "data"),
)
def apply_filter(*values: Any) -> tuple:
    """The one owner of the filter, so no two callbacks race over it. A control changed: apply what the controls
    say and keep it in the address. Back or Forward changed the address: set the controls to what it says and apply
    it. "Hapus filter": every row again. An RM no patient has shows a message and no rows (what was typed stays).
    An address or control this callback writes does not call it again (Dash does not re-run a callback for its own
    outputs)."""
    *controls, search, _clicks, store = values
    trigger = ctx.triggered_id
    keep = (no_update,) * len(FILTER_VALUES)
    if trigger == Ids.URL:
        view = _address_view(search)
        if store and view == _stored_view(store):
            raise PreventUpdate  # the address this callback wrote, or nothing new
        return (no_update, *_applied(view), *_controls(view))
    if trigger == Ids.CLEAR:
        view = AuditView()
        return (_address(view, search), *_applied(view), *_controls(view))
    view = make_view(*controls)
    return (_address(view, search), *_applied(view), *keep)


def _address(view: AuditView, search: str | None) -> str:
    """The address for ``view``; an address that already says it is left alone (rewriting it would add a Back
    step that comes here)."""
    return no_update if _address_view(search) == view else view_query(view)


def _applied(view: AuditView) -> tuple:
    """The store, count and message that show ``view``: the RM resolved, the rows counted."""
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        patient_id = audit_query.patient_id_by_mrn(session, site_id, view.mrn) if view.mrn else None
        if view.mrn and patient_id is None:
            message = dbc.Alert(
                t("audit_unknown_mrn", mrn=view.mrn), color="warning", id="audit-error", className="py-2"
            )
            return {"view": filter_detail(view), "patient_id": None}, "", message
        flt = to_filter(view, site_id, site_zone(session, site_id), patient_id)
        count = audit_query.count(session, flt)
    store = {"view": filter_detail(view), "patient_id": patient_id}
    return store, t("audit_count", count=_count(count)), None


# A new filter empties the grid's row cache, so the grid asks again for the rows in view (with the new store). The
# grid stays: replacing it per filter let a rows answer for a removed grid arrive and wedge the page's callbacks.
REFRESH_GRID = f"""async function () {{
    const api = await window.dash_ag_grid.getApiAsync("{GRID_ID}");
    if (api.getDisplayedRowCount() > 0) {{ api.ensureIndexVisible(0); }}
    api.purgeInfiniteCache();
    return window.dash_clientside.no_update;
}}"""
clientside_callback(REFRESH_GRID, Output(GRID_ID, "scrollTo"), Input(Ids.STORE, "data"), prevent_initial_call=True)


@page_callback(
    OWNER,
    Output(GRID_ID, "getRowsResponse"),
    Input(GRID_ID, "getRowsRequest"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
def grid_rows(request: dict | None, store: dict | None) -> dict:
    """One block of rows, sorted on the server by the grid's sort column (newest first when none); none before a
    filter is applied or for an RM no patient has."""
    if not request:
        raise PreventUpdate
    flt = _stored_filter(store)
    if flt is None:
        return {"rowData": [], "rowCount": 0}
    start = max(int(request.get("startRow") or 0), 0)
    limit = max(min(int(request.get("endRow") or start + BLOCK) - start, 1000), 1)
    sort = (request.get("sortModel") or [None])[0]
    with current_runtime().db.session() as session:
        zone = site_zone(session, current_user.site_id)
        found = audit_query.page(
            session,
            flt,
            offset=start,
            limit=limit,
            sort=sort["colId"] if sort else None,
            descending=not sort or sort.get("sort") == "desc",
            name_order=name_order(),
        )
    return {"rowData": [row_cells(row, zone) for row in found.rows], "rowCount": found.count}


@page_callback(
    OWNER,
    Output(Ids.DOWNLOAD, "data"),
    Output(Ids.EXPORT_STATUS, "children"),
    Input(Ids.EXPORT, "n_clicks"),
    State(Ids.STORE, "data"),
    prevent_initial_call=True,
)
def export(clicks: int | None, store: dict | None) -> tuple:
    """The filtered rows as CSV (newest first, at most EXPORT_CAP), after a recent password or code check."""
    if not clicks or not may_open(current_user.roles, ROLES):
        raise PreventUpdate
    flt = _stored_filter(store)
    if flt is None:
        return no_update, _status(t("audit_export_nothing"), "warning")
    if confirm_needed():
        return no_update, _status(t("thr_confirm_first"), "warning")
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        zone = site_zone(session, site_id)
        found = audit_query.export_rows(session, flt, EXPORT_CAP)
        content = export_csv(found.rows, zone)
        capped = found.count > len(found.rows)
        record_by(
            session,
            current_actor(),
            "audit_exported",
            detail={"filter": store["view"], "rows": len(found.rows), "matched": found.count, "capped": capped},
        )
        today = local_today(session, site_id)
    rows, matched = _count(len(found.rows)), _count(found.count)
    if capped:
        note = _status(t("audit_export_capped", rows=rows, matched=matched), "info")
    else:
        note = _status(t("audit_export_done", rows=rows), "success")
    name = f"jejak-audit-{today.isoformat()}.csv"
    return dcc.send_string(content, name, type="text/csv"), note


def _status(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(html.Span(text), color=colour, id="audit-export-note", className="py-2", dismissable=True)
