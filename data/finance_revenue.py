"""The revenue report: earned (from the ``charge_daily`` rollup, never the lines) and received (payments)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import case, func, not_, select
from sqlalchemy.orm import Session

from data.finance_query import charge_conditions, share
from data.finance_targets import targets_between
from data.models import ChargeDaily, ChargeLine, Doctor, Payment, Poli, Ward
from domain.finance import Column, Kpi, Report, ReportFilter, Table

# Payer-only filters: received money has a payer but no unit, poli, ward or doctor.
_UNATTRIBUTED = ("unit", "poli_id", "ward_id", "doctor_id")


def revenue_report(session: Session, site_id: int, flt: ReportFilter) -> Report:
    combos = _combinations(session, site_id, flt)
    earned, lines = sum(c[5] for c in combos), sum(c[6] for c in combos)
    received = _received_by_day(session, site_id, flt)
    received_total = None if received is None else sum(received.values())
    before, year_ago = (earned_total(session, site_id, f) for f in (flt.previous(), flt.last_year()))
    kpis = (
        Kpi(
            "revenue",
            "fin_kpi_revenue",
            earned,
            previous=before[0],
            last_year=year_ago[0],
            target=revenue_target(session, site_id, flt),
        ),
        Kpi(
            "received",
            "fin_kpi_received",
            received_total,
            previous=_received_total(session, site_id, flt.previous()),
            last_year=_received_total(session, site_id, flt.last_year()),
        ),
        Kpi("lines", "fin_kpi_lines", lines, kind="count", previous=before[1], last_year=year_ago[1]),
        Kpi("unpriced", "fin_kpi_unpriced", _unpriced(session, site_id, flt), kind="count"),
    )
    tables = (
        _by_day(session, site_id, flt, received),
        _by_code(combos, 0, "unit"),
        _by_code(combos, 1, "payer"),
        _by_name(session, combos, 2, "poli_id", Poli),
        _by_name(session, combos, 3, "ward_id", Ward),
        _by_name(session, combos, 4, "doctor_id", Doctor),
    )
    return Report("revenue", "fin_report_revenue", kpis, tables)


def _combinations(session: Session, site_id: int, flt: ReportFilter) -> list[tuple]:
    """The period's revenue and lines per (unit, payer, poli, ward, doctor), summed over its days in SQL: a few
    thousand rows at most, from which every breakdown but the daily one is added up."""
    daily = ChargeDaily
    keys = (daily.unit, daily.payer, daily.poli_id, daily.ward_id, daily.doctor_id)
    rows = session.execute(
        select(*keys, func.sum(daily.amount), func.sum(daily.lines))
        .where(*charge_conditions(daily, site_id, flt))
        .group_by(*keys)
    )
    return [(*row[:5], int(row[5]), int(row[6])) for row in rows]


def earned_total(session: Session, site_id: int, flt: ReportFilter) -> tuple[int, int]:
    """Revenue and lines of the filter's period."""
    amount, lines = session.execute(
        select(func.coalesce(func.sum(ChargeDaily.amount), 0), func.coalesce(func.sum(ChargeDaily.lines), 0)).where(
            *charge_conditions(ChargeDaily, site_id, flt)
        )
    ).one()
    return int(amount), int(lines)


def _unpriced(session: Session, site_id: int, flt: ReportFilter) -> int:
    query = select(func.count()).where(*charge_conditions(ChargeLine, site_id, flt), not_(ChargeLine.priced))
    return int(session.scalar(query) or 0)


def _received_by_day(session: Session, site_id: int, flt: ReportFilter) -> dict[date, int] | None:
    """Money in per day (payments and deposits minus refunds); ``None`` under a unit, poli, ward or doctor filter,
    which payments cannot be attributed to."""
    if any(getattr(flt, name) is not None for name in _UNATTRIBUTED):
        return None
    signed = case((Payment.kind == "refund", -Payment.amount), else_=Payment.amount)
    conditions = [Payment.site_id == site_id, Payment.paid_on >= flt.start, Payment.paid_on <= flt.end]
    if flt.payer is not None:
        conditions.append(Payment.payer == flt.payer)
    rows = session.execute(select(Payment.paid_on, func.sum(signed)).where(*conditions).group_by(Payment.paid_on))
    return {day: int(amount) for day, amount in rows}


