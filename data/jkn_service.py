"""Mobile JKN (WS RS) on top of the front desk's own services: the same patients, sessions, numbering, quotas,
task times and BPJS outbox. Answers carry BPJS's field names; a mistake the caller can fix raises ``InputError``
(an unknown card raises ``NewPatient``, BPJS's code 202). Only JKN visits are visible through this service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from data import patients
from data.field_crypto import FieldCipher
from data.models import ClinicSession, Doctor, DoctorSchedule, Patient, Poli, QueueTicket, Site, Visit
from data.queue_actions import cancel
from data.queue_registration import check_in, register_patient, register_visit, search_patients
from data.queue_tickets import QueueEvent
from data.queue_views import AHEAD_STATES, ticket_estimate
from data.schedules import ensure_sessions, local_today
from domain.actor import Actor
from domain.clock import epoch_ms
from domain.errors import InputError
from domain.formats import long_date
from domain.queue_points import PHARMACY_COMPOUNDED, PHARMACY_POINTS, poli_point

SERVICE_USERNAME = "mobile-jkn"
DAYS_AHEAD = 90  # Mobile JKN books ahead; further than this is refused (and no sessions are made for it)
NOT_YET_CALLED = ("booked", "waiting")
SERVED = ("serving", "done")
# ``keterangan`` texts go to BPJS and Mobile JKN as they are, in Indonesian (like the outbox payloads).
BOOKED_NOTE = "Peserta harap datang 30 menit lebih awal dan check-in di rumah sakit"
STATUS_NOTES = {
    "booked": "Belum check-in; silakan check-in saat tiba di rumah sakit",
    "waiting": "Menunggu panggilan",
    "called": "Nomor Anda sedang dipanggil",
    "serving": "Sedang dilayani",
    "done": "Sudah dilayani",
    "skipped": "Nomor Anda sudah dipanggil; silakan lapor ke petugas",
    "cancelled": "Antrean sudah dibatalkan",
}


class NewPatient(InputError):
    """The card number is not known at this hospital: BPJS's convention is code 202 (register via pasienbaru)."""


@dataclass(frozen=True)
class Answer:
    """The ``response`` part of a WS RS answer, the events to publish after commit, and a message when BPJS's
    catalogue wants one other than "Ok"."""

    response: dict
    events: tuple[QueueEvent, ...] = ()
    message_key: str = ""


@dataclass(frozen=True)
class SessionRequest:
    """Which doctor session a caller means: BPJS poli and doctor codes, the date and ``jampraktek``."""

    poli_code: str
    doctor_code: str
    day: date
    starts: time
    ends: time

    @property
    def hours(self) -> str:
        return f"{self.starts:%H:%M}-{self.ends:%H:%M}"


@dataclass(frozen=True)
class BookingRequest:
    """``ambilantrean``'s fields after their format was checked."""

    card: str
    nik: str
    mrn: str
    session: SessionRequest
    visit_kind: int
    referral: str


@dataclass(frozen=True)
class NewPatientRequest:
    """``pasienbaru``'s fields after their format was checked; ``address`` joins BPJS's address parts."""

    card: str
    nik: str
    name: str
    sex: str
    birth_date: date
    phone: str
    address: str


def service_actor(session: Session, site_code: str, ip: str | None) -> Actor:
    """Mobile JKN acts as a user of its own (no account) on the configured site, for tasks and the audit log."""
    site_id = session.scalar(select(Site.id).where(Site.code == site_code))
    if site_id is None:
        raise InputError("jkn_not_configured")
    return Actor(None, SERVICE_USERNAME, site_id, ip)


# ---- doctor sessions --------------------------------------------------------------------------------------------


def _check_day(session: Session, actor: Actor, day: date, now: datetime) -> None:
    today = local_today(session, actor.site_id, now)
    if day < today:
        raise InputError("jkn_date_past", date=long_date(day))
    if day > today + timedelta(days=DAYS_AHEAD):
        raise InputError("jkn_date_too_far", days=DAYS_AHEAD, last=long_date(today + timedelta(days=DAYS_AHEAD)))


def _poli(session: Session, actor: Actor, code: str) -> Poli:
    poli = session.scalar(
        select(Poli).where(Poli.site_id == actor.site_id, Poli.bpjs_code == code, Poli.active.is_(True))
    )
    if poli is None:
        raise InputError("jkn_poli_unknown", code=code)
    return poli


