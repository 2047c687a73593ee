"""The bed page and the demo simulator page in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.admissions import current_admission, discharge
from data.adt_notify import publish_adt
from data.models import AlarmLimit, AuditLog, Observation, Spo2ScaleOrder, User
from data.wards import bed_by_code
from domain.actor import Actor
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import choose, open_nav, settled, sign_in
from tests.test_live_notify import PublishAway

pytestmark = pytest.mark.browser


def test_nurse_records_an_observation_and_changes_a_limit(page, live_server):
    base, pantau = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bed/ICU-03")
    expect(page.locator("#bed-patient-name")).to_have_text("Ahmad Fauzi")  # clinicians see the full name
    expect(page.locator("#bed-trend")).to_be_visible()

    page.get_by_text("Dengan oksigen").click()
    page.fill("#obs-hr", "900")
    page.click("#obs-submit")
    expect(page.locator("#obs-feedback")).to_contain_text("Periksa isian")
    expect(page.locator("#obs-consciousness-error")).to_have_text("Pilih tingkat kesadaran.")
    expect(page.locator("#obs-hr-error")).to_contain_text("Di luar rentang")
    expect(page.locator("#obs-hr")).to_have_value("900")  # nothing typed is lost

    page.get_by_text("Sadar (A)").click()
    page.fill("#obs-hr", "96")
    page.click("#obs-submit")
    expect(page.locator("#obs-feedback")).to_contain_text("Observasi disimpan")
    expect(page.locator("#obs-hr")).to_have_value("")

    page.locator("#limits-save").scroll_into_view_if_needed()
    expect(page.locator("#limits-custom-note")).to_be_hidden()
    limit(page, "spo2", "low").fill("88")  # below the profile's 90: a widening
    page.click("#limits-save")
    dialog = page.locator("#limits-confirm")
    expect(dialog).to_contain_text("SpO2 (%) bawah: 88 (profil 90)")
    page.click("#limits-confirm-save")  # no reason yet
    expect(page.locator("#limits-reason-error")).to_have_text("Tuliskan alasan klinis untuk melebarkan batas.")
    save_screenshot(page, "bed-limits-reason.png")
    with pantau.runtime.db.session() as s:
        assert s.scalars(select(AlarmLimit)).all() == []
    page.fill("#limits-reason", "PPOK, target SpO2 88-92 % (dr. Sari)")
    page.click("#limits-confirm-save")
    expect(page.locator("#limits-feedback")).to_contain_text("Batas alarm disimpan")
    expect(dialog).to_be_hidden()
    expect(page.locator("#limits-custom-note")).to_contain_text("Batas alarm khusus untuk bed ini")
    expect(page.locator("#ward-grid .tile-limits")).to_be_visible()  # the tile's marker, as on the station
    save_screenshot(page, "bed-page.png", full_page=True)
    with pantau.runtime.db.session() as s:
        obs = s.scalars(select(Observation).where(Observation.hr.is_not(None))).one()
        assert (obs.on_oxygen, obs.consciousness, obs.hr) == (True, "A", 96.0)
        assert s.scalars(select(AlarmLimit)).one().low == 88.0
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "alarm_limits_changed")).one()
        assert entry.detail["reason"] == "PPOK, target SpO2 88-92 % (dr. Sari)"

    page.reload()  # the note survives a reload; the reset button takes the bed back to the profile, audited
    expect(page.locator("#limits-custom-note")).to_be_visible()
    expect(page.locator("#ward-grid .tile-limits")).to_be_visible()  # from the stream's snapshot
    expect(limit(page, "spo2", "low")).to_have_value("88")
    settled(page)
    page.click("#limits-reset")
    expect(page.locator("#limits-feedback")).to_contain_text("dikembalikan ke profil")
    expect(page.locator("#limits-custom-note")).to_be_hidden()
    expect(page.locator("#ward-grid .tile-limits")).to_be_hidden()
    expect(limit(page, "spo2", "low")).to_have_value("")
    with pantau.runtime.db.session() as s:
        assert s.scalars(select(AlarmLimit)).all() == []
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "alarm_limits_changed")).all()) == 2


def open_bed_page(page, base: str, bed: str) -> None:
    """The nurse on the bed page of ``bed``, its forms ready."""
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bed/{bed}")
    expect(page.locator("#limits-save")).to_be_visible()
    settled(page)


def limit(page, param: str, side: str):
    """The bed page's limit input for ``param`` and ``side`` (a pattern id)."""
    return page.locator(f'input[id*=\'"param":"{param}"\'][id*=\'"side":"{side}"\']')


