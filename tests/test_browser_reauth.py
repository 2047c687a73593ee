"""The step-up dialog in a real browser: an admin whose last password check is older than
``Settings.reauth_minutes`` tries to disable a user, is asked for the password in the shell's dialog, confirms,
repeats the action, and it works; nothing typed on the page was lost on the way."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from auth import reauth
from auth.users import find_user
from tests.fixtures_app import TEST_PASSWORD
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in
from tests.test_browser_staff_tv import choose

pytestmark = pytest.mark.browser


def is_active(pantau, username: str) -> bool:
    with pantau.runtime.db.session() as db:
        return find_user(db, username).active


def test_disabling_a_user_asks_for_the_password_again_and_keeps_the_page(page, live_server, monkeypatch):
    base, pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    page.fill("#admin-new-username", "bidan.sari")  # typed in another form of the page: must survive
    page.fill("#admin-new-fullname", "Bidan Sari")
    choose(page, "admin-edit-user", "loket")
    settled(page)
    page.locator("#admin-edit-active").uncheck()

    ahead = pantau.settings.reauth_minutes * 60 + 1  # the check made at sign-in is too old now
    monkeypatch.setattr(reauth, "time", SimpleNamespace(time=lambda: time.time() + ahead))
    page.click("#admin-edit-save")
    dialog = page.locator("#reauth-modal")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("meminta kata sandi Anda sekali lagi")
    expect(page.locator("#admin-edit-feedback")).to_contain_text("Konfirmasi dulu bahwa ini Anda")
    assert is_active(pantau, "loket")  # nothing changed
    save_screenshot(page, "reauth-dialog.png")

    page.fill("#reauth-answer", "bukan-kata-sandinya")
    page.click("#reauth-submit")
    expect(page.locator("#reauth-feedback")).to_contain_text("Kata sandi atau kode salah.")
    expect(dialog).to_be_visible()
    page.fill("#reauth-answer", TEST_PASSWORD)
    page.press("#reauth-answer", "Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#reauth-done")).to_contain_text("Silakan ulangi tindakan Anda")

    expect(page.locator("#admin-new-username")).to_have_value("bidan.sari")
    expect(page.locator("#admin-new-fullname")).to_have_value("Bidan Sari")
    expect(page.locator("#admin-edit-active")).not_to_be_checked()
    assert is_active(pantau, "loket")
    page.click("#admin-edit-save")
    expect(page.locator("#admin-edit-feedback")).to_contain_text("loket")
    expect(page.locator("#admin-edit-feedback")).not_to_contain_text("Konfirmasi dulu")
    assert not is_active(pantau, "loket")
    expect(dialog).to_be_hidden()


def test_the_confirmation_page_leads_back(page, live_server):
    base, _pantau = live_server
    sign_in(page, base, "admin")
    expect(page.locator("#shell-navbar")).to_be_visible()  # signed in: the form's token is of this session
    page.goto(f"{base}/akun/konfirmasi?next=/admin/pengguna")
    expect(page.locator("#reauth-intro")).to_contain_text("meminta kata sandi Anda sekali lagi")
    page.fill("#answer", "bukan-kata-sandinya")
    page.click("#reauth-page-submit")
    expect(page.locator("#form-error")).to_have_text("Kata sandi atau kode salah.")
    save_screenshot(page, "reauth-page.png")
    page.fill("#answer", TEST_PASSWORD)
    page.click("#reauth-page-submit")
    expect(page).to_have_url(f"{base}/admin/pengguna")
