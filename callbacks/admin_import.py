"""Bulk import: the upload is dry-run at once (nothing saved); apply is offered only for a file whose dry run
found no error, and saves every row or none."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from components.live_note import with_live_note
from components.upload_report import row_errors_table, uploaded_bytes
from data import setup_wards
from data.runtime import current_runtime
from data.setup_import import KINDS, ImportRefused, ImportReport, apply_file, check_file, template
from domain.errors import InputError
from i18n.web import t
from pages.admin_import import Ids

PAGE = "pages.admin_import"


def _notes(kind: str) -> dict[str, str]:
    return {c: t(f"import_col_{kind}_{c}") for c in KINDS[kind].columns}


@page_callback(PAGE, Output(Ids.COLUMNS, "children"), Input(Ids.KIND, "value"))
def show_columns(kind: str | None) -> object:
    """The chosen kind's columns and what each holds."""
    if kind not in KINDS:
        return None
    head = html.Thead(html.Tr([html.Th(t("import_columns")), html.Th(t("import_column_meaning"))]))
    body = html.Tbody([html.Tr([html.Td(html.Code(c)), html.Td(n)]) for c, n in _notes(kind).items()])
    return dbc.Table([head, body], size="sm", className="mb-0", id="import-columns-table")


@page_callback(
    PAGE,
    Output(Ids.DOWNLOAD, "data"),
    Input(Ids.TEMPLATE_CSV, "n_clicks"),
    Input(Ids.TEMPLATE_XLSX, "n_clicks"),
    State(Ids.KIND, "value"),
    prevent_initial_call=True,
)
def download_template(_csv: int, _xlsx: int, kind: str | None) -> object:
    if kind not in KINDS:
        return no_update
    fmt = "csv" if ctx.triggered_id == Ids.TEMPLATE_CSV else "xlsx"
    notes = _notes(kind) | {"_title": t("import_readme_title")}
    return dcc.send_bytes(template(kind, fmt, notes), f"templat-{kind}.{fmt}")


def _report(report: ImportReport, name: str) -> html.Div:
    if report.ok:
        return dbc.Alert(t("import_checked_ok", name=name, n=report.rows), color="success", className="mb-0")
    alert = dbc.Alert(t("import_checked_errors", name=name, n=len(report.errors)), color="danger", className="mb-2")
    return html.Div([alert, row_errors_table(report.errors, table_id="import-errors", row_class="import-error")])


@page_callback(
    PAGE,
    Output(Ids.REPORT, "children"),
    Output(Ids.CHECKED, "data"),
    Output(Ids.APPLY, "disabled"),
    Output(Ids.RESULT, "children"),
    Input(Ids.UPLOAD, "contents"),
    Input(Ids.KIND, "value"),
    State(Ids.UPLOAD, "filename"),
    prevent_initial_call=True,
)
def dry_run(contents: str | None, kind: str | None, filename: str | None) -> tuple:
    """Every row through the real services, everything rolled back; apply only when nothing was wrong."""
    if not contents:
        return None, None, True, None
    name = filename or "-"
    try:
        raw = uploaded_bytes(contents)
        with current_runtime().db.session(write_lock=True) as db:
            report = check_file(db, current_actor(), kind or "", raw)
    except InputError as exc:
        return input_error_alert(exc), None, True, None
    checked = {"kind": report.kind, "sha256": report.sha256, "name": name} if report.ok else None
    return _report(report, name), checked, not report.ok, None


@page_callback(
    PAGE,
    Output(Ids.RESULT, "children", allow_duplicate=True),
    Output(Ids.REPORT, "children", allow_duplicate=True),
    Output(Ids.CHECKED, "data", allow_duplicate=True),
    Output(Ids.APPLY, "disabled", allow_duplicate=True),
    Input(Ids.APPLY, "n_clicks"),
    State(Ids.UPLOAD, "contents"),
    State(Ids.CHECKED, "data"),
    prevent_initial_call=True,
)
def apply(_clicks: int, contents: str | None, checked: dict | None) -> tuple:
    """Save every row of the checked file in one transaction, or none."""
    if not isinstance(checked, dict) or not contents:
        return input_error_alert(InputError("import_err_not_checked")), no_update, None, True
    kind = str(checked.get("kind"))
    try:
        raw = uploaded_bytes(contents)
        with current_runtime().db.session(write_lock=True) as db:
            report = apply_file(db, current_actor(), kind, raw, str(checked.get("sha256")))
    except ImportRefused as exc:
        return input_error_alert(exc), _report(exc.report, str(checked.get("name"))), None, True
    except InputError as exc:
        return input_error_alert(exc), no_update, None, True
    told = setup_wards.publish_wards_changed(current_runtime().live) if kind in ("wards", "beds") else True
    done = t("import_applied", n=report.rows, kind=t(f"import_kind_{kind}").lower())
    return (
        with_live_note(dbc.Alert(done, color="success", className="mb-0", id="import-applied"), told),
        None,
        None,
        True,
    )
