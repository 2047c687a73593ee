"""Apply Alembic migrations: ``python -m data.migrate`` (``make db-upgrade``), also run by ``make run``/tests.

With ``PANTAU_DB_APP_ROLE`` set (compose: ``pantau_app``) this step, run as the database owner, also creates that
login role and grants it what the application needs (:func:`grant_app_role`): every other Pantau process connects
as it, and it cannot change or empty the audit trail.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from psycopg2 import sql
from sqlalchemy import Connection

from data.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
APP_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Tables whose owner the application's role becomes: the consumer creates, attaches, detaches and drops the day
# partitions of vital_sample, which PostgreSQL allows only the owner of the parent table.
APP_OWNED_TABLES = ("vital_sample",)
# What the application's role may not do to a table: change or empty the audit trail; touch Alembic's revision.
REVOKED = {"audit_log": "UPDATE, DELETE, TRUNCATE", "alembic_version": "INSERT, UPDATE, DELETE, TRUNCATE"}


def alembic_config(database_url: str, app_role: str | None = None) -> Config:
    """Alembic's configuration for ``database_url``; ``app_role`` is granted its rights after every upgrade."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["app_role"] = app_role
    return cfg


def upgrade(database_url: str, revision: str = "head", app_role: str | None = None) -> None:
    """Bring the database at ``database_url`` to ``revision``; then grant ``app_role`` (an existing role) its
    rights."""
    command.upgrade(alembic_config(database_url, app_role), revision)


def _checked(role: str) -> str:
    if not APP_ROLE.match(role):
        raise ValueError(f"bad role name {role!r} (lower-case letters, digits and _ only)")
    return role


def ensure_login_role(database_url: str, role: str, password: str) -> None:
    """Create the login role ``role`` with ``password``, or set the password of the one that exists."""
    if not password:
        raise ValueError("the application role needs a password (PANTAU_DB_APP_PASSWORD)")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            exists = connection.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(r)s", {"r": _checked(role)})
            verb = "ALTER" if exists.first() else "CREATE"
            statement = sql.SQL(verb + " ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}")
            _execute(connection, statement.format(sql.Identifier(role), sql.Literal(password)))
    finally:
        engine.dispose()


def grant_app_role(connection: Connection, role: str) -> None:
    """Give ``role`` every right the application needs on the tables that exist now and on those the owner
    creates later, except changing ``audit_log`` (INSERT and SELECT only) and ``alembic_version`` (SELECT only).
    Idempotent; PostgreSQL only; a role that does not exist is skipped."""
    exists = connection.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(r)s", {"r": _checked(role)})
    if exists.first() is None:
        return
    who = sql.Identifier(role)
    for statement in (
        "GRANT USAGE, CREATE ON SCHEMA public TO {}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}",
    ):
        _execute(connection, sql.SQL(statement).format(who))
    for table, rights in REVOKED.items():
        if _exists(connection, table):
            _execute(connection, sql.SQL("REVOKE " + rights + " ON {} FROM {}").format(sql.Identifier(table), who))
    for parent in APP_OWNED_TABLES:
        if not _exists(connection, parent):
            continue
        children = connection.exec_driver_sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %(t)s::regclass",
            {"t": parent},
        )
        for table in (parent, *(name for (name,) in children)):
            _execute(connection, sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), who))


def _exists(connection: Connection, table: str) -> bool:
    return connection.exec_driver_sql("SELECT to_regclass(%(t)s)", {"t": table}).scalar() is not None


def _execute(connection: Connection, statement: sql.Composable) -> None:
    """Run a composed statement (identifiers and literals quoted by psycopg2) in ``connection``'s transaction."""
    dbapi = connection.connection.dbapi_connection
    with dbapi.cursor() as cursor:
        cursor.execute(statement)


def main(argv: list[str] | None = None) -> int:
    from config import configure_logging, load_settings

    settings = load_settings()
    configure_logging(settings.log_level)
    args = argv if argv is not None else sys.argv[1:]
    role = settings.db_app_role or None
    if role:
        ensure_login_role(settings.database_url, role, settings.db_app_password)
    upgrade(settings.database_url, args[0] if args else "head", app_role=role)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
