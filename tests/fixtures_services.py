"""Pytest plugin: real PostgreSQL, Redis and Mosquitto for the whole test session.

Each server starts the first time a test asks for it and stops at the end of the session. To use services that
are already running instead, set ``PANTAU_TEST_POSTGRES_URL`` (a SQLAlchemy URL), ``PANTAU_TEST_REDIS_URL``
or ``PANTAU_TEST_MQTT_URL`` (``mqtt://host:port``). With ``PANTAU_TEST_MQTT_URL`` set, tests that need to
restart the broker (they ask for ``mosquitto_server``) are skipped.

Fixtures: ``postgres_server``, ``postgres_url``, ``redis_server``, ``redis_url``, ``mosquitto_server``,
``mqtt_url``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from testkit.servers import (
    ExternalPostgres,
    ExternalService,
    MosquittoServer,
    PostgresServer,
    RedisServer,
)

POSTGRES_ENV = "PANTAU_TEST_POSTGRES_URL"
REDIS_ENV = "PANTAU_TEST_REDIS_URL"
MQTT_ENV = "PANTAU_TEST_MQTT_URL"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _own_or_external(env: str, server: RedisServer | PostgresServer, external: type) -> Iterator:
    """The service named by ``env`` when set, otherwise ``server`` started here and stopped at the end."""
    url = _env(env)
    if url:
        yield external(url)
        return
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | ExternalPostgres]:
    """The session's PostgreSQL server (``.url``, ``.create_database(name) -> url``)."""
    yield from _own_or_external(POSTGRES_ENV, PostgresServer(), ExternalPostgres)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer | ExternalPostgres) -> str:
    """SQLAlchemy URL of the session's ``pantau_test`` database (or ``PANTAU_TEST_POSTGRES_URL``)."""
    return postgres_server.url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer | ExternalService]:
    """The session's Redis server (``.url``)."""
    yield from _own_or_external(REDIS_ENV, RedisServer(), ExternalService)


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer | ExternalService) -> str:
    """``redis://`` URL of the session's Redis (or ``PANTAU_TEST_REDIS_URL``)."""
    return redis_server.url


@pytest.fixture(scope="session")
def mosquitto_server() -> Iterator[MosquittoServer]:
    """The session's Mosquitto broker; ``stop(kill=False)``/``start()`` restart it with its data."""
    if _env(MQTT_ENV):
        pytest.skip(f"{MQTT_ENV} points at an external broker that the tests cannot restart")
    server = MosquittoServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def mqtt_url(request: pytest.FixtureRequest) -> str:
    """``mqtt://host:port`` of the session's broker (or ``PANTAU_TEST_MQTT_URL``)."""
    external = _env(MQTT_ENV)
    if external:
        return external
    server: MosquittoServer = request.getfixturevalue("mosquitto_server")
    return server.url
