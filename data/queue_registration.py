"""Outpatient registration: find or register the patient, book a doctor session within its quota, hand out the
poli number with a booking code, and record the first task times. Used by the front desk and Mobile JKN alike."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from data import audit, patient_records, patients, sync_store
from data.charge_capture import charge_registration
from data.field_crypto import FieldCipher
from data.models import ClinicSession, Doctor, Patient, Poli, QueueTicket, Visit
from data.patients import PatientMatch
from data.queue_tickets import QueueEvent, enqueue, issue_ticket, record_task
from data.queue_views import ticket_estimate
from data.schedules import local_today
from domain.actor import Actor
from domain.age_range import AgeRange, age_years
from domain.errors import FieldErrors, InputError
from domain.formats import normalise_name, normalise_phone
from domain.free_text import clean_text
from domain.identifiers import normalise_identifier
from domain.patient_rules import check_birth_date, check_fields, check_sex
from domain.queue_points import ADMISSION, booking_code, poli_point

PAYERS = ("jkn", "non_jkn")


@dataclass(frozen=True)
class Registration:
    visit_id: int
    ticket_id: int
    booking_code: str
    label: str
    number: int
    point: str
    events: tuple[QueueEvent, ...]

    @classmethod
    def of(cls, visit: Visit, ticket: QueueTicket) -> Registration:
        """The outcome for ``visit`` and its poli ``ticket``, with the change the boards must hear about."""
        return cls(
            visit.id,
            ticket.id,
            visit.booking_code,
            ticket.label,
            ticket.number,
            ticket.point,
            (QueueEvent("change", ticket.point),),
        )


def _match(patient: Patient) -> PatientMatch:
    return PatientMatch(
        patient.id, patient.mrn, patient.name, patient.birth_date, patient.sex, patient.bpjs_bidx is not None
    )


def search_patients(
    session: Session,
    cipher: FieldCipher,
    actor: Actor,
    *,
    mrn: str = "",
    name: str = "",
    birth_date: date | None = None,
    nik: str = "",
    bpjs: str = "",
) -> list[PatientMatch]:
    """Find by medical-record number (checked against the birth date when one is given), name + birth date,
    NIK or BPJS card number. The text is read as it is stored (NFKC, single spaces), so full-width characters
    find what the desk saved. Nothing is decrypted: a hit carries only what the list shows.

    Every search that ran is audited (``patient_search``: the kind of search and the patients it returned, never
    what was typed) in ``session``; then a miss raises ``InputError``, so a caller that shows the miss as a message
    must still commit (return from inside its ``with db.session()``). Malformed numbers and missing criteria raise
    before any search, unaudited."""
    site = actor.site_id
    mrn, name = (" ".join(unicodedata.normalize("NFKC", text).split()) for text in (mrn, name))
    if mrn.strip():
        kind = "mrn"
        found = session.scalar(
            select(Patient).where(Patient.site_id == site, Patient.mrn == mrn.strip(), patients.LIVE_PATIENT)
        )
        hits = [found] if found is not None and birth_date in (None, found.birth_date) else []
        miss = InputError("err_unknown_mrn", mrn=mrn.strip()) if found is None else InputError("err_birth_mismatch")
    elif nik.strip() or bpjs.strip():
        kind, value = ("nik", nik) if nik.strip() else ("bpjs", bpjs)
        hits = patients.find_by_identifier(session, cipher, site, kind, value)
        miss = InputError(f"err_unknown_{kind}")
    elif name.strip() and birth_date is not None:
        kind = "name"
        pattern = "%" + name.strip().lower().replace("%", "").replace("_", "") + "%"
        hits = list(
            session.scalars(
                select(Patient)
                .where(
                    Patient.site_id == site,
                    Patient.birth_date == birth_date,
                    func.lower(Patient.name).like(pattern),
                    patients.LIVE_PATIENT,
                )
                .order_by(Patient.name)
                .limit(20)
            )
        )
        miss = InputError("err_no_patient_found")
    else:
        raise InputError("err_search_criteria")
    patients.audit_search(session, actor, kind, hits)
    if not hits:
        raise miss
    return [_match(p) for p in hits]


class NeedsConfirmation(InputError):
    """Something the clerk must see and confirm before going on (a warning, not a refusal); a caller that cannot
    ask anyone refuses with its message."""


class PossibleDuplicate(NeedsConfirmation):
    """Patients with the same name and birth date exist: perhaps the one being registered."""

    def __init__(self, matches: list[PatientMatch]) -> None:
        super().__init__("reg_possible_duplicate", count=len(matches))
        self.matches = matches


SHOWN_NUMBERS = ("nik", "bpjs", "phone")  # what the new-patient form shows again once saved


@dataclass(frozen=True)
class SavedPatient(PatientMatch):
    """A new patient as stored, with the normalised numbers the form must show; ``repeated`` when the form had
    already been saved (the same submission token) and this is that first result again."""

    nik: str | None
    bpjs: str | None
    phone: str | None
    repeated: bool


def _saved(patient: Patient, numbers: dict[str, str | None], repeated: bool) -> SavedPatient:
    return SavedPatient(**vars(_match(patient)), **{f: numbers.get(f) for f in SHOWN_NUMBERS}, repeated=repeated)


def _earlier(cipher: FieldCipher, patient: Patient) -> SavedPatient:
    """The patient a repeated submission had already saved, with the numbers the form shows again."""
    return _saved(patient, {f: patients.decrypt_field(cipher, patient, f) for f in SHOWN_NUMBERS}, repeated=True)


def _same_person(
    session: Session, cipher: FieldCipher, site_id: int, name: str, birth_date: date
) -> list[PatientMatch]:
    """Live patients of the site born that day whose name, ignoring case and spacing, is ``name``."""
    return list(patient_records.find_duplicates(session, cipher, site_id, name=name, birth_date=birth_date))


def _by_token(session: Session, site_id: int, token: str) -> Patient | None:
    return session.scalar(select(Patient).where(Patient.site_id == site_id, Patient.submission_token == token))


def register_patient(
    session: Session,
    cipher: FieldCipher,
    actor: Actor,
    *,
    name: str,
    birth_date: date | None,
    sex: str,
    phone: str,
    nik: str = "",
    bpjs: str = "",
    address: str = "",
    today: date,
    submission_token: str | None = None,
    warn_duplicate: bool = False,
) -> SavedPatient:
    """A new patient with the minimum the desk needs; the medical-record number comes from the site counter.

    Every field is checked and normalised (``FieldErrors`` names each wrong one); what is stored is exactly the
    normalised values, which come back to be shown. ``submission_token`` makes the call idempotent: the same form
    sent again, even at the same instant from another worker, returns the patient it created. With
    ``warn_duplicate`` a patient of the same name and birth date raises ``PossibleDuplicate`` first."""
    if submission_token and (earlier := _by_token(session, actor.site_id, submission_token)) is not None:
        return _earlier(cipher, earlier)
    values = check_fields(
        {
            "name": lambda: normalise_name(name),
            "birth_date": lambda: check_birth_date(birth_date, today),
            "sex": lambda: check_sex(sex),
            "phone": lambda: normalise_phone(phone),
            "nik": lambda: normalise_identifier("nik", nik),
            "bpjs": lambda: normalise_identifier("bpjs", bpjs),
        }
    )
    taken = {
        field: InputError(f"err_{field}_exists")
        for field in ("nik", "bpjs")
        if values[field] and patients.find_by_identifier(session, cipher, actor.site_id, field, values[field])
    }
    if taken:
        raise FieldErrors(taken)
    if warn_duplicate and (twins := _same_person(session, cipher, actor.site_id, values["name"], values["birth_date"])):
        raise PossibleDuplicate(twins)
    try:
        with session.begin_nested():  # a twin of this form committed meanwhile undoes the MRN number as well
            mrn = patients.next_mrn(session, actor.site_id)
            patient = patients.create_patient(
                session,
                cipher,
                site_id=actor.site_id,
                mrn=mrn,
                address=clean_text(address) or None,
                actor_id=actor.user_id,
                actor_name=actor.username,
                submission_token=submission_token,
                **values,
            )
            sync_store.note_patient(session, cipher, patient)
    except IntegrityError:
        earlier = _by_token(session, actor.site_id, submission_token) if submission_token else None
        if earlier is None:
            raise
        return _earlier(cipher, earlier)
    return _saved(patient, values, repeated=False)  # the values just stored: nothing to decrypt


def take_admission_ticket(session: Session, site_id: int, now: datetime) -> tuple[QueueTicket, QueueEvent]:
    """A number for the registration desk's own line (task 1 of a new patient starts here)."""
    ticket = issue_ticket(session, site_id, ADMISSION, local_today(session, site_id, now), now=now)
    return ticket, QueueEvent("change", ADMISSION)


