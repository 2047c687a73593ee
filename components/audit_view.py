"""Pieces of the audit viewer (/admin/audit): the filter carried in the address (``?pengguna=…&rm=…&aksi=…&objek=…
&id=…&dari=…&sampai=…``), the grid paged on the server, its rows as text, and the CSV export. Times are the
site's; details are the row's JSON, compact. Nothing is decrypted: the log holds ids, never identifiers."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import dash_ag_grid as dag

from components.grid import GRID_COLOURS, grid_words
from data.audit_query import AuditFilter, AuditRow
from i18n import translations_with_prefix
from i18n.web import current_language, t

# The address's query names (Indonesian, as the app's own paths) for each field of AuditView.
QUERY = {
    "username": "pengguna",
    "mrn": "rm",
    "action": "aksi",
    "target_type": "objek",
    "target_id": "id",
    "start": "dari",
    "end": "sampai",
}
GRID_ID = "audit-grid"  # one grid for the page's life: a new filter purges its row cache (callbacks/admin_audit.py)
BLOCK = 100  # rows per request of the grid (its cacheBlockSize)
EXPORT_CAP = 50_000
COLUMNS = ("at", "username", "action", "target", "ip", "detail")
# The export carries the codes too, for tools that read the file.
EXPORT_COLUMNS = ("at", "username", "action", "action_code", "target", "target_code", "ip", "detail")
CODE_SHOWN = {"action": "action_code", "target": "target_code"}  # the grid's hover text of a named cell
# The catalogue's prefixes of each action's and each kind of object's name (tests/test_audit_actions.py).
ACTION_WORDS = "audit_do_"
KIND_WORDS = "audit_kind_"
UNSORTABLE = {"detail"}
MAX_TEXT = 64  # the longest value a text filter keeps (the log's columns are 64 characters)
# Spreadsheet programs run a cell that starts with these as a formula; a typed username could (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditView:
    """The filter as the page's controls hold it: texts as typed (trimmed), days in the site's calendar."""

    username: str | None = None
    mrn: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    start: date | None = None
    end: date | None = None


def _text(value: object) -> str | None:
    text = str(value).strip()[:MAX_TEXT] if value is not None else ""
    return text or None


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def make_view(
    username: object = None,
    mrn: object = None,
    action: object = None,
    target_type: object = None,
    target_id: object = None,
    start: object = None,
    end: object = None,
) -> AuditView:
    """A view from the controls' or the address's values; unreadable days are dropped, reversed ones swapped."""
    first, last = _day(start), _day(end)
    if first and last and first > last:
        first, last = last, first
    return AuditView(_text(username), _text(mrn), _text(action), _text(target_type), _text(target_id), first, last)


def parse_query(query: dict[str, str]) -> AuditView:
    """The view an address asks for."""
    return make_view(**{field: query.get(name) for field, name in QUERY.items()})


def view_query(view: AuditView) -> str:
    """The address's query string (``?…``, or ``""`` for no filter) that reproduces ``view``."""
    pairs = {QUERY[k]: v.isoformat() if isinstance(v, date) else v for k, v in asdict(view).items() if v}
    return "?" + urlencode(pairs) if pairs else ""


def to_filter(view: AuditView, site_id: int, zone: ZoneInfo, patient_id: int | None) -> AuditFilter:
    """The query's filter: the site's days as UTC instants (the end day included), the RM as its patient's id."""

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

    return AuditFilter(
        site_id=site_id,
        username=view.username,
        patient_id=patient_id,
        action=view.action,
        target_type=view.target_type,
        target_id=view.target_id,
        start=midnight(view.start) if view.start else None,
        end=midnight(view.end + timedelta(days=1)) if view.end else None,
    )


def filter_detail(view: AuditView) -> dict[str, str]:
    """The filter for an audit row's detail (what an export contained), only what was set."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(view).items() if v}


def detail_text(detail: dict | None) -> str:
    """A row's detail as compact JSON (keys sorted), empty when there is none."""
    return json.dumps(detail, separators=(",", ":"), sort_keys=True, ensure_ascii=False) if detail else ""


@cache
def _names(prefix: str, lang: str) -> dict[str, str]:
    return translations_with_prefix(prefix, lang)


def _name(prefix: str, code: str) -> str:
    return _names(prefix, current_language()).get(code, code)


def action_name(code: str) -> str:
    """What the audit action ``code`` is called in the user's language; the code itself when the catalogue has no
    name for it (a row an older version wrote)."""
    return _name(ACTION_WORDS, code)


def kind_name(code: str) -> str:
    """What a kind of object (``patient``, ``visit``) is called in the user's language; else the code itself."""
    return _name(KIND_WORDS, code)


def _by_name(named: dict[str, str]) -> list[tuple[str, str]]:
    return sorted(named.items(), key=lambda pair: (pair[1].casefold(), pair[0]))


def _options(prefix: str, chosen: str | None) -> list[dict[str, str]]:
    """Choices by name (alphabetically), each found by its name or its code: every code the catalogue names under
    ``prefix``, and ``chosen`` (from an address; a row an older version wrote may carry a code without a name)."""
    codes = {*_names(prefix, current_language()), *([chosen] if chosen else [])}
    named = _by_name({code: _name(prefix, code) for code in codes})
    return [{"label": name, "value": code, "search": f"{name} {code}"} for code, name in named]


def action_options(chosen: str | None) -> list[dict[str, str]]:
    """The action filter's choices: every action Pantau records (no query of the log), and ``chosen``."""
    return _options(ACTION_WORDS, chosen)


def kind_options(chosen: str | None) -> list[dict[str, str]]:
    """The object filter's choices: every kind of object the code writes, and ``chosen``."""
    return _options(KIND_WORDS, chosen)


def name_order() -> dict[str, list[str]]:
    """For each grid column shown by name, its codes in the order of their names in the user's language, so the
    server sorts that column as it reads (``audit_query.page``)."""
    lang = current_language()
    return {
        column: [code for code, _ in _by_name(_names(prefix, lang))]
        for column, prefix in (("action", ACTION_WORDS), ("target", KIND_WORDS))
    }


def row_cells(row: AuditRow, zone: ZoneInfo) -> dict[str, str]:
    """One row as the grid and the export show it: the action and the kind of object by their names ("Pasien 43"),
    their codes beside them."""
    kind = kind_name(row.target_type) if row.target_type else ""
    return {
        "at": row.at.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S"),
        "username": row.username or "",
        "action": action_name(row.action),
        "action_code": row.action,
        "target": " ".join(part for part in (kind, row.target_id) if part),
        "target_code": ":".join(part for part in (row.target_type, row.target_id) if part),
        "ip": row.ip or "",
        "detail": detail_text(row.detail),
    }


def audit_grid() -> dag.AgGrid:
    """The result grid: rows fetched a block at a time from the server (infinite row model), sorted there."""
    widths = {"at": 190, "username": 130, "action": 240, "target": 150, "ip": 130}
    return dag.AgGrid(
        id=GRID_ID,
        columnDefs=[
            {
                "field": column,
                "headerName": t(f"audit_col_{column}"),
                "sortable": column not in UNSORTABLE,
                **({"tooltipField": CODE_SHOWN[column]} if column in CODE_SHOWN else {}),
                **({"width": widths[column]} if column in widths else {"flex": 1, "minWidth": 260}),
            }
            for column in COLUMNS
        ],
        rowModelType="infinite",
        dashGridOptions={
            "cacheBlockSize": BLOCK,
            "maxBlocksInCache": 10,
            "rowHeight": 30,
            "tooltipShowDelay": 300,
            "localeText": grid_words("audit_no_rows"),
        },
        style={**GRID_COLOURS, "height": "62vh"},
        className="audit-grid",
    )


def _safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def export_csv(rows: list[AuditRow], zone: ZoneInfo) -> str:
    """The rows as CSV (a header of the column names in the user's language), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t(f"audit_col_{column}") for column in EXPORT_COLUMNS])
    for row in rows:
        cells = row_cells(row, zone)
        writer.writerow([_safe_cell(cells[column]) for column in EXPORT_COLUMNS])
    return out.getvalue()
