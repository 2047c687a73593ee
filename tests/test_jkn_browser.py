"""A Mobile JKN booking seen by the hospital's screens: a number taken over HTTP through ``/api/jkn/ambilantrean``
waits as booked on the poli's counter, joins the line at check-in (the TV board's waiting count goes up live),
and is called on the TV board like any other number, with a masked name."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.fixtures_browser import save_screenshot
from tests.test_browser_counter import open_poli_counter
from tests.test_jkn_api import booking_body, member

pytestmark = pytest.mark.browser


def mobile_jkn(base: str, settings, endpoint: str, body: dict, token: str) -> dict:
    """One WS RS call as BPJS's gateway makes it: plain JSON, token headers, code in ``metadata``."""
    headers = {"x-token": token, "x-username": settings.jkn_username}
    reply = requests.post(f"{base}/api/jkn/{endpoint}", json=body, headers=headers, timeout=30)
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["metadata"]["code"] == 200, answer
    return answer.get("response", {})


def waiting_count(page, poli: str):
    return page.locator("#board-waiting li", has_text=poli).locator(".board-waiting-count")


def test_a_mobile_jkn_number_reaches_the_counter_and_the_tv_board(page, browser, live_server):
    base, pantau = live_server
    settings = pantau.settings
    patient = member(pantau, "Wulan Sekar Arum")

    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{base}/tv/{pantau.creds.display_token}")  # the TV signs in as the display user
    expect(page).to_have_url(f"{base}/papan/umum")
    expect(waiting_count(page, "Poli Umum")).to_have_text("0")

    credentials = {"x-username": settings.jkn_username, "x-password": settings.jkn_password}
    token = requests.get(f"{base}/api/jkn/auth", headers=credentials, timeout=30).json()["response"]["token"]
    booked = mobile_jkn(base, settings, "ambilantrean", booking_body(pantau, patient), token)
    assert booked["nomorantrean"] == "A001"

    desk = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="id-ID", timezone_id="Asia/Jakarta")
    counter = desk.new_page()
    try:
        open_poli_counter(counter, base, "loket", "Ruang Periksa 1")
        expect(counter.locator("#counter-count-booked")).to_have_text("1")  # booked, not yet in the line
        expect(counter.locator("#counter-waiting-A001")).to_have_count(0)

        mobile_jkn(base, settings, "checkinantrean", {"kodebooking": booked["kodebooking"], "waktu": 0}, token)
        expect(waiting_count(page, "Poli Umum")).to_have_text("1")  # pushed to the TV as it happened
        expect(counter.locator("#counter-waiting-A001")).to_contain_text("Wulan Sekar Arum", timeout=10_000)
        expect(counter.locator("#counter-count-booked")).to_have_text("0")
        save_screenshot(counter, "jkn-counter.png")

        counter.click("#counter-call-next")
        expect(counter.locator("#counter-current-label")).to_have_text("A001")
        expect(page.locator("#board-now-number")).to_have_text("A001")
        expect(page.locator("#board-now-name")).to_have_text("WUL* S**** A****")  # masked on a public screen
        expect(waiting_count(page, "Poli Umum")).to_have_text("0")
        save_screenshot(page, "jkn-board.png")
    finally:
        desk.close()

    left = mobile_jkn(base, settings, "sisaantrean", {"kodebooking": booked["kodebooking"]}, token)
    assert (left["antreanpanggil"], left["keterangan"]) == ("A001", "Nomor Anda sedang dipanggil")
