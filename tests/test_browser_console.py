"""Every page, opened by every role allowed to see it, in a real browser: no console error, no failed callback
request (``/_dash-update-component`` answering ≥ 400) and no Dash error overlay once its callbacks have settled,
and, in the dark and the light theme, no serious or critical axe-core violation (``tests/axe.py``).

This is the test that would have caught the BPJS mapping page's 500 (a bare ``no_update`` returned for a
wildcard output) and the light theme's unreadable text. One browser context per role, its pages in sequence; the
pages outside Dash (sign-in, password, printouts, the patient's status page) are audited by a test of their own."""

from __future__ import annotations

import re
import uuid

import dash
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from auth.demo_accounts import DEMO_USERS
from bridge.bpjs.sandbox import create_sandbox
from bridge.bpjs_reference_pull import pull_reference
from bridge.embedded_stack import EmbeddedStack
from data.models import Site
from data.queue_registration import take_admission_ticket
from data.schedules import local_today
from domain.clock import utcnow
from testkit.callback_traffic import CALLBACK_URL, CallbackTraffic
from testkit.front_desk import call, register_waiting, site_of
from tests.axe import THEME_KEY, THEMES, audit, shown_theme, switch_theme
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve
from tests.test_browser_shell import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROLES = [role for _, _, role in DEMO_USERS]
USERNAMES = {role: username for username, _, role in DEMO_USERS}
# Real codes from the demo seed for the templated pages (/bed/<bed>, /bangsal/<ward>, /papan/<board>, /pasien/<mrn>).
TEMPLATE_VALUES = {"bed": "ICU-03", "ward": "ICU", "board": "umum", "mrn": "DEMO-00001"}
# Pages a role also opens beyond its registered paths: a TV's other board layout (no doctors, bigger lines) and the
# board chooser staff see at /papan.
# Dash's "not found" page draws only inside the app (its own address answers the server-rendered 404, audited below).
NOT_FOUND_PAGE = "pages.not_found_404"
EXTRA_PAGES = {"display": [("pages.board", "/papan/farmasi")], "front_desk": [("pages.board", "/papan")]}
# After a theme switch: switch_theme returns once the clientside callback has shown the theme, and the same update
# starts the charts' callbacks at once.
SWITCH_QUIET_S = 0.2
ERROR_OVERLAY = ".dash-fe-error__title, .dash-fe-error-top, .dash-debug-alert"


def _real_path(entry: dict) -> str:
    template = entry.get("path_template")
    if not template:
        return entry["path"]
    path = template
    for name, value in TEMPLATE_VALUES.items():
        path = path.replace(f"<{name}>", value)
    assert "<" not in path, f"no demo value for {template}: add one to TEMPLATE_VALUES"
    return path


def pages_for(role: str) -> list[tuple[str, str]]:
    """(module, real path) of every registered page ``role`` may open."""
    registered = [
        (e["module"], _real_path(e))
        for e in dash.page_registry.values()
        if role in e.get("roles", ()) and e["module"] != NOT_FOUND_PAGE
    ]
    return sorted(registered + EXTRA_PAGES.get(role, []))


class CallbackWatch(CallbackTraffic):
    """Counts the page's callback requests in flight and keeps every problem the browser reports."""

    def __init__(self, page) -> None:
        super().__init__(page)
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _failed(self, request) -> None:
        # ERR_ABORTED is the browser cancelling a request because the test moved on to the next page (a timer's
        # callback can start between "settled" and the navigation); a server that fails answers with a status.
        if CALLBACK_URL in request.url and request.failure != "net::ERR_ABORTED":
            self.problems.append(f"callback request failed: {request.failure}")

    def _response(self, response) -> None:
        if CALLBACK_URL in response.url and response.status >= 400:
            self.problems.append(f"callback answered {response.status}: {response.request.post_data[:300]}")


@pytest.fixture
def with_bpjs_reference(live_server):
    """The live server with BPJS's reference data pulled once from the sandbox, so that the mapping page draws
    its tables (and their wildcard callbacks) as in the demo."""
    _, pantau = live_server
    db = pantau.runtime.db
    with db.session() as session:
        site_id = session.scalar(select(Site.id))
        day = local_today(session, site_id, utcnow())
    with serve(create_sandbox(CONS_ID, SECRET, USER_KEY)) as url:
        assert pull_reference(db, client_for(url), site_id, day, utcnow()).ok
    return live_server


@pytest.mark.parametrize("role", ROLES)
def test_every_page_opens_without_a_callback_error(page, with_bpjs_reference, role):
    base, pantau = with_bpjs_reference
    watch = CallbackWatch(page)
    if role == "display":
        page.goto(f"{base}/tv/{pantau.creds.display_token}")  # a TV signs in by its token, not a password
    else:
        sign_in(page, base, USERNAMES[role])
    page.wait_for_url(lambda url: "/login" not in url)
    targets = pages_for(role)
    assert targets, f"no page allows {role}"
    failures: dict[str, list[str]] = {}
    for module, path in targets:
        watch.problems.clear()
        page.goto(f"{base}{path}")
        expect(page.locator("#react-entry-point")).not_to_be_empty()
        watch.settle(page)
        if page.locator(ERROR_OVERLAY).count():
            watch.problems.append("Dash error overlay shown")
        if "/login" in page.url:
            watch.problems.append("sent to the sign-in page")
        problems = list(watch.problems) + audit_both_themes(page, watch)
        if problems:
            failures[f"{module} {path}"] = problems
    assert not failures, f"{role}:\n" + "\n".join(
        f"{where}:\n  " + "\n  ".join(problems) for where, problems in failures.items()
    )


