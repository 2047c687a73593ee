"""The BPJS sync status page in a real browser: visits sent by the real worker to the sandbox over HTTP, and one
booking BPJS refused; an admin reads BPJS's message, retries it and sees it waiting to be sent again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bridge.bpjs.sandbox import create_sandbox
from bridge.bpjs_worker import BpjsWorker
from data.models import BpjsOutbox, Doctor
from tests.fixtures_browser import save_screenshot
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve
from tests.test_bpjs_outbox import jkn_bookings
from tests.test_bpjs_worker import drain, served_visits
from tests.test_browser_shell import open_nav, sign_in

pytestmark = pytest.mark.browser
REFUSED = "Dokter tidak ditemukan pada poli tersebut"


def test_admin_retries_a_refused_booking(page, live_server, monkeypatch):
    base, pantau = live_server
    sandbox = create_sandbox(CONS_ID, SECRET, USER_KEY, failure_rate=0.05, seed=11)
    with serve(sandbox) as url:
        monkeypatch.setattr(pantau.runtime.settings, "bpjs_base_url", url)
        for name, value in (("bpjs_cons_id", CONS_ID), ("bpjs_secret", SECRET), ("bpjs_user_key", USER_KEY)):
            monkeypatch.setattr(pantau.runtime.settings, name, value)
        worker = BpjsWorker(pantau.runtime.db, client_for(url), pantau.runtime.cipher)
        served_visits(pantau, 8)
        drain(worker)
        with pantau.runtime.db.session() as s:
            for doctor in s.scalars(select(Doctor)):
                doctor.bpjs_code = "99999"  # a doctor not mapped to BPJS's HFIS code: antrean/add answers 201
        (code,) = jkn_bookings(pantau, 1)
        drain(worker)
    with pantau.runtime.db.session() as s:
        refused = s.scalar(select(BpjsOutbox).where(BpjsOutbox.booking_code == code, BpjsOutbox.state == "failed"))
        assert refused.last_error == REFUSED

    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, base, "admin")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.bpjs_sync")
    expect(page.locator("#bsync-target")).to_have_text("SANDBOX")
    expect(page.locator("#bsync-not-configured")).to_have_count(0)
    # The first callbacks wait for plotly.js (the completeness chart) to load: allow for a slow machine.
    sent = page.locator("#bsync-card-sent-value")
    expect(sent).to_have_text("32", timeout=30_000)  # 8 visits × (antrean/add + tasks 3, 4, 5)
    expect(page.locator("#bsync-card-failed-value")).to_have_text("1")
    row = page.locator(f"#bsync-failures-table tr[data-id='{refused.id}']")
    expect(row).to_contain_text(REFUSED)
    expect(row).to_contain_text(code)
    expect(row).to_contain_text("antrean/add (pendaftaran)")
    expect(page.locator("#bsync-completeness-table tbody tr").last).to_contain_text("100 %")
    expect(page.locator("#bsync-completeness-chart .barlayer .point").first).to_be_visible()
    save_screenshot(page, "bpjs-sync.png", full_page=True)

    row.get_by_role("button", name="Kirim ulang").click()
    expect(page.locator("#bsync-feedback-message")).to_have_text(
        f"antrean/add (pendaftaran) untuk booking {code} kembali menunggu dikirim."
    )
    expect(page.locator("#bsync-card-failed-value")).to_have_text("0")
    expect(page.locator("#bsync-card-pending-value")).to_have_text("2")  # the add and its task 3 behind it
    expect(page.locator("#bsync-failures-table")).to_have_text("Tidak ada data yang ditolak BPJS.")
    with pantau.runtime.db.session() as s:
        assert s.get(BpjsOutbox, refused.id).state == "pending"


def test_front_desk_reads_without_retry(page, live_server):
    base, pantau = live_server
    (code,) = jkn_bookings(pantau, 1)
    with pantau.runtime.db.session() as s:
        head = s.scalar(select(BpjsOutbox).where(BpjsOutbox.booking_code == code).order_by(BpjsOutbox.id).limit(1))
        head.state, head.response_code, head.last_error = "failed", 201, REFUSED
    sign_in(page, base, "loket")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bpjs/sinkronisasi")
    expect(page.locator("#bsync-failures-table")).to_contain_text(REFUSED, timeout=30_000)
    expect(page.locator("#bsync-not-configured")).to_contain_text("BPJS belum dikonfigurasi")
    expect(page.get_by_role("button", name="Kirim ulang")).to_have_count(0)
