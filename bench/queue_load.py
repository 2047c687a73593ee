"""Registration desk under load: many front-desk clients registering patients at once through the real HTTP path.

Starts a durable PostgreSQL (fsync on) and Redis the way the test suite does (or uses ``PANTAU_DATABASE_URL`` /
``PANTAU_REDIS_URL`` when they are set), migrates, seeds the demo (polis, doctors, today's sessions, whose quotas
are raised for the run), adds ``--registrations`` patients (most with a BPJS card and NIK, registered as JKN
with a referral number) and one front-desk user per client, then runs the real web app
(``gunicorn --config gunicorn.conf.py app:server``: workers × threads as in production unless ``--workers`` /
``--threads`` say otherwise).

``--clients`` threads each sign in through the ``/login`` form with their own user and then, all starting at
once, take patients from a shared list and register each into one of today's sessions by posting the
registration page's own Dash callback (``/_dash-update-component``, read from ``/_dash-dependencies``) — what
the browser sends when the clerk presses "Daftarkan" (over a keep-alive connection of its own that keeps the
session cookie, ``bench/_desk_client.py``, light because the clients share the machine they measure). By default
each client works as fast as the server answers (closed loop: a stress test); ``--rate R`` offers R registrations
per second in all instead (open loop, latency counted from when each registration was due, so a slow server
cannot hide its queue). ``--screens N`` keeps N live screens open through the run, half TV boards and half ward
stations, on the stream server (``python -m streams``) started beside gunicorn as in production (``Screens``).

Printed: ``registrations`` (posted), ``errors`` (HTTP errors, refusals, failed sign-ins), ``duplicate_numbers``
(tickets in the database sharing one point + day + number, checked afterwards), ``p50_ms`` / ``p95_ms`` of the register
request, ``per_s`` (registrations per second over the run) and with ``--screens``: ``screens_connected`` (streams
that got their snapshot), ``screen_events`` (what they received after it, heartbeats aside),
``screens_updated`` / ``every_screen_updated``, the stream server's memory (``streams_rss_mb``,
``kb_per_screen``), its share of a core (``streams_cpu_share``) and that of the bench's own screens
(``screen_clients_cpu_share``). ``--json`` prints one JSON object last.
Usage: ``python bench/queue_load.py --registrations 1000 --clients 100 [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import resource
import runpy
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from domain.actor import Actor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import select, text, update  # noqa: E402

from auth import users  # noqa: E402
from auth.demo_accounts import seed_demo  # noqa: E402
from auth.passwords import hash_password  # noqa: E402
from bench._desk_client import ClientError, DeskClient  # noqa: E402
from bench._proc_cpu import PhaseCpu, own_pid, tree_cpu_seconds  # noqa: E402
from config import load_settings  # noqa: E402
from data import patients  # noqa: E402
from data.migrate import upgrade  # noqa: E402
from data.models import ClinicSession, Poli, Site  # noqa: E402
from data.runtime import build_runtime  # noqa: E402
from data.schedules import ensure_sessions, local_today  # noqa: E402
from domain.age_range import AgeRange, age_years  # noqa: E402
from domain.clock import utcnow  # noqa: E402
from testkit.servers import PostgresServer, RedisServer, free_port, wait_for_port  # noqa: E402

PASSWORD = "bench-only-password-1"  # bench value
JKN_SHARE = 0.7  # about seven in ten outpatients come with JKN
REGISTER_INPUT = "reg-submit.n_clicks"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Work:
    patient_id: int
    name: str
    jkn: bool
    session_id: int


@dataclass(frozen=True)
class Prepared:
    work: list[Work]
    usernames: list[str]
    display_token: str
    boards: list[str]


def _letters(n: int) -> str:
    """``n`` spelt in letters (0 → "Aaa", 1 → "Aab", …): a patient's name may hold no digits."""
    return "".join(chr(ord("a") + n // 26**k % 26) for k in (2, 1, 0)).capitalize()


def prepare(settings, registrations: int, clients: int) -> Prepared:
    """Demo seed, today's sessions with room for everyone, the patients and the front-desk users."""
    upgrade(settings.database_url)
    runtime = build_runtime(settings)
    try:
        with runtime.db.session() as s:
            creds = seed_demo(s, settings)
        with runtime.db.session() as s:
            site_id = s.scalar(select(Site.id).where(Site.code == settings.site_code))
            today = local_today(s, site_id, utcnow())
            ensure_sessions(s, site_id, today)
            s.execute(
                update(ClinicSession)
                .where(ClinicSession.site_id == site_id, ClinicSession.service_date == today)
                .values(quota_jkn=registrations, quota_non_jkn=registrations)
            )
            sessions = s.execute(
                select(ClinicSession.id, Poli.age_min_years, Poli.age_max_years)
                .join(Poli, Poli.id == ClinicSession.poli_id)
                .where(
                    ClinicSession.site_id == site_id,
                    ClinicSession.service_date == today,
                    ClinicSession.ends_at > utcnow(),
                )
            ).all()
            if not sessions:
                raise SystemExit("no session of today is open: run the bench during the demo's practice hours")
            work = []
            for n in range(registrations):
                jkn = (n * 7) % 10 < JKN_SHARE * 10
                born = date(1950 + n % 60, n % 12 + 1, n % 28 + 1)
                # a clerk books a poli that serves the patient's age (no adult at Poli Anak, so no age warning)
                fitting = [sid for sid, low, high in sessions if AgeRange(low, high).admits(age_years(born, today))]
                patient = patients.create_patient(
                    s,
                    runtime.cipher,
                    site_id=site_id,
                    mrn=f"LOAD-{n:06d}",
                    name=f"Pasien Beban {_letters(n)}",
                    birth_date=born,
                    sex="LP"[n % 2],
                    nik=f"99{n:014d}" if jkn else None,
                    bpjs=f"9999{n:09d}" if jkn else None,
                    phone=f"08120000{n % 10_000:04d}",
                )
                patient.is_demo = True
                work.append(Work(patient.id, patient.name, jkn, fitting[n % len(fitting)]))
            shared_hash = hash_password(PASSWORD)
            usernames = [f"loketbeban{n:03d}" for n in range(clients)]
            for username in usernames:
                users.create_user(
                    s,
                    Actor(None, "bench", site_id),
                    site_id=site_id,
                    username=username,
                    full_name=f"Petugas Loket Beban {username[-3:]}",
                    roles=["front_desk"],
                    password=PASSWORD,
                    must_change_password=False,
                    password_hash=shared_hash,
                )
            boards = sorted(set(s.scalars(select(Poli.board_group).where(Poli.site_id == site_id, Poli.active))))
    finally:
        runtime.close()
    return Prepared(work, usernames, creds.display_token, boards)


@contextlib.contextmanager
def web_server(settings, workers: int, threads: int, var_dir: Path):
    """``gunicorn app:server`` on a free port with the bench's ``PANTAU_*`` settings, as (its URL, the master's pid);
    stopped with SIGTERM."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    env.update(
        PANTAU_ENV="test",
        PANTAU_DATABASE_URL=settings.database_url,
        PANTAU_REDIS_URL=settings.redis_url,
        PANTAU_VAR_DIR=str(var_dir),
        PANTAU_LOG_LEVEL="WARNING",
        PANTAU_LOGIN_RATE_LIMIT="100000 per minute",  # one machine signs in every client
        PANTAU_SIMULATE="false",
    )
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", str(threads), "--log-level", "warning", "app:server"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


class SignInFailed(Exception):
    """The sign-in page or form did not answer as it should (the kind: an HTTP status)."""


def sign_in(base: str, username: str) -> requests.Session:
    """The ``/login`` form, as a browser (and tests/fixtures_app.login) sends it."""
    client = requests.Session()
    page = client.get(f"{base}/login?next=/pendaftaran", timeout=60)
    token = CSRF.search(page.text)
    if page.status_code != 200 or token is None:
        raise SignInFailed(f"sign-in page HTTP {page.status_code}")
    answer = client.post(
        f"{base}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/pendaftaran"},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
        raise SignInFailed(f"sign-in HTTP {answer.status_code}")
    return client


def register_callback(client: requests.Session, base: str) -> dict:
    """The registration page's "register" callback as Dash declares it (outputs, input and states)."""
    for callback in client.get(f"{base}/_dash-dependencies", timeout=60).json():
        if any(f"{i['id']}.{i['property']}" == REGISTER_INPUT for i in callback["inputs"]):
            return callback
    raise SystemExit(f"no callback with input {REGISTER_INPUT}: is the registration page there?")


def register_once(client: DeskClient, callback: dict, item: Work) -> tuple[bool, str]:
    """Post one registration exactly as the page does; True with the alert's colour when it was accepted."""
    patient = {"id": item.patient_id, "mrn": "", "name": item.name, "birth_date": "1970-01-01", "sex": "L"}
    patient["has_bpjs"] = item.jkn
    state_values = {
        "reg-patient.data": patient,
        "reg-session.value": item.session_id,
        "reg-payer.value": "jkn" if item.jkn else "non_jkn",
        "reg-referral.value": f"DEMO{item.patient_id:010d}" if item.jkn else "",
        "reg-admission.value": None,
        "reg-version.data": 0,
    }
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True)) for o in _outputs(callback["output"])]
    body = {
        "output": callback["output"],
        "outputs": outputs,
        "inputs": [  # the button pressed, and every other input of the callback as the page has it (unset)
            {**i, "value": 1 if f"{i['id']}.{i['property']}" == REGISTER_INPUT else None} for i in callback["inputs"]
        ],
        "changedPropIds": [REGISTER_INPUT],
        "state": [
            {"id": s["id"], "property": s["property"], "value": state_values[f"{s['id']}.{s['property']}"]}
            for s in callback["state"]
        ],
    }
    status, answer = client.post_json("/_dash-update-component", body)
    if status != 200:
        return False, f"HTTP {status}"
    feedback = answer["response"]["reg-feedback"]["children"]
    colour = (feedback or {}).get("props", {}).get("color", "")
    return colour == "success", colour


