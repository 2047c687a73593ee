"""What the inpatient pages show: current admissions, free beds and monitors, and the bed board (read only)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import live_keys
from data.live_store import LiveStore
from data.models import Admission, Bed, BedOccupancy, Device, DeviceAssignment, Patient, Ward
from data.schedules import site_zone
from domain.length_of_stay import length_of_stay_days
from domain.masking import mask_name
from domain.news2 import NOT_APPLICABLE


@dataclass(frozen=True)
class AdmissionRow:
    """One current admission, for staff who move patients (full name: the page is not a public screen)."""

    admission_id: int
    version: int
    patient: str
    mrn: str
    incomplete: bool
    ward: str
    bed: str
    admitted_at: datetime
    los_days: int
    source: str


@dataclass(frozen=True)
class BedChoice:
    id: int
    code: str
    ward: str
    care_class: str


@dataclass(frozen=True)
class BoardBed:
    """A tile of the bed board: never the full name."""

    id: int
    code: str
    label: str
    care_class: str
    status: str
    version: int
    patient_mask: str | None
    los_days: int | None


@dataclass(frozen=True)
class News2Shown:
    """A bed's newest NEWS2 as the clinical step published it: the score, its risk band (``domain.news2.RISK_LEVELS``,
    empty when the score is incomplete, ``not_applicable`` with no score for a patient under 16) and whether every
    parameter was measured."""

    score: str
    risk: str
    complete: bool

    @property
    def text(self) -> str:
        """``NEWS2 5``, or ``NEWS2 5*`` when a parameter is missing (as the ward station writes it)."""
        return f"NEWS2 {self.score}" + ("" if self.complete else "*")


@dataclass(frozen=True)
class WardBoard:
    id: int
    code: str
    name: str
    beds: tuple[BoardBed, ...]
    counts: Counter = field(default_factory=Counter)  # (care class, status) → beds


def _open_stays():
    return (
        select(Admission, Patient, Bed, Ward)
        .join(Patient, Patient.id == Admission.patient_id)
        .join(BedOccupancy, (BedOccupancy.admission_id == Admission.id) & BedOccupancy.until.is_(None))
        .join(Bed, Bed.id == BedOccupancy.bed_id)
        .join(Ward, Ward.id == Bed.ward_id)
    )


def current_admissions(session: Session, site_id: int, now: datetime) -> list[AdmissionRow]:
    """Every admission of the site still in a bed, by ward and bed."""
    zone = site_zone(session, site_id)
    rows = session.execute(
        _open_stays()
        .where(Admission.site_id == site_id, Admission.discharged_at.is_(None))
        .order_by(Ward.code, Bed.code)
    ).all()
    return [
        AdmissionRow(
            admission_id=admission.id,
            version=admission.version,
            patient=patient.name,
            mrn=patient.mrn,
            incomplete=patient.incomplete,
            ward=ward.name,
            bed=bed.code,
            admitted_at=admission.admitted_at,
            los_days=length_of_stay_days(admission.admitted_at, now, zone),
            source=admission.source,
        )
        for admission, patient, bed, ward in rows
    ]


def available_beds(session: Session, site_id: int, ward_id: int | None = None) -> list[BedChoice]:
    """Active available beds of the site's active wards (of one ward when given)."""
    query = (
        select(Bed, Ward)
        .join(Ward, Ward.id == Bed.ward_id)
        .where(Ward.site_id == site_id, Ward.active.is_(True), Bed.active.is_(True), Bed.status == "available")
        .where(~select(BedOccupancy.id).where(BedOccupancy.bed_id == Bed.id, BedOccupancy.until.is_(None)).exists())
        .order_by(Ward.code, Bed.code)
    )
    if ward_id is not None:
        query = query.where(Ward.id == ward_id)
    return [BedChoice(b.id, b.code, w.name, b.care_class or w.care_class) for b, w in session.execute(query).all()]


def free_monitors(session: Session, site_id: int) -> list[str]:
    """Active monitors of the site paired with no bed."""
    paired = select(DeviceAssignment.id).where(
        DeviceAssignment.device_pk == Device.id, DeviceAssignment.until.is_(None)
    )
    return list(
        session.scalars(
            select(Device.device_id)
            .where(Device.site_id == site_id, Device.active.is_(True), Device.retired_at.is_(None))
            .where(~paired.exists())
            .order_by(Device.device_id)
        )
    )


def bed_board(session: Session, site_id: int, ward_id: int | None, now: datetime) -> list[WardBoard]:
    """Each active ward's active beds (one ward when given) with status, masked occupant and length of stay."""
    zone = site_zone(session, site_id)
    wards = select(Ward).where(Ward.site_id == site_id, Ward.active.is_(True)).order_by(Ward.code)
    if ward_id is not None:
        wards = wards.where(Ward.id == ward_id)
    stays = {
        bed.id: (patient.name, admission.admitted_at)
        for admission, patient, bed, _ward in session.execute(_open_stays().where(Admission.site_id == site_id))
    }
    boards = []
    for ward in session.scalars(wards):
        tiles = []
        for bed in ward.beds:
            if not bed.active:
                continue
            name, since = stays.get(bed.id, (None, None))
            tiles.append(
                BoardBed(
                    id=bed.id,
                    code=bed.code,
                    label=bed.label,
                    care_class=bed.care_class or ward.care_class,
                    status=bed.status,
                    version=bed.version,
                    patient_mask=mask_name(name) if name else None,
                    los_days=length_of_stay_days(since, now, zone) if since else None,
                )
            )
        counts = Counter((tile.care_class, tile.status) for tile in tiles)
        boards.append(WardBoard(ward.id, ward.code, ward.name, tuple(tiles), counts))
    return boards


def news2_by_bed(live: LiveStore, bed_codes: Sequence[str]) -> dict[str, News2Shown]:
    """The newest NEWS2 the clinical step published per bed; absent if none."""
    latest = live.get_latest_many([live_keys.latest(code) for code in bed_codes])
    scores = {}
    for code in bed_codes:
        values = latest.get(live_keys.latest(code)) or {}
        if values.get("news2_risk") == NOT_APPLICABLE:
            scores[code] = News2Shown("", NOT_APPLICABLE, True)
        elif values.get("news2", "") != "":
            complete = values.get("news2_complete") != "0"
            scores[code] = News2Shown(values["news2"], values.get("news2_risk") or "", complete)
    return scores
