"""Outpatient registration: find or register the patient, book a doctor session within its quota, hand out the
poli number with a booking code, and record the first task times. Used by the front desk and Mobile JKN alike."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from data import audit, patient_records, patients, sync_store
from data.charge_capture import charge_registration
from data.field_crypto import FieldCipher
from data.models import ClinicSession, Patient, QueueTicket, Visit
from data.patients import PatientMatch
from data.queue_booking_estimate import Line, Standing, standing
from data.queue_booking_facts import booking_facts
from data.queue_places import PAYERS, Place, take_place
from data.queue_tickets import QueueEvent, enqueue, issue_ticket, record_task
from data.schedules import local_today
from domain.actor import Actor
from domain.age_range import AgeRange, age_years
from domain.clock import epoch_ms
from domain.errors import FieldErrors, InputError, check_fields
from domain.formats import normalise_name, normalise_phone
from domain.free_text import clean_text
from domain.identifiers import normalise_identifier
from domain.masking import mask_name
from domain.patient_rules import check_birth_date, check_sex
from domain.queue_points import ADMISSION, booking_code, poli_point, ticket_label


@dataclass(frozen=True)
class Registration:
    visit_id: int
    ticket_id: int
    booking_code: str
    label: str
    number: int
    point: str
    events: tuple[QueueEvent, ...]
    booked: Booked | None = None  # what a new booking knows already (None for a check-in)

    def status(self) -> dict | None:
        """A new booking as ``data.queue_views.booking_status`` gives it, from what the booking read and took
        (nothing read again); None for a check-in."""
        if self.booked is None:
            return None
        facts, stands = self.booked.facts, self.booked.standing
        line = {
            "label": self.label,
            "point": facts.poli_name,
            "status": self.booked.ticket_status,
            "position": stands.position,
            "estimate": stands.estimate,
            "serving": stands.serving,
        }
        return {
            "booking_code": self.booking_code,
            "name": mask_name(facts.patient_name),
            "date": facts.cs_service_date,
            "doctor": facts.doctor_name,
            "poli": facts.poli_name,
            "visit_status": "active",
            "lines": [line],
        }

    @classmethod
    def of(cls, visit: Visit, ticket: QueueTicket, booked: Booked | None = None) -> Registration:
        """The outcome for ``visit`` and its poli ``ticket``, with the change the boards must hear about."""
        return cls(
            visit.id,
            ticket.id,
            visit.booking_code,
            ticket.label,
            ticket.number,
            ticket.point,
            (QueueEvent("change", ticket.point),),
            booked,
        )


@dataclass(frozen=True)
class Booked:
    """A booking as it was made: its session's facts, the place taken and where it stands."""

    facts: Row
    place: Place
    standing: Standing
    ticket_status: str

    @property
    def quotas(self) -> dict[str, int]:
        """Both quotas and the places left in them, with BPJS's field names."""
        facts, place = self.facts, self.place
        return {
            "sisakuotajkn": facts.cs_quota_jkn - place.booked_jkn,
            "kuotajkn": facts.cs_quota_jkn,
            "sisakuotanonjkn": facts.cs_quota_non_jkn - place.booked_non_jkn,
            "kuotanonjkn": facts.cs_quota_non_jkn,
        }


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
        super().__init__("reg_possible_duplicate", n=len(matches))
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


def _check_booking(facts: Row | None, payer: str, referral_number: str | None, now: datetime) -> Row:
    """Refuse what cannot be booked, in the order the desk should hear it."""
    if payer not in PAYERS:
        raise InputError("err_payer")
    if facts is None:
        raise InputError("err_session_unknown")
    if facts.patient_id is None:
        raise InputError("err_patient_unknown")
    if facts.cs_closed_reason:
        raise InputError("err_poli_closed", reason=facts.cs_closed_reason)
    if now >= facts.cs_ends_at or facts.cs_service_date < now.astimezone(ZoneInfo(facts.timezone)).date():
        raise InputError("err_session_over")
    if payer == "jkn" and not facts.has_card:
        raise InputError("err_jkn_needs_card")
    if payer == "jkn" and not facts.has_nik:  # antrean/add carries the NIK with the card number
        raise InputError("err_jkn_needs_nik")
    if payer == "jkn" and referral_number is None:  # BPJS antrean/add needs the FKTP referral or control letter
        raise InputError("err_jkn_needs_referral")
    if facts.repeat_label:
        raise InputError("err_already_registered", poli=facts.poli_name, label=facts.repeat_label)
    return facts


def _refuse_place(session: Session, session_id: int, payer: str) -> NoReturn:
    """Say why no place was taken: the session closed meanwhile, or the payer's quota is full."""
    reason = session.scalar(select(ClinicSession.closed_reason).where(ClinicSession.id == session_id))
    if reason:
        raise InputError("err_poli_closed", reason=reason)
    raise InputError("err_quota_full", payer="JKN" if payer == "jkn" else "non-JKN")


