"""The sign-in throttle (``auth.throttle``) on both backends, and the sign-in and password pages over HTTP: growing
delays instead of a lock, one answer whatever the reason, and a gentle per-account key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auth import throttle, users
from data.models import AuditLog, SignInThrottle
from domain.clock import utcnow
from tests.fixtures_app import TEST_PASSWORD, post_login


def test_policy_doubles_after_the_free_failures_up_to_the_cap(sqlite_app):
    settings = sqlite_app.settings
    pair = throttle.policy_for("pair:x", settings)
    assert [pair.delay(n) for n in range(1, settings.lockout_attempts + 4)] == [0] * settings.lockout_attempts + [
        1,
        2,
        4,
    ]
    assert pair.delay(10_000) == settings.lockout_minutes * 60
    account = throttle.policy_for("acct:x", settings)
    assert account.free == 3 * settings.lockout_attempts and account.delay(10_000) == 60
    assert throttle.policy_for("addr:10.0.0.1", settings).free > settings.lockout_attempts


def test_keys_name_no_username_and_the_same_for_any_spelling():
    keys = throttle.sign_in_keys(" Perawat ", "10.1.2.3")
    assert keys == throttle.sign_in_keys("perawat", "10.1.2.3")
    assert [k.split(":")[0] for k in keys] == ["acct", "addr", "pair"]
    assert not any("perawat" in k for k in keys)
    assert all(len(k) <= 80 for k in keys)
    assert throttle.sign_in_keys("perawat", None) == keys[:1]


def test_fail_check_clear_and_forgetting(any_app):
    settings = any_app.settings
    keys = throttle.sign_in_keys("dokter", "10.9.9.9")
    now = utcnow()
    with any_app.runtime.db.session() as db:
        waits = [throttle.fail(db, keys, now, settings) for _ in range(settings.lockout_attempts + 2)]
        assert waits == [0] * settings.lockout_attempts + [1, 2]
        assert throttle.check(db, keys, now) == 2
        assert throttle.check(db, keys[:1], now) == 0  # the account's own key is still free
        assert throttle.check(db, keys, now + timedelta(seconds=2)) == 0
        throttle.clear(db, throttle.cleared_on_success(keys))
        remaining = set(db.scalars(select(SignInThrottle.key)))
        assert remaining == {keys[1]}  # the address keeps its count
        later = now + timedelta(minutes=2 * settings.lockout_minutes, seconds=1)
        throttle.fail(db, throttle.sign_in_keys("perawat", "10.9.9.9"), later, settings)
        failures = db.scalar(select(SignInThrottle.failures).where(SignInThrottle.key == keys[1]))
        assert failures == 1  # forgotten after a long quiet, then counted afresh


def test_a_wait_never_shrinks_when_a_worker_writes_late(any_app):
    settings = any_app.settings
    keys = ["pair:late"]
    now = utcnow()
    with any_app.runtime.db.session() as db:
        for _ in range(settings.lockout_attempts + 4):
            throttle.fail(db, keys, now, settings)
        assert throttle.check(db, keys, now) == 8
        db.execute(SignInThrottle.__table__.update().values(failures=settings.lockout_attempts))
        throttle.fail(db, keys, now, settings)  # a count that would give 1 s
        assert throttle.check(db, keys, now) == 8


def audit_rows(pantau, action: str) -> list[AuditLog]:
    with pantau.runtime.db.session() as s:
        rows = list(s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
        s.expunge_all()
        return rows


def test_sign_in_is_slowed_never_locked_and_answers_alike(any_app, monkeypatch):
    settings = any_app.settings
    now = utcnow()
    monkeypatch.setattr(users, "utcnow", lambda: now)  # a still clock: the 1 s wait cannot run out mid-test
    client = any_app.client()
    for _ in range(settings.lockout_attempts + 1):  # the free failures, then the first that starts a wait
        assert post_login(client, "dokter", "bukan-kata-sandinya").status_code == 401
    throttled = post_login(client, "dokter")  # the right password, but inside the wait: not even checked
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert _error(throttled) == "Terlalu banyak percobaan yang salah. Tunggu 1 detik, lalu coba lagi."
    assert [row.detail["reason"] for row in audit_rows(any_app, "login_refused")] == ["throttled"]
    # An unknown name gets the very same answer: the throttle does not know who exists.
    for _ in range(settings.lockout_attempts + 1):
        assert post_login(client, "tidak-ada", "apa-saja-123").status_code == 401
    unknown = post_login(client, "tidak-ada", "apa-saja-123")
    assert (unknown.status_code, unknown.headers["Retry-After"], _error(unknown)) == (429, "1", _error(throttled))
    monkeypatch.setattr(users, "utcnow", lambda: now + timedelta(seconds=1))
    assert post_login(client, "dokter").status_code == 302  # the wait over, the right password signs in
    with any_app.runtime.db.session() as db:
        assert throttle.check(db, throttle.sign_in_keys("dokter", "127.0.0.1"), now) == 0  # pair and account cleared


def _error(response) -> str:
    """The page's error message."""
    text = response.get_data(as_text=True)
    start = text.index(">", text.index('id="form-error"')) + 1
    return text[start : text.index("<", start)]


@pytest.mark.parametrize("case", ["unknown", "wrong", "disabled"])
def test_unknown_wrong_and_disabled_answer_the_same(sqlite_app, case):
    if case == "disabled":
        with sqlite_app.runtime.db.session() as s:
            users.find_user(s, "loket").active = False
    username, password = {
        "unknown": ("tidak-ada", "apa-saja-123"),
        "wrong": ("loket", "bukan-kata-sandinya"),
        "disabled": ("loket", TEST_PASSWORD),
    }[case]
    response = post_login(sqlite_app.client(), username, password)
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert "dinonaktifkan" not in response.get_data(as_text=True)
    row = audit_rows(sqlite_app, "login_failed")[-1]
    assert row.detail["reason"] == {"unknown": "unknown_user", "wrong": "bad_password", "disabled": "disabled"}[case]


def test_someone_elsewhere_cannot_keep_a_nurse_out(sqlite_app, monkeypatch):
    """Many failures for the nurse's name from other addresses slow the account by a minute at most, and the
    nurse's own first attempt after that wait signs her in."""
    settings = sqlite_app.settings
    now = utcnow()
    with sqlite_app.runtime.db.session() as db:
        for n in range(200):
            throttle.fail(db, throttle.sign_in_keys("perawat", f"203.0.113.{n % 250}"), now, settings)
        assert throttle.check(db, throttle.sign_in_keys("perawat", "10.0.0.5"), now) <= 60
    monkeypatch.setattr(users, "utcnow", lambda: now + timedelta(seconds=61))
    assert post_login(sqlite_app.client(), "perawat").status_code == 302
