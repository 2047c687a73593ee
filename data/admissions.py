"""Admission, transfer and discharge: a patient's stay and the beds and monitor it holds (docs/inpatient.md).

Every service takes ``session, actor``, checks what the person chose, audits, and only flushes: the caller
commits and then calls ``data.adt_notify.publish_adt`` with the beds the change touched, so the clinical step and
open ward stations reload those beds. Bed and admission rows carry versions, and the open-occupancy and
open-admission unique indexes settle two people acting at once: the second is told what happened, nothing is
overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from data import patients, sync_store
from data.alarm_limits import carry_overrides, end_overrides
from data.audit import record_by
from data.charge_capture import charge_stay
from data.field_crypto import FieldCipher
from data.models import (
    Admission,
    AlarmEvent,
    Bed,
    BedOccupancy,
    BedStatusEvent,
    Device,
    DeviceAssignment,
    Patient,
    Ward,
)
from data.setup_rows import check_version
from domain.actor import Actor
from domain.age_range import UNKNOWN_BIRTH_DATE, approx_age
from domain.alarms import Bounds
from domain.clock import utcnow
from domain.errors import InputError
from domain.finance import PAYERS
from domain.formats import NAME_MAX
from domain.free_text import clean_text
from domain.hospital import ADMISSION_SOURCES, DISCHARGE_KINDS

MONITOR_FOLLOWS, MONITOR_KEEPS = "follow", "keep"
# Hand-set bed states: a discharged or transferred-from bed is cleaned, then made available; a bed is taken out
# of service (with a reason) and back. "occupied" comes and goes only with admissions.
MANUAL_STATUS_MOVES = {
    ("cleaning", "available"),
    ("available", "out_of_service"),
    ("out_of_service", "available"),
}


@dataclass(frozen=True)
class BedRef:
    """A bed as the live screens name it."""

    ward: str
    code: str


@dataclass(frozen=True)
class AdtResult:
    """What an admission change did: the admission, and the beds whose screens must reload."""

    admission_id: int
    beds: tuple[BedRef, ...]


def _now(at: datetime | None) -> datetime:
    return at or utcnow()


def _ref(bed: Bed) -> BedRef:
    return BedRef(ward=bed.ward.code, code=bed.code)


def _bed(session: Session, actor: Actor, bed_id: int | None) -> Bed:
    if not bed_id:
        raise InputError("adt_err_bed_choose")
    bed = session.get(Bed, bed_id)
    if bed is None or bed.ward.site_id != actor.site_id:
        raise InputError("adt_err_bed_unknown")
    if not bed.active or not bed.ward.active:
        raise InputError("adt_err_bed_retired", bed=bed.code)
    return bed


def _set_status(session: Session, actor: Actor, bed: Bed, status: str, at: datetime, reason: str | None = None) -> None:
    bed.status = status
    session.add(BedStatusEvent(bed_id=bed.id, status=status, at=at, by=actor.user_id, reason=reason))


def _require_available(session: Session, bed: Bed) -> None:
    if bed.status != "available":
        raise InputError(f"adt_err_bed_{bed.status}", bed=bed.code)
    lying = select(BedOccupancy.id).where(BedOccupancy.bed_id == bed.id, BedOccupancy.until.is_(None))
    if session.scalar(lying) is not None:  # a stay recorded before beds had a status (demo data)
        raise InputError("adt_err_bed_occupied", bed=bed.code)


def _open_admission(session: Session, patient_id: int) -> Admission | None:
    return session.scalar(
        select(Admission).where(Admission.patient_id == patient_id, Admission.discharged_at.is_(None))
    )


def _open_occupancy(session: Session, admission_id: int) -> BedOccupancy | None:
    return session.scalar(
        select(BedOccupancy).where(BedOccupancy.admission_id == admission_id, BedOccupancy.until.is_(None))
    )


def _bed_assignment(session: Session, bed_id: int) -> DeviceAssignment | None:
    return session.scalar(
        select(DeviceAssignment).where(DeviceAssignment.bed_id == bed_id, DeviceAssignment.until.is_(None))
    )


def _flush_or_taken(session: Session, bed: Bed) -> None:
    """Flush; a bed or patient taken meanwhile by someone else's admission is a message, not a crash."""
    code = bed.code  # read now: a failed flush expires the row
    try:
        session.flush()
    except (IntegrityError, StaleDataError) as exc:
        raise InputError("adt_err_taken_meanwhile", bed=code) from exc


