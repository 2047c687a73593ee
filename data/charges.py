"""Charge lines: the one way revenue enters Pantau (captured events, procedures, SIMRS imports).

``add_charge_lines`` inserts lines idempotently (``(site, source, source_id)`` is unique) and adds what it inserted
to the ``charge_daily`` rollup in the same transaction, with an atomic ``INSERT … ON CONFLICT DO UPDATE`` so two
web workers or a worker and an import never lose an increment. ``rebuild_daily`` recomputes the rollup from the
lines (after a bulk load, or to repair). Prices come from the tariff master (``price_of``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from data.db import allow_long_statements
from data.models import ChargeDaily, ChargeLine, Tariff
from data.upsert import insert_dialect

DAILY_KEYS = ("service_date", "unit", "payer", "poli_id", "ward_id", "doctor_id")


@dataclass(frozen=True)
class NewCharge:
    """A charge line to write. ``amount`` defaults to ``quantity × unit_price``; a reversal has a negative price."""

    service_date: date
    unit: str
    payer: str
    tariff_code: str
    description: str
    source_id: str
    unit_price: int
    quantity: int = 1
    amount: int | None = None
    priced: bool = True
    source: str = "pantau"
    poli_id: int | None = None
    ward_id: int | None = None
    doctor_id: int | None = None
    patient_id: int | None = None
    visit_id: int | None = None
    admission_id: int | None = None
    created_by: int | None = None

    def row(self, site_id: int) -> dict:
        values = asdict(self)
        values["amount"] = self.quantity * self.unit_price if self.amount is None else self.amount
        return {"site_id": site_id, **values}


# Built once, so each call only binds its values (building and keying the statement cost more than running it).
_TARIFF_IN_FORCE = (
    select(Tariff)
    .where(
        Tariff.site_id == bindparam("site_id"),
        Tariff.code == bindparam("code"),
        Tariff.valid_from <= bindparam("day"),
        or_(Tariff.valid_until.is_(None), Tariff.valid_until >= bindparam("day")),
        or_(Tariff.care_class.is_(None), Tariff.care_class == bindparam("care_class")),
        or_(Tariff.payer.is_(None), Tariff.payer == bindparam("payer")),
    )
    .order_by(
        case((Tariff.care_class.is_(None), 1), else_=0),
        case((Tariff.payer.is_(None), 1), else_=0),
        Tariff.valid_from.desc(),
        Tariff.id.desc(),
    )
    .limit(1)
)


def price_of(
    session: Session, site_id: int, code: str, day: date, *, care_class: str | None = None, payer: str | None = None
) -> Tariff | None:
    """The tariff of ``code`` in force on ``day``: a row for this class and payer beats one for every class or
    every payer; among equals the latest ``valid_from`` wins. ``None`` when no row is in force."""
    values = {"site_id": site_id, "code": code, "day": day, "care_class": care_class, "payer": payer}
    return session.scalar(_TARIFF_IN_FORCE, values)


class PriceBook:
    """``price_of`` answered once per question within one task: a day's room and care for every bed in the hospital
    asks the same few (code, class, payer). It lives as long as the task, in its session, so a tariff changed later
    is read again by the next one."""

    def __init__(self, session: Session, site_id: int) -> None:
        self._session = session
        self._site_id = site_id
        self._known: dict[tuple[str, date, str | None, str | None], Tariff | None] = {}

    def price(self, code: str, day: date, *, care_class: str | None = None, payer: str | None = None) -> Tariff | None:
        key = (code, day, care_class, payer)
        if key not in self._known:
            self._known[key] = price_of(self._session, self._site_id, code, day, care_class=care_class, payer=payer)
        return self._known[key]


def priced_charge(
    session: Session,
    site_id: int,
    code: str,
    *,
    day: date,
    payer: str,
    source_id: str,
    care_class: str | None = None,
    quantity: int = 1,
    unit: str | None = None,
    book: PriceBook | None = None,
    **links: int | None,
) -> NewCharge:
    """A charge of ``code`` at the tariff in force (asked of ``book`` when the caller prices many lines). Without a
    tariff the line is still written (nothing earned is lost) with price 0 and ``priced=False``, and the reports
    count it as unpriced; ``unit`` is then required."""
    tariff = (book or PriceBook(session, site_id)).price(code, day, care_class=care_class, payer=payer)
    if tariff is None and unit is None:
        raise ValueError(f"no tariff {code!r} in force and no unit given")
    return NewCharge(
        service_date=day,
        unit=tariff.unit if tariff is not None else unit,
        payer=payer,
        tariff_code=code,
        description=tariff.name if tariff is not None else code,
        source_id=source_id,
        unit_price=tariff.amount if tariff is not None else 0,
        quantity=quantity,
        priced=tariff is not None,
        **links,
    )


def add_charge_lines(session: Session, site_id: int, charges: Iterable[NewCharge]) -> int:
    """Insert the lines not yet written (by ``source_id``) and add them to the daily rollup; returns how many
    were new. Runs in the caller's transaction, so the lines and the event that earned them commit together."""
    rows = [charge.row(site_id) for charge in charges]
    if not rows:
        return 0
    statements = _statements(session.get_bind().dialect.name)
    inserted = session.execute(statements.lines, rows).all()
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for day, unit, payer, poli_id, ward_id, doctor_id, amount in inserted:
        line_sum = sums[(day, unit, payer, poli_id or 0, ward_id or 0, doctor_id or 0)]  # 0: none, as a key
        line_sum[0] += amount
        line_sum[1] += 1
    if not sums:
        return 0
    daily = [
        {"site_id": site_id, **dict(zip(DAILY_KEYS, key, strict=True)), "amount": amount, "lines": lines}
        for key, (amount, lines) in sums.items()
    ]
    session.execute(statements.daily, daily)
    return len(inserted)


