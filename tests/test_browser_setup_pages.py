"""The hospital setup pages in a real browser: an admin creates a ward with two beds, a poli and a doctor, fixes
the fields each form marks beside themselves, and a form opened before another admin's save is refused as a
conflict with everything typed kept."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.facility import facility_profile, update_facility
from data.models import Site, Ward
from data.setup_wards import update_ward
from domain.actor import Actor
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in

pytestmark = pytest.mark.browser
INVALID = re.compile(r"\bis-invalid\b")
CONFLICT = "baru saja diubah oleh pengguna lain"


def _other_admin(session) -> Actor:
    return Actor(None, "admin-lain", session.scalar(select(Site.id)))


def test_an_admin_creates_a_ward_with_two_beds_and_a_stale_edit_is_a_conflict(page, live_server):
    base, pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_wards")
    page.fill("#setup-ward-code", "mawar")
    page.fill("#setup-ward-name", "Bangsal Mawar")
    page.select_option("#setup-ward-kind", "ward")
    page.select_option("#setup-ward-care-class", "2")
    page.fill("#setup-ward-bed-count", "0")
    page.click("#setup-ward-save")
    expect(page.locator("#setup-ward-bed-count-error")).to_contain_text("1–200")
    expect(page.locator("#setup-ward-bed-count")).to_have_class(INVALID)
    expect(page.locator("#setup-ward-name")).to_have_value("Bangsal Mawar")  # nothing typed is lost
    page.fill("#setup-ward-bed-count", "2")
    page.click("#setup-ward-save")
    expect(page.locator("#setup-ward-saved")).to_be_visible()
    expect(page.locator("#setup-ward-grid")).to_contain_text("Bangsal Mawar")
    expect(page.locator("#setup-bed-grid")).to_contain_text("MAWAR-01")
    expect(page.locator("#setup-bed-grid")).to_contain_text("MAWAR-02")
    expect(page.locator("#setup-ward-code")).to_be_disabled()  # the saved ward is open in the form
    settled(page)

    with pantau.runtime.db.session() as s:  # another admin saves the same ward meanwhile
        ward = s.scalar(select(Ward).where(Ward.code == "MAWAR"))
        edit = {"name": "Bangsal Mawar Lama", "kind": "ward", "care_class": "2"}
        update_ward(s, _other_admin(s), ward.id, edit, ward.version)
    page.fill("#setup-ward-name", "Bangsal Mawar Baru")
    page.click("#setup-ward-save")
    expect(page.locator("#setup-ward-error")).to_contain_text(CONFLICT)
    expect(page.locator("#setup-ward-name")).to_have_value("Bangsal Mawar Baru")
    save_screenshot(page, "setup-wards-conflict.png", full_page=True)
    with pantau.runtime.db.session() as s:
        assert s.scalar(select(Ward.name).where(Ward.code == "MAWAR")) == "Bangsal Mawar Lama"


def test_a_bad_ppk_code_is_shown_beside_its_field_and_a_stale_profile_is_a_conflict(page, live_server):
    base, pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_facility")
    expect(page.locator("#setup-facility-name")).not_to_have_value("")
    page.fill("#setup-facility-ppk-code", "0101R0")
    page.select_option("#setup-facility-timezone", "Asia/Makassar")
    page.click("#setup-facility-save")
    expect(page.locator("#setup-facility-ppk-code-error")).to_contain_text("8 huruf/angka")
    expect(page.locator("#setup-facility-ppk-code")).to_have_class(INVALID)
    expect(page.locator("#setup-facility-ppk-code")).to_have_value("0101R0")
    save_screenshot(page, "setup-facility-bad-ppk.png", full_page=True)

    with pantau.runtime.db.session() as s:
        site_id = _other_admin(s).site_id
        shown = facility_profile(s, site_id)
        values = {"name": "RSUD Lain", "ppk_code": "", "timezone": shown.timezone, "facility_class": ""}
        update_facility(s, _other_admin(s), values, shown.version)
    page.fill("#setup-facility-ppk-code", "0101R001")
    page.click("#setup-facility-save")
    expect(page.locator("#setup-facility-error")).to_contain_text(CONFLICT)
    expect(page.locator("#setup-facility-ppk-code")).to_have_value("0101R001")
    page.click("#setup-facility-reload")
    expect(page.locator("#setup-facility-name")).to_have_value("RSUD Lain")
    page.fill("#setup-facility-ppk-code", "0101R001")
    page.click("#setup-facility-save")
    expect(page.locator("#setup-facility-saved")).to_be_visible()
    with pantau.runtime.db.session() as s:
        assert facility_profile(s, site_id).ppk_code == "0101R001"


def test_an_admin_creates_a_poli_and_a_doctor_in_it(page, live_server):
    base, _pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_polis")
    page.fill("#setup-poli-code", "THT")
    page.fill("#setup-poli-name", "Poli THT")
    page.fill("#setup-poli-queue-prefix", "A")  # Poli Umum's
    page.fill("#setup-poli-bpjs-code", "TH")
    page.click("#setup-poli-save")
    expect(page.locator("#setup-poli-bpjs-code-error")).to_contain_text("3 huruf")
    page.fill("#setup-poli-bpjs-code", "THT")
    page.click("#setup-poli-save")
    expect(page.locator("#setup-poli-queue-prefix-error")).to_contain_text("Poli Umum")
    expect(page.locator("#setup-poli-bpjs-code")).not_to_have_class(INVALID)
    page.fill("#setup-poli-queue-prefix", "F")
    page.click("#setup-poli-save")
    expect(page.locator("#setup-poli-saved")).to_be_visible()
    expect(page.locator("#setup-poli-grid")).to_contain_text("Poli THT")
    save_screenshot(page, "setup-polis.png", full_page=True)

    open_nav(page, "pages.admin_doctors")
    page.fill("#setup-doctor-name", "dr. Rina Wijaya, Sp.THT-KL")
    page.fill("#setup-doctor-sip", "SIP 503/12/2026")
    page.fill("#setup-doctor-specialty", "THT-KL")
    page.fill("#setup-doctor-bpjs-code", "12a")
    page.select_option("#setup-doctor-poli-code", "THT")
    page.click("#setup-doctor-save")
    expect(page.locator("#setup-doctor-bpjs-code-error")).to_contain_text("hanya angka")
    page.fill("#setup-doctor-bpjs-code", "41234")
    page.click("#setup-doctor-save")
    expect(page.locator("#setup-doctor-saved")).to_be_visible()
    expect(page.locator("#setup-doctor-grid")).to_contain_text("dr. Rina Wijaya")
    expect(page.locator("#setup-doctor-grid")).to_contain_text("THT")
    save_screenshot(page, "setup-doctors.png", full_page=True)
