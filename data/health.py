"""Health of the services Pantau depends on: database, live store, MQTT broker.

``/healthz`` answers from :class:`HealthCache`: a load balancer polling every web worker many times a second must
not open a database connection and an MQTT connection per hit. The checks run at most once per
``Settings.healthz_cache_seconds`` per process, by one request at a time; the others meanwhile get the last
answer (only the very first requests wait for it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

from data.live_store import is_redis_url
from data.mqtt_client import probe_broker
from data.runtime import Runtime


@dataclass(frozen=True)
class Check:
    name: str  # "database", "live_store", "mqtt"
    ok: bool
    backend: str  # what answers, without credentials, e.g. "postgresql", "redis", "memory", "embedded"
    ms: float


def _timed(name: str, backend: str, probe: Callable[[], bool]) -> Check:
    started = time.perf_counter()
    ok = probe()
    return Check(name, ok, backend, round((time.perf_counter() - started) * 1000, 1))


def check_all(runtime: Runtime) -> list[Check]:
    settings = runtime.settings
    live_backend = "redis" if is_redis_url(settings.redis_url) else "memory"
    mqtt_backend = "embedded" if settings.embedded_broker else ("mqtts" if runtime.broker.tls else "mqtt")
    return [
        _timed("database", runtime.db.dialect, runtime.db.ping),
        _timed("live_store", live_backend, runtime.live.ping),
        _timed("mqtt", mqtt_backend, lambda: probe_broker(runtime.broker, timeout=2.0)),
    ]


class HealthCache:
    """:func:`check_all`'s answer, reused for ``ttl`` seconds; one refresh at a time (no thundering herd)."""

    def __init__(self, runtime: Runtime, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._runtime = runtime
        self._ttl = ttl
        self._clock = clock
        self._refreshing = threading.Lock()
        self._checks: list[Check] | None = None
        self._taken_at = 0.0

    def _fresh(self) -> bool:
        return self._checks is not None and self._clock() - self._taken_at < self._ttl

    def checks(self) -> list[Check]:
        """The latest checks, refreshed first when older than ``ttl`` and no other request is refreshing them."""
        if self._fresh():
            return self._checks
        # Without any answer yet everyone waits for the first one; afterwards the others take the last answer.
        if self._refreshing.acquire(blocking=self._checks is None):
            try:
                if not self._fresh():  # another request may have refreshed while this one waited
                    self._checks = check_all(self._runtime)
                    self._taken_at = self._clock()
            finally:
                self._refreshing.release()
        return self._checks


_CACHE_KEY = "pantau.health"


def cached_checks(extensions: MutableMapping[str, object], runtime: Runtime) -> list[Check]:
    """The checks from the app's cache (kept in the Flask app's ``extensions``, created on first use)."""
    cache = extensions.get(_CACHE_KEY)
    if cache is None:  # setdefault: two first requests at once still share one cache
        cache = extensions.setdefault(_CACHE_KEY, HealthCache(runtime, runtime.settings.healthz_cache_seconds))
    return cache.checks()
