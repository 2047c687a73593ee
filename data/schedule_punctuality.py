"""Late start and early finish per doctor per month, from the queue's task times: a session's start is its
first task 4 (``ClinicSession.started_at``), its finish the last task 5 of its visits, each against the planned
hours. Only sessions that ran count (a closed or never-started session is no figure), and an early finish is
measured only where a patient finished."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import ClinicSession, Doctor, Visit, VisitTask
from domain.errors import InputError
from domain.punctuality import Deviation, deviation, early_minutes
from domain.queue_kpi import late_minutes

FINISHED = 5  # BPJS task 5: the end of the doctor's service


@dataclass(frozen=True)
class DoctorPunctuality:
    doctor_id: int
    doctor: str
    sessions: int  # sessions that ran
    late: Deviation
    finished: int  # sessions where a patient finished (early finish measured)
    early: Deviation


def month_days(month: str) -> tuple[date, date]:
    """``"2026-11"`` → its first and last day; ``InputError`` for anything else."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except (TypeError, ValueError):
        raise InputError("punct_err_month") from None
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def month_punctuality(session: Session, site_id: int, month: str) -> list[DoctorPunctuality]:
    """Every doctor who ran a session in ``month`` (YYYY-MM, site-local days), by name."""
    first, last = month_days(month)
    finished = (
        select(Visit.session_id, func.max(VisitTask.at).label("last_done"))
        .join(VisitTask, VisitTask.visit_id == Visit.id)
        .where(VisitTask.task_id == FINISHED, Visit.site_id == site_id, Visit.service_date.between(first, last))
        .group_by(Visit.session_id)
        .subquery()
    )
    rows = session.execute(
        select(Doctor.id, Doctor.name, ClinicSession.starts_at, ClinicSession.started_at, ClinicSession.ends_at)
        .add_columns(finished.c.last_done)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .outerjoin(finished, finished.c.session_id == ClinicSession.id)
        .where(
            ClinicSession.site_id == site_id,
            ClinicSession.service_date.between(first, last),
            ClinicSession.started_at.is_not(None),
        )
        .order_by(Doctor.name, ClinicSession.starts_at)
    ).all()
    per_doctor: dict[tuple[int, str], tuple[list[float], list[float]]] = {}
    for doctor_id, name, starts_at, started_at, ends_at, last_done in rows:
        lates, earlies = per_doctor.setdefault((doctor_id, name), ([], []))
        lates.append(late_minutes(starts_at, started_at))
        if (early := early_minutes(ends_at, last_done)) is not None:
            earlies.append(early)
    return [
        DoctorPunctuality(doctor_id, name, len(lates), deviation(lates), len(earlies), deviation(earlies))
        for (doctor_id, name), (lates, earlies) in per_doctor.items()
    ]
