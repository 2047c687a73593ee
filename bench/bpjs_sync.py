"""BPJS sync end to end: JKN visits through the real queue services -> outbox -> ``python -m bridge.bpjs_worker``
-> the BPJS sandbox over real HTTP, with transient 404 "Gagal dicoba kembali" answers injected.

Starts a durable PostgreSQL (fsync on) the way the test suite does, or uses ``PANTAU_DATABASE_URL`` when it is
set; migrates and seeds the demo (polis, doctors with their HFIS codes, today's sessions, whose quotas are raised
for the run) and adds ``--bookings`` patients with a BPJS card, NIK and phone. Then it starts, each in its own
process, the sandbox (``python -m bridge.bpjs.sandbox_cli --failure-rate 0.05 --seed N``: ``create_sandbox`` served
with ``BpjsRequestHandler``) and ``--workers`` sync workers, and drives ``--bookings`` JKN visits at a steady
``--rate`` (visits/s) through the same data services the desk and the counters use: registration (antrean/add
and task 3), ``--service-seconds`` later call + start (task 4), and as long again finish (task 5). It waits until
the outbox is drained (``--timeout``), stops the workers (SIGTERM) and reads the sandbox's state.

Printed: ``sent`` (outbox rows acknowledged), ``duplicates_tolerated`` (of those, answered 208), ``failed``
(refused with 201 and held), ``lost`` (a booking or task recorded in Pantau that the sandbox does not have),
``waktu_mismatch`` / ``out_of_order`` (tasks the sandbox holds with another time, or in another order),
``injected_404`` (the sandbox's count), ``retries``, and ``p50/p95/p99_event_to_ack_ms``: from the event's real
time (the task time sent as ``waktu``; the registration time for antrean/add) to ``sent_at``, written by the
worker once BPJS answered 200/208. ``p95_outbox_to_ack_ms`` measures from the outbox row's ``created_at``
instead (the same moment within the event's transaction). ``sandbox_codes`` also counts the workers' reference
data pulls (ref/poli, ref/dokter, jadwaldokter). ``--json`` prints one JSON object last.

The default rate, 2 visits/s (8 BPJS calls/s, 7,200 visits an hour), is far above any hospital's JKN outpatient
load; raise ``--rate`` (and ``--workers``) to find where the worker saturates on the machine at hand.
Usage: ``python bench/bpjs_sync.py --bookings 500 [--rate 5 --workers 2] [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, update  # noqa: E402

from auth.demo_accounts import seed_demo  # noqa: E402
from auth.users import Actor  # noqa: E402
from config import load_settings  # noqa: E402
from data import patients, queue_actions  # noqa: E402
from data.bpjs_status import percentile  # noqa: E402
from data.migrate import upgrade  # noqa: E402
from data.models import BpjsOutbox, ClinicSession, Site, Visit, VisitTask  # noqa: E402
from data.queue_registration import register_visit  # noqa: E402
from data.runtime import build_runtime  # noqa: E402
from data.schedules import ensure_sessions, local_today  # noqa: E402
from domain.clock import epoch_ms, utcnow  # noqa: E402
from testkit.servers import PostgresServer, free_port, wait_for_port  # noqa: E402

CONS_ID, SECRET, USER_KEY = "bench-cons", "bench-only-secret", "bench-only-user-key"  # bench values
PASSWORD = "bench-only-password-1"  # bench value


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------- setup


def prepare(runtime, settings, bookings: int, run: str, needed: timedelta) -> tuple[int, list[int], list[int]]:
    """Demo seed, today's sessions open long enough with room for every booking, and the JKN patients."""
    with runtime.db.session() as s:
        seed_demo(s, settings)
    with runtime.db.session() as s:
        site_id = s.scalar(select(Site.id).where(Site.code == settings.site_code))
        today = local_today(s, site_id, utcnow())
        ensure_sessions(s, site_id, today)
        open_now = (
            ClinicSession.site_id == site_id,
            ClinicSession.service_date == today,
            ClinicSession.closed_reason.is_(None),
            ClinicSession.ends_at > utcnow() + needed,
        )
        s.execute(update(ClinicSession).where(*open_now).values(quota_jkn=ClinicSession.booked_jkn + bookings))
        sessions = list(s.scalars(select(ClinicSession.id).where(*open_now).order_by(ClinicSession.id)))
        if not sessions:
            raise SystemExit("no session of today stays open for the run: run the bench during the demo's hours")
        people = []
        for n in range(bookings):
            patient = patients.create_patient(
                s,
                runtime.cipher,
                site_id=site_id,
                mrn=f"BSYNC-{run}-{n:05d}",  # bench patients, marked as demo data below
                name=f"Pasien Sinkron {n:04d}",
                birth_date=date(1950 + n % 60, n % 12 + 1, n % 28 + 1),
                sex="LP"[n % 2],
                nik=f"35{run}{n:08d}",
                bpjs=f"7{run[1:]}{n:07d}",
                phone=f"0813{n:08d}",
            )
            patient.is_demo = True
            people.append(patient.id)
    return site_id, sessions, people


