"""The bulk import page in a real browser: an upload is dry-run at once and lists every bad row with its line;
apply stays off until a file checks clean, then saves every row."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import ServiceCounter
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in

pytestmark = pytest.mark.browser

BAD = "code;name;point\nLK-1;Loket 1;loket\nbad code;Loket 2;loket\nLK-3;;kasir\nLK-1;Loket 1 lagi;loket\n"
GOOD = "code,name,point\nLK-1,Loket 1,loket\nLK-2,Loket 2,loket\n"


def _upload(page, name: str, text: str) -> None:
    page.set_input_files(
        "#import-upload input[type=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": ("\ufeff" + text).encode()}],
    )


def test_admin_dry_runs_a_bad_file_then_applies_a_good_one(page, live_server, tmp_path):
    base, pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_import")
    page.select_option("#import-kind", "counters")
    expect(page.locator("#import-columns-table")).to_contain_text("poli:KODE")
    with page.expect_download() as download:
        page.click("#import-template-csv")
    saved = tmp_path / "t.csv"
    download.value.save_as(saved)
    assert saved.read_bytes().decode("utf-8-sig").strip() == "code;name;point"

    _upload(page, "loket.csv", BAD)
    expect(page.locator("#import-report")).to_contain_text("4 kesalahan")  # line 4 has two
    rows = page.locator("#import-errors tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(3)).to_contain_text("sudah ada di baris 2")
    expect(page.locator("#import-apply")).to_be_disabled()
    save_screenshot(page, "admin-import-dry-run.png", full_page=True)
    with pantau.runtime.db.session() as db:
        assert list(db.scalars(select(ServiceCounter.code))) == []

    with page.expect_file_chooser() as chooser:  # a click on the drop zone opens the file chooser
        page.click("#import-upload")
    chooser.value.set_files(files=[{"name": "loket-benar.csv", "mimeType": "text/csv", "buffer": GOOD.encode()}])
    expect(page.locator("#import-report")).to_contain_text("2 baris benar semua")
    expect(page.locator("#import-apply")).to_be_enabled()
    settled(page)
    page.click("#import-apply")
    expect(page.locator("#import-applied")).to_contain_text("2 baris loket disimpan")
    expect(page.locator("#import-apply")).to_be_disabled()
    with pantau.runtime.db.session() as db:
        assert sorted(db.scalars(select(ServiceCounter.code))) == ["LK-1", "LK-2"]
