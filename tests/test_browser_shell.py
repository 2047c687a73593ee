"""A real headless Chromium signs in, uses the shell, switches language and manages users."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures_app import TEST_PASSWORD
from tests.fixtures_browser import save_screenshot

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str, password: str = TEST_PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")


def sign_out(page, base: str) -> None:
    """Sign out as from an old bookmark: /logout asks (a GET signs no one out) and its button posts the form."""
    page.goto(f"{base}/logout")
    page.click("#logout-confirm")
    expect(page).to_have_url(f"{base}/login")


def settled(page) -> None:
    """Wait until Dash has no callback in flight. A click made while a freshly shown page still runs its first
    callbacks can be lost (seen under load: about one in ten); no person clicks that fast, a test does."""
    expect(page.locator("._dash-loading-callback")).to_have_count(0)


def choose(page, dropdown_id: str, text: str) -> None:
    """Pick the option containing ``text`` of a ``dcc.Dropdown`` (by clicking it, so an option not listed yet is
    waited for rather than Enter picking whatever comes first)."""
    trigger = page.locator(f"#{dropdown_id}")
    trigger.click()
    page.get_by_role("option", name=text).first.click()
    # Dash 4 keeps a list open when the option picked is the one already chosen; a person closes it then.
    if trigger.get_attribute("aria-expanded") == "true":
        page.keyboard.press("Escape")
    expect(trigger).to_have_attribute("aria-expanded", "false")


def open_page(page, url: str) -> None:
    """Load a Pantau page and wait until it is ready for the user's first click."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    settled(page)


def open_counter(page, base: str, point: str, name: str) -> None:
    """Open the counter page, run ``point`` as counter ``name`` and call the next patient."""
    open_page(page, f"{base}/antrean/konter")
    page.select_option("#counter-point", point)
    page.fill("#counter-name", name)
    page.click("#counter-open")
    page.click("#counter-call-next")


def open_nav(page, module: str) -> None:
    """Click the navbar entry of page ``module`` (e.g. ``"pages.counter"``), opening its group menu first if needed,
    and wait until the page is ready for the user's first click."""
    item = page.locator(f"[id='nav-{module}']")
    item.wait_for(state="attached")
    if not item.is_visible():
        page.locator("#shell-navbar .nav-group", has=item).locator(".dropdown-toggle").click()
    href = item.get_attribute("href")
    item.click()
    page.wait_for_url(f"**{href}")
    settled(page)


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
    save_screenshot(page, "home-perawat.png")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_language_switch_to_english_and_back(page, live_server):
    base, _ = live_server
    sign_in(page, base, "dokter")
    expect(page.locator("#home-greeting")).to_contain_text("Selamat datang")
    page.click("#shell-language-menu")
    page.click("#shell-lang-en")
    expect(page.locator("#home-greeting")).to_have_text("Welcome, dr. Sari Wulandari (demo)")
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
    open_nav(page, "pages.admin_users")
    expect(page.locator("#admin-users-grid")).to_contain_text("perawat")
    page.fill("#admin-new-username", "X")
    page.fill("#admin-new-fullname", "Bidan Sari")
    page.click("#admin-new-submit")
    expect(page.locator("#admin-new-username-error")).to_contain_text("Nama pengguna 3–64 karakter")
    expect(page.locator("#admin-new-roles-error")).to_have_text("Pilih minimal satu peran.")  # both at once
    expect(page.locator("#admin-new-feedback")).to_be_empty()
    expect(page.locator("#admin-new-fullname")).to_have_value("Bidan Sari")  # nothing typed is lost
    page.fill("#admin-new-username", "bidan.sari")
    page.get_by_label("Perawat").first.check()
    page.click("#admin-new-submit")
    expect(page.locator("#admin-new-feedback")).to_contain_text("Pengguna bidan.sari dibuat")
    temporary = page.locator("#admin-new-feedback code").inner_text()
    expect(page.locator("#admin-users-grid")).to_contain_text("Bidan Sari")
    save_screenshot(page, "admin-users.png", full_page=True)

    sign_out(page, base)
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


NAVBAR_USERS = ("admin", "loket", "manajer", "perawat", "dokter", "farmasi")
HOME_LABEL = {"id": "Beranda", "en": "Home"}
ACTIVE = re.compile(r"\bactive\b")
NAVBAR_WITH_MENU = {"x": 0, "y": 0, "width": 1366, "height": 320}
TOP_LEVEL_NAV = "#shell-navbar .navbar-nav.me-auto > * > .nav-link"  # a plain link, or a menu's toggle
NAV_TEXT = {"dark": re.compile(r"rgba?\(255, 255, 255\b"), "light": re.compile(r"rgba?\(0, 0, 0\b")}  # readable


