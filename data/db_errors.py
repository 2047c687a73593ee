"""Which database errors mean "unreachable or busy, try again later": a worker keeps its batch and retries, a web
request answers 503 rather than 500."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError

__all__ = ["database_unavailable", "is_transient"]


def is_transient(exc: BaseException) -> bool:
    """True for errors that mean "the database is unreachable or busy" (retry the same batch later); False for
    a refusal of the data itself."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig or exc
    if isinstance(exc, DisconnectionError):
        return True
    if isinstance(exc, sqlite3.OperationalError | sqlite3.InterfaceError):
        return True
    try:
        import psycopg2
    except ImportError:  # pragma: no cover
        psycopg2 = None  # type: ignore[assignment]
    if psycopg2 is not None and isinstance(
        exc, psycopg2.OperationalError | psycopg2.InterfaceError | psycopg2.InternalError
    ):
        return True
    if isinstance(exc, SQLAlchemyError) and not isinstance(exc, DBAPIError):
        return True  # pool timeouts and the like
    return isinstance(exc, OSError | TimeoutError)


def database_unavailable(exc: BaseException) -> bool:
    """True for a database error (raised through SQLAlchemy) that means the database is unreachable or busy; other
    errors, a file's ``OSError`` included, are not the database's."""
    return isinstance(exc, SQLAlchemyError) and is_transient(exc)
