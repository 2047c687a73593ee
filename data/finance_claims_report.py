"""The BPJS claims report and the INA-CBG margin report, grouped in SQL over ``bpjs_claim`` (period = service end).

A claim's *value* is what is or will be claimed: the submitted amount once submitted, before that its INA-CBG
tariff, before grouping the hospital tariff. The acceptance rate is eligible + paid over the decided claims
(eligible + paid + not eligible). A claim is *near the limit* while unsubmitted within 30 days of (or past) its
6-month submission deadline (``domain.claim_rules``). Margin = INA-CBG tariff − hospital tariff; margin % is over
the hospital tariff (the share of its own tariff the hospital gains or loses).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import case, func, join, literal, select, true, union_all
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


def _by_status_sums(session: Session, site_id: int, flt: ReportFilter) -> dict[str, tuple[int, ...]]:
    """Per status: claims, submitted, approved, value, and the sum and count of the discharge → submission and
    submission → payment days (one scan of the period's claims)."""
    to_submission = days_between(session, BpjsClaim.submitted_on, BpjsClaim.service_end)
    to_payment = days_between(session, BpjsClaim.paid_on, BpjsClaim.submitted_on)
    rows = session.execute(
        select(
            BpjsClaim.status,
            func.count(),
            func.coalesce(func.sum(BpjsClaim.submitted_amount), 0),
            func.coalesce(func.sum(BpjsClaim.approved_amount), 0),
            func.coalesce(func.sum(claim_value()), 0),
            func.coalesce(func.sum(to_submission), 0),
            func.count(to_submission),
            func.coalesce(func.sum(to_payment), 0),
            func.count(to_payment),
        )
        .where(*claim_conditions(site_id, flt))
        .group_by(BpjsClaim.status)
    )
    return {row[0]: tuple(int(value) for value in row[1:]) for row in rows}


def _summary(by_status: dict[str, tuple[int, ...]]) -> dict:
    """Count, values, acceptance rate and mean lead times of the claims in the filter."""

    def total(index: int, states=None) -> int:
        return sum(sums[index] for status, sums in by_status.items() if states is None or status in states)

    decided = total(0, DECIDED)
    return {
        "claims": total(0),
        "submitted_value": total(1),
        "approved_value": total(2),
        "acceptance_rate": None if not decided else total(0, ACCEPTED) / decided * 100.0,
        "discharge_to_submission_days": None if not total(5) else total(4) / total(5),
        "submission_to_payment_days": None if not total(7) else total(6) / total(7),
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
    by_status = _by_status_sums(session, site_id, flt)
    now = _summary(by_status)
    before = _summary(_by_status_sums(session, site_id, flt.previous()))
    year_ago = _summary(_by_status_sums(session, site_id, flt.last_year()))
    near = _near_limit_query(site_id, flt, today)
    near_count = session.scalar(select(func.count()).select_from(near.subquery())) or 0
    kpis = [Kpi(key, label, now[key], kind, before[key], year_ago[key]) for key, label, kind in _KPIS]
    kpis.insert(4, Kpi("near_limit", "fin_kpi_near_limit", int(near_count), "count"))
    tables = (
        _by_status(by_status),
        _pending_disputed(session, site_id, flt, today),
        _near_limit(session, near, today),
        _lead_times(session, site_id, flt),
    )
    return Report("claims", "fin_report_claims", tuple(kpis), tables)


def _by_status(by_status: dict[str, tuple[int, ...]]) -> Table:
    statuses = [status for status in CLAIM_STATES if status in by_status]
    rows = tuple((status, by_status[status][0], by_status[status][3]) for status in statuses)
    return Table(
        key="by_status",
        title="fin_table_by_status",
        columns=(
            Column("status", "fin_col_status", "claim_status"),
            Column("count", "fin_col_count", "count"),
            Column("value", "fin_col_value", "rupiah"),
        ),
        rows=rows,
        total=(None, sum(row[1] for row in rows), sum(row[2] for row in rows)),
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


_STAGES = (
    ("fin_lead_discharge_submission", "submitted_on", "service_end"),
    ("fin_lead_submission_verification", "verified_on", "submitted_on"),
    ("fin_lead_submission_payment", "paid_on", "submitted_on"),
)


def _lead_times(session: Session, site_id: int, flt: ReportFilter) -> Table:
    """Mean, median and 90th percentile of each stage, from histograms of whole days grouped in SQL (one scan:
    each claim is paired with the three stages)."""
    stages = union_all(*(select(literal(n).label("stage")) for n in range(len(_STAGES)))).subquery()
    days = case(
        *(
            (stages.c.stage == n, days_between(session, getattr(BpjsClaim, later), getattr(BpjsClaim, earlier)))
            for n, (_, later, earlier) in enumerate(_STAGES)
        )
    )
    histograms: dict[int, list[tuple[int, int]]] = {n: [] for n in range(len(_STAGES))}
    for stage, value, count in session.execute(
        select(stages.c.stage, days, func.count())
        .select_from(join(BpjsClaim, stages, true()))
        .where(*claim_conditions(site_id, flt), days.is_not(None))
        .group_by(stages.c.stage, days)
        .order_by(stages.c.stage, days)
    ):
        histograms[int(stage)].append((int(value), int(count)))
    return Table(
        key="lead_times",
        title="fin_table_lead_times",
        columns=(
            Column("measure", "fin_col_measure", "label"),
            Column("mean", "fin_col_mean", "days"),
            Column("median", "fin_col_median", "days"),
            Column("p90", "fin_col_p90", "days"),
        ),
        rows=tuple((label, *lead_statistics(histograms[n])) for n, (label, _, _) in enumerate(_STAGES)),
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


def _margin_groups(session: Session, site_id: int, flt: ReportFilter) -> list[tuple]:
    """(doctor id, CBG group, cases, hospital tariff, INA-CBG tariff) of the claims with an INA-CBG tariff,
    summed in SQL: at most doctors × CBG groups rows, from which the KPIs and both tables are added up."""
    group = cbg_group()
    rows = session.execute(
        select(
            BpjsClaim.doctor_id,
            group,
            func.count(),
            func.sum(BpjsClaim.hospital_tariff),
            func.sum(BpjsClaim.inacbg_tariff),
        )
        .where(*claim_conditions(site_id, flt), BpjsClaim.inacbg_tariff.is_not(None))
        .group_by(BpjsClaim.doctor_id, group)
    )
    return [(doctor, code, int(n), int(hospital), int(inacbg)) for doctor, code, n, hospital, inacbg in rows]


def _add_up(groups: list[tuple], index: int) -> dict[object, tuple[int, int, int]]:
    """Cases, hospital and INA-CBG tariff per value of ``groups``' column ``index`` (``None`` left out)."""
    sums: dict[object, list[int]] = defaultdict(lambda: [0, 0, 0])
    for group in groups:
        if group[index] is not None:
            for n in range(3):
                sums[group[index]][n] += group[2 + n]
    return {key: tuple(value) for key, value in sums.items()}


def _totals(groups: list[tuple]) -> tuple[int, int, int]:
    return tuple(sum(group[2 + n] for group in groups) for n in range(3))


def margin_report(session: Session, site_id: int, flt: ReportFilter) -> Report:
    groups = _margin_groups(session, site_id, flt)
    now = _totals(groups)
    before = _totals(_margin_groups(session, site_id, flt.previous()))
    year_ago = _totals(_margin_groups(session, site_id, flt.last_year()))

    def kpi(key: str, label: str, pick, kind: str = "rupiah") -> Kpi:
        return Kpi(key, label, pick(now), kind, pick(before), pick(year_ago))

    kpis = (
        kpi("cases", "fin_kpi_cases", lambda t: t[0], "count"),
        kpi("hospital_tariff", "fin_kpi_hospital_tariff", lambda t: t[1]),
        kpi("inacbg_tariff", "fin_kpi_inacbg_tariff", lambda t: t[2]),
        kpi("margin", "fin_kpi_margin", lambda t: t[2] - t[1]),
    )
    return Report("margin", "fin_report_margin", kpis, (_per_cbg(groups), _per_doctor(session, groups)))


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


def _per_cbg(groups: list[tuple]) -> Table:
    sums = _add_up(groups, 1)
    codes = sorted(sums)
    return Table(
        key="per_cbg",
        title="fin_table_per_cbg",
        columns=(Column("cbg", "fin_col_cbg", "text"), *_MARGIN_COLUMNS),
        rows=tuple((code, *_margin_row(*sums[code])) for code in codes),
        total=(None, *_margin_row(*_totals([g for g in groups if g[1] is not None]))),
        drill="claims",
        row_keys=tuple({"cbg": code} for code in codes),
    )


def _per_doctor(session: Session, groups: list[tuple]) -> Table:
    sums = _add_up(groups, 0)
    names = dict(session.execute(select(Doctor.id, Doctor.name).where(Doctor.id.in_(list(sums)))).all()) if sums else {}
    doctors = sorted(sums, key=lambda ident: (names.get(ident, ""), ident))
    return Table(
        key="per_doctor",
        title="fin_table_per_doctor",
        columns=(Column("doctor", "fin_col_doctor", "text"), *_MARGIN_COLUMNS),
        rows=tuple((names.get(ident, ""), *_margin_row(*sums[ident])) for ident in doctors),
        total=(None, *_margin_row(*_totals([g for g in groups if g[0] is not None]))),
        drill="claims",
        row_keys=tuple({"doctor_id": ident, "with_tariff": True} for ident in doctors),
    )
