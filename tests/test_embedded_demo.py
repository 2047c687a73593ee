"""``python app.py`` — what ``make run`` starts — serves the sign-in page, prints the logins, seeds once, and its
BPJS mapping page finds Pantau's and the sandbox's schedules alike but for the one planned difference."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import OperationalError

from bridge import embedded_sync
from bridge.embedded_sync import PUSKESMAS_CODE
from config import DEMO_BLIND_INDEX_KEY, DEMO_DATA_KEY
from data.bpjs_reference import DIFFERENT, SAME, compare_schedule, pull_state, request_pull
from data.db import Database
from data.field_crypto import FieldCipher
from data.models import BpjsRefJadwal, Doctor, Patient, Site, SyncClock
from data.patients import create_patient, decrypt_field
from data.schedules import local_today
from data.seed import HFIS_LAGGING_DOCTOR
from data.sync_store import note_patient
from domain.actor import Actor
from domain.clock import utcnow
from testkit.servers import free_port
from tests.fixtures_app import post_login

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def start_demo(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    env.update(
        PANTAU_VAR_DIR=str(tmp_path),
        PANTAU_DATABASE_URL=f"sqlite:///{tmp_path / 'pantau.db'}",
        PANTAU_PORT=str(port),
        PANTAU_EMBEDDED_MQTT_PORT=str(free_port()),
    )
    return start_app(env, tmp_path / "demo.log")


def start_app(env: dict[str, str], log: Path) -> subprocess.Popen:
    """``python app.py`` with ``env``; what it logs goes to ``log`` (read back when it does not come up)."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=sink, text=True
        )


