"""Recording a nurse's observation set for the admission lying in a bed."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from data import audit
from data.admissions import current_admission
from data.models import Observation
from data.wards import BedView
from domain.actor import Actor
from domain.errors import InputError
from domain.observations import ObservationInput


def record_observation(
    session: Session, actor: Actor, bed: BedView, obs: ObservationInput, *, admission_id: int | None = None
) -> Observation:
    """Store ``obs`` for the bed's current admission, taken by ``actor``; audited. An empty bed is refused
    (``obs_err_no_patient``), since an observation belongs to an admission, not to a bed. ``admission_id``: the
    stay the nurse's form was drawn for; refused (``bed_err_other_patient``) when she no longer lies there, so a
    set taken for one patient is never stored for the next."""
    admission = current_admission(session, bed.id)
    if admission is None:
        raise InputError("obs_err_no_patient")
    if admission_id is not None and admission.id != admission_id:
        raise InputError("bed_err_other_patient")
    row = Observation(
        bed_id=bed.id,
        patient_id=admission.patient_id,
        admission_id=admission.id,
        recorded_by=actor.user_id,
        **asdict(obs),
    )
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
