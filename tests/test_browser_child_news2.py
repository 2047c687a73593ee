"""NEWS2's exclusions end to end (RCP 2017): the clinical step does not score a child under 16, nor anyone on a
ward an admin made a maternity ward, and the ward station, the bed page and the nurse's home say so instead of
showing an adult's score."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bridge.clinical import ClinicalPipeline
from data import live_keys
from data.admissions import current_admission
from data.models import Patient, User, Ward
from data.schedules import local_today
from data.staff_assignments import set_staff_wards
from data.wards import bed_by_code
from domain.actor import Actor
from domain.vitals_contract import VitalsMessage
from tests.fixtures_browser import save_screenshot
from tests.test_browser_live_ward import listening_station
from tests.test_browser_shell import choose, collect_console_errors, open_page, sign_in

pytestmark = pytest.mark.browser


def _a_toddler_in_icu_03(pantau) -> None:
    """ICU-03's patient made three years old, and the nurse assigned to the ICU."""
    with pantau.runtime.db.session() as s:
        nurse = s.scalar(select(User).where(User.username == "perawat"))
        bed_id = bed_by_code(s, nurse.site_id, "ICU-03").id
        patient = s.get(Patient, current_admission(s, bed_id).patient_id)
        patient.birth_date = local_today(s, nurse.site_id) - timedelta(days=3 * 365 + 20)
        icu = s.scalars(select(Ward.id).where(Ward.site_id == nurse.site_id, Ward.code == "ICU")).all()
        set_staff_wards(s, Actor(nurse.id, nurse.username, nurse.site_id, "127.0.0.1"), nurse.id, icu)


VITALS = dict(hr=125.0, spo2=98.0, rr=32.0, temp=36.9, ecg_status="ok", spo2_status="ok", sqi_ecg=0.95, sqi_spo2=0.95)


def _send(pipeline: ClinicalPipeline, pantau, bed: str, ts: int) -> None:
    """One second of the bed's monitor, through the clinical step, and its tick as the consumer keeps it."""
    msg = VitalsMessage(site="DEMO", device_id=f"MON-{bed}", seq=ts // 1000, ts=ts, received=ts, **VITALS)
    pipeline.on_samples([SimpleNamespace(msg=msg, bed=bed)], ts)
    shown = {k: VITALS[k] for k in ("hr", "spo2", "rr", "temp")}
    pantau.runtime.live.set_latest(live_keys.latest(bed), {"ts": ts, "rx": ts, **shown})


def _score_her_monitor(pantau, seconds: int = 40) -> None:
    """Her monitor's last ``seconds`` on ICU-03: a heart rate of 125 and breathing of 32, normal at three, which
    NEWS2 would score 5 (pulse 2, breathing 3) and sound its alarm for."""
    pipeline = ClinicalPipeline(pantau.runtime.db, pantau.runtime.live)
    pipeline.load()
    start = int(time.time() * 1000) - seconds * 1000
    for n in range(seconds):
        _send(pipeline, pantau, "ICU-03", start + n * 1000)


def test_a_three_year_olds_news2_is_shown_as_not_applicable_everywhere(page, live_server):
    base, pantau = live_server
    _a_toddler_in_icu_03(pantau)
    _score_her_monitor(pantau)
    errors = collect_console_errors(page)

    listening_station(page, base)
    badge = page.locator("#tile-ICU-03 .tile-news2")
    expect(badge).to_have_text("NEWS2 n/a")
    expect(badge).to_have_attribute(
        "title",
        re.compile(
            r"^NEWS2 tidak berlaku untuk anak di bawah 16 tahun, pasien hamil atau nifas, dan di ruang kebidanan"
        ),
    )
    expect(page.locator("#tile-ICU-03 .tile-alarm")).not_to_contain_text("NEWS2")
    save_screenshot(page.locator("#tile-ICU-03"), "ward-tile-child.png")

    open_page(page, f"{base}/bed/ICU-03")
    expect(page.locator("#bed-patient-name").locator("..")).to_contain_text("3 th")
    expect(page.locator("#bed-news2")).to_contain_text("anak di bawah 16 tahun")
    save_screenshot(page.locator("#bed-news2"), "bed-news2-child.png")

    open_page(page, f"{base}/")
    row = page.locator("#nurse-patients [data-bed='ICU-03']")
    expect(row).to_contain_text("NEWS2 n/a")
    expect(row).to_contain_text("sesuai instruksi")
    expect(page.locator("#nurse-news2 [data-bed='ICU-03']")).to_have_count(0)
    save_screenshot(page, "nurse-home-child.png", full_page=True)
    assert errors == []


def test_an_admin_makes_melati_a_maternity_ward_and_news2_scores_nobody_there(page, live_server):
    """The running clinical step hears of the saved ward (a ``wards`` control message) and stops scoring its
    patients: no restart needed."""
    base, pantau = live_server
    pipeline = ClinicalPipeline(pantau.runtime.db, pantau.runtime.live)
    pipeline.start()
    try:
        errors = collect_console_errors(page)
        sign_in(page, base, "admin")
        open_page(page, f"{base}/admin/bangsal")
        choose(page, "setup-ward-pick", "Bangsal Melati")
        expect(page.locator("#setup-ward-name")).to_have_value("Bangsal Melati")
        page.select_option("#setup-ward-kind", "maternity")
        page.click("#setup-ward-save")
        expect(page.locator("#setup-ward-saved")).to_be_visible()
        expect(page.locator("#setup-ward-grid")).to_contain_text("Kebidanan")

        deadline = time.monotonic() + 15
        while True:
            _send(pipeline, pantau, "MEL-02", int(time.time() * 1000))  # an adult's monitor on MEL-02 goes on sending
            if pantau.runtime.live.get_latest(live_keys.latest("MEL-02")).get("news2_risk") == "not_applicable":
                break
            assert time.monotonic() < deadline, "the running clinical step still scores the maternity ward"
            time.sleep(0.2)
        open_page(page, f"{base}/bangsal/MEL")
        page.wait_for_function("() => window.pantauWard() && window.pantauWard().tz")
        badge = page.locator("#tile-MEL-02 .tile-news2")
        expect(badge).to_have_text("NEWS2 n/a")
        expect(badge).to_have_attribute("title", re.compile("ruang kebidanan"))
        assert errors == []
    finally:
        pipeline.stop()