def current_admission(session: Session, bed_id: int) -> Admission | None:
    """The admission lying in the bed now, if any."""
    return session.scalar(
        select(Admission)
        .join(BedOccupancy, BedOccupancy.admission_id == Admission.id)
        .where(BedOccupancy.bed_id == bed_id, BedOccupancy.until.is_(None))
    )


def monitor_bed(session: Session, site_id: int, device_id: str, *, with_patient: bool = False) -> BedRef | None:
    """The bed the site's monitor ``device_id`` serves now, if any (``with_patient``: only when a patient lies
    there, the one it watches)."""
    query = (
        select(Ward.code, Bed.code)
        .join(Bed, Bed.ward_id == Ward.id)
        .join(DeviceAssignment, (DeviceAssignment.bed_id == Bed.id) & DeviceAssignment.until.is_(None))
        .join(Device, Device.id == DeviceAssignment.device_pk)
        .where(Device.site_id == site_id, Device.device_id == device_id.strip())
    )
    if with_patient:
        query = query.join(BedOccupancy, (BedOccupancy.bed_id == Bed.id) & BedOccupancy.until.is_(None))
    row = session.execute(query).first()
    return BedRef(*row) if row is not None else None


def patients_bed(session: Session, patient_id: int) -> BedRef | None:
    """The bed the patient lies in now, if admitted."""
    row = session.execute(
        select(Ward.code, Bed.code)
        .join(Bed, Bed.ward_id == Ward.id)
        .join(BedOccupancy, BedOccupancy.bed_id == Bed.id)
        .join(Admission, Admission.id == BedOccupancy.admission_id)
        .where(Admission.patient_id == patient_id, BedOccupancy.until.is_(None))
    ).first()
    return BedRef(*row) if row is not None else None


def current_bed_code(session: Session, admission_id: int) -> str | None:
    """The code of the bed the admission lies in now (``None`` when it lies in none)."""
    return session.scalar(
        select(Bed.code)
        .join(BedOccupancy, BedOccupancy.bed_id == Bed.id)
        .where(BedOccupancy.admission_id == admission_id, BedOccupancy.until.is_(None))
    )


def admission_stays(session: Session, admission_id: int) -> list[tuple[int, datetime, datetime | None]]:
    """The admission's beds in order: ``(bed_id, since, until)``, ``until`` None for the bed it lies in now."""
    rows = session.execute(
        select(BedOccupancy.bed_id, BedOccupancy.since, BedOccupancy.until)
        .where(BedOccupancy.admission_id == admission_id)
        .order_by(BedOccupancy.since, BedOccupancy.id)
    ).all()
    return [(bed_id, since, until) for bed_id, since, until in rows]


