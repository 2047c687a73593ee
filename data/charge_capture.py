"""Charges captured from Pantau's own events, written in the transaction of the event that earns them.

Each event has a fixed ``source_id`` (``visit:{id}:registration``, ``admission:{id}:room:{day}``, …), so an event
charged twice adds nothing (``data.charges.add_charge_lines``). A service without a tariff in force is still
written, unpriced (price 0), so nothing earned is lost and the reports can show what is still to be priced.

The tariff codes a hospital prices in its tariff master for these events:

- ``ADM-DAFTAR``: registration (administration) fee of an outpatient visit, when the patient is there;
- ``RJ-KONSUL-{poli code}`` (e.g. ``RJ-KONSUL-ANA``) or else ``RJ-KONSUL``: the consultation, when the poli
  finishes the visit (BPJS task 5);
- ``FAR-RACIK`` / ``FAR-NONRACIK``: the pharmacy's service for a compounded / ready-made prescription, when the
  pharmacy finishes (task 7);
- ``RI-KAMAR`` and ``RI-ASUHAN``: room and nursing care per inpatient day, priced per care class (the bed's
  class, else its ward's).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from data.charges import NewCharge, PriceBook, add_charge_lines, price_of, priced_charge
from data.models import Admission, Bed, BedOccupancy, ChargeLine, ClinicSession, Poli, Visit, Ward
from data.schedules import site_zone
from domain import queue_points
from domain.clock import utcnow
from domain.finance import payer_of_visit

REGISTRATION = "ADM-DAFTAR"
CONSULTATION = "RJ-KONSUL"
PHARMACY_COMPOUNDED = "FAR-RACIK"
PHARMACY_PLAIN = "FAR-NONRACIK"
ROOM = "RI-KAMAR"
CARE = "RI-ASUHAN"


def consultation_code(poli_code: str) -> str:
    """The per-poli consultation code, e.g. ``RJ-KONSUL-ANA``."""
    return f"{CONSULTATION}-{poli_code}"


def _visit_charge(
    session: Session, visit: Visit, code: str, event: str, unit: str, actor_user_id: int | None, **links: int | None
) -> int:
    charge = priced_charge(
        session,
        visit.site_id,
        code,
        day=visit.service_date,
        payer=payer_of_visit(visit.payer),
        source_id=f"visit:{visit.id}:{event}",
        unit=unit,
        poli_id=visit.poli_id,
        patient_id=visit.patient_id,
        visit_id=visit.id,
        created_by=actor_user_id,
        **links,
    )
    return add_charge_lines(session, visit.site_id, [charge])


def charge_registration(session: Session, visit: Visit, actor_user_id: int | None) -> int:
    """The registration fee of ``visit`` (once); returns the lines written (0 or 1)."""
    return _visit_charge(session, visit, REGISTRATION, "registration", "rawat_jalan", actor_user_id)


def charge_consultation(session: Session, visit: Visit, actor_user_id: int | None) -> int:
    """The consultation of ``visit`` by its session's doctor: the poli's own code when it is priced, else the
    generic one (once)."""
    poli_code = session.scalar(select(Poli.code).where(Poli.id == visit.poli_id))
    own = consultation_code(poli_code)
    payer = payer_of_visit(visit.payer)
    code = own if price_of(session, visit.site_id, own, visit.service_date, payer=payer) else CONSULTATION
    doctor_id = session.scalar(select(ClinicSession.doctor_id).where(ClinicSession.id == visit.session_id))
    return _visit_charge(session, visit, code, "consultation", "rawat_jalan", actor_user_id, doctor_id=doctor_id)


def charge_pharmacy(session: Session, visit: Visit, point: str, actor_user_id: int | None) -> int:
    """The pharmacy's service for ``visit`` at pharmacy ``point`` (racikan or non-racikan), once."""
    if point not in queue_points.PHARMACY_POINTS:
        raise ValueError(f"not a pharmacy point: {point!r}")
    code = PHARMACY_COMPOUNDED if point == queue_points.PHARMACY_COMPOUNDED else PHARMACY_PLAIN
    return _visit_charge(session, visit, code, "pharmacy", "farmasi", actor_user_id)


def charge_inpatient_day(session: Session, site_id: int, day: date, admission_id: int | None = None) -> int:
    """Room and care for every admission (or only ``admission_id``) in a bed at the site-local midnight that starts
    ``day`` (one patient day, as the midnight census counts it), at the care class and in the ward of the bed held
    then. A midnight still to come charges nothing. Returns the lines written (0 when ``day`` was charged
    already)."""
    midnight = datetime.combine(day, time(0), tzinfo=site_zone(session, site_id)).astimezone(UTC)
    if midnight > utcnow():
        return 0
    only = [BedOccupancy.admission_id == admission_id] if admission_id is not None else []
    held = session.execute(
        select(
            BedOccupancy.admission_id,
            BedOccupancy.patient_id,
            Bed.ward_id,
            func.coalesce(Bed.care_class, Ward.care_class),
            Admission.payer,
        )
        .join(Bed, Bed.id == BedOccupancy.bed_id)
        .join(Ward, Ward.id == Bed.ward_id)
        .join(Admission, Admission.id == BedOccupancy.admission_id)
        .where(
            Admission.site_id == site_id,
            BedOccupancy.since <= midnight,
            or_(BedOccupancy.until.is_(None), BedOccupancy.until > midnight),
            *only,
        )
        .order_by(BedOccupancy.admission_id)
    ).all()
    charges: list[NewCharge] = []
    book = PriceBook(session, site_id)
    for admission_id, patient_id, ward_id, care_class, payer in held:
        for code, event in ((ROOM, "room"), (CARE, "care")):
            charges.append(
                priced_charge(
                    session,
                    site_id,
                    code,
                    day=day,
                    payer=payer,
                    care_class=care_class,
                    source_id=f"admission:{admission_id}:{event}:{day.isoformat()}",
                    unit="rawat_inap",
                    ward_id=ward_id,
                    patient_id=patient_id,
                    admission_id=admission_id,
                    book=book,
                )
            )
    return add_charge_lines(session, site_id, charges)


def charge_stay(session: Session, admission: Admission) -> int:
    """Room and care for each site-local midnight ``admission`` has held a bed, up to its discharge or now, that is
    not charged yet. The census charges a day once the day is over; a stay billed or ended before then is complete
    all the same. Returns the lines written."""
    zone = site_zone(session, admission.site_id)
    prefix = f"admission:{admission.id}:room:"
    charged = {
        source_id.removeprefix(prefix)
        for source_id in session.scalars(
            select(ChargeLine.source_id).where(
                ChargeLine.admission_id == admission.id, ChargeLine.source_id.startswith(prefix)
            )
        )
    }
    until = admission.discharged_at or utcnow()
    day, last = admission.admitted_at.astimezone(zone).date(), until.astimezone(zone).date()
    written = 0
    while day <= last:
        if day.isoformat() not in charged:
            written += charge_inpatient_day(session, admission.site_id, day, admission.id)
        day += timedelta(days=1)
    return written
