"""TOTP second factor (auth.mfa, auth.mfa_routes): codes, replay, recovery codes, the encrypted secret, policy,
the wrong-code throttle, the sign-in step over HTTP, the enrolment gate and the admin reset."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pyotp
import pytest
from sqlalchemy import select

from auth import mfa, users
from data.field_crypto import FieldCryptoError
from data.models import AuditLog, MfaRecoveryCode, User
from domain.actor import Actor
from domain.errors import InputError
from tests.fixtures_app import PantauApp, build_app, csrf_token, make_settings, post_login

CODE_PAGE = "/login/kode"


def code_at(secret: str, offset_steps: int = 0) -> str:
    """The TOTP code ``offset_steps`` steps from now."""
    return pyotp.TOTP(secret).at(time.time() + offset_steps * mfa.STEP_SECONDS)


def enrol(pantau: PantauApp, username: str) -> tuple[str, list[str]]:
    """Enrol ``username`` directly (no pages): the secret and the ten recovery codes."""
    with pantau.server.app_context(), pantau.runtime.db.session() as db:
        user = users.find_user(db, username)
        secret = mfa.pending_secret(db, user)
        codes = mfa.confirm_enrolment(db, user, code_at(secret))
    assert isinstance(codes, list)
    return secret, codes


def check(pantau: PantauApp, username: str, code: str) -> mfa.CodeCheck:
    with pantau.server.app_context(), pantau.runtime.db.session() as db:
        return mfa.verify_second_factor(db, users.find_user(db, username), code)


def audit_actions(pantau: PantauApp) -> list[str]:
    with pantau.runtime.db.session() as db:
        return [a.action for a in db.scalars(select(AuditLog).order_by(AuditLog.id))]


def send_code(client, code: str):
    token = csrf_token(client.get(CODE_PAGE).get_data(as_text=True))
    return client.post(CODE_PAGE, data={"code": code, "csrf_token": token})


@pytest.fixture
def mfa_admin_app(tmp_path, sqlite_url, mqtt_url) -> Iterator[PantauApp]:
    """The SQLite app with a policy that requires TOTP of admins."""
    live = f"memory://test-{uuid.uuid4().hex[:12]}"
    pantau = build_app(make_settings(tmp_path, sqlite_url, live, mqtt_url, mfa_required_roles="admin"))
    yield pantau
    pantau.runtime.close()


def test_a_code_of_the_step_before_or_after_works_but_not_two_steps_away(any_app):
    secret, _codes = enrol(any_app, "dokter")
    assert check(any_app, "dokter", code_at(secret, -3)).outcome == "wrong"
    assert check(any_app, "dokter", code_at(secret, -1)).outcome == "wrong"  # the enrolment used a later step
    assert check(any_app, "dokter", code_at(secret, +1)).ok
    assert check(any_app, "dokter", code_at(secret, +3)).outcome == "wrong"
    assert mfa._matching_step(secret, pyotp.TOTP(secret).at(1_000_000 - 30), at=1_000_000) is not None
    assert mfa._matching_step(secret, pyotp.TOTP(secret).at(1_000_000 + 30), at=1_000_000) is not None
    assert mfa._matching_step(secret, pyotp.TOTP(secret).at(1_000_000 + 90), at=1_000_000) is None


def test_a_code_is_refused_the_second_time(any_app):
    secret, _codes = enrol(any_app, "dokter")
    later = code_at(secret, +1)
    assert check(any_app, "dokter", later).ok
    assert check(any_app, "dokter", later).outcome == "wrong"
    assert check(any_app, "dokter", code_at(secret)).outcome == "wrong"  # an earlier step than the last one used
    assert "mfa_ok" in audit_actions(any_app) and audit_actions(any_app)[-1] == "mfa_failed"


def test_recovery_codes_are_hashed_and_work_once(any_app):
    _secret, codes = enrol(any_app, "dokter")
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[23456789abcdefghjkmnpqrstwxyz]{4}-[23456789abcdefghjkmnpqrstwxyz]{4}", c) for c in codes)
    with any_app.runtime.db.session() as db:
        stored = db.scalars(select(MfaRecoveryCode.code_hash)).all()
    assert len(stored) == 10 and all(h.startswith("$argon2id$") for h in stored)
    assert not any(c.replace("-", "") in h or c in h for c in codes for h in stored)

    first = check(any_app, "dokter", codes[3].upper().replace("-", " "))  # typed in capitals, with a space
    assert first.ok and first.recovery_left == 9
    assert check(any_app, "dokter", codes[3]).outcome == "wrong"
    with any_app.runtime.db.session() as db:
        row = db.scalars(select(AuditLog).where(AuditLog.action == "mfa_recovery_used")).one()
        assert row.detail == {"left": 9}


def test_the_secret_is_encrypted_and_bound_to_its_account(any_app):
    secret, _codes = enrol(any_app, "dokter")
    with any_app.server.app_context(), any_app.runtime.db.session() as db:
        doctor, nurse = users.find_user(db, "dokter"), users.find_user(db, "perawat")
        assert secret not in doctor.totp_secret_enc
        nurse.totp_secret_enc = doctor.totp_secret_enc  # a ciphertext copied to another account
        nurse.totp_enabled_at = doctor.totp_enabled_at
        with pytest.raises(FieldCryptoError):
            mfa.check_second_factor(db, nurse, code_at(secret, +1))
        db.rollback()


def test_policy_names_roles_and_never_a_display(sqlite_app):
    settings = sqlite_app.settings.model_copy(update={"mfa_required_roles": "admin, manager,display"})
    assert mfa.mfa_required(frozenset({"admin"}), settings)
    assert mfa.mfa_required(frozenset({"nurse", "manager"}), settings)
    assert not mfa.mfa_required(frozenset({"nurse"}), settings)
    assert not mfa.mfa_required(frozenset({"display"}), settings)
    assert not mfa.mfa_required(frozenset({"admin"}), sqlite_app.settings)  # the tests' default: no role


def test_wrong_codes_start_a_growing_wait_that_even_a_right_code_must_sit_out(any_app):
    secret, _codes = enrol(any_app, "dokter")
    free = any_app.settings.lockout_attempts
    answers = [check(any_app, "dokter", "000000") for _ in range(free + 1)]
    assert [a.outcome for a in answers] == ["wrong"] * (free + 1)
    assert [a.wait_seconds for a in answers[:free]] == [0] * free and answers[-1].wait_seconds >= 1
    blocked = check(any_app, "dokter", code_at(secret, +1))
    assert blocked.outcome == "blocked" and blocked.wait_seconds >= 1


def test_sign_in_asks_for_the_code_and_only_then_starts_a_session(any_app):
    secret, codes = enrol(any_app, "dokter")
    client = any_app.client()
    response = post_login(client, "dokter", next_url="/jadwal/saya")
    assert response.status_code == 302 and response.headers["Location"] == CODE_PAGE
    assert client.get("/jadwal/saya").status_code == 302  # no session yet
    page = client.get(CODE_PAGE).get_data(as_text=True)
    assert "Kode verifikasi" in page and "Pakai kode pemulihan" in page

    wrong = send_code(client, "123456")
    assert wrong.status_code == 401 and "Kode salah atau sudah dipakai" in wrong.get_data(as_text=True)
    assert 'value="123456"' in wrong.get_data(as_text=True)  # what was typed stays
    right = send_code(client, code_at(secret, +1))
    assert right.status_code == 302 and right.headers["Location"] == "/jadwal/saya"
    assert client.get("/jadwal/saya").status_code == 200
    assert audit_actions(any_app)[-2:] == ["mfa_failed", "mfa_ok"]

    other = any_app.client()
    post_login(other, "dokter")
    assert send_code(other, codes[0]).status_code == 302  # a recovery code in the same field
    again = any_app.client()
    post_login(again, "dokter")
    assert send_code(again, codes[0]).status_code == 401


def test_five_wrong_codes_drop_the_pending_sign_in(sqlite_app):
    enrol(sqlite_app, "dokter")
    client = sqlite_app.client()
    post_login(client, "dokter")
    for _ in range(4):
        assert send_code(client, "000000").status_code == 401
    last = send_code(client, "000000")
    answer = last.get_data(as_text=True)
    assert "Masuk lagi dengan kata sandi" in answer and 'id="password"' in answer
    assert re.search(r'id="username"[^>]*value="dokter"', answer)  # the username is typed in again
    assert client.get(CODE_PAGE).headers["Location"] == "/login"


def test_the_pending_sign_in_expires(sqlite_app, monkeypatch):
    secret, _codes = enrol(sqlite_app, "dokter")
    client = sqlite_app.client()
    post_login(client, "dokter")
    token = csrf_token(client.get(CODE_PAGE).get_data(as_text=True))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 301)
    response = client.post(CODE_PAGE, data={"code": code_at(secret, +1), "csrf_token": token})
    assert response.status_code == 401 and "Waktu untuk memasukkan kode sudah habis" in response.get_data(as_text=True)


def test_an_account_that_must_enrol_is_sent_to_enrolment_first(mfa_admin_app):
    client = mfa_admin_app.login("admin")
    response = client.get("/admin/pengguna")
    assert response.status_code == 302 and response.headers["Location"] == "/akun/mfa?next=/admin/pengguna"
    dash = client.post("/_dash-update-component", json={"output": "x.children"})
    assert dash.status_code == 403 and "autentikasi dua langkah" in dash.get_json()["error"]
    page = client.get("/akun/mfa").get_data(as_text=True)
    secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert 'src="data:image/svg+xml;base64,' in page
    token = csrf_token(page)
    wrong = client.post("/akun/mfa", data={"code": "000000", "csrf_token": token, "next": "/admin/pengguna"})
    assert wrong.status_code == 400 and "Kode salah" in wrong.get_data(as_text=True)
    done = client.post("/akun/mfa", data={"code": code_at(secret), "csrf_token": token, "next": "/admin/pengguna"})
    codes = re.findall(r'class="col mfa-recovery-code">([a-z0-9-]+)<', done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert client.get("/admin/pengguna").status_code == 200
    assert "mfa_enrolled" in audit_actions(mfa_admin_app)
    assert mfa_admin_app.login("nurse").get("/").status_code == 200  # a role the policy leaves free


def test_a_required_role_cannot_turn_it_off_but_another_can(mfa_admin_app):
    secret, _codes = enrol(mfa_admin_app, "admin")
    with (
        mfa_admin_app.server.app_context(),
        mfa_admin_app.runtime.db.session() as db,
        pytest.raises(InputError, match="mfa_err_required"),
    ):
        mfa.disable_mfa(db, users.find_user(db, "admin"), code_at(secret, +1), mfa_admin_app.settings)
    nurse_secret, _ = enrol(mfa_admin_app, "perawat")
    with mfa_admin_app.server.app_context(), mfa_admin_app.runtime.db.session() as db:
        nurse = users.find_user(db, "perawat")
        assert mfa.disable_mfa(db, nurse, code_at(nurse_secret, +1), mfa_admin_app.settings).ok
        assert not mfa.mfa_enabled(nurse) and nurse.totp_secret_enc is None


def test_admin_reset_clears_the_authenticator_and_ends_the_sessions(any_app):
    secret, _codes = enrol(any_app, "dokter")
    client = any_app.client()
    post_login(client, "dokter")
    assert send_code(client, code_at(secret, +1)).status_code == 302
    assert client.get("/jadwal/saya").status_code == 200
    with any_app.server.app_context(), any_app.runtime.db.session() as db:
        admin, doctor = users.find_user(db, "admin"), users.find_user(db, "dokter")
        mfa.reset_mfa(db, Actor(admin.id, admin.username, admin.site_id, None), doctor)
    assert client.get("/jadwal/saya").status_code == 302  # that session has ended
    with any_app.runtime.db.session() as db:
        doctor = db.scalar(select(User).where(User.username == "dokter"))
        assert doctor.totp_secret_enc is None and doctor.totp_enabled_at is None
        assert db.scalars(select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == doctor.id)).all() == []
        reset = db.scalars(select(AuditLog).where(AuditLog.action == "mfa_reset")).one()
        assert str(reset.target_id) == str(doctor.id) and reset.username == "admin"
    assert post_login(any_app.client(), "dokter").headers["Location"] == "/"  # no code asked any more


def test_own_page_makes_new_recovery_codes_and_turns_it_off_for_a_current_code(sqlite_app):
    secret, old_codes = enrol(sqlite_app, "perawat")
    client = sqlite_app.client()
    post_login(client, "perawat")
    assert send_code(client, code_at(secret, +1)).status_code == 302
    page = client.get("/akun/mfa").get_data(as_text=True)
    assert "Sisa kode pemulihan yang belum dipakai: 10." in page and 'id="mfa-disable"' in page
    token = csrf_token(page)

    wrong = client.post("/akun/mfa/kode-pemulihan", data={"code": "12345", "csrf_token": token})
    assert wrong.status_code == 400 and "Kode salah" in wrong.get_data(as_text=True)
    assert 'value="12345"' in wrong.get_data(as_text=True)
    fresh = client.post("/akun/mfa/kode-pemulihan", data={"code": old_codes[0], "csrf_token": token})
    new_codes = re.findall(r'class="col mfa-recovery-code">([a-z0-9-]+)<', fresh.get_data(as_text=True))
    assert fresh.status_code == 200 and len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert check(sqlite_app, "perawat", old_codes[1]).outcome == "wrong"  # the old ones stopped working

    off = client.post("/akun/mfa/matikan", data={"code": new_codes[0], "csrf_token": token})
    assert off.status_code == 302 and off.headers["Location"] == "/akun/mfa?nonaktif=1"
    assert "Autentikasi dua langkah sudah dimatikan" in client.get(off.headers["Location"]).get_data(as_text=True)
    assert post_login(sqlite_app.client(), "perawat").headers["Location"] == "/"
    actions = audit_actions(sqlite_app)
    assert "mfa_recovery_regenerated" in actions and "mfa_disabled" in actions


def test_a_refused_code_to_turn_it_off_stays_in_its_own_field(sqlite_app):
    secret, _codes = enrol(sqlite_app, "perawat")
    client = sqlite_app.client()
    post_login(client, "perawat")
    send_code(client, code_at(secret, +1))
    token = csrf_token(client.get("/akun/mfa").get_data(as_text=True))
    page = client.post("/akun/mfa/matikan", data={"code": "99999", "csrf_token": token}).get_data(as_text=True)
    assert re.search(r'id="disable-code"[^>]*value="99999"', page)
    assert not re.search(r'id="code"[^>]*value="99999"', page)
