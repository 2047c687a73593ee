"""Patient records: identifiers encrypted at rest, exact search by blind index, every read and change audited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.field_crypto import FieldCipher
from data.models import Patient
from data.pii_keys import field_name
from data.queue_tickets import next_number
from domain.actor import Actor
from domain.errors import InputError
from domain.formats import normalise_name, normalise_phone
from domain.identifiers import normalise_identifier

ENCRYPTED_FIELDS = ("nik", "bpjs", "phone", "address")
MRN_POINT = "rekam_medis"  # the site-wide medical-record counter lives in queue_counter on a fixed date
MRN_COUNTER_DATE = date(2000, 1, 1)
BLIND_INDEXED = ("nik", "bpjs")
# The records a search or pick list may offer: not deleted (a deleted one is read only by its RM, marked deleted).
LIVE_PATIENT = Patient.deleted_at.is_(None)


def decrypt_field(cipher: FieldCipher, patient: Patient, field: str) -> str | None:
    """One identifier of ``patient`` in clear (``field`` one of ``ENCRYPTED_FIELDS``), bound to its row."""
    column = f"{field}_enc"
    return cipher.decrypt(field_name(getattr(Patient, column)), getattr(patient, column), row_id=patient.id)


def seal_field(cipher: FieldCipher, patient: Patient, field: str, value: str | None) -> None:
    """Store one identifier of ``patient`` (a flushed row) encrypted for its row, with its blind index when it has
    one; ``value`` is already normalised."""
    column = f"{field}_enc"
    setattr(patient, column, cipher.encrypt(field_name(getattr(Patient, column)), value, row_id=patient.id))
    if field in BLIND_INDEXED:
        setattr(patient, f"{field}_bidx", cipher.blind_index(field, value))


@dataclass(frozen=True)
class PatientMatch:
    """A search hit as the front desk sees it (full name: staff with the right to register)."""

    id: int
    mrn: str
    name: str
    birth_date: date
    sex: str
    has_bpjs: bool


@dataclass(frozen=True)
class PatientRecord:
    """A patient record for the people allowed to see it; an identifier not asked for is None (never decrypted)."""

    id: int
    mrn: str
    name: str
    birth_date: date
    sex: str
    nik: str | None
    bpjs: str | None
    phone: str | None
    address: str | None


def identifier_index(cipher: FieldCipher, field: str, value: str | None) -> str | None:
    """The blind index of a NIK or BPJS number in its one normal form (so ``３１７１…`` and ``3171…`` are the same
    number); a malformed number raises ``InputError``."""
    return cipher.blind_index(field, normalise_identifier(field, value))


def next_mrn(session: Session, site_id: int) -> str:
    """The site's next medical-record number (six digits and more), from its own counter."""
    return f"{next_number(session, site_id, MRN_POINT, MRN_COUNTER_DATE):06d}"


def create_patient(
    session: Session,
    cipher: FieldCipher,
    *,
    site_id: int,
    mrn: str,
    name: str,
    birth_date: date,
    sex: str,
    nik: str | None = None,
    bpjs: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    actor_id: int | None = None,
    actor_name: str | None = None,
    submission_token: str | None = None,
) -> Patient:
    """Store a patient exactly as normalised here (identifiers through ``domain.identifiers``, the name through
    ``domain.formats``); what cannot be normalised raises ``InputError`` and nothing is stored."""
    nik, bpjs = normalise_identifier("nik", nik), normalise_identifier("bpjs", bpjs)
    if sex not in ("L", "P"):
        raise InputError("err_sex")
    patient = Patient(
        site_id=site_id,
        mrn=mrn.strip(),
        name=normalise_name(name),
        birth_date=birth_date,
        sex=sex,
        submission_token=submission_token,
    )
    session.add(patient)
    session.flush()  # the id the ciphertexts are bound to
    clear = {"nik": nik, "bpjs": bpjs, "phone": normalise_phone(phone) if phone else None, "address": address}
    for field, value in clear.items():
        seal_field(cipher, patient, field, value)
    session.flush()
    audit.record(
        session,
        "patient_created",
        user_id=actor_id,
        username=actor_name,
        site_id=site_id,
        target_type="patient",
        target_id=patient.id,
    )
    return patient


def find_by_identifier(session: Session, cipher: FieldCipher, site_id: int, field: str, value: str) -> list[Patient]:
    """Exact search by NIK or BPJS number through the blind index (the database never sees the number), among
    live records. A malformed number raises ``InputError`` (``err_nik_format`` / ``err_bpjs_format``)."""
    column = {"nik": Patient.nik_bidx, "bpjs": Patient.bpjs_bidx}[field]
    digest = identifier_index(cipher, field, value)
    if digest is None:
        return []
    return list(session.scalars(select(Patient).where(Patient.site_id == site_id, column == digest, LIVE_PATIENT)))


def read_patient(
    session: Session,
    cipher: FieldCipher,
    patient_id: int,
    *,
    actor_id: int | None,
    actor_name: str | None,
    purpose: str,
    fields: Iterable[str],
) -> PatientRecord | None:
    """One record for a person with only the identifiers in ``fields`` decrypted (what the screen or message
    shows), writing the read and those fields to the audit log (Permenkes 24/2022)."""
    fields = tuple(fields)
    if unknown := set(fields) - set(ENCRYPTED_FIELDS):
        raise ValueError(f"not a patient identifier: {sorted(unknown)}")
    patient = session.get(Patient, patient_id)
    if patient is None:
        return None
    audit.record(
        session,
        "patient_read",
        user_id=actor_id,
        username=actor_name,
        site_id=patient.site_id,
        target_type="patient",
        target_id=patient.id,
        detail={"purpose": purpose, "fields": list(fields)},
    )
    return PatientRecord(
        id=patient.id,
        mrn=patient.mrn,
        name=patient.name,
        birth_date=patient.birth_date,
        sex=patient.sex,
        **{f: decrypt_field(cipher, patient, f) if f in fields else None for f in ENCRYPTED_FIELDS},
    )


class PatientRef(Protocol):
    """What a search audit lists of each hit: a ``Patient`` or a row of its id and RM."""

    id: int
    mrn: str


SEARCH_AUDIT_CAP = 50  # patients listed in one search's audit row (the count is always the full one)


def audit_search(session: Session, actor: Actor, kind: str, hits: Sequence[PatientRef]) -> None:
    """One ``patient_search`` row: who searched, how (``kind``, never the typed text) and whom it returned."""
    listed = hits[:SEARCH_AUDIT_CAP]
    audit.record_by(
        session,
        actor,
        "patient_search",
        target_type="patient" if len(hits) == 1 else None,
        target_id=hits[0].id if len(hits) == 1 else None,
        detail={
            "by": kind,
            "count": len(hits),
            "patient_ids": [p.id for p in listed],
            "mrns": [p.mrn for p in listed],
        },
    )