def pair_monitor(
    session: Session, actor: Actor, *, bed_id: int, device_id: str, at: datetime | None = None, force: bool = False
) -> tuple[BedRef, ...]:
    """Put monitor ``device_id`` on the bed: its assignment elsewhere ends (refused while a patient lies there,
    unless ``force``) and so does the bed's other monitor's. Returns the beds touched."""
    at, bed = _now(at), _bed(session, actor, bed_id)
    wanted = (device_id or "").strip()
    device = session.scalar(select(Device).where(Device.site_id == actor.site_id, Device.device_id == wanted))
    if device is None:
        raise InputError("adt_err_device_unknown", device_id=wanted)
    if not device.active or device.retired_at is not None:
        raise InputError("adt_err_device_retired", device_id=wanted)
    touched = [_ref(bed)]
    elsewhere = session.scalar(
        select(DeviceAssignment).where(DeviceAssignment.device_pk == device.id, DeviceAssignment.until.is_(None))
    )
    if elsewhere is not None and elsewhere.bed_id == bed.id:
        return tuple(touched)
    if elsewhere is not None:
        other = elsewhere.bed
        if not force and current_admission(session, other.id) is not None:
            raise InputError("adt_err_device_in_use", device_id=wanted, bed=other.code)
        elsewhere.until = at
        touched.append(_ref(other))
    if (previous := _bed_assignment(session, bed.id)) is not None:
        previous.until = at
    session.flush()  # the open-assignment unique indexes see the closed rows before the new one
    session.add(DeviceAssignment(device_pk=device.id, bed_id=bed.id, since=at))
    record_by(
        session,
        actor,
        "monitor_paired",
        target_type="bed",
        target_id=bed.id,
        detail={"device_id": wanted, "previous": previous.device.device_id if previous else None},
    )
    session.flush()
    return tuple(touched)


def admit(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    bed_id: int,
    source: str,
    visit_id: int | None = None,
    device_id: str | None = None,
    at: datetime | None = None,
    payer: str = "umum",
) -> AdtResult:
    """Admit a registered patient to an available bed; pair ``device_id`` when given (else the bed keeps the
    monitor it has). ``payer`` (``domain.finance.PAYERS``) pays for the stay. She starts on the unit profile's
    alarm limits: own limits a previous patient left on the bed are ended."""
    if not patient_id:  # the form's first choice: said first
        raise InputError("adt_err_patient_unknown")
    at, bed = _now(at), _bed(session, actor, bed_id)
    if source not in ADMISSION_SOURCES:
        raise InputError("adt_err_source")
    _check_payer(payer)
    patient = session.get(Patient, patient_id) if patient_id else None
    if patient is None or patient.site_id != actor.site_id:
        raise InputError("adt_err_patient_unknown")
    if (lying := _open_admission(session, patient.id)) is not None:
        occupancy = _open_occupancy(session, lying.id)
        where = session.get(Bed, occupancy.bed_id).code if occupancy else "?"
        raise InputError("adt_err_already_admitted", bed=where)
    _require_available(session, bed)
    admission = Admission(
        site_id=actor.site_id,
        patient_id=patient.id,
        source=source,
        payer=payer,
        visit_id=visit_id,
        admitted_at=at,
        admitted_by=actor.user_id,
    )
    session.add(admission)
    _set_status(session, actor, bed, "occupied", at)
    _flush_or_taken(session, bed)
    session.add(BedOccupancy(bed_id=bed.id, patient_id=patient.id, admission_id=admission.id, since=at))
    _flush_or_taken(session, bed)
    leftover = end_overrides(session, bed.id)  # a previous patient's limits, kept before they ended with her stay
    record_by(
        session,
        actor,
        "patient_admitted",
        target_type="admission",
        target_id=admission.id,
        detail={"bed": bed.code, "source": source, "payer": payer} | _limits_detail("limits_ended", leftover),
    )
    touched = [_ref(bed)]
    if device_id and device_id.strip():
        touched += pair_monitor(session, actor, bed_id=bed.id, device_id=device_id, at=at)
    return AdtResult(admission.id, tuple(touched))


def _check_payer(payer: str) -> None:
    if payer not in PAYERS:
        raise InputError("cap_err_payer")


def emergency_name(name_hint: str, sex: str) -> str:
    """The name an unidentified emergency patient is registered under until the desk completes her record."""
    hint = clean_text(name_hint or "")
    if len(hint) > NAME_MAX:
        raise InputError("lim_name_too_long", n=NAME_MAX)
    if hint:
        return hint
    return "Tn. Tanpa Nama" if sex == "L" else "Ny. Tanpa Nama"


