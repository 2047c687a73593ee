"""The weekly plan's services (data/doctor_schedules.py) and the day sessions made from it (data/schedules.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from auth.users import find_user
from data.doctor_schedules import create_session, list_plan
from data.models import AuditLog, Doctor, Poli
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
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "schedule_created")).all()
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
