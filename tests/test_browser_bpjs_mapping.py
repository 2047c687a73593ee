"""A real Chromium: an admin pulls the BPJS reference through the worker (running against the sandbox), maps a
poli, sees it saved, and sees today's schedule compared with BPJS's."""

from __future__ import annotations

import threading
from datetime import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from bridge.bpjs.sandbox import create_sandbox
from bridge.bpjs_reference_pull import ReferencePuller
from bridge.bpjs_worker import BpjsWorker
from data.models import DoctorSchedule, Poli, Site
from data.schedules import local_today
from tests.fixtures_browser import save_screenshot
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve
from tests.test_bpjs_reference import move_todays_practice
from tests.test_browser_shell import collect_console_errors, sign_in

pytestmark = pytest.mark.browser
PULL_TIMEOUT_MS = 30_000


@pytest.fixture
def worker_and_sandbox(live_server):
    """The BPJS worker (with its reference puller) running against a sandbox, for the live server's database."""
    base, pantau = live_server
    with serve(create_sandbox(CONS_ID, SECRET, USER_KEY)) as url:
        client, db = client_for(url), pantau.runtime.db
        puller = ReferencePuller(db, client, pantau.settings.site_code)
        worker = BpjsWorker(db, client, pantau.runtime.cipher, reference=puller)
        with db.session() as s:  # Pantau's hours = the sandbox's default; Poli Umum not mapped yet
            s.execute(update(DoctorSchedule).values(start_time=time(8), end_time=time(16)))
            s.execute(update(Poli).where(Poli.code == "UMU").values(bpjs_code=None))
            day = local_today(s, s.scalar(select(Site.id)))
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        yield base, pantau, client, day, thread
        stop.set()
        if thread.is_alive():
            thread.join(10)


def poli_row(page, name: str):
    return page.locator("#bref-poli-table tbody tr", has_text=name)


def test_admin_pulls_maps_a_poli_and_sees_the_schedule_check(page, worker_and_sandbox):
    base, pantau, client, day, worker = worker_and_sandbox
    errors = collect_console_errors(page)
    change = {"hari": str(day.isoweekday()), "buka": "10:00", "tutup": "13:00"}
    assert client.update_jadwal_dokter(
        {"kodepoli": "INT", "kodesubspesialis": "INT", "kodedokter": 31003, "jadwal": [change]}
    ).ok
    with pantau.runtime.db.session() as s:
        site = s.scalar(select(Site.id))
    move_todays_practice(pantau, site, "31004", "16:00", "20:00")  # BPJS told: the kept morning is no mismatch
    moved = {"hari": str(day.isoweekday()), "buka": "16:00", "tutup": "20:00"}
    assert client.update_jadwal_dokter(
        {"kodepoli": "GIG", "kodesubspesialis": "GIG", "kodedokter": 31004, "jadwal": [moved]}
    ).ok

    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, base, "admin")
    page.goto(f"{base}/admin/bpjs/pemetaan")
    expect(page.locator("#bsync-target")).to_have_text("SANDBOX")
    expect(page.locator("#bref-empty")).to_contain_text("Data referensi BPJS masih kosong")
    expect(page.locator("#bref-pull-message")).to_have_text("Data referensi belum pernah berhasil ditarik.")

    worker.start()
    page.click("#bref-pull")
    expect(page.locator("#bref-pull-message")).to_contain_text("Terakhir berhasil ditarik", timeout=PULL_TIMEOUT_MS)
    umum = poli_row(page, "Poli Umum")
    expect(umum).to_contain_text("Belum dipetakan")
    expect(poli_row(page, "Poli Anak").locator("select")).to_have_value("ANA")

    umum.locator("select").select_option("ANA")
    umum.get_by_role("button", name="Simpan").click()
    expect(umum).to_contain_text("Kode ANA sudah dipetakan ke Poli Anak. Hapus pemetaan di sana dulu.")
    umum.locator("select").select_option("UMU")
    umum.get_by_role("button", name="Simpan").click()
    expect(umum).to_contain_text("Tersimpan")
    with pantau.runtime.db.session() as s:
        assert s.scalar(select(Poli.bpjs_code).where(Poli.code == "UMU")) == "UMU"
    compare = page.locator("#bref-compare-table")
    expect(compare.locator("tr", has_text="dr. Sari Wulandari")).to_contain_text("Jadwal BPJS belum ditarik")

    page.click("#bref-pull")  # pulled today already: only this request makes the worker pull UMU's jadwal
    expect(compare.locator("tr", has_text="dr. Sari Wulandari")).to_contain_text("Sama", timeout=PULL_TIMEOUT_MS)
    ratna = compare.locator("tr", has_text="dr. Ratna Dewi")
    expect(ratna).to_contain_text("08:00-16:00")
    expect(ratna).to_contain_text("10:00-13:00")
    expect(ratna).to_contain_text("Jam berbeda")
    agus = compare.locator("tr", has_text="drg. Agus Pratama")
    expect(agus).to_contain_text(
        "08:00-16:00(di luar jadwal mingguan, dipertahankan untuk pasien yang sudah terdaftar)"
    )
    expect(agus.locator("td").nth(3)).to_have_text("16:00-20:00")
    expect(agus).to_contain_text("Sama")
    expect(page.locator("#bref-compare-summary")).to_have_text("1 dari 6 jadwal tidak cocok.")
    save_screenshot(page, "bpjs-mapping.png", full_page=True)

    page.reload()
    expect(poli_row(page, "Poli Umum").locator("select")).to_have_value("UMU")
    expect(poli_row(page, "Poli Umum")).to_contain_text("Terpetakan")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
