"""How long the embedded demo (``python app.py``, what ``make run`` starts) takes to serve its first page.

Runs it in a fresh temporary folder (first start: migrations + demo seeding) and again on the same folder
(restart), measuring process start → first ``/login`` answer, and the first signed-in home page.
Usage: ``python bench/startup.py [--runs N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testkit.servers import free_port  # noqa: E402

PASSWORD = "bench-only-password-1"  # bench value


def _time_to_login(folder: Path) -> tuple[float, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    env.update(
        PANTAU_VAR_DIR=str(folder),
        PANTAU_DATABASE_URL=f"sqlite:///{folder / 'pantau.db'}",
        PANTAU_PORT=str(port),
        PANTAU_EMBEDDED_MQTT_PORT=str(free_port()),
        PANTAU_DEMO_PASSWORD=PASSWORD,
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                if process.poll() is not None:
                    raise SystemExit("the demo exited before serving") from None
                time.sleep(0.05)
        first_page = time.perf_counter() - started
        signed_in = time.perf_counter()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = opener.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = {"username": "perawat", "password": PASSWORD, "csrf_token": token, "next": "/"}
        opener.open(f"{base}/login", data=urlencode(form).encode()).read()
        layout = opener.open(f"{base}/_dash-layout").read().decode()
        if "shell-navbar" not in layout:
            raise SystemExit("sign-in did not reach the app shell")
        home = time.perf_counter() - signed_in
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    return first_page, home


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    first, restart, sign_in = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            page, home = _time_to_login(Path(tmp))
            first.append(page)
            sign_in.append(home)
            restart.append(_time_to_login(Path(tmp))[0])
    figures = {
        "runs": args.runs,
        "first_start_to_login_s": round(statistics.median(first), 2),
        "restart_to_login_s": round(statistics.median(restart), 2),
        "sign_in_to_home_layout_ms": round(statistics.median(sign_in) * 1000, 1),
    }
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