def _note_booked(session: Session, session_id: int, place: Place) -> None:
    """A session object this transaction already holds shows the places just booked (the UPDATE bypassed it)."""
    held = session.identity_map.get(identity_key(ClinicSession, session_id))
    if held is not None:
        set_committed_value(held, "booked_jkn", place.booked_jkn)
        set_committed_value(held, "booked_non_jkn", place.booked_non_jkn)


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
    the poli's age range raises ``AgeOutsideRange`` before anything is booked.

    Rush hour shapes the order: everything is read in one statement, and the visit and its audit row go in before
    the hot rows — quota and number (``data.queue_places``), then the day's charge sum — are locked, so those stay
    locked for the few statements left before commit, always in that order. The estimate is computed once, for
    the desk and BPJS alike."""
    referral_number = clean_text(referral_number).upper() or None
    facts = _check_booking(booking_facts(session, actor.site_id, patient_id, session_id), payer, referral_number, now)
    if warn_age:
        _check_age(facts, facts.cs_service_date)
    visit = Visit(
        site_id=actor.site_id,
        patient_id=patient_id,
        session_id=session_id,
        poli_id=facts.cs_poli_id,
        service_date=facts.cs_service_date,
        booking_code=booking_code(facts.cs_service_date),
        payer=payer,
        new_patient=not facts.came_before,
        source=source,
        referral_number=referral_number,
        referred_from_id=referred_from_id,
        created_at=now,
        created_by=actor.user_id,
    )
    session.add(visit)
    try:
        session.flush()
    except IntegrityError:  # the same patient booked at another desk in the same instant
        raise InputError("err_already_registered", poli=facts.poli_name, label="") from None
    audit.record_by(
        session,
        actor,
        "visit_registered",
        target_type="visit",
        target_id=visit.id,
        detail={"patient_id": patient_id, "poli": facts.poli_code, "payer": payer, "source": source},
    )
    point = poli_point(facts.poli_code)
    day = facts.cs_service_date
    place = take_place(session, site_id=actor.site_id, session_id=session_id, payer=payer, point=point, day=day)
    if place is None:
        _refuse_place(session, session_id, payer)
    _note_booked(session, session_id, place)
    line = Line(
        actor.site_id,
        session_id,
        facts.cs_doctor_id,
        point,
        day,
        facts.cs_started_at or facts.cs_starts_at,
        timedelta(minutes=facts.default_service_minutes),
    )
    stands = standing(session, line, place.number, now)
    ticket = QueueTicket(
        site_id=actor.site_id,
        visit_id=visit.id,
        session_id=session_id,
        point=point,
        service_date=day,
        number=place.number,
        label=ticket_label(facts.queue_prefix, place.number),
        status="waiting" if arrived else "booked",
        created_at=now,
    )
    session.add(ticket)
    if payer == "jkn":  # only JKN bookings are reported
        booked = _antrean_add(visit, ticket, facts, place)
        booked["jeniskunjungan"] = visit_kind or booked["jeniskunjungan"]
        booked["estimasidilayani"] = epoch_ms(stands.estimate)
        enqueue(session, visit, "antrean_add", booked)  # before the task times: BPJS must hear of the booking first
    if arrived:
        _record_arrival(session, actor, visit, now, admission_ticket_id)
    session.flush()
    if arrived:  # last: its daily sum is a hot row too, locked after the others as always
        charge_registration(session, visit, actor.user_id)
    return Registration.of(visit, ticket, Booked(facts, place, stands, ticket.status))


class AgeOutsideRange(NeedsConfirmation):
    """The patient's age on the visit day is outside the poli's age range (an adult at Poli Anak)."""


def _check_age(facts: Row, day: date) -> None:
    ages = AgeRange(facts.age_min_years, facts.age_max_years)
    age = age_years(facts.birth_date, day)
    if not ages.admits(age):
        low, high = ages.min_years, ages.max_years
        bounds = f"{low}–{high}" if None not in (low, high) else f"≥ {low}" if high is None else f"≤ {high}"
        raise AgeOutsideRange("reg_age_outside", age=age, poli=facts.poli_name, range=bounds)


def _record_arrival(
    session: Session, actor: Actor, visit: Visit, now: datetime, admission_ticket_id: int | None
) -> None:
    """Tasks 1–2 come from the admission ticket when a new patient queued at the desk; task 3 is now. The visit is
    new: it has no task to read back."""
    recorded: dict[int, datetime] = {}
    if admission_ticket_id is not None:
        admission = session.get(QueueTicket, admission_ticket_id)
        if admission is None or admission.point != ADMISSION or admission.site_id != actor.site_id:
            raise InputError("err_admission_ticket")
        if admission.visit_id is not None or admission.status != "serving":
            raise InputError("err_admission_ticket")
        if visit.new_patient:
            record_task(session, visit, 1, admission.created_at, None, recorded=recorded)
            record_task(session, visit, 2, admission.started_at, actor.user_id, recorded=recorded)
        admission.visit_id, admission.status, admission.finished_at = visit.id, "done", now
    record_task(session, visit, 3, now, actor.user_id, recorded=recorded)


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


def _antrean_add(visit: Visit, ticket: QueueTicket, facts: Row, place: Place) -> dict:
    """The non-identifying fields of BPJS ``antrean/add`` as they were at booking time; the worker adds the
    card number, NIK and phone from the encrypted record when it sends."""
    return {
        "kodebooking": visit.booking_code,
        "jenispasien": "JKN" if visit.payer == "jkn" else "NON JKN",
        "kodepoli": facts.poli_bpjs_code or facts.poli_code,
        "namapoli": facts.poli_name,
        "pasienbaru": int(visit.new_patient),
        "norm": facts.mrn,
        "tanggalperiksa": visit.service_date.isoformat(),
        "kodedokter": facts.doctor_bpjs_code,
        "namadokter": facts.doctor_name,
        "jampraktek": f"{facts.cs_start_time:%H:%M}-{facts.cs_end_time:%H:%M}",
        "jeniskunjungan": 2 if visit.referred_from_id else 1,
        "nomorreferensi": visit.referral_number or "",
        "nomorantrean": ticket.label,
        "angkaantrean": ticket.number,
        "kuotajkn": facts.cs_quota_jkn,
        "sisakuotajkn": facts.cs_quota_jkn - place.booked_jkn,
        "kuotanonjkn": facts.cs_quota_non_jkn,
        "sisakuotanonjkn": facts.cs_quota_non_jkn - place.booked_non_jkn,
        "keterangan": "Peserta harap datang 30 menit lebih awal",
    }
