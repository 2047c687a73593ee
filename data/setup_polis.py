"""Polis as an admin sets them up: create, edit, retire (the admin page and the bulk import use the same
functions). A poli's code names its queue point (``poli:CODE``) and stays once created; its ticket prefix is
unique among the site's open polis. The age range reuses ``domain.age_range`` as ``/admin/antrean`` does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.models import Poli
from data.setup_rows import check_version, conflicts_as_input_errors
from domain import setup_rules as rules
from domain.actor import Actor
from domain.age_range import AgeRange, years_bound
from domain.errors import FieldErrors, InputError
from domain.queue_points import DEFAULT_BOARD_GROUP

POLI_FIELDS = (
    "code",
    "name",
    "queue_prefix",
    "bpjs_code",
    "board_group",
    "default_service_minutes",
    "age_min_years",
    "age_max_years",
)
CODE_LEN = 16


def _or_default(rule: rules.Rule, default: object) -> rules.Rule:
    """``rule``, with a blank (or missing) value meaning ``default``."""
    return lambda v: default if v is None or not str(v).strip() else rule(v)


_EDIT: dict[str, rules.Rule] = {
    "name": lambda v: rules.name(v, 100),
    "queue_prefix": rules.queue_prefix,
    "bpjs_code": rules.bpjs_poli_code,
    "board_group": _or_default(rules.board_group, DEFAULT_BOARD_GROUP),
    "default_service_minutes": _or_default(rules.service_minutes, 10),
}
_NEW: dict[str, rules.Rule] = {
    "code": lambda v: rules.code(v, CODE_LEN, hyphen=False),
    **_EDIT,
    "age_min_years": lambda v: years_bound(None if v is None else str(v)),
    "age_max_years": lambda v: years_bound(None if v is None else str(v)),
}


@dataclass(frozen=True)
class PoliRow:
    """A poli as the setup page lists it."""

    id: int
    code: str
    name: str
    queue_prefix: str
    bpjs_code: str | None
    board_group: str
    default_service_minutes: int
    age_min_years: int | None
    age_max_years: int | None
    active: bool
    version: int


def _row(p: Poli) -> PoliRow:
    return PoliRow(
        p.id,
        p.code,
        p.name,
        p.queue_prefix,
        p.bpjs_code,
        p.board_group,
        p.default_service_minutes,
        p.age_min_years,
        p.age_max_years,
        p.active,
        p.version,
    )


def list_polis(session: Session, site_id: int) -> list[PoliRow]:
    """The site's polis by code, open ones first."""
    polis = session.scalars(select(Poli).where(Poli.site_id == site_id).order_by(Poli.active.desc(), Poli.code))
    return [_row(p) for p in polis]


def _check_prefix_free(session: Session, site_id: int, prefix: str, poli_id: int | None) -> None:
    holder = session.scalar(
        select(Poli.name).where(
            Poli.site_id == site_id, Poli.active, Poli.queue_prefix == prefix, Poli.id != (poli_id or 0)
        )
    )
    if holder is not None:
        raise rules.field_error("queue_prefix", "err_setup_prefix_taken", prefix=prefix, poli=holder)


def _poli(session: Session, actor: Actor, poli_id: int) -> Poli:
    poli = session.get(Poli, poli_id)
    if poli is None or poli.site_id != actor.site_id:
        raise InputError("err_setup_not_found")
    return poli


def create_poli(session: Session, actor: Actor, values: Mapping[str, object]) -> Poli:
    """A new open poli of the actor's site from ``POLI_FIELDS`` (board, service minutes and ages may be blank);
    wrong fields raise ``FieldErrors``."""
    clean = rules.check_form(values, _NEW)
    try:
        AgeRange(clean["age_min_years"], clean["age_max_years"])
    except InputError as err:
        raise FieldErrors({"age_max_years": err}) from err
    code = str(clean["code"])
    if session.scalar(select(Poli.id).where(Poli.site_id == actor.site_id, Poli.code == code)) is not None:
        raise rules.field_error("code", "err_setup_code_taken", code=code)
    _check_prefix_free(session, actor.site_id, str(clean["queue_prefix"]), None)
    poli = Poli(site_id=actor.site_id, active=True, **clean)
    session.add(poli)
    session.flush()
    audit.record_by(session, actor, "poli_created", target_type="poli", target_id=poli.id, detail=clean)
    return poli


def update_poli(
    session: Session, actor: Actor, poli_id: int, values: Mapping[str, object], version: int | None
) -> Poli:
    """Save a poli's name, ticket prefix, BPJS code, TV board and default service minutes (blank: the defaults);
    its age range is edited on ``/admin/antrean``."""
    poli = _poli(session, actor, poli_id)
    clean = rules.check_form(values, _EDIT)
    check_version(poli, version)
    if poli.active:
        _check_prefix_free(session, poli.site_id, str(clean["queue_prefix"]), poli.id)
    before = {field: getattr(poli, field) for field in clean}
    for field, value in clean.items():
        setattr(poli, field, value)
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(
        session, actor, "poli_updated", target_type="poli", target_id=poli.id, detail={"before": before, "after": clean}
    )
    return poli


def retire_poli(session: Session, actor: Actor, poli_id: int, version: int | None) -> Poli:
    """Close a poli for good (kept with its queues and history); its prefix becomes free."""
    poli = _poli(session, actor, poli_id)
    check_version(poli, version)
    poli.active = False
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(session, actor, "poli_retired", target_type="poli", target_id=poli.id, detail={"code": poli.code})
    return poli
