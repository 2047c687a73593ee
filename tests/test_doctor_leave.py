"""Doctor leave on both stores: the doctor is put on leave for tomorrow, the affected bookings are listed, moved
or cancelled, and the BPJS updates wait in the outbox, then reach the BPJS sandbox through the worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bridge.bpjs.sandbox import EXTENSION, create_sandbox
from bridge.bpjs_worker import BpjsWorker
from data.bpjs_schedule_updates import queue_schedule_update
from data.doctor_leave import (
    cancel_booking_for_leave,
    cancel_leave,
    create_leave,
    leave_bookings,
    list_leaves,
    move_all_to_substitute,
    move_booking,
    move_targets,
    patients_to_contact,
)
from data.models import AuditLog, BpjsOutbox, ClinicSession, Doctor, Site, Visit
from data.queue_registration import register_patient, register_visit
from data.schedules import ensure_sessions, local_today, site_zone
from domain.actor import Actor
from domain.errors import FieldErrors
from domain.masking import mask_name
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve
from tests.test_bpjs_worker import drain

NAMES = ("Lestari Anggraini", "Bambang Sutrisno", "Yuni Kartika")


def _doctor(s, name_start: str) -> Doctor:
    return s.scalar(select(Doctor).where(Doctor.name.startswith(name_start)))


def _session_of(s, doctor_id: int, day: date) -> ClinicSession:
    return s.scalar(
        select(ClinicSession).where(ClinicSession.doctor_id == doctor_id, ClinicSession.service_date == day)
    )


def _setting(s):
    """The actor, a fixed local noon today, and tomorrow with its sessions made."""
    site = s.scalar(select(Site.id))
    today = local_today(s, site)
    now = datetime.combine(today, time(12), tzinfo=site_zone(s, site)).astimezone(UTC)
    tomorrow = today + timedelta(days=1)
    ensure_sessions(s, site, tomorrow)
    return Actor(None, "admin-test", site), now, tomorrow


def _book(app, s, actor, now, session_id: int, n: int, payer: str) -> int:
    patient = register_patient(
        s,
        app.runtime.cipher,
        actor,
        name=NAMES[n],
        birth_date=date(1980, 3, 1 + n),
        sex="P",
        phone=f"08120000000{n}",
        bpjs=f"{8100000000000 + n}",
        nik=f"{3271000000000000 + n}",
        today=now.date(),
    )
    return register_visit(
        s,
        actor,
        patient_id=patient.id,
        session_id=session_id,
        payer=payer,
        now=now,
        arrived=False,
        referral_number=f"0301R0011126{n:06d}",
    ).visit_id


def _outbox(s, code: str) -> list[tuple[str, dict]]:
    rows = s.scalars(select(BpjsOutbox).where(BpjsOutbox.booking_code == code).order_by(BpjsOutbox.id))
    return [(r.kind, r.payload) for r in rows]


def test_leave_for_tomorrow_moves_and_cancels_bookings_and_tells_bpjs(any_app):
    app = any_app
    with app.runtime.db.session() as s:
        actor, now, tomorrow = _setting(s)
        sari, hendra = _doctor(s, "dr. Sari"), _doctor(s, "dr. Hendra")
        closed = _session_of(s, sari.id, tomorrow)
        visits = [_book(app, s, actor, now, closed.id, n, payer) for n, payer in enumerate(("jkn", "jkn", "non_jkn"))]
        codes = [s.get(Visit, v).booking_code for v in visits]
        result = create_leave(
            s,
            actor,
            doctor_id=sari.id,
            first_day=tomorrow,
            last_day=tomorrow,
            reason="seminar",
            substitute_id=hendra.id,
            now=now,
        )
        assert result.sessions_closed == 1
        assert [(b.booking_code, b.outcome, b.masked_name) for b in result.bookings] == [
            (c, "open", mask_name(n)) for c, n in zip(codes, NAMES, strict=True)
        ]
        s.refresh(closed)
        assert (closed.closed_reason, closed.leave_id) == ("dokter cuti", result.leave_id)
        assert (closed.booked_jkn, closed.booked_non_jkn) == (2, 1)

        targets = move_targets(s, actor, visits[0], now)
        substitute_session = _session_of(s, hendra.id, tomorrow)
        # The substitute's sessions come first (today's may come before tomorrow's, by the weekday's plan).
        offered = [t for t, _ in targets]
        assert s.get(ClinicSession, offered[0]).doctor_id == hendra.id
        assert substitute_session.id in offered and closed.id not in offered
        before = substitute_session.booked_jkn
        new_visit = move_booking(s, actor, visit_id=visits[0], to_session_id=substitute_session.id, now=now)
        cancel_booking_for_leave(s, actor, visit_id=visits[1], now=now)
        assert move_all_to_substitute(s, actor, result.leave_id, now) == []
        s.refresh(closed)
        s.refresh(substitute_session)
        assert (closed.booked_jkn, closed.booked_non_jkn) == (0, 0)
        assert substitute_session.booked_jkn == before + 1
        moved = s.get(Visit, new_visit)
        assert (moved.session_id, moved.status, moved.payer) == (substitute_session.id, "active", "jkn")
        assert moved.booking_code != codes[0]

        kinds_old = [k for k, _ in _outbox(s, codes[0])]
        assert kinds_old == ["antrean_add", "updatewaktu", "batal"]
        assert _outbox(s, codes[0])[2][1]["keterangan"].startswith("dokter cuti, dipindah ke ")
        assert [k for k, _ in _outbox(s, moved.booking_code)] == ["antrean_add"]
        assert _outbox(s, codes[1])[-1] == ("batal", {"kodebooking": codes[1], "keterangan": "dokter cuti"})
        assert _outbox(s, codes[2]) == []  # non-JKN: nothing to report
        assert queue_schedule_update(s, actor.site_id, sari.id, sari.poli_id) is not None

        outcomes = {b.booking_code: (b.outcome, b.moved_to) for b in leave_bookings(s, actor, result.leave_id)}
        assert outcomes[codes[1]] == ("cancelled", None)
        assert outcomes[codes[0]][0] == "moved" and moved.booking_code in outcomes[codes[0]][1]

        contacts = patients_to_contact(s, app.runtime.cipher, actor, result.leave_id)
        assert sorted((c.name, c.phone) for c in contacts) == sorted(
            (n, f"08120000000{i}") for i, n in enumerate(NAMES)
        )
        assert {c.booking_code: c.outcome for c in contacts}[codes[1]] == "dibatalkan"
        reads = s.scalars(select(AuditLog).where(AuditLog.action == "leave_contacts_read")).all()
        assert len(reads) == 1 and sorted(reads[0].detail["patient_ids"]) == sorted(c.patient_id for c in contacts)

    sandbox_app = create_sandbox(CONS_ID, SECRET, USER_KEY, failure_rate=0.0, seed=5)
    with serve(sandbox_app) as url:
        drain(BpjsWorker(app.runtime.db, client_for(url), app.runtime.cipher))
    bookings = {b["kodebooking"]: b for b in sandbox_app.extensions[EXTENSION].snapshot()["bookings"]}
    assert bookings[codes[1]]["batal"]["keterangan"] == "dokter cuti"
    assert bookings[codes[0]]["batal"]["keterangan"].startswith("dokter cuti, dipindah ke")
    assert bookings[moved.booking_code]["batal"] is None
    assert any(
        j["kodedokter"] == int(sari.bpjs_code) for j in sandbox_app.extensions[EXTENSION].snapshot()["jadwal_updates"]
    )
    with app.runtime.db.session() as s:
        assert {r.state for r in s.scalars(select(BpjsOutbox))} == {"sent"}

        assert cancel_leave(s, actor, result.leave_id, now) == 1
        assert _session_of(s, sari.id, tomorrow).closed_reason is None
        assert [r.cancelled for r in list_leaves(s, actor)] == [True]


def test_leave_validation_names_each_wrong_field(any_app):
    with any_app.runtime.db.session() as s:
        actor, now, tomorrow = _setting(s)
        sari, hendra, budi = _doctor(s, "dr. Sari"), _doctor(s, "dr. Hendra"), _doctor(s, "dr. Budi")
        leave = dict(doctor_id=sari.id, reason="", now=now)
        with pytest.raises(FieldErrors) as past:
            create_leave(
                s, actor, first_day=tomorrow - timedelta(days=2), last_day=tomorrow - timedelta(days=3), **leave
            )
        assert {f: e.key for f, e in past.value.errors.items()} == {
            "first_day": "leave_err_past",
            "last_day": "leave_err_order",
        }
        for substitute, key in ((sari.id, "leave_err_substitute_self"), (budi.id, "leave_err_substitute_poli")):
            with pytest.raises(FieldErrors) as wrong:
                create_leave(s, actor, first_day=tomorrow, last_day=tomorrow, substitute_id=substitute, **leave)
            assert {f: e.key for f, e in wrong.value.errors.items()} == {"substitute": key}
        hendra_leave = create_leave(
            s, actor, doctor_id=hendra.id, first_day=tomorrow, last_day=tomorrow + timedelta(days=1), reason="", now=now
        )
        days = select(ClinicSession).where(  # the day after tomorrow's sessions were not made yet: made and closed
            ClinicSession.doctor_id == hendra.id,
            ClinicSession.service_date.between(tomorrow, tomorrow + timedelta(days=1)),
        )
        sessions = s.scalars(days).all()
        assert {x.service_date for x in sessions} == {tomorrow, tomorrow + timedelta(days=1)}
        assert all(x.closed_reason for x in sessions)  # by this leave (or a public holiday)
        assert hendra_leave.sessions_closed == sum(x.leave_id == hendra_leave.leave_id for x in sessions) >= 1
        with pytest.raises(FieldErrors) as busy:
            create_leave(s, actor, first_day=tomorrow, last_day=tomorrow, substitute_id=hendra.id, **leave)
        assert busy.value.errors["substitute"].key == "leave_err_substitute_on_leave"
        create_leave(s, actor, first_day=tomorrow, last_day=tomorrow, **leave)
        with pytest.raises(FieldErrors) as twice:
            create_leave(s, actor, first_day=tomorrow - timedelta(days=1), last_day=tomorrow, **leave)
        assert twice.value.errors == {"first_day": twice.value.errors["first_day"]}
        assert twice.value.errors["first_day"].key == "leave_err_overlap"
