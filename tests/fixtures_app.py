"""Pytest plugin: Pantau apps on the embedded backends (SQLite + memory) and on PostgreSQL + Redis, Flask test
clients of the test's app (``client`` signed out, ``login(role)`` signed in through the real sign-in form), and a
live server for the browser tests."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis
from argon2 import PasswordHasher, profiles
from flask.testing import FlaskClient
from limits.storage import RedisStorage
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from app import create_app, finish_dash_setup
from auth import passwords
from auth.demo_accounts import DEMO_USERS, DemoCredentials, keep_demo_credentials, seed_demo
from config import Settings, load_settings
from data.db import Database
from data.migrate import upgrade
from data.runtime import build_runtime
from domain.clock import utcnow
from testkit.threaded_http import serving

TEST_PASSWORD = "test-only-Password-1"  # test value, never used outside the suite
DEMO_USERNAME = {role: username for username, _name, role in DEMO_USERS}  # "nurse" -> "perawat", ...
APP_FIXTURES = ("any_app", "sqlite_app", "postgres_app")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass
class PantauApp:
    """A migrated, seeded app with the demo credentials it was seeded with."""

    dash: object
    settings: Settings
    creds: DemoCredentials

    @property
    def server(self):
        return self.dash.server

    @property
    def runtime(self):
        return self.server.extensions["pantau"]

    def client(self) -> FlaskClient:
        """A new test client, signed out."""
        return self.server.test_client()

    def login(self, role: str) -> FlaskClient:
        """A new test client signed in as the demo user of ``role`` through the sign-in form; a ``display`` signs
        in as a TV board does, by opening its token's address."""
        client = self.client()
        if role == "display":
            response = client.get(f"/tv/{self.creds.display_token}")
        else:
            response = post_login(client, DEMO_USERNAME[role], self.creds.password)
        assert response.status_code == 302, f"{role} could not sign in: {response.status_code}"
        return client


@pytest.fixture(scope="session", autouse=True)
def cheapest_password_hashing() -> Iterator[PasswordHasher]:
    """Argon2id at its cheapest work factors in the test process, which seeds and signs in thousands of times
    (about a fifth of a second each with production's on a busy test machine); yields production's hasher, set
    aside. The same code hashes and verifies; servers that tests start as processes of their own hash as
    production does, and rehash a cheap hash at sign-in as they would an outdated one."""
    production = passwords._hasher
    cheap = replace(profiles.RFC_9106_LOW_MEMORY, time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher.from_parameters(cheap))
        yield production


def make_settings(tmp_path, database_url: str, redis_url: str, mqtt_url: str, **overrides: object) -> Settings:
    values = dict(
        env="test",
        database_url=database_url,
        redis_url=redis_url,
        mqtt_url=mqtt_url,
        var_dir=tmp_path / "var",
        demo_password=TEST_PASSWORD,
        login_rate_limit="1000 per minute",
        mfa_required_roles="",  # else every admin and manager of every test would first enrol in TOTP
    )
    values.update(overrides)
    return load_settings(**values)


@dataclass(frozen=True)
class Template:
    """A migrated, demo-seeded database that tests copy (a PostgreSQL database's name or a SQLite file), with the
    credentials its seed made and the moment it was seeded."""

    name: str
    creds: DemoCredentials
    seeded_at: datetime

    def seed_is_current(self, timezone: str) -> bool:
        """Seeding a copy again now would change nothing: the site's day and hour are those of the template's seed.
        (The demo's practice hours follow the hour until today's sessions exist, and its nurse observations are
        renewed after six hours; everything else the seed makes once.)"""
        zone = ZoneInfo(timezone)
        hour = "%Y-%m-%d %H"
        return self.seeded_at.astimezone(zone).strftime(hour) == utcnow().astimezone(zone).strftime(hour)


def build_app(settings: Settings, template: Template | None = None) -> PantauApp:
    """Migrate, seed and build the app, as a start of Pantau does. On a copy of ``template``: with the template's
    demo credentials, without the migrations (the copy is at head) and, while the template's seed is current,
    without seeding again, which would change nothing (``Template.seed_is_current``)."""
    if template is not None:
        keep_demo_credentials(settings, template.creds)
    else:
        upgrade(settings.database_url)
    runtime = build_runtime(settings)
    if template is not None and template.seed_is_current(settings.timezone):
        creds = template.creds
    else:
        with runtime.db.session() as session:
            creds = seed_demo(session, settings)
    return PantauApp(create_app(settings, runtime=runtime), settings, creds)


