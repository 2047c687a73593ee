"""The BPJS sync worker against the sandbox over real HTTP: order, 208/201/404 handling, two workers at once,
and a worker killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bridge.bpjs.sandbox import EXTENSION, create_sandbox
from bridge.bpjs_worker import BpjsWorker
from data import queue_actions
from data.bpjs_outbox import retry_failed
from data.models import BpjsOutbox, Doctor, Site
from data.queue_registration import register_patient, register_visit
from data.schedules import day_sessions, local_today
from data.seed import DOCTORS
from domain.actor import Actor
from domain.clock import utcnow
from testkit.names import numbered_name
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve

ROOT = Path(__file__).resolve().parent.parent
SEED_CODES = {name: code for name, _, _, code in DOCTORS}


def served_visits(app, count: int) -> list[str]:
    """``count`` JKN visits taken through registration (task 3), start (4) and finish (5), like a counter does."""
    runtime, codes = app.runtime, []
    with runtime.db.session() as s:
        site = s.scalar(select(Site.id))
        actor, now = Actor(None, "test", site), utcnow()
        sessions = [x for x in day_sessions(s, site, local_today(s, site, now), now) if x.open]
        for n in range(count):
            patient = register_patient(
                s,
                runtime.cipher,
                actor,
                name=numbered_name("Pasien Sinkron", n),
                birth_date=date(1975, 2, 1 + n % 27),
                sex="P",
                phone="081300000000",
                bpjs=f"{8000000000000 + n}",
                nik=f"{3270000000000000 + n}",
                today=local_today(s, site, now),
            )
            session = sessions[n % len(sessions)]
            reg = register_visit(
                s,
                actor,
                patient_id=patient.id,
                session_id=session.id,
                payer="jkn",
                now=now,
                referral_number=f"0301R0011126{n:06d}",
            )
            codes.append(reg.booking_code)
        for point in {f"poli:{x.poli_code}" for x in sessions}:
            while (
                called := queue_actions.call_next(s, actor, point, "Ruang Uji", now + timedelta(seconds=1))
            ).ticket_id:
                queue_actions.start(s, actor, called.ticket_id, now + timedelta(seconds=2))
                queue_actions.finish(s, actor, called.ticket_id, now + timedelta(seconds=3))
    return codes


def drain(worker: BpjsWorker, *, until: float = 60.0) -> None:
    """Run the worker until nothing is due for a moment (retries included)."""
    deadline, idle = time.monotonic() + until, 0
    while time.monotonic() < deadline and idle < 3:
        if worker.run_once(utcnow() + timedelta(minutes=15)):  # retries are due after their backoff
            idle = 0
        else:
            idle += 1


def sandbox_bookings(sandbox_app) -> dict[str, list[int]]:
    return {
        b["kodebooking"]: [t["taskid"] for t in b["tasks"]]
        for b in sandbox_app.extensions[EXTENSION].snapshot()["bookings"]
    }


@pytest.fixture
def sandbox():
    app = create_sandbox(CONS_ID, SECRET, USER_KEY, failure_rate=0.05, seed=7)
    with serve(app) as url:
        yield app, url


def test_visits_reach_bpjs_in_order_despite_transient_failures(any_app, sandbox):
    sandbox_app, url = sandbox
    codes = served_visits(any_app, 6)
    drain(BpjsWorker(any_app.runtime.db, client_for(url), any_app.runtime.cipher))
    received = sandbox_bookings(sandbox_app)
    assert {c: received.get(c) for c in codes} == {c: [3, 4, 5] for c in codes}
    with any_app.runtime.db.session() as s:
        states = dict(s.execute(select(BpjsOutbox.state, func.count()).group_by(BpjsOutbox.state)).all())
        assert states == {"sent": 6 * 4}
        add = s.scalar(select(BpjsOutbox).where(BpjsOutbox.kind == "antrean_add").limit(1))
        assert "nik" not in add.payload and "nomorkartu" not in add.payload  # identifiers only at send time
    snapshot = sandbox_app.extensions[EXTENSION].snapshot()
    assert snapshot["codes"].get("404", 0) > 0  # the 5 % injected failures happened and were retried


def test_a_refused_booking_is_held_with_bpjs_message(any_app, sandbox):
    sandbox_app, url = sandbox
    sandbox_app.extensions[EXTENSION].failure_rate = 0.0
    with any_app.runtime.db.session() as s:
        for doctor in s.scalars(select(Doctor)):
            doctor.bpjs_code = "99999"  # unknown to BPJS: antrean/add answers 201
    (code,) = served_visits(any_app, 1)
    drain(BpjsWorker(any_app.runtime.db, client_for(url), any_app.runtime.cipher))
    with any_app.runtime.db.session() as s:
        rows = s.scalars(select(BpjsOutbox).where(BpjsOutbox.booking_code == code).order_by(BpjsOutbox.id)).all()
        assert [r.state for r in rows] == ["failed", "pending", "pending", "pending"]
        assert rows[0].response_code == 201 and "dokter" in rows[0].last_error.lower()
    assert code not in sandbox_bookings(sandbox_app)
    with any_app.runtime.db.session() as s:  # staff correct the mapping and press "Kirim ulang"
        for doctor in s.scalars(select(Doctor)):
            doctor.bpjs_code = SEED_CODES[doctor.name]
        assert retry_failed(s, rows[0].site_id, rows[0].id, utcnow())
    drain(BpjsWorker(any_app.runtime.db, client_for(url), any_app.runtime.cipher))
    assert sandbox_bookings(sandbox_app)[code] == [3, 4, 5]


def test_a_duplicate_counts_as_sent(any_app, sandbox):
    sandbox_app, url = sandbox
    sandbox_app.extensions[EXTENSION].failure_rate = 0.0
    (code,) = served_visits(any_app, 1)
    worker = BpjsWorker(any_app.runtime.db, client_for(url), any_app.runtime.cipher)
    drain(worker)
    with any_app.runtime.db.session() as s:  # as if a worker died after BPJS took the rows but before recording it
        for row in s.scalars(select(BpjsOutbox)):
            row.state, row.next_attempt_at = "pending", utcnow()
    drain(worker)
    assert sandbox_bookings(sandbox_app)[code] == [3, 4, 5]
    assert sandbox_app.extensions[EXTENSION].snapshot()["codes"]["208"] == 4
    with any_app.runtime.db.session() as s:
        assert set(s.scalars(select(BpjsOutbox.response_code))) == {208}


def test_two_workers_at_once(postgres_app, sandbox):
    sandbox_app, url = sandbox
    codes = served_visits(postgres_app, 10)
    workers = [BpjsWorker(postgres_app.runtime.db, client_for(url), postgres_app.runtime.cipher) for _ in range(2)]
    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    received = sandbox_bookings(sandbox_app)
    assert all(received[c] == [3, 4, 5] for c in codes)
    assert sandbox_app.extensions[EXTENSION].snapshot()["codes"].get("208", 0) == 0  # no row was sent twice


def test_a_worker_killed_mid_batch_loses_nothing(postgres_app, sandbox):
    sandbox_app, url = sandbox
    sandbox_app.extensions[EXTENSION].failure_rate = 0.0
    codes = served_visits(postgres_app, 15)
    env = {
        **os.environ,
        "PANTAU_ENV": "test",
        "PANTAU_DATABASE_URL": postgres_app.settings.database_url,
        "PANTAU_BPJS_BASE_URL": url,
        "PANTAU_BPJS_CONS_ID": CONS_ID,
        "PANTAU_BPJS_SECRET": SECRET,
        "PANTAU_BPJS_USER_KEY": USER_KEY,
        "PANTAU_VAR_DIR": str(postgres_app.settings.var_dir),
    }
    total = 15 * 4

    def sent() -> int:
        with postgres_app.runtime.db.session() as s:
            return s.scalar(select(func.count()).where(BpjsOutbox.state == "sent"))

    worker = subprocess.Popen([sys.executable, "-m", "bridge.bpjs_worker"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while sent() < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    assert 10 <= sent() < total, "the worker should have been killed part-way"
    with postgres_app.runtime.db.session() as s:  # the lease of a row in flight ends; skip the wait
        for row in s.scalars(select(BpjsOutbox).where(BpjsOutbox.state == "pending")):
            row.next_attempt_at = utcnow()
    restarted = subprocess.Popen([sys.executable, "-m", "bridge.bpjs_worker"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while sent() < total and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(15) == 0
    assert sent() == total
    received = sandbox_bookings(sandbox_app)
    assert all(received[c] == [3, 4, 5] for c in codes)
