"""Facility sync between sites, end to end: each site its own PostgreSQL database and sync worker process
(``python -m bridge.facility_sync run``), one real Mosquitto between them. It repeats the published Puskesmas ↔
hospital experiment — delay against data size, against the number of publishing sites and of subscribing sites —
then the same with the broker restarted, and with a subscriber's worker killed (``kill -9``) and started again,
in the middle of a run.

    python bench/facility_sync.py [--json] [--quick] [--charts DIR]

Each publisher registers patients, each with one attachment (a scanned letter of random bytes: 2 MB in the large
runs), through the same services the desk uses, in transactions of ten patients; its worker sends them to every
subscriber. A run ends when every subscriber holds every record and every publisher has every change
acknowledged. Per run it prints ``bytes`` (attachment content plus the patients' fields, per subscriber),
``records`` (patients and attachments delivered), ``lost`` (records missing at a subscriber), ``duplicated``
(records a subscriber holds twice, or changes applied twice), ``mismatched`` (records whose merged state or
attachment checksum differs from the publisher's) and ``seconds`` (from the first write to the last
acknowledgement); the last line sums every run. PostgreSQL runs with fsync on (``fast=False``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from data.db import Database
from data.field_crypto import FieldCipher
from data.migrate import upgrade
from data.models import Patient, PatientAttachment, Site, SyncInbox, SyncOutbox, SyncRecord
from data.patient_attachments import add_attachment
from data.patients import create_patient
from data.sync_store import note_patient, register_site
from domain.actor import Actor
from testkit.names import numbered_name
from testkit.servers import MosquittoServer, PostgresServer

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000
BATCH = 10  # patients per transaction at a publisher
RUN_TIMEOUT = 900.0


@dataclass
class BenchSite:
    """One site of a run: its database, keys and worker process."""

    code: str
    url: str
    db: Database
    cipher: FieldCipher
    site_id: int
    env: dict[str, str] = field(default_factory=dict)
    worker: subprocess.Popen | None = None

    def start_worker(self, log_dir: Path) -> None:
        log = (log_dir / f"{self.code}.log").open("ab")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "bridge.facility_sync", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop_worker(self, *, kill: bool = False) -> None:
        if self.worker is None or self.worker.poll() is not None:
            return
        self.worker.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            self.worker.wait()


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Harness:
    """The servers, a migrated template database, and the sites of the current run."""

    def __init__(self, stack: ExitStack) -> None:
        self.pg = stack.enter_context(PostgresServer(fast=False))
        self.broker = stack.enter_context(MosquittoServer(max_inflight_messages=100))
        self.logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pantau-sync-bench-")))
        self.template = f"tpl_{uuid.uuid4().hex[:10]}"
        url = self.pg.create_database(self.template)
        upgrade(url)

    def site(self, code: str) -> BenchSite:
        url = self.pg.create_database(f"s_{uuid.uuid4().hex[:12]}", template=self.template)
        db = Database(url)
        with db.session() as s:
            site = Site(code=code, name=f"Bench {code}", kind="puskesmas" if code.startswith("PKM") else "hospital")
            s.add(site)
            s.flush()
            site_id = site.id
        data_key, blind = f"b1:{_key()}", secrets.token_urlsafe(32)
        return BenchSite(
            code, url, db, FieldCipher(data_key, blind), site_id, env=self._env(code, url, data_key, blind)
        )

    def _env(self, code: str, url: str, data_key: str, blind: str) -> dict[str, str]:
        return os.environ | {
            "PANTAU_ENV": "test",
            "PANTAU_SITE_CODE": code,
            "PANTAU_DATABASE_URL": url,
            "PANTAU_MQTT_URL": self.broker.url,
            "PANTAU_DATA_KEYS": data_key,
            "PANTAU_BLIND_INDEX_KEY": blind,
            "PANTAU_SECRET_KEY": secrets.token_urlsafe(32),
            "PANTAU_LOG_LEVEL": "WARNING",
            "PANTAU_SYNC_RESEND_SECONDS": "10",
        }


def link(sites: list[BenchSite], publishers: list[BenchSite], subscribers: list[BenchSite]) -> None:
    """Give every publisher–subscriber pair a key, and register every site with its peers."""
    peers: dict[str, list[tuple[str, str]]] = {s.code: [] for s in sites}
    for pub in publishers:
        for sub in subscribers:
            key = _key()
            peers[pub.code].append((sub.code, key))
            peers[sub.code].append((pub.code, key))
    for site in sites:
        listed = peers[site.code]
        site.env["PANTAU_SYNC_PEERS"] = ",".join(code for code, _ in listed)
        site.env["PANTAU_SYNC_KEYS"] = ",".join(f"{code}:k1:{key}" for code, key in listed)
        with site.db.session() as s:
            register_site(s, site.code, [code for code, _ in listed])


def write_records(site: BenchSite, index: int, patients: int, attachment_bytes: int, tag: str) -> int:
    """Register ``patients`` patients with one attachment each at ``site`` (publisher ``index``: names differ
    between publishers); the bytes written."""
    actor = Actor(None, "bench", site.site_id, "127.0.0.1")
    written = 0
    for start in range(0, patients, BATCH):
        with site.db.session() as s:
            for n in range(start, min(start + BATCH, patients)):
                name = numbered_name(f"Pasien {tag}", index * 10**6 + n)  # letters only, as the desk requires
                patient = create_patient(
                    s, site.cipher, site_id=site.site_id, mrn=f"{tag}-{n:06d}", name=name,
                    birth_date=date(1950 + n % 60, 1 + n % 12, 1 + n % 28), sex="LP"[n % 2],
                    nik=f"3171{n % 10**12:012d}", phone=f"0812{n % 10**8:08d}", address=f"Jl. Bench No. {n}",
                )  # fmt: skip
                note_patient(s, site.cipher, patient)
                add_attachment(s, site.cipher, actor, patient, kind="referral_letter", filename=f"rujukan-{n}.pdf",
                               media_type="application/pdf", content=os.urandom(attachment_bytes))  # fmt: skip
                written += attachment_bytes + len(name) + 80  # the letter and the patient's fields
    return written


def _held(site: BenchSite, tag: str) -> tuple[int, int, int, int]:
    """Patients and attachments of the run at ``site`` (rows, distinct), and changes applied (rows, distinct)."""
    with site.db.session() as s:
        names = select(Patient.name).where(Patient.name.like(f"Pasien {tag} %"))
        rows = s.scalar(select(func.count()).select_from(names.subquery()))
        distinct = s.scalar(select(func.count(func.distinct(Patient.name))).where(Patient.name.like(f"Pasien {tag} %")))
        attachments = s.scalar(select(func.count()).select_from(PatientAttachment))
        inbox = s.scalar(select(func.count()).select_from(SyncInbox))
        distinct_inbox = s.scalar(select(func.count(func.distinct(SyncInbox.change_id))))
    return rows + attachments, distinct + attachments, inbox, distinct_inbox


def _pending(site: BenchSite) -> int:
    with site.db.session() as s:
        return s.scalar(select(func.count()).where(SyncOutbox.acked_at.is_(None)))


def _fingerprints(site: BenchSite) -> dict[str, str]:
    with site.db.session() as s:
        return dict(s.execute(select(SyncRecord.record_id, SyncRecord.fingerprint)).all())


@dataclass
class Run:
    name: str
    size_mb: float
    publishers: int
    subscribers: int
    fault: str = ""


def _plan(size_mb: float) -> tuple[int, int]:
    """Patients per run and attachment size: 2 MB letters from 20 MB up, ten patients below."""
    attachment = 2 * MB if size_mb >= 20 else max(1, int(size_mb * MB / 10))
    return max(1, round(size_mb * MB / attachment)), attachment


def run_one(h: Harness, run: Run) -> dict:
    tag = "".join(secrets.choice(string.ascii_uppercase) for _ in range(6))
    publishers = [h.site(f"PKM-{i:02d}") for i in range(1, run.publishers + 1)]
    subscribers = [h.site(f"RS-{i:02d}") for i in range(1, run.subscribers + 1)]
    sites = publishers + subscribers
    link(sites, publishers, subscribers)
    patients, attachment = _plan(run.size_mb / run.publishers)
    expected = 2 * patients * run.publishers  # patients and their attachments, at each subscriber
    for site in sites:
        site.start_worker(h.logs)
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(len(publishers)) as pool:
            writes = [pool.submit(write_records, p, i, patients, attachment, tag) for i, p in enumerate(publishers)]
            fault = _fault(h, run.fault, subscribers[0], lambda: _held(subscribers[0], tag)[1] >= expected * 0.4)
            written = [w.result() for w in writes]  # a writer's error stops the bench here
        deadline = started + RUN_TIMEOUT
        while time.monotonic() < deadline:
            done = all(_held(sub, tag)[1] >= expected for sub in subscribers)
            if done and all(_pending(p) == 0 for p in publishers):
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
        if fault is not None:
            fault.join()
    finally:
        for site in sites:
            site.stop_worker()
    return _score(run, publishers, subscribers, tag, expected, sum(written) * run.subscribers, seconds)


def _fault(h: Harness, kind: str, victim: BenchSite, ready: Callable[[], bool]) -> threading.Thread | None:
    """Restart the broker, or kill -9 the first subscriber's worker, once ``ready()``; None without a fault."""
    if not kind:
        return None

    def inject() -> None:
        while not ready():
            time.sleep(0.1)
        if kind == "broker_restart":
            h.broker.stop()
            time.sleep(2)
            h.broker.start()
        else:
            victim.stop_worker(kill=True)
            time.sleep(2)
            victim.start_worker(h.logs)

    thread = threading.Thread(target=inject, daemon=True)
    thread.start()
    return thread


