"""Reading a bulk-import sheet: the file's cells (CSV in UTF-8 with or without BOM, ``;`` or ``,`` separated),
its header checked against the importable columns, data rows with their line numbers, and codes repeated within
the file. The rows themselves are checked by the same services the setup pages use (``data.setup_import``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from domain.errors import InputError

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000


@dataclass(frozen=True)
class SheetRow:
    """One data row: its line in the file (the header is line 1) and its cells by column."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class RowError:
    """A refused row: its line, the column at fault (``None``: the whole row) and the message key."""

    line: int
    column: str | None
    key: str
    params: dict[str, object] = field(default_factory=dict)


def check_size(raw: bytes) -> None:
    if len(raw) > MAX_BYTES:
        raise InputError("import_err_too_big", mb=MAX_BYTES // (1024 * 1024))
    if not raw.strip():
        raise InputError("import_err_empty")


def csv_cells(raw: bytes) -> list[list[str]]:
    """The cells of a CSV file; the separator is whichever of ``;`` and ``,`` the header line uses more."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("import_err_encoding") from exc
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InputError("import_err_csv", reason=str(exc)) from exc


def cell_text(value: object) -> str:
    """A cell as text: a spreadsheet's whole numbers without ``.0``, times as ``HH:MM``, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value).strip()


def sheet_rows(cells: Iterable[Sequence[object]], columns: Sequence[str]) -> tuple[list[SheetRow], list[RowError]]:
    """The data rows under a header naming exactly ``columns`` (any order, any case); blank rows are skipped
    but keep their line numbers. A wrong header or too many rows refuse the file (``InputError``)."""
    lines = iter(cells)
    header = [cell_text(c).lower() for c in next(lines, [])]
    while header and not header[-1]:
        header.pop()
    missing = [c for c in columns if c not in header]
    unknown = [h for h in header if h not in columns]
    if missing or unknown or len(set(header)) != len(header):
        raise InputError("import_err_header", missing=", ".join(missing) or "-", unknown=", ".join(unknown) or "-")
    rows: list[SheetRow] = []
    errors: list[RowError] = []
    for line, raw in enumerate(lines, start=2):
        texts = [cell_text(c) for c in raw]
        if not any(texts):
            continue
        if len(rows) >= MAX_ROWS:
            raise InputError("import_err_too_many_rows", n=MAX_ROWS)
        if any(texts[len(header) :]):
            errors.append(RowError(line, None, "import_err_extra_cells", {"n": len(header)}))
            continue
        texts += [""] * (len(header) - len(texts))
        rows.append(SheetRow(line, dict(zip(header, texts, strict=False))))
    if not rows and not errors:
        raise InputError("import_err_no_rows")
    return rows, errors


def repeated(rows: Sequence[SheetRow], key: Sequence[str]) -> list[RowError]:
    """Rows whose ``key`` columns (compared trimmed, case-insensitive) repeat an earlier row's: an error at the
    later row, naming the earlier line."""
    if not key:
        return []
    first: dict[tuple[str, ...], int] = {}
    errors = []
    for row in rows:
        value = tuple(row.values.get(c, "").strip().upper() for c in key)
        if not all(value):
            continue
        if value in first:
            params = {"value": " / ".join(value), "line": first[value]}
            errors.append(RowError(row.line, key[-1], "import_err_repeated", params))
        else:
            first[value] = row.line
    return errors
