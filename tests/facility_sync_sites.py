"""Sites of a facility sync test: each site's database with its own data keys, its ``python -m bridge.facility_sync
run`` worker as a subprocess on a real broker, and its ``verify`` command. Used by the worker's tests and the
two-site browser test; nothing here imports pytest."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from data.db import Database
from data.field_crypto import FieldCipher
from data.migrate import upgrade
from data.models import Patient, Site, SyncPeerStatus
from data.patients import create_patient
from data.sync_store import fingerprints, note_patient, register_site
from testkit.servers import MosquittoServer

ROOT = Path(__file__).resolve().parent.parent
LINK_KEY = base64.b64encode(b"L" * 32).decode()  # test key only
BORN = date(1990, 5, 17)


@dataclass
class SiteDb:
    """One site of a test: its database, its own data keys and its Site row."""

    code: str
    url: str
    db: Database
    data_keys: str
    blind_key: str
    site_id: int

    @property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.data_keys, self.blind_key)

    def count(self, model, *where) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where))

    def patient(self, sync_id: str) -> Patient | None:
        with self.db.session() as s:
            patient = s.scalar(select(Patient).where(Patient.sync_id == sync_id))
            if patient is not None:
                s.expunge(patient)
            return patient

    def fingerprints(self) -> dict[str, str]:
        with self.db.session() as s:
            return fingerprints(s)

    def peer_status(self, peer: str) -> SyncPeerStatus | None:
        with self.db.session() as s:
            row = s.get(SyncPeerStatus, peer)
            if row is not None:
                s.expunge(row)
            return row


def new_site(url: str, code: str, seed: int) -> SiteDb:
    """Site ``code`` in the empty database at ``url``: migrated, its Site row, data keys of its own (from ``seed``)."""
    upgrade(url)
    db = Database(url)
    with db.session() as s:
        site = Site(code=code, name=f"Site {code}")
        s.add(site)
        s.flush()
        site_id = site.id
    data_keys = f"k{seed}:" + base64.b64encode(bytes([seed]) * 32).decode()  # test keys only
    return SiteDb(code, url, db, data_keys, f"test-only-blind-key-{seed}", site_id)


def register_peers(site: SiteDb, peers: list[str]) -> None:
    """Turn sync on at ``site`` with these peers, as its worker does at start."""
    with site.db.session() as s:
        register_site(s, site.code, peers)


def register(site: SiteDb, name: str = "Siti Nurhaliza", **fields) -> str:
    """A patient registered at ``site`` as the desk's services do (create, set ``fields``, note); her sync id."""
    with site.db.session() as s:
        patient = create_patient(
            s, site.cipher, site_id=site.site_id, mrn=f"RM-{uuid.uuid4().hex[:6]}", name=name, birth_date=BORN, sex="P"
        )
        for field, value in fields.items():
            setattr(patient, field, value)
        note_patient(s, site.cipher, patient)
        return patient.sync_id


def edit(site: SiteDb, sync_id: str, **values) -> None:
    """Change a patient's columns at ``site`` and note the change, in one transaction."""
    with site.db.session() as s:
        patient = s.scalar(select(Patient).where(Patient.sync_id == sync_id).with_for_update())
        for field, value in values.items():
            setattr(patient, field, value)
        s.flush()
        note_patient(s, site.cipher, patient)


class Worker:
    """``python -m bridge.facility_sync run`` for one site, as a subprocess logging to a file."""

    def __init__(self, site: SiteDb, peer: str, broker: MosquittoServer, tmp: Path, *args: str) -> None:
        self.env = sync_env(site, peer, broker.url, tmp)
        self.args = args
        self.log = tmp / f"worker-{site.code}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bridge.facility_sync", "run", *self.args],
                env=self.env,
                cwd=self.env["PANTAU_VAR_DIR"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def sync_env(site: SiteDb, peer: str, broker_url: str, tmp: Path) -> dict[str, str]:
    """The environment of ``site``'s sync commands: its database and keys, ``peer`` over the test link key."""
    var = tmp / site.code
    var.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "PANTAU_ENV": "test",
        "PANTAU_VAR_DIR": str(var),
        "PANTAU_DATABASE_URL": site.url,
        "PANTAU_SITE_CODE": site.code,
        "PANTAU_MQTT_URL": broker_url,
        "PANTAU_DATA_KEYS": site.data_keys,
        "PANTAU_BLIND_INDEX_KEY": site.blind_key,
        "PANTAU_REDIS_URL": "memory://",
        "PANTAU_SYNC_PEERS": peer,
        "PANTAU_SYNC_KEYS": f"{peer}:k1:{LINK_KEY}",
        "PANTAU_SYNC_RESEND_SECONDS": "2",
    }


def wait_until(check: Callable[[], bool], what: str, timeout: float = 45.0) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {what}")


def run_verify(
    site: SiteDb, peer: str, broker: MosquittoServer, tmp: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``python -m bridge.facility_sync verify`` of ``site`` against ``peer``, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "bridge.facility_sync", "verify", "--timeout", "20", *args],
        env=sync_env(site, peer, broker.url, tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )
