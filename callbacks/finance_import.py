"""SIMRS bill import: the upload's header is read and a column mapping guessed; "Periksa" dry-runs the file with
the chosen mapping (nothing saved); apply is offered only for a file, mapping and system name whose dry run found
no error, and writes every line or none."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, html, no_update

from auth.session import current_actor
from callbacks.registry import page_callback
from components.input_error import input_error_alert
from components.upload_report import row_errors_table, uploaded_bytes
from data.bill_import import (
    FIELDS,
    BillCheck,
    BillImportRefused,
    apply_bills,
    check_bills,
    guess_mapping,
    header_of,
    read_cells,
)
from data.runtime import current_runtime
from domain.errors import InputError
from i18n.web import t
from pages.finance_import import Ids

PAGE = "pages.finance_import"
NOT_USED = " "  # the "not used" choice: no column is named so (header names are trimmed, never blank)
ERRORS_SHOWN = 500  # a whole file of bad lines would make a page no browser can draw; the count says the rest


def _mapping_table(header: list[str], guess: dict[str, str | None]) -> html.Div:
    options = [{"label": t("bimp_not_used"), "value": NOT_USED}] + [{"label": h, "value": h} for h in header]
    rows = [
        html.Label(
            [
                html.Span(t(f"bimp_field_{name}"), className="bimp-field-name"),
                dbc.Select(
                    id={"type": Ids.MAP_TYPE, "field": name},
                    options=options,
                    value=guess.get(name) or NOT_USED,
                    size="sm",
                    style={"maxWidth": "22rem"},
                ),
            ],
            className="d-grid gap-2 align-items-center mb-1",
            style={"gridTemplateColumns": "minmax(12rem, 20rem) 1fr"},
        )
        for name in FIELDS
    ]
    return html.Div(
        [
            html.H2(t("bimp_mapping"), className="h6"),
            dbc.FormText(t("bimp_mapping_hint"), className="d-block mb-2"),
            *rows,
        ]
    )


@page_callback(
    PAGE,
    Output(Ids.FILE, "children"),
    Output(Ids.MAPPING, "children"),
    Output(Ids.CHECK, "disabled"),
    Output(Ids.REPORT, "children"),
    Output(Ids.CHECKED, "data"),
    Output(Ids.APPLY, "disabled"),
    Output(Ids.RESULT, "children"),
    Input(Ids.UPLOAD, "contents"),
    State(Ids.UPLOAD, "filename"),
    State({"type": Ids.MAP_TYPE, "field": ALL}, "value"),
    State({"type": Ids.MAP_TYPE, "field": ALL}, "id"),
    prevent_initial_call=True,
)
def read_upload(contents: str | None, filename: str | None, values: list, ids: list) -> tuple:
    """The file's columns and a mapping: the user's earlier choices where the new file has those columns (a
    corrected file keeps its mapping), a guess from the column names elsewhere. Nothing is checked yet."""
    if not contents:
        return None, None, True, None, None, True, None
    try:
        header = header_of(read_cells(uploaded_bytes(contents)))
    except InputError as exc:
        return None, None, True, input_error_alert(exc), None, True, None
    name = t("bimp_file", name=filename or "-", n=len(header))
    earlier = {f: c for f, c in _mapping(values, ids).items() if c in header}
    return (
        html.P(name, className="mb-0 fw-semibold"),
        _mapping_table(header, guess_mapping(header, keep=earlier)),
        False,
        None,
        None,
        True,
        None,
    )


def _report(report: BillCheck, name: str) -> html.Div:
    if report.ok:
        text = t("bimp_checked_ok", name=name, rows=report.rows, new=report.new, already=report.already)
        return dbc.Alert(text, color="success", className="mb-0", id="bimp-checked-ok")
    text = t("bimp_checked_errors", name=name, n=len(report.errors), rows=report.rows)
    parts = [
        dbc.Alert(text, color="danger", className="mb-2"),
        row_errors_table(report.errors[:ERRORS_SHOWN], table_id="bimp-errors", row_class="bimp-error"),
    ]
    if len(report.errors) > ERRORS_SHOWN:
        parts.append(dbc.FormText(t("bimp_errors_shown", shown=ERRORS_SHOWN, n=len(report.errors))))
    return html.Div(parts)


def _mapping(values: list[str | None], ids: list[dict]) -> dict[str, str | None]:
    return {i["field"]: ((v or "").strip() or None) for v, i in zip(values, ids, strict=True)}


@page_callback(
    PAGE,
    Output(Ids.REPORT, "children", allow_duplicate=True),
    Output(Ids.CHECKED, "data", allow_duplicate=True),
    Output(Ids.APPLY, "disabled", allow_duplicate=True),
    Output(Ids.RESULT, "children", allow_duplicate=True),
    Input(Ids.CHECK, "n_clicks"),
    State(Ids.UPLOAD, "contents"),
    State(Ids.UPLOAD, "filename"),
    State(Ids.SYSTEM, "value"),
    State({"type": Ids.MAP_TYPE, "field": ALL}, "value"),
    State({"type": Ids.MAP_TYPE, "field": ALL}, "id"),
    prevent_initial_call=True,
)
def dry_run(_clicks: int, contents: str | None, filename: str | None, system: str | None, values, ids) -> tuple:
    """Every line read and checked with the chosen mapping; nothing saved. Apply only when nothing was wrong."""
    name, mapping, system = filename or "-", _mapping(values, ids), (system or "").strip()
    try:
        raw = uploaded_bytes(contents)
        with current_runtime().db.session(write_lock=True) as db:
            report = check_bills(db, current_actor(), raw, mapping, system)
    except InputError as exc:
        return input_error_alert(exc), None, True, None
    checked = {"sha256": report.sha256, "mapping": mapping, "system": system, "name": name} if report.ok else None
    return _report(report, name), checked, not report.ok, None


@page_callback(
    PAGE,
    Output(Ids.CHECKED, "data", allow_duplicate=True),
    Output(Ids.APPLY, "disabled", allow_duplicate=True),
    Output(Ids.RESULT, "children", allow_duplicate=True),
    Input(Ids.SYSTEM, "value"),
    Input({"type": Ids.MAP_TYPE, "field": ALL}, "value"),
    State(Ids.CHECKED, "data"),
    prevent_initial_call=True,
)
def mapping_changed(_system: str | None, _values: list, checked: dict | None) -> tuple:
    """A checked file's mapping or system name changed: it must be checked again before it is applied."""
    if not checked:
        return no_update, no_update, no_update
    return None, True, dbc.Alert(t("bimp_changed"), color="warning", className="mb-0")


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
    """Write every line of the checked file in one transaction, or none; lines imported before are skipped."""
    if not isinstance(checked, dict) or not contents:
        return input_error_alert(InputError("import_err_not_checked")), no_update, None, True
    mapping = {str(k): (str(v) if v else None) for k, v in dict(checked.get("mapping") or {}).items()}
    try:
        raw = uploaded_bytes(contents)
        with current_runtime().db.session(write_lock=True) as db:
            report = apply_bills(
                db, current_actor(), raw, mapping, str(checked.get("system") or ""), str(checked.get("sha256"))
            )
    except BillImportRefused as exc:
        return input_error_alert(exc), _report(exc.report, str(checked.get("name"))), None, True
    except InputError as exc:
        return input_error_alert(exc), no_update, None, True
    done = t("bimp_applied", new=report.new, already=report.already)
    return dbc.Alert(done, color="success", className="mb-0", id="bimp-applied"), None, None, True