@contextlib.contextmanager
def process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A child process logging to ``log``, stopped with SIGTERM (and checked to exit cleanly)."""
    with log.open("ab") as sink:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(5)
        if child.returncode not in (0, -signal.SIGTERM):
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            _log(f"{' '.join(command[2:4])} exited with {child.returncode}:\n{tail}")


def sandbox_state(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/sandbox/state.json", timeout=60) as answer:
        return json.loads(answer.read())


# --------------------------------------------------------------------------------------------------- visits


@dataclass
class Planned:
    patient_id: int
    session_id: int
    ticket_id: int | None = None


def drive_visits(runtime, site_id: int, visits: list[Planned], rate: float, gap: float) -> tuple[float, float]:
    """Register each visit at n / ``rate``, call + start it ``gap`` s later, finish it ``gap`` s after that, each
    step in its own transaction with the real time. Returns (seconds taken, worst lateness against the plan)."""
    actor = Actor(None, "bench", site_id)
    began = time.monotonic()
    plan = [(n / rate, n, "register") for n in range(len(visits))]
    heapq.heapify(plan)
    worst = 0.0
    while plan:
        due, n, step = heapq.heappop(plan)
        wait = began + due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        worst = max(worst, -wait)
        visit = visits[n]
        with runtime.db.session() as s:
            now = utcnow()
            if step == "register":
                visit.ticket_id = register_visit(
                    s,
                    actor,
                    patient_id=visit.patient_id,
                    session_id=visit.session_id,
                    payer="jkn",
                    now=now,
                    referral_number=f"0301R001{n:010d}",
                ).ticket_id
                following = "start"
            elif step == "start":
                queue_actions.call_ticket(s, actor, visit.ticket_id, f"Bench {n}", now)
                queue_actions.start(s, actor, visit.ticket_id, now)
                following = "finish"
            else:
                queue_actions.finish(s, actor, visit.ticket_id, now)
                following = None
        if following:
            heapq.heappush(plan, (due + gap, n, following))
        if step == "register" and (n + 1) % 100 == 0:
            _log(f"  {n + 1} visits registered")
    return time.monotonic() - began, worst


def wait_drained(runtime, first_id: int, timeout: float) -> tuple[bool, float]:
    """Until no row of this run is pending any more (or ``timeout`` s); (drained, seconds waited)."""
    began = time.monotonic()
    while True:
        with runtime.db.session() as s:
            pending = s.scalar(select(func.count()).where(BpjsOutbox.id > first_id, BpjsOutbox.state == "pending"))
        if not pending:
            return True, time.monotonic() - began
        if time.monotonic() - began > timeout:
            _log(f"  {pending} rows still pending after {timeout:.0f} s")
            return False, time.monotonic() - began
        time.sleep(0.2)


# ------------------------------------------------------------------------------------------------ measuring


def outbox_figures(runtime, first_id: int) -> dict:
    """Counts of this run's rows, and the event -> acknowledged times of the sent ones."""
    with runtime.db.session() as s:
        rows = s.execute(
            select(BpjsOutbox, Visit.created_at)
            .join(Visit, Visit.id == BpjsOutbox.visit_id)
            .where(BpjsOutbox.id > first_id)
        ).all()
        event_ms, outbox_ms, figures = [], [], {"rows": len(rows), "sent": 0, "failed": 0, "pending_left": 0}
        figures.update(duplicates_tolerated=0, retries=0)
        for row, registered in rows:
            figures["retries"] += max(0, row.attempts - 1)
            if row.state != "sent":
                figures["failed" if row.state == "failed" else "pending_left"] += 1
                continue
            figures["sent"] += 1
            figures["duplicates_tolerated"] += row.response_code == 208
            event = row.payload["waktu"] if row.kind == "updatewaktu" else epoch_ms(registered)
            event_ms.append(epoch_ms(row.sent_at) - event)
            outbox_ms.append(epoch_ms(row.sent_at) - epoch_ms(row.created_at))
    for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        value = percentile(event_ms, share)
        figures[f"{name}_event_to_ack_ms"] = None if value is None else round(value, 1)
    figures["max_event_to_ack_ms"] = max(event_ms, default=None)
    outbox_p95 = percentile(outbox_ms, 0.95)
    figures["p95_outbox_to_ack_ms"] = None if outbox_p95 is None else round(outbox_p95, 1)
    return figures


