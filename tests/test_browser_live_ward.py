"""A ward station that is not live says so, in a real browser: the technical alarm "monitoring interrupted" when no
vital signs arrive (and its end when they do), and the full-screen "signed out" state when the session ends."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from api import live
from auth import users
from bridge.embedded_stack import EmbeddedStack
from data import live_keys
from data.alarm_limits import publish_limits_changed
from data.models import AlarmLimit, Bed, BedOccupancy
from data.wards import bed_by_code
from domain.clock import utcnow
from tests.fixtures_app import build_app, make_settings, served
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import sign_in
from tests.test_clinical_reconcile import discharge_without_message
from tests.test_cuff_readings import move_patient

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WATCHED = [f"MON-ICU-0{n}" for n in (1, 2, 3, 4)]
TECHNICAL = "#ward-technical-alarm"
NEWEST_POINT = "() => window.pantauWard().beds['ICU-01'].series.slice(-1)[0]"  # ICU-01's trend: [time, HR]


def start_stack(pantau) -> EmbeddedStack:
    """The consumer and four simulated monitors of ICU, on the app's own live store."""
    tag = uuid.uuid4().hex[:8]
    stack = EmbeddedStack(
        pantau.runtime, simulate=True, devices=WATCHED, scenarios={}, client_id=f"pantau-consumer-{tag}"
    )
    stack.simulator.client_id_prefix = f"sim-{tag}"
    stack.start()
    return stack


@pytest.fixture
def short_session_server(tmp_path, sqlite_url, mqtt_url):
    """The SQLite app with a 1-minute idle timeout and 4-second streams, served over HTTP for the browser."""
    settings = make_settings(
        tmp_path,
        sqlite_url,
        "memory://",
        mqtt_url,
        session_timeout_minutes=1,
        live_stream_seconds=4,
    )
    pantau = build_app(settings)
    with served(pantau) as base:
        stack = start_stack(pantau)
        yield base, pantau
        stack.stop()
    pantau.runtime.close()


def newest_rx(page, bed: str) -> int:
    """When the station last received a vitals tick of ``bed`` (server epoch ms; 0 before any)."""
    return page.evaluate(
        "bed => { const s = window.pantauWard(); return s ? Number(s.beds[bed].latest.rx || 0) : 0; }", bed
    )


def expect_updating(page, bed: str, timeout: float = 20) -> None:
    """The tile of ``bed`` receives a newer tick within ``timeout`` seconds."""
    before, deadline = newest_rx(page, bed), time.monotonic() + timeout
    while time.monotonic() < deadline:
        if newest_rx(page, bed) > before:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"{bed} received no new vital signs in {timeout:.0f} s")