def admit_emergency(
    session: Session,
    cipher: FieldCipher,
    actor: Actor,
    *,
    name_hint: str,
    sex: str,
    approx_age_years: int | str | None,
    bed_id: int,
    device_id: str | None = None,
    at: datetime | None = None,
    payer: str = "umum",
) -> AdtResult:
    """Register a patient with minimal data (``incomplete``) and admit her from the emergency room;
    ``approx_age_years`` as typed (``domain.age_range.approx_age``: empty for unknown). ``Patient.incomplete`` says
    the record is still to be completed by the desk."""
    at = _now(at)
    _require_available(session, _bed(session, actor, bed_id))
    _check_payer(payer)
    age = approx_age(approx_age_years)
    year = at.year - age if age is not None else None
    mrn = patients.next_mrn(session, actor.site_id)
    patient = patients.create_patient(
        session,
        cipher,
        site_id=actor.site_id,
        mrn=mrn,
        name=emergency_name(name_hint, sex),
        birth_date=date(year, 1, 1) if year is not None else UNKNOWN_BIRTH_DATE,
        sex=sex,
        actor_id=actor.user_id,
        actor_name=actor.username,
    )
    patient.incomplete = True
    sync_store.note_patient(session, cipher, patient)
    return admit(
        session,
        actor,
        patient_id=patient.id,
        bed_id=bed_id,
        source="emergency",
        device_id=device_id,
        at=at,
        payer=payer,
    )


def _admission(session: Session, actor: Actor, admission_id: int, version: int | None) -> Admission:
    admission = session.get(Admission, admission_id)
    if admission is None or admission.site_id != actor.site_id:
        raise InputError("adt_err_admission_unknown")
    if admission.discharged_at is not None:
        raise InputError("adt_err_already_discharged")
    check_version(admission, version)
    return admission


def _end_alarms(session: Session, bed_id: int, at: datetime) -> None:
    session.execute(
        update(AlarmEvent)
        .where(AlarmEvent.bed_id == bed_id, AlarmEvent.ended_at.is_(None))
        .values(ended_at=at)
        .execution_options(synchronize_session=False)
    )


def _leave_bed(session: Session, actor: Actor, occupancy: BedOccupancy, reason: str, at: datetime) -> Bed:
    """End the stay in this bed: its occupancy, its open alarm episodes; the bed goes to cleaning."""
    bed = session.get(Bed, occupancy.bed_id)
    occupancy.until, occupancy.end_reason = at, reason
    _end_alarms(session, bed.id, at)
    _set_status(session, actor, bed, "cleaning", at)
    return bed


def transfer(
    session: Session,
    actor: Actor,
    *,
    admission_id: int,
    to_bed_id: int,
    monitor: str,
    version: int | None,
    at: datetime | None = None,
) -> AdtResult:
    """Move the admission to another available bed: the old bed goes to cleaning, the SpO2 scale and the patient's
    own alarm limits go along.
    ``monitor``: ``"follow"`` (the old bed's monitor comes along), ``"keep"`` (the new bed's own monitor) or a
    device id to pair."""
    at = _now(at)
    admission = _admission(session, actor, admission_id, version)
    target = _bed(session, actor, to_bed_id)
    occupancy = _open_occupancy(session, admission.id)
    if occupancy.bed_id == target.id:
        raise InputError("adt_err_same_bed", bed=target.code)
    _require_available(session, target)
    old_monitor = _bed_assignment(session, occupancy.bed_id)
    old = _leave_bed(session, actor, occupancy, "transfer", at)
    _set_status(session, actor, target, "occupied", at)
    flag_modified(admission, "note")  # the stay changed: its version moves on, so a second transfer at once fails
    _flush_or_taken(session, target)
    session.add(
        BedOccupancy(
            bed_id=target.id,
            patient_id=admission.patient_id,
            admission_id=admission.id,
            since=at,
            spo2_scale=occupancy.spo2_scale,
        )
    )
    _flush_or_taken(session, target)
    carried = carry_overrides(session, old.id, target.id)
    touched = [_ref(old), _ref(target)]
    if monitor == MONITOR_FOLLOWS:
        if old_monitor is not None:
            touched += pair_monitor(session, actor, bed_id=target.id, device_id=old_monitor.device.device_id, at=at)
    elif monitor != MONITOR_KEEPS:
        touched += pair_monitor(session, actor, bed_id=target.id, device_id=monitor, at=at)
    record_by(
        session,
        actor,
        "patient_transferred",
        target_type="admission",
        target_id=admission.id,
        detail={"from": old.code, "to": target.code, "monitor": monitor} | _limits_detail("limits_carried", carried),
    )
    return AdtResult(admission.id, tuple(touched))