def _doctor(session: Session, actor: Actor, poli: Poli, code: str) -> Doctor:
    doctor = session.scalar(
        select(Doctor).where(Doctor.site_id == actor.site_id, Doctor.bpjs_code == code, Doctor.active.is_(True))
    )
    if doctor is None:
        raise InputError("jkn_doctor_unknown", code=code)
    scheduled = session.scalar(
        select(exists().where(DoctorSchedule.doctor_id == doctor.id, DoctorSchedule.poli_id == poli.id))
    )
    if doctor.poli_id != poli.id and not scheduled:
        raise InputError("jkn_doctor_not_in_poli", doctor=doctor.name, poli=poli.name)
    return doctor


def _clinic_session(
    session: Session, actor: Actor, wanted: SessionRequest, now: datetime
) -> tuple[Poli, Doctor, ClinicSession]:
    """The day's session of that doctor in that poli at exactly ``jampraktek`` (made from the weekly schedule)."""
    _check_day(session, actor, wanted.day, now)
    poli = _poli(session, actor, wanted.poli_code)
    doctor = _doctor(session, actor, poli, wanted.doctor_code)
    ensure_sessions(session, actor.site_id, wanted.day)
    sessions = session.scalars(
        select(ClinicSession)
        .where(
            ClinicSession.site_id == actor.site_id,
            ClinicSession.poli_id == poli.id,
            ClinicSession.doctor_id == doctor.id,
            ClinicSession.service_date == wanted.day,
        )
        .order_by(ClinicSession.start_time)
    ).all()
    names = {"doctor": doctor.name, "poli": poli.name, "date": long_date(wanted.day)}
    if not sessions:
        raise InputError("jkn_no_schedule_day", **names)
    for found in sessions:
        if (found.start_time, found.end_time) == (wanted.starts, wanted.ends):
            return poli, doctor, found
    available = ", ".join(f"{s.start_time:%H:%M}-{s.end_time:%H:%M}" for s in sessions)
    raise InputError("jkn_no_schedule_hours", hours=wanted.hours, available=available, **names)


def _quotas(cs: ClinicSession) -> dict:
    return {
        "sisakuotajkn": cs.quota_jkn - cs.booked_jkn,
        "kuotajkn": cs.quota_jkn,
        "sisakuotanonjkn": cs.quota_non_jkn - cs.booked_non_jkn,
        "kuotanonjkn": cs.quota_non_jkn,
    }


def _last_called(session: Session, cs: ClinicSession) -> str:
    """The number a session's doctor called last ("-" before the first call)."""
    label = session.scalar(
        select(QueueTicket.label)
        .where(QueueTicket.session_id == cs.id, QueueTicket.point == poli_point(cs.poli.code))
        .where(QueueTicket.called_at.is_not(None))
        .order_by(QueueTicket.called_at.desc())
        .limit(1)
    )
    return label or "-"


def queue_status(session: Session, actor: Actor, wanted: SessionRequest, now: datetime) -> Answer:
    """``statusantrean``: a session's counts (no patient's data): all numbers taken, those not yet called, the
    number called last, and the quotas."""
    poli, doctor, cs = _clinic_session(session, actor, wanted, now)
    counts = dict(
        session.execute(
            select(QueueTicket.status, func.count())
            .where(QueueTicket.session_id == cs.id, QueueTicket.point == poli_point(poli.code))
            .group_by(QueueTicket.status)
        ).all()
    )
    return Answer(
        {
            "namapoli": poli.name,
            "namadokter": doctor.name,
            "totalantrean": sum(n for status, n in counts.items() if status != "cancelled"),
            "sisaantrean": sum(counts.get(status, 0) for status in NOT_YET_CALLED),
            "antreanpanggil": _last_called(session, cs),
            **_quotas(cs),
            "keterangan": f"Poli tutup: {cs.closed_reason}" if cs.closed_reason else "",
        }
    )


# ---- booking ----------------------------------------------------------------------------------------------------


def _patient(session: Session, cipher: FieldCipher, actor: Actor, booking: BookingRequest) -> Patient:
    """The card holder (blind index, audited as a search), who must also carry the given NIK (and RM number)."""
    try:
        (match,) = search_patients(session, cipher, actor, bpjs=booking.card)
    except InputError as err:
        if err.key == "err_unknown_bpjs":
            raise NewPatient("jkn_new_patient") from None
        raise
    patient = session.get(Patient, match.id)
    if patient.nik_bidx is None:
        raise InputError("jkn_nik_missing")
    if patient.nik_bidx != patients.identifier_index(cipher, "nik", booking.nik):
        raise InputError("jkn_nik_mismatch")
    if booking.mrn and booking.mrn != patient.mrn:
        raise InputError("jkn_mrn_mismatch", norm=booking.mrn)
    return patient


