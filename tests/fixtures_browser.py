"""Pytest plugin: one headless system Chromium per session, driven by Playwright's sync API.

The browser is the one installed on the machine (``testkit.chromium.find_chromium``: Chromium's headless shell, else
``chromium``, ``chromium-browser`` or ``google-chrome`` on PATH; ``DASH_TEST_CHROMEPATH`` overrides); Playwright
never downloads one. ``page`` gives each test a fresh context (1366x768, ``id-ID``, ``Asia/Jakarta``); when the test
fails, a screenshot is saved to ``var/test-screenshots/<test name>.png``. Actions and ``expect`` assertions wait up
to 30 s, since a loaded CI machine is slow to draw graphs.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from testkit.chromium import CHROMIUM_ARGS, LOCALE, TIMEZONE, VIEWPORT, find_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

# A page on the fully loaded CI machine (three test workers, their browsers and services on two cores) once took
# 16 s from its scripts to its first Dash request; a wait that fails still fails, only later.
DEFAULT_TIMEOUT_MS = 30_000

ROOT = Path(__file__).resolve().parents[1]
TEST_SCREENSHOTS = ROOT / "var" / "test-screenshots"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"


def save_screenshot(target: Page | Locator, name: str, **options: object) -> Path:
    """Save ``target`` as ``var/test-screenshots/<name>``, to look at. With ``PANTAU_DOC_SCREENSHOTS=1`` (``make
    screenshots``) it also replaces ``docs/screenshots/<name>`` when the docs show that one: an ordinary test run
    leaves the checkout as it found it."""
    path = TEST_SCREENSHOTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(path), **options)
    if os.environ.get("PANTAU_DOC_SCREENSHOTS") == "1" and (DOC_SCREENSHOTS / name).is_file():
        shutil.copyfile(path, DOC_SCREENSHOTS / name)
    return path


_reports_key = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(_reports_key, {})[report.when] = report
    return report


def _failed(item: pytest.Item) -> bool:
    reports = item.stash.get(_reports_key, {})
    return any(r.failed for when, r in reports.items() if when in ("setup", "call"))


def _screenshot_path(item: pytest.Item) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", item.name)[:150]
    return item.config.rootpath / "var" / "test-screenshots" / f"{name}.png"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """A headless system Chromium shared by the whole session."""
    from playwright.sync_api import expect, sync_playwright

    executable = find_chromium()
    if executable is None:
        pytest.fail(
            "no Chromium found (chromium-headless-shell, chromium, chromium-browser or google-chrome on PATH, "
            "or DASH_TEST_CHROMEPATH); install the 'chromium-headless-shell' package (make system-deps)",
            pytrace=False,
        )
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)  # a loaded CI machine can take over 5 s to draw a graph
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page in its own context; screenshot to ``var/test-screenshots/`` when the test fails."""
    context = browser.new_context(viewport=VIEWPORT, locale=LOCALE, timezone_id=TIMEZONE)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        if _failed(request.node):
            path = _screenshot_path(request.node)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(path), full_page=True)
                print(f"screenshot saved: {path}")
            except Exception as exc:  # the page may have crashed; the failure itself matters more
                print(f"could not save screenshot {path}: {exc}")
        context.close()