def _discharge_fields(
    admission: Admission, kind: str, at: datetime, died_at: datetime | None, referred_to: str | None
) -> None:
    if kind not in DISCHARGE_KINDS:
        raise InputError("adt_err_discharge_kind")
    if at < admission.admitted_at:
        raise InputError("adt_err_discharge_before_admission")
    if kind == "deceased":
        if died_at is None:
            raise InputError("adt_err_died_at_required")
        if died_at > at or died_at < admission.admitted_at:
            raise InputError("adt_err_died_at_range")
    if kind == "referred" and not clean_text(referred_to or ""):
        raise InputError("adt_err_referred_to_required")


def discharge(
    session: Session,
    actor: Actor,
    *,
    admission_id: int,
    kind: str,
    version: int | None,
    at: datetime | None = None,
    died_at: datetime | None = None,
    referred_to: str | None = None,
    note: str | None = None,
) -> AdtResult:
    """End the stay (home, referred, against advice, deceased with the time of death): the occupancy, the bed's
    monitor pairing and the patient's own alarm limits end, its open alarm episodes are closed, and the bed goes
    to cleaning."""
    at = _now(at)
    admission = _admission(session, actor, admission_id, version)
    _discharge_fields(admission, kind, at, died_at, referred_to)
    occupancy = _open_occupancy(session, admission.id)
    bed = _leave_bed(session, actor, occupancy, "discharge", at)
    if (paired := _bed_assignment(session, bed.id)) is not None:
        paired.until = at
    ended = end_overrides(session, bed.id)
    admission.discharged_at, admission.discharged_by, admission.discharge_kind = at, actor.user_id, kind
    admission.died_at = died_at if kind == "deceased" else None
    admission.referred_to = clean_text(referred_to or "") or None if kind == "referred" else None
    admission.note = clean_text(note or "")[:500] or None
    _flush_or_taken(session, bed)
    charge_stay(session, admission)  # every midnight of the stay, before the census reaches its last days
    record_by(
        session,
        actor,
        "patient_discharged",
        target_type="admission",
        target_id=admission.id,
        detail={"bed": bed.code, "kind": kind} | _limits_detail("limits_ended", ended),
    )
    return AdtResult(admission.id, (_ref(bed),))


def _limits_detail(key: str, limits: dict[str, Bounds]) -> dict[str, object]:
    """The patient's own alarm limits an admission, transfer or discharge ended or carried, for its audit entry."""
    return {key: {param: list(bounds) for param, bounds in limits.items()}} if limits else {}


def set_bed_status(
    session: Session,
    actor: Actor,
    *,
    bed_id: int,
    status: str,
    version: int | None,
    reason: str | None = None,
    at: datetime | None = None,
) -> BedRef:
    """Cleaned → available; available ↔ out of service (with a reason). Never to or from occupied by hand."""
    bed = _bed(session, actor, bed_id)
    check_version(bed, version)
    if (bed.status, status) not in MANUAL_STATUS_MOVES:
        raise InputError("adt_err_status_move", bed=bed.code)
    reason = clean_text(reason or "")[:200] or None
    if status == "out_of_service" and reason is None:
        raise InputError("adt_err_reason_required")
    before = bed.status
    _set_status(session, actor, bed, status, _now(at), reason)
    _flush_or_taken(session, bed)
    record_by(
        session, actor, "bed_status_set", target_type="bed", target_id=bed.id, detail={"from": before, "to": status}
    )
    return _ref(bed)
