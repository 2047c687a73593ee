"""Procedures and supporting services charged at the counter or the bed (``/tindakan``).

A procedure is a charge line with source ``pantau`` and source id ``proc:{form token}``: the token is made when
the form is shown, so a double click, a retry or a second web worker never charges twice. Cancelling writes a
reversal line (``reverse:{line id}``, negative price, on the original's service day so that day's revenue nets
out) — once, and only for procedure lines; nothing is deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.charges import NewCharge, add_charge_lines, priced_charge
from data.models import Admission, Bed, BedOccupancy, ChargeLine, Doctor, Patient, Poli, QueueTicket, Visit
from data.patients import audit_search
from domain.actor import Actor
from domain.errors import FieldErrors, InputError
from domain.finance import payer_of_visit
from domain.free_text import clean_text, readable

QUANTITY_MAX = 99
REASON_MAX = 200
PROC_PREFIX = "proc:"
REVERSE_PREFIX = "reverse:"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class Episode:
    """The visit or stay procedures are charged to, with what the page shows of it."""

    visit_id: int | None
    admission_id: int | None
    patient_id: int
    mrn: str
    name: str
    place: str  # the poli or the ward and bed
    payer: str
    poli_id: int | None = None
    ward_id: int | None = None
    care_class: str | None = None


@dataclass(frozen=True)
class ProcedureLine:
    id: int
    service_date: date
    code: str
    description: str
    quantity: int
    unit_price: int
    amount: int
    doctor: str | None
    priced: bool
    reversed: bool


def _visit_episode(session: Session, site_id: int, visit_id: int) -> Episode | None:
    found = session.execute(
        select(Visit, Patient, Poli)
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Poli, Poli.id == Visit.poli_id)
        .where(Visit.id == visit_id, Visit.site_id == site_id, Visit.status != "cancelled")
    ).first()
    if found is None:
        return None
    visit, patient, poli = found
    return Episode(
        visit.id, None, patient.id, patient.mrn, patient.name, poli.name, payer_of_visit(visit.payer), poli_id=poli.id
    )


def _admission_episode(session: Session, site_id: int, admission_id: int) -> Episode | None:
    found = session.execute(
        select(Admission, Patient)
        .join(Patient, Patient.id == Admission.patient_id)
        .where(Admission.id == admission_id, Admission.site_id == site_id)
    ).first()
    if found is None:
        return None
    admission, patient = found
    bed = session.scalar(
        select(Bed)
        .join(BedOccupancy, BedOccupancy.bed_id == Bed.id)
        .where(BedOccupancy.admission_id == admission.id)
        .order_by(BedOccupancy.since.desc())
        .limit(1)
    )
    place = f"{bed.ward.name} · {bed.label}" if bed is not None else ""
    return Episode(
        None,
        admission.id,
        patient.id,
        patient.mrn,
        patient.name,
        place,
        admission.payer,
        ward_id=bed.ward_id if bed is not None else None,
        care_class=(bed.care_class or bed.ward.care_class) if bed is not None else None,
    )


def episode(session: Session, site_id: int, *, visit_id: int | None = None, admission_id: int | None = None) -> Episode:
    """The visit or stay of this site; ``proc_err_episode`` when there is none."""
    found = None
    if admission_id is not None:
        found = _admission_episode(session, site_id, admission_id)
    elif visit_id is not None:
        found = _visit_episode(session, site_id, visit_id)
    if found is None:
        raise InputError("proc_err_episode")
    return found


def open_episode(session: Session, actor: Actor, *, visit_id: int | None, admission_id: int | None) -> Episode:
    """``episode`` for a person about to see it: the patient read goes to the audit log (Permenkes 24/2022)."""
    found = episode(session, actor.site_id, visit_id=visit_id, admission_id=admission_id)
    audit.record_by(
        session,
        actor,
        "patient_read",
        target_type="patient",
        target_id=found.patient_id,
        detail={"purpose": "procedures"},
    )
    return found


def find_episodes(session: Session, actor: Actor, query: str, today: date) -> list[Episode]:
    """Today's visits and the current stays of the patient with this medical record number, or the visit with
    this booking code; the search is audited with the patient it found (``patient_search``)."""
    text = clean_text(query).upper()
    if not text:
        return []
    site_id = actor.site_id
    visits = session.scalars(
        select(Visit.id)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(Visit.site_id == site_id, Visit.service_date == today, Visit.status != "cancelled")
        .where((Patient.mrn == text) | (Visit.booking_code == text))
    ).all()
    stays = session.scalars(
        select(Admission.id)
        .join(Patient, Patient.id == Admission.patient_id)
        .where(Admission.site_id == site_id, Admission.discharged_at.is_(None), Patient.mrn == text)
    ).all()
    found = [episode(session, site_id, admission_id=a) for a in stays] + [
        episode(session, site_id, visit_id=v) for v in visits
    ]
    hits = session.execute(
        select(Patient.id, Patient.mrn).where(
            Patient.id.in_(select(Visit.patient_id).where(Visit.id.in_(visits)))
            | Patient.id.in_(select(Admission.patient_id).where(Admission.id.in_(stays)))
        )
    ).all()
    audit_search(session, actor, "episode", hits)
    return found


def ticket_visit(session: Session, site_id: int, ticket_id: int) -> int | None:
    """The visit of a queue ticket (the counter's current patient), for a link to its procedures."""
    return session.scalar(
        select(QueueTicket.visit_id).where(QueueTicket.id == ticket_id, QueueTicket.site_id == site_id)
    )


def procedure_lines(session: Session, site_id: int, chosen: Episode) -> list[ProcedureLine]:
    """The episode's procedure lines, newest first, each saying whether it was cancelled."""
    scope = (
        ChargeLine.admission_id == chosen.admission_id
        if chosen.admission_id is not None
        else ChargeLine.visit_id == chosen.visit_id
    )
    rows = session.execute(
        select(ChargeLine, Doctor.name)
        .outerjoin(Doctor, Doctor.id == ChargeLine.doctor_id)
        .where(ChargeLine.site_id == site_id, ChargeLine.source == "pantau", scope)
        .where(ChargeLine.source_id.startswith(PROC_PREFIX, autoescape=True))
        .order_by(ChargeLine.id.desc())
    ).all()
    cancelled = set(
        session.scalars(
            select(ChargeLine.source_id).where(
                ChargeLine.site_id == site_id,
                ChargeLine.source == "pantau",
                ChargeLine.source_id.in_([f"{REVERSE_PREFIX}{line.id}" for line, _name in rows]),
            )
        )
    )
    return [
        ProcedureLine(
            line.id,
            line.service_date,
            line.tariff_code,
            line.description,
            line.quantity,
            line.unit_price,
            line.amount,
            name,
            line.priced,
            f"{REVERSE_PREFIX}{line.id}" in cancelled,
        )
        for line, name in rows
    ]


def parse_quantity(value: object) -> int:
    """A whole number of 1 to ``QUANTITY_MAX``."""
    text = clean_text(None if value is None else str(value))
    if not text.isdigit() or not 1 <= int(text) <= QUANTITY_MAX:
        raise InputError("proc_err_quantity", high=QUANTITY_MAX)
    return int(text)


def _doctor(session: Session, site_id: int, doctor_id: object) -> int | None:
    if doctor_id in (None, ""):
        return None
    doctor = session.get(Doctor, int(doctor_id)) if str(doctor_id).isdigit() else None
    if doctor is None or doctor.site_id != site_id or not doctor.active:
        raise InputError("proc_err_doctor")
    return doctor.id


def charge_procedure(
    session: Session,
    actor: Actor,
    *,
    token: str,
    code: str | None,
    quantity: object,
    doctor_id: object,
    day: date,
    visit_id: int | None = None,
    admission_id: int | None = None,
) -> bool:
    """Charge ``quantity`` × the tariff of ``code`` in force on ``day`` (for the episode's class and payer) to the
    visit or stay; returns False when this form (``token``) was already charged. Audited."""
    if not _TOKEN.match(token or ""):
        raise InputError("proc_err_form_expired")
    chosen = episode(session, actor.site_id, visit_id=visit_id, admission_id=admission_id)
    errors: dict[str, InputError] = {}
    if not code:
        errors["code"] = InputError("proc_err_code")
    count, doctor = 1, None
    try:
        count = parse_quantity(quantity)
    except InputError as exc:
        errors["quantity"] = exc
    try:
        doctor = _doctor(session, actor.site_id, doctor_id)
    except InputError as exc:
        errors["doctor"] = exc
    if errors:
        raise FieldErrors(errors)
    try:
        charge = priced_charge(
            session,
            actor.site_id,
            str(code),
            day=day,
            payer=chosen.payer,
            source_id=f"{PROC_PREFIX}{token}",
            care_class=chosen.care_class,
            quantity=count,
            poli_id=chosen.poli_id,
            ward_id=chosen.ward_id,
            doctor_id=doctor,
            patient_id=chosen.patient_id,
            visit_id=chosen.visit_id,
            admission_id=chosen.admission_id,
            created_by=actor.user_id,
        )
    except ValueError as exc:  # no tariff in force: the picker offered a code that has just been ended
        raise FieldErrors({"code": InputError("proc_err_no_tariff")}) from exc
    if not add_charge_lines(session, actor.site_id, [charge]):
        return False
    line_id = session.scalar(
        select(ChargeLine.id).where(
            ChargeLine.site_id == actor.site_id, ChargeLine.source == "pantau", ChargeLine.source_id == charge.source_id
        )
    )
    audit.record_by(
        session,
        actor,
        "procedure_charge",
        target_type="charge_line",
        target_id=line_id,
        detail={"code": charge.tariff_code, "quantity": charge.quantity, "amount": charge.quantity * charge.unit_price},
    )
    return True


def reverse_procedure(session: Session, actor: Actor, line_id: int, reason: object) -> None:
    """Cancel a procedure line with a reversal line (once; only procedure lines); ``reason`` is required."""
    text = clean_text(None if reason is None else str(reason))
    if not text or not readable(text):
        raise FieldErrors({"reason": InputError("proc_err_reason")})
    if len(text) > REASON_MAX:
        raise FieldErrors({"reason": InputError("proc_err_reason_long", n=REASON_MAX)})
    line = session.get(ChargeLine, line_id)
    if line is None or line.site_id != actor.site_id or not line.source_id.startswith(PROC_PREFIX):
        raise InputError("proc_err_line")
    reversal = NewCharge(
        service_date=line.service_date,
        unit=line.unit,
        payer=line.payer,
        tariff_code=line.tariff_code,
        description=f"Batal: {line.description}"[:200],
        source_id=f"{REVERSE_PREFIX}{line.id}",
        unit_price=-line.unit_price,
        quantity=line.quantity,
        priced=line.priced,
        poli_id=line.poli_id,
        ward_id=line.ward_id,
        doctor_id=line.doctor_id,
        patient_id=line.patient_id,
        visit_id=line.visit_id,
        admission_id=line.admission_id,
        created_by=actor.user_id,
    )
    if not add_charge_lines(session, actor.site_id, [reversal]):
        raise InputError("proc_err_already_reversed")
    audit.record_by(
        session,
        actor,
        "procedure_reverse",
        target_type="charge_line",
        target_id=line.id,
        detail={"code": line.tariff_code, "amount": -line.amount, "reason": text},
    )
