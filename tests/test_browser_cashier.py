"""The cashier in a real browser: the finance user finds a patient, bills the visit and settles it in two payments."""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.charges import NewCharge, add_charge_lines
from data.models import AuditLog, Invoice, Payment, Visit
from testkit.front_desk import clear_tariffs, register_waiting
from tests.fixtures_browser import TEST_SCREENSHOTS, save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in

pytestmark = pytest.mark.browser


def test_finance_user_bills_a_visit_and_takes_qris_then_cash(page, live_server, tmp_path):
    base, pantau = live_server
    clear_tariffs(pantau)  # only the test's own lines are priced
    registration = register_waiting(pantau, "Hendra Kasirindo")
    with pantau.runtime.db.session() as s:
        visit = s.get(Visit, registration.visit_id)
        links = {"visit_id": visit.id, "patient_id": visit.patient_id, "unit": "rawat_jalan", "payer": "umum"}
        add_charge_lines(
            s,
            visit.site_id,
            [
                NewCharge(visit.service_date, tariff_code="KONS", description="Konsultasi dokter umum",
                          source_id=f"t:{visit.id}:kons", unit_price=85_000, **links),
                NewCharge(visit.service_date, tariff_code="LAB-DL", description="Darah lengkap",
                          source_id=f"t:{visit.id}:lab", unit_price=65_000, quantity=2, **links),
            ],
        )  # fmt: skip

    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, base, "keuangan")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.cashier")
    page.fill("#cash-search", "kasirindo")
    page.click("#cash-search-go")
    row = page.locator(f"#cash-results-table tr[data-episode='visit-{registration.visit_id}']")
    expect(row).to_contain_text("Rp 215.000")  # 85.000 + 2 × 65.000 not yet billed
    row.get_by_role("button", name="Buka").click()
    expect(page.locator("#cash-episode-name")).to_contain_text("Hendra Kasirindo")
    expect(page.locator("#cash-lines-table")).to_contain_text("Rp 130.000")

    page.click("#cash-create")
    expect(page.locator("#cash-create-done")).to_contain_text("Rp 215.000")
    expect(page.locator("#cash-create-row")).to_be_hidden()  # nothing left to bill
    invoice_row = page.locator("#cash-invoices-table tbody tr").first
    expect(invoice_row).to_contain_text("Belum lunas")
    invoice_row.get_by_role("button", name="Bayar").click()
    expect(page.locator("#cash-amount")).to_have_value("215.000")  # prefilled with what is outstanding

    page.select_option("#cash-method", "qris")
    page.fill("#cash-amount", "100.000")
    page.click("#cash-pay-go")
    expect(page.locator("#cash-reference-error")).to_have_text("Isi nomor referensi QRIS atau transfer.")
    expect(page.locator("#cash-amount")).to_have_value("100.000")  # what was typed is kept
    save_screenshot(page, "cashier-refused.png", full_page=True)
    page.fill("#cash-reference", "QRIS-20260302-0042")
    page.click("#cash-pay-go")
    expect(page.locator("#cash-pay-done")).to_contain_text("Rp 115.000")
    expect(page.locator("#cash-amount")).to_have_value("115.000")
    settled(page)

    page.select_option("#cash-method", "tunai")
    page.fill("#cash-amount", "120.000")
    page.click("#cash-pay-go")
    expect(page.locator("#cash-amount-error")).to_have_text("Melebihi sisa tagihan. Paling banyak Rp 115.000.")
    page.fill("#cash-amount", "115.000")
    page.click("#cash-pay-go")
    expect(page.locator("#cash-pay-done")).to_contain_text("lunas")
    expect(page.locator("#cash-invoices-table .cash-status")).to_have_text("Lunas")
    expect(page.locator("#cash-pay-card")).to_be_hidden()
    expect(row.locator("td").nth(5)).to_have_text("Rp 0")  # the list was searched again: nothing unbilled
    expect(row.locator("td").nth(6)).to_have_text("Rp 0")  # and nothing outstanding
    save_screenshot(page, "cashier.png", full_page=True)

    with page.expect_download() as download:
        page.locator("#cash-invoices-table").get_by_role("button", name="Kuitansi").click()
    pdf = tmp_path / "kuitansi.pdf"
    download.value.save_as(pdf)
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "KUITANSI PEMBAYARAN" in text and "Hendra Kasirindo" in text
    assert "QRIS (QRIS-20260302-0042) Rp 100.000" in text and "Tunai Rp 115.000" in text
    assert "Terbilang: dua ratus lima belas ribu rupiah" in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(TEST_SCREENSHOTS / "cashier-receipt")],
                   check=True)  # fmt: skip

    with pantau.runtime.db.session() as s:
        invoice = s.scalar(select(Invoice).where(Invoice.visit_id == registration.visit_id))
        payments = s.execute(
            select(Payment.method, Payment.amount, Payment.reference).where(Payment.invoice_id == invoice.id)
            .order_by(Payment.id)
        ).all()  # fmt: skip
        printed = s.scalar(select(AuditLog.target_id).where(AuditLog.action == "receipt_printed"))
    assert (invoice.total, invoice.paid, invoice.status) == (215_000, 215_000, "paid")
    assert payments == [("qris", 100_000, "QRIS-20260302-0042"), ("tunai", 115_000, None)]
    assert printed == str(invoice.id)
