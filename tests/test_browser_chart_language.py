"""Charts and date pickers speak the page's language: a time axis on an Indonesian page names Indonesian months and
days and uses the decimal comma, the chart's mode bar and the date picker's label are Indonesian; switched to
English, English ones. And no chart offers to send itself to Plotly's cloud."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from components.graph_config import plotly_locale
from tests.test_browser_shell import sign_in

pytestmark = pytest.mark.browser

# What the bed trend's own Plotly formatter makes of 3 August 2026 and of 1234.5, asked in the page.
FORMATTED = """gd => {
  const locale = gd._fullLayout._d3locale;
  return [locale.timeFormat('%B %A')(new Date(Date.UTC(2026, 7, 3, 12))), locale.numberFormat(',.1f')(1234.5)];
}"""
EXPECTED = {"id": ["Agustus Senin", "1.234,5"], "en": ["August Monday", "1,234.5"]}
# The tick labels of two hours of 3 August 2026 drawn in a chart with the bed trend's config.
HOURS_AXIS = """async gd => {
  const div = document.createElement("div");
  document.body.appendChild(div);
  const x = [new Date(Date.UTC(2026, 7, 3, 5)), new Date(Date.UTC(2026, 7, 3, 7))];
  await Plotly.newPlot(div, [{x: x, y: [1, 2]}], {width: 500, height: 200}, gd._context);
  const lines = t => t.querySelectorAll("tspan").length ? Array.from(t.querySelectorAll("tspan")) : [t];
  const ticks = Array.from(div.querySelectorAll(".xtick text")).flatMap(lines).map(line => line.textContent);
  Plotly.purge(div);
  div.remove();
  return ticks;
}"""
DOWNLOAD = {"id": "Unduh grafik sebagai PNG", "en": "Download plot as a PNG"}  # a button of the chart's mode bar
PICK_DATE = {"id": "Pilih tanggal", "en": "Pick a date"}
DAY_ON_AXIS = {"id": "3 Agu 2026", "en": "Aug 3, 2026"}


def test_plotly_locale_comes_from_the_catalogue() -> None:
    indonesian = plotly_locale("id")["format"]
    assert indonesian["months"][7] == "Agustus" and indonesian["shortDays"][1] == "Sen"
    assert (indonesian["decimal"], indonesian["thousands"]) == (",", ".")


def _open_in(page, live_server, lang: str, path: str) -> None:
    """Open ``path`` as the nurse, her pages in ``lang``."""
    base, _ = live_server
    sign_in(page, base, "perawat")
    page.goto(f"{base}/lang/{lang}")
    page.goto(f"{base}{path}")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_bed_trend_formats_dates_and_numbers_in_the_page_language(page, live_server, lang: str) -> None:
    _open_in(page, live_server, lang, "/bed/ICU-03")
    expect(page.locator("#bed-trend .main-svg").first).to_be_attached(timeout=30_000)
    assert page.locator("#bed-trend .js-plotly-plot").evaluate(FORMATTED) == EXPECTED[lang]
    # The day under a time axis's hours, drawn with the bed trend's own config: day first in Indonesian
    # ("3 Agu 2026"), Plotly's own month first in English.
    ticks = page.locator("#bed-trend .js-plotly-plot").evaluate(HOURS_AXIS)
    assert DAY_ON_AXIS[lang] in ticks, ticks
    expect(page.locator(f'#bed-trend .modebar-btn[data-title="{DOWNLOAD[lang]}"]').first).to_be_attached()
    # Nothing on the mode bar sends the patient's chart out of the hospital (plotly.js 3's "Share chart...").
    chart = page.locator("#bed-trend .js-plotly-plot")
    assert chart.evaluate("gd => [gd._context.showSendToCloud, gd._context.plotlyServerURL]") == [False, ""]
    expect(page.locator('#bed-trend .modebar-btn[data-title="Share chart..."]')).to_have_count(0)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_date_picker_is_labelled_in_the_page_language(page, live_server, lang: str) -> None:
    _open_in(page, live_server, lang, "/jadwal")
    week = page.locator("#schedule-week-day")
    expect(week).to_have_attribute("aria-label", PICK_DATE[lang])
    expect(week).to_have_value(re.compile(r"^\d{2}/\d{2}/\d{4}$"))  # day first, as in every date picker
