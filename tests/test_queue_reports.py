"""Queue dashboard figures on hand-built visits and task times (both backends); the expected numbers are worked
out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import pytest
from sqlalchemy import select, update

from components.shell import THEME_STORE
from data.models import ClinicSession, Doctor, DoctorSchedule, Patient, Poli, Site, Visit, VisitTask
from data.queue_reports import MAX_DAYS, check_range, queue_report
from data.schedules import local_today
from domain.clock import utcnow
from domain.errors import InputError
from domain.queue_kpi import late_minutes, meets_target, share, wait_judged, waited_in_time

DAY = date(2026, 1, 12)  # a Monday; 08:00 WIB = 01:00 UTC
NEXT = DAY + timedelta(days=1)
_serial = count(1)


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=UTC)


def add_session(s, poli: Poli, doctor: Doctor, day: date, *, started: datetime | None, closed: str | None = None):
    starts = utc(day, 1)
    row = ClinicSession(
        site_id=poli.site_id,
        poli_id=poli.id,
        doctor_id=doctor.id,
        service_date=day,
        start_time=time(8),
        end_time=time(12),
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        quota_jkn=30,
        quota_non_jkn=10,
        booked_jkn=0,
        booked_non_jkn=0,
        started_at=started,
        closed_reason=closed,
    )
    s.add(row)
    s.flush()
    return row


def add_visit(s, session: ClinicSession, tasks: dict[int, datetime], status: str = "active") -> Visit:
    n = next(_serial)
    patient = Patient(
        site_id=session.site_id, mrn=f"RPT-{n:05d}", name=f"Pasien Uji {n}", birth_date=date(1980, 1, 1), sex="L"
    )
    s.add(patient)
    s.flush()
    visit = Visit(
        site_id=session.site_id,
        patient_id=patient.id,
        session_id=session.id,
        poli_id=session.poli_id,
        service_date=session.service_date,
        booking_code=f"RPT{n:08d}",
        payer="non_jkn",
        status=status,
    )
    s.add(visit)
    s.flush()
    s.add_all(VisitTask(visit_id=visit.id, task_id=task, at=at) for task, at in tasks.items())
    return visit


@pytest.fixture
def report_site(any_app):
    """Two days of hand-built visits at Poli Umum and Poli Anak, and the doctors' sessions."""
    with any_app.runtime.db.session() as s:
        site = s.scalar(select(Site))
        s.execute(update(DoctorSchedule).values(active=False))  # only the sessions made here
        polis = {p.code: p for p in s.scalars(select(Poli).where(Poli.site_id == site.id))}
        doctor = {p: s.scalar(select(Doctor).where(Doctor.poli_id == polis[p].id).order_by(Doctor.id)) for p in polis}
        umum = add_session(s, polis["UMU"], doctor["UMU"], DAY, started=utc(DAY, 1, 12))  # 12 min late
        anak = add_session(s, polis["ANA"], doctor["ANA"], DAY, started=utc(DAY, 1, 20))  # 20 min late
        add_session(s, polis["INT"], doctor["INT"], DAY, started=None)  # never started
        add_session(s, polis["GIG"], doctor["GIG"], DAY, started=None, closed="Dokter cuti")  # closed: left out
        umum_next = add_session(s, polis["UMU"], doctor["UMU"], NEXT, started=utc(DAY, 0, 55) + timedelta(days=1))

        h = lambda hh, mm: utc(DAY, hh, mm)  # noqa: E731
        # Poli Umum, DAY: waits 30, 70, 45 min; services 10, 20 min.
        add_visit(s, umum, {3: h(1, 0), 4: h(1, 30), 5: h(1, 40)})  # in time
        add_visit(s, umum, {3: h(1, 5), 4: h(2, 15), 5: h(2, 35)})  # 70 min: late
        add_visit(s, umum, {3: h(1, 10), 4: h(1, 55)})  # in time, still with the doctor
        add_visit(s, umum, {3: h(1, 20), 99: h(1, 50)}, status="cancelled")  # no-show: not a patient, not judged
        add_visit(s, umum, {3: h(1, 30)})  # never called: judged once it waited > 60 min
        add_visit(s, umum, {})  # booked ahead, not arrived: a patient, not judged
        # Poli Anak, DAY: waits 20, 50; services 15, 10.
        add_visit(s, anak, {3: h(1, 0), 4: h(1, 20), 5: h(1, 35)})
        add_visit(s, anak, {3: h(1, 2), 4: h(1, 52), 5: h(2, 2)})
        # Poli Umum, NEXT: wait 10, service 10.
        add_visit(s, umum_next, {3: utc(NEXT, 1, 0), 4: utc(NEXT, 1, 10), 5: utc(NEXT, 1, 20)})
        site_id, names = site.id, {p: doctor[p].name for p in doctor}
    return any_app, site_id, names


