"""Keeping patient records right: correct a record (optimistic locking, audited by field name), delete it softly
(kept, found by no search), purge it after the retention period, find and merge duplicates. The rules themselves
are ``domain.patient_rules``; who may call what is checked by the callers (``WRITE_ROLES``, ``ADMIN_ROLES``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data import audit, sync_store
from data.admissions import BedRef, patients_bed
from data.field_crypto import FieldCipher
from data.models import Admission, Base, Bed, BedOccupancy, Invoice, Patient, Poli, QueueTicket, Visit
from data.patients import (
    ENCRYPTED_FIELDS,
    LIVE_PATIENT,
    PatientMatch,
    PatientRecord,
    decrypt_field,
    read_patient,
    seal_field,
)
from data.setup_rows import check_version, conflicts_as_input_errors
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import FieldErrors, InputError
from domain.free_text import clean_text, readable
from domain.patient_rules import EDITABLE_FIELDS, check_nik_agrees, check_record, retention_ends, same_name

REASON_MAX = 500  # patient.delete_reason
OPEN_TICKETS = ("booked", "waiting", "called", "serving")
SHOWN_ON_SCREENS = frozenset({"name", "birth_date"})  # a bed's tile shows the masked name; NEWS2 depends on the age
INDEXED = {"nik": "nik_bidx", "bpjs": "bpjs_bidx"}


@dataclass(frozen=True)
class DuplicateMatch(PatientMatch):
    """A live record that may be the same person (``reason``: ``nik`` or ``name_birth``), as the desk lists it."""

    reason: str


@dataclass(frozen=True)
class Correction:
    """A saved correction: the fields that changed, every field as now stored (normalised), the row's version, and
    the bed whose screens show what changed (the masked name on its tile, the age NEWS2 depends on), to be told
    after the commit (``data.adt_notify.publish_adt``)."""

    changed: tuple[str, ...]
    values: dict[str, object]
    version: int
    beds: tuple[BedRef, ...] = ()


@dataclass(frozen=True)
class MergeResult:
    """What a merge moved: ``moved`` maps ``table.column`` to the number of rows now pointing at the kept record."""

    kept_id: int
    duplicate_id: int
    moved: dict[str, int]
    identifiers: tuple[str, ...]  # identifiers the kept record lacked and took from the duplicate


def _patient(session: Session, actor: Actor, patient_id: int, *, for_update: bool = True) -> Patient:
    """The live patient ``patient_id`` of the actor's site; else ``InputError``."""
    patient = session.get(Patient, patient_id)
    if patient is None or patient.site_id != actor.site_id:
        raise InputError("err_patient_unknown")
    if for_update and patient.deleted_at is not None:
        raise InputError("pat_err_deleted")
    return patient


def _taken(session: Session, patient: Patient, field: str, digest: str | None) -> bool:
    """Whether another live record of the site holds this NIK or BPJS number (by blind index)."""
    if digest is None:
        return False
    column = getattr(Patient, INDEXED[field])
    return (
        session.scalar(
            select(Patient.id).where(
                Patient.site_id == patient.site_id, column == digest, Patient.id != patient.id, LIVE_PATIENT
            )
        )
        is not None
    )


def update_patient(
    session: Session,
    cipher: FieldCipher,
    actor: Actor,
    patient_id: int,
    *,
    version: int | None,
    values: dict[str, object],
    today: date,
    nik_confirmed: bool = False,
) -> Correction:
    """Correct a record from the edit form's ``values`` (``domain.patient_rules.EDITABLE_FIELDS``), shown at
    ``version``. Every wrong field raises at once (``FieldErrors``); a stale form ``EditConflict``; a NIK that
    disagrees with the birth date, sex or province ``NikMismatch`` unless ``nik_confirmed``. Identifiers are
    sealed again for this row and their blind indexes renewed. The audit row lists the changed fields' names
    (never their values) and what a confirmed NIK disagrees with."""
    patient = _patient(session, actor, patient_id)
    check_version(patient, version)
    clean = check_record(**{f: values.get(f) for f in EDITABLE_FIELDS}, today=today)  # type: ignore[arg-type]
    taken = {
        f: InputError(f"err_{f}_exists")
        for f in INDEXED
        if clean[f] and _taken(session, patient, f, cipher.blind_index(f, clean[f]))  # type: ignore[arg-type]
    }
    if taken:
        raise FieldErrors(taken)
    before = {f: decrypt_field(cipher, patient, f) for f in ENCRYPTED_FIELDS}
    before |= {"name": patient.name, "birth_date": patient.birth_date, "sex": patient.sex}
    changed = tuple(f for f, v in clean.items() if before[f] != v)
    if not changed:
        return Correction((), clean, patient.version)
    mismatches: tuple[str, ...] = ()
    if {"nik", "birth_date", "sex"} & set(changed):
        mismatches = check_nik_agrees(clean["nik"], clean["birth_date"], clean["sex"], confirmed=nik_confirmed)  # type: ignore[arg-type]
    for field in changed:
        if field in ENCRYPTED_FIELDS:
            seal_field(cipher, patient, field, clean[field])  # type: ignore[arg-type]
        else:
            setattr(patient, field, clean[field])
    detail: dict[str, object] = {"fields": list(changed)}
    if patient.incomplete and {"name", "birth_date"} & set(changed):  # an emergency patient identified at last
        patient.incomplete = False
        detail["completed"] = True
    with conflicts_as_input_errors():
        session.flush()
    sync_store.note_patient(session, cipher, patient)
    if mismatches:
        detail["nik_confirmed"] = list(mismatches)
    audit.record_by(session, actor, "patient_updated", target_type="patient", target_id=patient.id, detail=detail)
    bed = patients_bed(session, patient.id) if SHOWN_ON_SCREENS & set(changed) else None
    return Correction(changed, clean, patient.version, (bed,) if bed else ())


