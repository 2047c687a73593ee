"""Wards and their beds as an admin sets them up: create, edit, retire, add a bed (the admin page and the bulk
import use the same functions). A ward's bed count is derived: its active beds. Nothing is deleted: retiring keeps
the history, and is refused while a patient lies in the bed. A bed's status changes (cleaning, out of service)
belong to the bed board's service, not here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit, live_keys
from data.live_notify import notify
from data.live_store import LiveStore
from data.models import Bed, BedOccupancy, BedStatusEvent, Ward
from data.setup_rows import check_version, conflicts_as_input_errors
from domain import setup_rules as rules
from domain.actor import Actor
from domain.errors import InputError

WARD_FIELDS = ("code", "name", "kind", "care_class", "bed_count")
BED_FIELDS = ("ward_code", "code", "label", "care_class")
CODE_LEN = 32  # ward.code and bed.code
_WARD_EDIT: dict[str, rules.Rule] = {
    "name": lambda v: rules.name(v, 100),
    "kind": rules.ward_kind,
    "care_class": rules.care_class,
}
_WARD_NEW: dict[str, rules.Rule] = {
    "code": lambda v: rules.code(v, CODE_LEN),
    **_WARD_EDIT,
    "bed_count": rules.bed_count,
}
_BED_EDIT: dict[str, rules.Rule] = {
    "label": lambda v: rules.name(v, 64),
    "care_class": rules.optional_care_class,
}
_BED_NEW: dict[str, rules.Rule] = {
    "ward_code": lambda v: rules.code(v, CODE_LEN),
    "code": lambda v: rules.code(v, CODE_LEN),
    **_BED_EDIT,
}


@dataclass(frozen=True)
class BedRow:
    """A bed as the setup page lists it; ``care_class`` None = the ward's."""

    id: int
    code: str
    label: str
    care_class: str | None
    status: str
    active: bool
    version: int


@dataclass(frozen=True)
class WardRow:
    """A ward with its beds (retired ones too); ``bed_count`` counts the active beds."""

    id: int
    code: str
    name: str
    kind: str
    care_class: str
    active: bool
    version: int
    beds: tuple[BedRow, ...]

    @property
    def bed_count(self) -> int:
        return sum(bed.active for bed in self.beds)


def _bed_row(bed: Bed) -> BedRow:
    return BedRow(bed.id, bed.code, bed.label, bed.care_class, bed.status, bed.active, bed.version)


def list_wards_with_beds(session: Session, site_id: int) -> list[WardRow]:
    """The site's wards by code, active ones first, each with its beds by code."""
    wards = session.scalars(select(Ward).where(Ward.site_id == site_id).order_by(Ward.active.desc(), Ward.code))
    return [
        WardRow(w.id, w.code, w.name, w.kind, w.care_class, w.active, w.version, tuple(_bed_row(b) for b in w.beds))
        for w in wards
    ]


def _ward(session: Session, actor: Actor, ward_id: int) -> Ward:
    ward = session.get(Ward, ward_id)
    if ward is None or ward.site_id != actor.site_id:
        raise InputError("err_setup_not_found")
    return ward


def _bed(session: Session, actor: Actor, bed_id: int) -> Bed:
    bed = session.get(Bed, bed_id)
    if bed is None or bed.ward.site_id != actor.site_id:
        raise InputError("err_setup_not_found")
    return bed


def _occupied(session: Session, beds: list[Bed]) -> list[str]:
    """Codes of those beds a patient lies in (an open stay, or the board says occupied)."""
    ids = [bed.id for bed in beds]
    open_stays = set(
        session.scalars(select(BedOccupancy.bed_id).where(BedOccupancy.bed_id.in_(ids), BedOccupancy.until.is_(None)))
    )
    return [bed.code for bed in beds if bed.id in open_stays or bed.status == "occupied"]


def _add_bed(session: Session, actor: Actor, ward: Ward, code: str, label: str, care_class: str | None) -> Bed:
    # Beds are found by code across the site (monitors, the bed page), so a code is unique in the site.
    taken = session.scalar(select(Bed.id).join(Ward).where(Ward.site_id == ward.site_id, Bed.code == code))
    if taken is not None:
        raise rules.field_error("code", "err_setup_code_taken", code=code)
    bed = Bed(ward_id=ward.id, code=code, label=label, care_class=care_class, status="available")
    session.add(bed)
    session.flush()
    session.add(BedStatusEvent(bed_id=bed.id, status="available", by=actor.user_id, reason="created"))
    audit.record_by(
        session,
        actor,
        "bed_created",
        target_type="bed",
        target_id=bed.id,
        detail={"ward": ward.code, "code": code, "label": label, "care_class": care_class},
    )
    return bed


