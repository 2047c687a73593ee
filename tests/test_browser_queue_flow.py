"""The clinic queue end to end, as people use it: a nurse presses "Panggil berikutnya" on the counter page, the
TV board (opened with its token, in another browser) shows and says the number, and the patient's status page
follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import QueueTicket, Visit
from domain.announcement import call_announcement
from testkit.chromium import LOCALE, TIMEZONE
from tests.test_browser_board import VOICE_RECORDER
from tests.test_browser_counter import register_morning
from tests.test_browser_shell import open_counter, sign_in

pytestmark = pytest.mark.browser


def booking_of(pantau, label: str) -> str:
    with pantau.runtime.db.session() as s:
        return s.scalar(
            select(Visit.booking_code)
            .join(QueueTicket, QueueTicket.visit_id == Visit.id)
            .where(QueueTicket.label == label)
        )


def test_a_counter_call_reaches_the_tv_board_and_the_status_page(page, browser, live_server):
    base, pantau = live_server
    register_morning(pantau)
    tv_context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale=LOCALE, timezone_id=TIMEZONE)
    try:
        tv = tv_context.new_page()
        tv.add_init_script(VOICE_RECORDER)
        tv.goto(f"{base}/tv/{pantau.creds.display_token}")
        expect(tv.locator("#queue-board")).to_be_visible()
        expect(tv.locator("#board-waiting")).to_contain_text("Poli Umum")

        status = tv_context.new_page()  # the patient's phone: no sign-in
        status.goto(f"{base}/antrean/status/{booking_of(pantau, 'A002')}")
        expect(status.locator("body")).to_contain_text("A002")
        expect(status.locator("body")).to_contain_text("Posisi")
        assert "Bambang Sutrisno" not in status.content()

        sign_in(page, base, "perawat")
        open_counter(page, base, "poli:UMU", "Ruang Periksa 1")
        expect(page.locator("#counter-current-label")).to_have_text("A001")

        expect(tv.locator("#board-now-number")).to_have_text("A001")
        expect(tv.locator("#board-now")).to_contain_text("Ruang Periksa 1")
        expect(tv.locator("#board-now-name")).to_have_text("SIT* R****")
        expect(tv.locator("html")).to_have_attribute("data-announced", "1")
        spoken = call_announcement("A", 1, "Ruang Periksa 1")
        assert tv.evaluate("window.__announced")[0]["text"] == spoken.text

        page.click("#counter-start")
        expect(page.locator("#counter-message")).to_have_text("A001 mulai dilayani.")
        status.reload()
        expect(status.locator("body")).to_contain_text("A001")  # the number now being served
    finally:
        tv_context.close()