def wait_until_serving(port: int, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Until ``/healthz`` answers 200; otherwise fail with its last answer, whether the app exited, and the end of
    its log. The first start (migrations, seed, two sites) takes ~11 s on a quiet 2-core machine, several times
    that under the whole suite in parallel."""
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except urllib.error.HTTPError as error:
            last = f"{error.code} {error.read()[:300]!r}"
        except OSError as error:
            last = repr(error)
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise AssertionError(f"the app did not come up (exit code {process.poll()}; /healthz: {last})\n{tail}")


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    return output


def run_once(tmp_path: Path) -> tuple[str, int]:
    port = free_port()
    process = start_demo(tmp_path, port)
    try:
        wait_until_serving(port, process, tmp_path / "demo.log")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert "Masuk ke Pantau" in response.read().decode()
    finally:
        output = stop(process)
    return output, process.returncode


def test_embedded_demo_starts_prints_logins_and_seeds_idempotently(tmp_path):
    first, code = run_once(tmp_path)
    assert code == 0
    assert re.search(r"Open:\s+http://127\.0\.0\.1:\d+/login", first)
    password = re.search(r"perawat\s+(\S+)", first).group(1)
    second, _ = run_once(tmp_path)
    assert re.search(r"perawat\s+(\S+)", second).group(1) == password  # same logins after a restart
    engine = create_engine(f"sqlite:///{tmp_path / 'pantau.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bed")).scalar() == 32
        assert conn.execute(text("SELECT count(*) FROM app_user")).scalar() == 8
        assert conn.execute(text("SELECT count(*) FROM display_token")).scalar() == 1


def test_demo_password_from_environment_signs_in(sqlite_app):
    # sqlite_app is seeded with PANTAU_DEMO_PASSWORD's test value: every demo login accepts it
    for username in ("admin", "manajer", "perawat", "dokter", "loket", "farmasi", "keuangan"):
        assert post_login(sqlite_app.client(), username).status_code == 302, username


def wait_for_reference_pull(db: Database, site_id: int, since: datetime, timeout: float = 120) -> None:
    """Until the demo's BPJS worker has pulled the reference data completely after ``since``; a pull that the
    sandbox's injected failures left incomplete is asked for again, as the admin page's button does, but one that
    could not reach the sandbox fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as s:
            state = pull_state(s, site_id)
            if state.ok and state.succeeded_at >= since:
                return
            if state.ok is False and not state.pending:
                # The sandbox's injected failures answer as BPJS does; never "could not be reached": it is served
                # by the demo itself, and a worker that pulls before the demo serves would wait 15 minutes.
                assert "tidak dapat dihubungi" not in state.message, state.message
                request_pull(s, Actor(None, "uji", site_id, None), utcnow())
        time.sleep(0.5)
    raise AssertionError("the demo's BPJS worker did not pull the reference data")


def test_bpjs_mapping_shows_only_the_planned_difference_after_start_and_restart(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'pantau.db'}")
    try:
        for run in range(2):  # a fresh demo, then the same one restarted (its sandbox starts afresh)
            if run:  # what the previous sandbox answered is stale now (e.g. a jadwal changed there)
                with db.session() as s:
                    s.execute(update(BpjsRefJadwal).values(jadwal="08:00-09:00"))
            started = utcnow()
            port = free_port()
            process = start_demo(tmp_path, port)
            try:
                wait_until_serving(port, process, tmp_path / "demo.log")
                with db.session() as s:
                    site_id = s.scalar(select(Site.id))
                wait_for_reference_pull(db, site_id, started)
            finally:
                stop(process)
            with db.session() as s:  # what /admin/bpjs/pemetaan shows
                checks = compare_schedule(s, site_id, local_today(s, site_id))
                planned = s.scalar(select(Doctor.name).where(Doctor.bpjs_code == HFIS_LAGGING_DOCTOR))
            assert len(checks) == 6
            assert {c.doctor: c.status for c in checks if c.status != SAME} == {planned: DIFFERENT}
    finally:
        db.engine.dispose()


def test_the_demo_puskesmas_serves_its_pages_and_its_registrations_reach_the_hospital(tmp_path):
    """``make run`` also starts a Puskesmas (its own database, next port) whose sync worker and the hospital's run
    in the demo process on the embedded broker: a patient registered there arrives at the hospital."""
    port = free_port()
    process = start_demo(tmp_path, port)
    try:
        wait_until_serving(port, process, tmp_path / "demo.log")
        puskesmas = Database(f"sqlite:///{tmp_path / 'puskesmas.db'}")
        hospital = Database(f"sqlite:///{tmp_path / 'pantau.db'}")
        cipher = FieldCipher(DEMO_DATA_KEY, DEMO_BLIND_INDEX_KEY)
        deadline = time.monotonic() + 60
        while not _synced_site(puskesmas) and time.monotonic() < deadline:  # its worker registers it at start
            time.sleep(0.3)
        with puskesmas.session() as s:
            site_id = s.scalar(select(Site.id).where(Site.code == PUSKESMAS_CODE))
            patient = create_patient(s, cipher, site_id=site_id, mrn="PKM-000001", name="Dewi Lestari",
                                     birth_date=date(1991, 3, 4), sex="P", nik="3171014403910002")  # fmt: skip
            note_patient(s, cipher, patient)
            sync_id = patient.sync_id
        while time.monotonic() < deadline:
            with hospital.session() as s:
                arrived = s.scalar(select(Patient).where(Patient.sync_id == sync_id))
                if arrived is not None:
                    assert (
                        arrived.name == "Dewi Lestari" and decrypt_field(cipher, arrived, "nik") == "3171014403910002"
                    )
                    break
            time.sleep(0.3)
        else:
            raise AssertionError("the Puskesmas's patient did not reach the hospital")
    finally:
        output = stop(process)
    url = re.search(r"Puskesmas \(second site[^)]*\): (http://127\.0\.0\.1:\d+)/login", output)
    assert url, output


def _synced_site(db: Database) -> bool:
    try:
        with db.session() as s:
            return s.scalar(select(SyncClock.site_code)) == PUSKESMAS_CODE
    except OperationalError:  # not migrated yet
        return False


def test_a_taken_puskesmas_port_gives_the_demo_puskesmas_a_free_one():
    """The demo Puskesmas listens on the hospital's port + 1; when another program has it, werkzeug would end the
    whole demo (``sys.exit(1)``, seen when a parallel test held the port): it takes a free port instead."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        settings = SimpleNamespace(host="127.0.0.1", port=taken)
        server = embedded_sync._serve(settings, lambda environ, start_response: [])
        try:
            assert server.server_port != taken
        finally:
            server.server_close()
