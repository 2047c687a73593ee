"""The audit trail is append-only in the database itself: the application's role (created like compose's migrate
step does) may add and read rows but not change, delete or empty them; the owner's TRUNCATE is refused too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from data.migrate import ensure_login_role, upgrade

APP_PASSWORD = "test-only-app-role-password"  # test value


@pytest.fixture
def owner_and_app(postgres_server, postgres_template) -> Iterator[tuple[Engine, Engine, str]]:
    """A migrated copy of the template and a fresh login role granted like compose's (owner, app, role name)."""
    url = postgres_server.create_database(f"aa_{uuid.uuid4().hex[:12]}", template=postgres_template.name)
    role = f"pantau_app_{uuid.uuid4().hex[:8]}"
    ensure_login_role(url, role, APP_PASSWORD)
    upgrade(url, app_role=role)
    owner = create_engine(url)
    app = create_engine(make_url(url).set(username=role, password=APP_PASSWORD))
    try:
        yield owner, app, role
    finally:
        app.dispose()
        owner.dispose()
        _drop_role(postgres_server.url, url, role)


def _drop_role(server_url: str, database_url: str, role: str) -> None:
    """Give what ``role`` owns back to the owner, then drop the role (roles outlive the test's database)."""
    owner = create_engine(database_url)
    try:
        with owner.begin() as conn:
            conn.execute(text(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER'))  # role: generated name, no input
            conn.execute(text(f'DROP OWNED BY "{role}"'))
    finally:
        owner.dispose()
    with create_engine(server_url).begin() as conn:
        conn.execute(text(f'DROP ROLE "{role}"'))


def _refused(engine: Engine, statement: str) -> str:
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(statement))
    return str(caught.value.orig)


def test_the_app_role_may_add_and_read_but_not_change_delete_or_empty_the_audit_log(owner_and_app):
    owner, app, role = owner_and_app
    with app.begin() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == role
        conn.execute(text("INSERT INTO audit_log (at, action) VALUES (now(), 'test_row')"))
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'test_row'")).scalar() == 1
    for statement in (
        "UPDATE audit_log SET action = 'changed'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        assert "permission denied" in _refused(app, statement)
    # The app's role cannot move Alembic's revision either, but does everything else the app does.
    assert "permission denied" in _refused(app, "UPDATE alembic_version SET version_num = '0001'")
    with app.begin() as conn:
        conn.execute(text("UPDATE app_user SET session_version = session_version WHERE false"))
    with owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'test_row'")).scalar() == 1


def test_the_owner_cannot_truncate_update_or_delete_the_audit_log_either(owner_and_app):
    owner, _app, _role = owner_and_app
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO audit_log (at, action) VALUES (now(), 'test_row')"))
    for statement in ("TRUNCATE audit_log", "UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        assert "append-only" in _refused(owner, statement)


def test_the_app_role_owns_the_vitals_partitions_it_must_create_and_drop(owner_and_app):
    _owner, app, role = owner_and_app
    from data import partitions

    created = partitions.ensure_partitions(app, days_ahead=1)
    assert created, "the app role could not create vital_sample's day partitions"
    assert partitions.list_partitions(app)
    with app.connect() as conn:
        owners = (
            conn.execute(text("SELECT DISTINCT tableowner FROM pg_tables WHERE tablename LIKE 'vital_sample%'"))
            .scalars()
            .all()
        )
    assert owners == [role]


def test_a_role_created_after_the_upgrade_is_granted_at_the_next_one(postgres_server, postgres_template):
    url = postgres_server.create_database(f"ab_{uuid.uuid4().hex[:12]}", template=postgres_template.name)
    role = f"pantau_app_{uuid.uuid4().hex[:8]}"
    upgrade(url, app_role=role)  # no such role yet: skipped, no error
    ensure_login_role(url, role, APP_PASSWORD)
    upgrade(url, app_role=role)  # at head already: the grants still run
    app = create_engine(make_url(url).set(username=role, password=APP_PASSWORD))
    try:
        assert "permission denied" in _refused(app, "DELETE FROM audit_log")
        with app.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM app_user")).scalar() > 0
    finally:
        app.dispose()
        _drop_role(postgres_server.url, url, role)