def test_a_limit_outside_the_monitor_range_is_refused_and_nothing_is_saved(page, live_server):
    base, pantau = live_server
    open_bed_page(page, base, "MEL-10")
    limit(page, "hr", "high").fill("30000")
    limit(page, "temp", "low").fill("-273")
    page.click("#limits-save")
    expect(page.locator("#limits-feedback")).to_contain_text("Belum ada yang disimpan")
    hr_error = page.locator('[id*=\'"type":"limit-error"\'][id*=\'"param":"hr"\'][id*=\'"side":"high"\']')
    expect(hr_error).to_have_text("Di luar rentang yang bisa diatur: 15–300 /min.")
    expect(hr_error).to_be_visible()
    expect(limit(page, "temp", "low")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(limit(page, "hr", "high")).to_have_value("30000")  # what was typed stays, to correct
    expect(page.locator("#limits-confirm")).to_be_hidden()
    save_screenshot(page, "bed-limits-out-of-range.png")
    with pantau.runtime.db.session() as s:
        assert s.scalars(select(AlarmLimit)).all() == []
        assert s.scalars(select(AuditLog).where(AuditLog.action == "alarm_limits_changed")).all() == []


def test_an_empty_bed_takes_no_observation(page, live_server):
    base, pantau = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bed/MEL-14")
    expect(page.locator("#obs-empty-bed")).to_contain_text("Bed kosong")
    expect(page.locator("#obs-submit")).to_be_disabled()
    expect(page.locator("#obs-hr")).to_be_disabled()
    save_screenshot(page.locator("#obs-form"), "bed-empty-observation.png")
    with pantau.runtime.db.session() as s:
        nurse = s.scalar(select(User.id).where(User.username == "perawat"))
        assert s.scalars(select(Observation).where(Observation.recorded_by == nurse)).all() == []


def test_admin_switches_a_simulated_scenario(page, live_server):
    base, _ = live_server
    sign_in(page, base, "admin")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.admin_simulator")
    expect(page.locator("#sim-apply")).to_be_visible()
    page.get_by_text("Henti jantung").click()
    page.click("#sim-apply")
    expect(page.locator("#sim-feedback")).to_contain_text("dikirim ke simulator")


def test_the_ward_station_marks_a_bed_with_custom_limits_as_they_change(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    station = page.context.new_page()  # the station stays open beside the bed page, as at a nurses' desk
    station.goto(f"{base}/bangsal/MEL")
    marker = station.locator("#tile-MEL-10 .tile-limits")
    expect(station.locator("#tile-MEL-10")).to_be_visible()
    expect(marker).to_be_hidden()

    page.goto(f"{base}/bed/MEL-10")
    expect(page.locator("#limits-save")).to_be_visible()
    settled(page)
    limit(page, "hr", "high").fill("110")  # narrower than the profile's 120: no reason needed
    page.click("#limits-save")
    expect(page.locator("#limits-feedback")).to_contain_text("Batas alarm disimpan")
    expect(marker).to_be_visible()  # pushed over the ward channel, no reload
    save_screenshot(station, "ward-custom-limits.png")
    page.click("#limits-reset")
    expect(page.locator("#limits-feedback")).to_contain_text("dikembalikan ke profil")
    expect(marker).to_be_hidden()


def test_a_doctor_puts_a_patient_on_spo2_scale_2_and_a_nurse_sees_it_on_the_bed_and_the_station(page, live_server):
    """The doctor is asked for the indication, then the choice is saved and said; the station beside the page
    marks the tile without reloading, and nothing typed on the bed page is lost; the nurse sees the scale, who
    chose it and why, and may not change it."""
    base, pantau = live_server
    why = "PPOK eksaserbasi, AGD PaCO2 58 mmHg"
    sign_in(page, base, "dokter")
    expect(page.locator("#home-greeting")).to_be_visible()
    station = page.context.new_page()
    station.goto(f"{base}/bangsal/ICU")
    marker = station.locator("#tile-ICU-03 .tile-spo2-scale")
    expect(station.locator("#tile-ICU-03")).to_be_visible()
    expect(marker).to_be_hidden()
    station.evaluate("window.sameStation = true")

    page.goto(f"{base}/bed/ICU-03")
    expect(page.locator("#spo2-scale-shown")).to_contain_text("Skala 1: target SpO2 96 % ke atas")
    settled(page)
    page.locator("#spo2-scale").get_by_text("Skala 2", exact=True).click()
    page.click("#spo2-scale-submit")
    expect(page.locator("#spo2-scale-reason-error")).to_contain_text("Tulis indikasi Skala 2")
    with pantau.runtime.db.session() as s:
        assert s.scalars(select(Spo2ScaleOrder)).all() == []
    page.fill("#spo2-scale-reason", why)
    page.fill("#obs-hr", "88")  # a nurse's set half typed on the same page stays
    page.click("#spo2-scale-submit")
    expect(page.locator("#spo2-scale-feedback")).to_contain_text("Disimpan: pasien memakai Skala 2")
    expect(page.locator("#spo2-scale-shown")).to_contain_text("Skala 2: target SpO2 88–92 %")
    expect(page.locator("#spo2-scale-order")).to_contain_text("Dipilih oleh dr. Sari Wulandari (demo), ")
    expect(page.locator("#spo2-scale-order")).to_contain_text(why)
    expect(page.locator("#spo2-scale-reason")).to_have_value("")
    expect(marker).to_be_visible()  # switched by the ward channel's "sc" message
    expect(marker).to_have_text("SpO2 S2")
    page.wait_for_timeout(2_000)  # a reload (what a patient's change does) would come within 1.5 s
    assert station.evaluate("window.sameStation") is True
    expect(page.locator("#obs-hr")).to_have_value("88")
    expect(page.locator("#spo2-scale-feedback")).to_contain_text("Disimpan: pasien memakai Skala 2")
    save_screenshot(page, "bed-spo2-scale.png", full_page=True)
    save_screenshot(station, "ward-spo2-scale.png")

    page.context.clear_cookies()
    open_bed_page(page, base, "ICU-03")
    expect(page.locator("#spo2-scale-order")).to_contain_text(why)
    expect(page.locator("#spo2-scale-card")).to_contain_text("Skala SpO2 dipilih oleh dokter.")
    expect(page.locator("#spo2-scale-submit")).to_be_disabled()


def test_a_nurse_records_a_pregnancy_and_the_news2_history_says_it_does_not_apply(page, live_server):
    """The card is on a woman's bed page only; saving it keeps what is typed in the observation form, and the NEWS2
    chart says why it shows no score."""
    base, pantau = live_server
    open_bed_page(page, base, "ICU-01")  # Siti Nurhaliza
    page.fill("#obs-hr", "92")
    page.locator("#obstetric-check").get_by_text("Pasien hamil").click()
    page.click("#obstetric-submit")
    expect(page.locator("#obstetric-feedback")).to_contain_text("Disimpan: pasien dicatat hamil atau nifas")
    expect(page.locator("#bed-news2")).to_contain_text("hamil atau nifas")
    expect(page.locator("#obs-hr")).to_have_value("92")
    save_screenshot(page, "bed-obstetric.png", full_page=True)
    with pantau.runtime.db.session() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "obstetric_set")).one().username == "perawat"
    page.goto(f"{base}/bed/ICU-03")  # Ahmad Fauzi
    expect(page.locator("#spo2-scale-card")).to_be_visible()
    expect(page.locator("#obstetric-card")).to_have_count(0)


