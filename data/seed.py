"""Idempotent demo data for the embedded demo: a site, two wards of 16 beds with monitors and patients, five polis
and their doctors with a weekly plan. Everything here is marked as demo; the demo's accounts are made by
``auth.demo_accounts``, which seeds this first."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from data.admissions import admit, current_bed_code
from data.broker_admin import NoBrokerAdmin
from data.device_credentials import SIMULATED_PREFIX, register_device
from data.doctor_schedules import create_session, update_session
from data.field_crypto import FieldCipher
from data.models import (
    Admission,
    Bed,
    ClinicSession,
    Device,
    DeviceAssignment,
    Doctor,
    DoctorSchedule,
    Observation,
    Patient,
    Poli,
    Site,
    Ward,
)
from data.observations import record_observation
from data.patients import create_patient
from data.poli_settings import set_age_range
from data.schedules import local_today
from data.setup_doctors import create_doctor
from data.setup_polis import create_poli
from data.setup_wards import create_ward
from data.tariffs import seed_demo_tariffs
from data.wards import bed_by_code, find_ward
from domain.actor import Actor
from domain.age_range import AgeRange
from domain.clock import utcnow
from domain.observations import ObservationInput

WARDS = (("ICU", "ICU", "icu"), ("MEL", "Bangsal Melati", "ward"))
DEMO_CARE_CLASS = {"icu": "ICU", "ward": "3"}
BEDS_PER_WARD = 16
CHILD_MAX_YEARS = 17  # Poli Anak sees patients up to this age (completed years); adults go to the other polis
# BPJS poli codes (ref/poli) for the common clinics; queue prefixes A-E.
POLIS = (
    ("UMU", "Poli Umum", "A", "UMU"),
    ("ANA", "Poli Anak", "B", "ANA"),
    ("INT", "Poli Penyakit Dalam", "C", "INT"),
    ("GIG", "Poli Gigi", "D", "GIG"),
    ("OBG", "Poli Kebidanan dan Kandungan", "E", "OBG"),
)
# BPJS (HFIS) doctor codes as the BPJS sandbox knows them (bridge/bpjs/sandbox.py DOCTORS).
DOCTORS = (
    ("dr. Sari Wulandari (demo)", "Dokter Umum", "UMU", "31001"),
    ("dr. Budi Santoso, Sp.A (demo)", "Spesialis Anak", "ANA", "31002"),
    ("dr. Ratna Dewi, Sp.PD (demo)", "Spesialis Penyakit Dalam", "INT", "31003"),
    ("drg. Agus Pratama (demo)", "Dokter Gigi", "GIG", "31004"),
    ("dr. Maya Lestari, Sp.OG (demo)", "Spesialis Obstetri dan Ginekologi", "OBG", "31005"),
    ("dr. Hendra Gunawan (demo)", "Dokter Umum", "UMU", "31006"),
)
DEMO_QUOTA_JKN, DEMO_QUOTA_NON_JKN = 60, 20
# The one planned difference on the BPJS mapping page (/admin/bpjs/pemetaan): HFIS still has dr. Hendra Gunawan's
# old closing time, an hour before Pantau's (his session was extended in Pantau; nobody has updated HFIS yet). The
# page marks that row "Jam berbeda" and says to correct HFIS or Pantau; every other row is "Sama".
HFIS_LAGGING_DOCTOR, HFIS_LAG_HOURS = "31006", 1
SEEDER = Actor(user_id=None, username="seed", site_id=None)
DEMO_TARIFFS_FROM = date(2025, 1, 1)  # before the finance demo's first day, so every demo line has its price
# Fictional demo patients (is_demo=True) with their sex, placed in 24 of the 32 demo beds; ICU-03 runs the sepsis
# scenario, MEL-06 opioid respiratory depression (bridge/embedded_stack.py). None shares a name with a demo doctor.
DEMO_PATIENTS = (
    ("Siti Nurhaliza", "P"),
    ("Wahyu Hidayat", "L"),
    ("Ahmad Fauzi", "L"),
    ("Dewi Lestari", "P"),
    ("Rudi Hartono", "L"),
    ("Sri Wahyuni", "P"),
    ("Agus Salim", "L"),
    ("Rina Marlina", "P"),
    ("Joko Susilo", "L"),
    ("Wati Suryani", "P"),
    ("Hendra Wijaya", "L"),
    ("Lina Kartika", "P"),
    ("Eko Prasetyo", "L"),
    ("Yuni Astuti", "P"),
    ("Bambang Irawan", "L"),
    ("Nur Aini", "P"),
    ("Dedi Kurniawan", "L"),
    ("Fitri Handayani", "P"),
    ("Slamet Riyadi", "L"),
    ("Ratna Sari", "P"),
    ("Teguh Santosa", "L"),
    ("Maya Puspita", "P"),
    ("Arif Rahman", "L"),
    ("Indah Permata", "P"),
)


def _get_or_add(session: Session, table: type, where: dict, **values: object) -> object:
    row = session.scalar(select(table).filter_by(**where))
    if row is None:
        row = table(**where, **values)
        session.add(row)
        session.flush()
    return row


def ensure_site(session: Session, settings: Settings) -> Site:
    """The configured site's row (``PANTAU_SITE_CODE``/``_NAME``/``_TIMEZONE``), created when missing."""
    return _get_or_add(session, Site, {"code": settings.site_code}, name=settings.site_name, timezone=settings.timezone)


