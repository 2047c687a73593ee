"""A real headless Chromium signs in, uses the shell, switches language and manages users."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures_app import TEST_PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str, password: str = TEST_PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")


def collect_console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_nurse_signs_in_and_sees_home(page, live_server):
    base, _ = live_server
    errors = collect_console_errors(page)
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_have_text("Selamat datang, Perawat Jaga (demo)")
    expect(page.locator("#home-roles")).to_have_text("Perawat")
    expect(page.locator("#shell-clock")).to_have_text(re.compile(r"\d{2}[.:]\d{2}[.:]\d{2} WIB"))
    expect(page.locator("#home-health .badge")).to_have_count(3)
    expect(page.locator("#nav-pages\\.admin_users")).to_have_count(0)
    page.screenshot(path="var/test-screenshots/home-perawat.png")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_language_switch_to_english_and_back(page, live_server):
    base, _ = live_server
    sign_in(page, base, "dokter")
    expect(page.locator("#home-greeting")).to_contain_text("Selamat datang")
    page.click("#shell-language-menu")
    page.click("#shell-lang-en")
    expect(page.locator("#home-greeting")).to_have_text("Welcome, dr. Demo Pantau")
    expect(page.locator("#nav-pages\\.home")).to_have_text("Home")
    page.goto(f"{base}/")  # the choice is remembered for the user
    expect(page.locator("#home-greeting")).to_contain_text("Welcome")
    page.click("#shell-language-menu")
    page.click("#shell-lang-id")
    expect(page.locator("#home-greeting")).to_contain_text("Selamat datang")


def test_login_error_is_shown_in_indonesian(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat", "keliru-sekali")
    expect(page.locator("#form-error")).to_have_text("Nama pengguna atau kata sandi salah.")
    expect(page.locator("#username")).to_have_value("perawat")


def test_nurse_opening_admin_page_sees_no_access(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/admin/pengguna")
    expect(page.locator("#forbidden")).to_have_text("Tidak punya akses")


def test_admin_creates_a_user_who_must_change_password(page, live_server):
    base, _ = live_server
    sign_in(page, base, "admin")
    page.click("#nav-pages\\.admin_users")
    expect(page.locator("#admin-users-grid")).to_contain_text("perawat")
    page.fill("#admin-new-username", "X")
    page.fill("#admin-new-fullname", "Bidan Sari")
    page.click("#admin-new-submit")
    expect(page.locator("#admin-new-feedback")).to_contain_text("Nama pengguna 3–64 karakter")
    expect(page.locator("#admin-new-fullname")).to_have_value("Bidan Sari")  # nothing typed is lost
    page.fill("#admin-new-username", "bidan.sari")
    page.get_by_label("Perawat").first.check()
    page.click("#admin-new-submit")
    expect(page.locator("#admin-new-feedback")).to_contain_text("Pengguna bidan.sari dibuat")
    temporary = page.locator("#admin-new-feedback code").inner_text()
    expect(page.locator("#admin-users-grid")).to_contain_text("Bidan Sari")
    page.screenshot(path="var/test-screenshots/admin-users.png", full_page=True)

    page.goto(f"{base}/logout")
    sign_in(page, base, "bidan.sari", temporary)
    expect(page).to_have_url(f"{base}/akun/kata-sandi")
    page.fill("#current", temporary)
    page.fill("#new", "kata-sandi-baru-1")
    page.fill("#repeat", "kata-sandi-baru-1")
    page.click("button[type=submit]")
    expect(page.locator("#home-greeting")).to_have_text("Selamat datang, Bidan Sari")


def test_theme_toggle_switches_and_remembers(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    html = page.locator("html")
    expect(html).to_have_attribute("data-bs-theme", "dark")
    page.click("#shell-theme-toggle")
    expect(html).to_have_attribute("data-bs-theme", "light")
    page.reload()
    expect(html).to_have_attribute("data-bs-theme", "light")
