"""The ward central station in headless Chromium, watched the way a nurse would: are the tiles live, is a
"monitoring interrupted" or "signed out" state covering the screen, and which alarms did it show.

A probe injected before the page's own scripts records, for every bed, when its last vitals message reached the
page (every ``EventSource`` the page opens, so reconnects count), and every 250 ms notes which alarms the
station's alarm list shows (bed + condition), with the times each appeared and went away."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench._fault_stack import BenchError
from domain.clock import now_ms
from testkit.chromium import CHROMIUM_ARGS, LOCALE, TIMEZONE, find_chromium

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright

VIEWPORT = {"width": 1920, "height": 1080}  # a wall screen
PAGE_TIMEOUT_MS = 30_000
# What covers the screen when it is not monitoring: the technical alarm overlay ("monitoring interrupted" or
# "signed out", assets/ward_alerts.js) and the grid's own mark (assets/ward.js).
NOT_MONITORING = "#ward-technical-alarm, #ward-grid.monitoring-interrupted"
ALARM_ITEMS = "#ward-alarm-list [data-bed][data-condition]"

PROBE = """
(() => {
  const f = window.__fault = { last: {}, streams: 0, shown: {}, alarms: [], covers: [], covered: false };
  const Native = window.EventSource;
  function Watched(url, options) {
    const source = new Native(url, options);
    f.streams += 1;
    source.addEventListener("message", (event) => {
      try {
        const m = JSON.parse(event.data);
        if (m && m.t === "v" && m.bed) { f.last[m.bed] = Date.now(); }
      } catch (err) { /* not ours to judge */ }
    });
    return source;
  }
  Watched.prototype = Native.prototype;
  Watched.CONNECTING = Native.CONNECTING; Watched.OPEN = Native.OPEN; Watched.CLOSED = Native.CLOSED;
  window.EventSource = Watched;
  window.setInterval(() => {
    const now = Date.now(), visible = {};
    const covered = Array.from(document.querySelectorAll(__COVER__)).some((el) => el.getClientRects().length > 0);
    if (covered && !f.covered) { f.covers.push(now); }
    f.covered = covered;
    document.querySelectorAll(__ALARMS__).forEach((el) => {
      if (!el.getClientRects().length) { return; }
      const key = el.getAttribute("data-bed") + "|" + el.getAttribute("data-condition");
      visible[key] = (el.textContent || "").trim().slice(0, 120);
    });
    Object.keys(visible).forEach((key) => { if (!f.shown[key]) { f.shown[key] = { from: now, text: visible[key] }; } });
    Object.keys(f.shown).forEach((key) => {
      if (key in visible) { return; }
      f.alarms.push({ key: key, from: f.shown[key].from, to: now, text: f.shown[key].text });
      delete f.shown[key];
    });
  }, 250);
})();
""".replace("__ALARMS__", json.dumps(ALARM_ITEMS)).replace("__COVER__", json.dumps(NOT_MONITORING))

STATE = """
(since) => {
  const f = window.__fault || { last: {} };
  const tiles = Array.from(document.querySelectorAll(".bed-tile")).filter((t) => !t.classList.contains("bed-empty"));
  const cover = Array.from(document.querySelectorAll(__COVER__)).some((el) => el.getClientRects().length > 0);
  const stale = tiles.filter((t) => t.classList.contains("stale")).length;
  const quiet = tiles.filter((t) => !((f.last[t.getAttribute("data-bed")] || 0) >= since)).length;
  return { tiles: tiles.length, stale: stale, quiet: quiet, cover: cover, streams: f.streams || 0 };
}
""".replace("__COVER__", json.dumps(NOT_MONITORING))


@dataclass(frozen=True)
class ScreenState:
    """What the station shows: occupied tiles, how many are greyed out (stale) or had no vitals since the time
    asked about (quiet), and whether a not-monitoring state covers it."""

    tiles: int
    stale: int
    quiet: int
    cover: bool
    streams: int

    @property
    def live(self) -> bool:
        return self.tiles > 0 and not self.stale and not self.quiet and not self.cover


@dataclass(frozen=True)
class ShownAlarm:
    """An alarm the station's list showed: bed, condition, the text, from/to in epoch ms (``to`` None = still)."""

    bed: str
    condition: str
    text: str
    shown_from: int
    shown_to: int | None


