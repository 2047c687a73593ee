"""The finance page in a real browser (issue 14's Done when #1): a manager opens /keuangan, changes the period and
the payer, drills into a chart's bar (the modal's rows are that bar's lines), downloads the XLSX and the PDF, and
their totals are the screen's; a front-desk user cannot reach the page. No console error on the way."""

from __future__ import annotations

import io
import re
import subprocess
import time
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import delete, select

from api.plotly_bundle import TRACE_TYPES
from components.finance_format import period_text
from data.census import ensure_census
from data.charges import NewCharge, add_charge_lines
from data.finance_demo import load_demo_slice
from data.models import AuditLog, ChargeDaily, ChargeLine, Site
from data.schedules import local_today
from domain.finance import month_period
from tests.fixtures_browser import save_screenshot
from tests.test_browser_console import CallbackWatch
from tests.test_browser_shell import open_nav, sign_in

pytestmark = pytest.mark.browser
CALLBACKS = re.compile(r"/_dash-update-component")  # with a query string (?endId=...)


def rupiah(text: str) -> int:
    """``Rp 1.234.567`` (as the page writes it) as an integer."""
    match = re.search(r"(-?)Rp\s*([\d.]+)", text)
    assert match, text
    return int(match.group(2).replace(".", "")) * (-1 if match.group(1) else 1)


def _lines(site_id: int, this_month: date, last_month: date) -> list[NewCharge]:
    """This month: 3 JKN outpatient consultations (Rp 150.000), 2 self-pay pharmacy sales (4 × Rp 12.500) and an
    insured inpatient day (Rp 450.000) = Rp 1.000.000; last month: 2 JKN consultations = Rp 300.000."""
    second = this_month + timedelta(days=1)
    return [
        *(NewCharge(this_month, "rawat_jalan", "jkn", "KONS", "Konsultasi", f"k{n}", 150_000) for n in range(2)),
        NewCharge(second, "rawat_jalan", "jkn", "KONS", "Konsultasi", "k2", 150_000),
        *(NewCharge(second, "farmasi", "umum", "OBAT", "Obat", f"o{n}", 12_500, quantity=4) for n in range(2)),
        NewCharge(this_month, "rawat_inap", "asuransi", "KAMAR", "Kamar kelas 1", "r0", 450_000),
        *(NewCharge(last_month, "rawat_jalan", "jkn", "KONS", "Konsultasi", f"p{n}", 150_000) for n in range(2)),
    ]


def _only_these_charges(session, site_id: int, lines: list[NewCharge]) -> None:
    """The test's lines alone: the midnight census, which the page brings up to yesterday before it reports, is
    recorded now and the room and care it charged the demo's stays are removed with every other line."""
    ensure_census(session, site_id, local_today(session, site_id) - timedelta(days=1))
    session.execute(delete(ChargeLine).where(ChargeLine.site_id == site_id))
    session.execute(delete(ChargeDaily).where(ChargeDaily.site_id == site_id))
    add_charge_lines(session, site_id, lines)


def _revenue(page) -> int:
    return rupiah(page.locator("#finpg-kpi-revenue-value").inner_text())


def _open_bar_drill(page, chart: str, index: int) -> None:
    """Click a Plotly bar where a person would (its middle), after hovering it as a person does, until its
    drill-down opens. Plotly listens on the plot's drag layer and clicks the point its hover found; a click made as
    the chart redraws (the page still settling after a reload) finds none and does nothing. That happened twice in
    loaded suite runs, with no callback request at all, so like a person the test clicks again, at most twice more."""
    bar = page.locator(f"#finpg-chart-{chart} .barlayer .point").nth(index)
    for _ in range(3):
        bar.scroll_into_view_if_needed()
        box = bar.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(page.locator(f"#finpg-chart-{chart} .hoverlayer .hovertext")).to_have_count(1)
        page.mouse.down()
        page.mouse.up()
        try:
            expect(page.locator("#finpg-drill-modal")).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            page.mouse.move(0, 0)  # off the chart: the next hover is a new one
    expect(page.locator("#finpg-drill-modal")).to_be_visible()


