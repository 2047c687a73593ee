"""The BPJS claims report and the INA-CBG margin report, grouped in SQL over ``bpjs_claim`` (period = service end).

A claim's *value* is what is or will be claimed: the submitted amount once submitted, before that its INA-CBG
tariff, before grouping the hospital tariff. The acceptance rate is eligible + paid over the decided claims
(eligible + paid + not eligible). A claim is *near the limit* while unsubmitted within 30 days of (or past) its
6-month submission deadline (``domain.claim_rules``). Margin = INA-CBG tariff − hospital tariff; margin % is over
the hospital tariff (the share of its own tariff the hospital gains or loses).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from data.finance_query import claim_conditions, days_between
from data.models import BpjsClaim, Doctor
from domain.claim_rules import NOT_SUBMITTED, near_limit_cutoff, submission_deadline
from domain.finance import CLAIM_STATES, Column, Kpi, Report, ReportFilter, Table

ACCEPTED = ("eligible", "paid")
DECIDED = ("eligible", "paid", "not_eligible")
OPEN_QUESTIONS = ("pending", "dispute")
TABLE_ROWS = 100  # the report's claim lists show this many; their drill-down has them all
CBG_GROUP_LENGTH = 6  # "K-4-17-I" → "K-4-17": CMG letter, case type, CBG number without the severity


def claim_value() -> object:
    return func.coalesce(BpjsClaim.submitted_amount, BpjsClaim.inacbg_tariff, BpjsClaim.hospital_tariff)


def cbg_group() -> object:
    return func.substr(BpjsClaim.inacbg_code, 1, CBG_GROUP_LENGTH)


def _summary(session: Session, site_id: int, flt: ReportFilter) -> dict:
    """Count, values, acceptance rate and mean lead times of the claims in the filter."""
    accepted = func.sum(case((BpjsClaim.status.in_(ACCEPTED), 1), else_=0))
    decided = func.sum(case((BpjsClaim.status.in_(DECIDED), 1), else_=0))
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(BpjsClaim.submitted_amount), 0),
            func.coalesce(func.sum(BpjsClaim.approved_amount), 0),
            accepted,
            decided,
            func.avg(days_between(session, BpjsClaim.submitted_on, BpjsClaim.service_end)),
            func.avg(days_between(session, BpjsClaim.paid_on, BpjsClaim.submitted_on)),
        ).where(*claim_conditions(site_id, flt))
    ).one()
    count, submitted, approved, accepted_count, decided_count, to_submission, to_payment = row
    return {
        "claims": int(count),
        "submitted_value": int(submitted),
        "approved_value": int(approved),
        "acceptance_rate": None if not decided_count else int(accepted_count) / int(decided_count) * 100.0,
        "discharge_to_submission_days": None if to_submission is None else float(to_submission),
        "submission_to_payment_days": None if to_payment is None else float(to_payment),
    }


_KPIS = (
    ("claims", "fin_kpi_claims", "count"),
    ("submitted_value", "fin_kpi_submitted_value", "rupiah"),
    ("approved_value", "fin_kpi_approved_value", "rupiah"),
    ("acceptance_rate", "fin_kpi_acceptance_rate", "percent"),
    ("discharge_to_submission_days", "fin_kpi_discharge_to_submission", "days"),
    ("submission_to_payment_days", "fin_kpi_submission_to_payment", "days"),
)


def claims_report(session: Session, site_id: int, flt: ReportFilter, today: date) -> Report:
    now = _summary(session, site_id, flt)
    before = _summary(session, site_id, flt.previous())
    year_ago = _summary(session, site_id, flt.last_year())
    near = _near_limit_query(site_id, flt, today)
    near_count = session.scalar(select(func.count()).select_from(near.subquery())) or 0
    kpis = [Kpi(key, label, now[key], kind, before[key], year_ago[key]) for key, label, kind in _KPIS]
    kpis.insert(4, Kpi("near_limit", "fin_kpi_near_limit", int(near_count), "count"))
    tables = (
        _by_status(session, site_id, flt),
        _pending_disputed(session, site_id, flt, today),
        _near_limit(session, near, today),
        _lead_times(session, site_id, flt),
    )
    return Report("claims", "fin_report_claims", tuple(kpis), tables)


def _by_status(session: Session, site_id: int, flt: ReportFilter) -> Table:
    value = func.coalesce(func.sum(claim_value()), 0)
    counted = dict(
        (status, (int(count), int(total)))
        for status, count, total in session.execute(
            select(BpjsClaim.status, func.count(), value)
            .where(*claim_conditions(site_id, flt))
            .group_by(BpjsClaim.status)
        )
    )
    statuses = [status for status in CLAIM_STATES if status in counted]
    return Table(
        key="by_status",
        title="fin_table_by_status",
        columns=(
            Column("status", "fin_col_status", "claim_status"),
            Column("count", "fin_col_count", "count"),
            Column("value", "fin_col_value", "rupiah"),
        ),
        rows=tuple((status, *counted[status]) for status in statuses),
        total=(None, sum(c for c, _ in counted.values()), sum(v for _, v in counted.values())),
        drill="claims",
        row_keys=tuple({"status": status} for status in statuses),
    )


def _pending_disputed(session: Session, site_id: int, flt: ReportFilter, today: date) -> Table:
    waiting = days_between(session, today, BpjsClaim.submitted_on)
    rows = session.execute(
        select(BpjsClaim.sep_number, BpjsClaim.status, BpjsClaim.status_reason, waiting)
        .where(*claim_conditions(site_id, flt), BpjsClaim.status.in_(OPEN_QUESTIONS))
        .order_by(BpjsClaim.submitted_on.asc(), BpjsClaim.id)
        .limit(TABLE_ROWS)
    ).all()
    return Table(
        key="pending_disputed",
        title="fin_table_pending_disputed",
        columns=(
            Column("sep", "fin_col_sep", "text"),
            Column("status", "fin_col_status", "claim_status"),
            Column("reason", "fin_col_reason", "text"),
            Column("days_since_submission", "fin_col_days_since_submission", "count"),
        ),
        rows=tuple((sep, status, reason, None if days is None else int(days)) for sep, status, reason, days in rows),
        drill="claims",
        row_keys=tuple({"sep": row[0]} for row in rows),
    )


def _near_limit_query(site_id: int, flt: ReportFilter, today: date):
    return select(BpjsClaim.sep_number, BpjsClaim.service_end).where(
        *claim_conditions(site_id, flt),
        BpjsClaim.status.in_(NOT_SUBMITTED),
        BpjsClaim.service_end <= near_limit_cutoff(today),
    )


def _near_limit(session: Session, near, today: date) -> Table:
    rows = session.execute(near.order_by(BpjsClaim.service_end, BpjsClaim.id).limit(TABLE_ROWS)).all()
    listed = []
    for sep, end in rows:
        deadline = submission_deadline(end)
        listed.append((sep, end, deadline, (deadline - today).days))
    return Table(
        key="near_limit",
        title="fin_table_near_limit",
        columns=(
            Column("sep", "fin_col_sep", "text"),
            Column("service_end", "fin_col_service_end", "date"),
            Column("deadline", "fin_col_deadline", "date"),
            Column("days_left", "fin_col_days_left", "count"),
        ),
        rows=tuple(listed),
        drill="claims",
        row_keys=tuple({"sep": sep} for sep, *_ in listed),
    )


def _lead_times(session: Session, site_id: int, flt: ReportFilter) -> Table:
    """Mean, median and 90th percentile of each stage, from a histogram of whole days grouped in SQL."""
    stages = (
        ("fin_lead_discharge_submission", BpjsClaim.submitted_on, BpjsClaim.service_end),
        ("fin_lead_submission_verification", BpjsClaim.verified_on, BpjsClaim.submitted_on),
        ("fin_lead_submission_payment", BpjsClaim.paid_on, BpjsClaim.submitted_on),
    )
    rows = []
    for label, later, earlier in stages:
        days = days_between(session, later, earlier)
        histogram = session.execute(
            select(days, func.count())
            .where(*claim_conditions(site_id, flt), later.is_not(None), earlier.is_not(None))
            .group_by(days)
            .order_by(days)
        ).all()
        rows.append((label, *lead_statistics([(int(d), int(n)) for d, n in histogram])))
    return Table(
        key="lead_times",
        title="fin_table_lead_times",
        columns=(
            Column("measure", "fin_col_measure", "text"),
            Column("mean", "fin_col_mean", "days"),
            Column("median", "fin_col_median", "days"),
            Column("p90", "fin_col_p90", "days"),
        ),
        rows=tuple(rows),
    )


def lead_statistics(histogram: list[tuple[int, int]]) -> tuple[float | None, float | None, float | None]:
    """Mean, median and 90th percentile (linear between ranks, as PostgreSQL's ``percentile_cont``) of a sorted
    histogram of (days, claims)."""
    total = sum(n for _, n in histogram)
    if not total:
        return None, None, None
    mean = sum(d * n for d, n in histogram) / total
    return mean, _percentile(histogram, total, 0.5), _percentile(histogram, total, 0.9)


def _percentile(histogram: list[tuple[int, int]], total: int, fraction: float) -> float:
    position = fraction * (total - 1)
    low, high = int(position), min(int(position) + 1, total - 1)
    return _value_at(histogram, low) + (position - low) * (_value_at(histogram, high) - _value_at(histogram, low))


def _value_at(histogram: list[tuple[int, int]], rank: int) -> int:
    seen = 0
    for days, count in histogram:
        seen += count
        if rank < seen:
            return days
    return histogram[-1][0]


def _margin_totals(session: Session, site_id: int, flt: ReportFilter) -> tuple[int, int, int]:
    cases, hospital, inacbg = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(BpjsClaim.hospital_tariff), 0),
            func.coalesce(func.sum(BpjsClaim.inacbg_tariff), 0),
        ).where(*claim_conditions(site_id, flt), BpjsClaim.inacbg_tariff.is_not(None))
    ).one()
    return int(cases), int(hospital), int(inacbg)


def margin_report(session: Session, site_id: int, flt: ReportFilter) -> Report:
    now, before, year_ago = (_margin_totals(session, site_id, f) for f in (flt, flt.previous(), flt.last_year()))

    def kpi(key: str, label: str, pick, kind: str = "rupiah") -> Kpi:
        return Kpi(key, label, pick(now), kind, pick(before), pick(year_ago))

    kpis = (
        kpi("cases", "fin_kpi_cases", lambda t: t[0], "count"),
        kpi("hospital_tariff", "fin_kpi_hospital_tariff", lambda t: t[1]),
        kpi("inacbg_tariff", "fin_kpi_inacbg_tariff", lambda t: t[2]),
        kpi("margin", "fin_kpi_margin", lambda t: t[2] - t[1]),
    )
    tables = (_per_cbg(session, site_id, flt), _per_doctor(session, site_id, flt))
    return Report("margin", "fin_report_margin", kpis, tables)


def _margin_row(cases: int, hospital: int, inacbg: int) -> tuple:
    margin = inacbg - hospital
    return cases, hospital, inacbg, margin, (None if not hospital else margin / hospital * 100.0)


_MARGIN_COLUMNS = (
    Column("cases", "fin_col_cases", "count"),
    Column("hospital_tariff", "fin_col_hospital_tariff", "rupiah"),
    Column("inacbg_tariff", "fin_col_inacbg_tariff", "rupiah"),
    Column("margin", "fin_col_margin", "rupiah"),
    Column("margin_pct", "fin_col_margin_pct", "percent"),
)


def _margin_sums():
    return func.count(), func.sum(BpjsClaim.hospital_tariff), func.sum(BpjsClaim.inacbg_tariff)


def _margin_total(rows: list[tuple]) -> tuple:
    return (None, *_margin_row(*(sum(row[i] for row in rows) for i in (1, 2, 3))))


def _per_cbg(session: Session, site_id: int, flt: ReportFilter) -> Table:
    group = cbg_group()
    grouped = session.execute(
        select(group, *_margin_sums())
        .where(*claim_conditions(site_id, flt), BpjsClaim.inacbg_tariff.is_not(None))
        .group_by(group)
        .order_by(group)
    ).all()
    rows = [(code, *_margin_row(int(n), int(h), int(i))) for code, n, h, i in grouped]
    return Table(
        key="per_cbg",
        title="fin_table_per_cbg",
        columns=(Column("cbg", "fin_col_cbg", "text"), *_MARGIN_COLUMNS),
        rows=tuple(rows),
        total=_margin_total(rows),
        drill="claims",
        row_keys=tuple({"cbg": row[0]} for row in rows),
    )


def _per_doctor(session: Session, site_id: int, flt: ReportFilter) -> Table:
    grouped = session.execute(
        select(Doctor.id, Doctor.name, *_margin_sums())
        .join(Doctor, Doctor.id == BpjsClaim.doctor_id)
        .where(*claim_conditions(site_id, flt), BpjsClaim.inacbg_tariff.is_not(None))
        .group_by(Doctor.id, Doctor.name)
        .order_by(Doctor.name)
    ).all()
    rows = [(name, *_margin_row(int(n), int(h), int(i))) for _, name, n, h, i in grouped]
    return Table(
        key="per_doctor",
        title="fin_table_per_doctor",
        columns=(Column("doctor", "fin_col_doctor", "text"), *_MARGIN_COLUMNS),
        rows=tuple(rows),
        total=_margin_total(rows),
        drill="claims",
        row_keys=tuple({"doctor_id": ident, "with_tariff": True} for ident, *_ in grouped),
    )