def test_an_observation_and_limits_saved_while_the_live_store_is_away_are_kept_and_said_to_follow(
    page, live_server, monkeypatch
):
    """Redis out of the web app's reach: the saves are kept and confirmed, with a note that the screens follow
    (the clinical step reads them from the database within a minute), not an error that would make the nurse
    take the set again."""
    base, pantau = live_server
    open_bed_page(page, base, "ICU-03")
    monkeypatch.setattr(pantau.runtime, "live", PublishAway(pantau.runtime.live))
    page.get_by_text("Udara ruangan").click()
    page.get_by_text("Sadar (A)").click()
    page.fill("#obs-rr", "18")
    page.click("#obs-submit")
    expect(page.locator("#obs-feedback")).to_contain_text("Observasi disimpan")
    expect(page.locator("#obs-feedback")).not_to_contain_text("NEWS2 dihitung ulang")  # not yet: the note says when
    expect(page.locator("#obs-feedback .live-not-told")).to_contain_text("Tidak perlu menyimpan ulang")
    save_screenshot(page.locator("#obs-feedback"), "bed-obs-live-away.png")
    limit(page, "hr", "high").fill("110")
    page.click("#limits-save")
    expect(page.locator("#limits-feedback")).to_contain_text("Batas alarm disimpan")
    expect(page.locator("#limits-feedback .live-not-told")).to_be_visible()
    with pantau.runtime.db.session() as s:
        assert s.scalars(select(Observation).where(Observation.rr == 18.0)).one().on_oxygen is False
        assert s.scalars(select(AlarmLimit)).one().high == 110


