"""Inpatient pages in a real browser: a nurse admits, transfers and discharges a patient and the bed board shows
the beds being cleaned; the front desk sees the admissions but cannot discharge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.admissions import AdtResult, admit, monitor_bed
from data.adt_notify import publish_adt
from data.inpatient_views import available_beds
from data.models import Admission, Device, Patient, User, Ward
from data.schedules import site_zone
from domain.actor import Actor
from domain.clock import utcnow
from domain.formats import long_date
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import choose, open_nav, sign_in

pytestmark = pytest.mark.browser


def _setup(pantau) -> tuple[str, dict[str, int]]:
    """A registered patient who is not admitted, and the free beds of Bangsal Melati."""
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(User.site_id).where(User.username == "perawat"))
        s.add(Patient(site_id=site_id, mrn="RI0001", name="Rahmawati Putri", birth_date=date(1980, 2, 3), sex="P"))
        ward = s.scalar(select(Ward).where(Ward.site_id == site_id, Ward.code == "MEL"))
        beds = {b.code: b.id for b in available_beds(s, site_id, ward.id)}
    return "RI0001", beds


def _admit(pantau, mrn: str, bed_id: int, at: datetime | None = None) -> AdtResult:
    """Admit the patient ``mrn`` to ``bed_id`` as the demo's nurse (at ``at``, else now)."""
    with pantau.runtime.db.session() as s:
        nurse = s.scalar(select(User).where(User.username == "perawat"))
        patient = s.scalar(select(Patient.id).where(Patient.mrn == mrn))
        return admit(
            s, Actor(nurse.id, nurse.username, nurse.site_id), patient_id=patient, bed_id=bed_id, source="desk", at=at
        )


def test_nurse_admits_transfers_and_discharges(page, live_server):
    base, pantau = live_server
    mrn, beds = _setup(pantau)
    first, second = list(beds)[:2]
    sign_in(page, base, "perawat")
    open_nav(page, "pages.inpatient")

    page.fill("#inpatient-search-mrn", mrn)
    page.fill("#inpatient-search-birth", "31-02-1990")  # no such day: said, not a failed request
    expect(page.locator("#inpatient-search-birth-words")).to_contain_text("Belum terbaca")
    page.click("#inpatient-search")
    expect(page.locator("#inpatient-search-feedback")).to_contain_text("Tanggal lahir tidak terbaca")
    page.fill("#inpatient-search-birth", "")
    page.click("#inpatient-search")
    expect(page.locator("#inpatient-patient")).to_contain_text("Rahmawati Putri")
    choose(page, "inpatient-ward", "Bangsal Melati")
    choose(page, "inpatient-bed", first)
    page.click("#inpatient-admit")
    expect(page.locator("#inpatient-admit-feedback")).to_contain_text(f"tempat tidur {first}")
    row = page.locator(f"#inpatient-row-{first}")
    expect(row).to_contain_text("Rahmawati Putri")
    save_screenshot(page, "inpatient-admitted.png", full_page=True)

    row.get_by_role("button", name="Pindahkan").click()
    expect(page.locator("#inpatient-transfer-modal")).to_be_visible()
    choose(page, "inpatient-transfer-bed", second)
    page.locator("#inpatient-transfer-save").click()
    expect(page.locator("#inpatient-list-feedback")).to_contain_text(f"dari {first} ke {second}")
    moved = page.locator(f"#inpatient-row-{second}")
    expect(moved).to_contain_text("Rahmawati Putri")
    expect(page.locator(f"#inpatient-row-{first}")).to_have_count(0)

    moved.get_by_role("button", name="Pulangkan").click()
    modal = page.locator("#inpatient-discharge-modal")
    expect(modal).to_be_visible()
    # Sent home, the time of death and the referral hospital are not asked; each shows for its own kind.
    died, referred = page.locator("#inpatient-died-date"), page.locator("#inpatient-referred-to")
    expect(died).to_be_hidden()
    expect(referred).to_be_hidden()
    modal.get_by_role("radio", name="Dirujuk", exact=True).check()
    expect(referred).to_be_visible()
    expect(died).to_be_hidden()
    modal.get_by_role("radio", name="Meninggal", exact=True).check()
    expect(died).to_be_visible()
    expect(referred).to_be_hidden()
    page.locator("#inpatient-discharge-save").click()
    expect(page.locator("#inpatient-discharge-feedback")).to_contain_text("Isi tanggal dan jam meninggal")
    modal.get_by_role("radio", name="Pulang (sembuh/perbaikan)").check()
    page.locator("#inpatient-discharge-save").click()
    expect(page.locator("#inpatient-list-feedback")).to_contain_text("dipulangkan")
    expect(page.locator(f"#inpatient-row-{second}")).to_have_count(0)

    open_nav(page, "pages.bed_board")
    for code in (first, second):
        tile = page.locator(f"#bedboard-bed-{code}")
        expect(tile).to_have_attribute("data-status", "cleaning")
        expect(tile).to_contain_text("Dibersihkan")
    save_screenshot(page, "bed-board.png", full_page=True)

    choose(page, "bedboard-status-bed", first)
    page.click("#bedboard-status-save")
    expect(page.locator("#bedboard-status-feedback")).to_contain_text(f"{first} sekarang: Tersedia")
    expect(page.locator(f"#bedboard-bed-{first}")).to_have_attribute("data-status", "available")


