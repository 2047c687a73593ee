"""A real TV board in headless Chromium: the display token opens it, a counter's call appears on it and is said
once; the board says when its connection is down."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from api import queue_stream
from auth.session import SESSION_COOKIE
from data.models import DoctorSchedule, Poli
from data.queue_actions import finish, start
from data.queue_views import board_snapshot, set_running_text
from data.schedules import close_poli, local_today
from domain.announcement import call_announcement
from domain.clock import utcnow
from testkit.front_desk import call, desk_actor, doctor_on_duty, register_waiting
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import collect_console_errors, sign_in

pytestmark = pytest.mark.browser
# Records what the board asks the voice to say, and counts it in <html data-announced> for expect() to wait on (a
# polled wait_for_function would need the eval the board's CSP forbids); the real PantauVoice keeps the rest.
VOICE_RECORDER = """
(() => {
  window.__announced = [];
  let voice;
  Object.defineProperty(window, "PantauVoice", {
    configurable: true,
    get() { return voice; },
    set(real) {
      voice = Object.assign({}, real, {
        announce(message) {
          window.__announced.push(message);
          document.documentElement.dataset.announced = String(window.__announced.length);
          return Promise.resolve();
        },
      });
    },
  });
})();
"""
PATIENTS = (
    ("Siti Aminah", "UMU"),
    ("Bambang Sutrisno", "ANA"),
    ("Dewi Anggraini", "INT"),
    ("Rahmat Hidayat", "UMU"),
    ("Yuliana Putri", "OBG"),
    ("Agus Wibowo", "UMU"),
    ("Nur Hasanah", "ANA"),
    ("Wahyu Saputra", "UMU"),
    ("Fitriani Lestari", "UMU"),
)
COUNTERS = ("Poli Umum 1", "Poli Anak", "Poli Penyakit Dalam", "Poli Umum 2", "Poli Kebidanan dan Kandungan")
RUNNING_TEXT = "Jam pelayanan poli Senin–Sabtu 08.00–14.00 WIB · Budayakan antre · Jagalah kebersihan"


def busy_morning(pantau) -> list:
    """Nine patients waiting; five called, the first of them seen and sent to the pharmacy; the dental clinic
    closed; a running text."""
    registrations = [register_waiting(pantau, name, poli) for name, poli in PATIENTS]
    for registration, counter in zip(registrations, COUNTERS, strict=False):
        call(pantau, registration.ticket_id, counter)
    with pantau.runtime.db.session() as s:
        actor = desk_actor(s)
        start(s, actor, registrations[0].ticket_id, utcnow())
        finish(s, actor, registrations[0].ticket_id, utcnow(), pharmacy="farmasi:nonracikan")
        dental = s.scalar(select(Poli.id).where(Poli.site_id == actor.site_id, Poli.code == "GIG"))
        close_poli(s, actor, dental, local_today(s, actor.site_id), "Dokter gigi sedang cuti")
        set_running_text(s, actor.site_id, actor.user_id, RUNNING_TEXT)
    return registrations


def clipped(page) -> list[str]:
    """The board's elements that run past their panel, or past the screen when they are in none."""
    return page.evaluate(
        """[...document.querySelectorAll('#queue-board *')].filter(e => {
             const r = e.getBoundingClientRect(), box = e.closest('.board-panel, .board-now');
             const room = box && box !== e ? box.getBoundingClientRect() : {bottom: innerHeight, right: innerWidth};
             const out = r.bottom > room.bottom + 1 || r.right > room.right + 1;
             return r.height && out && !e.closest('.board-marquee');
           }).map(e => e.className || e.tagName)"""
    )


def test_a_tv_opens_its_board_and_shows_and_says_a_counter_call(page, live_server):
    base, pantau = live_server
    errors = collect_console_errors(page)
    registrations = busy_morning(pantau)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.add_init_script(VOICE_RECORDER)
    page.goto(f"{base}/tv/{pantau.creds.display_token}")
    expect(page).to_have_url(f"{base}/papan/umum")
    board = page.locator("#queue-board")
    expect(board).to_be_visible()
    expect(page.locator("#board-now-number")).to_have_text(registrations[4].label)
    expect(page.locator("#board-recent li")).to_have_count(4)
    expect(page.locator("#board-doctors li").first).to_be_visible()
    expect(page.locator("#board-doctors")).to_contain_text("Praktik")
    expect(page.locator("#board-doctors")).to_contain_text("Tutup")
    expect(page.locator("#board-sound")).to_be_visible()
    expect(page.locator("#board-doctors-page")).to_have_text("")  # all of today's doctors fit: no page number
    assert board.bounding_box() == {"x": 0, "y": 0, "width": 1920, "height": 1080}
    assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")

    called = registrations[5]
    call(pantau, called.ticket_id, "Poli Umum 1")
    expect(page.locator("#board-now-number")).to_have_text(called.label)
    expect(page.locator("#board-now-name")).to_have_text("AGU* W****")
    expect(page.locator("#board-now")).to_have_class(re.compile(r"board-flash"))
    for part in ("#board-now .board-panel-title", "#board-now-number", "#board-now-name"):  # dark on the yellow
        expect(page.locator(part)).to_have_css("animation-name", "board-flash-text")
    expect(page.locator("html")).to_have_attribute("data-announced", "1")
    said = call_announcement("A", called.number, "Poli Umum 1")
    first = {"text": said.text, "clips": list(said.clips)}
    assert page.evaluate("window.__announced") == [first]
    assert first["text"].startswith("Nomor antrean A ")
    expect(page.locator("#board-now")).not_to_have_class(re.compile(r"board-flash"))  # the flash is over
    save_screenshot(page, "board.png")
    assert clipped(page) == [], "everything on the board fits on the screen"
    page.set_viewport_size({"width": 1024, "height": 768})  # a 4:3 monitor: smaller, but nothing off the edge
    assert clipped(page) == [], "everything on the board fits on a 4:3 screen"
    page.set_viewport_size({"width": 1920, "height": 1080})
    # Said once: the board hears its events in order, so a repeat of that call would come before the next one.
    call(pantau, registrations[6].ticket_id, "Poli Anak 2")
    expect(page.locator("html")).to_have_attribute("data-announced", "2")
    announced = page.evaluate("window.__announced")
    assert announced[0] == first and len(announced) == 2 and "Poli Anak 2" in announced[1]["text"], announced
    page.click("#board-sound")  # the gesture that lets the TV speak
    expect(page.locator("#board-sound")).to_be_hidden()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_the_board_says_when_its_connection_is_down_and_recovers(page, live_server, monkeypatch):
    base, pantau = live_server
    monkeypatch.setattr(queue_stream, "stream_seconds", lambda: 2)  # the stream ends soon; reconnecting then fails
    page.goto(f"{base}/tv/{pantau.creds.display_token}")
    expect(page.locator("#board-now-destination")).to_have_text("Belum ada panggilan")
    page.route("**/stream/queue/**", lambda route: route.abort())
    offline = page.locator("#board-offline")
    expect(offline).to_be_visible(timeout=20_000)
    expect(offline).to_have_text("Koneksi terputus — menyambung ulang…")
    page.unroute("**/stream/queue/**")
    expect(offline).to_be_hidden(timeout=15_000)