def compare_with_sandbox(runtime, visit_ids: list[int], state: dict) -> dict:
    """Every booking and task recorded in Pantau must be in the sandbox, with the same time, in the same order."""
    received = {b["kodebooking"]: [(t["taskid"], t["waktu"]) for t in b["tasks"]] for b in state["bookings"]}
    with runtime.db.session() as s:
        codes = dict(s.execute(select(Visit.id, Visit.booking_code).where(Visit.id.in_(visit_ids))).all())
        recorded: dict[str, list[tuple[int, int]]] = {code: [] for code in codes.values()}
        for visit_id, task, at in s.execute(
            select(VisitTask.visit_id, VisitTask.task_id, VisitTask.at)
            .where(VisitTask.visit_id.in_(visit_ids))
            .order_by(VisitTask.visit_id, VisitTask.at)
        ):
            recorded[codes[visit_id]].append((task, epoch_ms(at)))
    lost = mismatch = disorder = 0
    for code, tasks in recorded.items():
        if code not in received:
            lost += 1 + len(tasks)  # antrean/add and every task of the booking
            continue
        there = dict(received[code])
        lost += sum(task not in there for task, _ in tasks)
        mismatch += sum(task in there and there[task] != at for task, at in tasks)
        disorder += [t for t, _ in received[code]] != [t for t, _ in tasks if t in there]
    return {"lost": lost, "waktu_mismatch": mismatch, "out_of_order": disorder, "bookings_checked": len(recorded)}


