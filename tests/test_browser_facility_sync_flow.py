"""Facility sync as staff live it, in a real browser: a Puskesmas (PKM) and a hospital (RS), each a Pantau web app
(gunicorn, tests/app_process.py) on its own PostgreSQL database with its own data keys and its own sync worker
(``python -m bridge.facility_sync run``), one Mosquitto between them. PKM's desk registers a woman; RS's desk finds
her by name under its own RM and corrects her phone; PKM's record shows the new phone; PKM deletes her and RS's
record says so and no search finds her; ``verify`` says both sites hold the same records.

Each site's pages read only its own database, which only its worker writes with what the other site did: without
RS's worker her record never reaches RS and the test fails at its first wait."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, text

from config import DEMO_DATA_KEY
from data.db import Database
from data.models import Patient, Site, SyncClock, SyncOutbox, SyncPeerStatus
from data.patients import decrypt_field
from i18n import translate
from testkit.chromium import LOCALE, TIMEZONE, VIEWPORT
from tests.app_process import WebAppProcess
from tests.facility_sync_sites import LINK_KEY, SiteDb, Worker, run_verify, wait_until
from tests.fixtures_app import make_settings
from tests.fixtures_browser import DEFAULT_TIMEOUT_MS, save_screenshot
from tests.test_browser_patient_record import field
from tests.test_browser_registration import open_desk, open_new_patient_form, submit_new_patient
from tests.test_browser_shell import open_page, settled, sign_in

pytestmark = pytest.mark.browser

NAME = "Sri Wahyuni Lestari"
BORN = "12-03-1985"  # as the desk types it, day first
NIK = "3171015203850001"  # a woman born 12-03-1985 in DKI Jakarta
PHONE = "081234567890"
NEW_PHONE = "081398765432"


@dataclass
class Facility:
    """One site of the story: its database, its web app and its sync worker."""

    site: SiteDb
    web: WebAppProcess
    worker: Worker

    @property
    def url(self) -> str:
        return self.web.url

    def patient_by_mrn(self, mrn: str) -> Patient:
        with self.site.db.session() as s:
            patient = s.scalar(select(Patient).where(Patient.mrn == mrn))
            s.expunge(patient)
            return patient

    def phone(self, sync_id: str) -> str | None:
        patient = self.site.patient(sync_id)
        return None if patient is None else decrypt_field(self.site.cipher, patient, "phone")


def demo_site_copy(postgres_server, template: str, code: str, seed: int) -> SiteDb:
    """A copy of the demo-seeded template as site ``code`` (the demo's Site row renamed), with data keys of its
    own; the template's demo key stays as an older key, so the demo's records still open."""
    url = postgres_server.create_database(f"fs_{code.lower().replace('-', '_')}", template=template)
    db = Database(url)
    with db.session() as s:
        s.execute(text("UPDATE site SET code = :code, name = :name"), {"code": code, "name": f"Site {code}"})
        site_id = s.scalar(select(Site.id).where(Site.code == code))
    own = f"{code.lower()}:" + base64.b64encode(bytes([seed]) * 32).decode()  # test key only
    return SiteDb(code, url, db, f"{own},{DEMO_DATA_KEY}", f"test-only-blind-index-key-of-site-{seed}", site_id)


@pytest.fixture
def facilities(postgres_server, postgres_template, mosquitto_server, tmp_path) -> Iterator[tuple[Facility, Facility]]:
    """PKM and RS, each with its web app and its worker running and registered for sync with the other."""
    tag = uuid.uuid4().hex[:4]
    pkm_site = demo_site_copy(postgres_server, postgres_template.name, f"PKM-{tag}", 1)
    rs_site = demo_site_copy(postgres_server, postgres_template.name, f"RS-{tag}", 2)
    made: list[Facility] = []
    try:
        for site, peer in ((pkm_site, rs_site), (rs_site, pkm_site)):
            worker = Worker(site, peer.code, mosquitto_server, tmp_path).start()
            settings = make_settings(
                tmp_path / site.code, site.url, "memory://", mosquitto_server.url, site_code=site.code,
                data_keys=site.data_keys, blind_index_key=site.blind_key, sync_peers=peer.code,
                sync_keys=f"{peer.code}:k1:{LINK_KEY}",
            )  # fmt: skip
            made.append(Facility(site, WebAppProcess(settings), worker))
        for facility in made:
            facility.web.start()
        # Sync is off in a database until its worker registered the site: no one is registered before that.
        wait_until(lambda: all(f.site.count(SyncClock) == f.site.count(SyncPeerStatus) == 1 for f in made), "sites")
        yield made[0], made[1]
    finally:
        for facility in made:
            facility.web.stop()
            facility.web.log.unlink(missing_ok=True)
            if facility.worker.alive():
                facility.worker.stop()
        for site in (pkm_site, rs_site):
            site.db.engine.dispose()


def desk_page(browser) -> Page:
    """A second desk's browser (its own cookies: both apps are on the loopback address)."""
    context = browser.new_context(viewport=VIEWPORT, locale=LOCALE, timezone_id=TIMEZONE)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


def search_by_name(page: Page, base: str) -> None:
    open_page(page, f"{base}/pasien")
    page.locator("#pat-search-by").get_by_text(translate("reg_search_by_name")).click()
    page.fill("#pat-search-text", "wahyuni")
    page.fill("#pat-search-birth", BORN)
    page.click("#pat-search-submit")


def test_a_patient_registered_at_the_puskesmas_is_corrected_at_the_hospital_and_deleted_at_both(
    facilities, page, browser, mosquitto_server, tmp_path
):  # facilities first: the pages close before the apps stop
    pkm, rs = facilities

    # 1. The Puskesmas front desk registers her.
    open_desk(page, pkm.url)
    open_new_patient_form(page)
    page.fill("#reg-new-name", NAME)
    page.fill("#reg-new-birth", BORN)
    page.get_by_label("Perempuan (P)").check()
    page.fill("#reg-new-phone", PHONE)
    page.fill("#reg-new-nik", NIK)
    submit_new_patient(page)
    expect(page.locator("#reg-new-saved")).to_contain_text("Pasien baru tersimpan dengan nomor RM")
    pkm_mrn = re.search(r"\d{6}", page.locator("#reg-new-saved").inner_text())[0]
    save_screenshot(page, "facility-sync-1-pkm-registered.png", full_page=True)
    sync_id = pkm.patient_by_mrn(pkm_mrn).sync_id
    wait_until(lambda: rs.site.patient(sync_id) is not None, "her record at RS", timeout=30)

    # 2. At the hospital the desk finds her by name, under the hospital's own RM, and corrects her phone.
    hospital = desk_page(browser)
    try:
        sign_in(hospital, rs.url, "loket")
        expect(hospital.locator("#home-greeting")).to_be_visible()
        search_by_name(hospital, rs.url)
        arrived = rs.site.patient(sync_id)
        assert arrived.site_id == rs.site.site_id  # numbered by the hospital: its own RM
        rs_mrn = arrived.mrn
        hits = hospital.locator("#pat-hits-table")
        expect(hits.locator("tbody tr")).to_have_count(1)
        expect(hits).to_contain_text(NAME)
        save_screenshot(hospital, "facility-sync-2-rs-found.png")
        hits.get_by_role("link", name=rs_mrn).click()
        hospital.wait_for_url(f"{rs.url}/pasien/{rs_mrn}")
        settled(hospital)
        expect(field(hospital, "nik")).to_have_value(NIK)
        expect(field(hospital, "phone")).to_have_value(PHONE)
        field(hospital, "phone").fill("0813-9876-5432")
        hospital.click("#pat-save")
        expect(hospital.locator("#pat-saved")).to_be_visible()
        expect(field(hospital, "phone")).to_have_value(NEW_PHONE)
        save_screenshot(hospital, "facility-sync-3-rs-corrected.png", full_page=True)

        # 3. Back at the Puskesmas her record shows the new phone.
        wait_until(lambda: pkm.phone(sync_id) == NEW_PHONE, "the new phone at PKM", timeout=30)
        open_page(page, f"{pkm.url}/pasien/{pkm_mrn}")
        expect(field(page, "phone")).to_have_value(NEW_PHONE)
        expect(field(page, "nik")).to_have_value(NIK)
        save_screenshot(page, "facility-sync-4-pkm-new-phone.png")

        # 4. The Puskesmas deletes her with a reason; at the hospital the record says deleted and no search finds her.
        page.click("#pat-delete-open")
        page.fill("#pat-delete-reason", "Terdaftar ganda di Puskesmas")
        page.click("#pat-delete-confirm")
        expect(page.locator("#pat-deleted")).to_be_visible()
        wait_until(lambda: rs.site.patient(sync_id).deleted_at is not None, "the deletion at RS", timeout=30)
        open_page(hospital, f"{rs.url}/pasien/{rs_mrn}")
        expect(hospital.locator("#pat-state-deleted")).to_contain_text(pkm.site.code)  # deleted by PKM
        expect(hospital.locator("#pat-save")).to_have_count(0)
        save_screenshot(hospital, "facility-sync-5-rs-deleted.png")
        search_by_name(hospital, rs.url)
        expect(hospital.locator("#pat-search-feedback")).to_contain_text(translate("err_no_patient_found"))
        expect(hospital.locator("#pat-hits-table tbody tr")).to_have_count(0)
    finally:
        hospital.context.close()

    # 5. Both sites hold the same records: verify says so.
    pending = SyncOutbox.acked_at.is_(None)
    wait_until(lambda: pkm.site.count(SyncOutbox, pending) == rs.site.count(SyncOutbox, pending) == 0, "all acked")
    done = run_verify(pkm.site, rs.site.code, mosquitto_server, tmp_path, "--peer", rs.site.code)
    assert (done.returncode, done.stdout.strip()) == (0, "identical: 1 records"), done.stderr