# The desk's messages say "hari ini"; a Mobile JKN booking may be for another day.
_DATED_MESSAGES = {"err_poli_closed": "jkn_poli_closed", "err_already_registered": "jkn_already_booked"}


def take_queue(session: Session, cipher: FieldCipher, actor: Actor, booking: BookingRequest, now: datetime) -> Answer:
    """``ambilantrean``: the poli's next number from the desk's own counter and quota; the ticket waits as
    ``booked`` until check-in (no task time before the patient is there)."""
    poli, doctor, cs = _clinic_session(session, actor, booking.session, now)
    patient = _patient(session, cipher, actor, booking)
    day = long_date(cs.service_date)
    if cs.closed_reason:
        raise InputError("jkn_poli_closed", poli=poli.name, date=day, reason=cs.closed_reason)
    try:
        registration = register_visit(
            session,
            actor,
            patient_id=patient.id,
            session_id=cs.id,
            payer="jkn",
            now=now,
            source="mobile_jkn",
            arrived=False,
            referral_number=booking.referral,
            visit_kind=booking.visit_kind,
        )
    except InputError as err:
        if err.key in _DATED_MESSAGES:
            raise InputError(_DATED_MESSAGES[err.key], **{**err.params, "poli": poli.name, "date": day}) from None
        raise
    booked = registration.booked
    return Answer(
        {
            "nomorantrean": registration.label,
            "angkaantrean": registration.number,
            "kodebooking": registration.booking_code,
            "norm": patient.mrn,
            "namapoli": poli.name,
            "namadokter": doctor.name,
            "estimasidilayani": epoch_ms(booked.standing.estimate),
            **booked.quotas,
            "keterangan": BOOKED_NOTE,
        },
        registration.events,
    )


# ---- one booking ------------------------------------------------------------------------------------------------


def _visit(session: Session, actor: Actor, code: str) -> Visit:
    """A JKN visit of this site by booking code; other visits do not exist for Mobile JKN."""
    visit = session.scalar(
        select(Visit).where(Visit.site_id == actor.site_id, Visit.booking_code == code, Visit.payer == "jkn")
    )
    if visit is None:
        raise InputError("jkn_booking_unknown", code=code)
    return visit


def _poli_ticket(session: Session, visit: Visit) -> QueueTicket:
    return session.scalar(
        select(QueueTicket).where(
            QueueTicket.visit_id == visit.id, QueueTicket.point == poli_point(visit.session.poli.code)
        )
    )


def _wait_seconds(session: Session, ticket: QueueTicket, now: datetime) -> int:
    estimate = ticket_estimate(session, ticket, now) if ticket.status in AHEAD_STATES else None
    return max(0, int((estimate - now).total_seconds())) if estimate else 0


def remaining(session: Session, actor: Actor, code: str, now: datetime) -> Answer:
    """``sisaantrean``: how many of the same session are still before this booking, the number called last and
    the estimated wait in seconds."""
    visit = _visit(session, actor, code)
    ticket = _poli_ticket(session, visit)
    cs = visit.session
    ahead = 0
    if ticket.status in AHEAD_STATES:
        ahead = session.scalar(
            select(func.count()).where(
                QueueTicket.session_id == cs.id,
                QueueTicket.point == ticket.point,
                QueueTicket.status.in_(AHEAD_STATES),
                QueueTicket.number < ticket.number,
            )
        )
    return Answer(
        {
            "nomorantrean": ticket.label,
            "namapoli": cs.poli.name,
            "namadokter": cs.doctor.name,
            "sisaantrean": ahead,
            "antreanpanggil": _last_called(session, cs),
            "waktutunggu": _wait_seconds(session, ticket, now),
            "keterangan": STATUS_NOTES[ticket.status],
        }
    )


