"""Bulk import of the hospital's setup (wards, beds, polis, doctors, counters, staff assignments, weekly
sessions) from CSV or XLSX, through the same services as the setup pages.

``check_file`` is the dry run: every row goes through the real service, each in a SAVEPOINT of its own (one bad
row does not hide the next, and a good row stays visible to the rows after it, as it will at apply), and the
whole run is rolled back; it lists every row's errors with line and column. ``apply_file`` runs the same rows in
the caller's transaction and raises ``ImportRefused`` on any error, so the caller's session rolls everything
back: all or nothing. The file's SHA-256 ties apply to the file that was checked. On SQLite the caller opens the
session with ``write_lock=True`` (a SAVEPOINT must not open the transaction, or releasing it would commit)."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import islice

from openpyxl import Workbook, load_workbook
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from data import audit
from data.doctor_schedules import create_session
from data.service_counters import COUNTER_FIELDS, create_counter
from data.setup_doctors import DOCTOR_FIELDS, create_doctor
from data.setup_polis import POLI_FIELDS, create_poli
from data.setup_wards import BED_FIELDS, WARD_FIELDS, create_bed, create_ward
from data.staff_assignments import STAFF_FIELDS, assign_by_codes
from domain.actor import Actor
from domain.errors import FieldErrors, InputError
from domain.import_rules import MAX_ROWS, RowError, SheetRow, check_size, csv_cells, repeated, sheet_rows

log = logging.getLogger(__name__)

SESSION_FIELDS = (
    "doctor_name",
    "poli_code",
    "weekday",
    "start",
    "end",
    "quota_jkn",
    "quota_non_jkn",
    "capacity",
    "valid_from",
    "valid_until",
    "open_on_holidays",
)
_XLSX_MAGIC = b"PK\x03\x04"
_MAX_LINES = MAX_ROWS * 2  # data rows plus as many blank lines between them


@dataclass(frozen=True)
class ImportKind:
    """What one kind of sheet holds and the service that makes each row; ``unique``: columns that may not
    repeat within the file."""

    key: str
    columns: tuple[str, ...]
    create: Callable[[Session, Actor, Mapping[str, object]], object]
    unique: tuple[str, ...] = ()


KINDS: dict[str, ImportKind] = {
    k.key: k
    for k in (
        ImportKind("wards", WARD_FIELDS, create_ward, ("code",)),
        ImportKind("beds", BED_FIELDS, create_bed, ("ward_code", "code")),
        ImportKind("polis", POLI_FIELDS, create_poli, ("code",)),
        ImportKind("doctors", DOCTOR_FIELDS, create_doctor),
        ImportKind("counters", COUNTER_FIELDS, create_counter, ("code",)),
        ImportKind("staff", STAFF_FIELDS, assign_by_codes, ("username",)),
        ImportKind("sessions", SESSION_FIELDS, create_session),
    )
}


@dataclass(frozen=True)
class ImportReport:
    """What a run found: the file's digest, how many data rows it has, and every refused row."""

    kind: str
    sha256: str
    rows: int
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportRefused(InputError):
    """Apply found errors (or a file other than the one checked); nothing was saved."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import_err_apply_refused", n=len(report.errors))
        self.report = report


def file_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _kind(key: str) -> ImportKind:
    if key not in KINDS:
        raise InputError("import_err_kind")
    return KINDS[key]


def sheet_cells(raw: bytes) -> list[list[object]]:
    """The first sheet's cells of an XLSX file, or a CSV file's (told apart by the ZIP signature)."""
    check_size(raw)
    if not raw.startswith(_XLSX_MAGIC):
        return csv_cells(raw)
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise InputError("import_err_xlsx") from exc
    try:
        # A sheet may claim a million rows: read no more lines than the limit allows (blank ones included).
        lines = list(islice(book.worksheets[0].iter_rows(values_only=True), _MAX_LINES + 1))
    finally:
        book.close()
    if len(lines) > _MAX_LINES:
        raise InputError("import_err_too_many_rows", n=MAX_ROWS)
    return [list(line) for line in lines]


def _row_errors(line: int, exc: InputError) -> list[RowError]:
    if isinstance(exc, FieldErrors):
        return [RowError(line, column, err.key, dict(err.params)) for column, err in exc.errors.items()]
    return [RowError(line, None, exc.key, dict(exc.params))]


def _run(session: Session, actor: Actor, kind: ImportKind, raw: bytes) -> ImportReport:
    rows, errors = sheet_rows(sheet_cells(raw), kind.columns)
    errors += repeated(rows, kind.unique)
    skip = {e.line for e in errors}
    for row in rows:
        if row.line not in skip:
            errors += _run_row(session, actor, kind, row)
    errors.sort(key=lambda e: e.line)
    return ImportReport(kind.key, file_digest(raw), len(rows), errors)


def _run_row(session: Session, actor: Actor, kind: ImportKind, row: SheetRow) -> list[RowError]:
    """One row through its service in a SAVEPOINT: kept when good, undone when refused."""
    savepoint = session.begin_nested()
    try:
        kind.create(session, actor, row.values)
        session.flush()
    except InputError as exc:
        savepoint.rollback()
        return _row_errors(row.line, exc)
    except SQLAlchemyError:
        savepoint.rollback()
        log.exception("import row failed", extra={"kind": kind.key, "line": row.line})
        return [RowError(row.line, None, "import_err_row_failed")]
    savepoint.commit()
    return []


def check_file(session: Session, actor: Actor, kind: str, raw: bytes) -> ImportReport:
    """The dry run: every row through its service, then everything undone (only the check is audited)."""
    chosen = _kind(kind)
    audit.record_by(
        session,
        actor,
        "setup_import_checked",
        target_type="import",
        target_id=chosen.key,
        detail={"sha256": file_digest(raw)},
    )
    session.flush()  # on SQLite this write opens the transaction the SAVEPOINTs nest in
    outer = session.begin_nested()
    try:
        return _run(session, actor, chosen, raw)
    finally:
        outer.rollback()


def apply_file(session: Session, actor: Actor, kind: str, raw: bytes, checked_sha256: str) -> ImportReport:
    """Apply a checked file in the caller's transaction; any error raises ``ImportRefused`` (the caller's
    session then rolls back every row)."""
    chosen = _kind(kind)
    if file_digest(raw) != checked_sha256:
        raise InputError("import_err_not_checked")
    report = _run(session, actor, chosen, raw)
    if not report.ok:
        raise ImportRefused(report)
    audit.record_by(
        session,
        actor,
        "setup_import_applied",
        target_type="import",
        target_id=chosen.key,
        detail={"sha256": report.sha256, "rows": report.rows},
    )
    return report


def template(kind: str, fmt: str, notes: Mapping[str, str]) -> bytes:
    """An empty sheet for ``kind``: the header row only; the XLSX adds a second sheet explaining each column
    (``notes``, in the reader's language). The CSV carries a BOM so spreadsheet programs read it as UTF-8."""
    columns = _kind(kind).columns
    if fmt == "csv":
        return ("\ufeff" + ";".join(columns) + "\r\n").encode("utf-8")
    book = Workbook()
    sheet = book.active
    sheet.title = kind
    sheet.append(list(columns))
    help_sheet = book.create_sheet(notes.get("_title", "README"))
    for column in columns:
        help_sheet.append([column, notes.get(column, "")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
