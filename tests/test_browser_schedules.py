"""The schedule pages in a real browser: the admin adds a weekly session (its hours typed on the 24-hour clock and
read back in words) and an overlapping one is refused beside its field with everything typed kept; today's schedule
shows each session's state and quotas, a closed poli as closed with its reason. The browser reads a typed time as
the server does."""

from __future__ import annotations

import re
from datetime import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from auth.users import find_user
from components.typed_time import DAY_PARTS, TYPED_TIME_WORDS
from data.models import Doctor, Poli
from data.schedules import close_poli, local_today
from domain.actor import Actor
from domain.formats import parse_clock
from i18n import translate
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, sign_in

pytestmark = pytest.mark.browser
DOCTOR = "dr. Uji Peramban"


def fill_session(page, poli: str, start: str, end: str) -> None:
    page.select_option("#admin-schedule-doctor-id", label=DOCTOR)
    page.select_option("#admin-schedule-poli-id", label=poli)
    page.select_option("#admin-schedule-weekday", label="Senin")
    page.fill("#admin-schedule-start", start)
    page.fill("#admin-schedule-end", end)
    page.fill("#admin-schedule-quota-jkn", "20")
    page.fill("#admin-schedule-quota-non-jkn", "5")


def test_admin_adds_a_weekly_session_and_an_overlap_is_refused_beside_the_field(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        site_id = find_user(s, "admin").site_id
        s.add(Doctor(site_id=site_id, name=DOCTOR, specialty="Dokter Umum"))
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_schedule")

    fill_session(page, "Poli Umum", "08.00", "1200")  # as Indonesia writes a time, and digits alone
    expect(page.locator("#admin-schedule-start-words")).to_have_text("pukul 08.00 pagi")
    expect(page.locator("#admin-schedule-end-words")).to_have_text("pukul 12.00 siang")
    page.click("#admin-schedule-save")
    expect(page.locator("#admin-schedule-saved")).to_contain_text("Sesi praktik disimpan")
    row = page.locator("#admin-schedule-grid tr", has_text=DOCTOR)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("08.00–12.00")

    fill_session(page, "Poli Anak", "11:00", "14:00")
    page.click("#admin-schedule-save")
    error = page.locator("#admin-schedule-start-error")
    expect(error).to_contain_text("Bentrok dengan Senin 08.00–12.00 di Poli Umum")
    expect(page.locator("#admin-schedule-start")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#admin-schedule-end")).to_have_value("14:00")  # nothing typed is lost
    expect(page.locator("#admin-schedule-quota-jkn")).to_have_value("20")
    expect(page.locator("#admin-schedule-grid tr", has_text=DOCTOR)).to_have_count(1)
    save_screenshot(page, "admin-schedule-overlap.png", full_page=True)

    page.fill("#admin-schedule-start", "12:00")  # touching is fine
    page.fill("#admin-schedule-end", "2.30 pm")  # no am/pm: the 24-hour clock only
    expect(page.locator("#admin-schedule-end-words")).to_have_text(translate("typed_time_unreadable"))
    page.click("#admin-schedule-save")
    expect(page.locator("#admin-schedule-end-error")).to_have_text(translate("err_schedule_time"))
    expect(page.locator("#admin-schedule-end")).to_have_value("2.30 pm")
    page.fill("#admin-schedule-end", "14:30")
    expect(page.locator("#admin-schedule-end-words")).to_have_text("pukul 14.30 siang")
    page.fill("#admin-schedule-valid-from", "1/13/2027")  # month first, as an English browser writes it: refused
    expect(page.locator("#admin-schedule-valid-from-words")).to_contain_text("Belum terbaca")
    page.click("#admin-schedule-save")
    expect(page.locator("#admin-schedule-valid-from-error")).to_have_text(translate("err_schedule_date"))
    page.fill("#admin-schedule-valid-from", "13/1/2027")
    expect(page.locator("#admin-schedule-valid-from-words")).to_have_text("13 Januari 2027")
    page.click("#admin-schedule-save")
    expect(page.locator("#admin-schedule-saved")).to_contain_text("Sesi praktik disimpan")
    expect(error).to_be_empty()
    expect(page.locator("#admin-schedule-grid tr", has_text=DOCTOR)).to_have_count(2)


def test_today_shows_states_and_quotas_and_a_closed_poli_as_closed(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        admin = find_user(s, "admin")
        actor = Actor(admin.id, admin.username, admin.site_id)
        gigi = s.scalar(select(Poli.id).where(Poli.code == "GIG"))
        close_poli(s, actor, gigi, local_today(s, admin.site_id), "Listrik padam")
    sign_in(page, base, "loket")
    open_nav(page, "pages.schedule_today")
    table = page.locator("#schedule-today-table")
    closed = table.locator("tr", has_text="Poli Gigi")
    expect(closed).to_contain_text("Tutup")
    expect(closed).to_contain_text("Listrik padam")
    expect(closed).to_have_attribute("data-state", "closed")
    umum = table.locator("tr", has_text="Poli Umum").first
    expect(umum).to_contain_text(re.compile(r"0/60 terisi, sisa 60"))
    expect(umum).not_to_have_attribute("data-state", "closed")
    save_screenshot(page, "schedule-today.png", full_page=True)


def test_the_poli_week_and_a_doctors_own_week(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:  # the demo links the doctor account to dr. Sari Wulandari (Poli Umum)
        user = find_user(s, "dokter")
        assert s.scalars(select(Doctor.name).where(Doctor.user_id == user.id)).one().startswith("dr. Sari")
    sign_in(page, base, "dokter")
    open_nav(page, "pages.my_schedule")
    grid = page.locator("#my-schedule-grid")
    expect(grid.locator(".schedule-day")).to_have_count(7)
    expect(grid.locator(".schedule-session")).to_have_count(7)  # the demo plan: every day at Poli Umum
    expect(grid.locator(".schedule-session").first).to_contain_text("Poli Umum")

    open_nav(page, "pages.schedule_week")
    page.locator("#schedule-week-poli").click()
    page.get_by_role("option", name="Poli Umum").click()
    week = page.locator("#schedule-week-grid")
    expect(week.locator(".schedule-day").first).to_contain_text("Senin")
    monday = week.locator(".schedule-day").first
    expect(monday.locator(".schedule-session")).to_have_count(2)  # two doctors at Poli Umum
    expect(monday).to_contain_text("dr. Sari Wulandari (demo)")
    save_screenshot(page, "schedule-week.png", full_page=True)


def test_admin_adds_a_collective_leave_day_typed_day_first(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        year = local_today(s, find_user(s, "admin").site_id).year
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_schedule")
    page.fill("#admin-holiday-day", f"30/12/{year}")
    expect(page.locator("#admin-holiday-day-words")).to_have_text(f"30 Desember {year}")
    page.fill("#admin-holiday-name", "Cuti bersama akhir tahun")
    page.click("#admin-holiday-add")
    row = page.locator("#admin-holiday-table tr", has_text="Cuti bersama akhir tahun")
    expect(row).to_contain_text(f"30 Desember {year}")


def test_the_browser_reads_a_typed_time_as_the_server_does(page):
    """The words under a typed time come from the browser's own reading (components/typed_time.py); for every
    minute of the day, written three ways, and for near-times it agrees with the server's (parse_clock), and names
    the part of the day from the same table."""
    minutes = [time(h, m) for h in range(24) for m in range(60)]
    typed = [
        *(text for t in minutes for text in (f"{t:%H.%M}", f"{t:%H:%M}", f"{t.hour}{t:%M}")),
        *("", " 7.05 ", "24.00", "23.60", "7.5", "2.30 pm", "14", "14.30.00", "14-30", "١٤.٣٠", "12345", "1.2.3"),
    ]
    hint = translate("typed_time_unreadable", "id")

    def server(text: str) -> str:
        if not text.strip():
            return ""
        try:
            read = parse_clock(text)
        except ValueError:
            return hint
        part = [name for start, name in DAY_PARTS if read.hour >= start][-1]
        return f"pukul {read:%H.%M} {translate(f'typed_time_part_{part}', 'id')}"

    browser = page.evaluate(f"texts => texts.map({TYPED_TIME_WORDS})", typed)
    assert [(text, said) for text, said in zip(typed, browser, strict=True) if said != server(text)] == []
