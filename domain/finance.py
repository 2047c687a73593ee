"""Finance vocabularies and the value types every finance report is made of (docs/finance.md).

Money is integer Rupiah everywhere (no floats, no sen). A report is a set of KPIs and tables; the page draws them,
and the XLSX/CSV/PDF exports write the very same tables, so an export's totals are the screen's by construction.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Final

# Who pays: JKN (BPJS Kesehatan), self-pay, a private insurer, a company, Jasa Raharja (traffic accidents).
PAYERS: Final = ("jkn", "umum", "asuransi", "perusahaan", "jasa_raharja")
# Where revenue is earned: outpatient, inpatient, emergency, supporting services (lab, radiology), pharmacy.
UNITS: Final = ("rawat_jalan", "rawat_inap", "igd", "penunjang", "farmasi")
PAYMENT_METHODS: Final = ("tunai", "qris", "transfer", "asuransi", "deposit")
PAYMENT_KINDS: Final = ("payment", "deposit", "refund")
INVOICE_STATES: Final = ("open", "paid", "void")
# Where a charge line came from: Pantau's own events, or a SIMRS bill-line import.
CHARGE_SOURCES: Final = ("pantau", "import")
# A BPJS claim's life (e-Klaim / V-Claim): coded → grouped → final → submitted → verified → eligible | pending |
# not_eligible | dispute → paid. "pending" and "dispute" go back to "submitted" when answered.
CLAIM_STATES: Final = (
    "coded",
    "grouped",
    "final",
    "submitted",
    "verified",
    "eligible",
    "pending",
    "not_eligible",
    "dispute",
    "paid",
)
CLAIM_EPISODES: Final = ("rawat_jalan", "rawat_inap")
# Targets a hospital may set per month (and optionally per unit).
TARGET_METRICS: Final = ("revenue", "claims_paid")
# The kinds of a report column: how the page and the exports format it.
# "payer", "unit" and "claim_status" hold a code of those vocabularies, "label" an i18n key (a row's name such as
# a lead-time measure): both are shown in the reader's language.
COLUMN_KINDS: Final = (
    "text",
    "date",
    "month",
    "rupiah",
    "count",
    "percent",
    "days",
    "permille",
    "times",
    "payer",
    "unit",
    "claim_status",
    "label",
)


def payer_of_visit(visit_payer: str) -> str:
    """A clinic visit's payer (``jkn`` / ``non_jkn``) as a finance payer; a non-JKN visit is self-pay unless a
    bill says otherwise."""
    return "jkn" if visit_payer == "jkn" else "umum"


@dataclass(frozen=True)
class ReportFilter:
    """What a report covers: site-local days ``start``..``end`` inclusive, and optionally one unit, poli, ward,
    doctor or payer (``None`` = all). ``through`` is today while the period is still running (:meth:`as_of`): its
    comparisons and targets then cover only the days gone so far, as the figures themselves do."""

    start: date
    end: date
    unit: str | None = None
    poli_id: int | None = None
    ward_id: int | None = None
    doctor_id: int | None = None
    payer: str | None = None
    through: date | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def counted_end(self) -> date:
        """The last day the figures can hold: today in a running period, else the end."""
        return self.through or self.end

    def as_of(self, today: date) -> ReportFilter:
        """This filter seen on ``today``: a period that started and has not ended counts through today (this month
        on its 7th compares with the 1st to the 7th of last month, not with all of it)."""
        return replace(self, through=today if self.start <= today < self.end else None)

    def previous(self) -> ReportFilter:
        """The period of the same length just before (a whole month compares with the whole previous month), as
        far into it as this one has run."""
        if _whole_months(self.start, self.end):
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            start = _add_months(self.start, -months)
        else:
            start = self.start - timedelta(days=self.days)
        end = self.start - timedelta(days=1)
        if self.through is not None:
            end = min(end, start + (self.through - self.start))
        return replace(self, start=start, end=end, through=None)

    def last_year(self) -> ReportFilter:
        """The same days one year earlier, as far as this period has run (29 February falls back to the 28th)."""
        return replace(self, start=_years_back(self.start), end=_years_back(self.counted_end), through=None)


def month_period(year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month."""
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


def _whole_months(start: date, end: date) -> bool:
    return start.day == 1 and end == date(end.year, end.month, monthrange(end.year, end.month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _years_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Column:
    """A report column: ``label`` is an i18n key; ``kind`` one of ``COLUMN_KINDS``."""

    key: str
    label: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """One breakdown of a report. ``title`` is an i18n key. Each row is a tuple in ``columns`` order. ``drill``
    names the drill-down its rows open (``None`` = they cannot be opened) and ``row_keys`` (same length as
    ``rows``, or empty) holds, per row, a JSON-able dict of what that drill-down filters on, e.g.
    ``{"unit": "rawat_jalan"}`` or ``{"day": "2026-03-02"}``. ``total`` is the totals row or ``None``."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    total: tuple | None = None
    drill: str | None = None
    row_keys: tuple = ()


@dataclass(frozen=True)
class Kpi:
    """A headline figure with what it compares to (``None`` where there is nothing to compare)."""

    key: str
    label: str
    value: float | int | None
    kind: str = "rupiah"
    previous: float | int | None = None
    last_year: float | int | None = None
    target: float | int | None = None


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    kpis: tuple[Kpi, ...]
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class DrillPage:
    """One page of a drill-down's rows (``count`` = all matching rows)."""

    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    count: int
