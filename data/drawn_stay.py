"""The stay a bed page was drawn for, checked when it saves something clinical for the patient lying in the bed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import BedOccupancy
from domain.errors import InputError


def stay_drawn_for(
    session: Session, bed_id: int, admission_id: int | None, *, empty_key: str = "bed_err_other_patient"
) -> BedOccupancy:
    """The bed's open occupancy, locked until the commit, when it is the stay ``admission_id`` the page was drawn
    for. Raises ``InputError`` (``empty_key``) for an empty bed and ``bed_err_other_patient`` for another patient
    in it: what was chosen on a page drawn before its patient left is never stored for the next one."""
    occupancy = session.scalar(
        select(BedOccupancy).where(BedOccupancy.bed_id == bed_id, BedOccupancy.until.is_(None)).with_for_update()
    )
    if occupancy is None:
        raise InputError(empty_key)
    if occupancy.admission_id != admission_id:
        raise InputError("bed_err_other_patient")
    return occupancy
