"""Queue TV board: how fast a counter's call reaches the TV, and how many bytes each board update costs.

Starts real PostgreSQL and Redis (``testkit/servers.py``; or uses ``PANTAU_DATABASE_URL`` — in a database of its
own — and ``PANTAU_REDIS_URL`` when set), the web app, registers ``--calls`` patients across the polis of the
``umum`` board, and opens that board in headless Chromium with the demo TV token. Then, ``--calls`` times: a
counter calls the next patient through the real path (``data.queue_actions`` in a committed transaction, then
``publish`` on Redis, as the counter page does), the bench waits until the board's DOM shows the number, and the
counter starts and finishes that patient (two more events) before the next call, ``--interval`` seconds later.

* call → on the board: the wall clock just before the call's transaction against the time a MutationObserver in
  the page saw the number (``performance.timeOrigin + performance.now()``) — same machine, same clock;
* bytes per server-sent event (the JSON payload) for the snapshot, the updates and the announcements.

Usage: ``python bench/queue_board.py [--calls 50] [--interval 1.0] [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.queue_actions import call_next, finish, start  # noqa: E402
from data.queue_tickets import publish  # noqa: E402
from data.seed import POLIS  # noqa: E402
from domain.clock import utcnow  # noqa: E402
from testkit.chromium import CHROMIUM_ARGS  # noqa: E402
from testkit.front_desk import desk_actor, register_waiting  # noqa: E402
from testkit.names import numbered_name  # noqa: E402

PASSWORD = "bench-only-password-1"  # bench value
# Counts the payload bytes of every board event and notes when the called number first shows in the DOM.
PROBE = """
(() => {
  window.__seen = {}; window.__bytes = {snapshot: [], update: [], announce: []};
  const encoder = new TextEncoder();
  const Native = window.EventSource;
  window.EventSource = function (url, options) {
    const source = new Native(url, options);
    Object.keys(window.__bytes).forEach((kind) => source.addEventListener(kind, (e) => {
      window.__bytes[kind].push(encoder.encode(e.data).length);
    }));
    return source;
  };
  Object.assign(window.EventSource, {CONNECTING: 0, OPEN: 1, CLOSED: 2, prototype: Native.prototype});
  const seen = () => {
    const shown = document.getElementById("board-now-number");
    if (shown && !(shown.textContent in window.__seen)) {
      window.__seen[shown.textContent] = performance.timeOrigin + performance.now();
    }
  };
  document.addEventListener("DOMContentLoaded", () => new MutationObserver(seen).observe(document.body,
    {subtree: true, childList: true, characterData: true}));
  let voice;  // the calls are counted, not spoken: a headless bench has no loudspeaker
  window.__announced = 0;
  const count = () => { window.__announced += 1; return Promise.resolve(); };
  Object.defineProperty(window, "PantauVoice", {configurable: true, get: () => voice,
    set: (real) => { voice = Object.assign({}, real, {announce: count}); }});
})();
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[round(share * (len(ordered) - 1))]


def services(stack: contextlib.ExitStack) -> tuple[str, str]:
    """Database and Redis URLs: the ones configured (a fresh database on that server), else our own servers."""
    from config import load_settings
    from testkit.servers import ExternalPostgres, PostgresServer, RedisServer

    given = load_settings()
    if "database_url" in given.model_fields_set:
        database_url = ExternalPostgres(given.database_url).create_database(f"bench_board_{uuid.uuid4().hex[:8]}")
    else:
        database_url = stack.enter_context(PostgresServer()).url
    redis_url = given.redis_url if "redis_url" in given.model_fields_set else stack.enter_context(RedisServer()).url
    return database_url, redis_url


def prepare(pantau: SimpleNamespace, calls: int) -> list:
    """``calls`` patients waiting, spread over the polis (their sessions' quotas), in the order they are called."""
    codes = [code for code, _name, _prefix, _bpjs in POLIS]
    return [register_waiting(pantau, numbered_name("Pasien Bench", n), codes[n % len(codes)]) for n in range(calls)]


def run_calls(page, pantau: SimpleNamespace, waiting: list, interval: float) -> list[float]:
    """Each poli's counter presses "call next" in turn; the latency of each call, in ms."""
    names = {f"poli:{code}": name for code, name, _prefix, _bpjs in POLIS}
    latencies = []
    for registration in waiting:
        time.sleep(interval)
        asked = time.time() * 1000
        with pantau.runtime.db.session() as s:
            actor = desk_actor(s)
            called = call_next(s, actor, registration.point, names[registration.point], utcnow())
        publish(pantau.runtime.live, actor.site_id, list(called.events))
        shown = f"window.__seen[{json.dumps(called.label)}]"
        page.wait_for_function(f"() => {shown}", timeout=10_000)
        latencies.append(page.evaluate(shown) - asked)
        with pantau.runtime.db.session() as s:
            events = (
                start(s, actor, called.ticket_id, utcnow()).events + finish(s, actor, called.ticket_id, utcnow()).events
            )
        publish(pantau.runtime.live, actor.site_id, list(events))
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=50, help="calls to measure (at most 100: the demo quotas)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a finish and the next call")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from app import create_app
    from auth.demo_accounts import seed_demo
    from config import load_settings
    from data.migrate import upgrade
    from data.runtime import build_runtime
    from testkit.chromium import find_chromium

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request on the console
    with contextlib.ExitStack() as stack:
        database_url, redis_url = services(stack)
        settings = load_settings(
            env="test",
            database_url=database_url,
            redis_url=redis_url,
            mqtt_url="mqtt://127.0.0.1:1",  # no broker: the board does not use MQTT
            var_dir=Path(stack.enter_context(tempfile.TemporaryDirectory())),
            demo_password=PASSWORD,
            log_level="WARNING",
        )
        upgrade(settings.database_url)
        runtime = build_runtime(settings)
        stack.callback(runtime.close)
        with runtime.db.session() as s:
            creds = seed_demo(s, settings)
        pantau = SimpleNamespace(runtime=runtime)
        waiting = prepare(pantau, args.calls)
        http = make_server("127.0.0.1", 0, create_app(settings, runtime=runtime).server, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        stack.callback(http.shutdown)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.add_init_script(PROBE)
            page.goto(f"http://127.0.0.1:{http.server_port}/tv/{creds.display_token}")
            page.wait_for_function("() => window.__bytes.snapshot.length > 0")
            latencies = run_calls(page, pantau, waiting, args.interval)
            page.wait_for_timeout(500)  # the last announcement
            sizes, announced = page.evaluate("window.__bytes"), page.evaluate("window.__announced")
            browser.close()
    updates = sizes["update"]
    figures = {
        "calls": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "announced": announced,
        "snapshot_bytes": sizes["snapshot"][0],
        "updates": len(updates),
        "update_bytes_mean": round(statistics.mean(updates)),
        "update_bytes_max": max(updates),
        "announce_bytes_mean": round(statistics.mean(sizes["announce"])) if sizes["announce"] else 0,
        "bytes_per_call": round((sum(updates) + sum(sizes["announce"])) / len(latencies)),
    }
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
