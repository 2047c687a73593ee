"""Pieces shared by the pages that take a file (setup import, bill import, claim-status import): the drop zone for
a CSV or XLSX file, the bytes of an upload, and the table of a dry run's bad rows with their line and column."""

from __future__ import annotations

import base64
import binascii

import dash_bootstrap_components as dbc
from dash import dcc, html

from domain.errors import InputError
from domain.import_rules import RowError
from i18n.web import t

SPREADSHEETS = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def spreadsheet_drop(upload_id: str, text: str, max_bytes: int) -> html.Label:
    """A drop zone for one CSV or XLSX file of at most ``max_bytes`` (the browser refuses a bigger one). It sits
    inside a ``<label>``: its file input is named by ``text``, and a click opens the chooser the browser's own way
    (the zone's own click handler is off, so it opens once)."""
    return html.Label(
        dcc.Upload(
            id=upload_id,
            children=html.Div(text),
            max_size=max_bytes,
            disable_click=True,
            accept=SPREADSHEETS,
            className="border border-2 rounded p-4 text-center",
            style={"borderStyle": "dashed", "cursor": "pointer"},
        ),
        className="d-block mb-1",
    )


def uploaded_bytes(contents: str | None) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL; an empty or broken upload is an input error."""
    try:
        return base64.b64decode((contents or "").split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error) as exc:
        raise InputError("import_err_empty") from exc


def row_errors_table(errors: list[RowError], *, table_id: str, row_class: str) -> dbc.Table:
    """Every bad row of a dry run: line, column and the message in the reader's language."""
    head = html.Thead(html.Tr([html.Th(t(k)) for k in ("import_line", "import_column", "import_message")]))
    body = [
        html.Tr([html.Td(e.line), html.Td(e.column or "—"), html.Td(t(e.key, **e.params))], className=row_class)
        for e in errors
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", bordered=True, id=table_id, className="mt-2 mb-0")
