"""Late start and early finish per doctor per month, from task times scripted through the counter's own steps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from data import queue_actions
from data.models import ClinicSession, Doctor, Site
from data.queue_registration import register_patient, register_visit
from data.schedule_punctuality import month_days, month_punctuality
from data.schedules import ensure_sessions
from domain.actor import Actor
from domain.errors import InputError
from domain.queue_points import poli_point

DAYS = (date(2026, 11, 9), date(2026, 11, 10))


def serve_one(app, s, actor, cs: ClinicSession, n: int, start_offset: timedelta, finish_at) -> None:
    """One patient of session ``cs``: registered ten minutes before the planned start, service begun at the planned
    start + ``start_offset`` (task 4) and finished at ``finish_at`` (task 5)."""
    before = cs.starts_at - timedelta(minutes=10)
    patient = register_patient(
        s,
        app.runtime.cipher,
        actor,
        name=f"Pasien Tepat {'AB'[n]}",
        birth_date=date(1970, 1, 1 + n),
        sex="L",
        phone="081300000001",
        today=before.date(),
    )
    register_visit(s, actor, patient_id=patient.id, session_id=cs.id, payer="non_jkn", now=before)
    point = poli_point(cs.poli.code)
    called = queue_actions.call_next(
        s, actor, point, "Ruang 1", cs.starts_at + start_offset - timedelta(seconds=30), session_id=cs.id
    )
    queue_actions.start(s, actor, called.ticket_id, cs.starts_at + start_offset)
    queue_actions.finish(s, actor, called.ticket_id, finish_at)


def test_late_start_and_early_finish_from_task_times(any_app):
    with any_app.runtime.db.session() as s:
        site = s.scalar(select(Site.id))
        actor = Actor(None, "test", site)
        for day in DAYS:
            ensure_sessions(s, site, day)
        sari = s.scalar(select(Doctor).where(Doctor.name.startswith("dr. Sari")))
        first, second = (
            s.scalar(select(ClinicSession).where(ClinicSession.doctor_id == sari.id, ClinicSession.service_date == d))
            for d in DAYS
        )
        for cs in (first, second):  # 08:00–12:00 WIB: the demo's sessions follow the clock, and one near midnight
            cs.starts_at = datetime.combine(cs.service_date, time(1), UTC)  # would be called on the day before
            cs.ends_at = cs.starts_at + timedelta(hours=4)
        s.flush()
        serve_one(any_app, s, actor, first, 0, timedelta(minutes=12), first.starts_at + timedelta(minutes=40))
        serve_one(any_app, s, actor, second, 1, timedelta(minutes=-5), second.ends_at + timedelta(minutes=5))
        (row,) = month_punctuality(s, site, "2026-11")  # dr. Hendra's sessions never started: no figure
        early = (first.ends_at - first.starts_at).total_seconds() / 60 - 40
    assert (row.doctor_id, row.sessions, row.finished) == (sari.id, 2, 2)
    assert (row.late.count, row.late.mean, row.late.median) == (1, pytest.approx(12), pytest.approx(12))
    assert (row.early.count, row.early.mean) == (1, pytest.approx(early))
    with any_app.runtime.db.session() as s:
        assert month_punctuality(s, site, "2026-10") == []


def test_month_days():
    assert month_days("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_days("2024-12") == (date(2024, 12, 1), date(2024, 12, 31))
    with pytest.raises(InputError):
        month_days("2026-13")
