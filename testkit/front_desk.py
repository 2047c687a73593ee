"""The front desk and a counter as tests and benchmarks drive them: the demo's desk user registers a patient into
today's line and a counter calls a ticket, through the same queue services and live publishing the pages use."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete

from auth import users
from data.doctor_schedules import create_session
from data.models import Tariff
from data.queue_actions import CounterResult, call_ticket
from data.queue_registration import Registration, register_patient, register_visit
from data.queue_tickets import publish
from data.schedules import day_sessions, ensure_sessions, local_today
from data.setup_doctors import create_doctor
from domain.actor import Actor
from domain.clock import utcnow


def desk_actor(session) -> Actor:
    """The demo's front-desk user (``loket``) as the acting user."""
    desk = users.find_user(session, "loket")
    return Actor(desk.id, desk.username, desk.site_id, "127.0.0.1")


def register_waiting(pantau, name: str, poli: str = "UMU", nik: str = "") -> Registration:
    """A new patient registered at the desk into ``poli``'s first session today: waiting in its line."""
    runtime, now = pantau.runtime, utcnow()
    with runtime.db.session() as s:
        actor = desk_actor(s)
        today = local_today(s, actor.site_id, now)
        patient = register_patient(
            s, runtime.cipher, actor, name=name, birth_date=date(1984, 12, 15), sex="P", phone="081234567890",
            nik=nik, today=today,
        )  # fmt: skip
        chosen = next(i for i in day_sessions(s, actor.site_id, today, now) if i.poli_code == poli and i.open)
        registration = register_visit(s, actor, patient_id=patient.id, session_id=chosen.id, payer="non_jkn", now=now)
    publish(runtime.live, actor.site_id, list(registration.events))
    return registration


def call(pantau, ticket_id: int, counter: str) -> CounterResult:
    """A counter calls one ticket, committed, then published as the counter pages do."""
    with pantau.runtime.db.session() as s:
        actor = desk_actor(s)
        result = call_ticket(s, actor, ticket_id, counter, utcnow())
    publish(pantau.runtime.live, actor.site_id, list(result.events))
    return result


def site_of(pantau) -> int:
    """The demo site's id."""
    with pantau.runtime.db.session() as s:
        return desk_actor(s).site_id


def clear_tariffs(pantau) -> None:
    """Remove the demo's tariff master, so a test's own charge lines are the only priced ones (a registration
    is then written unpriced, at Rp 0)."""
    with pantau.runtime.db.session() as s:
        s.execute(delete(Tariff).where(Tariff.site_id == desk_actor(s).site_id))


def doctor_on_duty(session, actor: Actor, name: str, day: date, hours: tuple[str, str], poli: str = "UMU") -> int:
    """A new doctor of ``poli`` with a weekly session on ``day``'s weekday at ``hours`` (``"HH:MM"``), made through
    the setup and plan services, and ``day``'s session of it. Returns the doctor's id."""
    doctor = create_doctor(session, actor, {"name": name, "poli_code": poli})
    plan = {"doctor_id": doctor.id, "poli_code": poli, "weekday": day.weekday(), "start": hours[0], "end": hours[1]}
    create_session(
        session, actor, plan | {"quota_jkn": 5, "quota_non_jkn": 5, "open_on_holidays": True}, tell_bpjs=False
    )
    ensure_sessions(session, actor.site_id, day)
    return doctor.id
