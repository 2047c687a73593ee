"""``/healthz`` answers from a cached check: a load balancer's many hits cost one database probe and one MQTT
connection per cache period, never one per hit, and only one request refreshes at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import finish_dash_setup
from data import health


class Counted:
    """Wraps a probe, counting its calls; while ``held`` is set, each call waits until it is released (at most
    30 s): a slow service."""

    def __init__(self, probe: Callable[..., bool]) -> None:
        self.probe, self.calls, self.held = probe, 0, None
        self._lock = threading.Lock()

    def __call__(self, *args: object, **kwargs: object) -> bool:
        with self._lock:
            self.calls += 1
        if self.held is not None:
            self.held.wait(30)
        return self.probe(*args, **kwargs)


@pytest.fixture
def probes(postgres_app, monkeypatch) -> tuple[Counted, Counted]:
    """The database ping and the MQTT probe (a real connection to the test's Mosquitto), counted."""
    database = Counted(postgres_app.runtime.db.ping)
    mqtt = Counted(health.probe_broker)
    monkeypatch.setattr(postgres_app.runtime.db, "ping", database)
    monkeypatch.setattr(health, "probe_broker", mqtt)
    return database, mqtt


def hit(app, times: int, workers: int = 20) -> list[int]:
    """``times`` GETs of /healthz from ``workers`` threads at once; their status codes. Dash's first-request setup
    is finished first, as gunicorn's ``post_worker_init`` does before a worker's threads serve."""
    finish_dash_setup(app.server)
    clients = [app.client() for _ in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda n: clients[n % workers].get("/healthz").status_code, range(times)))


def test_two_hundred_hits_cost_one_probe_of_each_service(postgres_app, probes):
    postgres_app.settings.healthz_cache_seconds = 60
    database, mqtt = probes
    assert hit(postgres_app, 200) == [200] * 200
    assert database.calls == 1
    assert mqtt.calls == 1  # the first request's; the other 199 open no MQTT connection


def test_the_check_is_refreshed_once_the_cache_period_is_over(postgres_app, probes):
    postgres_app.settings.healthz_cache_seconds = 0.3
    database, mqtt = probes
    client = postgres_app.client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz").status_code == 200
    time.sleep(0.4)
    assert client.get("/healthz").get_json()["checks"]["database"]["ok"]
    assert (database.calls, mqtt.calls) == (2, 2)


def test_while_one_request_refreshes_the_others_answer_at_once(postgres_app, probes):
    """The refresh's database probe is held until the other requests have all answered: had they waited for the
    refresh, they would still be waiting (whatever the machine's load, no timing is assumed)."""
    postgres_app.settings.healthz_cache_seconds = 0.2
    database, _ = probes
    postgres_app.client().get("/healthz")
    time.sleep(0.3)
    database.held = threading.Event()  # the refresh is slow: a database under load
    refresh = threading.Thread(target=lambda: postgres_app.client().get("/healthz"))
    refresh.start()
    deadline = time.monotonic() + 10
    while database.calls < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert database.calls == 2, "the refresh did not start"
    answers: list[int] = []
    others = threading.Thread(target=lambda: answers.extend(hit(postgres_app, 40)))
    others.start()
    others.join(20)
    answered_while_held = not others.is_alive() and refresh.is_alive()
    database.held.set()
    others.join(35)
    refresh.join(35)
    assert answered_while_held, "the other requests waited for the refresh"
    assert answers == [200] * 40
    assert database.calls == 2
