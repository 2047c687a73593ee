"""SIMRS bill-line import (data/bill_import.py) on both backends: the mapping guess, the dry run's bad lines, an
all-or-nothing apply, a second import of the same file adding nothing, and the daily rollup kept in step."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from auth.users import find_user
from data.bill_import import (
    MAX_BYTES,
    MAX_ROWS,
    BillImportRefused,
    apply_bills,
    check_bills,
    file_digest,
    guess_mapping,
    header_of,
    parse_amount,
    parse_date,
    read_cells,
)
from data.models import AuditLog, ChargeDaily, ChargeLine, Patient
from domain.actor import Actor
from domain.errors import InputError

KHANZA = (
    "no_rawat;tgl_perawatan;kd_poli;kd_bangsal;kd_dokter;kd_jenis_prw;nm_perawatan;jumlah;biaya;penjab;no_rkm_medis\n"
    "B-001;2026-03-02;UMU;;31001;KONS;Konsultasi dokter umum;1;75.000;BPJS;DEMO-00001\n"
    "B-002;02/03/2026;;MEL;;KAMAR;Kamar kelas 3;2;300000;UMUM;\n"
    "B-003;2026-03-03 10:15:00;ANA;;dr. Budi Santoso, Sp.A (demo);LAB;Darah lengkap;1;Rp 120.000;Asuransi;X-999\n"
)
MAPPING = {
    "source_id": "no_rawat",
    "date": "tgl_perawatan",
    "poli_code": "kd_poli",
    "ward_code": "kd_bangsal",
    "doctor": "kd_dokter",
    "code": "kd_jenis_prw",
    "description": "nm_perawatan",
    "quantity": "jumlah",
    "amount": "biaya",
    "payer": "penjab",
    "rm": "no_rkm_medis",
}


def _raw(text: str) -> bytes:
    return "\ufeff".encode() + text.encode()


def _finance(db) -> Actor:
    user = find_user(db, "keuangan")
    return Actor(user.id, user.username, user.site_id, "127.0.0.1")


def _check(app, raw: bytes, mapping=MAPPING, system="SIMRS Khanza"):
    with app.runtime.db.session(write_lock=True) as db:
        return check_bills(db, _finance(db), raw, mapping, system)


def _apply(app, raw: bytes, mapping=MAPPING, system="SIMRS Khanza"):
    with app.runtime.db.session(write_lock=True) as db:
        return apply_bills(db, _finance(db), raw, mapping, system, file_digest(raw))


def _lines(app) -> list[tuple]:
    with app.runtime.db.session() as db:
        return db.execute(
            select(
                ChargeLine.source_id, ChargeLine.service_date, ChargeLine.unit, ChargeLine.payer,
                ChargeLine.quantity, ChargeLine.unit_price, ChargeLine.amount, ChargeLine.patient_id,
            ).where(ChargeLine.source == "import").order_by(ChargeLine.source_id)
        ).all()  # fmt: skip


def test_the_mapping_is_guessed_from_khanza_headers():
    header = header_of(read_cells(_raw(KHANZA)))
    guess = guess_mapping(header)
    assert {f: c for f, c in guess.items() if c} == MAPPING


def test_the_users_choices_are_kept_for_a_corrected_file():
    header = ["id", "tgl", "biaya", "kelompok_bayar", "kd_poli"]
    assert guess_mapping(header)["payer"] is None
    kept = guess_mapping(header, keep={"payer": "kelompok_bayar", "poli_code": "gone", "amount": "kd_poli"})
    assert (kept["payer"], kept["amount"], kept["poli_code"]) == ("kelompok_bayar", "kd_poli", None)
    assert (kept["source_id"], kept["date"]) == ("id", "tgl")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("150000", 150_000),
        ("150.000", 150_000),
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("150000.00", 150_000),
        ("150.000,50", 150_001),
        ("Rp 75.000", 75_000),
        ("-25.000", -25_000),
        ("12.5", 13),
        ("abc", None),
        ("1.2.3", None),
    ],
)
def test_amounts_in_common_spellings(text, expected):
    assert parse_amount(text) == expected


def test_file_limits():
    with pytest.raises(InputError) as big:
        read_cells(b"a;b\n" + b"x" * MAX_BYTES)
    assert big.value.key == "import_err_too_big"
    assert len(read_cells(b"id\n" + b"1\n" * MAX_ROWS)) == MAX_ROWS + 1
    with pytest.raises(InputError) as many:
        read_cells(b"id\n" + b"1\n" * (MAX_ROWS + 1))
    assert many.value.key == "import_err_too_many_rows"


def test_dates_in_common_spellings():
    assert parse_date("2026-03-02") == parse_date("02/03/2026") == parse_date("2026-03-02 10:15:00") == date(2026, 3, 2)
    assert parse_date("31/02/2026") is None


def test_dry_run_lists_every_bad_line_and_writes_nothing(any_app):
    bad = KHANZA + (
        "B-004;2026-13-01;UMU;;;KONS;Konsul;1;75000;BPJS;\n"  # line 5: date
        "B-005;2026-03-04;XYZ;;;KONS;Konsul;1;75000;Dinas Sosial;\n"  # line 6: poli and payer
        "B-006;2026-03-04;;;dr. Tidak Ada;OBAT;Parasetamol;1;satu juta;UMUM;\n"  # line 7: doctor, amount, unit
        "B-001;2026-03-04;UMU;;;KONS;Konsul;1;75000;BPJS;\n"  # line 8: repeats line 2
    )
    report = _check(any_app, _raw(bad))
    found = [(e.line, e.column, e.key) for e in report.errors]
    assert found == [
        (5, "tgl_perawatan", "bimp_err_date"),
        (6, "penjab", "bimp_err_payer"),
        (6, "kd_poli", "bimp_err_poli"),
        (7, "kd_dokter", "bimp_err_doctor"),
        (7, None, "bimp_err_unit_missing"),
        (7, "biaya", "bimp_err_amount"),
        (8, "no_rawat", "import_err_repeated"),
    ]
    assert (report.rows, report.new, report.already) == (7, 3, 0)
    assert _lines(any_app) == []
    with pytest.raises(BillImportRefused):
        _apply(any_app, _raw(bad))
    assert _lines(any_app) == []


def test_apply_writes_lines_once_and_updates_the_rollup(any_app):
    raw = _raw(KHANZA)
    report = _check(any_app, raw)
    assert report.ok and (report.rows, report.new, report.already) == (3, 3, 0)
    with any_app.runtime.db.session() as db:
        patient_id = db.scalar(select(Patient.id).where(Patient.mrn == "DEMO-00001"))
    assert _apply(any_app, raw).new == 3
    assert _lines(any_app) == [
        ("SIMRS Khanza:B-001", date(2026, 3, 2), "rawat_jalan", "jkn", 1, 75_000, 75_000, patient_id),
        ("SIMRS Khanza:B-002", date(2026, 3, 2), "rawat_inap", "umum", 2, 150_000, 300_000, None),
        ("SIMRS Khanza:B-003", date(2026, 3, 3), "rawat_jalan", "asuransi", 1, 120_000, 120_000, None),
    ]
    again = _check(any_app, raw)
    assert (again.new, again.already) == (0, 3)
    assert (_apply(any_app, raw).new, len(_lines(any_app))) == (0, 3)
    with any_app.runtime.db.session() as db:
        daily = db.execute(
            select(ChargeDaily.service_date, func.sum(ChargeDaily.amount)).group_by(ChargeDaily.service_date)
            .order_by(ChargeDaily.service_date)
        ).all()  # fmt: skip
        audits = db.scalars(select(AuditLog.detail).where(AuditLog.action == "bill_import_applied")).all()
    assert daily == [(date(2026, 3, 2), 375_000), (date(2026, 3, 3), 120_000)]
    assert [(a["new"], a["already"]) for a in audits] == [(3, 0), (0, 3)]
    assert all(set(a) == {"sha256", "rows", "new", "already", "errors"} for a in audits)  # counts only


def test_xlsx_and_quantity_times_price(any_app):
    book = Workbook()
    for row in (["ID", "Tanggal", "Unit", "Cara Bayar", "Qty", "Harga"], [7, date(2026, 3, 5), "IGD", "JKN", 3, 20000]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    raw = out.getvalue()
    mapping = {
        "source_id": "ID",
        "date": "Tanggal",
        "unit": "Unit",
        "payer": "Cara Bayar",
        "quantity": "Qty",
        "unit_price": "Harga",
    }
    assert _apply(any_app, raw, mapping, system="SIMGOS").new == 1
    assert _lines(any_app) == [("SIMGOS:7", date(2026, 3, 5), "igd", "jkn", 3, 20_000, 60_000, None)]


def test_a_mapping_without_required_fields_or_system_is_refused(any_app):
    raw = _raw(KHANZA)
    with pytest.raises(InputError) as missing:
        _check(any_app, raw, {k: v for k, v in MAPPING.items() if k != "date"})
    assert missing.value.key == "bimp_err_need_date"
    with pytest.raises(InputError) as no_amount:
        _check(any_app, raw, {k: v for k, v in MAPPING.items() if k != "amount"} | {"quantity": "jumlah"})
    assert no_amount.value.key == "bimp_err_mapping_amount"
    with pytest.raises(InputError) as system:
        _check(any_app, raw, MAPPING, system=" ")
    assert system.value.key == "bimp_err_system"
