"""Issue 15's "done when" for TOTP, in a real browser: an admin whose role requires it is sent to enrolment,
reads the key off the page, confirms with a code, keeps the recovery codes; then signs in with password and code,
and with a recovery code, which is refused the second time."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import expect

from auth.mfa import STEP_SECONDS
from tests.fixtures_app import PantauApp, build_app, make_settings, served
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in, sign_out
from tests.test_browser_staff_tv import choose

pytestmark = pytest.mark.browser


@pytest.fixture
def mfa_live_server(tmp_path, sqlite_url, mqtt_url) -> Iterator[tuple[str, PantauApp]]:
    """The SQLite app, with TOTP required of admins, served over HTTP on a free port."""
    live = f"memory://test-{uuid.uuid4().hex[:12]}"
    pantau = build_app(make_settings(tmp_path, sqlite_url, live, mqtt_url, mfa_required_roles="admin"))
    with served(pantau) as base:
        yield base, pantau
    pantau.runtime.close()


def test_an_admin_enrols_then_signs_in_with_a_code_and_with_a_recovery_code_once(page, mfa_live_server):
    base, _pantau = mfa_live_server
    sign_in(page, base, "admin")
    expect(page).to_have_url(re.compile(r"/akun/mfa\?next=/$"))
    expect(page.locator("#mfa-qr")).to_be_visible()
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    save_screenshot(page, "mfa-enrol.png", full_page=True)

    page.fill("#code", "000000")
    page.click("#mfa-confirm")
    expect(page.locator("#form-error")).to_contain_text("Kode salah")
    expect(page.locator("#mfa-secret")).to_have_text(re.compile(secret[:4]))  # the same key: nothing to redo
    totp = pyotp.TOTP(secret)
    page.fill("#code", totp.now())
    page.click("#mfa-confirm")
    codes = page.locator(".mfa-recovery-code")
    expect(codes).to_have_count(10)
    recovery = codes.all_inner_texts()
    save_screenshot(page, "mfa-recovery-codes.png", full_page=True)
    page.click("#mfa-codes-saved")
    expect(page).to_have_url(f"{base}/")
    sign_out(page, base)

    sign_in(page, base, "admin")
    expect(page).to_have_url(f"{base}/login/kode")
    save_screenshot(page, "mfa-code.png", full_page=True)
    page.fill("#code", totp.at(time.time() + STEP_SECONDS))  # the next step: the enrolment spent this one
    page.click("#mfa-submit")
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("#shell-user-menu")).to_contain_text("admin")
    sign_out(page, base)

    sign_in(page, base, "admin")
    page.click("#mfa-use-recovery")
    page.fill("#code", recovery[0])
    page.click("#mfa-submit")
    expect(page).to_have_url(f"{base}/")
    sign_out(page, base)

    sign_in(page, base, "admin")
    page.click("#mfa-use-recovery")
    page.fill("#code", recovery[0])
    page.click("#mfa-submit")
    expect(page.locator("#form-error")).to_contain_text("Kode salah atau sudah dipakai")
    expect(page).to_have_url(re.compile(r"/login/kode"))
    expect(page.locator("#code")).to_have_value(recovery[0])


def test_a_nurse_enrols_from_the_account_menu_and_an_admin_resets_it(page, live_server):
    base, _pantau = live_server
    sign_in(page, base, "perawat")
    page.click("#shell-user-menu")
    page.click("#shell-mfa")
    expect(page).to_have_url(f"{base}/akun/mfa")
    expect(page.locator("#mfa-qr")).to_be_visible()
    totp = pyotp.TOTP(page.locator("#mfa-secret").inner_text().replace(" ", ""))
    page.fill("#code", totp.now())
    page.click("#mfa-confirm")
    expect(page.locator(".mfa-recovery-code")).to_have_count(10)
    page.goto(f"{base}/akun/mfa")
    expect(page.locator("#mfa-status")).to_have_text("Aktif")
    expect(page.locator("#mfa-left")).to_contain_text("10")
    save_screenshot(page, "mfa-manage.png", full_page=True)
    sign_out(page, base)

    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    nurse_row = page.locator("#admin-users-grid tr", has_text="perawat")
    expect(nurse_row).to_contain_text("Aktif")
    choose(page, "admin-edit-user", "perawat")
    settled(page)
    page.click("#admin-edit-mfa-reset")
    expect(page.locator("#admin-edit-feedback")).to_contain_text("perawat diatur ulang")
    expect(nurse_row).to_contain_text("Belum")
    sign_out(page, base)

    sign_in(page, base, "perawat")  # no code asked any more
    expect(page.locator("#shell-user-menu")).to_contain_text("perawat")
