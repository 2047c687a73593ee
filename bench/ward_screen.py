"""Ward screen: how fast and how cheaply a vitals tick reaches a nurse's screen.

Starts real PostgreSQL, Redis and Mosquitto (``testkit/servers.py``), the web app, the consumer with its clinical
step and the simulator for one ward of ``--beds`` beds at 1 Hz, then opens the ward page in headless Chromium
and measures for ``--seconds``:

* publish → on screen: the device timestamp of each tick (the simulator stamps it when it publishes) against
  the next animation frame after the page applied it — same machine, same clock;
* bytes per second per bed pushed to the browser (the server-sent-event payloads);
* the browser's CPU share: CPU time of every Chromium process over wall time (100 % = one core).

Usage: ``python bench/ward_screen.py [--beds 32] [--seconds 60] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auth.demo_accounts import seed_demo  # noqa: E402
from bridge.embedded_stack import EmbeddedStack  # noqa: E402
from config import load_settings  # noqa: E402
from data.migrate import upgrade  # noqa: E402
from data.models import Site, Ward  # noqa: E402
from data.runtime import Runtime, build_runtime  # noqa: E402
from data.seed import add_occupied_bed  # noqa: E402
from testkit.chromium import find_chromium  # noqa: E402
from testkit.servers import MosquittoServer, PostgresServer, RedisServer  # noqa: E402

PASSWORD = "bench-only-password-1"  # bench value
WARD = "BENCH"
# Wraps the page's EventSource: after each message is handled, the next animation frame records its latency.
PROBE = """
(() => {
  window.__lat = []; window.__bytes = 0;
  const Native = window.EventSource;
  window.EventSource = function (url, opts) {
    const es = new Native(url, opts);
    let handler = null;
    Object.defineProperty(es, "onmessage", {
      set(fn) { handler = fn; es.addEventListener("message", (e) => {
        window.__bytes += e.data.length;
        fn.call(es, e);
        const m = JSON.parse(e.data);
        if (m.t === "v" && m.ts) { requestAnimationFrame(() => window.__lat.push(Date.now() - m.ts)); }
      }); },
      get() { return handler; },
    });
    return es;
  };
  window.EventSource.prototype = Native.prototype;
})();
"""


def seed_bench_ward(runtime: Runtime, beds: int) -> list[str]:
    from sqlalchemy import select

    devices = []
    with runtime.db.session() as s:
        site = s.scalar(select(Site))
        ward = Ward(site_id=site.id, code=WARD, name="Bench ward", kind="ward")
        s.add(ward)
        s.flush()
        for n in range(1, beds + 1):
            add_occupied_bed(
                s, site.id, ward.id, bed_code=f"B-{n:02d}", device_id=f"MON-B-{n:02d}", mrn=f"BENCH-{n:03d}"
            )
            devices.append(f"MON-B-{n:02d}")
    return devices


def cpu_seconds(marker: str) -> float:
    """User + system CPU time of every process whose command line contains ``marker``."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="ignore"):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--beds", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from app import create_app

    with (
        PostgresServer() as pg,
        RedisServer() as redis,
        MosquittoServer() as mosquitto,
        tempfile.TemporaryDirectory() as tmp,
    ):
        settings = load_settings(
            env="test",
            database_url=pg.url,
            redis_url=redis.url,
            mqtt_url=mosquitto.url,
            var_dir=Path(tmp),
            demo_password=PASSWORD,
            login_rate_limit="1000 per minute",
        )
        upgrade(settings.database_url)
        runtime = build_runtime(settings)
        with runtime.db.session() as s:
            seed_demo(s, settings)
        devices = seed_bench_ward(runtime, args.beds)
        stack = EmbeddedStack(
            runtime, simulate=True, devices=devices, scenarios={}, client_id=f"bench-{uuid.uuid4().hex[:6]}"
        )
        http = make_server("127.0.0.1", 0, create_app(settings, runtime=runtime).server, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        stack.start()
        base = f"http://127.0.0.1:{http.server_port}"
        profile = tempfile.mkdtemp(prefix="pantau-bench-chromium-")
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    profile,
                    executable_path=find_chromium(),
                    headless=True,
                    args=[
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                    ],
                    viewport={"width": 1920, "height": 1080},
                )
                page = context.new_page()
                page.add_init_script(PROBE)
                page.goto(f"{base}/login")
                page.fill("#username", "perawat")
                page.fill("#password", PASSWORD)
                page.click("#login-submit")
                page.wait_for_selector("#home-greeting")
                page.goto(f"{base}/bangsal/{WARD}")
                deadline = time.monotonic() + 30
                while not page.evaluate("() => (window.__lat || []).length") and time.monotonic() < deadline:
                    time.sleep(0.2)
                time.sleep(3)  # let the first paint settle
                page.evaluate("window.__lat = []; window.__bytes = 0")
                cpu0, t0 = cpu_seconds(profile), time.monotonic()
                time.sleep(args.seconds)
                cpu1, t1 = cpu_seconds(profile), time.monotonic()
                latencies = page.evaluate("window.__lat")
                received = page.evaluate("window.__bytes")
                (ROOT / "var").mkdir(exist_ok=True)
                page.screenshot(path=str(ROOT / "var" / "bench-ward-screen.png"))
                context.close()
        finally:
            stack.stop()
            http.shutdown()
            runtime.close()
    elapsed = t1 - t0
    ordered = sorted(latencies)
    figures = {
        "beds": args.beds,
        "seconds": round(elapsed, 1),
        "ticks_on_screen": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "bytes_per_s_per_bed": round(received / elapsed / args.beds, 1),
        "browser_cpu_percent": round(100 * (cpu1 - cpu0) / elapsed, 1),
    }
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