def _open_admission(session: Session, patient_id: int) -> Admission | None:
    return session.scalar(
        select(Admission).where(Admission.patient_id == patient_id, Admission.discharged_at.is_(None))
    )


def soft_delete(
    session: Session, cipher: FieldCipher, actor: Actor, patient_id: int, *, version: int | None, reason: str | None
) -> Patient:
    """Mark a record deleted with its ``reason`` (required): it leaves every search and pick list but stays
    readable by RM, marked deleted. A patient in a bed is not deleted (discharge first)."""
    text = clean_text(reason)
    if not text or not readable(text):
        raise InputError("pat_err_reason_required")
    if len(text) > REASON_MAX:
        raise InputError("pat_err_reason_long", n=REASON_MAX)
    patient = _patient(session, actor, patient_id)
    check_version(patient, version)
    if _open_admission(session, patient.id) is not None:
        raise InputError("pat_err_delete_admitted")
    patient.deleted_at, patient.deleted_by, patient.delete_reason = utcnow(), actor.user_id, text
    with conflicts_as_input_errors():
        session.flush()
    sync_store.note_patient(session, cipher, patient)
    audit.record_by(
        session, actor, "patient_deleted", target_type="patient", target_id=patient.id, detail={"reason": text}
    )
    return patient


def last_activity(session: Session, patient: Patient) -> date:
    """The day of the patient's last visit, admission or discharge (registration when there is none)."""
    moments: list[date] = [patient.created_at.date()]
    visit = session.scalar(select(func.max(Visit.service_date)).where(Visit.patient_id == patient.id))
    admitted, discharged = session.execute(
        select(func.max(Admission.admitted_at), func.max(Admission.discharged_at)).where(
            Admission.patient_id == patient.id
        )
    ).one()
    moments += [d for d in (visit,) if d is not None]
    moments += [m.date() for m in (admitted, discharged) if m is not None]
    return max(moments)


def purge(session: Session, actor: Actor, patient_id: int, *, today: date) -> Patient:
    """Erase the name and identifiers of a record whose last activity is at least 25 years old (Permenkes
    24/2022), keeping an anonymous stub (RM, birth year, sex) so visits, vitals and bills keep their keys.
    Earlier raises ``InputError("pat_err_retention", until=…)``."""
    patient = _patient(session, actor, patient_id, for_update=False)
    if patient.purged_at is not None:
        raise InputError("pat_err_purged")
    last = last_activity(session, patient)
    if today < retention_ends(last):
        raise InputError("pat_err_retention", until=retention_ends(last).isoformat())
    if _open_admission(session, patient.id) is not None:
        raise InputError("pat_err_delete_admitted")
    now = utcnow()
    patient.name = ""
    patient.birth_date = date(patient.birth_date.year, 1, 1)
    for field in ENCRYPTED_FIELDS:
        setattr(patient, f"{field}_enc", None)
    patient.nik_bidx = patient.bpjs_bidx = patient.submission_token = None
    patient.purged_at = now
    if patient.deleted_at is None:
        patient.deleted_at, patient.deleted_by = now, actor.user_id
    session.flush()
    audit.record_by(
        session,
        actor,
        "patient_purged",
        target_type="patient",
        target_id=patient.id,
        detail={"last_activity": last.isoformat()},
    )
    return patient


