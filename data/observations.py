"""Recording a nurse's observation set for the patient in a bed."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import BedOccupancy, Observation
from domain.errors import InputError
from domain.observations import ObservationInput


def record_observation(session: Session, bed_id: int, obs: ObservationInput, *, recorded_by: int | None) -> Observation:
    """Store ``obs`` for the bed's current patient; an empty bed is refused (``obs_err_no_patient``), since an
    observation belongs to a patient, not to a bed."""
    patient_id = session.scalar(
        select(BedOccupancy.patient_id).where(BedOccupancy.bed_id == bed_id, BedOccupancy.until.is_(None))
    )
    if patient_id is None:
        raise InputError("obs_err_no_patient")
    row = Observation(bed_id=bed_id, patient_id=patient_id, recorded_by=recorded_by, **asdict(obs))
    session.add(row)
    session.flush()
    return row
