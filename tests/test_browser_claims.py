"""BPJS claims in a real browser: the finance office opens a claim for a JKN visit, codes it, moves it to submitted
and imports a status file marking it paid; a manager sees the claim but cannot change it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import BpjsClaim
from data.schedules import local_today
from domain.formats import day_first, long_date
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import choose, open_page, settled, sign_in, sign_out
from tests.test_claim_import import HEADER
from tests.test_claims import SEP, finance_actor, jkn_visit

pytestmark = pytest.mark.browser


def test_finance_opens_codes_submits_and_imports_a_claim_and_a_manager_only_reads(page, live_server):
    base, pantau = live_server
    actor = finance_actor(pantau)
    with pantau.runtime.db.session() as s:
        today = local_today(s, actor.site_id)
        served = today - timedelta(days=2)
        visit_id = jkn_visit(s, actor.site_id, served, charges=(150_000, 35_000))
    sign_in(page, base, "keuangan")
    open_page(page, f"{base}/keuangan/klaim")
    choose(page, "claim-new-episode", "CLM-")
    page.fill("#claim-new-sep", "12345")
    page.click("#claim-new")
    expect(page.locator("#claim-feedback-sep_number")).to_contain_text("19 huruf/angka")
    expect(page.locator("#claim-new-sep")).to_have_value("12345")
    page.fill("#claim-new-sep", SEP)
    page.click("#claim-new")
    expect(page.locator("#claim-created-ok")).to_be_visible()
    expect(page.locator("#claim-form-title")).to_contain_text(SEP)
    expect(page.locator("#claim-field-hospital_tariff")).to_have_value("185.000")
    expect(page.locator("#claim-grid")).to_contain_text(SEP)
    expect(page.locator("#claim-grid .ag-paging-panel")).to_contain_text("Halaman 1 dari 1")  # the grid's own words too
    settled(page)

    page.fill("#claim-field-inacbg_code", "Q544")
    page.fill("#claim-field-inacbg_tariff", "185.500")
    page.click("#claim-save")
    expect(page.locator("#claim-feedback-inacbg_code")).to_contain_text("K-4-17-I")
    expect(page.locator("#claim-field-inacbg_tariff")).to_have_value("185.500")
    page.fill("#claim-field-inacbg_code", "Q-5-44-0")
    page.click("#claim-save")
    expect(page.locator("#claim-saved-ok")).to_be_visible()
    settled(page)
    expect(page.locator("#claim-move-on")).to_have_value(day_first(today))  # the day a move is dated, day first
    expect(page.locator("#claim-move-on-words")).to_have_text(long_date(today))
    page.fill("#claim-filter-from", day_first(served + timedelta(days=1)))  # a filter applies on Enter
    page.press("#claim-filter-from", "Enter")
    expect(page.locator("#claim-count")).to_have_text("0 klaim.")
    page.fill("#claim-filter-from", day_first(served))
    page.press("#claim-filter-from", "Enter")
    expect(page.locator("#claim-count")).to_have_text("1 klaim.")
    settled(page)
    for status, word in (("grouped", "Di-grouping"), ("final", "Final"), ("submitted", "Diajukan")):
        expect(page.locator("#claim-move-to")).to_have_value(status)
        settled(page)
        page.click("#claim-move")
        expect(page.locator("#claim-form-title")).to_contain_text(word)
        settled(page)

    line = f"{SEP};Dibayar;185.500;185.500;180.000;0;{today:%d/%m/%Y};\n"
    page.set_input_files(
        "#claim-upload input[type=file]",
        files=[{"name": "status-klaim.csv", "mimeType": "text/csv", "buffer": (HEADER + line).encode()}],
    )
    expect(page.locator("#claim-imp-ok")).to_contain_text("1 klaim berpindah status")
    page.click("#claim-apply")
    expect(page.locator("#claim-imp-applied")).to_be_visible()
    expect(page.locator("#claim-form-title")).to_contain_text("Dibayar")
    expect(page.locator("#claim-grid")).to_contain_text("Rp 180.000")
    settled(page)
    save_screenshot(page, "claims-finance.png", full_page=True)
    with pantau.runtime.db.session() as s:
        claim = s.scalar(select(BpjsClaim).where(BpjsClaim.visit_id == visit_id))
        assert (claim.status, claim.approved_amount, claim.paid_on) == ("paid", 180_000, today)

    sign_out(page, base)
    sign_in(page, base, "manajer")
    open_page(page, f"{base}/keuangan/klaim")
    expect(page.locator("#claim-grid")).to_contain_text(SEP)
    page.locator("#claim-grid .ag-cell[col-id=sep]").first.click()
    expect(page.locator("#claim-form-title")).to_contain_text(SEP)
    expect(page.locator("#claim-read-only")).to_be_visible()
    expect(page.locator("#claim-save")).to_be_disabled()
    expect(page.locator("#claim-field-approved_amount")).to_be_disabled()
    expect(page.locator("#claim-new")).to_be_hidden()
    settled(page)
    save_screenshot(page, "claims-manager.png", full_page=True)