def seed_site(session: Session, settings: Settings, now: datetime | None = None) -> Site:
    """The demo site with its wards, beds, monitors, polis, doctors, weekly plan and admitted patients, made
    through the services the setup and inpatient pages use; practice hours follow ``now``."""
    now = now or utcnow()
    site = ensure_site(session, settings)
    actor = replace(SEEDER, site_id=site.id)
    for code, name, kind in WARDS:
        if find_ward(session, site.id, code) is None:
            create_ward(
                session,
                actor,
                {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "care_class": DEMO_CARE_CLASS[kind],
                    "bed_count": BEDS_PER_WARD,
                },
            )
    _seed_demo_monitors(session, actor, site)
    for code, name, prefix, bpjs in POLIS:
        if session.scalar(select(Poli.id).where(Poli.site_id == site.id, Poli.code == code)) is None:
            create_poli(session, actor, {"code": code, "name": name, "queue_prefix": prefix, "bpjs_code": bpjs})
    seed_demo_tariffs(session, actor, site.id, DEMO_TARIFFS_FROM)
    anak = session.scalar(select(Poli).where(Poli.site_id == site.id, Poli.code == "ANA"))
    if anak.age_min_years is None and anak.age_max_years is None:  # as the admin sets it on /admin/antrean
        set_age_range(session, actor, anak.id, AgeRange(0, CHILD_MAX_YEARS))
    _seed_demo_patients(session, actor, site, settings, now)
    for name, specialty, poli, bpjs in DOCTORS:
        doctor = session.scalar(select(Doctor).where(Doctor.site_id == site.id, Doctor.name == name))
        if doctor is None:
            values = {"name": name, "specialty": specialty, "poli_code": poli, "bpjs_code": bpjs}
            doctor = create_doctor(session, actor, values)
        _seed_demo_schedule(session, actor, site, doctor, now)
    return site


def _seed_demo_monitors(session: Session, actor: Actor, site: Site) -> None:
    """One monitor at each demo bed, registered as the monitors page does; without a broker credential, since
    the demo's embedded broker is open on loopback (``rotate_credential`` issues one when wanted)."""
    known = set(session.scalars(select(Device.device_id).where(Device.site_id == site.id)))
    beds = session.scalars(
        select(Bed.code).join(Ward).where(Ward.site_id == site.id, Ward.code.in_([w[0] for w in WARDS]))
    )
    for bed_code in beds:
        device_id = f"{SIMULATED_PREFIX}{bed_code}"
        if device_id not in known:
            register_device(
                session, actor, NoBrokerAdmin(), site_id=site.id, site_code=site.code, device_id=device_id,
                model="Pantau demo monitor", bed_code=bed_code, issue_credential=False,
            )  # fmt: skip