def audit_both_themes(page, watch: CallbackWatch) -> list[str]:
    """axe's findings on the open page in the theme it shows (every rule), then in the other one (the colour rules;
    the next page keeps that theme, so each page costs one switch); the callbacks a switch starts must settle
    without a problem as well."""
    findings = [f"{shown_theme(page)} theme: {v}" for v in audit(page)]
    watch.problems.clear()
    switch_theme(page)
    watch.settle(page, SWITCH_QUIET_S)
    findings += [f"after switching to {shown_theme(page)}: {p}" for p in watch.problems]
    return findings + [f"{shown_theme(page)} theme: {v}" for v in audit(page, colours_only=True)]


def test_pages_outside_dash_have_no_serious_accessibility_violation(page, live_server):
    """Sign-in, the password form, the printed tickets, the patient's status page (waiting, called, unknown code)
    and the error pages (404, 403), each with either stored theme choice; a page drawn in one theme whatever the
    choice (the printouts, the status page) is audited once."""

    base, pantau = live_server
    waiting = register_waiting(pantau, "Siti Aminah")
    called = register_waiting(pantau, "Bambang Sutrisno")
    call(pantau, called.ticket_id, "Poli Umum 1")
    with pantau.runtime.db.session() as session:
        admission, _ = take_admission_ticket(session, site_of(pantau), utcnow())
    public = [
        "/login",
        f"/antrean/status/{waiting.booking_code}",
        f"/antrean/status/{called.booking_code}",
        "/antrean/status/TIDAKADA99",
        "/tidak-ada-halaman-ini",  # Pantau's 404 page
    ]
    staff = [
        "/akun/kata-sandi",
        f"/antrean/tiket/{waiting.booking_code}",
        f"/antrean/tiket/{waiting.booking_code}?lebar=58",
        f"/antrean/tiket-loket/{admission.id}",
    ]
    failures: dict[str, list[str]] = {}

    def audit_pages(paths: list[str]) -> None:
        for path in paths:
            audited = set()
            for theme in THEMES:
                page.evaluate("([key, theme]) => window.localStorage.setItem(key, theme)", [THEME_KEY, theme])
                page.goto(f"{base}{path}")
                shown = shown_theme(page)
                if shown not in audited:
                    found = audit(page, colours_only=bool(audited))  # the second theme: its colours only
                    audited.add(shown)
                    failures.setdefault(path, []).extend(f"{shown} theme: {v}" for v in found)

    page.goto(f"{base}/login")
    audit_pages(public)
    sign_in(page, base, USERNAMES["front_desk"])
    page.wait_for_url(lambda url: "/login" not in url)
    audit_pages(staff)
    page.context.clear_cookies()
    sign_in(page, base, USERNAMES["nurse"])
    page.wait_for_url(lambda url: "/login" not in url)
    audit_pages([f"/antrean/tiket/{waiting.booking_code}"])  # Pantau's 403 page: a nurse prints no tickets
    failures = {path: found for path, found in failures.items() if found}
    assert not failures, "\n".join(f"{path}:\n  " + "\n  ".join(found) for path, found in failures.items())


def test_a_live_ward_in_alarm_has_no_serious_accessibility_violation(page, live_server):
    """What the every-page test cannot show on the ward screen, in both themes: live values and NEWS2 badges,
    a red alarm (arrest) and a yellow one (sepsis) on their tiles and in the alarm list, live tiles beside silent
    ones. Animations are stopped while axe looks (tests/axe.py)."""
    base, pantau = live_server
    tag = uuid.uuid4().hex[:8]
    stack = EmbeddedStack(
        pantau.runtime,
        simulate=True,
        devices=["MON-ICU-01", "MON-ICU-02", "MON-ICU-03"],
        scenarios={"ICU-02": "sepsis", "ICU-03": "arrest"},
        client_id=f"pantau-consumer-{tag}",
    )
    stack.simulator.client_id_prefix = f"sim-{tag}"
    stack.start()
    try:
        watch = CallbackWatch(page)
        sign_in(page, base, USERNAMES["nurse"])
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"{base}/bangsal/ICU")
        expect(page.locator("#tile-ICU-03 .tile-alarm")).to_have_class(re.compile(r"alarm-high"), timeout=30_000)
        expect(page.locator("#tile-ICU-01 .tile-news2")).to_have_class(re.compile(r"news2-(?!none)"))
        expect(page.locator("#ward-alarm-list .ward-alarm").first).to_be_visible()
        watch.settle(page)
        findings = audit_both_themes(page, watch)
    finally:
        stack.stop()
    assert not findings, "\n".join(findings)
