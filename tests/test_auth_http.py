"""Sign-in over plain HTTP: the form, CSRF, lockout, audit, session timeout, open redirects."""

from __future__ import annotations

import time

from sqlalchemy import select

from data.models import AuditLog
from tests.fixtures_app import TEST_PASSWORD, build_app, csrf_token, login, make_settings


def audit_actions(pantau) -> list[str]:
    with pantau.runtime.db.session() as s:
        return [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_login_form_post_signs_in_and_is_audited(any_app):
    client = any_app.server.test_client()
    response = login(client, "perawat")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "login" in audit_actions(any_app)


def test_wrong_password_is_refused_with_indonesian_message(any_app):
    client = any_app.server.test_client()
    response = login(client, "perawat", "salah-sekali-123")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert audit_actions(any_app)[-1] == "login_failed"


def test_post_without_csrf_token_is_refused(sqlite_app):
    client = sqlite_app.server.test_client()
    response = client.post("/login", data={"username": "perawat", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "kedaluwarsa" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_account_locks_after_repeated_failures(any_app):
    client = any_app.server.test_client()
    attempts = any_app.settings.lockout_attempts
    for _ in range(attempts):
        login(client, "dokter", "bukan-kata-sandinya")
    response = login(client, "dokter")  # right password, but locked now
    assert response.status_code == 401
    assert "dikunci" in response.get_data(as_text=True)
    assert "account_locked" in audit_actions(any_app)


def test_unknown_user_gets_the_same_message(sqlite_app):
    response = login(sqlite_app.server.test_client(), "tidak-ada", "apa-saja-123")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)


def test_logout_ends_the_session_and_is_audited(sqlite_app):
    client = sqlite_app.server.test_client()
    login(client, "loket")
    assert client.get("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert audit_actions(sqlite_app)[-1] == "logout"


def test_next_is_followed_only_for_local_paths(sqlite_app):
    client = sqlite_app.server.test_client()
    response = login(client, "admin", next_url="https://evil.example/steal")
    assert response.headers["Location"] == "/"
    client = sqlite_app.server.test_client()
    response = login(client, "admin", next_url="//evil.example/x")
    assert response.headers["Location"] == "/"
    client = sqlite_app.server.test_client()
    assert login(client, "admin", next_url="/admin/pengguna").headers["Location"] == "/admin/pengguna"


def test_idle_session_times_out(sqlite_app):
    client = sqlite_app.server.test_client()
    login(client, "perawat")
    with client.session_transaction() as session:
        session["seen"] = time.time() - sqlite_app.settings.session_timeout_minutes * 60 - 5
    assert client.get("/").status_code == 302
    assert audit_actions(sqlite_app)[-1] == "session_expired"


def test_timer_callbacks_do_not_keep_a_session_alive(sqlite_app):
    client = sqlite_app.server.test_client()
    login(client, "perawat")
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


def test_login_page_has_security_headers(sqlite_app):
    response = sqlite_app.server.test_client().get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert 'name="csrf_token"' in response.get_data(as_text=True)
    assert csrf_token(response.get_data(as_text=True))


def test_session_cookie_is_httponly_and_samesite(sqlite_app):
    client = sqlite_app.server.test_client()
    response = login(client, "perawat")
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
        client = pantau.server.test_client()
        codes = [login(client, "perawat", "wrong-password").status_code for _ in range(5)]
        assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    finally:
        pantau.runtime.close()
