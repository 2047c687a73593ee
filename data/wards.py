"""What a ward screen needs from the database: its beds, who lies in them (masked), which monitor serves them."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Admission, Bed, BedOccupancy, Device, DeviceAssignment, Patient, Site, Ward
from domain.alarms import patient_profile
from domain.clock import utcnow
from domain.masking import mask_name
from domain.news2 import scored_from_at


@dataclass(frozen=True)
class BedView:
    id: int
    code: str
    label: str
    ward: str
    patient_id: int | None
    patient_mask: str | None  # "SIT* N****" — never the full name on shared screens
    mrn: str | None
    spo2_scale: int
    device: str | None
    since: datetime | None  # when the current stay began; None for an empty bed
    record_version: int | None = None  # the patient's record as read (``Patient.version``); None for an empty bed

    @property
    def tile_key(self) -> str:
        """What a ward station's tile shows of the bed's stay (``components.bed_tile``) as a short key: a station
        whose tile was drawn with another key reloads (``data.ward_screen``), so no lost ``b`` message leaves it
        showing the patient who left."""
        return _short_key(self.patient_mask, self.mrn, self.device, self._since)

    @property
    def stay_key(self) -> str:
        """Whose stay a bed page and its tile were drawn for, and her record as then (a corrected name or birth
        date), as a short key: a ``b`` message with another stay key redraws the page, one with the same only
        re-marks the tile's monitor (``tile_state``)."""
        return _short_key(str(self.patient_id or ""), str(self.record_version or ""), self._since)

    @property
    def tile_state(self) -> dict[str, str]:
        """What a ``b`` message tells a station of the bed now (``data.adt_notify.publish_adt``)."""
        return {"stay": self.stay_key, "tile": self.tile_key, "device": self.device or ""}

    @property
    def _since(self) -> str:
        return self.since.isoformat() if self.since else ""


def _short_key(*parts: str | None) -> str:
    return hashlib.blake2s("|".join(p or "" for p in parts).encode(), digest_size=6).hexdigest()


def ward_kind(session: Session, bed_id: int) -> str | None:
    """The kind of the bed's ward (``domain.hospital.WARD_KINDS``)."""
    return session.scalar(select(Ward.kind).join(Bed, Bed.ward_id == Ward.id).where(Bed.id == bed_id))


@dataclass(frozen=True)
class Occupant:
    """What the clinical rules need of the patient lying in a bed, from her birth date, the site's time zone, the
    ward's kind and whether her stay is recorded as obstetric."""

    scored_from: datetime | None  # when NEWS2 starts scoring her (``domain.news2.scored_from_at``)
    profile: str  # her alarm profile today in the site's time zone (``domain.alarms.patient_profile``)


def occupants(session: Session, bed_ids: Collection[int] | None = None) -> dict[int, Occupant]:
    """Per occupied bed (of ``bed_ids``, or every one), its patient as the clinical rules see her (one query)."""
    query = (
        select(BedOccupancy.bed_id, Patient.birth_date, Site.timezone, Ward.kind, Admission.obstetric)
        .join(Bed, Bed.id == BedOccupancy.bed_id)
        .join(Ward, Ward.id == Bed.ward_id)
        .join(Admission, Admission.id == BedOccupancy.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
        .join(Site, Site.id == Admission.site_id)
        .where(BedOccupancy.until.is_(None))
    )
    if bed_ids is not None:
        query = query.where(BedOccupancy.bed_id.in_(bed_ids))
    now = utcnow()
    return {
        bed_id: Occupant(
            scored_from_at(born, zone, kind, obstetric),
            patient_profile(kind, born, now.astimezone(ZoneInfo(zone)).date()),
        )
        for bed_id, born, zone, kind, obstetric in session.execute(query)
    }


def list_wards(session: Session, site_id: int) -> list[Ward]:
    return list(session.scalars(select(Ward).where(Ward.site_id == site_id).order_by(Ward.code)))


def find_ward(session: Session, site_id: int, code: str) -> Ward | None:
    return session.scalar(select(Ward).where(Ward.site_id == site_id, Ward.code == code))


def ward_beds(session: Session, ward_id: int) -> list[BedView]:
    """The ward's active beds in order, with current occupant and monitor (one query)."""
    rows = session.execute(
        select(Bed, Ward.code, Patient, BedOccupancy.spo2_scale, BedOccupancy.since, Device.device_id)
        .join(Ward, Ward.id == Bed.ward_id)
        .outerjoin(BedOccupancy, (BedOccupancy.bed_id == Bed.id) & BedOccupancy.until.is_(None))
        .outerjoin(Patient, Patient.id == BedOccupancy.patient_id)
        .outerjoin(DeviceAssignment, (DeviceAssignment.bed_id == Bed.id) & DeviceAssignment.until.is_(None))
        .outerjoin(Device, Device.id == DeviceAssignment.device_pk)
        .where(Bed.ward_id == ward_id, Bed.active.is_(True))
        .order_by(Bed.code)
    ).all()
    return [
        BedView(
            id=bed.id,
            code=bed.code,
            label=bed.label,
            ward=ward_code,
            patient_id=patient.id if patient else None,
            patient_mask=mask_name(patient.name) if patient else None,
            mrn=patient.mrn if patient else None,
            spo2_scale=scale or 1,
            device=device,
            since=since if patient else None,
            record_version=patient.version if patient else None,
        )
        for bed, ward_code, patient, scale, since, device in rows
    ]


def bed_by_code(session: Session, site_id: int, code: str) -> BedView | None:
    bed = session.scalar(select(Bed).join(Ward).where(Ward.site_id == site_id, Bed.code == code))
    if bed is None:
        return None
    return next((b for b in ward_beds(session, bed.ward_id) if b.code == code), None)


def occupied_bed_devices(session: Session) -> list[str]:
    """Monitor ids serving beds that have a patient (what the demo simulates)."""
    return list(
        session.scalars(
            select(Device.device_id)
            .join(DeviceAssignment, (DeviceAssignment.device_pk == Device.id) & DeviceAssignment.until.is_(None))
            .join(BedOccupancy, (BedOccupancy.bed_id == DeviceAssignment.bed_id) & BedOccupancy.until.is_(None))
            .order_by(Device.device_id)
        )
    )
