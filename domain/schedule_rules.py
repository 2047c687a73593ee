"""Rules of a doctor's weekly practice plan (jadwal praktik), stated once:

- a session ends after it starts; a doctor may have several sessions a day;
- two sessions of ONE doctor never overlap on the same weekday while their validity ranges overlap — at any poli
  (touching sessions, 08:00–12:00 then 12:00–16:00, are fine; so are sessions valid in disjoint date ranges);
- quotas are ≥ 0 and the capacity, when given, is at least the JKN plus the non-JKN quota;
- a validity range that ends, ends on or after its first day (either end may be open).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from domain.errors import FieldErrors, InputError
from domain.formats import Weekday


@dataclass(frozen=True)
class PlanSession:
    """One weekly session as the rules see it (``id`` None: not saved yet; ``poli_name`` names it in messages)."""

    id: int | None
    doctor_id: int
    weekday: int  # 0 = Monday
    start: time
    end: time
    quota_jkn: int = 0
    quota_non_jkn: int = 0
    capacity: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    poli_name: str = ""


def validity_overlaps(a: PlanSession, b: PlanSession) -> bool:
    """Whether two validity ranges share a day (an open end reaches forever)."""
    return (a.valid_until is None or b.valid_from is None or b.valid_from <= a.valid_until) and (
        b.valid_until is None or a.valid_from is None or a.valid_from <= b.valid_until
    )


def clashes(a: PlanSession, b: PlanSession) -> bool:
    """Whether ``a`` and ``b`` are the same doctor's, on the same weekday, overlapping in time and validity."""
    return (
        a.doctor_id == b.doctor_id
        and a.weekday == b.weekday
        and a.start < b.end
        and b.start < a.end
        and validity_overlaps(a, b)
    )


def session_errors(plan: PlanSession, others: Iterable[PlanSession]) -> dict[str, InputError]:
    """Every broken rule of ``plan`` against the doctor's ``others`` (its own saved row is skipped), by field."""
    errors: dict[str, InputError] = {}
    if plan.end <= plan.start:
        errors["end"] = InputError("err_schedule_end_before_start")
    for field, quota in (("quota_jkn", plan.quota_jkn), ("quota_non_jkn", plan.quota_non_jkn)):
        if quota < 0:
            errors[field] = InputError("err_schedule_quota_negative")
    total = plan.quota_jkn + plan.quota_non_jkn
    if plan.capacity is not None and plan.capacity < total:
        errors["capacity"] = InputError("err_schedule_capacity", capacity=plan.capacity, total=total)
    if plan.valid_from and plan.valid_until and plan.valid_until < plan.valid_from:
        errors["valid_until"] = InputError("err_schedule_validity")
    if "end" not in errors:
        clash = next((o for o in others if (plan.id is None or o.id != plan.id) and clashes(plan, o)), None)
        if clash is not None:
            errors["start"] = InputError(
                "err_schedule_overlap",
                day=Weekday(clash.weekday),
                start=clash.start,
                end=clash.end,
                poli=clash.poli_name,
            )
    return errors


def check_session(plan: PlanSession, others: Iterable[PlanSession]) -> None:
    """Raise ``FieldErrors`` naming each wrong field of ``plan`` (see the module's rules)."""
    errors = session_errors(plan, others)
    if errors:
        raise FieldErrors(errors)


SESSION_STATES = ("practising", "not_started", "on_leave", "finished", "closed")


def session_state(*, closed: bool, on_leave: bool, started: bool, ends_at: datetime, now: datetime) -> str:
    """A day session's state for today's schedule (one of ``SESSION_STATES``): leave and closing (holiday or by
    hand) first, then the clock: finished after its end, practising once the doctor has started (first task 4)."""
    if on_leave:
        return "on_leave"
    if closed:
        return "closed"
    if now >= ends_at:
        return "finished"
    return "practising" if started else "not_started"
