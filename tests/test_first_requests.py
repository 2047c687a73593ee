"""A fresh gunicorn worker's first requests arrive together (its threads): none may meet Dash's half-done setup."""

from __future__ import annotations

import runpy
import threading
from pathlib import Path
from types import SimpleNamespace

from app import create_app
from tests.fixtures_app import make_settings

THREADS = 12
GUNICORN_CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


def test_a_fresh_app_answers_its_first_requests_at_once(sqlite_app, tmp_path, mqtt_url):
    settings = make_settings(tmp_path, sqlite_app.settings.database_url, sqlite_app.settings.redis_url, mqtt_url)
    post_worker_init = runpy.run_path(str(GUNICORN_CONF))["post_worker_init"]
    for _ in range(3):  # each round a fresh app, as each new worker is
        app = create_app(settings, runtime=sqlite_app.runtime)
        post_worker_init(SimpleNamespace(wsgi=app.server))  # what gunicorn calls once the worker has loaded it
        # Dash's own first-request work is done before any request: its pages router is already registered
        # (without that, two first requests at once could meet a callback map still being built).
        assert any(key.startswith(".._pages_content.children") for key in app.callback_map)
        start = threading.Barrier(THREADS)
        statuses: list[int] = []

        def first_request(app=app, start=start, statuses=statuses) -> None:
            with app.server.test_client() as client:
                start.wait()
                statuses.append(client.get("/login").status_code)

        threads = [threading.Thread(target=first_request) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert statuses == [200] * THREADS