def by_code(report):
    return {p.code: p for p in report.polis}


def test_two_days_per_poli_total_daily_share_and_late_starts(report_site):
    pantau, site_id, doctors = report_site
    with pantau.runtime.db.session() as s:
        report = queue_report(s, site_id, DAY, NEXT, utc(NEXT, 4))
    umum, anak = by_code(report)["UMU"], by_code(report)["ANA"]
    # DAY: 5 patients (the no-show is not one) of 6 visits; NEXT: 1 of 1
    assert (umum.patients, umum.visits, umum.no_shows) == (6, 7, 1)
    assert umum.no_show_rate == pytest.approx(1 / 7)
    # waits 30, 70, 45 (DAY) and 10 (NEXT): mean 155/4, median (30+45)/2
    assert umum.wait_mean == pytest.approx(155 / 4)
    assert umum.wait_median == pytest.approx(37.5)
    # services 10, 20, 10: mean 40/3, median 10
    assert umum.service_mean == pytest.approx(40 / 3)
    assert umum.service_median == pytest.approx(10)
    # judged: 30, 70, 45, the one still waiting (150 min at 04:00), and NEXT's 10 → 5; in time: 30, 45, 10 → 3
    assert (umum.judged, umum.in_time) == (5, 3)
    assert umum.in_time_share == pytest.approx(0.6)
    assert meets_target(umum.in_time_share) is False

    assert (anak.patients, anak.no_shows, anak.wait_mean, anak.wait_median) == (2, 0, 35, 35)
    assert (anak.service_mean, anak.judged, anak.in_time, anak.in_time_share) == (12.5, 2, 2, 1.0)

    gigi = by_code(report)["GIG"]
    assert (gigi.patients, gigi.wait_mean, gigi.in_time_share, gigi.no_show_rate) == (0, None, None, None)

    total = report.total
    assert (total.patients, total.visits, total.no_shows, total.judged, total.in_time) == (8, 9, 1, 7, 5)
    # waits 30, 70, 45, 20, 50, 10 → mean 37.5, median (30+45)/2; services 10, 20, 15, 10, 10 → 13 and 10
    assert (total.wait_mean, total.wait_median) == (pytest.approx(37.5), pytest.approx(37.5))
    assert (total.service_mean, total.service_median) == (pytest.approx(13), pytest.approx(10))

    assert [(d.day, d.judged, d.in_time) for d in report.days] == [(DAY, 6, 4), (NEXT, 1, 1)]
    assert report.days[0].in_time_share == pytest.approx(4 / 6)

    starts = {d.doctor: d for d in report.doctors}
    assert set(starts) == {doctors["UMU"], doctors["ANA"], doctors["INT"]}  # the closed Poli Gigi session is left out
    umu = starts[doctors["UMU"]]
    assert (umu.sessions, umu.not_started, umu.late_mean, umu.late_max) == (2, 0, 6, 12)  # 12 late, then 5 early = 0
    assert (starts[doctors["ANA"]].late_mean, starts[doctors["ANA"]].late_max) == (20, 20)
    not_started = starts[doctors["INT"]]
    assert (not_started.sessions, not_started.not_started, not_started.late_mean) == (1, 1, None)