def demo_session_hours(now_local: datetime, not_before: time = time(0)) -> tuple[time, time]:
    """The demo's practice hours: they follow the clock (from two hours before the demo starts, for eight
    hours, within the day) so that whoever starts the demo, whenever, finds clinics open; never before
    ``not_before`` (rounded up to the hour)."""
    first = not_before.hour + (1 if (not_before.minute, not_before.second) != (0, 0) else 0)
    start_hour = max(first, min(now_local.hour - 2, 16))
    return time(start_hour), time(min(start_hour + 8, 23), 59 if start_hour + 8 > 23 else 0)


def _demo_hours(session: Session, site: Site, doctor: Doctor, now: datetime) -> tuple[time, time]:
    """The hours of the doctor's last session of today while it is open (a restart later in the day keeps the
    day), else ``demo_session_hours``: after that session when it is over, as an evening practice, so a demo
    started again after the day's hours can still register patients."""
    held = session.execute(
        select(ClinicSession.start_time, ClinicSession.end_time)
        .where(ClinicSession.doctor_id == doctor.id, ClinicSession.service_date == local_today(session, site.id, now))
        .order_by(ClinicSession.start_time.desc())
        .limit(1)
    ).first()
    local = now.astimezone(ZoneInfo(site.timezone))
    if held is None:
        return demo_session_hours(local)
    if local.time() < held.end_time or held.end_time >= time(23):
        return held.start_time, held.end_time
    return demo_session_hours(local, not_before=held.end_time)


def _seed_demo_schedule(session: Session, actor: Actor, site: Site, doctor: Doctor, now: datetime) -> None:
    """Every weekday at the doctor's poli, at the demo's hours (changed through the plan service when the clock
    moved them). BPJS is told nothing: the demo's HFIS sandbox starts with this very plan (``demo_hfis_jadwal``)."""
    start, end = _demo_hours(session, site, doctor, now)
    plans = {
        plan.weekday: plan
        for plan in session.scalars(
            select(DoctorSchedule).where(
                DoctorSchedule.doctor_id == doctor.id, DoctorSchedule.poli_id == doctor.poli_id
            )
        )
    }
    for weekday in range(7):
        values = {
            "doctor_id": doctor.id,
            "poli_id": doctor.poli_id,
            "weekday": weekday,
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}",
            "quota_jkn": DEMO_QUOTA_JKN,
            "quota_non_jkn": DEMO_QUOTA_NON_JKN,
            # the demo's clinics open whenever it is started, a public holiday included (hours follow the clock)
            "open_on_holidays": True,
        }
        plan = plans.get(weekday)
        if plan is None:
            create_session(session, actor, values, tell_bpjs=False)
        elif (plan.start_time, plan.end_time) != (start, end):
            update_session(session, actor, plan.id, values, plan.version, now=now, tell_bpjs=False)


def demo_hfis_jadwal(session: Session, site_code: str) -> dict[tuple[int, int], str]:
    """The practice schedule BPJS (HFIS) holds in the embedded demo, made from the site's weekly plan:
    ``{(kodedokter, hari 1-7): "HH:MM-HH:MM"}`` for each doctor with a BPJS code at a poli with one, with the one
    planned difference (``HFIS_LAGGING_DOCTOR``). The embedded sandbox starts with it, so the BPJS mapping page
    compares Pantau's sessions with the same facts on any day."""
    rows = session.execute(
        select(Doctor.bpjs_code, DoctorSchedule.weekday, DoctorSchedule.start_time, DoctorSchedule.end_time)
        .join(Doctor, Doctor.id == DoctorSchedule.doctor_id)
        .join(Poli, Poli.id == DoctorSchedule.poli_id)
        .join(Site, Site.id == DoctorSchedule.site_id)
        .where(
            Site.code == site_code,
            DoctorSchedule.active.is_(True),
            Doctor.active.is_(True),
            Doctor.bpjs_code.is_not(None),
            Poli.bpjs_code.is_not(None),
        )
    ).all()
    jadwal = {}
    for code, weekday, start, end in rows:
        if code == HFIS_LAGGING_DOCTOR:  # sessions last 8 hours, so an hour less still ends after the start
            end = end.replace(hour=end.hour - HFIS_LAG_HOURS)
        jadwal[(int(code), weekday + 1)] = f"{start:%H:%M}-{end:%H:%M}"
    return jadwal


