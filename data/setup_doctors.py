"""Doctors as an admin sets them up: create, edit, retire (the admin page and the bulk import use the same
functions). A doctor practises in one poli (by its code) and may be linked to a doctor-role account, so "Jadwal
saya" knows whose week to show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.models import Doctor, Poli, User, UserRole
from data.setup_rows import check_version, conflicts_as_input_errors
from domain import setup_rules as rules
from domain.actor import Actor
from domain.errors import FieldErrors, InputError

# Importable columns; the page also sends ``username`` (the linked account, optional).
DOCTOR_FIELDS = ("name", "sip", "specialty", "bpjs_code", "poli_code")
_RULES: dict[str, rules.Rule] = {
    "name": lambda v: rules.name(v, 200),
    "sip": rules.sip,
    "specialty": lambda v: rules.optional_text(v, 100) or "",
    "bpjs_code": rules.hfis_code,
    "poli_code": lambda v: rules.code(v, 16, hyphen=False) if v is not None and str(v).strip() else None,
    "username": lambda v: rules.optional_text(v, 64),
}


@dataclass(frozen=True)
class DoctorRow:
    """A doctor as the setup page lists it."""

    id: int
    name: str
    sip: str | None
    specialty: str
    bpjs_code: str | None
    poli_code: str | None
    username: str | None
    active: bool
    version: int


@dataclass(frozen=True)
class DoctorAccount:
    """A doctor-role account a doctor may be linked to."""

    username: str
    full_name: str


def list_doctors(session: Session, site_id: int) -> list[DoctorRow]:
    """The site's doctors by name, active ones first."""
    rows = session.execute(
        select(Doctor, Poli.code, User.username)
        .outerjoin(Poli, Poli.id == Doctor.poli_id)
        .outerjoin(User, User.id == Doctor.user_id)
        .where(Doctor.site_id == site_id)
        .order_by(Doctor.active.desc(), Doctor.name)
    ).all()
    return [
        DoctorRow(d.id, d.name, d.sip, d.specialty, d.bpjs_code, poli, username, d.active, d.version)
        for d, poli, username in rows
    ]


def doctor_accounts(session: Session, site_id: int) -> list[DoctorAccount]:
    """Active doctor-role accounts of the site, by name."""
    users = session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.site_id == site_id, User.active, UserRole.role == "doctor")
        .order_by(User.full_name)
    )
    return [DoctorAccount(u.username, u.full_name) for u in users]


def _resolve(session: Session, site_id: int, clean: dict[str, object], doctor_id: int | None) -> dict[str, object]:
    """The row's columns from the checked form: the poli and account looked up, the HFIS code unique among the
    site's active doctors."""
    errors = {}
    poli_id = user_id = None
    if clean["poli_code"] is not None:
        poli_id = session.scalar(
            select(Poli.id).where(Poli.site_id == site_id, Poli.code == clean["poli_code"], Poli.active)
        )
        if poli_id is None:
            errors["poli_code"] = InputError("err_setup_poli_unknown", code=clean["poli_code"])
    if clean.get("username"):
        user_id = session.scalar(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.site_id == site_id, User.username == clean["username"], UserRole.role == "doctor")
        )
        if user_id is None:
            errors["username"] = InputError("err_setup_not_doctor_account", username=clean["username"])
    if clean["bpjs_code"] is not None:
        holder = session.scalar(
            select(Doctor.name).where(
                Doctor.site_id == site_id,
                Doctor.active,
                Doctor.bpjs_code == clean["bpjs_code"],
                Doctor.id != (doctor_id or 0),
            )
        )
        if holder is not None:
            errors["bpjs_code"] = InputError("err_setup_hfis_taken", doctor=holder)
    if errors:
        raise FieldErrors(errors)
    return {
        "name": clean["name"],
        "sip": clean["sip"],
        "specialty": clean["specialty"],
        "bpjs_code": clean["bpjs_code"],
        "poli_id": poli_id,
        "user_id": user_id,
    }


def _doctor(session: Session, actor: Actor, doctor_id: int) -> Doctor:
    doctor = session.get(Doctor, doctor_id)
    if doctor is None or doctor.site_id != actor.site_id:
        raise InputError("err_setup_not_found")
    return doctor


def create_doctor(session: Session, actor: Actor, values: Mapping[str, object]) -> Doctor:
    """A new active doctor of the actor's site from ``DOCTOR_FIELDS`` (and an optional ``username``); wrong
    fields raise ``FieldErrors``."""
    columns = _resolve(session, actor.site_id, rules.check_form(values, _RULES), None)
    doctor = Doctor(site_id=actor.site_id, active=True, **columns)
    session.add(doctor)
    session.flush()
    audit.record_by(session, actor, "doctor_created", target_type="doctor", target_id=doctor.id, detail=columns)
    return doctor


def update_doctor(
    session: Session, actor: Actor, doctor_id: int, values: Mapping[str, object], version: int | None
) -> Doctor:
    """Save a doctor's fields (as ``create_doctor`` takes them) if the row is still at ``version``."""
    doctor = _doctor(session, actor, doctor_id)
    columns = _resolve(session, actor.site_id, rules.check_form(values, _RULES), doctor.id)
    check_version(doctor, version)
    before = {field: getattr(doctor, field) for field in columns}
    for field, value in columns.items():
        setattr(doctor, field, value)
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(
        session,
        actor,
        "doctor_updated",
        target_type="doctor",
        target_id=doctor.id,
        detail={"before": before, "after": columns},
    )
    return doctor


def retire_doctor(session: Session, actor: Actor, doctor_id: int, version: int | None) -> Doctor:
    """Retire a doctor (kept with the schedules and visits that name them)."""
    doctor = _doctor(session, actor, doctor_id)
    check_version(doctor, version)
    doctor.active = False
    with conflicts_as_input_errors():
        session.flush()
    audit.record_by(
        session, actor, "doctor_retired", target_type="doctor", target_id=doctor.id, detail={"name": doctor.name}
    )
    return doctor
