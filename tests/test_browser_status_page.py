"""The patient's status page in a real browser: it updates in place (no ``<meta http-equiv="refresh">``, which
axe reports as a critical WCAG 2.2.1 failure and which makes a screen reader start over every 30 s), announces a
new state once, can be paused, and says so when an update fails."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from api import queue_public
from testkit.front_desk import call, register_waiting

pytestmark = pytest.mark.browser
INTERVAL_S = 1  # the page's update interval in this test (30 s in use)
COUNT_FETCHES = """() => {
  const fetch = window.fetch;
  window.__fetches = 0;
  window.fetch = (...args) => { window.__fetches += 1; return fetch(...args); };
}"""


@pytest.fixture
def quick_status_page(live_server, monkeypatch):
    """The live server with the status page updating every second."""
    monkeypatch.setattr(queue_public, "STATUS_REFRESH_SECONDS", INTERVAL_S)
    return live_server


def test_the_status_page_updates_in_place_and_can_be_paused(page, quick_status_page):
    base, pantau = quick_status_page
    first = register_waiting(pantau, "Siti Aminah")
    patient = register_waiting(pantau, "Bambang Sutrisno")
    page.clock.install()  # the page's timers run in real time until the test moves its clock on below
    page.goto(f"{base}/antrean/status/{patient.booking_code}")
    state = page.locator("#status-state")
    expect(state).to_have_text("Menunggu")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    page.evaluate("() => { window.sameDocument = true; }")

    call(pantau, patient.ticket_id, "Poli Umum 1")
    expect(state).to_have_text("Dipanggil")
    expect(page.locator("#status-announce")).to_contain_text("Dipanggil")  # said once by a screen reader
    assert page.evaluate("() => window.sameDocument === true"), "the page was reloaded, not updated in place"

    toggle = page.locator("#status-refresh-toggle")
    toggle.click()
    expect(toggle).to_have_text("Lanjutkan pembaruan otomatis")
    expect(page.locator("#status-refresh-paused")).to_be_visible()
    page.evaluate(COUNT_FETCHES)
    call(pantau, first.ticket_id, "Poli Umum 2")  # the number now served changes while paused
    page.clock.run_for(3 * INTERVAL_S * 1000)  # three intervals of the page's clock, every timer due in them run
    assert page.evaluate("window.__fetches") == 0, "a paused status page still asked for updates"

    page.route("**/antrean/status/**", lambda route: route.fulfill(status=503, body="down"))
    with page.expect_request(lambda request: "/antrean/status/" in request.url):
        toggle.click()  # resuming brings the facts up to date at once
    expect(toggle).to_have_text("Jeda pembaruan otomatis")
    failed = page.locator("#status-refresh-failed")
    expect(failed).to_be_visible()
    expect(state).to_have_text("Dipanggil")  # the last facts stay, marked as not updated
    page.unroute("**/antrean/status/**")
    expect(failed).to_be_hidden()
