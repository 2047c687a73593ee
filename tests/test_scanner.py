"""A scanner no one here wrote: wapiti3 (OWASP-style: SQL and blind SQL injection, reflected and stored XSS, CRLF,
open redirect, path traversal, command execution, and the CSP, cookie-flag and security-header checks) against the
running web app, signed in as each role and signed out, all at once and bounded in time.

The app runs as a real gunicorn process (tests/app_process.py) on PostgreSQL with the demo's one user per role;
each role signs in through the real form (CSRF token included) and wapiti scans with that session cookie. It never
signs out, never opens a TV token or a live stream, and never posts a password or code form (sign-in, password,
authenticator): that would end its session or feed the sign-in throttle. Every finding (a vulnerability or an
anomaly such as a 500) is either fixed or listed with its reason in ``tests/scanner_accepted.json``; any other
fails the test. wapiti lives in its own virtualenv (``.venv-scan``, made by ``make test``): its pins clash with ours.
Dash callbacks (JSON bodies wapiti cannot find by crawling) are covered by tests/test_access_matrix.py instead.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from auth.demo_accounts import DEMO_USERS
from domain.roles import ROLES
from tests.app_process import ROOT, WebAppProcess
from tests.fixtures_app import CSRF, PantauApp, build_app, make_settings
from tests.test_browser_console import pages_for

pytestmark = [pytest.mark.services, pytest.mark.scanner, pytest.mark.slow]

WAPITI = Path(os.environ.get("PANTAU_WAPITI", ROOT / ".venv-scan" / "bin" / "wapiti"))
# wapiti keeps its crawl in SQLite and writes it from several connections at once. With SQLite's default 5 s wait
# for a lock, one CI run's scan died of "database is locked" on the loaded machine; with a longer wait, scans still
# died of it now and then: in the default rollback journal a reader that goes on to write deadlocks with another
# writer, and SQLite answers that at once, whatever the wait. In WAL mode readers never block the writer. Same
# wapiti, its store in WAL mode with a longer wait.
SQLITE_LOCK_WAIT = 120  # seconds
SCANNER_LOCKED = b"database is locked"  # what wapiti dies of when its own store's connections deadlock
RUN_WAPITI = f"""
import sqlite3, sys
connect = sqlite3.connect
def wal_connect(*args, **kwargs):
    kwargs.setdefault("timeout", {SQLITE_LOCK_WAIT})
    connection = connect(*args, **kwargs)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection
sqlite3.connect = wal_connect
from wapitiCore.main.wapiti import wapiti_asyncio_wrapper
sys.exit(wapiti_asyncio_wrapper())
"""
ACCEPTED = Path(__file__).with_name("scanner_accepted.json")
ANONYMOUS = "anonymous"
MODULES = "sql,timesql,xss,permanentxss,crlf,redirect,file,exec,csp,cookieflags,http_headers"
# wapiti's --max-scan-time bounds its crawl, --max-attack-time each attack module: the scans (side by side) end
# within CRAWL_SECONDS + ATTACK_SECONDS per module, plus wapiti's own start, reports and lock waits. On a quiet
# machine the whole test takes about 80 s; under the full parallel suite one scan once needed more than 180 s.
CRAWL_SECONDS = 40
ATTACK_SECONDS = 10
SCAN_DEADLINE = CRAWL_SECONDS + ATTACK_SECONDS * len(MODULES.split(",")) + 120
REQUEST_TIMEOUT = 10  # seconds per request: timesql waits this long for a sleep it injected
DEPTH = 4  # links from a start address: each sign-in form answer carries a new CSRF token, a new "page" to crawl
USERNAME = {role: username for username, _, role in DEMO_USERS}
# Never requested: signing out, a TV's token sign-in, endless live streams, and the forms that take a password or
# code (a wrong one feeds the sign-in throttle); Dash's bundled scripts and the assets have no parameters.
EXCLUDED = ("/logout*", "/tv/*", "/stream/*", "/akun/*", "/login/*", "/_dash-component-suites/*", "/assets/*")
# Addresses with parameters a crawler of a Dash app cannot find in its (script-drawn) pages.
SCAN_FREE_ATTEMPTS = 1_000_000  # wrong sign-ins before the throttle's first wait: more than any scan makes
START_PATHS = ("/lang/en?next=/", "/lang/id?next=/", "/antrean/status?kode=ABC123")


@dataclass(frozen=True)
class Finding:
    """One entry of a wapiti report: a vulnerability or an anomaly."""

    category: str
    method: str
    path: str
    parameter: str
    info: str
    who: str

    def accepted_by(self, rule: dict) -> bool:
        return (
            rule["category"] == self.category
            and rule.get("path", "*") in ("*", self.path)
            and re.search(rule["info"], self.info) is not None
        )


@pytest.fixture
def scanned_app(tmp_path, postgres_server, postgres_template, redis_url, mqtt_url) -> Iterator[tuple[str, PantauApp]]:
    """(address, app): the production stack's web process on a fresh database seeded with one user per role."""
    if not WAPITI.exists():
        pytest.skip(f"wapiti is not installed at {WAPITI} (make test installs it)")
    database = postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}", template=postgres_template.name)
    # No TOTP step, and no sign-in throttle: the anonymous scan posts the sign-in form thousands of times with wrong
    # passwords, and a throttle's waits answer 429 by the clock, not by the request. wapiti's blind SQL test reads
    # a "true" payload answered before a wait and a "false" one inside it as an injection (once: `next` on /login).
    # The throttle has its own tests (tests/test_throttle.py, tests/test_auth_http.py).
    settings = make_settings(
        tmp_path, database, redis_url, mqtt_url, mfa_required_roles="", lockout_attempts=SCAN_FREE_ATTEMPTS
    )
    pantau = build_app(settings)
    with WebAppProcess(settings) as web:
        yield web.url, pantau
    pantau.runtime.close()


