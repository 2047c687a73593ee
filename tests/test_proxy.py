"""Behind the reverse proxy: client addresses through ``PANTAU_TRUSTED_PROXIES`` only (rate limits, Mobile JKN's
token limit, the audit log), limits that survive a Redis outage, links on paper from ``PANTAU_PUBLIC_URL`` never
the Host header, and the published demo secrets refused by every entrypoint but the embedded demo and the tests."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.queue_public import qr_svg
from auth.proxy_urls import public_url_for
from config import DEMO_JKN_PASSWORD, DEMO_JKN_USERNAME, load_settings
from data.migrate import upgrade
from data.models import AuditLog
from testkit.servers import RedisServer, ServiceError
from tests.app_process import WebAppProcess
from tests.fixtures_app import DEMO_USERNAME, TEST_PASSWORD, PantauApp, build_app, make_settings, post_login
from tests.test_config import OWN_SECRETS
from tests.test_registration import book, new_patient, open_session

ROOT = Path(__file__).resolve().parents[1]
PROXY = "10.0.0.2"  # the reverse proxy's own address, as the web app's socket sees it
CLIENT_A, CLIENT_B = "203.0.113.7", "198.51.100.9"
SIGN_IN_LIMIT = 10
# Per hour, so that a slow machine cannot let a minute's window slide on; the sign-in throttle's growing delays
# stay out of the way: these tests are about the rate limit alone.
LIMITS = dict(login_rate_limit=f"{SIGN_IN_LIMIT} per hour", lockout_attempts=1000)


@pytest.fixture
def make_app(tmp_path, mqtt_url) -> Iterator[Callable[..., PantauApp]]:
    """``make_app(**settings)``: a migrated, seeded SQLite app with its own in-memory store and those settings."""
    apps: list[PantauApp] = []

    def make(**overrides: object) -> PantauApp:
        folder = tmp_path / uuid.uuid4().hex[:8]
        live = overrides.pop("redis_url", f"memory://proxy-{uuid.uuid4().hex[:12]}")
        settings = make_settings(folder, f"sqlite:///{folder / 'pantau.db'}", live, mqtt_url, **LIMITS | overrides)
        folder.mkdir()
        apps.append(build_app(settings))
        return apps[-1]

    yield make
    for pantau in apps:
        pantau.runtime.close()


def via(pantau: PantauApp, socket_address: str, forwarded_for: str | None = None) -> FlaskClient:
    """A test client whose requests come from ``socket_address``, with an X-Forwarded-For header when given."""
    client = pantau.server.test_client()
    client.environ_base["REMOTE_ADDR"] = socket_address
    if forwarded_for is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def bad_sign_in(client: FlaskClient) -> int:
    return post_login(client, "tidak.ada", "salah-sekali-123").status_code


def test_behind_one_proxy_each_client_has_its_own_sign_in_limit(make_app):
    pantau = make_app(trusted_proxies=1)
    client_a = via(pantau, PROXY, CLIENT_A)
    assert [bad_sign_in(client_a) for _ in range(SIGN_IN_LIMIT)] == [401] * SIGN_IN_LIMIT
    assert bad_sign_in(client_a) == 429
    # A client that sends its own X-Forwarded-For gets it prepended to by a proxy that appends: still client A.
    assert bad_sign_in(via(pantau, PROXY, f"192.0.2.99, {CLIENT_A}")) == 429
    # Client B comes through the same proxy (the same socket address) and is not held by A's limit.
    assert post_login(via(pantau, PROXY, CLIENT_B), "admin", TEST_PASSWORD).status_code == 302


def test_without_trusted_proxies_a_client_cannot_escape_its_limit_with_x_forwarded_for(make_app):
    pantau = make_app(trusted_proxies=0)
    answers = [bad_sign_in(via(pantau, CLIENT_A, f"192.0.2.{n}")) for n in range(SIGN_IN_LIMIT + 1)]
    assert answers == [401] * SIGN_IN_LIMIT + [429]
    with pantau.runtime.db.session() as db:
        addresses = set(db.scalars(select(AuditLog.ip).where(AuditLog.action == "login_failed")))
    assert addresses == {CLIENT_A}, "the audit log records the socket's address, not the client's claim"


def test_audit_log_records_the_real_client_behind_the_proxy(make_app):
    pantau = make_app(trusted_proxies=1)
    assert bad_sign_in(via(pantau, PROXY, CLIENT_A)) == 401
    assert post_login(via(pantau, PROXY, f"192.0.2.99, {CLIENT_B}"), "admin", TEST_PASSWORD).status_code == 302
    with pantau.runtime.db.session() as db:
        rows = {row.action: row.ip for row in db.scalars(select(AuditLog).where(AuditLog.action.like("login%")))}
    assert rows == {"login_failed": CLIENT_A, "login": CLIENT_B}


def jkn_token(client: FlaskClient, password: str) -> tuple[int, int | None]:
    """The HTTP status and BPJS code of ``GET /api/jkn/auth``."""
    response = client.get("/api/jkn/auth", headers={"x-username": DEMO_JKN_USERNAME, "x-password": password})
    body = response.get_json(silent=True) or {}
    return response.status_code, body.get("metadata", {}).get("code")


def test_mobile_jkn_token_limit_is_per_real_client(make_app):
    """A guesser's refused passwords use up its own budget (5 a minute), never that of BPJS's gateway."""
    pantau = make_app(trusted_proxies=1)
    guesser, gateway = via(pantau, PROXY, CLIENT_A), via(pantau, PROXY, CLIENT_B)
    assert [jkn_token(guesser, "tebakan") for _ in range(5)] == [(200, 201)] * 5
    assert jkn_token(guesser, DEMO_JKN_PASSWORD)[0] == 429
    assert jkn_token(gateway, DEMO_JKN_PASSWORD) == (200, 200)


def test_sign_in_works_while_redis_is_down_and_the_limit_holds_per_process(make_app, caplog):
    redis = RedisServer().start()  # its own: the session's Redis stays up for the other tests
    try:
        pantau = make_app(redis_url=redis.url, login_rate_limit="5 per hour")
        client = via(pantau, CLIENT_A)
        assert [bad_sign_in(client) for _ in range(2)] == [401, 401]  # counted in Redis
        redis.halt()
        with caplog.at_level(logging.WARNING, logger="flask-limiter"):
            assert client.get("/login").status_code == 200
            assert post_login(via(pantau, CLIENT_B), "admin", TEST_PASSWORD).status_code == 302
            # Counted afresh in this process's memory: five more, then refused.
            assert [bad_sign_in(client) for _ in range(5)] == [401] * 5
            assert bad_sign_in(client) == 429
        assert any("falling back to in-memory" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    finally:
        redis.stop()


def test_ticket_qr_code_uses_the_public_url_not_the_host_header(make_app):
    pantau = make_app(public_url="https://antrean.rs.example", trusted_proxies=1)
    booked = book(pantau, new_patient(pantau).id, open_session(pantau, "UMU"))
    desk = via(pantau, PROXY, CLIENT_A)
    desk.environ_base |= {"HTTP_HOST": "evil.example", "HTTP_X_FORWARDED_HOST": "evil.example"}
    assert post_login(desk, DEMO_USERNAME["front_desk"], TEST_PASSWORD).status_code == 302
    html = desk.get(f"/antrean/tiket/{booked.booking_code}").get_data(as_text=True)
    status_url = f"https://antrean.rs.example/antrean/status/{booked.booking_code}"
    assert str(qr_svg(status_url)) in html
    assert "evil.example" not in html
    with pantau.server.test_request_context("/", headers={"Host": "evil.example"}):
        assert public_url_for("auth.display_sign_in", token="abc") == "https://antrean.rs.example/tv/abc"


def test_without_a_public_url_links_use_the_request_address(make_app):
    """The embedded demo and development servers: no public URL, the request's own address."""
    pantau = make_app()
    with pantau.server.test_request_context("/", base_url="http://192.168.1.10:8050"):
        assert public_url_for("auth.display_sign_in", token="abc") == "http://192.168.1.10:8050/tv/abc"