def test_manager_filters_drills_and_exports(page, live_server, tmp_path):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        today = local_today(s, site_id)
        start, end = month_period(today.year, today.month)
        before = start - timedelta(days=1)
        previous_start, previous_end = month_period(before.year, before.month)
        _only_these_charges(s, site_id, _lines(site_id, start, previous_start))  # within the days compared
    watch = CallbackWatch(page)
    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, base, "manajer")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.finance")
    expect(page.locator("#finpg-kpi-revenue-value")).to_have_text("Rp 1.000.000", timeout=30_000)
    expect(page.locator("#finpg-kpi-revenue")).to_contain_text("▲ 233,3 %")  # against last month's 300.000
    if today < end:  # this month still runs: compared with its days so far of last month
        compared = period_text(previous_start, min(previous_start + (today - start), previous_end), "id")
        expect(page.locator("#finpg-running")).to_contain_text(f"dibandingkan dengan hari yang sama, {compared} dan")
    expect(page.locator("#finpg-chart-by_day .barlayer .point")).not_to_have_count(0)

    page.click("#finpg-preset-last_month")
    expect(page.locator("#finpg-kpi-revenue-value")).to_have_text("Rp 300.000")
    expect(page).to_have_url(re.compile(f"dari={previous_start.isoformat()}&sampai={previous_end.isoformat()}"))
    page.go_back()  # the address kept the view: Back shows this month again
    expect(page.locator("#finpg-kpi-revenue-value")).to_have_text("Rp 1.000.000", timeout=30_000)
    expect(page).to_have_url(re.compile(r"/keuangan$"))

    page.locator("#finpg-payer").click()
    page.get_by_role("option", name="JKN (BPJS Kesehatan)").first.click()
    page.keyboard.press("Escape")
    expect(page.locator("#finpg-kpi-revenue-value")).to_have_text("Rp 450.000")
    expect(page).to_have_url(re.compile("penjamin=jkn"))
    expect(page.locator("#finpg-kpi-lines-value")).to_have_text("3")

    page.reload()  # the address alone reproduces the view
    expect(page.locator("#finpg-kpi-revenue-value")).to_have_text("Rp 450.000", timeout=30_000)

    expect(page.locator("#finpg-chart-by_unit .barlayer .point")).to_have_count(1)  # JKN: outpatient only
    _open_bar_drill(page, "by_unit", 0)
    expect(page.locator("#finpg-drill-title")).to_contain_text("Jumlah baris: 3")
    expect(page.locator("#finpg-drill-modal .ag-center-cols-container .ag-row")).to_have_count(3)
    expect(page.locator("#finpg-drill-modal .ag-center-cols-container")).to_contain_text("Konsultasi")
    page.keyboard.press("Escape")
    expect(page.locator("#finpg-drill-modal")).to_be_hidden()

    page.locator("#finpg-table-by_payer .ag-row", has_text="JKN").first.click()  # a table row opens its lines too
    expect(page.locator("#finpg-drill-title")).to_contain_text("JKN (BPJS Kesehatan) · Jumlah baris: 3")
    expect(page.locator("#finpg-drill-modal .ag-center-cols-container .ag-row")).to_have_count(3)
    page.keyboard.press("Escape")
    expect(page.locator("#finpg-drill-modal")).to_be_hidden()

    shown = _revenue(page)
    label = page.locator("#finpg-kpi-revenue-label").text_content()
    with page.expect_download() as download:
        page.click("#finpg-export-xlsx")
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    summary = book.worksheets[0]
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and row[0]}
    assert values[label] == shown == 450_000
    assert "Manajer (demo)" in " ".join(str(row[0]) for row in summary.iter_rows(values_only=True) if row[0])

    with page.expect_download() as download:
        page.click("#finpg-export-pdf")
    pdf = tmp_path / "keuangan.pdf"
    pdf.write_bytes(download.value.path().read_bytes())
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Rp 450.000" in text and "Halaman 1 dari" in text

    with pantau.runtime.db.session() as s:
        formats = s.scalars(select(AuditLog.detail).where(AuditLog.action == "finance_export")).all()
    assert [d["format"] for d in formats] == ["xlsx", "pdf"]
    assert all(d["filters"] == {"payer": "jkn"} for d in formats)

    page.locator("#finpg-tabs label", has_text="Klaim BPJS").click()
    expect(page.locator("#finpg-report-claims")).to_be_visible()
    expect(page).to_have_url(re.compile("laporan=claims.*penjamin=jkn"))
    watch.settle(page)
    assert not watch.problems, watch.problems


