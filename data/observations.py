"""Recording a nurse's observation set for the patient in a bed."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.models import BedOccupancy, Observation
from data.wards import BedView
from domain.actor import Actor
from domain.errors import InputError
from domain.observations import ObservationInput


def record_observation(session: Session, actor: Actor, bed: BedView, obs: ObservationInput) -> Observation:
    """Store ``obs`` for the bed's current patient, taken by ``actor``; audited. An empty bed is refused
    (``obs_err_no_patient``), since an observation belongs to a patient, not to a bed."""
    patient_id = session.scalar(
        select(BedOccupancy.patient_id).where(BedOccupancy.bed_id == bed.id, BedOccupancy.until.is_(None))
    )
    if patient_id is None:
        raise InputError("obs_err_no_patient")
    row = Observation(bed_id=bed.id, patient_id=patient_id, recorded_by=actor.user_id, **asdict(obs))
    session.add(row)
    session.flush()
    audit.record_by(
        session,
        actor,
        "observation_recorded",
        target_type="patient",
        target_id=row.patient_id,
        detail={"bed": bed.code, "observation": row.id},
    )
    return row
