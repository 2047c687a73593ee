"""A hand-built finance report exported as XLSX, CSV and PDF: numbers stay numbers, totals match, pages number."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from components.finance_exports import ExportHeader, report_csv, report_pdf, report_xlsx
from domain.finance import Column, Kpi, Report, Table

HEADER = ExportHeader(
    hospital="RSUD Sehat Sentosa",
    title="Laporan pendapatan",
    period="Maret 2026",
    filters=(("Penjamin", "JKN (BPJS Kesehatan)"),),
    printed_by="Sri Wahyuni",
    printed_at=datetime(2026, 4, 2, 9, 5, tzinfo=ZoneInfo("Asia/Jakarta")),
    city="Sleman",
    signer="dr. Budi Santoso",
    signer_role="Direktur",
)
BY_UNIT = Table(
    key="by_unit",
    title="fin_unit_rawat_jalan",  # any i18n key: the sheet is named after its text
    columns=(
        Column("unit", "exp_kpi", "unit"),
        Column("amount", "exp_kpi_value", "rupiah"),
        Column("share", "exp_kpi_target", "percent"),
    ),
    rows=(("rawat_jalan", 1_250_000, 62.5), ("igd", 750_000, 37.5)),
    total=(None, 2_000_000, 100.0),
)
BY_DAY = Table(
    key="by_day",
    title="exp_summary",  # same text as the summary sheet: the sheet name must still be unique
    columns=(Column("day", "exp_period", "date"), Column("earned", "exp_kpi_value", "rupiah")),
    rows=tuple((date(2026, 3, day), 10_000 * day) for day in range(1, 32)),
    total=(None, 10_000 * sum(range(1, 32))),
)
WIDE = Table(
    key="by_ward_month",
    title="fin_unit_rawat_inap",
    columns=tuple(Column(f"c{n}", "exp_kpi_value", "permille") for n in range(9)),
    rows=((12.345,) * 9,),
)
REPORT = Report(
    key="revenue",
    title="exp_summary",
    kpis=(
        Kpi("revenue", "exp_kpi_value", 2_000_000, "rupiah", previous=1_800_000, target=2_500_000),
        Kpi("bor", "exp_kpi_target", 80.0, "percent", last_year=75.5),
    ),
    tables=(BY_UNIT, BY_DAY, WIDE),
)


def test_xlsx_keeps_numbers_formats_and_totals():
    book = load_workbook(io.BytesIO(report_xlsx(REPORT, HEADER, "id")))
    assert book.sheetnames == ["Ringkasan", "Rawat jalan", "Ringkasan (2)", "Rawat inap"]
    summary = book["Ringkasan"]
    assert summary["A1"].value == "RSUD Sehat Sentosa"
    assert summary["A5"].value == "Dicetak oleh Sri Wahyuni pada 2 April 2026 09.05 WIB"
    assert [c.value for c in summary[8]] == ["Nilai", 2_000_000, 1_800_000, None, 2_500_000]
    assert summary["B8"].number_format == '"Rp" #,##0'
    assert summary["B9"].value == pytest.approx(0.8) and summary["B9"].number_format == "0.0%"
    units = book["Rawat jalan"]
    assert units.freeze_panes == "A8"
    assert [c.value for c in units[7]] == ["Indikator", "Nilai", "Target"]
    assert units["A8"].value == "Rawat jalan" and units["A9"].value == "IGD"
    assert units["B8"].value + units["B9"].value == units["B10"].value == 2_000_000
    assert units["A10"].value == "Total" and units["B10"].font.bold and units["B10"].number_format == '"Rp" #,##0'
    assert units["C8"].value == pytest.approx(0.625)
    days = book["Ringkasan (2)"]
    assert days["A8"].value.date() == date(2026, 3, 1) and days["A8"].number_format == "dd/mm/yyyy"
    assert sum(days.cell(row, 2).value for row in range(8, 39)) == days["B39"].value == 4_960_000


def test_csv_reimports_as_plain_numbers():
    raw = report_csv(REPORT, HEADER, "id")
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["RSUD Sehat Sentosa"]
    start = lines.index(["Rawat jalan"])
    assert lines[start + 1 : start + 5] == [
        ["Indikator", "Nilai", "Target"],
        ["Rawat jalan", "1250000", "62,5"],
        ["IGD", "750000", "37,5"],
        ["Total", "2000000", "100,0"],
    ]
    day = lines.index(["2026-03-01", "10000"])
    assert int(lines[day + 31][1]) == sum(int(line[1]) for line in lines[day : day + 31]) == 4_960_000


def test_pdf_has_numbered_pages_totals_and_signature(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf(REPORT, HEADER, "id"))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    pages = text.count("\f")
    assert pages >= 3  # summary and units, days running over, the wide table on a landscape page
    assert "Halaman 1 dari" in text and f"Halaman {pages} dari {pages}" in text
    assert "Rp 2.000.000" in text and "Rp 4.960.000" in text and "12,3 ‰" in text and "Total" in text
    assert "Sleman, 2 April 2026" in text and "( dr. Budi Santoso )" in text and "Mengetahui," in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    assert list(tmp_path.glob("p*.png"))