def _seed_demo_patients(session: Session, actor: Actor, site: Site, settings: Settings, now: datetime) -> None:
    """Fictional patients registered through the patient service and admitted to 12 of each ward's 16 beds over
    the last days (their trends and alarms lie inside their stay), as the inpatient page admits them."""
    cipher = FieldCipher(settings.data_keys, settings.blind_index_key)
    beds = list(session.scalars(select(Bed).join(Ward).where(Ward.site_id == site.id).order_by(Ward.code, Bed.code)))
    occupied = [bed for n, bed in enumerate(beds) if n % 16 < 12]  # 12 of 16 beds per ward
    for n, (bed, (name, sex)) in enumerate(zip(occupied, DEMO_PATIENTS, strict=False)):
        mrn = f"DEMO-{n + 1:05d}"
        patient = session.scalar(select(Patient).where(Patient.site_id == site.id, Patient.mrn == mrn))
        if patient is None:
            birth = date(1950 + (n * 7) % 50, n % 12 + 1, 1 + n)
            patient = create_patient(session, cipher, site_id=site.id, mrn=mrn, name=name, birth_date=birth, sex=sex)
            patient.is_demo = True
        admission = session.scalar(
            select(Admission).where(Admission.patient_id == patient.id, Admission.discharged_at.is_(None))
        )
        if admission is None and bed.status == "available":
            since = now - timedelta(days=1 + n % 5, hours=n % 7)
            admitted = admit(session, actor, patient_id=patient.id, bed_id=bed.id, source="desk", at=since)
            admission = session.get(Admission, admitted.admission_id)
        if admission is not None:
            _fresh_demo_observation(session, actor, admission.id)


def _fresh_demo_observation(session: Session, actor: Actor, admission_id: int) -> None:
    """A demo nurse observation (room air, alert) so NEWS2 is complete from the start; renewed on each start
    once older than 6 hours, in the bed the stay lies in now (staff may have moved the patient since the seed
    admitted them). A real ward records these by hand on the bed page, through the same service."""
    latest = session.scalar(
        select(Observation.taken_at)
        .where(Observation.admission_id == admission_id)
        .order_by(Observation.taken_at.desc())
        .limit(1)
    )
    if latest is not None and utcnow() - latest <= timedelta(hours=6):
        return
    code = current_bed_code(session, admission_id)
    if code is not None:
        view = bed_by_code(session, actor.site_id, code)
        record_observation(session, actor, view, ObservationInput(on_oxygen=False, consciousness="A"))


def add_occupied_bed(session: Session, site_id: int, ward_id: int, *, bed_code: str, device_id: str, mrn: str) -> None:
    """A bed with its monitor and an admitted fictional patient (``is_demo``), as the benchmarks drive them."""
    actor = replace(SEEDER, site_id=site_id)
    bed = Bed(ward_id=ward_id, code=bed_code, label=bed_code)
    device = Device(site_id=site_id, device_id=device_id, model="bench")
    patient = Patient(
        site_id=site_id, mrn=mrn, name=f"Bench Patient {mrn}", birth_date=date(1970, 1, 1), sex="L", is_demo=True
    )
    session.add_all([bed, device, patient])
    session.flush()
    session.add(DeviceAssignment(device_pk=device.id, bed_id=bed.id))
    admit(session, actor, patient_id=patient.id, bed_id=bed.id, source="desk")