def _outputs(output: str) -> list[str]:
    """``..a.children...b.data..`` → ``["a.children", "b.data"]``."""
    return [part for part in output.strip(".").split("...") if part]


class Screens:
    """``count`` live screens held open through the run, as a hospital's lobby TVs and ward stations are: half TV
    boards (of the polis open today, which take the registrations), half ward stations, all signed in with the
    display token (``/tv/<token>``) and reading their server-sent events from the stream server, started beside
    gunicorn as in production (``python -m streams``: the proxy's ``/stream/*``). The screens share one asyncio
    loop in a process of their own (a thread of this one would take the GIL from the desks' clients and add to
    the latencies measured), so the bench needs no thread per screen either. Once all are open each ward gets a
    numbered tick a second, as the consumer publishes; the boards get the registrations' queue events.

    A screen has its updates when a ward station received every tick, or a board every update any screen of the
    same board received (a coalesced read goes to all of them); ``__exit__`` lets the last ones arrive first."""

    TICK_SECONDS = 1.0
    SETTLE_SECONDS = 2.0  # after the last registration: the last coalesced read reaches every board
    OPENING_AT_ONCE = 50

    def __init__(self, base: str, settings, var_dir: Path, token: str, boards: list[str], count: int) -> None:
        self.base, self.settings, self.var_dir, self.token, self.count = base, settings, var_dir, token, count
        self.screens: list[tuple[str, str]] = self._layout(boards) if count else []
        self.connected: set[int] = set()
        self.received: Counter = Counter()  # screen -> ticks (ward) or updates (board)
        self.events = 0
        self.ticks = 0
        self.rss_kb: list[int] = []  # the stream server's resident memory: before the screens, with them
        self.frozen: tuple | None = None
        self.cpu: list[float] = []  # the stream server's CPU seconds and the clock, then what they grew by
        self.process: subprocess.Popen | None = None
        self.tasks: list[asyncio.Task] = []
        self.client: multiprocessing.Process | None = None
        self.pipe = None

    def _layout(self, boards: list[str]) -> list[tuple[str, str]]:
        """(kind, stream path) of each screen: boards and wards in turn."""
        from data.models import Ward

        runtime = build_runtime(self.settings)
        try:
            with runtime.db.session() as s:
                site_id = s.scalar(select(Site.id).where(Site.code == self.settings.site_code))
                today = local_today(s, site_id, utcnow())
                open_groups = set(
                    s.scalars(
                        select(Poli.board_group)
                        .join(ClinicSession, ClinicSession.poli_id == Poli.id)
                        .where(ClinicSession.service_date == today, ClinicSession.ends_at > utcnow())
                    )
                )
                wards = sorted(s.scalars(select(Ward.code).where(Ward.site_id == site_id)))
        finally:
            runtime.close()
        kinds = [("board", f"/stream/queue/{b}") for b in boards if b in open_groups]
        kinds = [kinds, [("ward", f"/stream/ward/{w}") for w in wards]]
        return [kinds[n % 2][n // 2 % len(kinds[n % 2])] for n in range(self.count)]

    def __enter__(self) -> Screens:
        if not self.count:
            return self
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 4 * self.count + 1024  # the screens' sockets here and in the stream server, which inherits it
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
        env.update(
            PANTAU_ENV="test",
            PANTAU_DATABASE_URL=self.settings.database_url,
            PANTAU_REDIS_URL=self.settings.redis_url,
            PANTAU_VAR_DIR=str(self.var_dir),
            PANTAU_LOG_LEVEL="WARNING",
            PANTAU_STREAMS_BIND=f"127.0.0.1:{port}",
            PANTAU_STREAMS_PER_USER=str(self.count),  # one display account watches every screen of the bench
            PANTAU_STREAMS_PER_ADDRESS=str(self.count),
        )
        self.process = subprocess.Popen([sys.executable, "-m", "streams"], cwd=ROOT, env=env)
        wait_for_port("127.0.0.1", port, timeout=60)
        self.rss_kb.append(self._rss_kb())
        cookie = requests.get(f"{self.base}/tv/{self.token}", allow_redirects=False, timeout=60).cookies
        started = time.monotonic()
        self.pipe, theirs = multiprocessing.Pipe()
        args = (theirs, port, cookie["pantau_session"])
        self.client = multiprocessing.get_context("fork").Process(target=self._client, args=args, daemon=True)
        self.client.start()
        connected = self.pipe.recv()
        self.rss_kb.append(self._rss_kb())
        self.cpu = [tree_cpu_seconds([self.process.pid]), time.monotonic()]
        _log(f"{connected} of {self.count} screens open in {time.monotonic() - started:.1f} s")
        return self

    def _client(self, pipe, port: int, cookie: str) -> None:
        """The screens' process: open them all, tick the wards until told to stop, then say what arrived."""

        async def run() -> None:
            await self._open_all(port, cookie)
            pipe.send(len(self.connected))
            began = time.process_time(), time.monotonic()
            ticks = asyncio.ensure_future(self._tick())
            await asyncio.to_thread(pipe.recv)
            ticks.cancel()
            await asyncio.sleep(self.SETTLE_SECONDS)
            share = (time.process_time() - began[0]) / (time.monotonic() - began[1])
            pipe.send((dict(self.received), self.ticks, self.events, len(self.connected), share))
            await self._close_all()

        asyncio.run(run())

    async def _open_all(self, port: int, cookie: str) -> None:
        gate = asyncio.Semaphore(self.OPENING_AT_ONCE)
        for n in range(self.count):
            await gate.acquire()
            ready = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(self._watch(n, port, cookie, ready))
            task.add_done_callback(lambda _t, f=ready: f.done() or f.set_result(None))
            ready.add_done_callback(lambda _f: gate.release())
            self.tasks.append(task)
        deadline = time.monotonic() + 120
        while len(self.connected) < self.count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    async def _watch(self, n: int, port: int, cookie: str, ready: asyncio.Future) -> None:
        """One screen: its stream read line by line until the bench stops it."""
        kind, path = self.screens[n]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: pantau_session="
            writer.write(f"{head}{cookie}\r\n\r\n".encode())
            status = await reader.readline()
            if b" 200 " not in status:
                _log(f"screen {n} ({path}) refused: {status.decode().strip()}")
                return
            event = None
            while line := await reader.readline():
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                elif line.startswith(b"data: "):
                    self._heard(n, kind, event, line)
                    if event == b"snapshot" and not ready.done():
                        ready.set_result(None)
                    event = None
            _log(f"screen {n} ({path}) ended")
        except OSError as err:
            _log(f"screen {n} ({path}) failed: {type(err).__name__}")
        finally:
            writer.close()

    def _heard(self, n: int, kind: str, event: bytes | None, line: bytes) -> None:
        if event == b"snapshot":
            self.connected.add(n)
        elif event != b"heartbeat":
            self.events += 1
            if (kind, event) == ("board", b"update") or (kind == "ward" and b'"t":"bench"' in line):
                self.received[n] += 1

    async def _tick(self) -> None:
        from data import live_keys
        from data.live_store import open_live_store

        live = open_live_store(self.settings.redis_url)
        wards = sorted({path.rsplit("/", 1)[1] for kind, path in self.screens if kind == "ward"})
        while True:
            for ward in wards:
                await asyncio.to_thread(live.publish, live_keys.ward_channel(ward), f'{{"t":"bench","n":{self.ticks}}}')
            self.ticks += 1
            await asyncio.sleep(self.TICK_SECONDS)

    async def _close_all(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def _rss_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))

    def __exit__(self, *_exc: object) -> None:
        if not self.count:
            return
        self.pipe.send("stop")
        self.frozen = self.pipe.recv()
        self.cpu = [tree_cpu_seconds([self.process.pid]) - self.cpu[0], time.monotonic() - self.cpu[1]]
        self.client.join(timeout=60)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def figures(self) -> dict:
        """``screens_connected``, ``screen_events`` and whether every screen received its updates."""
        if not self.count:
            return {"screens_connected": 0, "screen_events": 0}
        received, ticks, events, connected, clients_cpu = self.frozen
        best: Counter = Counter()
        for n, (kind, path) in enumerate(self.screens):
            if kind == "board":
                best[path] = max(best[path], received.get(n, 0))
        expected = [ticks if kind == "ward" else best[path] for kind, path in self.screens]
        updated = sum(received.get(n, 0) >= want for n, want in enumerate(expected))
        return {
            "screens_connected": connected,
            "screen_events": events,
            "screens_updated": updated,
            "every_screen_updated": updated == self.count and connected == self.count,
            "streams_rss_mb": round(self.rss_kb[-1] / 1024, 1),
            "kb_per_screen": round((self.rss_kb[-1] - self.rss_kb[0]) / self.count, 1),
            "streams_cpu_share": round(self.cpu[0] / self.cpu[1], 2),  # of one core, from all open to the end
            "screen_clients_cpu_share": round(clients_cpu, 2),  # the bench's own screens, the same way
        }


def run_clients(
    base: str, usernames: list[str], work: list[Work], rate: float | None, on_start=lambda: None
) -> tuple[list[float], Counter, float]:
    """Sign every client in, then (``on_start()`` called) let them register ``work``: latencies, outcomes by kind
    and the seconds the registrations took."""
    _log(f"signing in {len(usernames)} front-desk clients")
    signed_in: list[requests.Session | None] = [None] * len(usernames)
    outcomes: Counter = Counter()  # a client that cannot sign in is an error; the others share its patients
    lock = threading.Lock()

    def login(n: int) -> None:
        try:
            signed_in[n] = sign_in(base, usernames[n])
        except (SignInFailed, requests.RequestException) as err:
            with lock:
                outcomes[str(err) if isinstance(err, SignInFailed) else f"sign-in {type(err).__name__}"] += 1

    pool = [threading.Thread(target=login, args=(n,)) for n in range(len(usernames))]
    for start in range(0, len(pool), 8):  # eight at a time: each sign-in is an Argon2 verification
        for thread in pool[start : start + 8]:
            thread.start()
        for thread in pool[start : start + 8]:
            thread.join()
    sessions = [client for client in signed_in if client is not None]
    if not sessions:
        raise SystemExit(f"no client could sign in: {dict(outcomes)}")
    callback = register_callback(sessions[0], base)
    desks = [DeskClient(base, session.cookies.get_dict(), timeout=120) for session in sessions]
    queue = list(reversed(list(enumerate(work))))
    latencies: list[float] = []
    barrier = threading.Barrier(len(sessions) + 1)
    started = [0.0]

    def client(desk: DeskClient) -> None:
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    return
                n, item = queue.pop()
            began = time.perf_counter()
            if rate:  # open loop: the n-th registration is due at n / rate; late sends count from the due time
                due = started[0] + n / rate
                time.sleep(max(0.0, due - began))
                began = due
            try:
                ok, detail = register_once(desk, callback, item)
            except ClientError as err:  # the kind and the reason (no patient data in either)
                ok, detail = False, f"{type(err).__name__}: {str(err)[-160:]}"
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                outcomes["ok" if ok else detail] += 1

    threads = [threading.Thread(target=client, args=(desk,)) for desk in desks]
    for thread in threads:
        thread.start()
    _log(f"registering {len(work)} patients with {len(sessions)} clients at once")
    on_start()
    started[0] = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started[0]
    for desk in desks:
        desk.close()
    return latencies, outcomes, elapsed


class RegistrationCpu:
    """CPU of the web workers, PostgreSQL, Redis (their process trees) and this bench's clients over the
    registrations (with ``--screens``, the stream server's and the screens' share is in none of them)."""

    def __init__(self, **services: list[int]) -> None:
        self.services = PhaseCpu(services)
        self._clients = 0.0

    def start(self) -> None:
        self.services.start()
        self._clients = _own_cpu_seconds()

    def ms_each(self, registrations: int) -> dict[str, float]:
        """Milliseconds of CPU per registration, by service and in all (``machine``)."""
        used = {**self.services.used(), "clients": _own_cpu_seconds() - self._clients}
        each = {name: round(1000 * seconds / max(registrations, 1), 2) for name, seconds in used.items()}
        return {**each, "machine": round(sum(each.values()), 2)}


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def check_database(database_url: str) -> tuple[int, int]:
    """(tickets that share point + day + number with another, visits registered today by the bench)."""
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            duplicates = conn.execute(
                text(
                    "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM queue_ticket "
                    "GROUP BY site_id, point, service_date, number HAVING count(*) > 1) AS d"
                )
            ).scalar_one()
            visits = conn.execute(
                text("SELECT count(*) FROM visit JOIN patient ON patient.id = visit.patient_id WHERE mrn LIKE 'LOAD-%'")
            ).scalar_one()
    finally:
        engine.dispose()
    return int(duplicates), int(visits)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=100)
    production = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    parser.add_argument("--workers", type=int, default=production["workers"], help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=production["threads"], help="threads per worker")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="offered load in registrations/s (open loop); default: every client as fast as the server answers",
    )
    parser.add_argument(
        "--screens",
        type=int,
        default=0,
        help="live screens held open during the run, half TV boards and half ward stations, on the stream server",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()

    given = load_settings().model_fields_set
    with contextlib.ExitStack() as stack:
        env = load_settings()
        postgres = None if "database_url" in given else stack.enter_context(PostgresServer(fast=False))
        redis_server = None if "redis_url" in given else stack.enter_context(RedisServer())
        database_url = postgres.url if postgres else env.database_url
        redis_url = redis_server.url if redis_server else env.redis_url
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pantau-queue-load-")))
        settings = load_settings(
            env="test", database_url=database_url, redis_url=redis_url, var_dir=var_dir, demo_password=PASSWORD
        )
        _log(f"services: postgres (durable) {database_url.split('@')[-1]}, redis {redis_url.split('@')[-1]}")
        prepared = prepare(settings, args.registrations, args.clients)
        base, web_pid = stack.enter_context(web_server(settings, args.workers, args.threads, var_dir))
        _log(f"web: gunicorn app:server, {args.workers} workers × {args.threads} threads at {base}")
        screens = stack.enter_context(
            Screens(base, settings, var_dir, prepared.display_token, prepared.boards, args.screens)
        )
        cpu = RegistrationCpu(web=[web_pid], postgres=own_pid(postgres), redis=own_pid(redis_server))
        latencies, outcomes, elapsed = run_clients(base, prepared.usernames, prepared.work, args.rate, cpu.start)
        cpu_ms = cpu.ms_each(len(latencies))
        duplicates, stored = check_database(database_url)
    errors = sum(n for key, n in outcomes.items() if key != "ok")
    figures = {
        "registrations": len(latencies),
        "errors": errors,
        "duplicate_numbers": duplicates,
        "stored": stored,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "per_s": round(len(latencies) / elapsed, 1),
        "clients": args.clients,
        "offered_per_s": args.rate,
        "workers": args.workers,
        "threads": args.threads,
        "screens": args.screens,
        "cpu_ms_per_registration": cpu_ms,
        **screens.figures(),
    }
    if errors:
        _log(f"errors by kind: {dict(outcomes - Counter(ok=outcomes['ok']))}")
    for key, value in figures.items():
        print(f"{key:>18}: {value}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
