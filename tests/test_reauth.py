"""Step-up checks over HTTP (``auth.reauth``): the confirmation page, its throttle and its way back, the decorator
for Flask routes, and the code instead of the password for an account with MFA."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from auth import reauth, users
from data.models import AuditLog
from domain.clock import utcnow
from tests.fixtures_app import TEST_PASSWORD, csrf_token
from tests.test_mfa import code_at, enrol


@pytest.fixture
def later(app, monkeypatch):
    """Move the step-up clock past ``Settings.reauth_minutes``: the check made at sign-in is too old now."""
    ahead = app.settings.reauth_minutes * 60 + 1
    monkeypatch.setattr(reauth, "time", SimpleNamespace(time=lambda: time.time() + ahead))


def confirm(client, answer: str, next_url: str = "/admin/pengguna"):
    token = csrf_token(client.get(f"{reauth.CONFIRM_PATH}?next={next_url}").get_data(as_text=True))
    return client.post(reauth.CONFIRM_PATH, data={"answer": answer, "csrf_token": token, "next": next_url})


def actions(app) -> list[str]:
    with app.runtime.db.session() as db:
        return list(db.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_the_page_checks_the_password_and_goes_back(app, login, later):
    client = login("admin")
    page = client.get(f"{reauth.CONFIRM_PATH}?next=/admin/pengguna")
    assert page.status_code == 200 and "Konfirmasi bahwa ini Anda" in page.get_data(as_text=True)
    wrong = confirm(client, "bukan-kata-sandinya")
    assert wrong.status_code == 400 and "Kata sandi atau kode salah." in wrong.get_data(as_text=True)
    assert 'value="/admin/pengguna"' in wrong.get_data(as_text=True)  # the way back is kept
    empty = confirm(client, "")
    assert empty.status_code == 400 and "Isi kata sandi atau kodenya dulu." in empty.get_data(as_text=True)
    right = confirm(client, TEST_PASSWORD)
    assert right.status_code == 302 and right.headers["Location"] == "/admin/pengguna"
    with client.session_transaction() as stored:
        assert stored[reauth.CHECKED_AT_KEY] > time.time()  # marked by the (moved) step-up clock
    assert "reauth_failed" in actions(app) and actions(app)[-1] == "reauth"
    assert confirm(client, TEST_PASSWORD, "https://evil.example/x").headers["Location"] == "/"


def test_wrong_answers_are_throttled_with_sign_in(app, login, later, monkeypatch):
    now = utcnow()
    monkeypatch.setattr(users, "utcnow", lambda: now)
    client = login("admin")
    for _ in range(app.settings.lockout_attempts + 1):
        assert confirm(client, "bukan-kata-sandinya").status_code == 400
    throttled = confirm(client, TEST_PASSWORD)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert "Tunggu 1 detik" in throttled.get_data(as_text=True)
    with app.runtime.db.session() as db:
        rows = list(db.scalars(select(AuditLog).where(AuditLog.action == "reauth_failed")))
        assert [r.detail["reason"] for r in rows][-1] == "throttled"


def test_with_mfa_the_code_is_asked_not_the_password(app, login, later):
    client = login("admin")
    secret, _codes = enrol(app, "admin")
    page = client.get(f"{reauth.CONFIRM_PATH}?next=/").get_data(as_text=True)
    assert "Kode autentikator" in page and 'autocomplete="one-time-code"' in page
    assert confirm(client, TEST_PASSWORD, "/").status_code == 400
    assert confirm(client, code_at(secret, 1), "/").status_code == 302
    with app.runtime.db.session() as db:
        row = db.scalars(select(AuditLog).where(AuditLog.action == "reauth")).one()
        assert row.detail == {"with": "code"}


@pytest.fixture
def export_app(app):
    """The app with one route under ``recent_check_required``, as an export of personal data would be."""

    @reauth.recent_check_required
    def export() -> str:
        return "rm;nama"

    app.server.add_url_rule("/uji/ekspor", "test_export", export)
    app.server.add_url_rule("/api/uji/ekspor", "test_export_api", export)
    return app


def test_a_route_is_open_right_after_sign_in(export_app):
    assert export_app.login("manager").get("/uji/ekspor").get_data(as_text=True) == "rm;nama"


def test_a_route_sends_a_person_to_confirm_and_a_script_gets_401(export_app, later):
    client = export_app.login("manager")
    page = client.get("/uji/ekspor?bulan=12")
    assert page.status_code == 302
    assert page.headers["Location"] == f"{reauth.CONFIRM_PATH}?next=/uji/ekspor%3Fbulan%3D12"
    data = client.get("/api/uji/ekspor")
    assert data.status_code == 401 and data.json["error"] == "reauth_required"
    assert data.json["confirm"].startswith(reauth.CONFIRM_PATH)
    assert confirm(client, TEST_PASSWORD, "/uji/ekspor?bulan=12").headers["Location"] == "/uji/ekspor?bulan=12"
    assert client.get("/uji/ekspor?bulan=12").get_data(as_text=True) == "rm;nama"
