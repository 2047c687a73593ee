"""The queue dashboard in a real browser, on three demo mornings replayed through the queue services."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import Site
from data.queue_demo import run_morning
from data.queue_reports import queue_report
from data.schedules import local_today
from domain.clock import utcnow
from domain.formats import long_date
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, sign_in
from tests.test_queue_demo import past_clinic_noon

pytestmark = pytest.mark.browser


def test_manager_reads_a_day_and_three_days(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        today = local_today(s, site_id, utcnow())
    mornings = [past_clinic_noon(pantau, site_id, days_back) for days_back in (3, 2, 1)]
    for noon in mornings:
        run_morning(pantau.runtime, site_id, noon)
    last, first = today - timedelta(days=1), today - timedelta(days=3)
    with pantau.runtime.db.session() as s:
        expected = queue_report(s, site_id, last, last, utcnow()).total

    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, base, "manajer")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.queue_report")
    expect(page.locator("#qrep-period")).to_have_text(long_date(today), timeout=30_000)  # today by default

    page.goto(f"{base}/laporan/antrean?dari={last.isoformat()}&sampai={last.isoformat()}")
    expect(page.locator("#qrep-period")).to_have_text(long_date(last), timeout=30_000)
    expect(page.locator("#qrep-card-patients")).to_contain_text(str(expected.patients))
    expect(page.locator("#qrep-poli-table tbody tr")).to_have_count(6)  # five polis and the total
    expect(page.locator("#qrep-in-time-total")).to_have_text(re.compile(r"^\d+ %$"))
    expect(page.locator("#qrep-daily")).to_have_count(0)  # one day: no daily line

    page.goto(f"{base}/laporan/antrean?dari={first.isoformat()}&sampai={last.isoformat()}")
    expect(page.locator("#qrep-period")).to_have_text(f"{long_date(first)} – {long_date(last)}", timeout=30_000)
    expect(page.locator("#qrep-daily .scatterlayer .point")).to_have_count(3)
    expect(page.locator("#qrep-waits .barlayer .point").first).to_be_visible()
    expect(page.locator("#qrep-doctor-table tbody tr")).to_have_count(6)
    save_screenshot(page, "queue-report.png", full_page=True)


def test_front_desk_sees_no_access(page, live_server):
    base, _ = live_server
    sign_in(page, base, "loket")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/laporan/antrean")
    expect(page.locator("#forbidden")).to_have_text("Tidak punya akses")


def test_the_date_picker_speaks_the_users_language(page, live_server):
    """Dash's calendar follows Pantau's language (``<html lang>`` + the vendored date-fns locale, its buttons' labels
    from the catalogue), not the browser's: the browser here says ``id-ID`` in both halves."""
    base, _ = live_server
    sign_in(page, base, "manajer")
    expect(page.locator("#home-greeting")).to_be_visible()
    for lang, august, monday, previous in (
        ("id", "Agustus", "Sen", "Bulan sebelumnya"),
        ("en", "August", "Mo", "Previous month"),
    ):
        page.goto(f"{base}/lang/{lang}")
        page.goto(f"{base}/laporan/antrean")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.locator("#qrep-range").click()
        expect(page.locator(".dash-datepicker-month-sizer").nth(7)).to_have_text(august)
        expect(page.locator(".dash-datepicker-calendar").first).to_contain_text(monday)
        # The calendar's own buttons, labelled in English by Dash 4, are read out in the page's language.
        expect(page.locator(".dash-datepicker-month-nav").first).to_have_attribute("aria-label", previous)
        page.keyboard.press("Escape")