def cancel_booking(session: Session, actor: Actor, code: str, reason: str, now: datetime) -> Answer:
    """``batalantrean``: the desk's own cancel (task 99 and ``antrean/batal`` in the outbox, quota returned)."""
    visit = _visit(session, actor, code)
    ticket = _poli_ticket(session, visit)
    if visit.status == "cancelled" or ticket.status == "cancelled":
        raise InputError("jkn_already_cancelled", code=code)
    if visit.status == "done" or ticket.status in SERVED:
        raise InputError("jkn_already_served", code=code)
    result = cancel(session, actor, ticket.id, now, reason or "dibatalkan melalui Mobile JKN")
    return Answer({}, result.events)


def check_in_booking(session: Session, actor: Actor, code: str, now: datetime) -> Answer:
    """``checkinantrean``: the booked ticket joins the line; task 3 at ``now``, the server's own clock."""
    visit = _visit(session, actor, code)
    if visit.status == "cancelled":
        raise InputError("jkn_already_cancelled", code=code)
    if _poli_ticket(session, visit).status == "booked" and visit.session.ends_at <= now:
        raise InputError("err_session_over")
    registration = check_in(session, actor, code, now)
    return Answer({}, registration.events)


# ---- new patient ------------------------------------------------------------------------------------------------


def register_new_patient(
    session: Session, cipher: FieldCipher, actor: Actor, form: NewPatientRequest, now: datetime
) -> Answer:
    """``pasienbaru``: the desk's own registration (medical-record number from the site counter), address kept
    encrypted; the patient completes the record at admission."""
    for field, value in (("bpjs", form.card), ("nik", form.nik)):
        if patients.find_by_identifier(session, cipher, actor.site_id, field, value):
            raise InputError("jkn_patient_exists")
    match = register_patient(
        session,
        cipher,
        actor,
        name=form.name,
        birth_date=form.birth_date,
        sex=form.sex,
        phone=form.phone,
        nik=form.nik,
        bpjs=form.card,
        address=form.address,
        today=local_today(session, actor.site_id, now),
    )
    return Answer({"norm": match.mrn}, message_key="jkn_new_patient_registered")


# ---- pharmacy ---------------------------------------------------------------------------------------------------


def _pharmacy_ticket(session: Session, actor: Actor, code: str) -> QueueTicket:
    """The visit's pharmacy number, issued only when the poli sent the prescription (never from Mobile JKN)."""
    visit = _visit(session, actor, code)
    ticket = session.scalar(
        select(QueueTicket)
        .where(QueueTicket.visit_id == visit.id, QueueTicket.point.in_(PHARMACY_POINTS))
        .order_by(QueueTicket.created_at.desc())
        .limit(1)
    )
    if ticket is None:
        raise InputError("jkn_no_prescription")
    return ticket


def _prescription_kind(ticket: QueueTicket) -> str:
    return "racikan" if ticket.point == PHARMACY_COMPOUNDED else "non racikan"


def pharmacy_ticket(session: Session, actor: Actor, code: str) -> Answer:
    """``ambilantreanfarmasi``: the pharmacy number the poli already gave this visit."""
    ticket = _pharmacy_ticket(session, actor, code)
    return Answer(
        {
            "jenisresep": _prescription_kind(ticket),
            "nomorantrean": ticket.number,
            "keterangan": f"Nomor antrean farmasi {ticket.label}",
        }
    )


def pharmacy_status(session: Session, actor: Actor, code: str) -> Answer:
    """``statusantreanfarmasi``: the day's numbers at that pharmacy point, how many are before this one, and
    the number called last."""
    ticket = _pharmacy_ticket(session, actor, code)
    same_line = (
        QueueTicket.site_id == ticket.site_id,
        QueueTicket.point == ticket.point,
        QueueTicket.service_date == ticket.service_date,
    )
    total = session.scalar(select(func.count()).where(*same_line, QueueTicket.status != "cancelled"))
    ahead = 0
    if ticket.status in AHEAD_STATES:
        ahead = session.scalar(
            select(func.count()).where(
                *same_line, QueueTicket.status.in_(AHEAD_STATES), QueueTicket.number < ticket.number
            )
        )
    called = session.scalar(
        select(QueueTicket.label)
        .where(*same_line, QueueTicket.called_at.is_not(None))
        .order_by(QueueTicket.called_at.desc())
        .limit(1)
    )
    return Answer(
        {
            "jenisresep": _prescription_kind(ticket),
            "totalantrean": total,
            "sisaantrean": ahead,
            "antreanpanggil": called or "-",
            "keterangan": STATUS_NOTES[ticket.status],
        }
    )
