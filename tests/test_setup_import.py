"""Bulk import: the dry run lists every bad row with its line and column and saves nothing; apply saves all rows
or none; CSV (BOM, ``;`` or ``,``) and XLSX read the same."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from auth.users import find_user
from data.models import AuditLog, ServiceCounter, Ward
from data.seed import demo_session_hours
from data.service_counters import create_counter
from data.setup_import import ImportRefused, apply_file, check_file, template
from data.staff_assignments import polis_of, wards_of
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from domain.import_rules import MAX_BYTES, MAX_ROWS

ADMIN = Actor(None, "test-admin", 1)
GOOD_COUNTERS = "code;name;point\nLK-1;Loket 1;loket\nLK-2;Loket 2;loket\nUMU-1;Ruang Periksa 1;poli:UMU\n"


def _csv(text: str, bom: bool = True) -> bytes:
    return ("\ufeff" if bom else "").encode() + text.encode()


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _counters(db) -> int:
    return db.scalar(select(func.count()).select_from(ServiceCounter))


def _check(app, kind: str, raw: bytes):
    with app.runtime.db.session(write_lock=True) as db:
        return check_file(db, ADMIN, kind, raw)


def _apply(app, kind: str, raw: bytes, sha: str):
    with app.runtime.db.session(write_lock=True) as db:
        return apply_file(db, ADMIN, kind, raw, sha)


def test_three_bad_rows_are_all_listed_and_nothing_changes(any_app):
    raw = _csv(
        "code;name;point\n"
        "LK-1;Loket 1;loket\n"
        "bad code;Loket 2;loket\n"  # line 3: code
        "LK-3;;kasir\n"  # line 4: name and point
        "\n"
        "LK-1;Loket Lagi;loket\n"  # line 6: repeats line 2
    )
    with any_app.runtime.db.session() as db:
        before = _counters(db)
    report = _check(any_app, "counters", raw)
    assert not report.ok and report.rows == 4
    assert [(e.line, e.column, e.key) for e in report.errors] == [
        (3, "code", "err_setup_code"),
        (4, "name", "err_setup_name_required"),
        (4, "point", "counters_err_point"),
        (6, "code", "import_err_repeated"),
    ]
    assert report.errors[-1].params["line"] == 2
    with any_app.runtime.db.session() as db:
        assert _counters(db) == before
        assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "counter_created")) == 0
    with pytest.raises(ImportRefused) as refused:
        _apply(any_app, "counters", raw, report.sha256)
    assert refused.value.params["n"] == 4
    with any_app.runtime.db.session() as db:
        assert _counters(db) == before


def test_a_good_file_applies_every_row(any_app):
    raw = _csv(GOOD_COUNTERS)
    report = _check(any_app, "counters", raw)
    assert report.ok and report.rows == 3
    with any_app.runtime.db.session() as db:
        assert _counters(db) == 0  # the dry run kept nothing
    assert _apply(any_app, "counters", raw, report.sha256).rows == 3
    with any_app.runtime.db.session() as db:
        assert sorted(db.scalars(select(ServiceCounter.code))) == ["LK-1", "LK-2", "UMU-1"]
        applied = db.scalar(select(AuditLog).where(AuditLog.action == "setup_import_applied"))
        assert applied.detail["rows"] == 3


def test_a_row_failing_at_apply_rolls_back_them_all(any_app):
    raw = _csv(GOOD_COUNTERS)
    report = _check(any_app, "counters", raw)
    assert report.ok
    with any_app.runtime.db.session() as db:  # someone takes the last row's code in between
        create_counter(db, ADMIN, {"code": "UMU-1", "name": "Ruang Lain", "point": "loket"})
    with pytest.raises(ImportRefused) as refused:
        _apply(any_app, "counters", raw, report.sha256)
    assert [(e.line, e.key) for e in refused.value.report.errors] == [(4, "err_setup_code_taken")]
    with any_app.runtime.db.session() as db:
        assert list(db.scalars(select(ServiceCounter.code))) == ["UMU-1"]


def test_apply_needs_the_checked_file(sqlite_app):
    raw = _csv(GOOD_COUNTERS)
    report = _check(sqlite_app, "counters", raw)
    with pytest.raises(InputError) as refused:
        _apply(sqlite_app, "counters", raw + b"LK-9;Loket 9;loket\n", report.sha256)
    assert refused.value.key == "import_err_not_checked"


@pytest.mark.parametrize(
    "raw",
    [
        _csv(GOOD_COUNTERS, bom=False),
        _csv(GOOD_COUNTERS.replace(";", ",")),
        _csv(GOOD_COUNTERS.replace("\n", "\r\n")),
        _xlsx([["Code", "name", "point"], ["LK-1", "Loket 1", "loket"], [None, None, None], ["LK-2", 2, "loket"]]),
    ],
    ids=["csv-no-bom", "csv-comma", "csv-crlf", "xlsx"],
)
def test_csv_and_xlsx_read_the_same(sqlite_app, raw):
    report = _check(sqlite_app, "counters", raw)
    assert report.ok, report.errors
    _apply(sqlite_app, "counters", raw, report.sha256)
    with sqlite_app.runtime.db.session() as db:
        assert "LK-1" in set(db.scalars(select(ServiceCounter.code)))


@pytest.mark.parametrize(
    "raw,key",
    [
        (_csv("code;name\nLK-1;Loket 1\n"), "import_err_header"),
        (_csv("code;name;point;colour\nLK-1;Loket 1;loket;red\n"), "import_err_header"),
        (_csv("code;name;point\n"), "import_err_no_rows"),
        ("code;name;point\nLK-1;Lokèt;loket\n".encode("latin-1"), "import_err_encoding"),
        (b"PK\x03\x04 not a workbook", "import_err_xlsx"),
        (_csv("code;name;point\n" + "LK;Loket;loket\n" * (MAX_ROWS + 1)), "import_err_too_many_rows"),
        (b"code;name;point\n" + b"x" * MAX_BYTES, "import_err_too_big"),
    ],
    ids=["missing-column", "unknown-column", "no-rows", "latin-1", "bad-xlsx", "rows", "size"],
)
def test_a_file_it_cannot_read_is_refused_with_the_reason(sqlite_app, raw, key):
    with pytest.raises(InputError) as refused:
        _check(sqlite_app, "counters", raw)
    assert refused.value.key == key


def test_staff_assignments_import_names_unknown_codes(any_app):
    with any_app.runtime.db.session() as db:
        ward = db.scalar(select(Ward).where(Ward.active.is_(True)).order_by(Ward.code))
        ward_code = ward.code
    raw = _csv(f"username;ward_codes;poli_codes\nperawat;{ward_code.lower()};UMU | GIG\nnobody;;\ndokter;NOPE;UMU\n")
    report = _check(any_app, "staff", raw)
    assert [(e.line, e.column, e.key) for e in report.errors] == [
        (3, "username", "staff_err_username"),
        (4, "ward_codes", "staff_err_codes"),
    ]
    good = _csv(raw.decode("utf-8-sig").rsplit("nobody", 1)[0])
    _apply(any_app, "staff", good, _check(any_app, "staff", good).sha256)
    with any_app.runtime.db.session() as db:
        nurse = find_user(db, "perawat")
        assert [w.code for w in wards_of(db, nurse.id)] == [ward_code]
        assert [p.code for p in polis_of(db, nurse.id)] == ["GIG", "UMU"]


def test_wards_then_their_beds_import_through_the_setup_services(any_app):
    wards = _csv("code;name;kind;care_class;bed_count\nMAWAR;Bangsal Mawar;ward;2;1\n")
    _apply(any_app, "wards", wards, _check(any_app, "wards", wards).sha256)
    beds = _csv(
        "ward_code;code;label;care_class\nMAWAR;M-01;Mawar 1;\nMAWAR;M-01;Mawar 1 lagi;\nMAWAR;M-02;Mawar 2;VIP\n"
    )
    report = _check(any_app, "beds", beds)
    assert [(e.line, e.key) for e in report.errors] == [(3, "import_err_repeated")]


@pytest.mark.parametrize("kind", ["wards", "beds", "polis", "doctors", "counters", "staff", "sessions"])
def test_templates_hold_the_header_and_the_notes(kind):
    notes = {"_title": "Petunjuk", "code": "Kode unik"}
    header = template(kind, "csv", notes).decode("utf-8-sig").strip().split(";")
    book = load_workbook(io.BytesIO(template(kind, "xlsx", notes)))
    assert [c.value for c in book.worksheets[0][1]] == header
    assert book.sheetnames[1] == "Petunjuk"
    assert [r[0] for r in book.worksheets[1].iter_rows(values_only=True)] == header
    assert book.worksheets[0].max_row == 1  # headers only: no example row to import by mistake


def _outside_demo_hours() -> tuple[str, str]:
    """An hour of the day the demo doctor's own sessions (which follow the clock) do not cover."""
    start, _end = demo_session_hours(utcnow().astimezone(ZoneInfo("Asia/Jakarta")))
    return ("00:15", "01:15") if start.hour >= 2 else ("22:00", "23:00")


def test_weekly_sessions_import_through_the_schedule_service(sqlite_app):
    start, end = _outside_demo_hours()
    raw = _csv(
        "doctor_name;poli_code;weekday;start;end;quota_jkn;quota_non_jkn;capacity;valid_from;valid_until;"
        "open_on_holidays\n"
        f"31001;GIG;Minggu;{start};{end};5;5;;;;tidak\n"
        f"31001;GIG;Minggu;{end};{start};5;5;;;;tidak\n"
    )
    report = _check(sqlite_app, "sessions", raw)
    assert [e.line for e in report.errors] == [3], report.errors  # ends before it starts; line 2 is good
    good = _csv(raw.decode("utf-8-sig").rsplit(f"31001;GIG;Minggu;{end}", 1)[0])
    assert _apply(sqlite_app, "sessions", good, _check(sqlite_app, "sessions", good).sha256).rows == 1
