"""The SIMRS bill import page in a real browser: a finance user uploads a CSV, maps the one column Pantau could
not guess, sees the bad line, uploads the corrected file (its mapping kept) and applies it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import ChargeLine
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in

pytestmark = pytest.mark.browser

HEADER = "no_rawat;tgl_perawatan;kd_poli;nm_perawatan;biaya;kelompok_bayar\n"
BAD = HEADER + "R-1;2026-03-02;UMU;Konsultasi;75.000;BPJS\nR-2;31/02/2026;UMU;Konsultasi;75.000;UMUM\n"
FIXED = HEADER + "R-1;2026-03-02;UMU;Konsultasi;75.000;BPJS\nR-2;28/02/2026;UMU;Konsultasi;75.000;UMUM\n"


def _upload(page, name: str, text: str) -> None:
    page.set_input_files(
        "#bimp-upload input[type=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": ("\ufeff" + text).encode()}],
    )


def test_finance_maps_a_column_fixes_a_line_and_applies(page, live_server):
    base, pantau = live_server
    sign_in(page, base, "keuangan")
    open_nav(page, "pages.finance_import")
    page.fill("#bimp-system", "SIMRS Khanza")
    _upload(page, "tagihan.csv", BAD)
    expect(page.locator("#bimp-file")).to_contain_text("tagihan.csv (6 kolom)")
    payer = page.locator('[id*=\'"field":"payer"\']')
    expect(payer).to_have_value(" ")  # "kelompok_bayar" is not a name Pantau guesses
    expect(page.locator('[id*=\'"field":"amount"\']')).to_have_value("biaya")
    settled(page)
    page.click("#bimp-check")
    expect(page.locator("#bimp-report")).to_contain_text("Pilih kolom untuk penjamin")

    payer.select_option("kelompok_bayar")
    settled(page)
    page.click("#bimp-check")
    rows = page.locator("#bimp-errors tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(0)).to_contain_text("Tanggal “31/02/2026” tidak dikenali")
    expect(page.locator("#bimp-apply")).to_be_disabled()
    save_screenshot(page, "finance-bill-import-errors.png", full_page=True)

    _upload(page, "tagihan-benar.csv", FIXED)
    expect(page.locator("#bimp-file")).to_contain_text("tagihan-benar.csv")
    expect(payer).to_have_value("kelompok_bayar")  # the corrected file keeps the user's mapping
    settled(page)
    page.click("#bimp-check")
    expect(page.locator("#bimp-checked-ok")).to_contain_text("2 baris baru, 0 sudah pernah diimpor")
    expect(page.locator("#bimp-apply")).to_be_enabled()
    settled(page)
    page.click("#bimp-apply")
    expect(page.locator("#bimp-applied")).to_contain_text("2 baris baru, 0 sudah pernah diimpor")
    expect(page.locator("#bimp-apply")).to_be_disabled()
    save_screenshot(page, "finance-bill-import-applied.png", full_page=True)
    with pantau.runtime.db.session() as db:
        lines = db.execute(select(ChargeLine.source_id, ChargeLine.payer, ChargeLine.amount)).all()
    assert sorted(lines) == [("SIMRS Khanza:R-1", "jkn", 75_000), ("SIMRS Khanza:R-2", "umum", 75_000)]