def test_a_monitor_taken_off_a_patients_bed_leaves_what_the_nurse_types_and_a_discharge_redraws_the_page(
    page, live_server
):
    """The admin retires the monitor of the bed a nurse is charting on, then registers its replacement there: her
    page re-marks the tile each time without reloading, and the heart rate she typed stays. The patient's discharge
    then redraws the page."""
    base, pantau = live_server
    open_bed_page(page, base, "ICU-03")
    tile = page.locator("#tile-ICU-03")
    expect(tile).to_have_attribute("data-device", "MON-ICU-03")
    page.fill("#obs-hr", "77")
    page.evaluate("window.samePage = true")

    admin = page.context.browser.new_page()
    sign_in(admin, base, "admin")
    open_nav(admin, "pages.admin_devices")
    choose(admin, "devices-pick", "MON-ICU-03")
    asked: list[str] = []
    admin.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    admin.click("#devices-retire")
    expect(admin.locator("#devices-manage-feedback")).to_contain_text("Monitor MON-ICU-03 dipensiunkan")
    assert "sedang memantau pasien di ICU-03" in asked[0]  # the admin was told before she confirmed
    expect(admin.locator("#devices-manage-feedback .live-not-told")).to_have_count(0)

    expect(tile).to_have_attribute("data-device", "")
    page.wait_for_timeout(2_000)  # a reload (what a change of patient does) would come within 1.5 s
    assert page.evaluate("window.samePage") is True
    assert page.evaluate("window.pantauWard().beds['ICU-03'].monitored") is False
    expect(page.locator("#obs-hr")).to_have_value("77")

    admin.fill("#devices-new-id", "MON-ICU-03B")  # its replacement, registered at the bed
    admin.fill("#devices-new-model", "Mindray ePM 10")
    choose(admin, "devices-new-bed", "ICU-03")
    admin.click("#devices-new-submit")
    expect(admin.locator("#devices-new-feedback")).to_contain_text("MON-ICU-03B")
    expect(tile).to_have_attribute("data-device", "MON-ICU-03B")
    assert page.evaluate("window.pantauWard().beds['ICU-03'].monitored") is True
    page.wait_for_timeout(2_000)
    assert page.evaluate("window.samePage") is True
    expect(page.locator("#obs-hr")).to_have_value("77")
    save_screenshot(page, "bed-monitor-replaced.png")

    with pantau.runtime.db.session() as s:
        nurse = s.scalar(select(User).where(User.username == "perawat"))
        stay = current_admission(s, bed_by_code(s, nurse.site_id, "ICU-03").id)
        actor = Actor(nurse.id, nurse.username, nurse.site_id, "127.0.0.1")
        left = discharge(s, actor, admission_id=stay.id, kind="home", version=stay.version)
    assert publish_adt(pantau.runtime.live, pantau.runtime.db, actor.site_id, left.beds)
    expect(page.locator("#obs-empty-bed")).to_be_visible(timeout=10_000)
    assert page.evaluate("window.samePage") is None  # drawn afresh for the empty bed
    expect(page.locator("#limits-form")).to_contain_text("Batas alarm khusus diatur untuk pasien yang dirawat")
    expect(page.locator("#limits-save")).to_be_disabled()  # a bed's own limits are its patient's
    save_screenshot(page, "bed-empty-after-discharge.png", full_page=True)
    admin.close()
