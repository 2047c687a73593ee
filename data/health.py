"""Health of the services Pantau depends on: database, live store, MQTT broker."""

from __future__ import annotations

import time
from collections.abc import Callable
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