def _received_total(session: Session, site_id: int, flt: ReportFilter) -> int | None:
    received = _received_by_day(session, site_id, flt)
    return None if received is None else sum(received.values())


def revenue_target(session: Session, site_id: int, flt: ReportFilter) -> int | None:
    """The revenue target of the period's days so far (pro-rated by days, ``data.finance_targets``); only for the
    whole site or one unit (``None`` under other filters or without targets)."""
    if any(getattr(flt, name) is not None for name in ("payer", "poli_id", "ward_id", "doctor_id")):
        return None
    return targets_between(session, site_id, flt.start, flt.counted_end, "revenue", flt.unit or "")


def _by_day(session: Session, site_id: int, flt: ReportFilter, received: dict[date, int] | None) -> Table:
    """Earned and received per day, through today in a running period: a day still to come is not a day of Rp 0."""
    earned = dict(
        session.execute(
            select(ChargeDaily.service_date, func.sum(ChargeDaily.amount))
            .where(*charge_conditions(ChargeDaily, site_id, flt))
            .group_by(ChargeDaily.service_date)
        ).all()
    )
    days = [flt.start + timedelta(days=n) for n in range((flt.counted_end - flt.start).days + 1)]
    rows = tuple((day, int(earned.get(day, 0)), None if received is None else received.get(day, 0)) for day in days)
    total_received = None if received is None else sum(received.values())
    return Table(
        key="by_day",
        title="fin_table_by_day",
        columns=(
            Column("day", "fin_col_day", "date"),
            Column("earned", "fin_col_earned", "rupiah"),
            Column("received", "fin_col_received", "rupiah"),
        ),
        rows=rows,
        total=(None, sum(row[1] for row in rows), total_received),
        drill="revenue_lines",
        row_keys=tuple({"day": day.isoformat()} for day in days),
    )


def _by_code(combos: list[tuple], index: int, name: str) -> Table:
    """Revenue per unit or per payer with each one's share (the payer mix)."""
    sums: dict[str, int] = defaultdict(int)
    for combo in combos:
        sums[combo[index]] += combo[5]
    grouped = sorted(sums.items(), key=lambda item: (-item[1], item[0]))
    whole = sum(sums.values())
    return Table(
        key=f"by_{name}",
        title=f"fin_table_by_{name}",
        columns=(
            Column(name, f"fin_col_{name}", name),
            Column("amount", "fin_col_amount", "rupiah"),
            Column("share", "fin_col_share", "percent"),
        ),
        rows=tuple((code, value, share(value, whole)) for code, value in grouped),
        total=(None, whole, 100.0 if whole else None),
        drill="revenue_lines",
        row_keys=tuple({name: code} for code, _ in grouped),
    )


def _by_name(session: Session, combos: list[tuple], index: int, name: str, model: type) -> Table:
    """Revenue per poli, ward or doctor (rollup rows without one, id 0, are left out)."""
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for combo in combos:
        if combo[index]:
            sums[combo[index]][0] += combo[5]
            sums[combo[index]][1] += combo[6]
    names = dict(session.execute(select(model.id, model.name).where(model.id.in_(list(sums)))).all()) if sums else {}
    grouped = sorted(sums.items(), key=lambda item: (-item[1][0], names.get(item[0], "")))
    table = name.removesuffix("_id")
    return Table(
        key=f"by_{table}",
        title=f"fin_table_by_{table}",
        columns=(
            Column("name", f"fin_col_{table}", "text"),
            Column("amount", "fin_col_amount", "rupiah"),
            Column("lines", "fin_col_lines", "count"),
        ),
        rows=tuple((names.get(ident, ""), amount, lines) for ident, (amount, lines) in grouped),
        total=(None, sum(a for a, _ in sums.values()), sum(n for _, n in sums.values())),
        drill="revenue_lines",
        row_keys=tuple({name: ident} for ident, _ in grouped),
    )