def publish_wards_changed(live: LiveStore) -> bool:
    """After a ward's save is committed: the clinical step reloads every bed (alarm profile, who NEWS2 scores).
    False when it could not be told now (``data.live_notify``)."""
    return notify(live, [(live_keys.CONTROL_CHANNEL, live_keys.control_message("wards", ""))])


def create_ward(session: Session, actor: Actor, values: Mapping[str, object]) -> Ward:
    """A new ward of the actor's site with ``bed_count`` beds ``CODE-01``.. (label "Bed n", available); wrong
    fields raise ``FieldErrors``."""
    clean = rules.check_form(values, _WARD_NEW)
    code = str(clean["code"])
    if session.scalar(select(Ward.id).where(Ward.site_id == actor.site_id, Ward.code == code)) is not None:
        raise rules.field_error("code", "err_setup_code_taken", code=code)
    ward = Ward(
        site_id=actor.site_id, code=code, name=clean["name"], kind=clean["kind"], care_class=clean["care_class"]
    )
    session.add(ward)
    session.flush()
    audit.record_by(session, actor, "ward_created", target_type="ward", target_id=ward.id, detail=clean)
    for n in range(1, int(clean["bed_count"]) + 1):
        _add_bed(session, actor, ward, f"{code}-{n:02d}", f"Bed {n}", None)
    return ward


def update_ward(
    session: Session, actor: Actor, ward_id: int, values: Mapping[str, object], version: int | None
) -> Ward:
    """Save a ward's name, kind and care class (its code stays: screens and history name it)."""
    ward = _ward(session, actor, ward_id)
    clean = rules.check_form(values, _WARD_EDIT)
    check_version(ward, version)
    before = {field: getattr(ward, field) for field in clean}
    for field, value in clean.items():
        setattr(ward, field, value)
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(
        session, actor, "ward_updated", target_type="ward", target_id=ward.id, detail={"before": before, "after": clean}
    )
    return ward


def retire_ward(session: Session, actor: Actor, ward_id: int, version: int | None) -> Ward:
    """Retire a ward and its beds (kept with their history); refused, naming the beds, while a patient lies in
    one of them."""
    ward = _ward(session, actor, ward_id)
    check_version(ward, version)
    beds = [bed for bed in ward.beds if bed.active]
    occupied = _occupied(session, beds)
    if occupied:
        raise InputError("err_setup_ward_occupied", beds=", ".join(occupied))
    ward.active = False
    for bed in beds:
        bed.active = False
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(
        session,
        actor,
        "ward_retired",
        target_type="ward",
        target_id=ward.id,
        detail={"code": ward.code, "beds": [bed.code for bed in beds]},
    )
    return ward


def create_bed(session: Session, actor: Actor, values: Mapping[str, object]) -> Bed:
    """A new bed (``BED_FIELDS``) in an active ward of the actor's site, available; wrong fields raise
    ``FieldErrors``."""
    clean = rules.check_form(values, _BED_NEW)
    ward = session.scalar(
        select(Ward).where(Ward.site_id == actor.site_id, Ward.code == clean["ward_code"], Ward.active)
    )
    if ward is None:
        raise rules.field_error("ward_code", "err_setup_ward_unknown", code=clean["ward_code"])
    return _add_bed(session, actor, ward, str(clean["code"]), str(clean["label"]), clean["care_class"])


_NUMBERED = re.compile(r"-(\d+)$")


def add_bed(session: Session, actor: Actor, ward_id: int) -> Bed:
    """One more bed in an active ward, numbered after its highest: ``CODE-NN``, label "Bed n"."""
    ward = _ward(session, actor, ward_id)
    if not ward.active:
        raise InputError("err_setup_ward_retired")
    numbers = [int(m.group(1)) for bed in ward.beds if (m := _NUMBERED.search(bed.code))]
    n = max(numbers, default=0) + 1
    return _add_bed(session, actor, ward, f"{ward.code}-{n:02d}", f"Bed {n}", None)


def update_bed(session: Session, actor: Actor, bed_id: int, values: Mapping[str, object], version: int | None) -> Bed:
    """Save a bed's label and care class (blank: the ward's)."""
    bed = _bed(session, actor, bed_id)
    clean = rules.check_form(values, _BED_EDIT)
    check_version(bed, version)
    before = {field: getattr(bed, field) for field in clean}
    for field, value in clean.items():
        setattr(bed, field, value)
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(
        session, actor, "bed_updated", target_type="bed", target_id=bed.id, detail={"before": before, "after": clean}
    )
    return bed


def retire_bed(session: Session, actor: Actor, bed_id: int, version: int | None) -> Bed:
    """Retire a bed (kept with its history); refused while a patient lies in it."""
    bed = _bed(session, actor, bed_id)
    check_version(bed, version)
    if _occupied(session, [bed]):
        raise InputError("err_setup_bed_occupied", bed=bed.code)
    bed.active = False
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(session, actor, "bed_retired", target_type="bed", target_id=bed.id, detail={"code": bed.code})
    return bed
