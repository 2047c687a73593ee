"""The demo's data does not contradict itself: patients' sex agrees with their names, ages fit the poli, the
numbers pass the registration desk's own rules, a restart keeps the day's sessions, and the embedded BPJS sandbox
holds the same practice hours as Pantau (with the one planned difference) on every day of the week."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from random import Random

import pytest
from sqlalchemy import func, select

from auth.demo_accounts import seed_demo
from bridge.bpjs.sandbox import create_sandbox
from bridge.bpjs_reference_pull import pull_reference
from data.admissions import current_bed_code, transfer
from data.bpjs_reference import DIFFERENT, SAME, compare_schedule
from data.models import Admission, Bed, ClinicSession, Doctor, DoctorSchedule, Observation, Patient, Poli, Site
from data.patients import decrypt_field
from data.queue_demo import DemoClinic, _fits
from data.schedules import day_sessions, local_today, site_zone
from data.seed import HFIS_LAGGING_DOCTOR, SEEDER, demo_hfis_jadwal
from domain.age_range import AgeRange, age_years
from domain.formats import normalise_phone
from domain.identifiers import normalise_identifier
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve

# Given names and the sex they go with, independent of the seed's own table: a name the demo starts using must be
# added here, with its sex, before the test accepts it.
FEMALE = {"Siti", "Dewi", "Sri", "Rina", "Wati", "Lina", "Yuni", "Nur", "Fitri", "Ratna", "Maya", "Indah", "Ani"}
FEMALE |= {"Citra", "Dian", "Endah", "Gita", "Hesti", "Kartika", "Mega", "Ratih", "Wulan"}
MALE = {"Wahyu", "Ahmad", "Rudi", "Agus", "Joko", "Hendra", "Eko", "Bambang", "Dedi", "Slamet", "Teguh", "Arif"}
MALE |= {"Bayu", "Fajar", "Gilang", "Hadi", "Irfan", "Krisna", "Lukman", "Rizky"}
POLI_ANAK_MAX_YEARS = 17  # the registration desk's age range for Poli Anak (issue 11)


def site_of(pantau) -> tuple[int, list[str]]:
    with pantau.runtime.db.session() as s:
        return s.scalar(select(Site.id)), list(s.scalars(select(Poli.code).where(Poli.active.is_(True))))


def demo_patients(pantau) -> list[Patient]:
    with pantau.runtime.db.session() as s:
        return list(s.scalars(select(Patient).where(Patient.is_demo.is_(True))))


def test_every_demo_patients_sex_agrees_with_the_given_name(sqlite_app):
    site_id, codes = site_of(sqlite_app)
    DemoClinic(sqlite_app.runtime, site_id, speed=1).ensure_outpatients(datetime.now(UTC), codes)
    patients = demo_patients(sqlite_app)
    assert len(patients) >= 24 + 40  # the ward patients and the outpatients on file
    wrong = [
        (p.name, p.sex)
        for p in patients
        if p.sex != ("P" if p.name.split()[0] in FEMALE else "L" if p.name.split()[0] in MALE else "?")
    ]
    assert not wrong


@pytest.mark.parametrize("today", [date(2026, 12, 30), date(2028, 2, 29), date(2026, 7, 1)])
def test_children_go_to_poli_anak_and_adults_elsewhere(today):
    for code in ("ANA", "UMU", "INT", "GIG", "OBG"):
        sex, born_after, born_before = _fits(code, today)
        youngest, oldest = age_years(born_before, today), age_years(born_after + timedelta(days=1), today)
        if code == "ANA":
            assert youngest >= 0 and oldest <= POLI_ANAK_MAX_YEARS and born_before < today
        else:
            assert youngest > POLI_ANAK_MAX_YEARS, code
        assert sex == ("P" if code == "OBG" else None)


def test_new_demo_patients_fit_their_poli_and_pass_the_desk_rules(sqlite_app):
    site_id, codes = site_of(sqlite_app)
    clinic = DemoClinic(sqlite_app.runtime, site_id, speed=1)
    clinic.rng = Random(11)
    now = datetime.now(UTC)
    made = []
    with sqlite_app.runtime.db.session() as s:
        today = local_today(s, site_id, now)
        for n in range(60):
            code = codes[n % len(codes)]
            made.append((code, clinic._new_patient(s, code, now).id))
    cipher = sqlite_app.runtime.cipher
    niks, cards = [], []
    with sqlite_app.runtime.db.session() as s:
        anak = s.scalar(select(Poli).where(Poli.code == "ANA"))
        children = AgeRange(anak.age_min_years, anak.age_max_years)
        assert children == AgeRange(0, POLI_ANAK_MAX_YEARS)  # seeded as the queue settings page sets it
        for code, patient_id in made:
            patient = s.get(Patient, patient_id)
            age = age_years(patient.birth_date, today)
            assert children.admits(age) == (code == "ANA"), (code, age)
            assert patient.birth_date < today
            phone = decrypt_field(cipher, patient, "phone")
            assert normalise_phone(phone) == phone.replace("-", "")
            nik, card = decrypt_field(cipher, patient, "nik"), decrypt_field(cipher, patient, "bpjs")
            assert (nik is None) == (card is None)  # a JKN patient needs both
            if nik is not None:
                assert normalise_identifier("nik", nik) == nik and normalise_identifier("bpjs", card) == card
                niks.append(nik)
                cards.append(card)
    assert niks and len(set(niks)) == len(niks) and len(set(cards)) == len(cards)


def local_moment(pantau, site_id: int, hour: int, minute: int = 0) -> datetime:
    with pantau.runtime.db.session() as s:
        zone = site_zone(s, site_id)
        day = local_today(s, site_id)
    return datetime.combine(day, clock(hour, minute), tzinfo=zone).astimezone(UTC)


def test_a_restart_later_the_same_day_keeps_todays_sessions(sqlite_app):
    site_id, _ = site_of(sqlite_app)
    morning, afternoon = local_moment(sqlite_app, site_id, 9), local_moment(sqlite_app, site_id, 14, 59)
    with sqlite_app.runtime.db.session() as s:
        seed_demo(s, sqlite_app.settings, morning)
        day = local_today(s, site_id, morning)
        before = [(c.doctor_id, c.start_time, c.end_time) for c in day_sessions(s, site_id, day, morning)]
    with sqlite_app.runtime.db.session() as s:
        seed_demo(s, sqlite_app.settings, afternoon)
        after = [(c.doctor_id, c.start_time, c.end_time) for c in day_sessions(s, site_id, day, afternoon)]
        plans = set(s.execute(select(DoctorSchedule.start_time, DoctorSchedule.end_time)).all())
        doctors = s.scalar(select(func.count()).select_from(Doctor))
    assert len(before) == doctors and after == before  # one session per doctor, as in the morning
    assert plans == {(clock(7), clock(15))}


def test_a_restart_after_the_days_sessions_ended_opens_a_later_one_beside_the_booked_one(sqlite_app):
    site_id, _ = site_of(sqlite_app)
    midnight, morning = local_moment(sqlite_app, site_id, 0, 30), local_moment(sqlite_app, site_id, 8, 13)
    with sqlite_app.runtime.db.session() as s:
        seed_demo(s, sqlite_app.settings, midnight)
        day = local_today(s, site_id, midnight)
        first = day_sessions(s, site_id, day, midnight)
        doctors = set(s.scalars(select(Doctor.id)))
        for made in s.scalars(select(ClinicSession).where(ClinicSession.service_date == day)):
            made.booked_non_jkn = 1  # the night's patients: their sessions stay
    with sqlite_app.runtime.db.session() as s:
        seed_demo(s, sqlite_app.settings, morning)
        after = day_sessions(s, site_id, day, morning)
    assert {(c.doctor_id, c.start_time, c.end_time) for c in first} == {(d, clock(0), clock(8)) for d in doctors}
    assert {(c.doctor_id, c.start_time, c.end_time) for c in after} == {
        (d, hours, end) for d in doctors for hours, end in ((clock(0), clock(8)), (clock(8), clock(16)))
    }  # open at 08.13, right after the night's
    assert all(not c.over and not c.closed_reason for c in after if c.start_time == clock(8))


def test_a_restart_after_staff_moved_a_demo_patient_renews_the_observation_in_their_bed_now(sqlite_app):
    """A nurse moved a demo patient to another bed; hours later the demo starts again: the renewed observation goes
    to the patient in the bed they lie in (the seed's first bed is empty now, or another patient's)."""
    site_id, _ = site_of(sqlite_app)
    with sqlite_app.runtime.db.session() as s:
        patient_id = s.scalar(select(Patient.id).where(Patient.mrn == "DEMO-00001"))
        admission = s.scalar(
            select(Admission).where(Admission.patient_id == patient_id, Admission.discharged_at.is_(None))
        )
        first_bed = current_bed_code(s, admission.id)
        free = s.scalar(select(Bed).where(Bed.status == "available").order_by(Bed.code).limit(1))
        actor = replace(SEEDER, site_id=site_id)
        transfer(s, actor, admission_id=admission.id, to_bed_id=free.id, monitor="keep", version=admission.version)
        for observation in s.scalars(select(Observation).where(Observation.admission_id == admission.id)):
            observation.taken_at -= timedelta(hours=7)  # the last one is older than the demo keeps
        admission_id, moved_to = admission.id, free.id
    with sqlite_app.runtime.db.session() as s:
        seed_demo(s, sqlite_app.settings)
    with sqlite_app.runtime.db.session() as s:
        newest = s.scalar(
            select(Observation).where(Observation.admission_id == admission_id).order_by(Observation.taken_at.desc())
        )
        assert (newest.bed_id, newest.patient_id) == (moved_to, patient_id)
        assert datetime.now(UTC) - newest.taken_at < timedelta(minutes=5)
        assert current_bed_code(s, admission_id) == free.code != first_bed


@pytest.mark.parametrize("started", [(0, 30), (10, 0), (23, 30)])
def test_the_demo_sandbox_agrees_with_pantau_every_day_of_the_week(sqlite_app, started):
    site_id, _ = site_of(sqlite_app)
    now = local_moment(sqlite_app, site_id, *started)
    db = sqlite_app.runtime.db
    with db.session() as s:
        seed_demo(s, sqlite_app.settings, now)
        jadwal = demo_hfis_jadwal(s, sqlite_app.settings.site_code)
        lagging = s.scalar(select(Doctor.name).where(Doctor.bpjs_code == HFIS_LAGGING_DOCTOR))
        first = local_today(s, site_id, now)
    with serve(create_sandbox(CONS_ID, SECRET, USER_KEY, jadwal=jadwal)) as url:
        client = client_for(url)
        for day in (first + timedelta(days=n) for n in range(7)):  # every weekday, the weekend included
            assert pull_reference(db, client, site_id, day, now).ok
            with db.session() as s:
                checks = {c.doctor: c for c in compare_schedule(s, site_id, day, now)}
            assert len(checks) == 6
            assert {name: c.status for name, c in checks.items() if c.status != SAME} == {lagging: DIFFERENT}
            planned = checks[lagging]
            assert planned.pantau[0].split("-")[0] == planned.bpjs[0].split("-")[0]  # same start, BPJS ends earlier
            assert planned.bpjs[0].split("-")[1] < planned.pantau[0].split("-")[1]
