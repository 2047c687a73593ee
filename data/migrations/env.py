"""Alembic environment: the URL comes from the caller (``data.migrate``) or from Settings. The application's role
(``data.migrate``'s ``app_role``, or ``alembic -x app_role=NAME``) gets its rights after every upgrade."""

from __future__ import annotations

from alembic import context

from data.db import make_engine
from data.migrate import grant_app_role
from data.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from config import load_settings

    return load_settings().database_url


def _app_role() -> str | None:
    return config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get("app_role")


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
                role = _app_role()
                if role and connection.dialect.name == "postgresql":
                    grant_app_role(connection, role)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