def test_a_tv_board_renews_its_session_cookie_every_half_hour(page, live_server):
    """In production the board's stream comes from the stream server, which never writes the session cookie: the
    board asks the web app for /akun/sesi every 30 minutes, whose answer writes it anew, so the TV is not signed
    out once the cookie is a day old (api/live.py keep_session)."""
    base, pantau = live_server
    page.clock.install()
    page.goto(f"{base}/tv/{pantau.creds.display_token}")
    expect(page.locator("#board-now-destination")).to_have_text("Belum ada panggilan")
    with page.expect_response(lambda r: r.url == f"{base}/akun/sesi", timeout=10_000) as renewal:
        page.clock.fast_forward("30:01")
    assert renewal.value.status == 204
    assert f"{SESSION_COOKIE}=" in (renewal.value.header_value("set-cookie") or "")


def test_staff_preview_the_board_with_a_way_back(page, live_server):
    base, _ = live_server
    sign_in(page, base, "loket")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.clock.install(time=datetime(2026, 9, 27, 23, 55, tzinfo=ZoneInfo("Asia/Jakarta")))  # a long date line
    page.goto(f"{base}/papan")
    page.click("#board-link-farmasi")
    expect(page.locator("#queue-board")).to_be_visible()
    expect(page.locator(".board-title")).to_have_text("Antrean Farmasi")
    expect(page.locator("#board-waiting li")).to_have_count(2)
    expect(page.locator("#board-doctors")).to_have_count(0)
    page.goto(f"{base}/papan/loket")  # the longest board name, beside the way back and the sound button
    expect(page.locator("#board-clock")).to_contain_text("Minggu, 27 September 2026 pukul 23.55")
    head, clock = (page.locator(selector).bounding_box() for selector in (".board-head", "#board-clock"))
    assert clock["x"] + clock["width"] <= head["x"] + head["width"] + 0.5  # the time is not run off the screen
    assert page.evaluate(
        "() => { const c = document.getElementById('board-clock'); return c.scrollWidth <= c.clientWidth; }"
    )
    page.click(".board-exit")
    expect(page.locator("#home-greeting")).to_be_visible()


def test_doctors_that_do_not_fit_page_through_and_the_title_says_which_page(page, live_server):
    """A board shows as many of the day's doctors as its panel holds, the rest on the next pages, ten seconds each;
    the panel's title says "1/2" so a viewer knows the list goes on. Together the pages show every doctor once, and
    no row is cut off at the panel's foot."""
    base, pantau = live_server
    errors = collect_console_errors(page)
    with pantau.runtime.db.session() as s:
        actor = desk_actor(s)
        day = local_today(s, actor.site_id)
        plan = s.scalars(select(DoctorSchedule).where(DoctorSchedule.weekday == day.weekday())).first()
        hours = (f"{plan.start_time:%H:%M}", f"{plan.end_time:%H:%M}")
        for n in range(1, 9):  # eight more general practitioners at that session's hours: more than a page holds
            doctor_on_duty(s, actor, f"dr. Jaga {n} (demo)", day, hours)
        today = board_snapshot(s, actor.site_id, "umum", utcnow())["doctors"]
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{base}/tv/{pantau.creds.display_token}")
    counter = page.locator("#board-doctors-page")
    expect(counter).to_have_text(re.compile(r"^1/\d+$"))
    pages = int(counter.inner_text().split("/")[1])
    shown = []
    for number in range(1, pages + 1):
        expect(counter).to_have_text(f"{number}/{pages}", timeout=15_000)
        assert clipped(page) == [], f"page {number}: every doctor shown fits in the panel"
        rows = page.locator("#board-doctors .board-doctor-name").all_inner_texts()
        assert rows and not [row for row in rows if row in shown], (number, rows, shown)
        shown += rows
        save_screenshot(page, f"board_doctors_page_{number}.png")
    assert shown == [doctor["doctor"] for doctor in today]
    assert errors == []
