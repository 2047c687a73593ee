"""What opening a page costs: the CPU of headless Chromium's processes (renderer, browser, GPU, the rest) and of the
web app, per page, the first time in a browser context and again in the same context.

The embedded configuration (SQLite, in-memory live store) is migrated and demo-seeded and the app is served in this
process. Then, ``--repeat`` times, a new browser context signs in as the admin through the sign-in form (which
opens the home page, so the scripts every page shares are loaded) and opens each ``--pages`` address twice; a
load ends when its Dash callbacks have been quiet for half a second. Printed per page: the median CPU milliseconds of
the first and of the second load by process kind (``renderer``, ``browser``, ``gpu``, ``other``: Chromium's processes;
``app``: this process, the web app with Playwright's client) and ``*_total_ms``.

``--full-plotly`` lets Dash answer the address dcc.Graph loads plotly.js from, with the ``plotly`` package's full
bundle, as before Pantau served its partial bundle there (``api/plotly_bundle.py``): the before and after of it.

Usage: ``python bench/page_cost.py [--pages /keuangan,/bangsal/ICU] [--repeat 5] [--full-plotly] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from api.plotly_bundle import DCC_PLOTLY_PATH  # noqa: E402
from app import create_app, finish_dash_setup  # noqa: E402
from auth.demo_accounts import seed_demo  # noqa: E402
from bench._proc_cpu import cpu_seconds, descendants  # noqa: E402
from config import load_settings  # noqa: E402
from data.migrate import upgrade  # noqa: E402
from data.runtime import build_runtime  # noqa: E402
from testkit.callback_traffic import CallbackTraffic  # noqa: E402
from testkit.chromium import CHROMIUM_ARGS, LOCALE, TIMEZONE, VIEWPORT, find_chromium  # noqa: E402

PASSWORD = "bench-only-password-1"  # bench value
DEFAULT_PAGES = "/,/keuangan,/bangsal/ICU,/bed/ICU-03,/laporan/antrean,/pendaftaran,/admin/jadwal"
SETTLE_LIMIT_S = 30.0
KINDS = ("renderer", "browser", "gpu", "other")
LOADS = ("first", "again")


def chromium_cpu() -> dict[str, float]:
    """CPU seconds of this bench's Chromium processes, by kind (their ``--type`` switch)."""
    found = dict.fromkeys(KINDS, 0.0)
    for pid in descendants([os.getpid()]):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if not comm.startswith(("chromium", "headless")):
            continue
        kind = re.search(r"--type=([\w-]+)", command)
        found[{"renderer": "renderer", "gpu-process": "gpu"}.get(kind.group(1), "other") if kind else "browser"] += (
            cpu_seconds(pid)
        )
    return found


def cpu_now() -> dict[str, float]:
    return chromium_cpu() | {"app": cpu_seconds(os.getpid())}


def dash_serves_plotly(server) -> None:
    """Give the plotly.js address back to Dash's own component-suite view (the full bundle)."""
    rule = next(r for r in server.url_map.iter_rules() if r.rule.startswith("/_dash-component-suites/<"))
    dash_view = server.view_functions[rule.endpoint]
    package, path = DCC_PLOTLY_PATH.removeprefix("/_dash-component-suites/").split("/", 1)
    server.view_functions["plotly_bundle.plotly_js"] = lambda: dash_view(package_name=package, fingerprinted_path=path)


@contextmanager
def served_demo(full_plotly: bool) -> Iterator[str]:
    """The embedded configuration, migrated and demo-seeded in a temporary folder, served on a free port."""
    with tempfile.TemporaryDirectory(prefix="pantau-page-cost-") as folder:
        settings = load_settings(
            env="test",
            database_url=f"sqlite:///{folder}/pantau.db",
            redis_url=f"memory://page-cost-{uuid.uuid4().hex[:8]}",
            mqtt_url="",
            var_dir=Path(folder) / "var",
            demo_password=PASSWORD,
            mfa_required_roles="",
        )
        upgrade(settings.database_url)
        runtime = build_runtime(settings)
        with runtime.db.session() as session:
            seed_demo(session, settings)
        server = create_app(settings, runtime=runtime).server
        if full_plotly:
            dash_serves_plotly(server)
        finish_dash_setup(server)
        http = make_server("127.0.0.1", 0, server, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{http.server_port}"
        finally:
            http.shutdown()
            runtime.close()


def measure(base: str, pages: list[str], repeat: int) -> dict[str, dict[str, list[float]]]:
    """``{page: {"first_renderer": [ms, ...], ...}}`` over ``repeat`` fresh browser contexts."""
    from playwright.sync_api import sync_playwright

    found: dict[str, dict[str, list[float]]] = {page: {} for page in pages}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
        for _ in range(repeat):
            context = browser.new_context(viewport=VIEWPORT, locale=LOCALE, timezone_id=TIMEZONE)
            page = context.new_page()
            traffic = CallbackTraffic(page)
            page.goto(f"{base}/login")
            page.fill("#username", "admin")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(lambda url: "/login" not in url)
            traffic.settle(page, limit_s=SETTLE_LIMIT_S)
            for path in pages:
                for load in LOADS:
                    before = cpu_now()
                    page.goto(base + path)
                    traffic.settle(page, limit_s=SETTLE_LIMIT_S)
                    after = cpu_now()
                    for kind, seconds in after.items():
                        found[path].setdefault(f"{load}_{kind}", []).append((seconds - before[kind]) * 1000)
            context.close()
        browser.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=DEFAULT_PAGES, help="comma-separated addresses, opened as the admin")
    parser.add_argument("--repeat", type=int, default=5, help="fresh browser contexts; medians are printed")
    parser.add_argument("--full-plotly", action="store_true", help="the plotly package's full bundle, as before")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    with served_demo(args.full_plotly) as base:
        found = measure(base, pages, args.repeat)
    result = {
        "bench": "page_cost",
        "date": date.today().isoformat(),
        "machine": f"{os.uname().machine} {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "chromium": Path(find_chromium() or "").name,
        "plotly_bundle": "full" if args.full_plotly else "basic",
        "repeat": args.repeat,
        "pages": {},
    }
    for path, series in found.items():
        medians = {name: round(statistics.median(values)) for name, values in series.items()}
        for load in LOADS:
            medians[f"{load}_total_ms"] = sum(
                v for k, v in medians.items() if k.startswith(f"{load}_") and "total" not in k
            )
        result["pages"][path] = medians
    for path, medians in result["pages"].items():
        first, again = medians["first_total_ms"], medians["again_total_ms"]
        print(
            f"{path:24} first {first:5d} ms CPU (renderer {medians['first_renderer']}, app {medians['first_app']})"
            f" | again {again:5d} ms (renderer {medians['again_renderer']})"
        )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