def _duplicates(
    session: Session, site_id: int, *, name: str, birth_date: date, nik_bidx: str | None, exclude_id: int | None
) -> list[DuplicateMatch]:
    same_nik = Patient.nik_bidx == nik_bidx if nik_bidx else None
    criteria = [c for c in (same_nik, Patient.birth_date == birth_date) if c is not None]
    query = select(Patient).where(Patient.site_id == site_id, LIVE_PATIENT, or_(*criteria)).order_by(Patient.mrn)
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    found = []
    for p in session.scalars(query):
        reason = "nik" if nik_bidx and p.nik_bidx == nik_bidx else "name_birth"
        if reason == "nik" or (p.birth_date == birth_date and same_name(p.name, name)):
            found.append(DuplicateMatch(p.id, p.mrn, p.name, p.birth_date, p.sex, p.bpjs_bidx is not None, reason))
    return found


def find_duplicates(
    session: Session,
    cipher: FieldCipher,
    site_id: int,
    *,
    name: str,
    birth_date: date,
    nik: str | None = None,
    exclude_id: int | None = None,
) -> list[DuplicateMatch]:
    """Live records of the site that may be this person: the same NIK (by blind index), or the same name
    (ignoring case, width and spacing) and birth date."""
    return _duplicates(
        session,
        site_id,
        name=name,
        birth_date=birth_date,
        nik_bidx=cipher.blind_index("nik", nik) if nik else None,
        exclude_id=exclude_id,
    )


def duplicates_of(session: Session, patient: Patient) -> list[DuplicateMatch]:
    """The live records that may be the same person as ``patient`` (nothing decrypted)."""
    if patient.deleted_at is not None:
        return []
    return _duplicates(
        session,
        patient.site_id,
        name=patient.name,
        birth_date=patient.birth_date,
        nik_bidx=patient.nik_bidx,
        exclude_id=patient.id,
    )


def patient_references() -> list[tuple[Table, str]]:
    """Every (table, column) holding a ``patient.id``, read from the models' foreign keys, so a table added later
    is moved by a merge too."""
    patient_id = Patient.__table__.c.id
    return [
        (table, fk.parent.name)
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column is patient_id
    ]


def _refuse_open_overlap(session: Session, keep_id: int, duplicate_id: int) -> None:
    """Both in a bed, or both with an open ticket or a visit in the same clinic session: the staff settle which
    one is real first (a merge would make one person stand twice in one line)."""
    if _open_admission(session, keep_id) and _open_admission(session, duplicate_id):
        raise InputError("pat_err_merge_both_admitted")
    both = (
        select(Visit.session_id)
        .join(QueueTicket, QueueTicket.visit_id == Visit.id)
        .where(Visit.patient_id.in_((keep_id, duplicate_id)), QueueTicket.status.in_(OPEN_TICKETS))
        .group_by(Visit.session_id)
        .having(func.count(func.distinct(Visit.patient_id)) > 1)
    )
    if session.scalar(both.limit(1)) is not None:
        raise InputError("pat_err_merge_same_session")


def merge(session: Session, cipher: FieldCipher, actor: Actor, *, keep_id: int, duplicate_id: int) -> MergeResult:
    """Move every row that references ``duplicate_id`` to ``keep_id`` (visits, tickets through them, admissions,
    bills, …: ``patient_references``), give the kept record the identifiers it lacks, and delete the duplicate
    softly as merged into it; one audit row lists what moved."""
    if keep_id == duplicate_id:
        raise InputError("pat_err_merge_same")
    keep = _patient(session, actor, keep_id)
    duplicate = _patient(session, actor, duplicate_id)
    _refuse_open_overlap(session, keep.id, duplicate.id)
    taken = tuple(
        f for f in ENCRYPTED_FIELDS if getattr(keep, f"{f}_enc") is None and getattr(duplicate, f"{f}_enc") is not None
    )
    moved: dict[str, int] = {}
    try:
        with session.begin_nested():
            for field in taken:
                seal_field(cipher, keep, field, decrypt_field(cipher, duplicate, field))
            for table, column in patient_references():
                target = table.c[column]
                count = session.execute(
                    update(table).where(target == duplicate.id).values({target.name: keep.id}),
                    execution_options={"synchronize_session": False},
                ).rowcount
                if count:
                    moved[f"{table.name}.{column}"] = count
            duplicate.deleted_at, duplicate.deleted_by, duplicate.merged_into_id = utcnow(), actor.user_id, keep.id
            session.flush()
            for record in (keep, duplicate):  # the kept one may have gained identifiers; the other is deleted
                sync_store.note_patient(session, cipher, record)
    except IntegrityError as exc:  # e.g. both booked at one poli on one day, which the check above cannot see
        raise InputError("pat_err_merge_conflict") from exc
    session.expire_all()  # rows moved behind the ORM's back
    audit.record_by(
        session,
        actor,
        "patient_merged",
        target_type="patient",
        target_id=keep_id,
        detail={
            "duplicate_id": duplicate_id,
            "patient_ids": [keep_id, duplicate_id],
            "moved": moved,
            "identifiers": list(taken),
        },
    )
    return MergeResult(keep_id, duplicate_id, moved, taken)


