"""Both themes in a real browser: every chart is readable against the page it is drawn on, measured from the
rendered SVG, and the server-rendered pages follow the theme chosen in the app from their first frame."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from datetime import timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from sqlalchemy import select

from data.admissions import current_admission
from data.models import Observation, Site, VitalGap, VitalSample
from data.queue_demo import run_morning
from data.schedules import local_today
from data.wards import bed_by_code
from domain.clock import utcnow
from tests.fixtures_app import PantauApp
from tests.fixtures_browser import save_screenshot
from tests.test_browser_live_ward import start_stack
from tests.test_browser_shell import settled, sign_in, sign_out
from tests.test_queue_demo import past_clinic_noon

pytestmark = pytest.mark.browser

# Every piece of a chart that carries meaning, with the contrast it needs against the background it is drawn on
# (WCAG 2.1: 4.5:1 for text, 3:1 for graphics). The background is that of the nearest element that has one.
MEASURE = """([root, required]) => {
  const rgba = (s) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(s || "");
    if (!m) { return null; }
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { return c; }
    }
    return [255, 255, 255, 1];
  };
  const ratio = (fg, bg) => {
    const mixed = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const [hi, lo] = [luminance(mixed), luminance(bg)].sort((a, b) => b - a);
    return (hi + 0.05) / (lo + 0.05);
  };
  const kinds = [
    [".xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .annotation-text, .legendtext", "fill", 4.5],
    [".scatterlayer path.js-line", "stroke", 3],
    [".shapelayer path", "stroke", 3],
    [".barlayer .point path", "fill", 3],
  ];
  const graph = document.querySelector(root);
  const items = [];
  for (const [selector, property, min] of kinds) {
    for (const el of graph ? graph.querySelectorAll(selector) : []) {
      const style = getComputedStyle(el);
      const colour = rgba(style[property]);
      if (!colour || (property === "stroke" && parseFloat(style.strokeWidth) === 0)) { continue; }
      const alpha = colour[3] * parseFloat(style.opacity) * parseFloat(style[property + "Opacity"]);
      const bg = background(graph);
      items.push({
        what: (el.getAttribute("class") || el.parentNode.getAttribute("class")) + " " + el.textContent.slice(0, 20),
        colour: style[property], background: "rgb(" + bg.slice(0, 3).join(", ") + ")", min: min,
        ratio: Math.round(ratio([colour[0], colour[1], colour[2], alpha], bg) * 100) / 100,
      });
    }
  }
  const missing = required.filter((s) => !graph || !graph.querySelector(s));
  return {items: items, missing: missing, ok: !missing.length && items.every((i) => i.ratio >= i.min)};
}"""
TICK = ".ytick text"
SYSTOLIC = ".tracesbp path.js-line"


def assert_readable(page, graph: str, *required: str) -> None:
    """Every text and line of ``graph`` meets its contrast against the page, the ``required`` pieces drawn. The
    chart may still be redrawing in the theme just chosen: wait for it (bounded), then report what is short."""
    with suppress(PlaywrightTimeoutError):  # the assertions below say what is wrong
        page.wait_for_function(f"(args) => ({MEASURE})(args).ok", arg=[graph, [TICK, *required]], timeout=30_000)
    found = page.evaluate(MEASURE, [graph, [TICK, *required]])
    theme = page.locator("html").get_attribute("data-bs-theme")
    assert not found["missing"], f"{graph}, {theme} theme: not drawn: {found['missing']}"
    low = [f"{i['what']!r} {i['colour']} on {i['background']}: {i['ratio']}:1 < {i['min']}:1"
           for i in found["items"] if i["ratio"] < i["min"]]  # fmt: skip
    assert not low, f"{graph}, {theme} theme, too faint: " + "; ".join(low)


def switch_theme(page, theme: str) -> None:
    page.click("#shell-theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)


@pytest.fixture
def live_bed(live_server) -> Iterator[tuple[str, PantauApp]]:
    """ICU-03 with 50 minutes of history (a cuff reading every 5 minutes), two of them lost for good, the nurse's
    observation before them (so NEWS2 is complete), and its monitor live."""
    base, pantau = live_server
    bed_history(pantau, "ICU-03")
    stack = start_stack(pantau)
    yield base, pantau
    stack.stop()


def bed_history(pantau: PantauApp, code: str) -> None:
    now = utcnow()
    with pantau.runtime.db.session() as s:
        bed = bed_by_code(s, s.scalar(select(Site.id)), code)
        start, lost = now - timedelta(minutes=50), (now - timedelta(minutes=30), now - timedelta(minutes=28))
        admission_id = current_admission(s, bed.id).id
        s.add(Observation(bed_id=bed.id, patient_id=bed.patient_id, taken_at=start - timedelta(minutes=1),
                          admission_id=admission_id, on_oxygen=False, consciousness="A"))  # fmt: skip
        for seq in range(300):
            ts = start + timedelta(seconds=10 * seq)
            if lost[0] < ts < lost[1]:
                continue
            cuff = seq % 30 == 0
            s.add(VitalSample(device_id=bed.device, ts=ts, seq=seq, bed_id=bed.id, received_at=ts, hr=84 + seq % 12,
                              spo2=96, rr=21, temp=37.1, sbp=118 + seq % 9 if cuff else None,
                              dbp=74 if cuff else None))  # fmt: skip
        s.add(VitalGap(device_id=bed.device, bed_id=bed.id, from_seq=73, to_seq=84, from_ts=lost[0], to_ts=lost[1],
                       state="unfillable"))  # fmt: skip


def test_bed_trends_and_news2_are_readable_in_both_themes(page, live_bed):
    base, _ = live_bed
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bed/ICU-03")
    expect(page.locator("#bed-trend .annotation-text", has_text="data hilang")).to_be_visible(timeout=30_000)
    assert_readable(page, "#bed-trend", SYSTOLIC)
    assert_readable(page, "#bed-news2", ".g-ytitle text", ".scatterlayer path.js-line")

    switch_theme(page, "light")  # redrawn in place, no reload
    assert_readable(page, "#bed-trend", SYSTOLIC)
    assert_readable(page, "#bed-news2", ".g-ytitle text", ".scatterlayer path.js-line")
    expect(page.locator("#tile-ICU-03 .v-hr")).to_have_text(re.compile(r"^\d+$"))  # the monitor is live
    settled(page)
    save_screenshot(page, "bed-light.png", full_page=True)

    page.reload()  # drawn light from the start
    assert_readable(page, "#bed-trend", SYSTOLIC)
    page.click("#bed-range label:has-text('8 jam')")  # another range, in the same theme (no rollups yet: empty)
    settled(page)
    assert_readable(page, "#bed-trend")
    switch_theme(page, "dark")
    assert_readable(page, "#bed-trend", ".tracehr path.js-line")
    assert_readable(page, "#bed-news2", ".g-ytitle text")
    assert not errors, errors


def test_bed_charts_wait_for_their_data_without_a_white_sheet(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    held: list[str] = []

    def hold_figures(route) -> None:  # the trends never arrive: the charts stay as the page drew them
        if "bed-trend.figure" in (route.request.post_data or ""):
            held.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/_dash-update-component*", hold_figures)
    page.goto(f"{base}/bed/ICU-03")
    expect(page.locator("#bed-trend .main-svg").first).to_be_attached(timeout=30_000)
    assert held
    for graph in ("#bed-trend", "#bed-news2"):
        expect(page.locator(f"{graph} .main-svg").first).to_have_css("background-color", "rgba(0, 0, 0, 0)")
        expect(page.locator(f"{graph} .xtick")).to_have_count(0)


def test_queue_report_is_readable_in_both_themes(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        today = local_today(s, site_id, utcnow())
    for noon in [past_clinic_noon(pantau, site_id, days_back) for days_back in (2, 1)]:
        run_morning(pantau.runtime, site_id, noon)
    first, last = today - timedelta(days=2), today - timedelta(days=1)

    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, base, "manajer")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/laporan/antrean?dari={first.isoformat()}&sampai={last.isoformat()}")
    expect(page.locator("#qrep-daily .scatterlayer .point")).to_have_count(2, timeout=30_000)
    assert_readable(page, "#qrep-waits", ".barlayer .point path", ".g-ytitle text", ".legendtext")
    assert_readable(page, "#qrep-daily", ".scatterlayer path.js-line")

    switch_theme(page, "light")
    assert_readable(page, "#qrep-waits", ".barlayer .point path", ".g-ytitle text", ".legendtext")
    assert_readable(page, "#qrep-daily", ".scatterlayer path.js-line")
    settled(page)
    save_screenshot(page, "queue-report-light.png", full_page=True)


def test_bpjs_completeness_chart_is_readable_in_both_themes(page, live_server):
    base, _ = live_server
    sign_in(page, base, "manajer")
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}/bpjs/sinkronisasi")  # nothing sent today: the axes and the target line
    assert_readable(page, "#bsync-completeness-chart", ".g-ytitle text", ".shapelayer path")
    switch_theme(page, "light")
    assert_readable(page, "#bsync-completeness-chart", ".g-ytitle text", ".shapelayer path")


def first_frame_theme(page) -> str | None:
    """The theme the init script saw on the page's first frame with a body, once that frame is drawn (a loaded
    machine can end a navigation before its first frame)."""
    return page.wait_for_function(
        "() => window.firstFrameTheme !== undefined && [window.firstFrameTheme]"
    ).json_value()[0]


def test_every_page_shows_the_chosen_theme_from_its_first_frame(page, live_server):
    base, _ = live_server
    # The theme on <html> when the first frame with a body is drawn: a flash of the other theme would show here.
    page.add_init_script("""(() => {
      const look = () => document.body
        ? (window.firstFrameTheme = document.documentElement.getAttribute("data-bs-theme"))
        : requestAnimationFrame(look);
      requestAnimationFrame(look);
    })()""")
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    assert first_frame_theme(page) == "dark"  # a Dash page, nothing chosen yet: the default
    settled(page)
    switch_theme(page, "light")
    page.goto(f"{base}/bangsal")
    assert first_frame_theme(page) == "light"

    page.goto(f"{base}/akun/kata-sandi")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    assert first_frame_theme(page) == "light"
    expect(page.locator(".auth-card")).to_have_css("background-color", "rgb(255, 255, 255)")
    expect(page.locator("label[for=current]")).to_have_css("color", "rgb(33, 37, 41)")

    page.goto(f"{base}/tidak-ada")  # Pantau's error page, on the same template
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    assert first_frame_theme(page) == "light"

    sign_out(page, base)
    page.goto(f"{base}/login")
    assert first_frame_theme(page) == "light"
    expect(page.locator(".auth-card")).to_have_css("background-color", "rgb(255, 255, 255)")

    page.evaluate("localStorage.removeItem('pantau-theme')")  # nothing chosen: dark, the default
    page.reload()
    assert first_frame_theme(page) == "dark"
    expect(page.locator(".auth-card")).to_have_css("background-color", "rgb(33, 37, 41)")
