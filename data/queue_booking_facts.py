"""What a new booking checks and reports, read in one statement: the doctor session with its poli, doctor and the
site's time zone, the patient, whether they already hold a number at that poli that day, and whether they have
come before. The statement is built once per process and run with the ids as parameters."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Row, Select, bindparam, exists, literal, select
from sqlalchemy.orm import Session

from data.models import ClinicSession, Doctor, Patient, Poli, QueueTicket, Site, Visit
from domain.queue_points import poli_point


@cache
def _statement() -> Select:
    patient_id = bindparam("patient_id")
    repeat = (
        select(QueueTicket.label)
        .join(Visit, Visit.id == QueueTicket.visit_id)
        .where(
            Visit.patient_id == patient_id,
            Visit.poli_id == ClinicSession.poli_id,
            Visit.service_date == ClinicSession.service_date,
            Visit.status != "cancelled",
            QueueTicket.point == literal(poli_point("")) + Poli.code,
        )
        .limit(1)
        .scalar_subquery()
    )
    came_before = exists().where(Visit.patient_id == patient_id, Visit.status != "cancelled")
    return (
        select(
            *(c.label(f"cs_{c.key}") for c in ClinicSession.__table__.columns),
            Poli.code.label("poli_code"),
            Poli.name.label("poli_name"),
            Poli.bpjs_code.label("poli_bpjs_code"),
            Poli.queue_prefix,
            Poli.default_service_minutes,
            Poli.age_min_years,
            Poli.age_max_years,
            Doctor.name.label("doctor_name"),
            Doctor.bpjs_code.label("doctor_bpjs_code"),
            Site.timezone,
            Patient.id.label("patient_id"),
            Patient.mrn,
            Patient.name.label("patient_name"),
            Patient.birth_date,
            Patient.bpjs_bidx.is_not(None).label("has_card"),
            Patient.nik_bidx.is_not(None).label("has_nik"),
            repeat.label("repeat_label"),
            came_before.label("came_before"),
        )
        .join(Poli, Poli.id == ClinicSession.poli_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Site, Site.id == ClinicSession.site_id)
        .outerjoin(Patient, (Patient.id == patient_id) & (Patient.site_id == ClinicSession.site_id))
        .where(ClinicSession.id == bindparam("session_id"), ClinicSession.site_id == bindparam("site_id"))
    )


def booking_facts(session: Session, site_id: int, patient_id: int, session_id: int) -> Row | None:
    """The facts of booking ``patient_id`` into ``session_id``: the session's columns as ``cs_*``, ``poli_*``,
    ``doctor_*``, ``timezone``, the patient's (``patient_id`` None when not of this site), ``repeat_label`` (their
    live ticket at this poli that day) and ``came_before``. None when the session is not of site ``site_id``."""
    return session.execute(
        _statement(), {"patient_id": patient_id, "session_id": session_id, "site_id": site_id}
    ).first()
