"""SQL pieces the finance reports share: what a ``ReportFilter`` means for each table, date arithmetic that works on
PostgreSQL and SQLite, and server-side paging of a drill-down."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import Date, Integer, Select, cast, false, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from data.models import BpjsClaim, ChargeDaily, ChargeLine
from domain.finance import Column, DrillPage, ReportFilter

# A claim's episode for the finance units that have one; any other unit has no claims.
EPISODE_OF_UNIT = {"rawat_jalan": "rawat_jalan", "rawat_inap": "rawat_inap"}


def charge_conditions(model: type[ChargeDaily] | type[ChargeLine], site_id: int, flt: ReportFilter) -> list:
    """The filter on ``charge_daily`` or ``charge_line`` (their columns share names; 0 = none in the rollup)."""
    conditions = [model.site_id == site_id, model.service_date >= flt.start, model.service_date <= flt.end]
    for name in ("unit", "payer", "poli_id", "ward_id", "doctor_id"):
        value = getattr(flt, name)
        if value is not None:
            conditions.append(getattr(model, name) == value)
    return conditions


def claim_conditions(site_id: int, flt: ReportFilter, *, period: bool = True) -> list:
    """The filter on ``bpjs_claim``: service end in the period, poli/ward/doctor, the unit's episode; a non-JKN
    payer or a unit without episodes matches nothing."""
    conditions: list = [BpjsClaim.site_id == site_id]
    if period:
        conditions += [BpjsClaim.service_end >= flt.start, BpjsClaim.service_end <= flt.end]
    for name in ("poli_id", "ward_id", "doctor_id"):
        value = getattr(flt, name)
        if value is not None:
            conditions.append(getattr(BpjsClaim, name) == value)
    if flt.unit is not None:
        episode = EPISODE_OF_UNIT.get(flt.unit)
        conditions.append(BpjsClaim.episode == episode if episode else false())
    if flt.payer not in (None, "jkn"):
        conditions.append(false())
    return conditions


def days_between(session: Session, later: ColumnElement | date, earlier: ColumnElement | date) -> ColumnElement:
    """Whole days from ``earlier`` to ``later`` (date columns or Python dates) in SQL."""
    later, earlier = (literal(v, Date) if isinstance(v, date) else v for v in (later, earlier))
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(later - earlier, Integer)


def month_of(session: Session, day: ColumnElement) -> ColumnElement:
    """The first day of ``day``'s month (an ISO string on SQLite: read it with ``as_date``)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-01", day)
    return cast(func.date_trunc("month", day), Date)


def as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def share(part: int, whole: int) -> float | None:
    return None if not whole else part / whole * 100.0


def page(
    session: Session,
    query: Select,
    columns: tuple[Column, ...],
    sort_keys: Mapping[str, ColumnElement],
    tiebreak: tuple[ColumnElement, ...],
    count: int | None = None,
    *,
    offset: int,
    limit: int,
    sort: str | None,
    descending: bool,
) -> DrillPage:
    """One page of ``query`` ordered by a whitelisted column key, then by ``tiebreak`` (unknown keys: by
    ``tiebreak`` alone, which should follow an index so a first page reads only its rows), with the count of all
    its rows (counted here unless the caller knows it, e.g. from a rollup)."""
    if count is None:
        count = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    order = []
    if sort in sort_keys:
        key = sort_keys[sort]
        order.append(key.desc() if descending else key.asc())
    order.extend(column.desc() if descending else column.asc() for column in tiebreak)
    rows = session.execute(query.order_by(*order).offset(max(offset, 0)).limit(max(min(limit, 1000), 0))).all()
    return DrillPage(columns=columns, rows=tuple(tuple(row) for row in rows), count=count)