def _book_quota(session: Session, clinic_session: ClinicSession, payer: str) -> None:
    """Take one place of the payer's quota with one guarded UPDATE (row lock): never overbooked. The places
    taken of both quotas come back with it (``RETURNING``), as the BPJS booking reports what is left."""
    booked, quota = (
        (ClinicSession.booked_jkn, ClinicSession.quota_jkn)
        if payer == "jkn"
        else (ClinicSession.booked_non_jkn, ClinicSession.quota_non_jkn)
    )
    taken = session.execute(
        update(ClinicSession)
        .where(ClinicSession.id == clinic_session.id, booked < quota, ClinicSession.closed_reason.is_(None))
        .values({booked: booked + 1})
        .returning(ClinicSession.booked_jkn, ClinicSession.booked_non_jkn)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        session.refresh(clinic_session)
        if clinic_session.closed_reason:
            raise InputError("err_poli_closed", reason=clinic_session.closed_reason)
        raise InputError("err_quota_full", payer="JKN" if payer == "jkn" else "non-JKN")
    set_committed_value(clinic_session, "booked_jkn", taken.booked_jkn)
    set_committed_value(clinic_session, "booked_non_jkn", taken.booked_non_jkn)


def register_visit(
    session: Session,
    actor: Actor,
    *,
    patient_id: int,
    session_id: int,
    payer: str,
    now: datetime,
    source: str = "desk",
    arrived: bool = True,
    admission_ticket_id: int | None = None,
    referral_number: str | None = None,
    referred_from_id: int | None = None,
    visit_kind: int | None = None,
    warn_age: bool = False,
) -> Registration:
    """Book ``patient_id`` into a doctor session and give them the poli's next number.

    ``arrived`` is False for a Mobile JKN booking made ahead: its ticket waits as ``booked`` until check-in,
    and no task time is recorded before the patient is really there. ``visit_kind`` is BPJS's
    ``jeniskunjungan`` (1 FKTP referral, 2 internal referral, 3 control, 4 referral between hospitals); by default
    2 for a referral from another poli, else 1. With ``warn_age``, a patient whose age on the visit day lies outside
    the poli's age range raises ``AgeOutsideRange`` before anything is booked."""
    if payer not in PAYERS:
        raise InputError("err_payer")
    clinic_session = session.get(ClinicSession, session_id)
    patient = session.get(Patient, patient_id)
    if clinic_session is None or clinic_session.site_id != actor.site_id:
        raise InputError("err_session_unknown")
    if patient is None or patient.site_id != actor.site_id:
        raise InputError("err_patient_unknown")
    if clinic_session.closed_reason:
        raise InputError("err_poli_closed", reason=clinic_session.closed_reason)
    if now >= clinic_session.ends_at or clinic_session.service_date < local_today(session, actor.site_id, now):
        raise InputError("err_session_over")
    if payer == "jkn" and patient.bpjs_bidx is None:
        raise InputError("err_jkn_needs_card")
    if payer == "jkn" and patient.nik_bidx is None:  # antrean/add carries the NIK with the card number
        raise InputError("err_jkn_needs_nik")
    referral_number = clean_text(referral_number).upper() or None
    if payer == "jkn" and referral_number is None:  # BPJS antrean/add needs the FKTP referral or control letter
        raise InputError("err_jkn_needs_referral")
    poli = session.get(Poli, clinic_session.poli_id)
    doctor = session.get(Doctor, clinic_session.doctor_id)
    same_day = select(QueueTicket.label).join(Visit, Visit.id == QueueTicket.visit_id)
    duplicate = session.scalar(
        same_day.where(
            Visit.patient_id == patient_id,
            Visit.poli_id == poli.id,
            Visit.service_date == clinic_session.service_date,
            Visit.status != "cancelled",
            QueueTicket.point == poli_point(poli.code),
        )
    )
    if duplicate:
        raise InputError("err_already_registered", poli=poli.name, label=duplicate)
    new_patient = not session.scalar(
        select(exists().where(Visit.patient_id == patient_id, Visit.status != "cancelled"))
    )
    if warn_age:
        _check_age(poli, patient.birth_date, clinic_session.service_date)
    _book_quota(session, clinic_session, payer)
    visit = Visit(
        site_id=actor.site_id,
        patient_id=patient_id,
        session_id=clinic_session.id,
        poli_id=poli.id,
        service_date=clinic_session.service_date,
        booking_code=booking_code(clinic_session.service_date),
        payer=payer,
        new_patient=new_patient,
        source=source,
        referral_number=referral_number,
        referred_from_id=referred_from_id,
        created_at=now,
        created_by=actor.user_id,
    )
    session.add(visit)
    poli_name = poli.name  # a failed flush leaves the session unusable: read it before
    try:
        session.flush()
    except IntegrityError:  # the same patient booked at another desk in the same instant
        raise InputError("err_already_registered", poli=poli_name, label="") from None
    ticket = issue_ticket(
        session,
        actor.site_id,
        poli_point(poli.code),
        visit.service_date,
        now=now,
        visit_id=visit.id,
        session_id=clinic_session.id,
    )
    if not arrived:
        ticket.status = "booked"
    if payer == "jkn":  # only JKN bookings are reported; the estimate costs a few queries, so only for them
        booked = _antrean_add(visit, ticket, clinic_session, poli, doctor, patient)
        booked["jeniskunjungan"] = visit_kind or booked["jeniskunjungan"]
        estimate = ticket_estimate(session, ticket, now)
        booked["estimasidilayani"] = int(estimate.timestamp() * 1000) if estimate else None
        enqueue(session, visit, "antrean_add", booked)
    if arrived:
        _record_arrival(session, actor, visit, now, admission_ticket_id)
        charge_registration(session, visit, actor.user_id)
    audit.record_by(
        session,
        actor,
        "visit_registered",
        target_type="visit",
        target_id=visit.id,
        detail={"patient_id": patient_id, "poli": poli.code, "payer": payer, "source": source},
    )
    return Registration.of(visit, ticket)


class AgeOutsideRange(NeedsConfirmation):
    """The patient's age on the visit day is outside the poli's age range (an adult at Poli Anak)."""


def _check_age(poli: Poli, birth_date: date, day: date) -> None:
    ages = AgeRange(poli.age_min_years, poli.age_max_years)
    age = age_years(birth_date, day)
    if not ages.admits(age):
        low, high = ages.min_years, ages.max_years
        bounds = f"{low}–{high}" if None not in (low, high) else f"≥ {low}" if high is None else f"≤ {high}"
        raise AgeOutsideRange("reg_age_outside", age=age, poli=poli.name, range=bounds)


def _record_arrival(
    session: Session, actor: Actor, visit: Visit, now: datetime, admission_ticket_id: int | None
) -> None:
    """Tasks 1–2 come from the admission ticket when a new patient queued at the desk; task 3 is now."""
    if admission_ticket_id is not None:
        admission = session.get(QueueTicket, admission_ticket_id)
        if admission is None or admission.point != ADMISSION or admission.site_id != actor.site_id:
            raise InputError("err_admission_ticket")
        if admission.visit_id is not None or admission.status != "serving":
            raise InputError("err_admission_ticket")
        if visit.new_patient:
            record_task(session, visit, 1, admission.created_at, None)
            record_task(session, visit, 2, admission.started_at, actor.user_id)
        admission.visit_id, admission.status, admission.finished_at = visit.id, "done", now
    record_task(session, visit, 3, now, actor.user_id)


def check_in(session: Session, actor: Actor, booking: str, now: datetime) -> Registration:
    """A Mobile JKN patient arrives: the booked ticket joins the line and task 3 starts."""
    visit = session.scalar(select(Visit).where(Visit.site_id == actor.site_id, Visit.booking_code == booking))
    if visit is None:
        raise InputError("err_unknown_booking", code=booking)
    ticket = session.scalar(select(QueueTicket).where(QueueTicket.visit_id == visit.id, QueueTicket.status == "booked"))
    if visit.status != "active" or ticket is None:
        raise InputError("err_checkin_state")
    if visit.service_date != local_today(session, actor.site_id, now):
        raise InputError("err_checkin_day")
    ticket.status = "waiting"
    record_task(session, visit, 3, now, actor.user_id)
    charge_registration(session, visit, actor.user_id)
    return Registration.of(visit, ticket)


def _antrean_add(
    visit: Visit, ticket: QueueTicket, cs: ClinicSession, poli: Poli, doctor: Doctor, patient: Patient
) -> dict:
    """The non-identifying fields of BPJS ``antrean/add`` as they were at booking time; the worker adds the
    card number, NIK and phone from the encrypted record when it sends."""
    return {
        "kodebooking": visit.booking_code,
        "jenispasien": "JKN" if visit.payer == "jkn" else "NON JKN",
        "kodepoli": poli.bpjs_code or poli.code,
        "namapoli": poli.name,
        "pasienbaru": int(visit.new_patient),
        "norm": patient.mrn,
        "tanggalperiksa": visit.service_date.isoformat(),
        "kodedokter": doctor.bpjs_code,
        "namadokter": doctor.name,
        "jampraktek": f"{cs.start_time:%H:%M}-{cs.end_time:%H:%M}",
        "jeniskunjungan": 2 if visit.referred_from_id else 1,
        "nomorreferensi": visit.referral_number or "",
        "nomorantrean": ticket.label,
        "angkaantrean": ticket.number,
        "kuotajkn": cs.quota_jkn,
        "sisakuotajkn": cs.quota_jkn - cs.booked_jkn,
        "kuotanonjkn": cs.quota_non_jkn,
        "sisakuotanonjkn": cs.quota_non_jkn - cs.booked_non_jkn,
        "keterangan": "Peserta harap datang 30 menit lebih awal",
    }
