"""A finance report as XLSX, CSV or PDF: the very tables the page shows (domain.finance.Report), so an export's
totals are the screen's.

- XLSX (openpyxl): a "Ringkasan" sheet of KPIs, then a sheet per table; money, counts and rates are NUMBERS with a
  number format (money ``"Rp" #,##0`` — Excel puts the thousands separator of the reader's locale), percentages
  are fractions formatted ``0.0%``, dates real dates shown ``dd/mm/yyyy``; a header block on every sheet.
- CSV: UTF-8 with BOM, ``;`` separated (what Excel expects in Indonesia); money as plain integers, dates ISO,
  decimals with the language's decimal mark (a comma in Indonesian, as Indonesian Excel reads numbers).
- PDF (fpdf2): A4, portrait (landscape for a table of more than 7 columns), letterhead, headings repeated across
  pages, "Halaman X dari Y", a signature block. It uses the PDF core font Helvetica in Windows-1252, which holds
  every Indonesian letter, "–" and "‰", so no font file has to be installed; a character outside it prints "?".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from components.finance_format import CODE_PREFIXES, cell_text, label
from domain.finance import Column, Kpi, Report, Table
from domain.formats import clock, local_datetime, long_date
from i18n import translate

NUMBER_FORMATS = {
    "rupiah": '"Rp" #,##0',
    "count": "#,##0",
    "percent": "0.0%",  # the cell holds the fraction: 80.0 % is 0.8
    "permille": '0.0" ‰"',
    "days": "0.0",
    "times": "0.0",
    "date": "dd/mm/yyyy",
    "month": "mmmm yyyy",
}
NUMERIC_KINDS = frozenset(("rupiah", "count", "percent", "permille", "days", "times"))
SHEET_NAME_LIMIT = 31
SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})
PORTRAIT_COLUMNS = 7
PDF_ENCODING = "windows-1252"
TOTAL_LABEL = "exp_total"


@dataclass(frozen=True)
class ExportHeader:
    """What heads every sheet and page. Texts are already in the reader's language; ``filters`` are
    (label, value) pairs; ``printed_at`` is aware (shown in its own zone). ``city``, ``signer`` and
    ``signer_role`` fill the PDF's signature block (left blank for a hand-written entry when empty)."""

    hospital: str
    title: str
    period: str
    filters: tuple[tuple[str, str], ...]
    printed_by: str
    printed_at: datetime
    city: str = ""
    signer: str = ""
    signer_role: str = ""


