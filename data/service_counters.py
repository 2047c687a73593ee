"""Counters (a loket, a poli's room, a pharmacy window) as an admin sets them up: create, edit, retire. The
counter page offers a point's active counters as the names to choose from; the bulk import uses
``create_counter`` too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.models import Poli, ServiceCounter
from data.setup_rows import check_version, conflicts_as_input_errors
from domain import setup_rules as rules
from domain.actor import Actor
from domain.errors import InputError
from domain.queue_points import is_known_point, poli_code_of

__all__ = [
    "COUNTER_FIELDS",
    "CounterRow",
    "counters_at",
    "create_counter",
    "list_counters",
    "retire_counter",
    "update_counter",
]

COUNTER_FIELDS = ("code", "name", "point")
CODE_LEN = 16
NAME_LEN = 40  # the counter page keeps 40 characters of a counter's name


def _point(value: object) -> str:
    point = str(value or "").strip()
    if not is_known_point(point):
        raise InputError("counters_err_point")
    return point


_EDIT: dict[str, rules.Rule] = {"name": lambda v: rules.name(v, NAME_LEN), "point": _point}
_NEW: dict[str, rules.Rule] = {"code": lambda v: rules.code(v, CODE_LEN), **_EDIT}


@dataclass(frozen=True)
class CounterRow:
    """A counter as the setup page lists it."""

    id: int
    code: str
    name: str
    point: str
    active: bool
    version: int


def list_counters(session: Session, site_id: int) -> list[CounterRow]:
    """The site's counters, active ones first, by point and code."""
    rows = session.scalars(
        select(ServiceCounter)
        .where(ServiceCounter.site_id == site_id)
        .order_by(ServiceCounter.active.desc(), ServiceCounter.point, ServiceCounter.code)
    )
    return [CounterRow(c.id, c.code, c.name, c.point, c.active, c.version) for c in rows]


def counters_at(session: Session, site_id: int, point: str) -> list[str]:
    """The names of the active counters of one service point, by code (what the counter page offers)."""
    return list(
        session.scalars(
            select(ServiceCounter.name)
            .where(ServiceCounter.site_id == site_id, ServiceCounter.point == point, ServiceCounter.active)
            .order_by(ServiceCounter.code)
        )
    )


def _check_poli(session: Session, site_id: int, point: str) -> None:
    """A poli's point must name an open poli of the site."""
    code = poli_code_of(point)
    if code is None:
        return
    found = session.scalar(select(Poli.id).where(Poli.site_id == site_id, Poli.code == code, Poli.active))
    if found is None:
        raise rules.field_error("point", "counters_err_poli", code=code)


def _counter(session: Session, actor: Actor, counter_id: int) -> ServiceCounter:
    counter = session.get(ServiceCounter, counter_id)
    if counter is None or counter.site_id != actor.site_id:
        raise InputError("err_setup_not_found")
    return counter


def create_counter(session: Session, actor: Actor, values: Mapping[str, object]) -> ServiceCounter:
    """A new active counter of the actor's site from ``COUNTER_FIELDS``; wrong fields raise ``FieldErrors``."""
    clean = rules.check_form(values, _NEW)
    code = str(clean["code"])
    taken = select(ServiceCounter.id).where(ServiceCounter.site_id == actor.site_id, ServiceCounter.code == code)
    if session.scalar(taken) is not None:
        raise rules.field_error("code", "err_setup_code_taken", code=code)
    _check_poli(session, actor.site_id, str(clean["point"]))
    counter = ServiceCounter(site_id=actor.site_id, active=True, **clean)
    session.add(counter)
    session.flush()
    audit.record_by(
        session, actor, "counter_created", target_type="service_counter", target_id=counter.id, detail=clean
    )
    return counter


def update_counter(
    session: Session, actor: Actor, counter_id: int, values: Mapping[str, object], version: int | None
) -> ServiceCounter:
    """Save a counter's name and point (its code stays); a stale form is a conflict."""
    counter = _counter(session, actor, counter_id)
    clean = rules.check_form(values, _EDIT)
    check_version(counter, version)
    _check_poli(session, actor.site_id, str(clean["point"]))
    before = {field: getattr(counter, field) for field in clean}
    for field, value in clean.items():
        setattr(counter, field, value)
    with conflicts_as_input_errors():
        session.flush()
    detail = {"before": before, "after": clean}
    audit.record_by(
        session, actor, "counter_updated", target_type="service_counter", target_id=counter.id, detail=detail
    )
    return counter


def retire_counter(session: Session, actor: Actor, counter_id: int, version: int | None) -> ServiceCounter:
    """Stop offering a counter (kept, with its history)."""
    counter = _counter(session, actor, counter_id)
    check_version(counter, version)
    counter.active = False
    with conflicts_as_input_errors():
        session.flush()
    detail = {"code": counter.code}
    audit.record_by(
        session, actor, "counter_retired", target_type="service_counter", target_id=counter.id, detail=detail
    )
    return counter
