"""Every page, opened by every role allowed to see it, in a real browser: no console error, no failed callback
request (``/_dash-update-component`` answering ≥ 400) and no Dash error overlay once its callbacks have settled.

This is the test that would have caught the BPJS mapping page's 500 (a bare ``no_update`` returned for a
wildcard output). One browser context per role, its pages in sequence."""

from __future__ import annotations

import time

import dash
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bridge.bpjs.sandbox import create_sandbox
from bridge.bpjs_reference import pull_reference
from data.models import Site, utcnow
from data.schedules import local_today
from data.seed import DEMO_USERS
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve
from tests.test_browser_shell import sign_in

pytestmark = pytest.mark.browser

ROLES = [role for _, _, role in DEMO_USERS]
USERNAMES = {role: username for username, _, role in DEMO_USERS}
# Real codes from the demo seed for the templated pages (/bed/<bed>, /bangsal/<ward>, /papan/<board>).
TEMPLATE_VALUES = {"bed": "ICU-03", "ward": "ICU", "board": "umum"}
CALLBACK_URL = "/_dash-update-component"
SETTLE_QUIET_S = 0.5  # no callback request in flight for this long = settled
SETTLE_LIMIT_S = 20.0
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
    return sorted((e["module"], _real_path(e)) for e in dash.page_registry.values() if role in e.get("roles", ()))


class CallbackWatch:
    """Counts the page's callback requests in flight and keeps every problem the browser reports."""

    def __init__(self, page) -> None:
        self.in_flight = 0
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("request", lambda r: self._count(r, +1))
        page.on("requestfinished", lambda r: self._count(r, -1))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _count(self, request, step: int) -> None:
        if CALLBACK_URL in request.url:
            self.in_flight += step

    def _failed(self, request) -> None:
        self._count(request, -1)
        # ERR_ABORTED is the browser cancelling a request because the test moved on to the next page (a timer's
        # callback can start between "settled" and the navigation); a server that fails answers with a status.
        if CALLBACK_URL in request.url and request.failure != "net::ERR_ABORTED":
            self.problems.append(f"callback request failed: {request.failure}")

    def _response(self, response) -> None:
        if CALLBACK_URL in response.url and response.status >= 400:
            self.problems.append(f"callback answered {response.status}: {response.request.post_data[:300]}")

    def settle(self, page) -> None:
        """Wait (bounded) until no callback request has been in flight for ``SETTLE_QUIET_S``."""
        deadline = time.monotonic() + SETTLE_LIMIT_S
        quiet_since = None
        while time.monotonic() < deadline:
            if self.in_flight == 0 and page.locator("._dash-loading-callback").count() == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= SETTLE_QUIET_S:
                    return
            else:
                quiet_since = None
            page.wait_for_timeout(100)
        raise AssertionError(f"callbacks still running after {SETTLE_LIMIT_S:.0f} s on {page.url}")


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
        if watch.problems:
            failures[f"{module} {path}"] = list(watch.problems)
    assert not failures, f"{role}: " + "; ".join(f"{where}: {problems}" for where, problems in failures.items())
