"""End to end in a real browser: simulated monitors → MQTT → consumer → NEWS2/alarms → push → ward screen."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from bridge.embedded_stack import EmbeddedStack
from data.simulator_commands import send
from iot_sim.faults import Faults
from iot_sim.simulator import Simulator
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import sign_in

pytestmark = pytest.mark.browser
WATCHED = [f"MON-ICU-0{n}" for n in (1, 2, 3, 4)]


@pytest.fixture
def ward_stack(live_server):
    base, pantau = live_server
    tag = uuid.uuid4().hex[:8]
    stack = EmbeddedStack(
        pantau.runtime, simulate=True, devices=WATCHED, scenarios={}, client_id=f"pantau-consumer-{tag}"
    )
    stack.simulator.client_id_prefix = f"sim-{tag}"
    stack.start()
    yield base, pantau
    stack.stop()


def tile(page, bed: str):
    return page.locator(f"#tile-{bed}")


def test_bed_goes_into_alarm_when_its_scenario_switches_and_a_nurse_acknowledges(page, ward_stack, monkeypatch):
    base, pantau = ward_stack
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bangsal/ICU")
    expect(tile(page, "ICU-03").locator(".v-hr")).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
    expect(tile(page, "ICU-03").locator(".tile-alarm")).to_have_text("")

    assert send(pantau.runtime.broker, pantau.settings.site_code, {"bed": "ICU-03", "scenario": "arrest"})
    banner = tile(page, "ICU-03").locator(".tile-alarm")
    expect(banner).to_have_class(re.compile(r"alarm-high"), timeout=30_000)
    save_screenshot(page, "ward-alarm.png")

    item = page.locator("#ward-alarm-list .ward-alarm[data-bed='ICU-03']").first

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("api.alarms.acknowledge_alarm", broken)
    item.locator(".ward-ack").click()  # the server fails: the nurse is told, and can press again
    notice = page.locator("#pantau-request-failed")
    expect(notice).to_contain_text("Terjadi kesalahan pada sistem")
    expect(notice).to_contain_text("Alarm belum diterima")
    expect(item.locator(".ward-ack")).to_be_enabled()
    expect(item).not_to_have_class(re.compile(r"alarm-acked"))
    save_screenshot(page, "ward-ack-failed.png")
    monkeypatch.undo()

    item.locator(".ward-ack").click()
    expect(notice).to_be_hidden()  # the same action worked
    expect(item.locator(".ward-ack")).to_have_count(0)
    acked = page.locator("#ward-alarm-list .ward-alarm[data-bed='ICU-03']").first
    expect(acked).to_have_class(re.compile(r"alarm-acked"))
    expect(acked.locator(".ward-ack-by")).to_have_text("✓ perawat")  # who acknowledged, by name


def test_a_monitor_that_stops_sending_greys_its_tile_with_the_age(page, ward_stack):
    base, pantau = ward_stack
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bangsal/ICU")
    expect(tile(page, "ICU-05")).to_have_class(re.compile(r"\bstale\b"))
    expect(tile(page, "ICU-05").locator(".tile-stale-text")).to_have_text("Tidak ada data")

    extra = Simulator(
        pantau.runtime.broker,
        pantau.settings.site_code,
        ["MON-ICU-05"],
        scenarios={},
        client_id_prefix=f"sim-{uuid.uuid4().hex[:8]}",
        control=False,
    )
    extra.start()
    expect(tile(page, "ICU-05").locator(".v-hr")).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
    expect(tile(page, "ICU-05")).not_to_have_class(re.compile(r"\bstale\b"))
    extra.stop()
    expect(tile(page, "ICU-05")).to_have_class(re.compile(r"\bstale\b"))
    expect(tile(page, "ICU-05").locator(".tile-stale-text")).to_contain_text("Data lama")
    save_screenshot(page, "ward-stale.png")


def test_a_silent_monitor_alarm_names_the_condition_without_a_number(page, ward_stack):
    """A monitor online but sending nothing: "Tidak ada data monitor", not "… 3" (the seconds silent when it was
    raised, a number that means nothing to a nurse and never changes)."""
    base, pantau = ward_stack
    silent = Simulator(
        pantau.runtime.broker,
        pantau.settings.site_code,
        ["MON-ICU-05"],
        scenarios={},
        faults=Faults(drop=1.0),  # every vitals message dropped: online, and silent
        client_id_prefix=f"sim-{uuid.uuid4().hex[:8]}",
        control=False,
    )
    silent.start()
    try:
        sign_in(page, base, "perawat")
        expect(page.locator("#home-greeting")).to_be_visible()
        page.goto(f"{base}/bangsal/ICU")
        expect(tile(page, "ICU-05").locator(".tile-alarm")).to_have_text("Tidak ada data monitor", timeout=20_000)
    finally:
        silent.stop()