def _score(
    run: Run, publishers: list[BenchSite], subscribers: list[BenchSite], tag: str, expected: int, moved: int, s: float
) -> dict:
    lost = duplicated = mismatched = 0
    origin: dict[str, str] = {}
    for pub in publishers:
        origin |= _fingerprints(pub)
    for sub in subscribers:
        rows, distinct, inbox, distinct_inbox = _held(sub, tag)
        lost += max(0, expected - distinct)
        duplicated += (rows - distinct) + (inbox - distinct_inbox)
        held = _fingerprints(sub)
        mismatched += sum(1 for record, print_ in origin.items() if record in held and held[record] != print_)
    for site in publishers + subscribers:
        site.db.engine.dispose()
    return {
        "run": run.name,
        "fault": run.fault or None,
        "publishers": run.publishers,
        "subscribers": run.subscribers,
        "bytes": moved,
        "records": expected * len(subscribers),
        "lost": lost,
        "duplicated": duplicated,
        "mismatched": mismatched,
        "seconds": round(s, 2),
    }


def plan(quick: bool) -> list[Run]:
    sizes = (1, 10) if quick else (1, 10, 50, 100, 200)
    counts = (1, 2) if quick else (1, 2, 4, 8)
    fanned = 4 if quick else 20
    big = 10 if quick else 200
    runs = [Run(f"size {mb} MB", mb, 1, 1) for mb in sizes]
    runs += [Run(f"{n} publishers", fanned, n, 1) for n in counts]
    runs += [Run(f"{n} subscribers", fanned, 1, n) for n in counts]
    runs += [Run("broker restarted", big, 1, 1, "broker_restart"), Run("worker killed", big, 1, 1, "kill_worker")]
    return runs


