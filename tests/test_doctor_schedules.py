"""The weekly plan's services (data/doctor_schedules.py) and the day sessions made from it (data/schedules.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from auth.users import find_user
from data.doctor_schedules import create_session, list_plan, retire_session, update_session
from data.holidays import set_site_holiday
from data.models import AuditLog, BpjsOutbox, ClinicSession, Doctor, DoctorLeave, Patient, Poli, Visit
from data.schedule_views import plan_week, week_start
from data.schedules import ON_LEAVE, day_sessions, ensure_sessions, off_plan_sessions
from data.setup_rows import EditConflict
from domain.actor import Actor
from domain.errors import FieldErrors

# Fixed days, far from the wall clock: a Monday, with NOW on the Friday before it.
MONDAY = date(2031, 3, 3)
NOW = datetime(2031, 2, 28, 2, 0, tzinfo=UTC)


@pytest.fixture
def plan_setup(any_app):
    """The app's database, an admin actor, and a new doctor (no sessions yet) with two polis."""
    db = any_app.runtime.db
    with db.session() as s:
        admin = find_user(s, "admin")
        actor = Actor(admin.id, admin.username, admin.site_id, "127.0.0.1")
        doctor = Doctor(site_id=admin.site_id, name="dr. Uji Jadwal", specialty="Dokter Umum")
        s.add(doctor)
        s.flush()
        polis = {code: s.scalar(select(Poli.id).where(Poli.code == code)) for code in ("UMU", "ANA")}
        return db, actor, doctor.id, polis


def values(doctor_id: int, poli_id: int, **changes) -> dict[str, object]:
    base = {
        "doctor_id": doctor_id,
        "poli_id": poli_id,
        "weekday": "Senin",
        "start": "08:00",
        "end": "12:00",
        "quota_jkn": "20",
        "quota_non_jkn": "5",
        "capacity": "",
        "valid_from": "",
        "valid_until": "",
    }
    return base | changes


