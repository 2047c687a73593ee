"""The receivables report as of the filter's last day: open invoices of non-JKN payers (total − paid, aged from
the issue date) and JKN claims submitted but not paid (the submitted amount, aged from the submission date).

Balances are today's (an invoice's ``paid`` and a claim's ``status`` as they stand), counted for the invoices
issued and claims submitted by the as-of day. Invoices carry no unit, poli, ward or doctor, so under such a filter
only the claims (which do) are counted. Days in AR = outstanding ÷ the average daily revenue of the 90 days to the
as-of day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import case, false, func, literal, select
from sqlalchemy.orm import Session

from data.finance_query import claim_conditions, days_between
from data.finance_revenue import earned_total
from data.models import BpjsClaim, Invoice
from domain.finance import PAYERS, Column, Kpi, Report, ReportFilter, Table

BUCKETS = ("0-30", "31-60", "61-90", ">90")
UNPAID_CLAIMS = ("submitted", "verified", "eligible", "pending", "dispute")
AR_WINDOW_DAYS = 90
_UNATTRIBUTED = ("unit", "poli_id", "ward_id", "doctor_id")


def bucket_of(issued, as_of: date):
    """The ageing bucket of a date column: age 0–30 days, 31–60, 61–90, more than 90."""
    return case(
        (issued >= as_of - timedelta(days=30), BUCKETS[0]),
        (issued >= as_of - timedelta(days=60), BUCKETS[1]),
        (issued >= as_of - timedelta(days=90), BUCKETS[2]),
        else_=BUCKETS[3],
    )


def bucket_bounds(bucket: str, as_of: date) -> tuple[date | None, date]:
    """The issue dates (from, to inclusive) of an ageing bucket; ``None`` = no lower bound."""
    ages = {"0-30": (0, 30), "31-60": (31, 60), "61-90": (61, 90), ">90": (91, None)}
    if bucket not in ages:
        raise ValueError(f"unknown ageing bucket {bucket!r}")
    youngest, oldest = ages[bucket]
    return (None if oldest is None else as_of - timedelta(days=oldest)), as_of - timedelta(days=youngest)


def invoice_query(session: Session, site_id: int, flt: ReportFilter):
    """Open invoices of non-JKN payers issued by the filter's last counted day (``ReportFilter.counted_end``):
    number, payer, issued, age on that day, total, paid, open."""
    query = select(
        Invoice.number.label("number"),
        Invoice.payer.label("payer"),
        Invoice.issued_on.label("issued"),
        days_between(session, flt.counted_end, Invoice.issued_on).label("age_days"),
        Invoice.total.label("total"),
        Invoice.paid.label("paid"),
        (Invoice.total - Invoice.paid).label("outstanding"),
    ).where(
        Invoice.site_id == site_id,
        Invoice.status == "open",
        Invoice.issued_on <= flt.counted_end,
        Invoice.payer != "jkn",
    )
    if flt.payer is not None:
        query = query.where(Invoice.payer == flt.payer)
    if any(getattr(flt, name) is not None for name in _UNATTRIBUTED):
        query = query.where(false())
    return query


def claim_query(session: Session, site_id: int, flt: ReportFilter):
    """JKN claims submitted by the last counted day and not paid, in the same columns as ``invoice_query``."""
    amount = func.coalesce(BpjsClaim.submitted_amount, 0)
    return select(
        BpjsClaim.sep_number.label("number"),
        literal("jkn").label("payer"),
        BpjsClaim.submitted_on.label("issued"),
        days_between(session, flt.counted_end, BpjsClaim.submitted_on).label("age_days"),
        amount.label("total"),
        literal(0).label("paid"),
        amount.label("outstanding"),
    ).where(
        *claim_conditions(site_id, flt, period=False),
        BpjsClaim.status.in_(UNPAID_CLAIMS),
        BpjsClaim.submitted_on <= flt.counted_end,
    )


def _ageing(session: Session, site_id: int, flt: ReportFilter) -> dict[str, dict[str, int]]:
    """Outstanding per payer and bucket."""
    sums: dict[str, dict[str, int]] = {}
    for query in (invoice_query(session, site_id, flt), claim_query(session, site_id, flt)):
        rows = query.subquery()
        bucket = bucket_of(rows.c.issued, flt.counted_end)
        for payer, name, amount in session.execute(
            select(rows.c.payer, bucket, func.sum(rows.c.outstanding)).group_by(rows.c.payer, bucket)
        ):
            sums.setdefault(payer, dict.fromkeys(BUCKETS, 0))[name] += int(amount)
    return sums


def outstanding(session: Session, site_id: int, flt: ReportFilter) -> int:
    return sum(sum(buckets.values()) for buckets in _ageing(session, site_id, flt).values())


def days_in_ar(session: Session, site_id: int, flt: ReportFilter, owed: int) -> float | None:
    """``owed`` ÷ the average daily revenue of the ``AR_WINDOW_DAYS`` days to the last counted day (``None``
    without revenue)."""
    end = flt.counted_end
    window = replace(flt, start=end - timedelta(days=AR_WINDOW_DAYS - 1), end=end, through=None)
    daily = earned_total(session, site_id, window)[0] / AR_WINDOW_DAYS
    return None if not daily else owed / daily


def receivables_report(session: Session, site_id: int, flt: ReportFilter) -> Report:
    ageing = _ageing(session, site_id, flt)
    total = sum(sum(buckets.values()) for buckets in ageing.values())
    before, year_ago = (outstanding(session, site_id, f) for f in (flt.previous(), flt.last_year()))
    kpis = (
        Kpi("outstanding", "fin_kpi_outstanding", total, previous=before, last_year=year_ago),
        Kpi(
            "days_in_ar",
            "fin_kpi_days_in_ar",
            days_in_ar(session, site_id, flt, total),
            "days",
            days_in_ar(session, site_id, flt.previous(), before),
            days_in_ar(session, site_id, flt.last_year(), year_ago),
        ),
    )
    payers = [payer for payer in PAYERS if payer in ageing]
    rows = tuple((payer, *(ageing[payer][b] for b in BUCKETS), sum(ageing[payer].values())) for payer in payers)
    table = Table(
        key="ageing",
        title="fin_table_ageing",
        columns=(
            Column("payer", "fin_col_payer", "payer"),
            Column("0-30", "fin_col_age_0_30", "rupiah"),
            Column("31-60", "fin_col_age_31_60", "rupiah"),
            Column("61-90", "fin_col_age_61_90", "rupiah"),
            Column(">90", "fin_col_age_over_90", "rupiah"),
            Column("total", "fin_col_total", "rupiah"),
        ),
        rows=rows,
        total=(None, *(sum(row[i] for row in rows) for i in range(1, 6))),
        drill="receivables",
        row_keys=tuple({"payer": payer} for payer in payers),
    )
    return Report("receivables", "fin_report_receivables", kpis, (table,))