class Station:
    """One headless Chromium with the ward station open, signed in by display token or as a nurse."""

    def __init__(self, playwright: Playwright, base: str, ward: str) -> None:
        self.base, self.ward = base, ward
        self.profile = tempfile.TemporaryDirectory(prefix="pantau-fault-chromium-")
        self.context: BrowserContext = playwright.chromium.launch_persistent_context(
            self.profile.name,
            executable_path=find_chromium(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            locale=LOCALE,
            timezone_id=TIMEZONE,
        )
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.page.add_init_script(PROBE)
        self.console: list[str] = []  # the page's console errors, to explain a station that did not draw
        self.page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        self.signed_in_as = ""
        self._closed: list[ShownAlarm] = []
        self._open: dict[str, dict] = {}
        self._covers: list[int] = []  # epoch ms when a not-monitoring state began to cover the screen

    def open_with_token(self, token: str) -> bool:
        """``/tv/<token>``; True when it lands on this ward's station."""
        self.page.goto(f"{self.base}/tv/{token}")
        if not self._station_drawn():
            return False
        self.signed_in_as = "display token"
        return True

    def open_as(self, username: str, password: str) -> None:
        """Sign in through the form, then open the ward station."""
        self.page.goto(f"{self.base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#login-submit")
        self.page.wait_for_url(lambda url: "/login" not in url)
        self.page.goto(f"{self.base}/bangsal/{self.ward}")
        if not self._station_drawn():
            raise BenchError(f"the ward station did not draw for {username}; console: {self.console[-5:]}")
        self.signed_in_as = f"nurse session ({username})"

    def _station_drawn(self) -> bool:
        """Wait for the tiles; on this ward's page, reload once if Dash has not drawn them (a loaded machine)."""
        from playwright.sync_api import TimeoutError as PageTimeout

        for attempt in range(2):
            try:
                self.page.wait_for_selector("#ward-grid .bed-tile")
                return True
            except PageTimeout:
                if attempt or f"/bangsal/{self.ward}" not in self.page.url:
                    return False
                self.page.reload()
        return False

    def state(self, since_ms: int) -> ScreenState:
        """The screen now; ``quiet`` counts occupied beds with no vitals message since ``since_ms`` (epoch)."""
        found = self._evaluate(STATE, since_ms)
        return ScreenState(**found) if found else ScreenState(0, 0, 0, cover=False, streams=0)

    def harvest(self) -> None:
        """Take the alarms the probe saw into this object, so a reload of the page loses none of them."""
        probe = self._evaluate(
            "() => { const f = window.__fault || { alarms: [], shown: {}, covers: [] }; const out = { alarms: "
            "f.alarms, shown: f.shown, covers: f.covers }; f.alarms = []; f.covers = []; return out; }"
        )
        if probe is None:
            return
        self._covers += probe["covers"]
        now, closed_now = now_ms(), {item["key"] for item in probe["alarms"]}
        for item in probe["alarms"]:
            self._closed.append(_shown(item["key"], item["text"], item["from"], item["to"]))
        for key, item in self._open.items():
            if key not in probe["shown"] and key not in closed_now:
                self._closed.append(_shown(key, item["text"], item["from"], now))  # the page was reloaded
        self._open = probe["shown"]

    def first_cover(self, since_ms: int) -> int | None:
        """When a not-monitoring state first covered the screen at or after ``since_ms`` (epoch ms), if it did."""
        self.harvest()
        return min((at for at in self._covers if at >= since_ms), default=None)

    def alarms(self) -> list[ShownAlarm]:
        """Every alarm the list has shown so far (those still shown have ``shown_to`` None)."""
        self.harvest()
        return [*self._closed, *(_shown(key, a["text"], a["from"], None) for key, a in self._open.items())]

    def _evaluate(self, script: str, arg: object = None) -> dict | None:
        """``page.evaluate``, or None while the page is between two documents."""
        from playwright.sync_api import Error

        try:
            return self.page.evaluate(script, arg)
        except Error:
            return None

    def screenshot(self, path: str) -> None:
        self.page.screenshot(path=path)

    def close(self) -> None:
        try:
            self.context.close()
        finally:
            self.profile.cleanup()


def _shown(key: str, text: str, start: int, end: int | None) -> ShownAlarm:
    bed, condition = key.split("|", 1)
    return ShownAlarm(bed, condition, text, start, end)