def test_a_drill_down_opened_at_once_after_another_shows_its_own_rows(page, live_server):
    """Open the JKN row's lines, close them and at once open self-pay's: self-pay's rows show, not JKN's. The test
    holds back the first two rows requests (the JKN opening's, and the next) and lets the JKN one's answer arrive
    only after the self-pay opening asked for its rows, as a slow server would: that answer must neither show nor
    block self-pay's rows. Then the insured row's lines are opened while self-pay's still show (the click
    dispatched to the row under the open dialog): the grid stays, and it shows the insured line only. Sorting the
    open drill-down still sorts on the server."""
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        today = local_today(s, site_id)
        start, _ = month_period(today.year, today.month)
        _only_these_charges(s, site_id, _lines(site_id, start, start - timedelta(days=20)))
    held: list = []

    def hold_rows(route) -> None:
        if len(held) < 2 and "getRowsRequest" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    watch = CallbackWatch(page)
    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, base, "manajer")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/keuangan")
    expect(page.locator("#finpg-kpi-revenue-value")).to_have_text("Rp 1.000.000", timeout=30_000)
    page.route(CALLBACKS, hold_rows)
    title = page.locator("#finpg-drill-title")
    rows = page.locator("#finpg-drill-modal .ag-center-cols-container .ag-row")
    shown = page.locator("#finpg-drill-modal .ag-center-cols-container")

    page.locator("#finpg-table-by_payer .ag-row", has_text="JKN").first.click()
    expect(title).to_contain_text("JKN (BPJS Kesehatan) · Jumlah baris: 3")
    _wait_for(page, lambda: len(held) == 1)  # the JKN opening's rows are asked for, and held back
    page.keyboard.press("Escape")
    page.locator("#finpg-table-by_payer .ag-row", has_text="Umum").first.click()
    expect(title).to_contain_text("Umum · Jumlah baris: 2")
    _wait_for(page, lambda: len(held) == 2)  # the self-pay opening asked too
    first, second = held
    first.continue_()  # the JKN rows answer arrives after the self-pay opening asked for its rows
    first.request.response()
    page.wait_for_timeout(300)
    second.continue_()
    expect(rows).to_have_count(2)
    expect(shown).to_contain_text("Obat")
    expect(shown).not_to_contain_text("Konsultasi")
    page.unroute(CALLBACKS)

    page.locator("#finpg-table-by_payer .ag-row", has_text="Asuransi").first.locator(".ag-cell").first.dispatch_event(
        "click"
    )
    expect(title).to_contain_text("Asuransi swasta · Jumlah baris: 1")
    expect(rows).to_have_count(1)
    expect(shown).to_contain_text("Kamar kelas 1")
    expect(shown).not_to_contain_text("Obat")

    page.locator("#finpg-drill-modal .ag-header-cell[col-id='amount']").click()  # sorted on the server
    expect(page.locator("#finpg-drill-modal .ag-header-cell[aria-sort='ascending']")).to_have_count(1)
    expect(rows).to_have_count(1)
    expect(shown).to_contain_text("Kamar kelas 1")  # the sorted request's answer reached the grid
    watch.settle(page)
    assert not watch.problems, watch.problems


def _wait_for(page, done, timeout_s: float = 15) -> None:
    """Wait (bounded) until ``done()`` is true, letting the page run meanwhile."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def test_front_desk_cannot_reach_finance(page, live_server):
    base, _ = live_server
    sign_in(page, base, "loket")
    expect(page.locator("#home-greeting")).to_be_visible()
    expect(page.locator("[id='nav-pages.finance']")).to_have_count(0)
    page.goto(f"{base}/keuangan")
    expect(page.locator("#forbidden")).to_have_text("Tidak punya akses")


def test_a_demo_month_reads_at_a_glance(page, live_server):
    """The demo generator's last weeks (helper 7's data/finance_demo.py): every report tab draws its chart without a
    console error; the revenue tab is the screenshot in docs/screenshots/finance.png."""
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        today = local_today(s, site_id)
    assert load_demo_slice(pantau.runtime, site_id, today, days=40) > 0
    start, end = month_period(today.year, today.month)
    if today.day < 15:  # early in a month: show the whole previous one
        before = start - timedelta(days=1)
        start, end = month_period(before.year, before.month)
    watch = CallbackWatch(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "manajer")
    expect(page.locator("#home-greeting")).to_be_visible()
    for key, chart in (
        ("claims", "by_status"),
        ("receivables", "ageing"),
        ("margin", "per_cbg"),
        ("revenue", "by_day"),
    ):
        page.goto(f"{base}/keuangan?laporan={key}&dari={start.isoformat()}&sampai={end.isoformat()}")
        expect(page.locator(f"#finpg-chart-{chart} .main-svg").first).to_be_visible(timeout=30_000)
        watch.settle(page)
    expect(page.locator("#finpg-chart-by_payer .slice")).not_to_have_count(0)
    # drawn by plotly.js's basic bundle (api/plotly_bundle.py), which holds exactly the trace types Pantau draws
    assert set(page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces)")) == TRACE_TYPES
    save_screenshot(page, "finance.png", full_page=True)
    assert not watch.problems, watch.problems