def test_create_session_by_names_as_the_importer_gives_them(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        plan = create_session(
            s, actor, {**values(None, None), "doctor_name": "DR. UJI JADWAL", "poli_code": "ana", "weekday": "Rabu"}
        )
        plan_id = plan.id
    with db.session() as s:
        rows = list_plan(s, actor.site_id, doctor_id=doctor_id)
        assert [(r.id, r.poli_id, r.weekday, r.start, r.end, r.quota_jkn) for r in rows] == [
            (plan_id, polis["ANA"], 2, time(8), time(12), 20)
        ]
        audit = s.scalars(
            select(AuditLog).where(AuditLog.action == "schedule_created", AuditLog.username == "admin")
        ).all()
        assert [a.target_id for a in audit] == [str(plan_id)]


def test_overlapping_session_at_another_poli_is_refused_beside_start(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        create_session(s, actor, values(doctor_id, polis["UMU"]))
    with db.session() as s, pytest.raises(FieldErrors) as caught:
        create_session(s, actor, values(doctor_id, polis["ANA"], start="11:00", end="14:00"))
    assert caught.value.errors["start"].params["poli"] == "Poli Umum"
    with db.session() as s:  # touching is fine
        create_session(s, actor, values(doctor_id, polis["ANA"], start="12:00", end="14:00"))
        assert len(list_plan(s, actor.site_id, doctor_id=doctor_id)) == 2


def test_unreadable_fields_are_each_named(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s, pytest.raises(FieldErrors) as caught:
        create_session(
            s, actor, values(doctor_id, polis["UMU"], weekday="Senen", start="8", quota_jkn="x", valid_from="1/2")
        )
    assert {f: e.key for f, e in caught.value.errors.items()} == {
        "weekday": "err_schedule_weekday",
        "start": "err_schedule_time",
        "quota_jkn": "err_schedule_number",
        "valid_from": "err_schedule_date",
    }


CHRISTMAS = date(2030, 12, 25)  # a Wednesday and a national holiday
NEXT_WEDNESDAY = date(2031, 1, 8)  # an ordinary Wednesday


def made(db, site_id: int, doctor_id: int, day: date) -> list[ClinicSession]:
    with db.session() as s:
        ensure_sessions(s, site_id, day)
    with db.session() as s:
        rows = s.scalars(
            select(ClinicSession).where(ClinicSession.doctor_id == doctor_id, ClinicSession.service_date == day)
        ).all()
        s.expunge_all()
        return list(rows)


def test_a_holiday_closes_the_session_unless_the_plan_stays_open(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        create_session(s, actor, values(doctor_id, polis["UMU"], weekday="Rabu"))
        create_session(
            s, actor, values(doctor_id, polis["ANA"], weekday="Rabu", start="13:00", end="15:00", open_on_holidays=True)
        )
    closed, kept = made(db, actor.site_id, doctor_id, CHRISTMAS)
    assert "Natal" in closed.closed_reason and closed.leave_id is None
    assert kept.closed_reason is None
    assert [r.closed_reason for r in made(db, actor.site_id, doctor_id, NEXT_WEDNESDAY)] == [None, None]


def test_the_site_keeps_a_national_holiday_open_or_adds_collective_leave(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        create_session(s, actor, values(doctor_id, polis["UMU"], weekday="Rabu"))
        set_site_holiday(s, actor, CHRISTMAS, "open")
        set_site_holiday(s, actor, NEXT_WEDNESDAY, "collective", "Cuti bersama Tahun Baru")
    assert [r.closed_reason for r in made(db, actor.site_id, doctor_id, CHRISTMAS)] == [None]
    assert [r.closed_reason for r in made(db, actor.site_id, doctor_id, NEXT_WEDNESDAY)] == ["Cuti bersama Tahun Baru"]


def test_validity_dates_bound_the_days_made(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        create_session(s, actor, values(doctor_id, polis["UMU"], valid_from="2031-03-10", valid_until="2031-03-17"))
    days = [date(2031, 3, 3), date(2031, 3, 10), date(2031, 3, 17), date(2031, 3, 24)]
    assert [len(made(db, actor.site_id, doctor_id, day)) for day in days] == [0, 1, 1, 0]


def test_leave_closes_the_day_with_the_leave(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        create_session(s, actor, values(doctor_id, polis["UMU"]))
        leave = DoctorLeave(site_id=actor.site_id, doctor_id=doctor_id, first_day=MONDAY, last_day=MONDAY)
        s.add(leave)
        s.flush()
        leave_id = leave.id
    [session] = made(db, actor.site_id, doctor_id, MONDAY)
    assert (session.closed_reason, session.leave_id) == (ON_LEAVE, leave_id)
    with db.session() as s:
        [info] = [i for i in day_sessions(s, actor.site_id, MONDAY, NOW) if i.doctor_id == doctor_id]
    assert info.state == "on_leave"


def book(db, session_id: int, payer: str = "jkn") -> str:
    """A booking on a made session, as the desk leaves it (the visit and the raised count)."""
    with db.session() as s:
        cs = s.get(ClinicSession, session_id)
        n = s.scalar(select(func.count()).select_from(Patient))
        patient = Patient(
            site_id=cs.site_id, mrn=f"UJI{n:05d}", name="Siti Aminah", birth_date=date(1990, 1, 1), sex="P"
        )
        s.add(patient)
        s.flush()
        code = f"UJI-{session_id}-{n}"
        s.add(
            Visit(
                site_id=cs.site_id,
                patient_id=patient.id,
                session_id=cs.id,
                poli_id=cs.poli_id,
                service_date=cs.service_date,
                booking_code=code,
                payer=payer,
            )
        )
        if payer == "jkn":
            cs.booked_jkn += 1
        else:
            cs.booked_non_jkn += 1
        return code


def test_a_change_keeps_booked_day_sessions_and_lists_their_bookings(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        plan = create_session(s, actor, values(doctor_id, polis["UMU"]))
        plan_id, version = plan.id, plan.version
    later_monday = date(2031, 3, 10)
    [booked] = made(db, actor.site_id, doctor_id, MONDAY)
    assert len(made(db, actor.site_id, doctor_id, later_monday)) == 1  # made, empty
    code = book(db, booked.id)
    with db.session() as s:
        change = update_session(
            s, actor, plan_id, values(doctor_id, polis["UMU"], start="09:00", end="13:00"), version, now=NOW
        )
    assert [(a.booking_code, a.service_date, a.payer) for a in change.affected] == [(code, MONDAY, "jkn")]
    assert change.affected[0].patient != "Siti Aminah" and change.affected[0].patient.startswith("S")
    [kept] = made(db, actor.site_id, doctor_id, MONDAY)
    assert (kept.id, kept.start_time, kept.end_time) == (booked.id, time(8), time(12))
    [remade] = made(db, actor.site_id, doctor_id, later_monday)
    assert (remade.start_time, remade.end_time) == (time(9), time(13))


def test_hours_moved_clear_of_a_booked_day_session_open_that_day_too(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        plan = create_session(s, actor, values(doctor_id, polis["UMU"]))
        plan_id, version = plan.id, plan.version
    [booked] = made(db, actor.site_id, doctor_id, MONDAY)
    book(db, booked.id)
    with db.session() as s:  # the practice moves to the afternoon: the morning's patients keep their session
        update_session(s, actor, plan_id, values(doctor_id, polis["UMU"], start="14:00", end="18:00"), version, now=NOW)
    hours = sorted((m.start_time, m.end_time, m.id == booked.id) for m in made(db, actor.site_id, doctor_id, MONDAY))
    assert hours == [(time(8), time(12), True), (time(14), time(18), False)]
    with db.session() as s:  # only the kept one is off the plan (the BPJS comparison sets it apart)
        assert off_plan_sessions(s, actor.site_id, MONDAY) == {booked.id}


def test_a_quota_below_what_is_booked_is_refused_with_the_count(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        plan = create_session(s, actor, values(doctor_id, polis["UMU"], quota_jkn="3"))
        plan_id, version = plan.id, plan.version
    [booked] = made(db, actor.site_id, doctor_id, MONDAY)
    book(db, booked.id)
    book(db, booked.id)
    with db.session() as s, pytest.raises(FieldErrors) as caught:
        update_session(s, actor, plan_id, values(doctor_id, polis["UMU"], quota_jkn="1"), version, now=NOW)
    assert caught.value.errors["quota_jkn"].params["booked"] == 2
    with db.session() as s:  # two is enough
        update_session(s, actor, plan_id, values(doctor_id, polis["UMU"], quota_jkn="2"), version, now=NOW)


def test_a_stale_form_is_a_conflict_and_retiring_keeps_the_row(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        plan = create_session(s, actor, values(doctor_id, polis["UMU"]))
        plan_id, version = plan.id, plan.version
    with db.session() as s:
        update_session(s, actor, plan_id, values(doctor_id, polis["UMU"], quota_jkn="25"), version, now=NOW)
    with db.session() as s, pytest.raises(EditConflict):
        retire_session(s, actor, plan_id, version, now=NOW)
    with db.session() as s:
        retire_session(s, actor, plan_id, version + 1, now=NOW)
    with db.session() as s:
        assert list_plan(s, actor.site_id, doctor_id=doctor_id) == []
        assert [r.active for r in list_plan(s, actor.site_id, doctor_id=doctor_id, active=False)] == [False]
    assert made(db, actor.site_id, doctor_id, MONDAY) == []


def test_bpjs_hears_of_a_change_when_doctor_and_poli_have_codes(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        s.get(Doctor, doctor_id).bpjs_code = "39999"
        create_session(s, actor, values(doctor_id, polis["UMU"]))
    with db.session() as s:
        kinds = s.scalars(select(BpjsOutbox.kind).where(BpjsOutbox.kind == "updatejadwaldokter")).all()
    assert len(kinds) == 1


def test_the_week_view_marks_holidays_and_leave(plan_setup):
    db, actor, doctor_id, polis = plan_setup
    with db.session() as s:
        create_session(s, actor, values(doctor_id, polis["UMU"], weekday="Rabu"))
        create_session(s, actor, values(doctor_id, polis["UMU"], weekday="Kamis", open_on_holidays=True))
        create_session(s, actor, values(doctor_id, polis["UMU"], weekday="Jumat"))
        friday = CHRISTMAS + timedelta(days=2)
        s.add(DoctorLeave(site_id=actor.site_id, doctor_id=doctor_id, first_day=friday, last_day=friday))
    with db.session() as s:
        week = plan_week(s, actor.site_id, week_start(CHRISTMAS), doctor_id=doctor_id)
    assert [d.day.weekday() for d in week] == list(range(7))
    by_day = {d.day: [item.closed for item in d.sessions] for d in week if d.sessions}
    christmas = next(d for d in week if d.day == CHRISTMAS)
    assert christmas.holiday is not None and by_day[CHRISTMAS] == [christmas.holiday.name]
    assert by_day[CHRISTMAS + timedelta(days=1)] == [None]  # Thursday: no holiday
    assert by_day[friday] == ["leave"]