def test_a_patient_still_waiting_counts_only_once_past_the_60_minutes(report_site):
    pantau, site_id, _ = report_site
    with pantau.runtime.db.session() as s:
        early = by_code(queue_report(s, site_id, DAY, DAY, utc(DAY, 2)))["UMU"]  # waited 30 min so far
        late = by_code(queue_report(s, site_id, DAY, DAY, utc(DAY, 2, 31)))["UMU"]  # 61 min
    assert (early.judged, early.in_time) == (3, 2)
    assert (late.judged, late.in_time) == (4, 2)


def test_an_empty_range_has_no_figures_and_the_range_is_checked(report_site):
    pantau, site_id, _ = report_site
    with pantau.runtime.db.session() as s:
        report = queue_report(s, site_id, DAY - timedelta(days=3), DAY - timedelta(days=1), utc(DAY, 0))
    assert report.total.patients == 0 and report.total.wait_mean is None and report.doctors == []
    assert [d.in_time_share for d in report.days] == [None, None, None]
    with pytest.raises(InputError) as order:
        check_range(NEXT, DAY)
    assert order.value.key == "qrep_err_order"
    with pytest.raises(InputError) as too_long:
        check_range(DAY, DAY + timedelta(days=MAX_DAYS))
    assert too_long.value.params == {"days": MAX_DAYS}
    check_range(DAY, DAY + timedelta(days=MAX_DAYS - 1))


def test_todays_doctors_show_as_not_started(any_app):
    with any_app.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        now = utcnow()
        today = local_today(s, site_id, now)
        report = queue_report(s, site_id, today, today, now)
    assert len(report.doctors) == 6  # the demo's six doctors, sessions made from the weekly schedule
    assert all(d.sessions == d.not_started == 1 and d.late_mean is None for d in report.doctors)


def test_kpi_formulas():
    at = utc(DAY, 1)
    assert share(4, 5) == 0.8 and share(0, 0) is None
    with pytest.raises(ValueError):
        share(6, 5)
    assert meets_target(0.8) is True and meets_target(0.7999) is False and meets_target(None) is None
    assert waited_in_time(at, at + timedelta(minutes=60)) and not waited_in_time(at, at + timedelta(minutes=61))
    assert wait_judged(at, None, False, at + timedelta(minutes=61))
    assert not wait_judged(at, None, False, at + timedelta(minutes=60))
    assert not wait_judged(at, at + timedelta(minutes=5), True, at + timedelta(hours=3))
    assert not wait_judged(None, None, False, at)
    assert late_minutes(at, at + timedelta(minutes=7, seconds=30)) == 7.5
    assert late_minutes(at, at - timedelta(minutes=5)) == 0 and late_minutes(at, None) is None


def report_callback(start: date, end: date) -> dict:
    """What the browser posts when the date range changes."""
    return {
        "output": "qrep-content.children",
        "outputs": {"id": "qrep-content", "property": "children"},
        "inputs": [
            {"id": "qrep-range", "property": "start_date", "value": start.isoformat()},
            {"id": "qrep-range", "property": "end_date", "value": end.isoformat()},
            {"id": THEME_STORE, "property": "data", "value": "light"},
        ],
        "changedPropIds": ["qrep-range.start_date"],
        "state": [],
    }


@pytest.mark.parametrize(
    "role,allowed", [("manager", True), ("admin", True), ("front_desk", False), ("nurse", False), ("doctor", False)]
)
def test_report_callback_answers_managers_and_admins_only(report_site, login, role, allowed):
    client = login(role)
    response = client.post("/_dash-update-component", json=report_callback(DAY, NEXT))
    body = response.get_data(as_text=True)
    assert response.status_code == (200 if allowed else 403)
    assert ("qrep-poli-table" in body) is allowed
    if allowed:
        assert "Poli Umum" in body and "60 %" in body  # Poli Umum's ≤ 60 min share over the two days
        wrong = client.post("/_dash-update-component", json=report_callback(NEXT, DAY)).get_data(as_text=True)
        assert "Tanggal akhir tidak boleh sebelum tanggal awal." in wrong
