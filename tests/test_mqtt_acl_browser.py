"""An admin registers a monitor, reads its password once, issues a new one and retires it, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import choose, open_nav, settled, sign_in

pytestmark = pytest.mark.browser


def test_admin_registers_rotates_and_retires_a_monitor(page, live_server):
    base, _ = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_devices")
    expect(page.locator("#devices-grid")).to_contain_text("MON-ICU-01")
    expect(page.locator("#devices-broker-mode")).to_contain_text("tidak diperiksa broker")  # no admin configured

    page.fill("#devices-new-id", "MON-UJI-01")
    page.click("#devices-new-submit")
    expect(page.locator("#devices-new-model-error")).to_have_text("Isikan merek dan model monitor.")  # by the field
    expect(page.locator("#devices-new-id")).to_have_value("MON-UJI-01")  # nothing typed is lost
    page.fill("#devices-new-model", "Mindray ePM 10")
    page.click("#devices-new-submit")
    expect(page.locator("#devices-new-feedback")).to_contain_text("isikan nama pengguna MQTT MON-UJI-01")
    first = page.locator("#devices-password").inner_text()
    assert len(first) >= 32
    expect(page.locator("#devices-grid tr", has_text="MON-UJI-01")).to_contain_text("Aktif")
    save_screenshot(page, "admin-devices.png", full_page=True)

    settled(page)
    choose(page, "devices-pick", "MON-UJI-01")
    page.click("#devices-rotate")
    expect(page.locator("#devices-manage-feedback #devices-password")).to_be_visible()
    assert page.locator("#devices-manage-feedback #devices-password").inner_text() != first

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#devices-retire")
    expect(page.locator("#devices-manage-feedback")).to_contain_text("Monitor MON-UJI-01 dipensiunkan")
    assert "MON-UJI-01" in asked[0]  # the question names the monitor that will go
    expect(page.locator("#devices-grid tr", has_text="MON-UJI-01")).to_contain_text("Dipensiunkan")
