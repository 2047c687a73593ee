"""The facility profile an admin edits: the site's name, BPJS PPK code, time zone and class."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from data import audit
from data.models import Site
from data.setup_rows import check_version, conflicts_as_input_errors
from domain import setup_rules as rules
from domain.actor import Actor
from domain.errors import InputError

FACILITY_FIELDS = ("name", "ppk_code", "timezone", "facility_class")
_RULES: dict[str, rules.Rule] = {
    "name": lambda v: rules.name(v, 200),
    "ppk_code": rules.ppk_code,
    "timezone": rules.timezone,
    "facility_class": rules.facility_class,
}


@dataclass(frozen=True)
class FacilityProfile:
    """The site as its profile form shows it (``None``: not set yet)."""

    id: int
    code: str
    name: str
    ppk_code: str | None
    timezone: str
    facility_class: str | None
    version: int


def _profile(site: Site) -> FacilityProfile:
    return FacilityProfile(
        site.id, site.code, site.name, site.ppk_code, site.timezone, site.facility_class, site.version
    )


def _site(session: Session, site_id: int | None) -> Site:
    site = session.get(Site, site_id) if site_id is not None else None
    if site is None:
        raise InputError("err_setup_not_found")
    return site


def facility_profile(session: Session, site_id: int) -> FacilityProfile:
    """The site's profile."""
    return _profile(_site(session, site_id))


def update_facility(
    session: Session, actor: Actor, values: Mapping[str, object], version: int | None
) -> FacilityProfile:
    """Save the actor's site's profile from the form's ``values`` (``FACILITY_FIELDS``) if the row is still at
    ``version``; wrong fields raise ``FieldErrors``, a stale form ``EditConflict``. Audited with before/after."""
    site = _site(session, actor.site_id)
    clean = rules.check_form(values, _RULES)
    check_version(site, version)
    before = {field: getattr(site, field) for field in FACILITY_FIELDS}
    for field, value in clean.items():
        setattr(site, field, value)
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(
        session,
        actor,
        "facility_updated",
        target_type="site",
        target_id=site.id,
        detail={"before": before, "after": clean},
    )
    return _profile(site)