def group_toggle(page, group: str):
    return page.locator(f"#shell-navbar .nav-group-{group} > .dropdown-toggle")


def assert_navbar_one_line(page, what: str) -> None:
    """Every top-level navbar entry sits on the same line, none wraps its label, nothing overflows the window."""
    entries = page.locator("#shell-navbar").locator(".navbar-brand, .pantau-site-name, .navbar-nav > *")
    boxes = [e.bounding_box() for e in entries.all() if e.is_visible()]
    centres = [b["y"] + b["height"] / 2 for b in boxes]
    assert max(centres) - min(centres) < 6, (what, boxes)
    assert max(b["height"] for b in boxes) < 48, (what, boxes)
    assert page.locator("#shell-navbar").bounding_box()["height"] < 70, what
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], what


@pytest.mark.parametrize("lang", ["id", "en"])
def test_navbar_is_one_line_at_1366_for_every_role(page, live_server, lang):
    base, _ = live_server
    html = page.locator("html")
    for username in NAVBAR_USERS:
        sign_in(page, base, username)
        expect(page.locator("#home-greeting")).to_be_visible()
        page.goto(f"{base}/lang/{lang}")
        expect(page.locator("#nav-pages\\.home")).to_have_text(HOME_LABEL[lang])
        for _ in range(2):  # both themes (kept in the browser, so the next user starts in the other one)
            theme = html.get_attribute("data-bs-theme")
            assert_navbar_one_line(page, f"{username} {lang} {theme}")
            expect(page.locator("#nav-pages\\.home")).to_have_css("color", NAV_TEXT[theme])
            page.click("#shell-theme-toggle")  # the switch is a clientside callback: it lands after the click
            expect(html).to_have_attribute("data-bs-theme", "light" if theme == "dark" else "dark")
        sign_out(page, base)


def test_admin_navbar_groups_pages_into_menus(page, live_server):
    base, _ = live_server
    errors = collect_console_errors(page)
    sign_in(page, base, "admin")
    top_level = ["Beranda", "Bangsal", "Pasien", "Antrean", "Rawat inap", "Jadwal", "Laporan", "BPJS", "Admin"]
    expect(page.locator(TOP_LEVEL_NAV)).to_have_text(top_level)
    expect(page.locator("#nav-pages\\.admin_queue")).to_be_hidden()

    open_nav(page, "pages.admin_queue")
    expect(page).to_have_url(f"{base}/admin/antrean")
    expect(group_toggle(page, "queue")).to_have_class(ACTIVE)
    expect(group_toggle(page, "bpjs")).not_to_have_class(ACTIVE)
    group_toggle(page, "queue").click()
    expect(page.locator("#shell-navbar .nav-group-queue .dropdown-item")).to_have_text(
        ["Pendaftaran", "Konter Antrean", "Papan antrean", "Pengaturan Antrean"]
    )
    expect(page.locator("#nav-pages\\.admin_queue")).to_have_class(ACTIVE)
    assert_navbar_one_line(page, "admin, dark, a menu open")
    save_screenshot(page, "navbar-admin.png", clip=NAVBAR_WITH_MENU)
    page.keyboard.press("Escape")

    page.click("#shell-theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    open_nav(page, "pages.bpjs_sync")
    expect(page).to_have_url(f"{base}/bpjs/sinkronisasi")
    expect(group_toggle(page, "queue")).not_to_have_class(ACTIVE)
    group_toggle(page, "bpjs").click()
    expect(page.locator("#nav-pages\\.bpjs_sync")).to_have_class(ACTIVE)
    assert_navbar_one_line(page, "admin, light, a menu open")
    save_screenshot(page, "navbar-admin-light.png", clip=NAVBAR_WITH_MENU)
    assert not errors, errors


def test_nurse_reaches_the_ward_by_a_plain_link(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator(TOP_LEVEL_NAV)).to_have_text(
        ["Beranda", "Bangsal", "Pasien", "Rawat inap", "Konter Antrean", "Jadwal"]
    )
    expect(page.locator("#shell-navbar .nav-group")).to_have_count(2)  # Rawat inap and Jadwal hold two pages each
    page.click("#nav-pages\\.ward")
    expect(page).to_have_url(f"{base}/bangsal")
    expect(page.locator("#nav-pages\\.ward")).to_have_class(ACTIVE)