def session_cookie(url: str, pantau: PantauApp, role: str) -> str:
    """The session cookie of ``role`` signed in through the real sign-in form (a display by its TV address)."""
    http = requests.Session()
    if role == "display":
        answer = http.get(f"{url}/tv/{pantau.creds.display_token}", allow_redirects=False, timeout=30)
    else:
        form = http.get(f"{url}/login", timeout=30).text
        match = CSRF.search(form)
        assert match, "no CSRF token on the sign-in form"
        fields = {"username": USERNAME[role], "password": pantau.creds.password, "next": "/"}
        answer = http.post(
            f"{url}/login", data=fields | {"csrf_token": match.group(1) or match.group(2)}, allow_redirects=False
        )
    assert answer.status_code == 302, f"{role} could not sign in: {answer.status_code}"
    return http.cookies["pantau_session"]


def still_signed_in(url: str, cookie: str) -> bool:
    answer = requests.get(f"{url}/stream/session", cookies={"pantau_session": cookie}, timeout=30)
    return answer.status_code == 200


def wapiti_command(url: str, who: str, cookie: str | None, out: Path) -> list[str]:
    paths = ["/login", "/login?next=/"] if cookie is None else [path for _, path in pages_for(who)]
    command = [
        str(WAPITI.with_name("python")), "-c", RUN_WAPITI, "-u", f"{url}/", "--scope", "folder", "-m", MODULES,
        "--max-scan-time", str(CRAWL_SECONDS), "--max-attack-time", str(ATTACK_SECONDS), "-t", str(REQUEST_TIMEOUT),
        "-d", str(DEPTH), "--skip", "csrf_token",
        "-f", "json", "-o", str(out / "report.json"), "--store-session", str(out / "session"),
        "--store-config", str(out / "config"), "--flush-session", "--no-bugreport", "-v", "1",
    ]  # fmt: skip
    for path in [*paths, *START_PATHS]:
        command += ["-s", f"{url}{path}"]
    for pattern in EXCLUDED:
        command += ["-x", f"{url}{pattern}"]
    if cookie is not None:
        command += ["-C", f"pantau_session={cookie}"]
    return command


def findings(report: dict, who: str) -> list[Finding]:
    return [
        Finding(category, item["method"], item["path"], item.get("parameter") or "", item["info"], who)
        for section in ("vulnerabilities", "anomalies")
        for category, items in report[section].items()
        for item in items
    ]


def start_scan(url: str, who: str, cookie: str | None, out: Path) -> subprocess.Popen:
    return start_logged(wapiti_command(url, who, cookie, out), out)


def start_logged(command: list[str], out: Path) -> subprocess.Popen:
    """``command`` running, its output appended to ``out/wapiti.log``."""
    with (out / "wapiti.log").open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=log)