def test_a_bed_with_changed_alarm_limits_is_marked_on_its_tile(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        bed = bed_by_code(s, users.find_user(s, "perawat").site_id, "ICU-04")
        s.add(AlarmLimit(bed_id=bed.id, parameter="hr", low=45, high=125))
    stack = start_stack(pantau)
    try:
        open_station(page, base)
        expect(page.locator("#tile-ICU-04")).to_have_class(re.compile(r"\blimits-custom\b"))  # from the snapshot
        expect(page.locator("#tile-ICU-04 .tile-limits")).to_be_visible()
        expect(page.locator("#tile-ICU-04 .tile-limits")).to_have_text("Batas diubah")
        expect(page.locator("#tile-ICU-02 .tile-limits")).to_be_hidden()
        publish_limits_changed(pantau.runtime.live, "ICU", "ICU-02", custom=True)
        expect(page.locator("#tile-ICU-02 .tile-limits")).to_be_visible()
        publish_limits_changed(pantau.runtime.live, "ICU", "ICU-04", custom=False)
        expect(page.locator("#tile-ICU-04")).not_to_have_class(re.compile(r"\blimits-custom\b"))
        expect(page.locator("#tile-ICU-04 .tile-limits")).to_be_hidden()
    finally:
        stack.stop()


def test_a_station_that_missed_a_discharge_redraws_the_bed_when_its_stream_reconnects(page, short_session_server):
    """The discharge is stored but its ``b`` message never sent (the live store away from the web app): the next
    snapshot's tile keys differ from the page's, so the station reloads, once, and shows the bed empty."""
    base, pantau = short_session_server
    listening_station(page, base)
    expect(page.locator("#tile-ICU-03 .tile-patient")).not_to_have_text("Kosong")
    page.evaluate("window.pantauDrawnBefore = true")
    discharge_without_message(pantau.runtime.db, "ICU-03")
    expect(page.locator("#tile-ICU-03")).to_have_class(re.compile(r"\bbed-empty\b"), timeout=15_000)
    assert page.evaluate("window.pantauDrawnBefore") is None  # reloaded
    page.evaluate("window.pantauDrawnAfter = true")
    page.wait_for_timeout(7_000)  # a stream's end (4 s) and a reload's pause (1.5 s): the keys agree now
    assert page.evaluate("window.pantauDrawnAfter") is True
    save_screenshot(page, "ward-missed-discharge.png")


def listening_station(page, base: str) -> None:
    """The nurse's ICU station, open and past its snapshot (ticks published now are drawn)."""
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bangsal/ICU")
    page.wait_for_function("() => window.pantauWard() && window.pantauWard().tz")


def open_station(page, base: str) -> None:
    """The station, with the simulated monitors' values on it."""
    listening_station(page, base)
    expect(page.locator("#tile-ICU-01 .v-hr")).to_have_text(re.compile(r"^\d+$"))


def test_no_data_raises_the_technical_alarm_within_ten_seconds_and_it_clears(page, live_server):
    base, pantau = live_server
    stack = start_stack(pantau)
    try:
        open_station(page, base)
        expect_updating(page, "ICU-01")
        expect(page.locator(TECHNICAL)).to_have_count(0)
    finally:
        stack.stop()  # the consumer and the monitors go: the stream stays up, but nothing arrives
    alarm = page.locator(f"{TECHNICAL}.ward-technical-interrupted")
    expect(alarm, "no technical alarm 15 s after the last tick (it is raised at 10 s)").to_be_visible(timeout=15_000)
    expect(alarm).to_contain_text("MONITORING TERHENTI")
    expect(alarm).to_contain_text(re.compile(r"Bed terdampak: ICU-01, ICU-02, ICU-03, ICU-04"))
    expect(alarm).to_contain_text(re.compile(r"sejak \d\d[.:]\d\d[.:]\d\d"))
    expect(alarm.locator(".ward-sound-enable")).to_be_visible()  # sound is off in a fresh browser: ask for it
    expect(page.locator("#ward-alarm-list")).to_contain_text("Status alarm tidak diketahui")
    expect(page.locator("#ward-alarm-list")).not_to_contain_text("Tidak ada alarm aktif")
    save_screenshot(page, "ward-monitoring-interrupted.png")
    page.evaluate(
        """() => { const alerts = window.PantauWardAlerts, play = alerts.play; window.__technicalSounds = 0;
                   alerts.play = p => { if (p === alerts.TECHNICAL) { window.__technicalSounds += 1; } play(p); }; }"""
    )
    alarm.locator(".ward-sound-enable").click()  # the click a browser wants before a page may sound
    expect(alarm.locator(".ward-sound-enable")).to_have_count(0)
    assert page.evaluate("window.PantauWardAlerts.blocked()") is False
    page.wait_for_function("() => window.__technicalSounds >= 2", timeout=15_000)  # it repeats

    stack = start_stack(pantau)
    try:
        expect(alarm).to_have_count(0, timeout=20_000)
        expect_updating(page, "ICU-01")
        expect(page.locator("#ward-alarm-list")).not_to_contain_text("Status alarm tidak diketahui")
    finally:
        stack.stop()


def test_a_stream_that_fails_is_reconnected_and_says_when_it_tries_again(page, live_server, monkeypatch):
    base, pantau = live_server
    monkeypatch.setattr(live, "stream_seconds", lambda: 2)  # the stream ends soon; reconnecting then fails
    stack = start_stack(pantau)
    try:
        open_station(page, base)
        page.route("**/stream/ward/**", lambda route: route.fulfill(status=502, body="bad gateway"))
        connection = page.locator("#ward-connection")
        expect(connection).to_have_text(re.compile(r"^Koneksi terputus · menyambung ulang dalam \d+ dtk$"))
        expect(page.locator(f"{TECHNICAL}.ward-technical-interrupted")).to_be_visible(timeout=15_000)
        page.unroute("**/stream/ward/**")
        expect(page.locator(TECHNICAL)).to_have_count(0, timeout=15_000)  # the backoff is at most 5 s
        expect(connection).to_have_text("")
        expect_updating(page, "ICU-01")
    finally:
        stack.stop()


def test_a_nurse_whose_session_ends_sees_that_the_screen_is_not_monitoring(page, short_session_server):
    base, _ = short_session_server
    open_station(page, base)
    expect_updating(page, "ICU-01")
    signed_out = page.locator(f"{TECHNICAL}.ward-technical-signed-out")
    expect(signed_out).to_be_visible(timeout=100_000)  # 1 min idle, then the next 4 s stream is refused
    expect(signed_out).to_contain_text("Anda telah keluar — layar ini TIDAK memantau")
    expect(signed_out.locator("a.ward-sign-in")).to_have_attribute("href", "/login?next=%2Fbangsal%2FICU")
    for bed in ("ICU-01", "ICU-02"):
        expect(page.locator(f"#tile-{bed} .v-hr")).to_have_text("---")  # never frozen numbers
    assert newest_rx(page, "ICU-01") == 0
    save_screenshot(page, "ward-signed-out.png")


def test_the_bed_page_raises_the_same_technical_alarm_for_its_bed(page, live_server):
    base, _ = live_server  # no consumer, no monitors: nothing arrives
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bed/ICU-02")
    alarm = page.locator(f"{TECHNICAL}.ward-technical-interrupted")
    expect(alarm).to_be_visible(timeout=20_000)
    expect(alarm).to_contain_text("Bed terdampak: ICU-02")
    expect(alarm).not_to_contain_text("ICU-01")
    expect(page.locator("#ward-alarm-list")).to_contain_text("Status alarm tidak diketahui")


def ticker(pantau) -> Callable[..., None]:
    """``tick(ts, hr, **fields)``: a vitals tick of ICU-01 on its ward channel, as a consumer publishes it (``fields``:
    its cuff reading, its pairing ``p``, its receipt time ``rx`` when not ``ts``)."""

    def tick(ts: int, hr: int, **fields: int) -> None:
        message = {"t": "v", "bed": "ICU-01", "ts": ts, "rx": ts, "hr": hr, **fields}
        pantau.runtime.live.publish(live_keys.ward_channel("ICU"), json.dumps(message))

    return tick


def test_a_tile_keeps_the_newest_values_whichever_consumer_ticks(page, live_server):
    """Two consumers on a shared subscription each carry the newest cuff reading *they* received: the tile shows
    the newest of all, never flips back to an older one, and takes a new reading whole. A tick of an older sample
    than the tile shows leaves its vital signs and heart-rate trend as they are."""
    base, pantau = live_server
    listening_station(page, base)
    nibp, now, tick = page.locator("#tile-ICU-01 .v-nibp"), int(time.time() * 1000), ticker(pantau)

    older, newer = now - 180_000, now - 1_000
    tick(now - 500, 80, sbp=132, dbp=84, map=100, nibp_ts=newer)  # consumer A received the last cuff reading
    expect(nibp).to_have_text("132/84 (100)")
    tick(now, 81, sbp=95, dbp=60, map=72, nibp_ts=older)  # consumer B still carries the one before
    expect(page.locator("#tile-ICU-01 .v-hr")).to_have_text("81")  # B's tick is drawn ...
    expect(nibp).to_have_text("132/84 (100)")  # ... without its older cuff reading
    tick(now + 1_000, 82, sbp=150, nibp_ts=now + 1_000)  # a new reading with only the systolic
    expect(nibp).to_have_text("150/--")
    assert page.evaluate(NEWEST_POINT) == [now + 1_000, 82]
    tick(now + 500, 70, sbp=160, dbp=90, map=113, nibp_ts=now + 2_000)  # an older sample, yet the newest reading
    expect(nibp).to_have_text("160/90 (113)")  # the tick was read ...
    expect(page.locator("#tile-ICU-01 .v-hr")).to_have_text("82")  # ... and its older heart rate not put back
    assert page.evaluate(NEWEST_POINT) == [now + 1_000, 82]


def test_a_monitor_paired_later_is_shown_though_its_clock_is_behind(page, live_server):
    """The bed's monitor is swapped for one whose clock is two minutes behind: the tile shows the new monitor's
    values and cuff reading at once, and a late tick of the old monitor (its clock ahead) does not put its own back."""
    base, pantau = live_server
    listening_station(page, base)
    hr, nibp = page.locator("#tile-ICU-01 .v-hr"), page.locator("#tile-ICU-01 .v-nibp")
    now, tick = int(time.time() * 1000), ticker(pantau)
    tick(now, 80, p=7, sbp=130, dbp=85, map=100, nibp_pairing=7, nibp_ts=now)  # the old monitor
    expect(hr).to_have_text("80")
    behind = now - 120_000
    tick(behind, 112, rx=now + 500, p=8, sbp=92, dbp=58, map=69, nibp_pairing=8, nibp_ts=behind)  # the new one
    expect(hr).to_have_text("112")
    expect(nibp).to_have_text("92/58 (69)")
    expect(page.locator("#tile-ICU-01 .v-nibp-age")).to_have_text(re.compile(r"^\d dtk$"))  # just measured
    tick(now + 1_000, 81, p=7, sbp=131, dbp=86, map=101, nibp_pairing=7, nibp_ts=now + 1_000)  # the old one, late
    tick(behind + 1_000, 113, rx=now + 1_500, p=8)
    expect(hr).to_have_text("113")
    expect(nibp).to_have_text("92/58 (69)")
    assert page.evaluate(NEWEST_POINT) == [now + 1_500, 113]
    expect(page.locator("#tile-ICU-01")).not_to_have_class(re.compile(r"\bstale\b"))  # received just now
    save_screenshot(page.locator("#tile-ICU-01"), "ward-monitor-swap.png")


def test_a_cuff_readings_age_is_on_the_servers_clock_whatever_the_monitors_clock_says(page, live_server):
    """A monitor whose clock runs three minutes ahead: its reading taken three minutes ago is shown as three
    minutes old, not as just taken (nor, for one running behind, as older than it is)."""
    base, pantau = live_server
    listening_station(page, base)
    age, now, tick = page.locator("#tile-ICU-01 .v-nibp-age"), int(time.time() * 1000), ticker(pantau)
    ahead = now + 180_000
    tick(ahead - 180_000, 80, rx=now - 180_000, p=3, sbp=128, dbp=80, map=96, nibp_pairing=3, nibp_ts=ahead - 180_000)
    tick(ahead, 81, rx=now, p=3)
    expect(page.locator("#tile-ICU-01 .v-hr")).to_have_text("81")
    expect(age).to_have_text("3 mnt")
    behind = now - 240_000
    tick(behind, 82, rx=now, p=4, sbp=118, dbp=75, map=89, nibp_pairing=4, nibp_ts=behind)  # another monitor
    expect(page.locator("#tile-ICU-01 .v-nibp")).to_have_text("118/75 (89)")
    expect(age).to_have_text(re.compile(r"^\d dtk$"))


def new_stay_on_icu_01(pantau) -> datetime:
    """ICU-01's stay made to have begun two minutes ago (the live store still holding what came before); returns
    when it began."""
    began = utcnow() - timedelta(minutes=2)
    with pantau.runtime.db.session() as s:
        bed_id = s.scalar(select(Bed.id).where(Bed.code == "ICU-01"))
        s.execute(
            update(BedOccupancy).where(BedOccupancy.bed_id == bed_id, BedOccupancy.until.is_(None)).values(since=began)
        )
    return began


def test_the_previous_occupants_cuff_reading_is_not_shown_on_the_new_patients_tile(page, live_server):
    """The monitor and the consumers still hold the last cuff reading when the bed gets a new patient: a reading
    taken before her stay began is not hers, so her tile shows none until the cuff measures again."""
    base, pantau = live_server
    began = new_stay_on_icu_01(pantau)
    listening_station(page, base)
    nibp, age, tick = page.locator("#tile-ICU-01 .v-nibp"), page.locator("#tile-ICU-01 .v-nibp-age"), ticker(pantau)
    start, now = int(began.timestamp() * 1000), int(time.time() * 1000)
    tick(now, 80, sbp=150, dbp=95, map=113, nibp_ts=start - 1_000)  # the previous patient's, a second before
    expect(page.locator("#tile-ICU-01 .v-hr")).to_have_text("80")  # the tick was read ...
    expect(nibp).to_have_text("---")  # ... and its reading not shown
    expect(age).to_have_text("")
    tick(now + 1_000, 81, sbp=118, dbp=76, map=90, nibp_ts=start)  # hers, as her stay began
    expect(nibp).to_have_text("118/76 (90)")
    expect(page.locator("#tile-ICU-02 .v-nibp")).to_have_text("---")  # no reading there: nothing mixed up


TREND_DRAWN = """bed => {
  const c = document.querySelector(`#tile-${bed} .tile-spark`);
  return c.getContext("2d").getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0);
}"""  # whether any pixel of the bed's heart-rate trend is drawn


def leave_values(pantau, bed: str, received: int) -> None:
    """``bed``'s last patient's values as the live store keeps them (received at ``received``), with her trend."""
    pantau.runtime.live.set_latest(
        live_keys.latest(bed),
        {"ts": received, "rx": received, "hr": 88, "spo2": 97, "rr": 18, "temp": 36.8, "sbp": 121, "dbp": 79,
         "nibp_ts": received - 60_000, "news2": 1, "news2_complete": "1", "news2_risk": "low"},
    )  # fmt: skip
    for hr in (86, 87, 88):
        pantau.runtime.live.append_stream(live_keys.vitals_stream(bed), {"hr": hr}, 100)


def test_an_empty_bed_shows_only_values_still_arriving(page, live_server):
    """The patient has left ICU-13, and the live store still holds her last values: the empty bed's tile shows none
    of them, not even greyed as old data. A monitor left on there shows its values while they arrive; when it stops
    they go again, so a nurse cannot take an empty bed for a monitored one."""
    base, pantau = live_server
    now = int(time.time() * 1000)
    leave_values(pantau, "ICU-13", now - 30_000)
    listening_station(page, base)
    tile = page.locator("#tile-ICU-13")
    for numeric in ("hr", "spo2", "rr", "temp", "nibp"):
        expect(tile.locator(f".v-{numeric}")).to_have_text("---")
    expect(tile.locator(".tile-news2")).to_have_text("")
    expect(tile).not_to_have_class(re.compile(r"\bstale\b"))
    assert not page.evaluate(TREND_DRAWN, "ICU-13")
    message = {"t": "v", "bed": "ICU-13", "ts": now, "rx": int(time.time() * 1000), "hr": 64, "spo2": 95}
    pantau.runtime.live.publish(live_keys.ward_channel("ICU"), json.dumps(message))
    expect(tile.locator(".v-hr")).to_have_text("64")  # arriving: shown
    expect(tile.locator(".v-hr")).to_have_text("---", timeout=6_000)  # no longer arriving: gone, not greyed
    expect(tile).not_to_have_class(re.compile(r"\bstale\b"))
    save_screenshot(page.locator("#ward-grid"), "ward-empty-bed.png")


def test_a_new_patients_tile_shows_nothing_of_the_previous_occupant(page, live_server):
    """ICU-01's stay began two minutes ago, after the live store last heard of the bed: the values, NEWS2 and trend
    it holds are the previous occupant's, so the tile says it has no data for her until her monitor sends."""
    base, pantau = live_server
    began = new_stay_on_icu_01(pantau)
    start = int(began.timestamp() * 1000)
    leave_values(pantau, "ICU-01", start - 1_000)
    listening_station(page, base)
    tile = page.locator("#tile-ICU-01")
    expect(tile.locator(".v-hr")).to_have_text("---")
    expect(tile.locator(".v-nibp")).to_have_text("---")
    expect(tile.locator(".tile-news2")).to_have_text("")
    expect(tile.locator(".tile-stale-text")).to_have_text("Tidak ada data")
    assert not page.evaluate(TREND_DRAWN, "ICU-01")
    tick = ticker(pantau)
    now = int(time.time() * 1000)
    tick(now - 1_000, 72)
    tick(now, 74)
    expect(tile.locator(".v-hr")).to_have_text("74")
    expect(tile.locator(".tile-stale-text")).to_have_text("")
    page.wait_for_function(TREND_DRAWN, arg="ICU-01")  # her own trend


def test_a_transferred_patient_brings_her_blood_pressure_to_her_new_tile(page, live_server):
    """Moved from ICU-03 to ICU-13 five minutes ago, her cuff has not measured since: her new tile shows the reading
    taken on ICU-03, with its age, until her own on the new bed replaces it; the bed she left shows none."""
    base, pantau = live_server
    move_patient(pantau.runtime.db, utcnow(), "ICU-03", "ICU-13", {12: 127.0})
    listening_station(page, base)
    new, old = page.locator("#tile-ICU-13"), page.locator("#tile-ICU-03")
    expect(new.locator(".v-nibp")).to_have_text("127/80")
    expect(new.locator(".v-nibp-age")).to_have_text("12 mnt")
    expect(old.locator(".v-nibp")).to_have_text("---")
    save_screenshot(page.locator("#ward-grid"), "ward-transferred-cuff.png")
    now = int(time.time() * 1000)
    message = {"t": "v", "bed": "ICU-13", "ts": now, "rx": now, "hr": 77, "sbp": 112, "dbp": 71, "nibp_ts": now}
    pantau.runtime.live.publish(live_keys.ward_channel("ICU"), json.dumps(message))
    expect(new.locator(".v-nibp")).to_have_text("112/71")
    page.goto(f"{base}/bed/ICU-13")
    expect(page.locator("#tile-ICU-13 .v-nibp")).to_have_text("127/80")  # the bed page's tile, from the database
