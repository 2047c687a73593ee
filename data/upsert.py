"""``INSERT … ON CONFLICT`` for both backends: the statement both PostgreSQL and SQLite run atomically."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Any) -> Any:
    """The session's dialect's ``insert(table)``, which has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return insert_dialect(session.get_bind().dialect.name, table)


def insert_dialect(dialect: str, table: Any) -> Any:
    """``insert(table)`` of the dialect named ``dialect`` (``"postgresql"`` or ``"sqlite"``)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
