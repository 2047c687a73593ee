"""The bed-indicator report from the midnight census (``ward_census``) and ``domain.bed_indicators``.

For a ward (or the hospital) over a span of days: days = census days, beds = bed count summed over those days ÷
days (the average beds in service), patient days = Σ occupied, discharges = Σ (discharged alive + deaths),
days of stay = Σ los_days, deaths and deaths ≥ 48 h summed. Only the ward filter applies.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.finance_query import as_date, month_of
from data.models import Ward, WardCensus
from domain.bed_indicators import BedIndicators, bed_indicators
from domain.finance import Column, Kpi, Report, ReportFilter, Table

_INDICATORS = (
    ("bor", "percent"),
    ("avlos", "days"),
    ("toi", "days"),
    ("bto", "times"),
    ("ndr", "permille"),
    ("gdr", "permille"),
)


def _sums():
    census = WardCensus
    return (
        func.sum(census.beds),
        func.count(func.distinct(census.day)),
        func.sum(census.occupied),
        func.sum(census.discharges + census.deaths),
        func.sum(census.los_days),
        func.sum(census.deaths),
        func.sum(census.deaths_48h),
    )


def _conditions(site_id: int, flt: ReportFilter) -> list:
    conditions = [Ward.site_id == site_id, WardCensus.day >= flt.start, WardCensus.day <= flt.end]
    if flt.ward_id is not None:
        conditions.append(WardCensus.ward_id == flt.ward_id)
    return conditions


def _figures(bed_days, days, patient_days, discharges, los_days, deaths, deaths_48h) -> tuple[float, BedIndicators]:
    """The average beds and the indicators from one group's sums."""
    days = int(days or 0)
    beds = int(bed_days or 0) / days if days else 0.0
    counts = (int(value or 0) for value in (patient_days, discharges, los_days, deaths, deaths_48h))
    return beds, bed_indicators(beds, days, *counts)


def _hospital(session: Session, site_id: int, flt: ReportFilter) -> tuple[float, BedIndicators]:
    row = session.execute(
        select(*_sums()).join(Ward, Ward.id == WardCensus.ward_id).where(*_conditions(site_id, flt))
    ).one()
    return _figures(*row)


def beds_report(session: Session, site_id: int, flt: ReportFilter) -> Report:
    _, now = _hospital(session, site_id, flt)
    _, before = _hospital(session, site_id, flt.previous())
    _, year_ago = _hospital(session, site_id, flt.last_year())
    kpis = tuple(
        Kpi(key, f"fin_kpi_{key}", getattr(now, key), kind, getattr(before, key), getattr(year_ago, key))
        for key, kind in _INDICATORS
    )
    return Report(
        "beds",
        "fin_report_beds",
        kpis,
        (_by_ward_month(session, site_id, flt), _barber_johnson(session, site_id, flt, now)),
    )


def _by_ward_month(session: Session, site_id: int, flt: ReportFilter) -> Table:
    month = month_of(session, WardCensus.day)
    grouped = session.execute(
        select(Ward.name, month, *_sums())
        .join(Ward, Ward.id == WardCensus.ward_id)
        .where(*_conditions(site_id, flt))
        .group_by(Ward.name, WardCensus.ward_id, month)
        .order_by(Ward.name, WardCensus.ward_id, month)
    ).all()
    rows = []
    for name, first, *sums in grouped:
        beds, figures = _figures(*sums)
        rows.append((name, as_date(first), beds, int(sums[2] or 0), int(sums[3] or 0),
                     *(getattr(figures, key) for key, _ in _INDICATORS)))  # fmt: skip
    return Table(
        key="by_ward_month",
        title="fin_table_by_ward_month",
        columns=(
            Column("ward", "fin_col_ward", "text"),
            Column("month", "fin_col_month", "month"),
            Column("beds", "fin_col_beds", "count"),
            Column("patient_days", "fin_col_patient_days", "count"),
            Column("discharges", "fin_col_discharges", "count"),
            *(Column(key, f"fin_col_{key}", kind) for key, kind in _INDICATORS),
        ),
        rows=tuple(rows),
    )


def _barber_johnson(session: Session, site_id: int, flt: ReportFilter, hospital: BedIndicators) -> Table:
    """One point per ward over the period (TOI, AvLOS, with BOR and BTO), and the hospital's as the total row."""
    grouped = session.execute(
        select(Ward.name, *_sums())
        .join(Ward, Ward.id == WardCensus.ward_id)
        .where(*_conditions(site_id, flt))
        .group_by(Ward.name, WardCensus.ward_id)
        .order_by(Ward.name, WardCensus.ward_id)
    ).all()
    rows = []
    for name, *sums in grouped:
        figures = _figures(*sums)[1]
        rows.append((name, figures.toi, figures.avlos, figures.bor, figures.bto))
    return Table(
        key="barber_johnson",
        title="fin_table_barber_johnson",
        columns=(
            Column("ward", "fin_col_ward", "text"),
            Column("toi", "fin_col_toi", "days"),
            Column("avlos", "fin_col_avlos", "days"),
            Column("bor", "fin_col_bor", "percent"),
            Column("bto", "fin_col_bto", "times"),
        ),
        rows=tuple(rows),
        total=(None, hospital.toi, hospital.avlos, hospital.bor, hospital.bto),
    )
