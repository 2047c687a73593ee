"""On the users page in a real browser: the admin gives a nurse her ward (her ward list then opens there), and
creates a TV board whose one-time address lands the TV on its board, not on a password page, until revoked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from auth.users import find_user
from data.staff_assignments import polis_of, set_staff_wards, wards_of
from domain.actor import Actor
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import choose, open_nav, settled, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_a_nurses_ward_list_opens_on_her_ward(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as db:  # the demo's nurse works in the ICU: start her with no ward
        nurse = find_user(db, "perawat")
        set_staff_wards(db, Actor(None, "test-admin", nurse.site_id), nurse.id, [])
    sign_in(page, base, "perawat")
    page.goto(f"{base}/bangsal")
    expect(page.locator("#ward-tab-ICU")).to_have_attribute("class", "nav-link active")  # the first ward by code
    settled(page)  # a callback answered after the sign-out can put its session cookie back (see the closing note)
    sign_out(page, base)

    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    choose(page, "admin-edit-user", "perawat")
    settled(page)
    choose(page, "admin-edit-wards", "MEL")
    choose(page, "admin-edit-polis", "UMU")
    page.click("#admin-edit-save")
    expect(page.locator("#admin-edit-feedback")).to_contain_text("perawat")
    with pantau.runtime.db.session() as db:
        nurse = find_user(db, "perawat")
        assert [w.code for w in wards_of(db, nurse.id)] == ["MEL"]
        assert [p.code for p in polis_of(db, nurse.id)] == ["UMU"]
    sign_out(page, base)

    sign_in(page, base, "perawat")
    page.goto(f"{base}/bangsal")
    expect(page.locator("#ward-tab-MEL")).to_have_attribute("class", "nav-link active")
    tabs = page.locator("[id^=ward-tab-]")
    expect(tabs.first).to_have_id("ward-tab-MEL")  # hers first


def test_admin_creates_a_tv_board_that_opens_on_its_board_until_revoked(page, live_server, browser):
    base, _pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    page.click("#admin-tv-create")  # nothing chosen, nothing typed: both fields say so, beside themselves
    expect(page.locator("#admin-tv-board-error")).to_contain_text("Pilih layar")
    expect(page.locator("#admin-tv-label-error")).to_contain_text("Isi nama TV")
    expect(page.locator("#admin-tv-label")).to_have_class(re.compile(r"\bis-invalid\b"))
    save_screenshot(
        page.locator("#admin-tv-create").locator("xpath=ancestor::div[contains(@class,'card')][1]"),
        "admin-tv-form-refused.png",
    )
    page.fill("#admin-tv-label", "TV Ruang Tunggu Lantai 1")
    page.click("#admin-tv-create")  # the name typed stays; only the screen is still missing
    expect(page.locator("#admin-tv-label-error")).to_be_empty()
    expect(page.locator("#admin-tv-board-error")).to_contain_text("Pilih layar")
    expect(page.locator("#admin-tv-label")).to_have_value("TV Ruang Tunggu Lantai 1")
    page.select_option("#admin-tv-board", "/papan/umum")
    page.click("#admin-tv-create")
    address = page.locator("#admin-tv-address")
    expect(address).to_contain_text("/tv/")
    url = address.inner_text().strip()
    expect(page.locator("#admin-tv-grid")).to_contain_text("TV Ruang Tunggu Lantai 1")
    save_screenshot(page, "admin-users-tv-board.png", full_page=True)

    tv = browser.new_context().new_page()  # the TV: a browser nobody has signed in to
    try:
        tv.goto(url)
        expect(tv).to_have_url(f"{base}/papan/umum")
        expect(tv.locator("#queue-board")).to_be_visible()
        save_screenshot(tv, "tv-board-from-admin-token.png")

        choose(page, "admin-tv-pick", "TV Ruang Tunggu Lantai 1")
        page.click("#admin-tv-revoke")
        expect(page.locator("#admin-tv-revoke-feedback")).to_contain_text("dicabut")
        expect(page.locator("#admin-tv-grid")).to_contain_text("dicabut")
        tv.reload()
        expect(tv.locator("#queue-board")).to_have_count(0)  # signed out: the board is gone
        assert tv.goto(url).status == 404  # and its address no longer signs in
    finally:
        tv.context.close()
