"""Which wards and polis a staff member works in: her home page and ward list open there (audited)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from data.audit import record_by
from data.models import Poli, StaffPoli, StaffWard, User, Ward
from domain.actor import Actor
from domain.errors import FieldErrors, InputError

__all__ = ["STAFF_FIELDS", "assign_by_codes", "polis_of", "set_staff_polis", "set_staff_wards", "wards_of"]

# Importable columns: the account, then its ward and poli codes (separated by spaces, commas or ``|``).
STAFF_FIELDS = ("username", "ward_codes", "poli_codes")
_SEPARATORS = re.compile(r"[\s,;|]+")

Place = TypeVar("Place", Ward, Poli)


def set_staff_wards(session: Session, actor: Actor, user_id: int, ward_ids: Iterable[int]) -> list[Ward]:
    """Make ``ward_ids`` (active wards of the actor's site) the wards ``user_id`` works in; the others are let go."""
    return _assign(session, actor, user_id, ward_ids, Ward, StaffWard.ward_id, "staff_wards_set")


def set_staff_polis(session: Session, actor: Actor, user_id: int, poli_ids: Iterable[int]) -> list[Poli]:
    """Make ``poli_ids`` (active polis of the actor's site) the polis ``user_id`` works in."""
    return _assign(session, actor, user_id, poli_ids, Poli, StaffPoli.poli_id, "staff_polis_set")


def wards_of(session: Session, user_id: int) -> list[Ward]:
    """The active wards ``user_id`` works in, by code."""
    return _places_of(session, user_id, Ward, StaffWard.ward_id)


def polis_of(session: Session, user_id: int) -> list[Poli]:
    """The active polis ``user_id`` works in, by code."""
    return _places_of(session, user_id, Poli, StaffPoli.poli_id)


def assign_by_codes(session: Session, actor: Actor, values: Mapping[str, object]) -> User:
    """Set an account's wards and polis from ``STAFF_FIELDS`` (the bulk import's row): every unknown username
    or code is named beside its column (``FieldErrors``)."""
    errors: dict[str, InputError] = {}
    username = str(values.get("username") or "").strip()
    user = session.scalar(select(User).where(User.site_id == actor.site_id, User.username == username))
    if user is None:
        errors["username"] = InputError("staff_err_username", username=username or "-")
    found: dict[str, list[int]] = {}
    for column, model in (("ward_codes", Ward), ("poli_codes", Poli)):
        codes = sorted({c.upper() for c in _SEPARATORS.split(str(values.get(column) or "")) if c})
        places = dict(
            session.execute(
                select(model.code, model.id).where(
                    model.site_id == actor.site_id, model.code.in_(codes), model.active.is_(True)
                )
            ).all()
        )
        unknown = [c for c in codes if c not in places]
        if unknown:
            errors[column] = InputError("staff_err_codes", codes=", ".join(unknown))
        found[column] = list(places.values())
    if errors:
        raise FieldErrors(errors)
    set_staff_wards(session, actor, user.id, found["ward_codes"])
    set_staff_polis(session, actor, user.id, found["poli_codes"])
    return user


def _places_of(session: Session, user_id: int, model: type[Place], link: InstrumentedAttribute) -> list[Place]:
    staff = link.class_
    return list(
        session.scalars(
            select(model)
            .join(staff, link == model.id)
            .where(staff.user_id == user_id, model.active.is_(True))
            .order_by(model.code)
        )
    )


def _assign(
    session: Session,
    actor: Actor,
    user_id: int,
    ids: Iterable[int],
    model: type[Place],
    link: InstrumentedAttribute,
    action: str,
) -> list[Place]:
    user = session.get(User, user_id)
    if user is None or user.site_id != actor.site_id:
        raise InputError("users_not_found")
    wanted = {int(i) for i in ids}
    places = list(
        session.scalars(
            select(model)
            .where(model.id.in_(wanted), model.site_id == actor.site_id, model.active.is_(True))
            .order_by(model.code)
        )
    )
    if len(places) != len(wanted):
        raise InputError("staff_err_unknown_place")
    staff = link.class_
    before = [p.code for p in _places_of(session, user.id, model, link)]
    session.execute(delete(staff).where(staff.user_id == user.id))
    session.add_all(staff(user_id=user.id, **{link.key: p.id}) for p in places)
    session.flush()
    after = [p.code for p in places]
    if before != after:
        detail = {"before": before, "after": after}
        record_by(session, actor, action, target_type="user", target_id=user.id, detail=detail)
    return places