def finish_scan(
    process: subprocess.Popen, out: Path, again: Callable[[], subprocess.Popen], deadline: float
) -> tuple[int, subprocess.Popen]:
    """Wait for a scan (until ``deadline``, ``time.monotonic()``); one that died of wapiti's own store deadlocking
    between its connections (a crash of the scanner, not a finding: twice on the loaded CI machine, with the
    longer lock wait too) runs once more, whole, from ``again()``. Its exit status, and the process that gave it."""
    status = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    if status != 0 and SCANNER_LOCKED in (out / "wapiti.log").read_bytes():
        process = again()
        status = process.wait(timeout=SCAN_DEADLINE)
    return status, process


@pytest.mark.timeout(2 * SCAN_DEADLINE + 90)  # the scans (one of them again), and starting and stopping the app
def test_wapiti_finds_nothing_unaccepted_for_any_role_or_signed_out(scanned_app, tmp_path):
    url, pantau = scanned_app
    cookies = {role: session_cookie(url, pantau, role) for role in ROLES} | {ANONYMOUS: None}
    scans = {}
    for who, cookie in cookies.items():  # side by side: the scans mostly wait on the app
        out = tmp_path / f"scan-{who}"
        out.mkdir()
        scans[who] = (out, start_scan(url, who, cookie, out))
    deadline = time.monotonic() + SCAN_DEADLINE
    try:
        for who, (out, process) in list(scans.items()):
            again = functools.partial(start_scan, url, who, cookies[who], out)
            status, process = finish_scan(process, out, again, deadline)
            scans[who] = (out, process)  # the one to stop if it is still running
            assert status == 0, (out / "wapiti.log").read_text(errors="replace")[-3000:]
    finally:
        for _, process in scans.values():
            if process.poll() is None:  # past its bound: the test fails, and nothing is left running
                process.kill()
                process.wait()

    found: list[Finding] = []
    for who, (out, _) in scans.items():
        report = json.loads((out / "report.json").read_text())
        assert report["infos"]["crawled_pages_nbr"] >= 3, f"{who}: wapiti crawled almost nothing"
        found += findings(report, who)
    rules = json.loads(ACCEPTED.read_text())
    assert all(rule.get("reason") for rule in rules), "every accepted finding needs its reason"
    unaccepted = [f for f in found if not any(f.accepted_by(rule) for rule in rules)]
    assert unaccepted == [], "\n".join(map(str, unaccepted))
    signed_out = [role for role in ROLES if not still_signed_in(url, cookies[role])]
    assert signed_out == [], "the scan must run signed in from start to end"


def _fake_scan(out: Path, exit_code: int, says: str) -> Callable[[], subprocess.Popen]:
    """A stand-in for wapiti that writes ``says`` to the scan's log and exits with ``exit_code``."""
    code = f"import sys; sys.stderr.write({says!r}); sys.exit({exit_code})"
    return functools.partial(start_logged, [sys.executable, "-c", code], out)


@pytest.mark.parametrize(
    ("first", "second", "status", "runs"),
    [
        ((1, "sqlite3.OperationalError: database is locked"), (0, "report written"), 0, 2),  # the crash, once more
        ((1, "sqlite3.OperationalError: database is locked"), (1, "database is locked"), 1, 2),  # twice: it fails
        ((1, "Traceback: something else"), (0, "never started"), 1, 1),  # any other failure is not retried
        ((0, "report written"), (0, "never started"), 0, 1),
    ],
)
def test_a_scan_that_died_of_its_own_lock_runs_once_more_and_only_then(tmp_path, first, second, status, runs):
    started: list[subprocess.Popen] = []

    def again() -> subprocess.Popen:
        started.append(_fake_scan(tmp_path, *second)())
        return started[-1]

    scan = _fake_scan(tmp_path, *first)()
    got, process = finish_scan(scan, tmp_path, again, time.monotonic() + 30)
    assert got == status and 1 + len(started) == runs
    assert process is (started[-1] if started else scan) and process.poll() == status  # the one that gave it


def test_a_next_address_with_a_line_break_goes_home(client, login):
    """Found by the scanner's CRLF and exec payloads: a line break in ``next`` made the redirect a 500."""
    assert client.get("/login?next=/%0Aenv;").status_code == 200
    assert client.get("/lang/id?next=/%0D%0ASet-Cookie:x=1").location == "/"
    assert login("nurse").get("/lang/en?next=/bangsal%0A").location == "/"
