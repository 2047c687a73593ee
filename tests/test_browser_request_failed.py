"""A Dash request that fails is never silent: the notice of assets/pantau.js, in a real browser.

The nurse saves an observation while the server fails (an exception in the save, then no answer at all): the page
says the change may not be saved, with the server's reason and the reference the admin finds in the log, and keeps
every value typed; saved again once the server works, the notice goes. A page whose own updates fail says that what
it shows may be out of date. A slow save shows that it is working and takes no second press."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from data.models import Observation
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import settled, sign_in

pytestmark = pytest.mark.browser

CALLBACKS = "**/_dash-update-component*"
NOTICE = "#pantau-request-failed"


def _observations(pantau) -> int:
    with pantau.runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(Observation))


def _bed_form(page, base: str) -> None:
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bed/ICU-03")
    expect(page.locator("#obs-submit")).to_be_visible()
    settled(page)
    page.get_by_text("Dengan oksigen").click()
    page.get_by_text("Sadar (A)").click()
    page.fill("#obs-hr", "96")


def test_a_save_that_fails_on_the_server_says_it_may_not_be_saved(page, live_server, monkeypatch):
    base, pantau = live_server
    _bed_form(page, base)
    before = _observations(pantau)

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("callbacks.bed.record_observation", broken)
    page.click("#obs-submit")
    notice = page.locator(NOTICE)
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Terjadi kesalahan pada sistem")  # the server's reason, in the user's language
    expect(notice).to_contain_text("belum tentu tersimpan")
    expect(notice).to_contain_text("Kode kejadian untuk admin:")
    expect(page.locator("#obs-hr")).to_have_value("96")  # nothing typed is lost
    save_screenshot(page, "request-failed-notice.png")
    assert _observations(pantau) == before

    monkeypatch.undo()
    page.click("#obs-submit")
    expect(page.locator("#obs-feedback")).to_contain_text("Observasi disimpan")
    expect(notice).to_be_hidden()  # the output that failed has updated
    assert _observations(pantau) == before + 1


def test_a_save_the_server_never_answers_says_so_until_closed(page, live_server):
    base, pantau = live_server
    _bed_form(page, base)
    before = _observations(pantau)

    page.route(CALLBACKS, lambda route: route.abort("connectionrefused"))
    page.click("#obs-submit")
    notice = page.locator(NOTICE)
    expect(notice).to_contain_text("Server tidak menjawab: periksa sambungan")
    expect(notice).to_contain_text("belum tentu tersimpan")
    expect(page.locator("#obs-hr")).to_have_value("96")
    page.unroute(CALLBACKS)

    notice.get_by_role("button", name="Tutup pemberitahuan").click()
    expect(notice).to_be_hidden()
    assert _observations(pantau) == before


def test_a_page_whose_updates_fail_says_it_may_be_out_of_date(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.route(CALLBACKS, lambda route: route.abort("connectionrefused"))
    page.goto(f"{base}/bed/ICU-03")
    notice = page.locator(NOTICE)
    expect(notice).to_contain_text("Server tidak menjawab")
    expect(notice).to_contain_text("mungkin bukan yang terbaru")
    expect(notice).not_to_contain_text("tersimpan")  # the nurse changed nothing
    save_screenshot(page, "request-failed-out-of-date.png")


def test_a_slow_save_shows_it_is_working_and_is_not_sent_twice(page, live_server, monkeypatch):
    base, pantau = live_server
    _bed_form(page, base)
    before = _observations(pantau)
    from callbacks import bed

    record = bed.record_observation

    def slow(*args, **kwargs):
        time.sleep(2.0)  # a loaded server
        return record(*args, **kwargs)

    monkeypatch.setattr(bed, "record_observation", slow)
    button = page.locator("#obs-submit")
    button.click()
    expect(button).to_have_attribute("aria-busy", "true")
    expect(button).to_have_class(re.compile(r"\bpantau-busy\b"))
    save_screenshot(button, "save-in-flight.png")
    button.click(force=True)  # pressed again, impatient: the press does not reach the busy button
    expect(page.locator("#obs-feedback")).to_contain_text("Observasi disimpan")
    expect(button).not_to_have_attribute("aria-busy", "true")
    expect(button).not_to_have_class(re.compile(r"\bpantau-busy\b"))
    settled(page)
    assert _observations(pantau) == before + 1