# ---- the published demo secrets ---------------------------------------------------------------------------------


def _clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any PANTAU_* setting, plus ``variables``."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")} | variables


def test_gunicorn_refuses_the_demo_secrets_unless_told_the_hospitals_own(tmp_path, mqtt_url):
    """``gunicorn app:server`` started without PANTAU_ENV (development) must not sign sessions with a published
    key; with the hospital's own secrets the same command serves."""
    database = f"sqlite:///{tmp_path / 'hospital.db'}"
    upgrade(database)
    development = dict(env="development", database_url=database, redis_url="memory://", mqtt_url=mqtt_url)
    with pytest.raises(ServiceError) as refused:
        WebAppProcess(load_settings(var_dir=tmp_path, **development)).start()
    assert "Refusing to start with the published demo secrets" in str(refused.value)
    assert "PANTAU_SECRET_KEY must be set" in str(refused.value)
    own = load_settings(var_dir=tmp_path, demo=False, **development, **OWN_SECRETS)
    with WebAppProcess(own) as web, urllib.request.urlopen(f"{web.url}/login", timeout=10) as answer:
        assert answer.status == 200


@pytest.mark.parametrize("module", ["bridge.consumer", "bridge.bpjs_worker"])
def test_workers_refuse_the_demo_secrets(module, tmp_path):
    env = _clean_environment(PANTAU_VAR_DIR=str(tmp_path), PANTAU_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "Refusing to start with the published demo secrets" in result.stderr
    assert "PANTAU_SECRET_KEY must be set" in result.stderr


def flask_cli(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = _clean_environment(PANTAU_VAR_DIR=str(tmp_path), **variables)
    flask = Path(sys.executable).with_name("flask")
    return subprocess.run(
        [str(flask), "--app", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_operator_commands_run_on_the_demo_database_only(tmp_path):
    """``flask --app app create-user …`` next to ``make run`` works as the docs show; the same demo secrets
    against any other database are refused."""
    demo = flask_cli(tmp_path, "routes")
    assert demo.returncode == 0, demo.stderr
    assert "/antrean/status" in demo.stdout
    elsewhere = flask_cli(tmp_path, "routes", PANTAU_DATABASE_URL=f"sqlite:///{tmp_path / 'hospital.db'}")
    assert elsewhere.returncode != 0
    assert "Refusing to start with the published demo secrets" in elsewhere.stderr
