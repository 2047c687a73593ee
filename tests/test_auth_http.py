"""Sign-in and password change over plain HTTP: the forms, CSRF, audit, session timeout, open
redirects, the password policy's answers and the throttle on wrong current passwords."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from auth import users
from data.models import AuditLog
from data.runtime import build_runtime
from domain.clock import utcnow
from tests.fixtures_app import TEST_PASSWORD, PantauApp, build_app, csrf_token, make_settings, post_login


def audit_actions(pantau) -> list[str]:
    with pantau.runtime.db.session() as s:
        return [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_login_form_post_signs_in_and_is_audited(any_app, client):
    response = post_login(client, "perawat")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "login" in audit_actions(any_app)


def test_wrong_password_is_refused_with_indonesian_message(any_app, client):
    response = post_login(client, "perawat", "salah-sekali-123")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert audit_actions(any_app)[-1] == "login_failed"


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "perawat", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "kedaluwarsa" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_the_same_message(client):
    response = post_login(client, "tidak-ada", "apa-saja-123")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)


def test_logout_ends_the_session_and_is_audited(sqlite_app, login):
    client = login("front_desk")
    token = csrf_token(client.get("/logout").get_data(as_text=True))  # a GET only asks (tests/test_sessions.py)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    assert audit_actions(sqlite_app)[-1] == "logout"


def test_next_is_followed_only_for_local_paths(sqlite_app):
    response = post_login(sqlite_app.client(), "admin", next_url="https://evil.example/steal")
    assert response.headers["Location"] == "/"
    response = post_login(sqlite_app.client(), "admin", next_url="//evil.example/x")
    assert response.headers["Location"] == "/"
    assert post_login(sqlite_app.client(), "admin", next_url="/admin/pengguna").headers["Location"] == "/admin/pengguna"


def test_idle_session_times_out(sqlite_app, login):
    client = login("nurse")
    with client.session_transaction() as session:
        session["seen"] = time.time() - sqlite_app.settings.session_timeout_minutes * 60 - 5
    assert client.get("/").status_code == 302
    assert audit_actions(sqlite_app)[-1] == "session_expired"


def test_timer_callbacks_do_not_keep_a_session_alive(login):
    client = login("nurse")
    with client.session_transaction() as session:
        session["seen"] = stale = time.time() - 60
    body = {
        "output": "home-health.children",
        "outputs": {"id": "home-health", "property": "children"},
        "inputs": [{"id": "home-health-interval", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["home-health-interval.n_intervals"],
        "state": [],
    }
    assert client.post("/_dash-update-component", json=body).status_code == 200
    with client.session_transaction() as session:
        assert session["seen"] == stale


def test_login_page_has_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert 'name="csrf_token"' in response.get_data(as_text=True)
    assert csrf_token(response.get_data(as_text=True))


def test_session_cookie_is_httponly_and_samesite(client):
    response = post_login(client, "perawat")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_attempts_are_rate_limited(tmp_path, mqtt_url):
    """Past ``PANTAU_LOGIN_RATE_LIMIT`` POSTs from one address, /login answers 429 (before any password check)."""
    pantau = build_app(
        make_settings(
            tmp_path, f"sqlite:///{tmp_path / 'limit.db'}", "memory://", mqtt_url, login_rate_limit="3 per minute"
        )
    )
    try:
        client = pantau.client()
        codes = [post_login(client, "perawat", "wrong-password").status_code for _ in range(5)]
        assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    finally:
        pantau.runtime.close()


def change_password(client, current: str, new: str, repeat: str | None = None):
    """Post the password form as a browser would (GET for the token first)."""
    token = csrf_token(client.get("/akun/kata-sandi").get_data(as_text=True))
    form = {"current": current, "new": new, "repeat": new if repeat is None else repeat, "csrf_token": token}
    return client.post("/akun/kata-sandi", data=form)


def field_error(response, field: str) -> str:
    """The message shown under ``field`` of the password form ('' when none)."""
    found = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    return found.group(1) if found else ""


@pytest.mark.parametrize(
    ("new", "repeat", "field", "message"),
    [
        ("aaaaaaaaaa", None, "new", "hanya pengulangan karakter"),
        ("1234567890", None, "new", "hanya urutan karakter"),
        ("abcdefghij", None, "new", "hanya urutan karakter"),
        ("Perawat-Malam-77", None, "new", "tidak boleh memuat nama pengguna"),
        ("RSUD-pantau-icu", None, "new", "tidak boleh memuat nama pengguna"),
        ("password123", None, "new", "paling sering dipakai atau pernah bocor"),
        ("Bismillah2024", None, "new", "paling sering dipakai atau pernah bocor"),
        ("pendek", None, "new", "minimal 10 karakter"),
        ("x" * 257, None, "new", "maksimal 256 karakter"),
        (TEST_PASSWORD, None, "new", "harus berbeda dari yang lama"),
        ("kopi tubruk gula aren", "kopi tubruk gula arem", "repeat", "tidak sama"),
    ],
)
def test_a_refused_new_password_is_answered_beside_its_field(sqlite_app, login, new, repeat, field, message):
    response = change_password(login("nurse"), TEST_PASSWORD, new, repeat)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert f'class="form-control is-invalid" id="{field}"' in response.get_data(as_text=True)
    assert "password_changed" not in audit_actions(sqlite_app)
    assert post_login(sqlite_app.client(), "perawat").status_code == 302  # the old password still works


def test_a_good_passphrase_is_accepted_and_audited(any_app, login):
    response = change_password(login("nurse"), TEST_PASSWORD, "kopi tubruk gula aren di pagi hari")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert audit_actions(any_app)[-1] == "password_changed"
    assert post_login(any_app.client(), "perawat", "kopi tubruk gula aren di pagi hari").status_code == 302


def test_the_change_form_speaks_english_too(login):
    client = login("nurse")
    client.get("/lang/en")
    response = change_password(client, TEST_PASSWORD, "qwertyuiop")
    assert "only a sequence" in field_error(response, "new")


def test_wrong_current_passwords_are_throttled_across_workers_until_the_wait_ends(any_app, monkeypatch):
    """Two web workers (two apps on one database) share the count, in the sign-in throttle's keys; inside the
    wait even the right current password gets 429 with Retry-After, and so does signing in from that address,
    until the app's clock passes the wait."""
    second = PantauApp(
        create_app(any_app.settings, runtime=build_runtime(any_app.settings)), any_app.settings, any_app.creds
    )
    now = utcnow()
    monkeypatch.setattr(users, "utcnow", lambda: now)
    try:
        workers = [any_app.login("doctor"), second.login("doctor")]
        attempts = any_app.settings.lockout_attempts + 1  # the free failures and the first that starts a wait
        codes = [
            change_password(workers[n % 2], "bukan-kata-sandinya", "kopi tubruk gula aren").status_code
            for n in range(attempts)
        ]
        assert codes == [400] * attempts
        response = change_password(workers[0], TEST_PASSWORD, "kopi tubruk gula aren")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert "Tunggu 1 detik" in response.get_data(as_text=True)
        assert change_password(workers[1], TEST_PASSWORD, "kopi tubruk gula aren").status_code == 429
        assert post_login(any_app.client(), "dokter").status_code == 429
        actions = audit_actions(any_app)
        assert actions.count("password_change_failed") == attempts + 2  # the two inside the wait, as throttled
        assert "login_refused" in actions

        monkeypatch.setattr(users, "utcnow", lambda: now + timedelta(seconds=1))
        assert change_password(workers[1], TEST_PASSWORD, "kopi tubruk gula aren").status_code == 302
        assert post_login(any_app.client(), "dokter", "kopi tubruk gula aren").status_code == 302
    finally:
        second.runtime.close()