def migrate_and_seed(url: str, name: str, var_dir) -> Template:
    """A template database: the schema at head and the demo seed."""
    upgrade(url)
    db = Database(url)
    seeded_at = utcnow()
    try:
        with db.session() as session:
            creds = seed_demo(session, make_settings(var_dir, url, "memory://", ""), seeded_at)
    finally:
        db.engine.dispose()  # a template must have no open connection while it is copied
    return Template(name, creds, seeded_at)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Template:
    """A migrated, demo-seeded SQLite file that each embedded-backend test copies, as PostgreSQL tests copy
    ``postgres_template``: migrating and seeding a file for every test cost seconds each."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    return migrate_and_seed(f"sqlite:///{folder / 'template.db'}", str(folder / "template.db"), folder)


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """A SQLite database of the test's own, a copy of the template."""
    path = tmp_path / "pantau.db"
    with sqlite3.connect(sqlite_template.name) as source, sqlite3.connect(path) as copy:
        source.backup(copy)  # whole and consistent, whatever the journal mode
    source.close()
    copy.close()
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_app(tmp_path, sqlite_template, sqlite_url, mqtt_url) -> Iterator[PantauApp]:
    """The embedded configuration: SQLite file and in-memory live store (a real broker for health)."""
    live = f"memory://test-{uuid.uuid4().hex[:12]}"  # a store of its own: "memory://" is shared by the process
    pantau = build_app(make_settings(tmp_path, sqlite_url, live, mqtt_url), sqlite_template)
    yield pantau
    pantau.runtime.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server, tmp_path_factory) -> Template:
    """A migrated, demo-seeded database that each PostgreSQL test copies (``CREATE DATABASE … TEMPLATE``), which
    is far quicker than migrating and seeding every time."""
    name = f"tpl_{uuid.uuid4().hex[:12]}"
    return migrate_and_seed(postgres_server.create_database(name), name, tmp_path_factory.mktemp("template"))


@pytest.fixture
def postgres_app(tmp_path, postgres_server, postgres_template, redis_url, mqtt_url) -> Iterator[PantauApp]:
    """The production configuration: a fresh PostgreSQL database, real Redis and Mosquitto."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name, template=postgres_template.name)
    forget_rate_limits(redis_url)
    pantau = build_app(make_settings(tmp_path, url, redis_url, mqtt_url), postgres_template)
    yield pantau
    pantau.runtime.close()
    postgres_server.drop_database(name)  # hundreds of copies would otherwise pile up for the rest of the run


def forget_rate_limits(redis_url: str) -> None:
    """Drop the rate limiters' counts from the session's Redis, as a fresh Redis would have none: every test
    client signs in from 127.0.0.1, so the sign-ins of earlier tests in the same minute would otherwise count
    against this one (a fast machine passed the tests' limit of 1,000 a minute and got 429)."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(f"{RedisStorage.PREFIX}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_app(request) -> PantauApp:
    """The same test on both backends."""
    return request.getfixturevalue(f"{request.param}_app")


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the form"
    return match.group(1) or match.group(2)


def post_login(client: FlaskClient, username: str, password: str = TEST_PASSWORD, next_url: str = "/") -> TestResponse:
    """Post the sign-in form exactly as a browser would (GET for the CSRF token, then POST); the form's answer."""
    token = csrf_token(client.get(f"/login?next={next_url}").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token, "next": next_url}
    )


@pytest.fixture
def app(request: pytest.FixtureRequest) -> PantauApp:
    """The test's app: the one of ``any_app``, ``sqlite_app`` or ``postgres_app`` it asks for (with ``any_app``,
    on each backend in turn); the SQLite app when it asks for none."""
    name = next((name for name in APP_FIXTURES if name in request.fixturenames), "sqlite_app")
    return request.getfixturevalue(name)


@pytest.fixture
def client(app: PantauApp) -> FlaskClient:
    """A signed-out Flask test client of the test's app."""
    return app.client()


@pytest.fixture
def login(app: PantauApp) -> Callable[[str], FlaskClient]:
    """``login(role)``: a new Flask test client of the test's app, signed in as that role's demo user (``"nurse"``
    is ``perawat``) through the real sign-in form; call it once per role a test needs."""
    return app.login


@contextmanager
def served(pantau: PantauApp) -> Iterator[str]:
    """``pantau`` served over HTTP on a free loopback port (threaded, like the demo, and like it with Dash's
    first-request setup finished before it serves) for as long as the block runs; yields its base URL."""
    finish_dash_setup(pantau.server)
    with serving(make_server("127.0.0.1", 0, pantau.server, threaded=True)) as url:
        yield url


@pytest.fixture
def live_server(sqlite_app) -> Iterator[tuple[str, PantauApp]]:
    """The SQLite app served over HTTP on a free port, for the browser."""
    with served(sqlite_app) as base:
        yield base, sqlite_app