def summary(results: list[dict]) -> dict:
    largest = max(results, key=lambda r: r["bytes"])
    return {
        "runs": len(results),
        "lost": sum(r["lost"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
        "mismatched": sum(r["mismatched"] for r in results),
        "total_bytes": sum(r["bytes"] for r in results),
        "largest_bytes": largest["bytes"],
        "largest_seconds": largest["seconds"],
    }


def charts(results: list[dict], folder: Path) -> list[Path]:
    """PNG charts of delay against size, publishers and subscribers, drawn from ``results``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    made = []
    series = {
        "size": ([r for r in results if r["run"].startswith("size")], "bytes", "data size (MB)", 1 / MB),
        "publishers": ([r for r in results if r["run"].endswith("publishers")], "publishers", "publishing sites", 1),
        "subscribers": (
            [r for r in results if r["run"].endswith("subscribers")],
            "subscribers",
            "subscribing sites",
            1,
        ),
    }
    for name, (rows, key, label, scale) in series.items():
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
        ax.plot([r[key] * scale for r in rows], [r["seconds"] for r in rows], marker="o")
        ax.set_xlabel(label)
        ax.set_ylabel("seconds until all acknowledged")
        ax.set_title(f"Facility sync: delay against {label}")
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        path = folder / f"facility_sync_{name}.png"
        fig.savefig(path)
        plt.close(fig)
        made.append(path)
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON line per run, then the summary")
    parser.add_argument("--quick", action="store_true", help="small sizes and counts (a smoke run)")
    parser.add_argument("--charts", type=Path, help="write the PNG charts into this folder")
    args = parser.parse_args()
    results = []
    with ExitStack() as stack:
        harness = Harness(stack)
        for run in plan(args.quick):
            result = run_one(harness, run)
            results.append(result)
            print(json.dumps(result) if args.json else _line(result), flush=True)
    total = summary(results)
    print(json.dumps(total) if args.json else _line(total), flush=True)
    if args.charts:
        for path in charts(results, args.charts):
            print(f"chart: {path}", file=sys.stderr)
    return 0 if total["lost"] == total["duplicated"] == total["mismatched"] == 0 else 1


def _line(row: dict) -> str:
    return "  ".join(f"{key}={value}" for key, value in row.items())


if __name__ == "__main__":
    sys.exit(main())
