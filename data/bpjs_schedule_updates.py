"""A doctor's weekly practice plan reported to BPJS (``jadwaldokter/updatejadwaldokter``) through the outbox.

The payload is the whole week of one doctor at one poli as the plan stands when it changes: one ``jadwal`` entry
per session (``hari`` 1 = Monday … 7 = Sunday, ``buka``/``tutup`` as HH:MM), from the active plan rows valid on
the site's today. It names no patient, so the row has no visit and no booking code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from data.models import BpjsOutbox, Doctor, DoctorSchedule, Poli
from data.schedules import local_today

KIND = "updatejadwaldokter"


def week_entries(session: Session, site_id: int, doctor_id: int, poli_id: int, now: datetime | None = None) -> list:
    """The ``jadwal`` list: the doctor's active sessions at the poli valid on the site's today, by day and hour."""
    today = local_today(session, site_id, now)
    plans = session.scalars(
        select(DoctorSchedule)
        .where(
            DoctorSchedule.site_id == site_id,
            DoctorSchedule.doctor_id == doctor_id,
            DoctorSchedule.poli_id == poli_id,
            DoctorSchedule.active.is_(True),
            or_(DoctorSchedule.valid_from.is_(None), DoctorSchedule.valid_from <= today),
            or_(DoctorSchedule.valid_until.is_(None), DoctorSchedule.valid_until >= today),
        )
        .order_by(DoctorSchedule.weekday, DoctorSchedule.start_time)
    )
    return [
        {"hari": plan.weekday + 1, "buka": plan.start_time.strftime("%H:%M"), "tutup": plan.end_time.strftime("%H:%M")}
        for plan in plans
    ]


def queue_schedule_update(
    session: Session, site_id: int, doctor_id: int, poli_id: int, now: datetime | None = None
) -> BpjsOutbox | None:
    """Queue the doctor's current week at the poli for BPJS; None when the doctor or the poli has no BPJS code
    (HFIS), or the doctor has no session left there (``updatejadwaldokter`` cannot send an empty week)."""
    doctor = session.get(Doctor, doctor_id)
    poli = session.get(Poli, poli_id)
    if not (doctor and poli and doctor.site_id == site_id and poli.site_id == site_id):
        return None
    if not (doctor.bpjs_code and poli.bpjs_code):
        return None
    jadwal = week_entries(session, site_id, doctor_id, poli_id, now)
    if not jadwal:
        return None
    row = BpjsOutbox(
        site_id=site_id,
        visit_id=None,
        booking_code=None,
        kind=KIND,
        payload={
            "kodepoli": poli.bpjs_code,
            "kodesubspesialis": poli.bpjs_code,  # Pantau's polis are BPJS sub-specialities (poli code = sub code)
            "kodedokter": int(doctor.bpjs_code) if doctor.bpjs_code.isdigit() else doctor.bpjs_code,
            "jadwal": jadwal,
        },
    )
    session.add(row)
    session.flush()
    return row
