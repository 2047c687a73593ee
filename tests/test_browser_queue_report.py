"""The queue dashboard in a real browser, on three demo mornings replayed through the queue services."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import Site, utcnow
from data.queue_demo import run_morning
from data.queue_reports import queue_report
from data.schedules import local_today
from domain.formats import long_date
from tests.test_browser_shell import open_nav, sign_in

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "screenshots" / "queue-report.png"


def test_manager_reads_today_and_the_last_three_days(page, live_server):
    base, pantau = live_server
    now = utcnow()
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        today = local_today(s, site_id, now)
    for days_back in (2, 1, 0):
        run_morning(pantau.runtime, site_id, now - timedelta(days=days_back))
    with pantau.runtime.db.session() as s:
        expected = queue_report(s, site_id, today, today, utcnow()).total

    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, base, "manajer")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.queue_report")
    expect(page.locator("#qrep-period")).to_have_text(long_date(today), timeout=30_000)
    expect(page.locator("#qrep-card-patients")).to_contain_text(str(expected.patients))
    expect(page.locator("#qrep-poli-table tbody tr")).to_have_count(6)  # five polis and the total
    expect(page.locator("#qrep-in-time-total")).to_have_text(re.compile(r"^\d+ %$"))
    expect(page.locator("#qrep-daily")).to_have_count(0)  # one day: no daily line

    first = today - timedelta(days=2)
    page.goto(f"{base}/laporan/antrean?dari={first.isoformat()}&sampai={today.isoformat()}")
    expect(page.locator("#qrep-period")).to_have_text(f"{long_date(first)} – {long_date(today)}", timeout=30_000)
    expect(page.locator("#qrep-daily .scatterlayer .point")).to_have_count(3)
    expect(page.locator("#qrep-waits .barlayer .point").first).to_be_visible()
    expect(page.locator("#qrep-doctor-table tbody tr")).to_have_count(6)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_front_desk_sees_no_access(page, live_server):
    base, _ = live_server
    sign_in(page, base, "loket")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/laporan/antrean")
    expect(page.locator("#forbidden")).to_have_text("Tidak punya akses")
