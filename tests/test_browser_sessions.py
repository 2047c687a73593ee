"""Sessions the server ends, in a real browser: a nurse's second browser is signed out when the first changes her
password (its open ward station says so within seconds, its next step lands on the sign-in page), and a TV whose
token an admin revokes on the users page says it is signed out within seconds, without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from auth.tv_boards import create_tv_board
from domain.actor import Actor
from testkit.chromium import LOCALE, TIMEZONE, VIEWPORT
from tests.fixtures_app import TEST_PASSWORD
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in, sign_out
from tests.test_browser_staff_tv import choose

pytestmark = pytest.mark.browser
NEW_PASSWORD = "kopi tubruk gula aren di pagi hari"
SOON_MS = 10_000  # the stream ends within 3 s of the change; the screen checks its session on the stream's end
STREAM_OPEN = "() => { const s = window.pantauWard && window.pantauWard(); return !!s && s.stream.state === 'open'; }"


@pytest.fixture
def second_page(browser):
    """Another browser (its own cookies), as a second workstation."""
    context = browser.new_context(viewport=VIEWPORT, locale=LOCALE, timezone_id=TIMEZONE)
    yield context.new_page()
    context.close()


def test_a_password_change_signs_the_nurses_other_browser_out(page, second_page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bangsal/ICU")
    page.wait_for_function(STREAM_OPEN)

    sign_in(second_page, base, "perawat")
    expect(second_page.locator("#home-greeting")).to_be_visible()
    second_page.goto(f"{base}/akun/kata-sandi")
    second_page.fill("#current", TEST_PASSWORD)
    second_page.fill("#new", NEW_PASSWORD)
    second_page.fill("#repeat", NEW_PASSWORD)
    second_page.click("button[type=submit]")
    expect(second_page.locator("#home-greeting")).to_be_visible()  # this browser goes on

    signed_out = page.locator("#ward-technical-alarm.ward-technical-signed-out")
    expect(signed_out).to_be_visible(timeout=SOON_MS)
    expect(signed_out).to_contain_text("Anda telah keluar — layar ini TIDAK memantau")
    page.goto(f"{base}/bangsal/ICU")
    expect(page).to_have_url(re.compile(r"/login\?next=/bangsal/ICU$"))

    second_page.goto(f"{base}/")
    expect(second_page.locator("#home-greeting")).to_be_visible()


def test_signing_out_from_the_account_menu_posts_the_form(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    settled(page)
    page.click("#shell-user-menu")
    with page.expect_request(lambda r: r.url == f"{base}/logout") as sent:
        page.click("#shell-logout")
    assert sent.value.method == "POST"
    expect(page).to_have_url(f"{base}/login")
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_an_old_bookmark_of_logout_asks_first(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/logout")
    expect(page.locator("#logout-title")).to_have_text("Keluar dari Pantau?")
    save_screenshot(page, "logout-confirm.png")
    page.click("#logout-cancel")
    expect(page.locator("#home-greeting")).to_be_visible()  # still signed in
    sign_out(page, base)


def test_a_revoked_tv_says_it_is_signed_out_within_seconds(page, second_page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as db:
        _, token = create_tv_board(db, Actor(None, "test-admin", 1), "/papan/umum", "TV Ruang Tunggu")
    tv = second_page
    tv.goto(f"{base}/tv/{token}")
    expect(tv).to_have_url(f"{base}/papan/umum")
    tv.wait_for_function("() => { const b = window.pantauBoard(); return !!b && b.stream.state === 'open'; }")
    expect(tv.locator("#board-offline")).to_be_hidden()

    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    choose(page, "admin-tv-pick", "TV Ruang Tunggu")
    page.click("#admin-tv-revoke")
    expect(page.locator("#admin-tv-revoke-feedback")).to_contain_text("dicabut")

    banner = tv.locator("#board-offline")
    expect(banner).to_be_visible(timeout=SOON_MS)
    expect(banner).to_have_text(re.compile(r"^Layar ini sudah keluar — antrean TIDAK ditampilkan"))
    expect(tv.locator("#queue-board")).to_have_class(re.compile(r"\bboard-signed-out\b"))
    expect(tv.locator("#board-now-number")).to_have_text("—")  # nothing from the queue stays on screen
    save_screenshot(tv, "tv-board-signed-out.png")


def test_a_screen_over_the_stream_cap_says_why_and_does_not_hammer(page, live_server, monkeypatch):
    base, pantau = live_server
    monkeypatch.setattr(pantau.settings, "streams_per_user", 1)
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bangsal/ICU")
    page.wait_for_function(STREAM_OPEN)

    second = page.context.new_page()  # a second tab of the same browser: the same account
    tries = []
    second.on("request", lambda r: tries.append(r.url) if "/stream/ward/" in r.url else None)
    second.goto(f"{base}/bangsal/ICU")
    notice = second.locator("#live-stream-notice")
    expect(notice).to_be_visible(timeout=SOON_MS)
    expect(notice).to_contain_text("Terlalu banyak layar langsung terbuka dengan akun ini (paling banyak 1)")
    save_screenshot(second, "ward-too-many-streams.png")
    second.wait_for_timeout(5000)
    assert len(tries) == 1, f"a refused screen asks again only after 30 s; it tried {len(tries)} times"
    assert page.evaluate("window.pantauWard().stream.state") == "open", "the first tab keeps its stream"
