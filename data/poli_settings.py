"""A poli's own settings an admin edits on the queue settings page: for now its age range (Poli Anak 0–17), which
the registration desk warns about. Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.models import Poli
from domain.actor import Actor
from domain.age_range import AgeRange
from domain.errors import InputError


@dataclass(frozen=True)
class PoliAges:
    """A poli and the ages it serves (None: open)."""

    id: int
    name: str
    min_years: int | None
    max_years: int | None


def _ages(poli: Poli) -> PoliAges:
    return PoliAges(poli.id, poli.name, poli.age_min_years, poli.age_max_years)


def poli_age_ranges(session: Session, site_id: int) -> list[PoliAges]:
    """The site's active polis by name, with their age ranges."""
    polis = session.scalars(select(Poli).where(Poli.site_id == site_id, Poli.active).order_by(Poli.name))
    return [_ages(p) for p in polis]


def set_age_range(session: Session, actor: Actor, poli_id: int, ages: AgeRange) -> PoliAges:
    """Give the actor's site's poli ``poli_id`` the (already checked) range ``ages``; an unknown poli raises
    ``InputError("qadmin_age_poli_required")``."""
    poli = session.get(Poli, poli_id)
    if poli is None or poli.site_id != actor.site_id:
        raise InputError("qadmin_age_poli_required")
    before = {"min": poli.age_min_years, "max": poli.age_max_years}
    poli.age_min_years, poli.age_max_years = ages.min_years, ages.max_years
    audit.record_by(
        session,
        actor,
        "poli_age_range_set",
        target_type="poli",
        target_id=poli.id,
        detail={"before": before, "after": {"min": ages.min_years, "max": ages.max_years}},
    )
    return _ages(poli)
