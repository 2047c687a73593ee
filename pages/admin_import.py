"""Admin: bulk import of the hospital's setup from CSV or XLSX — template, dry run, then apply all or nothing."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.upload_report import spreadsheet_drop
from data.setup_import import KINDS
from domain.import_rules import MAX_BYTES
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/impor",
    name_key="nav_admin_import",
    title="Impor · Pantau",
    roles=["admin"],
    order=98,
    nav=True,
    nav_group="admin",
)

# The browser refuses a file far past the limit (the request must stay under the server's 4 MB); the server
# refuses anything past MAX_BYTES with a message.
UPLOAD_MAX_BYTES = MAX_BYTES + MAX_BYTES // 2


class Ids:
    """Component ids shared with callbacks/admin_import.py."""

    KIND = "import-kind"
    COLUMNS = "import-columns"
    TEMPLATE_CSV = "import-template-csv"
    TEMPLATE_XLSX = "import-template-xlsx"
    DOWNLOAD = "import-download"
    UPLOAD = "import-upload"
    CHECKED = "import-checked"  # {"kind", "sha256", "name"} of a file whose dry run found no error
    REPORT = "import-report"
    APPLY = "import-apply"
    RESULT = "import-result"


def layout(**_query: str) -> dbc.Card:
    kinds = [{"label": t(f"import_kind_{k}"), "value": k} for k in KINDS]
    return dbc.Card(
        [
            dbc.CardHeader(t("import_title")),
            dbc.CardBody(
                [
                    dcc.Store(id=Ids.CHECKED),
                    dcc.Download(id=Ids.DOWNLOAD),
                    dbc.Label(t("import_kind"), html_for=Ids.KIND),
                    dbc.Select(id=Ids.KIND, options=kinds, value=kinds[0]["value"], className="mb-3"),
                    html.Div(id=Ids.COLUMNS, className="mb-2"),
                    html.Div(
                        [
                            dbc.Button(t("import_template_csv"), id=Ids.TEMPLATE_CSV, color="secondary", outline=True),
                            dbc.Button(
                                t("import_template_xlsx"), id=Ids.TEMPLATE_XLSX, color="secondary", outline=True
                            ),
                        ],
                        className="d-flex gap-2 mb-3",
                    ),
                    spreadsheet_drop(Ids.UPLOAD, t("import_upload"), UPLOAD_MAX_BYTES),
                    dbc.FormText(t("import_upload_hint"), className="d-block mb-3"),
                    html.Div(id=Ids.REPORT, className="mb-3"),
                    dbc.Button(t("import_apply"), id=Ids.APPLY, color="primary", disabled=True),
                    html.Div(id=Ids.RESULT, className="mt-3"),
                ]
            ),
        ]
    )