def test_front_desk_admits_but_cannot_discharge(page, live_server):
    base, pantau = live_server
    mrn, beds = _setup(pantau)
    code = next(iter(beds))
    _admit(pantau, mrn, beds[code])
    sign_in(page, base, "loket")
    open_nav(page, "pages.inpatient")
    row = page.locator(f"#inpatient-row-{code}")
    expect(row).to_contain_text("Rahmawati Putri")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.locator("#inpatient-admit")).to_be_visible()  # the desk admits
    open_nav(page, "pages.bed_board")
    expect(page.locator(f"#bedboard-bed-{code}")).to_have_attribute("data-status", "occupied")
    expect(page.locator("#bedboard-status-card")).to_be_hidden()  # bed states are for nurses and admins


def test_an_open_ward_station_redraws_a_newly_admitted_patient(page, live_server):
    base, pantau = live_server
    mrn, beds = _setup(pantau)
    code = next(iter(beds))
    sign_in(page, base, "perawat")
    page.goto(f"{base}/bangsal/MEL")
    tile = page.locator(f"[data-bed='{code}']").first
    expect(tile).to_be_attached()
    expect(tile).not_to_contain_text("RAH* P****")
    page.wait_for_timeout(1000)  # the push stream is subscribed
    page.evaluate("window.beforeAdmission = true")
    done = _admit(pantau, mrn, beds[code])
    publish_adt(pantau.runtime.live, pantau.runtime.db, 1, done.beds)
    expect(page.locator(f"[data-bed='{code}']").first).to_contain_text("RAH* P****", timeout=10_000)
    assert page.evaluate("window.beforeAdmission === undefined")  # the station reloaded itself


def test_a_discharge_form_opened_for_the_next_patient_starts_empty(page, live_server):
    """A death chosen and typed for one patient, the form closed unsaved: opened for the next patient, it asks
    afresh, sent home by default, nothing of the first one's in it."""
    base, _ = live_server
    sign_in(page, base, "perawat")
    open_nav(page, "pages.inpatient")
    rows, modal = page.locator("[id^=inpatient-row-]"), page.locator("#inpatient-discharge-modal")
    rows.nth(0).get_by_role("button", name="Pulangkan").click()
    modal.get_by_role("radio", name="Meninggal", exact=True).check()
    page.fill("#inpatient-died-date", "01-12-2026")
    page.fill("#inpatient-discharge-note", "Keluarga sudah diberi tahu")
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    rows.nth(1).get_by_role("button", name="Pulangkan").click()
    expect(modal).to_be_visible()
    expect(modal.get_by_role("radio", name="Pulang (sembuh/perbaikan)")).to_be_checked()
    expect(page.locator("#inpatient-died-date")).to_be_hidden()
    expect(page.locator("#inpatient-died-date")).to_have_value("")
    expect(page.locator("#inpatient-discharge-note")).to_have_value("")


