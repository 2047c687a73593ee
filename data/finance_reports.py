"""The finance reports (docs/finance.md): one entry point per report and drill-down, aggregated in SQL.

Revenue reads the ``charge_daily`` rollup; claims, receivables and margins group ``bpjs_claim``, ``invoice`` and
``payment``; bed indicators read ``ward_census``. Values are raw (dates, integer Rupiah, floats, vocabulary
codes); labels are i18n keys: nothing here is translated or formatted.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from data.census import ensure_census
from data.finance_beds import beds_report
from data.finance_claims_report import claims_report, margin_report
from data.finance_drill import claims, receivables, revenue_lines
from data.finance_receivables import receivables_report
from data.finance_revenue import revenue_report
from data.models import BpjsClaim, ChargeDaily, Doctor, Poli, Ward, WardCensus
from domain.finance import DrillPage, Report, ReportFilter

REPORT_KEYS = ("revenue", "claims", "receivables", "margin", "beds")
DRILLS = {"revenue_lines": revenue_lines, "claims": claims, "receivables": receivables}


def build_report(session: Session, site_id: int, key: str, flt: ReportFilter, *, today: date) -> Report:
    """The report ``key`` (one of ``REPORT_KEYS``) for the filter; ``today`` is the site-local day (a running
    period compares its days so far, ``ReportFilter.as_of``). The midnight census is brought up to yesterday first:
    the room and care revenue and the bed indicators come from it, and a site without a consumer (whose
    housekeeping records it) has nothing else to record it on a day nobody opens the bed board."""
    ensure_census(session, site_id, today - timedelta(days=1))
    flt = flt.as_of(today)
    if key == "revenue":
        return revenue_report(session, site_id, flt)
    if key == "claims":
        return claims_report(session, site_id, flt, today)
    if key == "receivables":
        return receivables_report(session, site_id, flt)
    if key == "margin":
        return margin_report(session, site_id, flt)
    if key == "beds":
        return beds_report(session, site_id, flt)
    raise ValueError(f"unknown finance report {key!r}")


def drill(
    session: Session,
    site_id: int,
    flt: ReportFilter,
    name: str,
    row_key: dict,
    *,
    today: date,
    offset: int,
    limit: int,
    sort: str | None = None,
    descending: bool = False,
) -> DrillPage:
    """One page of the rows behind a figure: ``name`` is a table's ``drill``, ``row_key`` one of its ``row_keys``
    (``{}`` = everything in the filter); ``sort`` a column key of the drill-down (others are ignored).

    Keys: revenue_lines ``day`` (ISO), ``unit``, ``payer``, ``poli_id``, ``ward_id``, ``doctor_id``; claims
    ``status``, ``cbg`` (group), ``doctor_id``, ``poli_id``, ``ward_id``, ``sep`` (one claim), ``with_tariff``
    (only claims with an INA-CBG tariff, as the margin counts them); receivables ``payer`` and ``bucket``
    ("0-30", "31-60", "61-90", ">90", the ageing table's column keys, ages on ``today`` in a running period). An
    unknown key is a ``ValueError``."""
    if name not in DRILLS:
        raise ValueError(f"unknown drill-down {name!r}")
    return DRILLS[name](
        session, site_id, flt.as_of(today), row_key, offset=offset, limit=limit, sort=sort, descending=descending
    )


def filter_choices(session: Session, site_id: int) -> dict[str, list[tuple[int, str]]]:
    """The polis, wards and doctors a report can be narrowed to (active ones, by name)."""
    choices = {}
    for name, model in (("polis", Poli), ("wards", Ward), ("doctors", Doctor)):
        rows = session.execute(
            select(model.id, model.name).where(model.site_id == site_id, model.active.is_(True)).order_by(model.name)
        )
        choices[name] = [(ident, label) for ident, label in rows]
    return choices


def period_bounds(session: Session, site_id: int) -> tuple[date, date] | None:
    """The first and last day with any finance data (charges, claims or census); ``None`` when there is none."""
    spans = union_all(
        select(func.min(ChargeDaily.service_date).label("lo"), func.max(ChargeDaily.service_date).label("hi")).where(
            ChargeDaily.site_id == site_id
        ),
        select(func.min(BpjsClaim.service_end), func.max(BpjsClaim.service_end)).where(BpjsClaim.site_id == site_id),
        select(func.min(WardCensus.day), func.max(WardCensus.day))
        .join(Ward, Ward.id == WardCensus.ward_id)
        .where(Ward.site_id == site_id),
    ).subquery()
    lo, hi = session.execute(select(func.min(spans.c.lo), func.max(spans.c.hi))).one()
    if lo is None:
        return None
    return (lo if isinstance(lo, date) else date.fromisoformat(lo)), (
        hi if isinstance(hi, date) else date.fromisoformat(hi)
    )
