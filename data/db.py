"""One engine and session factory per process, chosen by ``PANTAU_DATABASE_URL``."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BEGIN = "sqlite_begin"
"""Execution option: how a SQLite transaction begins, ``"immediate"`` (the default) or ``"deferred"``."""
_BEGIN = {"immediate": "BEGIN IMMEDIATE", "deferred": "BEGIN DEFERRED"}
_begun = threading.local()  # (connection, its pool entry's info) of each transaction this thread began
_BEGUN_BY = "sqlite_begun_by"


def make_engine(url: str) -> Engine:
    """Create an engine with the options each backend needs (SQLite: WAL, foreign keys, busy timeout, and
    transactions that begin with the write lock)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800)


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # the sqlite3 module emits no BEGIN of its own: _sqlite_begin does
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Every transaction (the ORM's, Alembic's, the ingest's) really begins before its first statement, SELECTs
    included. ``BEGIN IMMEDIATE`` takes the write lock at once (waiting up to the busy timeout), so nothing a
    transaction read can change before it writes: SQLite's stand-in for ``SELECT … FOR UPDATE``, which it ignores.
    WAL lets readers go on meanwhile. ``deferred`` is for read-only work that must not wait for a writer, and is
    what a transaction opened while the same thread holds another one gets: waiting for its own lock would hang
    for the whole busy timeout, while a deferred one can still read (a write there fails after that timeout:
    write before or after the outer transaction, not inside it)."""
    me = threading.get_ident()
    held = [c for c in getattr(_begun, "connections", ()) if _open_here(*c, me)]
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "deferred" if held else "immediate")
    conn.connection.info[_BEGUN_BY] = me  # before BEGIN: the pool may have lent it to this thread from another
    conn.exec_driver_sql(_BEGIN[mode])
    _begun.connections = [*held, (conn.connection.dbapi_connection, conn.connection.info)]


def _open_here(dbapi_connection: sqlite3.Connection, info: dict, thread: int) -> bool:
    """True while the transaction ``thread`` began on this connection is open (not since lent to another)."""
    try:
        return info.get(_BEGUN_BY) == thread and dbapi_connection.in_transaction
    except sqlite3.ProgrammingError:  # closed
        return False


class Database:
    """Engine plus session factory; ``with db.session() as s:`` commits on success, rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        """True when a trivial query answers (without waiting for a writer's lock)."""
        try:
            with self.engine.connect().execution_options(**{SQLITE_BEGIN: "deferred"}) as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