@dataclass(frozen=True)
class _Statements:
    lines: Any  # INSERT … ON CONFLICT DO NOTHING RETURNING the rollup's keys and the amount of each new line
    daily: Any  # INSERT … ON CONFLICT DO UPDATE adding amounts and line counts to the rollup


@functools.cache
def _statements(dialect: str) -> _Statements:
    """The two statements for ``dialect``, built once and run with the rows as parameters (SQLAlchemy sends them as
    multi-row INSERTs, "insertmanyvalues", paged within each backend's parameter limit)."""
    lines, daily = ChargeLine.__table__, ChargeDaily.__table__
    upsert = insert_dialect(dialect, daily)
    return _Statements(
        lines=insert_dialect(dialect, lines)
        .on_conflict_do_nothing(index_elements=["site_id", "source", "source_id"])
        .returning(*(lines.c[key] for key in (*DAILY_KEYS, "amount"))),
        daily=upsert.on_conflict_do_update(
            index_elements=["site_id", *DAILY_KEYS],
            set_={"amount": daily.c.amount + upsert.excluded.amount, "lines": daily.c.lines + upsert.excluded.lines},
        ),
    )


def rebuild_daily(session: Session, site_id: int, start: date, end: date) -> int:
    """Recompute ``charge_daily`` for ``start``..``end`` from the lines; returns the rollup rows written."""
    allow_long_statements(session)  # a year of a large hospital's lines takes longer than a request may
    session.execute(
        delete(ChargeDaily).where(
            ChargeDaily.site_id == site_id, ChargeDaily.service_date >= start, ChargeDaily.service_date <= end
        )
    )
    line = ChargeLine.__table__.c
    grouped = (
        select(
            line.site_id,
            line.service_date,
            line.unit,
            line.payer,
            func.coalesce(line.poli_id, 0),
            func.coalesce(line.ward_id, 0),
            func.coalesce(line.doctor_id, 0),
            func.sum(line.amount),
            func.count(),
        )
        .where(and_(line.site_id == site_id, line.service_date >= start, line.service_date <= end))
        .group_by(
            line.site_id,
            line.service_date,
            line.unit,
            line.payer,
            func.coalesce(line.poli_id, 0),
            func.coalesce(line.ward_id, 0),
            func.coalesce(line.doctor_id, 0),
        )
    )
    columns = ["site_id", *DAILY_KEYS, "amount", "lines"]
    result = session.execute(insert(ChargeDaily).from_select(columns, grouped))
    return result.rowcount or 0
