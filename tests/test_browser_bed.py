"""The bed page and the demo simulator page in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import AlarmLimit, Observation
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, sign_in

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
    page.locator('input[id*=\'"param":"spo2"\'][id*=\'"side":"low"\']').fill("88")
    page.click("#limits-save")
    expect(page.locator("#limits-feedback")).to_contain_text("Batas alarm disimpan")
    save_screenshot(page, "bed-page.png", full_page=True)
    with pantau.runtime.db.session() as s:
        obs = s.scalars(select(Observation).where(Observation.hr.is_not(None))).one()
        assert (obs.on_oxygen, obs.consciousness, obs.hr) == (True, "A", 96.0)
        assert s.scalars(select(AlarmLimit)).one().low == 88.0


def test_admin_switches_a_simulated_scenario(page, live_server):
    base, _ = live_server
    sign_in(page, base, "admin")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.admin_simulator")
    expect(page.locator("#sim-apply")).to_be_visible()
    page.get_by_text("Henti jantung").click()
    page.click("#sim-apply")
    expect(page.locator("#sim-feedback")).to_contain_text("dikirim ke simulator")
