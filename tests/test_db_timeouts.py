"""Every PostgreSQL connection of the runtime has a statement timeout and a connect timeout; a long job raises the
statement timeout for its own transaction only."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from data.db import Database, allow_long_statements


@pytest.fixture
def limited(postgres_app) -> Iterator[Database]:
    """The test's PostgreSQL database with a 300 ms statement timeout."""
    db = Database(postgres_app.settings.database_url, connect_timeout_seconds=2, statement_timeout_ms=300)
    yield db
    db.dispose()


def test_the_runtime_connects_with_the_configured_statement_timeout(postgres_app):
    with postgres_app.runtime.db.session() as s:
        shown = s.scalar(text("SHOW statement_timeout"))
    assert shown == f"{postgres_app.settings.db_statement_timeout_ms // 1000}s"


def test_a_query_longer_than_the_limit_is_cancelled(limited):
    started = time.monotonic()
    with pytest.raises(OperationalError, match="statement timeout"), limited.session() as s:
        s.execute(text("SELECT pg_sleep(3)"))
    assert time.monotonic() - started < 2
    with limited.session() as s:  # the connection is usable again
        assert s.scalar(text("SELECT 1")) == 1


def test_a_long_job_raises_the_limit_for_its_transaction_only(limited):
    with limited.session() as s:
        allow_long_statements(s, 5000)
        s.execute(text("SELECT pg_sleep(0.6)"))
    with pytest.raises(OperationalError, match="statement timeout"), limited.session() as s:
        s.execute(text("SELECT pg_sleep(0.6)"))


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A local port that accepts connections (the kernel completes the handshake) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_connecting_to_a_server_that_never_answers_gives_up_at_the_connect_timeout(silent_server):
    db = Database(f"postgresql+psycopg2://pantau@127.0.0.1:{silent_server}/pantau", connect_timeout_seconds=2)
    answers: list[bool] = []
    probe = threading.Thread(target=lambda: answers.append(db.ping()), daemon=True)  # without the timeout: for ever
    probe.start()
    probe.join(5)
    assert answers == [False], "the connection attempt did not give up at the connect timeout"
    db.dispose()
