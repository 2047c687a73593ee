"""The nurse's home page: her wards, and per ward the occupied beds with their active alarms and NEWS2 (from the
live store, as the ward station shows them) and when each patient's next observation set is due (RCP 2017,
``domain.observation_schedule``, from the current admission's latest observation)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data import live_keys
from data.live_store import LiveStore
from data.models import BedOccupancy, Observation, Ward
from data.staff_assignments import wards_of
from data.wards import ward_beds
from domain.news2 import NOT_APPLICABLE
from domain.observation_schedule import STATES, ObservationDue, observation_due

log = logging.getLogger(__name__)
HIGH_NEWS2 = 5  # RCP: a score of 5 or more asks for an urgent clinical review


@dataclass(frozen=True)
class PatientRow:
    """One occupied bed: who (masked), NEWS2 as the pipeline last scored it, active alarms, observation due."""

    bed: str
    label: str
    patient_mask: str
    news2: int | None
    news2_complete: bool
    risk: str | None
    alarms: tuple[dict, ...]  # the live alarm objects (``domain.alarms.Alarm.live``)
    last_observed: datetime | None
    due: ObservationDue


@dataclass(frozen=True)
class WardHome:
    """One ward as the nurse's home shows it; ``live`` False when the live store could not be read (NEWS2 and
    alarms unknown then: look at the ward station)."""

    code: str
    name: str
    patients: tuple[PatientRow, ...]
    live: bool

    @property
    def alarming(self) -> list[PatientRow]:
        """Beds with an active alarm."""
        return [p for p in self.patients if p.alarms]

    @property
    def high_news2(self) -> list[PatientRow]:
        """Patients with NEWS2 of 5 or more, highest first."""
        high = [p for p in self.patients if p.news2 is not None and p.news2 >= HIGH_NEWS2]
        return sorted(high, key=lambda p: -(p.news2 or 0))

    @property
    def observations_due(self) -> list[PatientRow]:
        """Patients whose observation set is overdue or due (most urgent, then longest waiting, first)."""
        waiting = [p for p in self.patients if p.due.state in ("overdue", "due")]
        return sorted(
            waiting, key=lambda p: (STATES.index(p.due.state), p.due.due_at.timestamp() if p.due.due_at else 0)
        )


def nurse_wards(session: Session, user_id: int) -> list[Ward]:
    """The wards the nurse is assigned to (``data.staff_assignments``), by code."""
    return wards_of(session, user_id)


def ward_home(session: Session, live: LiveStore, ward: Ward, now: datetime) -> WardHome:
    """The ward's occupied beds with NEWS2, alarms and the observation due at ``now``."""
    beds = [b for b in ward_beds(session, ward.id) if b.patient_id is not None]
    last = _last_observations(session, [b.id for b in beds])
    try:
        alarms = live.get_latest(live_keys.ward_alarms(ward.code))
        latest = live.get_latest_many([live_keys.latest(b.code) for b in beds])
        reachable = True
    except Exception:  # the live store is away: the list still shows the beds and what the database knows
        log.warning("nurse home: live store unavailable")
        alarms, latest, reachable = {}, {}, False
    rows = []
    for bed in beds:
        values = latest.get(live_keys.latest(bed.code), {})
        news2 = int(values["news2"]) if values.get("news2") not in (None, "") else None
        complete, risk = values.get("news2_complete") == "1", values.get("news2_risk") or None
        observed = last.get(bed.id)
        rows.append(
            PatientRow(
                bed=bed.code,
                label=bed.label,
                patient_mask=bed.patient_mask or "",
                news2=news2,
                news2_complete=complete,
                risk=risk,
                alarms=tuple(json.loads(alarms[bed.code])) if alarms.get(bed.code) else (),
                last_observed=observed,
                due=observation_due(news2, complete, observed, now, scored=risk != NOT_APPLICABLE),
            )
        )
    return WardHome(ward.code, ward.name, tuple(rows), reachable)


def _last_observations(session: Session, bed_ids: list[int]) -> dict[int, datetime]:
    """Bed id → the time of the newest observation of the admission lying in it now (one query)."""
    if not bed_ids:
        return {}
    rows = session.execute(
        select(BedOccupancy.bed_id, func.max(Observation.taken_at))
        .join(Observation, Observation.admission_id == BedOccupancy.admission_id)
        .where(BedOccupancy.bed_id.in_(bed_ids), BedOccupancy.until.is_(None))
        .group_by(BedOccupancy.bed_id)
    ).all()
    return {bed_id: taken for bed_id, taken in rows}
