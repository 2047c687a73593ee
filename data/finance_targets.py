"""Monthly finance targets (``/keuangan/target``) and the target of any period the reports compare with.

Pro-rating rule: a period's target is the sum, over the months it touches, of each month's target × the days of
that month inside the period ÷ the days of that month, rounded to the Rupiah once at the end (half up). So
1–15 June of a Rp 30.000.000 month is Rp 15.000.000, and 16 January–15 February takes 16/31 of January and 15/28 of
February (2026). A month without a target adds nothing; a period none of whose months has a target has no target
(``None``), so a report shows "no target" rather than a target of 0.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from data import audit
from data.models import FinanceTarget
from domain.actor import Actor
from domain.errors import FieldErrors, InputError
from domain.finance import TARGET_METRICS, UNITS
from domain.tariff_rules import parse_rupiah


@dataclass(frozen=True)
class TargetCell:
    month: date
    metric: str
    amount: int


def _first(day: date) -> date:
    return day.replace(day=1)


def set_target(
    session: Session, actor: Actor, site_id: int, month: date, metric: str, unit: str, amount: int | str | None
) -> int | None:
    """Set (or with a blank amount, remove) the target of ``metric`` for ``month`` and ``unit`` ('' = the whole
    hospital); ``amount`` is integer Rupiah or what was typed ("1.500.000.000"). Returns the stored amount;
    audited when something changed."""
    if metric not in TARGET_METRICS:
        raise InputError("tgt_err_metric")
    if unit and unit not in UNITS:
        raise InputError("tgt_err_unit")
    month = _first(month)
    blank = amount is None or (isinstance(amount, str) and not amount.strip())
    value = None if blank else (amount if isinstance(amount, int) else parse_rupiah(amount))
    if isinstance(value, int) and value < 0:
        raise InputError("tar_err_amount_negative")
    key = (site_id, month, metric, unit)
    row = session.get(FinanceTarget, key)
    before = None if row is None else row.amount
    if before == value:
        return value
    if value is None:
        session.execute(
            delete(FinanceTarget).where(
                FinanceTarget.site_id == site_id,
                FinanceTarget.month == month,
                FinanceTarget.metric == metric,
                FinanceTarget.unit == unit,
            )
        )
    elif row is None:
        session.add(
            FinanceTarget(site_id=site_id, month=month, metric=metric, unit=unit, amount=value, set_by=actor.user_id)
        )
    else:
        row.amount, row.set_by = value, actor.user_id
    audit.record_by(
        session,
        actor,
        "finance_target_set",
        target_type="finance_target",
        target_id=f"{month.isoformat()}:{metric}:{unit or '*'}",
        detail={"before": before, "after": value},
    )
    return value


def year_targets(session: Session, site_id: int, year: int, unit: str = "") -> list[TargetCell]:
    """The targets set for the months of ``year`` (for ``unit``, '' = the whole hospital)."""
    rows = session.scalars(
        select(FinanceTarget).where(
            FinanceTarget.site_id == site_id,
            FinanceTarget.unit == unit,
            FinanceTarget.month >= date(year, 1, 1),
            FinanceTarget.month <= date(year, 12, 1),
        )
    )
    return [TargetCell(row.month, row.metric, row.amount) for row in rows]


def prorated(monthly: dict[date, int], start: date, end: date) -> int | None:
    """The pro-rated target of ``start``..``end`` (inclusive) from targets keyed by the month's first day."""
    total, found = Fraction(0), False
    month = _first(start)
    while month <= end:
        days = monthrange(month.year, month.month)[1]
        last = month.replace(day=days)
        covered = (min(end, last) - max(start, month)).days + 1
        if month in monthly:
            found = True
            total += Fraction(monthly[month] * covered, days)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    if not found:
        return None
    return int(total + Fraction(1, 2))  # amounts are never negative: half up


def targets_between(session: Session, site_id: int, start: date, end: date, metric: str, unit: str = "") -> int | None:
    """The target of ``metric`` for ``start``..``end`` and ``unit`` ('' = the whole hospital), pro-rated by days
    (module docstring); ``None`` when no month of the period has one."""
    rows = session.execute(
        select(FinanceTarget.month, FinanceTarget.amount).where(
            FinanceTarget.site_id == site_id,
            FinanceTarget.metric == metric,
            FinanceTarget.unit == unit,
            FinanceTarget.month >= _first(start),
            FinanceTarget.month <= end,
        )
    ).all()
    return prorated(dict(rows), start, end)


def save_year(session: Session, actor: Actor, site_id: int, year: int, typed: dict[tuple[int, str], str | None]) -> int:
    """Save a year's grid of whole-hospital targets, ``{(month 1-12, metric): typed amount}`` (blank = none).
    Every cell is checked first: one wrong cell saves nothing (``FieldErrors`` keyed ``"month:metric"``).
    Returns how many targets changed."""
    values: dict[tuple[int, str], int | None] = {}
    errors: dict[str, InputError] = {}
    for (month, metric), text in typed.items():
        try:
            values[(month, metric)] = parse_rupiah(text) if text is not None and str(text).strip() else None
        except InputError as exc:
            errors[f"{month}:{metric}"] = exc
    if errors:
        raise FieldErrors(errors)
    before = {(cell.month.month, cell.metric): cell.amount for cell in year_targets(session, site_id, year)}
    changed = 0
    for (month, metric), value in values.items():
        if before.get((month, metric)) != value:
            set_target(session, actor, site_id, date(year, month, 1), metric, "", value)
            changed += 1
    return changed
