"""Tariffs, procedures and targets in a real browser: an admin adds a tariff with a bad amount (the message beside
the field, the typed value kept) and fixes it; a nurse opens /tindakan from the bed page's link, charges a
procedure and cancels it; a manager sets a month's target."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.finance_targets import year_targets
from data.models import Bed, BedOccupancy, ChargeLine
from data.schedules import local_today
from data.tariffs import seed_demo_tariffs
from domain.formats import day_first, long_date
from testkit.front_desk import desk_actor
from tests.fixtures_app import DEMO_USERNAME
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, open_page, settled, sign_in

pytestmark = pytest.mark.browser
INVALID = re.compile(r"\bis-invalid\b")


def _switch(page, base: str, role: str) -> None:
    page.context.clear_cookies()
    sign_in(page, base, DEMO_USERNAME[role])
    page.wait_for_url(re.compile(r".*/(?!login).*"))


def test_tariff_procedure_and_target_pages(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        actor = desk_actor(s)
        today = local_today(s, actor.site_id)
        seed_demo_tariffs(s, actor, actor.site_id, date(today.year, 1, 1))
        bed_code = s.scalar(
            select(Bed.code).join(BedOccupancy, BedOccupancy.bed_id == Bed.id)
            .where(BedOccupancy.until.is_(None), BedOccupancy.admission_id.is_not(None)).order_by(Bed.code).limit(1)
        )  # fmt: skip

    sign_in(page, base, DEMO_USERNAME["admin"])
    open_page(page, f"{base}/admin/tarif")
    page.fill("#tariff-code", "lab-hba1c")
    page.fill("#tariff-name", "Laboratorium: HbA1c")
    page.select_option("#tariff-unit", "penunjang")
    page.fill("#tariff-amount", "150.000,50")
    page.fill("#tariff-valid-from", day_first(today))
    expect(page.locator("#tariff-valid-from-words")).to_have_text(long_date(today))
    page.click("#tariff-save")
    expect(page.locator("#tariff-amount-error")).to_contain_text("Rupiah bulat tanpa sen")
    expect(page.locator("#tariff-amount")).to_have_class(INVALID)
    expect(page.locator("#tariff-amount")).to_have_value("150.000,50")
    expect(page.locator("#tariff-name")).to_have_value("Laboratorium: HbA1c")
    save_screenshot(page, "tariffs-bad-amount.png", full_page=True)
    page.fill("#tariff-amount", "Rp 150.000")
    page.click("#tariff-save")
    expect(page.locator("#tariff-saved")).to_be_visible()
    expect(page.locator("#tariff-grid")).to_contain_text("LAB-HBA1C")
    expect(page.locator("#tariff-grid")).to_contain_text("Rp 150.000")
    expect(page.locator("#tariff-code")).to_have_value("LAB-HBA1C")  # the saved tariff stays open in the form
    expect(page.locator("#tariff-code")).to_be_disabled()
    save_screenshot(page, "tariffs-saved.png", full_page=True)

    _switch(page, base, "nurse")
    page.goto(f"{base}/bed/{bed_code}")  # a live page: its stream keeps a request open, so no settling here
    page.click("#bed-procedures-link")
    page.wait_for_url("**/tindakan?admission=*")
    settled(page)
    expect(page.locator("#proc-lines-empty")).to_be_visible()
    page.select_option("#proc-code", "LAB-HBA1C")
    page.fill("#proc-quantity", "2")
    page.click("#proc-charge")
    expect(page.locator("#proc-charged")).to_be_visible()
    expect(page.locator("#proc-lines-table")).to_contain_text("Rp 300.000")
    page.locator("#proc-lines-table button").first.click()
    page.click("#proc-cancel-go")  # no reason: said beside the field
    expect(page.locator("#proc-cancel-reason-error")).to_contain_text("alasan")
    page.fill("#proc-cancel-reason", "Salah pasien")
    page.click("#proc-cancel-go")
    expect(page.locator("#proc-cancelled")).to_be_visible()
    expect(page.locator("#proc-lines-table")).to_contain_text("Dibatalkan")
    save_screenshot(page, "procedures-cancelled.png", full_page=True)
    with pantau.runtime.db.session() as s:
        amounts = s.scalars(select(ChargeLine.amount).where(ChargeLine.tariff_code == "LAB-HBA1C")).all()
        assert sorted(amounts) == [-300_000, 300_000]

    _switch(page, base, "manager")
    open_nav(page, "pages.finance_targets")
    cell = page.locator('[id=\'{"metric":"revenue","month":3,"type":"tgt-cell"}\']')
    cell.fill("2,5 miliar")
    page.click("#tgt-save")
    expect(page.locator("#tgt-error")).to_be_visible()
    expect(cell).to_have_class(INVALID)
    cell.fill("2.500.000.000")
    page.click("#tgt-save")
    expect(page.locator("#tgt-saved")).to_contain_text("1 perubahan")
    save_screenshot(page, "finance-targets.png", full_page=True)
    with pantau.runtime.db.session() as s:
        cells = [(c.month.month, c.metric, c.amount) for c in year_targets(s, actor.site_id, today.year)]
    assert cells == [(3, "revenue", 2_500_000_000)]
