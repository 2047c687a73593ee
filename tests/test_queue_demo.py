"""The demo's morning of registrations and the queue simulator, through the real queue services."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from itertools import pairwise

import pytest
from sqlalchemy import func, select, update

from bridge.queue_demo_runner import QueueDemoRunner
from data import queue_demo
from data.models import ClinicSession, DoctorSchedule, Patient, QueueTicket, Site, Visit, VisitTask
from data.queue_demo import DemoClinic, draw, run_morning
from data.queue_registration import register_visit
from data.schedules import day_sessions, local_today, site_zone


def site_id_of(pantau) -> int:
    with pantau.runtime.db.session() as s:
        return s.scalar(select(Site.id))


CLINIC_HOURS = (clock(7), clock(15))
REPLAY_CLOCK = clock(12)


def past_clinic_noon(pantau, site_id: int, days_back: int) -> datetime:
    """Local noon ``days_back`` days ago (UTC), with every doctor practising 07:00–15:00 that day: the demo's own
    hours follow the clock, so a morning replayed up to *now* is a few minutes long just after local midnight."""
    with pantau.runtime.db.session() as s:
        zone = site_zone(s, site_id)
        day = local_today(s, site_id) - timedelta(days=days_back)
        assert not s.scalar(select(ClinicSession.id).where(ClinicSession.service_date == day))
        s.execute(update(DoctorSchedule).values(start_time=CLINIC_HOURS[0], end_time=CLINIC_HOURS[1]))
    return datetime.combine(day, REPLAY_CLOCK, tzinfo=zone).astimezone(UTC)


def check_day(pantau, site_id: int, now) -> tuple[int, int]:
    """Every visit's task times rise with the task id and none is in the future; numbers run 1..N per point
    without a gap or a duplicate; no patient twice at one poli. Returns (visits, tickets)."""
    with pantau.runtime.db.session() as s:
        day = local_today(s, site_id, now)
        tickets = s.execute(
            select(QueueTicket.point, QueueTicket.number).where(
                QueueTicket.site_id == site_id, QueueTicket.service_date == day
            )
        ).all()
        visits = s.execute(select(Visit.id, Visit.patient_id, Visit.poli_id).where(Visit.service_date == day)).all()
        tasks = defaultdict(dict)
        for visit_id, task_id, at in s.execute(select(VisitTask.visit_id, VisitTask.task_id, VisitTask.at)):
            tasks[visit_id][task_id] = at
        demo = {p for (p,) in s.execute(select(Patient.id).where(Patient.is_demo.is_(True)))}
    numbers = defaultdict(list)
    for point, number in tickets:
        numbers[point].append(number)
    for point, got in numbers.items():
        assert sorted(got) == list(range(1, len(got) + 1)), point
    assert not [k for k, n in Counter((p, poli) for _, p, poli in visits).items() if n > 1]
    for visit_id, patient_id, _ in visits:
        assert patient_id in demo
        times = [tasks[visit_id][t] for t in sorted(tasks[visit_id])]
        assert times, visit_id
        assert all(a < b for a, b in pairwise(times)), tasks[visit_id]
        assert times[-1] <= now
    return len(visits), len(tickets)


def test_morning_registers_ordered_visits_once(any_app):
    site_id = site_id_of(any_app)
    now = past_clinic_noon(any_app, site_id, days_back=1)
    made = run_morning(any_app.runtime, site_id, now)
    assert made >= 1
    visits, tickets = check_day(any_app, site_id, now)
    assert visits == made
    with any_app.runtime.db.session() as s:
        tasks = Counter(s.scalars(select(VisitTask.task_id)))
        served = s.scalar(select(QueueTicket.id).where(QueueTicket.status == "done", QueueTicket.point.like("poli:%")))
    assert tasks[3] == made and tasks[4] >= 1 and served  # the earliest are seen by their doctor

    again = run_morning(any_app.runtime, site_id, now)
    assert again == 0
    assert check_day(any_app, site_id, now) == (visits, tickets)


def test_every_doctor_finds_a_patient_waiting_on_arrival(sqlite_app):
    """Otherwise the queue report shows the doctor late until the first patient came (54 minutes was seen)."""
    site_id = site_id_of(sqlite_app)
    now = past_clinic_noon(sqlite_app, site_id, days_back=1)
    run_morning(sqlite_app.runtime, site_id, now)
    with sqlite_app.runtime.db.session() as s:
        day = local_today(s, site_id, now)
        sessions = s.scalars(select(ClinicSession).where(ClinicSession.service_date == day)).all()
        first_booked = dict(
            s.execute(
                select(Visit.session_id, func.min(VisitTask.at))
                .join(VisitTask, VisitTask.visit_id == Visit.id)
                .where(Visit.service_date == day, VisitTask.task_id == 3)
                .group_by(Visit.session_id)
            ).all()
        )
    assert len(sessions) == 6
    for cs in sessions:
        arrives = cs.starts_at + timedelta(minutes=draw(f"late:{cs.id}", *queue_demo.DOCTOR_LATE))
        assert first_booked[cs.id] <= arrives, cs.id


def test_the_same_ticket_gets_the_same_times_in_every_process():
    assert draw("service:42", 5, 15) == draw("service:42", 5, 15)
    assert 5 <= draw("service:42", 5, 15) < 15
    assert draw("service:42", 5, 15) != draw("service:43", 5, 15)


def register_walk_in(pantau, site_id: int, now: datetime) -> int:
    """A fictional outpatient (made the demo's way) waiting at the first session open at ``now``; returns the
    ticket id."""
    clinic = DemoClinic(pantau.runtime, site_id, speed=1)
    with pantau.runtime.db.session() as s:
        patient = clinic._new_patient(s, "UMU", now)
        session = next(cs for cs in day_sessions(s, site_id, local_today(s, site_id, now), now) if cs.open)
        booked = register_visit(s, clinic.actor, patient_id=patient.id, session_id=session.id, payer="non_jkn", now=now)
    return booked.ticket_id


def clinic_clock(pantau, site_id: int) -> Callable[[], datetime]:
    """Real time, shifted to yesterday's noon with every doctor practising: the demo's own hours follow the wall
    clock and close at 23:59, so a test that used the wall clock found no open session in the day's last minute."""
    start, began = past_clinic_noon(pantau, site_id, days_back=1), time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def test_simulator_moves_the_line_and_stops_promptly(sqlite_app):
    site_id = site_id_of(sqlite_app)
    clock = clinic_clock(sqlite_app, site_id)
    ticket_id = register_walk_in(sqlite_app, site_id, clock())
    simulator = QueueDemoRunner(sqlite_app.runtime, speed=600, morning=False, clock=clock)  # a doctor ≤ 1.5 s late
    simulator.start()
    try:
        deadline = time.monotonic() + 20
        status = "waiting"
        while status == "waiting" and time.monotonic() < deadline:
            time.sleep(0.2)
            with sqlite_app.runtime.db.session() as s:
                status = s.get(QueueTicket, ticket_id).status
        assert status in ("called", "serving", "done", "cancelled")
    finally:
        stopped = simulator.stop(timeout=2)
    assert stopped, "the simulator still ran 2 s after stop()"
    check_day(sqlite_app, site_id, clock())


def test_a_failing_step_does_not_end_the_simulator(sqlite_app, monkeypatch):
    calls = []
    original = DemoClinic.step

    def flaky(self, now):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return original(self, now)

    monkeypatch.setattr(queue_demo.DemoClinic, "step", flaky)
    simulator = QueueDemoRunner(sqlite_app.runtime, speed=600, morning=False)
    simulator.start()
    deadline = time.monotonic() + 10
    while simulator.steps < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    simulator.stop()
    assert len(calls) >= 3 and simulator.steps >= 2


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_simulators_on_one_clinic_keep_the_queues_consistent(backend, request):
    """Two web workers would each run one: they race for the same counters and only ever lose with a refusal."""
    pantau = request.getfixturevalue(f"{backend}_app")
    site_id = site_id_of(pantau)
    clock = clinic_clock(pantau, site_id)
    for _ in range(3):
        register_walk_in(pantau, site_id, clock())
    first, second = (QueueDemoRunner(pantau.runtime, speed=1200, morning=False, clock=clock) for _ in range(2))
    first.start()
    second.start()
    time.sleep(6)
    first.stop()
    second.stop()
    assert first.steps and second.steps
    visits, _ = check_day(pantau, site_id, clock())
    assert visits > 3  # walk-ins came on top of the three registered here
    with pantau.runtime.db.session() as s:
        assert s.scalar(select(QueueTicket.id).where(QueueTicket.status != "waiting"))
