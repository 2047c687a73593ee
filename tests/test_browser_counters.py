"""Counters in a real browser: the admin sets up a loket on /admin/loket (a refused field says why beside it
and keeps what was typed), and the counter page then offers it as the counter's name instead of free text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in, sign_out

pytestmark = pytest.mark.browser
INVALID = re.compile(r"\bis-invalid\b")


def test_admin_sets_up_a_counter_and_the_desk_chooses_it(page, live_server):
    base, _pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_counters")
    expect(page.locator("#counters-pick")).to_contain_text("loket baru")
    page.fill("#counters-code", "loket 1")
    page.fill("#counters-name", "Loket Satu")
    page.select_option("#counters-point", "loket")
    page.click("#counters-save")
    expect(page.locator("#counters-code-error")).to_contain_text("huruf besar")
    expect(page.locator("#counters-code")).to_have_class(INVALID)
    expect(page.locator("#counters-name")).to_have_value("Loket Satu")  # nothing typed is lost
    save_screenshot(page, "admin-counters-refused.png", full_page=True)
    page.fill("#counters-code", "LOKET-1")
    page.click("#counters-save")
    expect(page.locator("#counters-feedback")).to_contain_text("Loket LOKET-1 disimpan")
    expect(page.locator("#counters-grid")).to_contain_text("Loket Satu")
    expect(page.locator("#counters-code")).not_to_have_class(INVALID)

    sign_out(page, base)
    sign_in(page, base, "loket")
    open_nav(page, "pages.counter")
    page.select_option("#counter-point", "loket")
    expect(page.locator("#counter-name-pick-box")).to_be_visible()
    expect(page.locator("#counter-name-free")).to_be_hidden()
    settled(page)
    page.click("#counter-open")
    expect(page.locator("#counter-setup-feedback")).to_contain_text("Pilih loket dari daftar")
    page.select_option("#counter-name-pick", "Loket Satu")
    page.click("#counter-open")
    expect(page.locator("#counter-heading")).to_have_text("Loket Pendaftaran · Loket Satu")
    # A point with no configured counter keeps the free-text name.
    page.select_option("#counter-point", "poli:UMU")
    expect(page.locator("#counter-name-free")).to_be_visible()
    expect(page.locator("#counter-name-pick-box")).to_be_hidden()