def report_xlsx(report: Report, header: ExportHeader, lang: str) -> bytes:
    """A workbook: a "Ringkasan" sheet of KPIs, then one sheet per table."""
    book = Workbook()
    summary = book.active
    summary.title = _sheet_name(translate("exp_summary", lang), set())
    used = {summary.title}
    _xlsx_table(summary, header, _kpi_table(report.kpis, lang), lang)
    for table in report.tables:
        sheet = book.create_sheet(_sheet_name(label(table.title, lang), used))
        used.add(sheet.title)
        _xlsx_table(sheet, header, table, lang)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_csv(report: Report, header: ExportHeader, lang: str) -> bytes:
    """One block per table (the KPIs first), each a title line, a heading line, its rows and its total."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for line in _header_lines(header, lang):
        writer.writerow([line])
    for table in (_kpi_table(report.kpis, lang), *report.tables):
        writer.writerow([])
        writer.writerow([label(table.title, lang)])
        writer.writerow([label(column.label, lang) for column in table.columns])
        for _, cells in _cell_rows(table):
            writer.writerow([_csv_value(value, kind, lang) for value, kind in cells])
    return out.getvalue().encode("utf-8-sig")


def report_pdf(report: Report, header: ExportHeader, lang: str) -> bytes:
    """An A4 document: letterhead, KPIs, every table, and a signature block."""
    pdf = _ReportPdf(header, lang)
    pdf.add_page()
    pdf.letterhead()
    for table in (_kpi_table(report.kpis, lang), *report.tables):
        pdf.table_block(table)
    pdf.signature()
    return bytes(pdf.output())


# ---- shared pieces


def _kpi_table(kpis: tuple[Kpi, ...], lang: str) -> Table:
    """The KPIs as a table of text cells (each KPI has its own kind, so the XLSX writes it cell by cell)."""
    columns = tuple(
        Column(key, key)
        for key in ("exp_kpi", "exp_kpi_value", "exp_kpi_previous", "exp_kpi_last_year", "exp_kpi_target")
    )
    rows = tuple((label(kpi.label, lang), kpi.value, kpi.previous, kpi.last_year, kpi.target) for kpi in kpis)
    return _KpiTable("kpis", "exp_summary", columns, rows, kinds=tuple(kpi.kind for kpi in kpis))


@dataclass(frozen=True)
class _KpiTable(Table):
    kinds: tuple[str, ...] = ()

    def kind(self, row: int, column: int) -> str:
        return "text" if column == 0 else self.kinds[row]


def _kind(table: Table, row: int, column: int) -> str:
    if isinstance(table, _KpiTable):
        return table.kind(row, column)
    return table.columns[column].kind


def _cell_rows(table: Table) -> list[tuple[bool, list[tuple[object, str]]]]:
    """Every row (the total last) as (is_total, [(value, kind), …])."""
    rows = [(False, [(v, _kind(table, r, c)) for c, v in enumerate(row)]) for r, row in enumerate(table.rows)]
    if table.total is not None:
        total = [(v, column.kind) for v, column in zip(table.total, table.columns, strict=True)]
        if total and total[0][0] is None:  # the label cell of a totals row
            total[0] = (TOTAL_LABEL, "label")
        rows.append((True, total))
    return rows


def _header_lines(header: ExportHeader, lang: str) -> list[str]:
    lines = [header.hospital, header.title, f"{translate('exp_period', lang)}: {header.period}"]
    if header.filters:
        lines.append(f"{translate('exp_filters', lang)}: " + "; ".join(f"{k}: {v}" for k, v in header.filters))
    lines.append(translate("exp_printed", lang, name=header.printed_by, at=_moment(header.printed_at, lang)))
    return lines


def _moment(moment: datetime, lang: str) -> str:
    if isinstance(moment.tzinfo, ZoneInfo):
        return local_datetime(moment, moment.tzinfo.key, lang)
    return f"{long_date(moment.date(), lang)} {clock(moment, lang)}"


def _text(value: object, kind: str, lang: str) -> str:
    if kind == "label":
        return label(str(value), lang)
    return value if isinstance(value, str) and kind == "text" else cell_text(value, kind, lang)


# ---- XLSX


def _sheet_name(title: str, used: set[str]) -> str:
    base = " ".join(title.translate(SHEET_NAME_FORBIDDEN).split())[:SHEET_NAME_LIMIT] or "Tabel"
    name, n = base, 2
    while name.lower() in {u.lower() for u in used}:
        suffix = f" ({n})"
        name, n = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix, n + 1
    return name


def _xlsx_table(sheet, header: ExportHeader, table: Table, lang: str) -> None:
    lines = _header_lines(header, lang)
    for number, line in enumerate(lines, start=1):
        sheet.cell(number, 1, line).font = Font(bold=number <= 2, size=14 if number == 1 else 11)
    heading_row = len(lines) + 2
    widths = [len(label(column.label, lang)) for column in table.columns]
    fill = PatternFill("solid", fgColor="DDE6F0")
    for index, column in enumerate(table.columns, start=1):
        cell = sheet.cell(heading_row, index, label(column.label, lang))
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, (is_total, cells) in enumerate(_cell_rows(table), start=1):
        for index, (value, kind) in enumerate(cells):
            cell = sheet.cell(heading_row + offset, index + 1, _xlsx_value(value, kind, lang))
            if kind in NUMBER_FORMATS and cell.value is not None:
                cell.number_format = NUMBER_FORMATS[kind]
            if is_total:
                cell.font = Font(bold=True)
            widths[index] = max(widths[index], len(_text(value, kind, lang)))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 10), 50)
    sheet.freeze_panes = sheet.cell(heading_row + 1, 1)


def _xlsx_value(value: object, kind: str, lang: str) -> object:
    if value is None:
        return None
    if kind == "percent":
        return float(value) / 100
    if kind in NUMERIC_KINDS:
        return value
    if kind in ("date", "month") and isinstance(value, date):
        return value
    return _text(value, kind, lang)


# ---- CSV


def _csv_value(value: object, kind: str, lang: str) -> str:
    if value is None:
        return ""
    if kind in ("rupiah", "count"):
        return str(round(value))
    if kind in NUMERIC_KINDS:
        written = f"{float(value):.1f}"
        return written.replace(".", ",") if lang == "id" else written
    if kind in ("date", "month") and isinstance(value, date):
        return value.isoformat() if kind == "date" else f"{value:%Y-%m}"
    if kind in CODE_PREFIXES or kind == "label":
        return _text(value, kind, lang)
    return str(value)


# ---- PDF


def _pdf_text(text: str) -> str:
    return text.encode(PDF_ENCODING, "replace").decode(PDF_ENCODING)


class _ReportPdf(FPDF):
    """A4 pages with a running head after the first, and page numbers and the printed-by line at the foot."""

    def __init__(self, header: ExportHeader, lang: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.core_fonts_encoding = PDF_ENCODING
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.set_title(_pdf_text(f"{header.title} — {header.period}"))
        self.set_creator("Pantau")
        self.head, self.lang = header, lang

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90)
        self.cell(0, 5, _pdf_text(f"{self.head.hospital} · {self.head.title} · {self.head.period}"), align="L")
        self.ln(8)
        self.set_text_color(0)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90)
        printed = translate(
            "exp_printed", self.lang, name=self.head.printed_by, at=_moment(self.head.printed_at, self.lang)
        )
        self.cell(self.epw * 0.7, 5, _pdf_text(printed), align="L")
        self.cell(0, 5, _pdf_text(translate("exp_page", self.lang, page=self.page_no(), pages="{nb}")), align="R")
        self.set_text_color(0)

    def letterhead(self) -> None:
        self.set_font("Helvetica", "B", 15)
        self.cell(0, 8, _pdf_text(self.head.hospital), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, _pdf_text(self.head.title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)
        for line in _header_lines(self.head, self.lang)[2:-1]:
            self.multi_cell(0, 5, _pdf_text(line), new_x="LMARGIN", new_y="NEXT")
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y() + 2, self.w - self.r_margin, self.get_y() + 2)
        self.set_line_width(0.2)
        self.ln(6)

    def table_block(self, table: Table) -> None:
        wide = len(table.columns) > PORTRAIT_COLUMNS
        if wide != (self.cur_orientation == "L"):
            self.add_page(orientation="L" if wide else "P")
        elif self.will_page_break(25):
            self.add_page(orientation=self.cur_orientation)
        self.set_font("Helvetica", "B", 11)
        self.cell(0, 7, _pdf_text(label(table.title, self.lang)), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 8 if wide else 9)
        if not table.rows:
            self.cell(0, 6, _pdf_text(translate("exp_no_rows", self.lang)), new_x="LMARGIN", new_y="NEXT")
            self.ln(4)
            return
        rows = _cell_rows(table)
        texts = [[_text(value, kind, self.lang) for value, kind in cells] for _, cells in rows]
        headings = [label(column.label, self.lang) for column in table.columns]
        align = tuple("R" if self._numeric(table, c) else "L" for c in range(len(table.columns)))
        widths = [max(len(h) * 0.8, *(len(row[c]) for row in texts), 4) for c, h in enumerate(headings)]
        bold = FontFace(emphasis="BOLD")
        with self.table(
            col_widths=widths,
            text_align=align,
            line_height=5,
            headings_style=FontFace(emphasis="BOLD", fill_color=(221, 230, 240)),
            repeat_headings=1,
            padding=(1, 1.5),
        ) as grid:
            heading_row = grid.row()
            for heading in headings:
                heading_row.cell(_pdf_text(heading))
            for index, row in enumerate(texts):
                style = bold if rows[index][0] else None
                pdf_row = grid.row()
                for text in row:
                    pdf_row.cell(_pdf_text(text), style=style)
        self.ln(5)

    @staticmethod
    def _numeric(table: Table, column: int) -> bool:
        if isinstance(table, _KpiTable):
            return column > 0
        return table.columns[column].kind in NUMERIC_KINDS

    def signature(self) -> None:
        if self.will_page_break(50):
            self.add_page(orientation=self.cur_orientation)
        self.ln(6)
        x = self.w - self.r_margin - 75
        place = self.head.city or "…………………"
        lines = [
            f"{place}, {long_date(self.head.printed_at.date(), self.lang)}",
            translate("exp_acknowledged", self.lang),
        ]
        self.set_font("Helvetica", "", 10)
        for line in lines:
            self.set_x(x)
            self.cell(75, 5, _pdf_text(line), align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(20)
        self.set_x(x)
        name = self.head.signer or "…………………………………"
        self.cell(75, 5, _pdf_text(f"( {name} )"), align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_x(x)
        self.cell(75, 5, _pdf_text(self.head.signer_role), align="C", new_x="LMARGIN", new_y="NEXT")
