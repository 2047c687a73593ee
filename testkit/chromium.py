"""The system Chromium that browser tests and benchmarks drive, and how it is launched: headless switches and the
browser context of a Jakarta PC (1366x768, ``id-ID``, ``Asia/Jakarta``). Playwright never downloads a browser.

Chromium's headless shell (Debian's ``chromium-headless-shell``, the build Playwright itself runs headless) comes
first when installed: the same Blink and V8 without the full browser around them; its browser process takes half the
CPU of the full browser's (docs/performance.md, "twelfth session"). The full ``chromium`` otherwise."""

from __future__ import annotations

import os
import shutil

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1366, "height": 768}
LOCALE = "id-ID"
TIMEZONE = "Asia/Jakarta"


def find_chromium() -> str | None:
    """Path of the system Chromium/Chrome (``DASH_TEST_CHROMEPATH`` overrides), or ``None``."""
    override = os.environ.get("DASH_TEST_CHROMEPATH")
    if override:
        return override
    for name in ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None
