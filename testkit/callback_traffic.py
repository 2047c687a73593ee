"""A page's Dash callback requests in flight, counted from Playwright's request events, so that a browser test or
bench can wait until the page's callbacks have settled."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

CALLBACK_URL = "/_dash-update-component"
SETTLE_QUIET_S = 0.5  # no callback request in flight for this long = settled
SETTLE_LIMIT_S = 20.0


class CallbackTraffic:
    """Counts ``page``'s callback requests in flight."""

    def __init__(self, page: Page) -> None:
        self.in_flight = 0
        page.on("request", lambda r: self._count(r, +1))
        page.on("requestfinished", lambda r: self._count(r, -1))
        page.on("requestfailed", lambda r: self._count(r, -1))

    def _count(self, request: Request, step: int) -> None:
        if CALLBACK_URL in request.url:
            self.in_flight += step

    def settle(self, page: Page, quiet_s: float = SETTLE_QUIET_S, limit_s: float = SETTLE_LIMIT_S) -> None:
        """Wait until no callback request has been in flight, nor Dash's loading mark shown, for ``quiet_s``;
        AssertionError after ``limit_s``."""
        deadline = time.monotonic() + limit_s
        quiet_since = None
        while time.monotonic() < deadline:
            if self.in_flight == 0 and page.locator("._dash-loading-callback").count() == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= quiet_s:
                    return
            else:
                quiet_since = None
            page.wait_for_timeout(100)
        raise AssertionError(f"callbacks still running after {limit_s:.0f} s on {page.url}")