def test_a_death_is_recorded_at_the_day_and_time_typed_day_first(page, live_server):
    """The date of death is typed day first and its time on the 24-hour clock (each read back in words under the
    field), whatever the browser's language, and the stay ends at that instant in the site's time zone."""
    base, pantau = live_server
    mrn, beds = _setup(pantau)
    code = next(iter(beds))
    admitted = _admit(pantau, mrn, beds[code], at=utcnow() - timedelta(days=3))
    with pantau.runtime.db.session() as s:
        zone = site_zone(s, s.scalar(select(User.site_id).where(User.username == "perawat")))
    died = (utcnow() - timedelta(days=1)).astimezone(zone).replace(second=0, microsecond=0)  # yesterday, this hour
    sign_in(page, base, "perawat")
    open_nav(page, "pages.inpatient")
    page.locator(f"#inpatient-row-{code}").get_by_role("button", name="Pulangkan").click()
    modal = page.locator("#inpatient-discharge-modal")
    modal.get_by_role("radio", name="Meninggal", exact=True).check()
    page.locator("#inpatient-died-date").press_sequentially(died.strftime("%d/%m/%Y"))
    expect(page.locator("#inpatient-died-date-words")).to_have_text(long_date(died.date()))
    page.fill("#inpatient-died-time", died.strftime("%H.%M"))  # the 24-hour clock, as Indonesia writes it
    expect(page.locator("#inpatient-died-time-words")).to_contain_text(died.strftime("pukul %H.%M"))
    page.locator("#inpatient-discharge-save").click()
    expect(page.locator("#inpatient-list-feedback")).to_contain_text("dipulangkan")
    with pantau.runtime.db.session() as s:
        stay = s.get(Admission, admitted.admission_id)
        assert stay.discharge_kind == "deceased"
        assert stay.died_at == died.astimezone(UTC)


def test_an_emergency_age_is_checked_and_a_typed_monitor_is_the_one_paired_on_transfer(page, live_server):
    """An age of 200 is refused with the rule, not stored as unknown; left empty it is unknown and the bed page
    says so. The transfer form opens with the monitor following her; a monitor id scanned there picks "another
    monitor" and is the one paired, and one typed under another choice is refused, never dropped."""
    base, pantau = live_server
    _, beds = _setup(pantau)
    first, second = list(beds)[:2]
    with pantau.runtime.db.session() as s:
        s.add(Device(site_id=1, device_id="MON-CADANGAN-1", model="Mindray ePM 10"))
    sign_in(page, base, "perawat")
    open_nav(page, "pages.inpatient")
    page.click("#inpatient-admit-er")
    expect(page.locator("#inpatient-admit-feedback")).to_contain_text("Pilih tempat tidur dulu")
    choose(page, "inpatient-ward", "Bangsal Melati")
    choose(page, "inpatient-bed", first)
    page.fill("#inpatient-er-age", "200")
    page.click("#inpatient-admit-er")
    expect(page.locator("#inpatient-admit-feedback")).to_contain_text("Perkiraan umur harus 0 sampai 130 tahun")
    expect(page.locator("#inpatient-er-age")).to_have_value("200")
    with pantau.runtime.db.session() as s:
        assert s.scalars(select(Patient).where(Patient.incomplete.is_(True))).all() == []
    page.fill("#inpatient-er-age", "")
    page.click("#inpatient-admit-er")
    expect(page.locator("#inpatient-admit-feedback")).to_contain_text(f"tempat tidur {first}")

    row = page.locator(f"#inpatient-row-{first}")
    row.get_by_role("button", name="Pindahkan").click()
    modal = page.locator("#inpatient-transfer-modal")
    expect(modal.get_by_role("radio", name="Monitor ikut pindah")).to_be_checked()
    choose(page, "inpatient-transfer-bed", second)
    modal.get_by_role("radio", name="Monitor ikut pindah").check()
    page.fill("#inpatient-transfer-monitor-id", "MON-CADANGAN-1")
    expect(modal.get_by_role("radio", name="Pasang monitor lain (ketik ID)")).to_be_checked()
    modal.get_by_role("radio", name="Pakai monitor tempat tidur tujuan").check()
    page.locator("#inpatient-transfer-save").click()
    expect(page.locator("#inpatient-transfer-feedback")).to_contain_text("ID monitor MON-CADANGAN-1 diketik")
    modal.get_by_role("radio", name="Pasang monitor lain (ketik ID)").check()
    page.locator("#inpatient-transfer-save").click()
    expect(page.locator("#inpatient-list-feedback")).to_contain_text(f"dari {first} ke {second}")
    with pantau.runtime.db.session() as s:
        assert run_monitor_bed(s, "MON-CADANGAN-1") == second

    page.goto(f"{base}/bed/{second}")
    expect(page.locator("#bed-patient-name")).to_be_visible()
    expect(page.locator("h1").locator("xpath=..")).to_contain_text("umur tidak diketahui")
    save_screenshot(page, "bed-unknown-age.png")


def run_monitor_bed(s, device_id: str) -> str | None:
    served = monitor_bed(s, 1, device_id)
    return served.code if served else None