@dataclass(frozen=True)
class TicketRow:
    """One place in a line the visit took (the desk, the poli, the pharmacy)."""

    label: str
    point: str
    status: str
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class VisitRow:
    id: int
    service_date: date
    poli: str
    booking_code: str
    payer: str
    status: str
    tickets: tuple[TicketRow, ...]


@dataclass(frozen=True)
class AdmissionRow:
    id: int
    admitted_at: datetime
    discharged_at: datetime | None
    discharge_kind: str | None
    bed_code: str | None  # the last bed of the stay


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    issued_on: date
    payer: str
    total: int
    paid: int
    status: str


@dataclass(frozen=True)
class RecordView:
    """The record page: demographics with the identifiers asked for (read through ``read_patient``, so audited),
    the record's state and its history."""

    record: PatientRecord
    version: int
    deleted_at: datetime | None
    delete_reason: str | None
    merged_into_mrn: str | None
    purged: bool
    visits: tuple[VisitRow, ...]
    admissions: tuple[AdmissionRow, ...]
    invoices: tuple[InvoiceRow, ...]
    duplicates: tuple[DuplicateMatch, ...]


HISTORY_LIMIT = 50  # rows of each history list shown (the newest)


def _visits(session: Session, patient_id: int) -> tuple[VisitRow, ...]:
    visits = session.execute(
        select(Visit, Poli.name)
        .join(Poli, Poli.id == Visit.poli_id)
        .where(Visit.patient_id == patient_id)
        .order_by(Visit.service_date.desc(), Visit.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    tickets: dict[int, list[TicketRow]] = {}
    for t in session.scalars(
        select(QueueTicket).where(QueueTicket.visit_id.in_([v.id for v, _ in visits])).order_by(QueueTicket.id)
    ):
        tickets.setdefault(t.visit_id, []).append(TicketRow(t.label, t.point, t.status, t.created_at, t.finished_at))
    return tuple(
        VisitRow(v.id, v.service_date, poli, v.booking_code, v.payer, v.status, tuple(tickets.get(v.id, ())))
        for v, poli in visits
    )


def _admissions(session: Session, patient_id: int) -> tuple[AdmissionRow, ...]:
    last_bed = (
        select(Bed.code)
        .join(BedOccupancy, BedOccupancy.bed_id == Bed.id)
        .where(BedOccupancy.admission_id == Admission.id)
        .order_by(BedOccupancy.since.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Admission, last_bed)
        .where(Admission.patient_id == patient_id)
        .order_by(Admission.admitted_at.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    return tuple(AdmissionRow(a.id, a.admitted_at, a.discharged_at, a.discharge_kind, bed) for a, bed in rows)


def _invoices(session: Session, patient_id: int) -> tuple[InvoiceRow, ...]:
    rows = session.scalars(
        select(Invoice).where(Invoice.patient_id == patient_id).order_by(Invoice.issued_on.desc()).limit(HISTORY_LIMIT)
    )
    return tuple(InvoiceRow(i.number, i.issued_on, i.payer, i.total, i.paid, i.status) for i in rows)


def patient_by_mrn(session: Session, site_id: int, mrn: str) -> Patient | None:
    """The record with this RM at the site, deleted or not (the record page reads deleted ones too)."""
    return session.scalar(select(Patient).where(Patient.site_id == site_id, Patient.mrn == (mrn or "").strip()))


def record_view(
    session: Session, cipher: FieldCipher, actor: Actor, mrn: str, *, fields: tuple[str, ...]
) -> RecordView | None:
    """The record page of RM ``mrn`` with the identifiers in ``fields`` decrypted; the read is audited."""
    patient = patient_by_mrn(session, actor.site_id, mrn)
    if patient is None:
        return None
    record = read_patient(
        session,
        cipher,
        patient.id,
        actor_id=actor.user_id,
        actor_name=actor.username,
        purpose="patient_record",
        fields=fields if patient.purged_at is None else (),
    )
    merged_into = session.get(Patient, patient.merged_into_id) if patient.merged_into_id else None
    return RecordView(
        record=record,  # type: ignore[arg-type]  # the row exists: just found
        version=patient.version,
        deleted_at=patient.deleted_at,
        delete_reason=patient.delete_reason,
        merged_into_mrn=merged_into.mrn if merged_into else None,
        purged=patient.purged_at is not None,
        visits=_visits(session, patient.id),
        admissions=_admissions(session, patient.id),
        invoices=_invoices(session, patient.id),
        duplicates=tuple(duplicates_of(session, patient)),
    )
