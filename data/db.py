"""One engine and session factory per process, chosen by ``PANTAU_DATABASE_URL``.

On PostgreSQL every connection has a connect timeout (a database host that accepts and never answers must not hang
a request or a worker) and a statement timeout (one runaway query must not hold a worker and its locks for ever);
the runtime passes both from Settings. The few legitimate long jobs raise the limit for their own transaction with
:func:`allow_long_statements`. Migrations run without a statement timeout: a table rewrite may take minutes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

LONG_STATEMENT_MS = 30 * 60 * 1000  # the limit of a long job's transaction (a year's finance rebuild)


def make_engine(
    url: str, *, connect_timeout_seconds: int | None = None, statement_timeout_ms: int | None = None
) -> Engine:
    """Create an engine with the options each backend needs (SQLite: WAL, foreign keys, busy timeout; PostgreSQL:
    the connect and statement timeouts given, none when None)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, object] = {}
    if connect_timeout_seconds is not None:
        connect_args["connect_timeout"] = connect_timeout_seconds
    if statement_timeout_ms is not None:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800, connect_args=connect_args
    )


def allow_long_statements(session: Session, limit_ms: int = LONG_STATEMENT_MS) -> None:
    """Raise the statement timeout to ``limit_ms`` for the rest of ``session``'s transaction (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('statement_timeout', :limit, true)"), {"limit": f"{int(limit_ms)}ms"})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """Engine plus session factory; ``with db.session() as s:`` commits on success, rolls back on error.

    SQLite ignores ``SELECT … FOR UPDATE``, and its driver begins a transaction only at the first write, so what a
    session read first may change before it writes. ``session(write_lock=True)`` is for read-check-write work such
    as a counter's action: on SQLite it begins with ``BEGIN IMMEDIATE`` (the write lock, waited for up to the busy
    timeout), so two such sessions run one after the other; PostgreSQL's row locks need nothing more. Other
    sessions keep SQLite's default, which never holds the lock while only reading."""

    def __init__(
        self, url: str, *, connect_timeout_seconds: int | None = None, statement_timeout_ms: int | None = None
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, connect_timeout_seconds=connect_timeout_seconds, statement_timeout_ms=statement_timeout_ms
        )
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write_lock: bool = False) -> Iterator[Session]:
        session = self._factory()
        try:
            if write_lock and self.dialect == "sqlite":
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        """True when a trivial query answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