# ---------------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=500, help="JKN visits to drive through tasks 3, 4, 5")
    parser.add_argument("--rate", type=float, default=2.0, help="new visits per second (steady); 4 calls each")
    parser.add_argument("--service-seconds", type=float, default=2.0, help="seconds between tasks 3 -> 4 -> 5")
    parser.add_argument("--workers", type=int, default=1, help="sync worker processes")
    parser.add_argument("--failure-rate", type=float, default=0.05, help="share of sandbox answers that are 404")
    parser.add_argument("--seed", type=int, default=7, help="seed of the sandbox's failure injection")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the outbox to drain")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()

    given = load_settings().model_fields_set
    run = f"{int(time.time()) % 10**6:06d}"  # six digits that differ between runs (identifiers stay unique)
    with contextlib.ExitStack() as stack:
        env_settings = load_settings()
        database_url = (
            env_settings.database_url
            if "database_url" in given
            else stack.enter_context(PostgresServer(fast=False)).url
        )
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pantau-bpjs-sync-")))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = load_settings(
            env="test",
            database_url=database_url,
            redis_url="memory://",
            var_dir=var_dir,
            demo_password=PASSWORD,
            bpjs_base_url=url,
            bpjs_cons_id=CONS_ID,
            bpjs_secret=SECRET,
            bpjs_user_key=USER_KEY,
        )
        _log(f"services: postgres (durable) {database_url.split('@')[-1]}")
        upgrade(database_url)
        runtime = build_runtime(settings)
        stack.callback(runtime.close)
        needed = timedelta(seconds=args.bookings / args.rate + 2 * args.service_seconds + args.timeout)
        site_id, sessions, people = prepare(runtime, settings, args.bookings, run, needed)
        visits = [Planned(p, sessions[n % len(sessions)]) for n, p in enumerate(people)]
        with runtime.db.session() as s:
            first_id = s.scalar(select(func.coalesce(func.max(BpjsOutbox.id), 0)))

        env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
        env.update(
            PANTAU_ENV="test",
            PANTAU_DATABASE_URL=database_url,
            PANTAU_VAR_DIR=str(var_dir),
            PANTAU_LOG_LEVEL="WARNING",
            PANTAU_DATA_KEYS=settings.data_keys,
            PANTAU_BLIND_INDEX_KEY=settings.blind_index_key,
            PANTAU_SITE_CODE=settings.site_code,
            PANTAU_BPJS_BASE_URL=url,
            PANTAU_BPJS_CONS_ID=CONS_ID,
            PANTAU_BPJS_SECRET=SECRET,
            PANTAU_BPJS_USER_KEY=USER_KEY,
        )
        sandbox = [sys.executable, "-m", "bridge.bpjs.sandbox_cli", "--port", str(port)]
        sandbox += ["--failure-rate", str(args.failure_rate), "--seed", str(args.seed)]
        stack.enter_context(process(sandbox, env, var_dir / "sandbox.log"))
        wait_for_port("127.0.0.1", port, timeout=30)
        _log(f"sandbox: {url} with {args.failure_rate:.0%} injected 404s (seed {args.seed})")
        with contextlib.ExitStack() as workers:
            for n in range(args.workers):
                log = var_dir / f"worker-{n}.log"
                workers.enter_context(process([sys.executable, "-m", "bridge.bpjs_worker"], env, log))
            _log(f"workers: {args.workers} x python -m bridge.bpjs_worker")
            _log(f"visits: {args.bookings} at {args.rate:g}/s, {args.service_seconds:g} s per step")
            generated, lateness = drive_visits(runtime, site_id, visits, args.rate, args.service_seconds)
            _log(f"  generated in {generated:.1f} s (worst lateness {lateness * 1000:.0f} ms); waiting for the outbox")
            drained, tail = wait_drained(runtime, first_id, args.timeout)
        state = sandbox_state(url)
        figures = outbox_figures(runtime, first_id)
        with runtime.db.session() as s:
            visit_ids = list(s.scalars(select(Visit.id).where(Visit.patient_id.in_(people))))
        checked = compare_with_sandbox(runtime, visit_ids, state)

    result = {
        "bench": "bpjs_sync",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "bookings": args.bookings,
        "rate_per_s": args.rate,
        "service_seconds": args.service_seconds,
        "workers": args.workers,
        "failure_rate": args.failure_rate,
        "seed": args.seed,
        "drained": drained,
        "generation_s": round(generated, 1),
        "drain_tail_s": round(tail, 1),
        "worst_lateness_ms": round(lateness * 1000),
        **figures,
        **checked,
        "injected_404": state["codes"].get("404", 0),
        "sandbox_codes": state["codes"],
        "latency_basis": "event time (task waktu; registration for antrean/add) -> outbox sent_at after 200/208",
    }
    for key in (
        "rows",
        "sent",
        "duplicates_tolerated",
        "failed",
        "pending_left",
        "lost",
        "waktu_mismatch",
        "out_of_order",
        "injected_404",
        "retries",
        "p50_event_to_ack_ms",
        "p95_event_to_ack_ms",
        "p99_event_to_ack_ms",
        "max_event_to_ack_ms",
        "p95_outbox_to_ack_ms",
    ):
        _log(f"  {key:>22}: {result[key]}")
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    ok = drained and not (result["lost"] or result["failed"] or result["waktu_mismatch"] or result["out_of_order"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
