"""Migrations, the append-only audit log, seeding and user administration on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from auth import users
from auth.demo_accounts import DEMO_USERS, seed_demo
from data import audit
from data.models import AuditLog, Bed, Device, DeviceAssignment, Doctor, Poli, User, Ward
from domain.actor import Actor
from domain.errors import FieldErrors, InputError


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_seed_creates_demo_site_and_is_idempotent(any_app):
    db = any_app.runtime.db
    with db.session() as s:
        seed_demo(s, any_app.settings)
    with db.session() as s:
        assert count(s, Ward) == 2 and count(s, Bed) == 32 and count(s, Device) == 32
        assert count(s, DeviceAssignment) == 32 and count(s, Poli) == 5 and count(s, Doctor) >= 5
        assert count(s, User) == len(DEMO_USERS)
        roles = {u.username: u.role_names for u in s.scalars(select(User))}
        assert roles["perawat"] == {"nurse"} and roles["display"] == {"display"}


def test_audit_log_refuses_update_and_delete_in_the_database(any_app):
    db = any_app.runtime.db
    with db.session() as s:
        audit.record(s, "test_event", username="tester")
    with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
        s.execute(update(AuditLog).values(action="tampered"))
    with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
        s.execute(text("DELETE FROM audit_log"))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "test_event")) == 1


def test_one_open_assignment_per_device(any_app):
    with pytest.raises(DBAPIError), any_app.runtime.db.session() as s:
        current = s.scalars(select(DeviceAssignment)).first()
        s.add(DeviceAssignment(device_pk=current.device_pk, bed_id=current.bed_id))


def admin_actor(session) -> Actor:
    admin = users.find_user(session, "admin")
    return Actor(admin.id, admin.username, admin.site_id, "127.0.0.1")


def test_user_administration_rules(any_app):
    with any_app.runtime.db.session() as s:
        actor = admin_actor(s)
        site_id = actor.site_id
        user = users.create_user(
            s,
            actor,
            site_id=site_id,
            username="Bidan.Ani",
            full_name="Bidan Ani",
            roles=["nurse"],
            password="sementara-123",
        )
        assert user.username == "bidan.ani" and user.must_change_password
        for kwargs, key in [
            (dict(username="x"), "err_username_format"),
            (dict(username="bidan.ani"), "err_username_taken"),
            (dict(roles=[]), "err_roles_empty"),
            (dict(roles=["root"]), "err_roles_unknown"),
            (dict(password="pendek"), "err_password_short"),
            (dict(full_name="  "), "err_full_name_required"),
        ]:
            values = (
                dict(
                    site_id=site_id,
                    username="baru.sekali",
                    full_name="Baru",
                    roles=["nurse"],
                    password="cukup-panjang-1",
                )
                | kwargs
            )
            with pytest.raises(InputError) as err:
                users.create_user(s, actor, **values)
            assert err.value.key == key
        with pytest.raises(FieldErrors) as every:  # every wrong field at once, for the form to show beside each
            users.create_user(
                s, actor, site_id=site_id, username="Bidan Ani", full_name=" ", roles=[], password="pendek"
            )
        assert {f: e.key for f, e in every.value.errors.items()} == {
            "username": "err_username_format",
            "full_name": "err_full_name_required",
            "roles": "err_roles_empty",
            "password": "err_password_short",
        }
        admin = s.get(User, actor.user_id)
        with pytest.raises(InputError, match="err_cannot_drop_own_admin"):
            users.set_roles(s, actor, admin, ["nurse"])
        with pytest.raises(InputError, match="err_cannot_disable_self"):
            users.set_active(s, actor, admin, False)
        with pytest.raises(FieldErrors) as both:  # the users page's save names both refusals at once
            users.change_account(s, actor, admin, roles=["nurse"], active=False)
        assert {f: e.key for f, e in both.value.errors.items()} == {
            "roles": "err_cannot_drop_own_admin",
            "active": "err_cannot_disable_self",
        }
        assert admin.active and "admin" in admin.role_names  # nothing of it was applied
        users.set_active(s, actor, user, False)
    with any_app.runtime.db.session() as s:
        result = users.authenticate(s, "bidan.ani", "sementara-123", ip=None, settings=any_app.settings)
        assert result.outcome == "invalid"  # the same answer as a wrong password; the audit keeps the reason
        actions = set(s.scalars(select(AuditLog.action)))
        assert {"user_created", "user_disabled", "login_failed"} <= actions


def test_display_tokens_only_for_display_accounts(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        actor = admin_actor(s)
        with pytest.raises(InputError):
            users.create_display_token(s, actor, users.find_user(s, "perawat"), "salah")
        token = users.create_display_token(s, actor, users.find_user(s, "display"), "Papan Poli")
    with sqlite_app.runtime.db.session() as s:
        assert users.user_for_display_token(s, token).username == "display"
        assert users.user_for_display_token(s, token + "x") is None
