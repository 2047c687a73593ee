"""Dead letters stay bounded: a payload sample, a capped number of rows per device and reason with every message
counted, rows dropped after the retention; and the consumer's own queue is bounded (back-pressure)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bridge.consumer.intake import Intake
from bridge.consumer.metrics import ConsumerMetrics
from data.db import Database
from data.migrate import upgrade
from data.models import DeadLetter, DeadLetterCount
from data.vitals import (
    DEAD_LETTER_ROWS_PER_KEY,
    DEAD_LETTER_SAMPLE,
    DeadLetterRow,
    drop_expired_dead_letters,
    insert_dead_letters,
)
from domain.clock import epoch_ms

WAIT = 10.0


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.services), "sqlite"])
def database(request, tmp_path) -> Iterator[Database]:
    """A migrated database of its own, on each backend."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server").create_database(f"dl_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite:///{tmp_path / 'pantau.db'}"
    upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


def _letter(received: int, device: str | None, reason: str, payload: bytes | None = b"{}") -> DeadLetterRow:
    return DeadLetterRow(received, f"pantau/v1/S/vitals/{device}", device, reason, "detail", payload)


def test_a_flood_is_counted_per_device_and_reason_but_stored_in_bounded_rows(database):
    now = epoch_ms(datetime.now(UTC))
    flood = [_letter(now + n, "MON-1", "not_json", b"x" * 5000) for n in range(DEAD_LETTER_ROWS_PER_KEY + 30)]
    other = [_letter(now, "MON-1", "impossible_value"), _letter(now, None, "bad_topic", None)]
    with database.engine.begin() as conn:
        assert insert_dead_letters(conn, flood + other) == DEAD_LETTER_ROWS_PER_KEY + 2
    with database.engine.begin() as conn:  # a second batch adds to the counts
        insert_dead_letters(conn, [_letter(now + 1000, "MON-1", "not_json", b"{")])
    with database.session() as s:
        counts = {(c.device_id, c.reason): c for c in s.scalars(select(DeadLetterCount))}
        rows = s.scalars(select(DeadLetter).where(DeadLetter.reason == "not_json")).all()
    assert {key: c.count for key, c in counts.items()} == {
        ("MON-1", "not_json"): DEAD_LETTER_ROWS_PER_KEY + 31,
        ("MON-1", "impossible_value"): 1,
        ("", "bad_topic"): 1,
    }
    flood_count = counts[("MON-1", "not_json")]
    assert epoch_ms(flood_count.first_at) == now and epoch_ms(flood_count.last_at) == now + 1000
    assert len(rows) == DEAD_LETTER_ROWS_PER_KEY + 1
    cut = [r for r in rows if r.payload_truncated]
    assert len(cut) == DEAD_LETTER_ROWS_PER_KEY
    assert all(len(bytes(r.payload)) == DEAD_LETTER_SAMPLE and r.payload_size == 5000 for r in cut)
    whole = next(r for r in rows if not r.payload_truncated)
    assert bytes(whole.payload) == b"{" and whole.payload_size == 1


def test_rows_older_than_the_retention_are_dropped_and_the_counts_stay(database):
    now = datetime.now(UTC)
    old, recent = epoch_ms(now - timedelta(days=15)), epoch_ms(now - timedelta(days=13))
    with database.engine.begin() as conn:
        insert_dead_letters(conn, [_letter(old, "MON-2", "clock_skew"), _letter(recent, "MON-2", "clock_skew")])
    assert drop_expired_dead_letters(database.engine, 14, now) == 1
    with database.session() as s:
        assert [epoch_ms(r.received_at) for r in s.scalars(select(DeadLetter))] == [recent]
        assert s.scalar(select(DeadLetterCount.count).where(DeadLetterCount.device_id == "MON-2")) == 2
    with pytest.raises(ValueError):
        drop_expired_dead_letters(database.engine, 0, now)


def test_the_consumer_queue_is_bounded_and_a_flood_waits():
    """paho's thread waits while the writers' queue is full (so the broker holds the rest), and is released by
    the writers draining it or by stopping."""
    intake = Intake(ConsumerMetrics("test"), max_pending=5, max_skew_ms=60_000)
    intake.accepting = True
    topic = b"pantau/v1/S/vitals/MON-1"
    flood = threading.Thread(target=lambda: [intake.receive(topic, b"{bad", n, 1) for n in range(12)], daemon=True)
    flood.start()

    def settles_at(size: int) -> bool:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if intake.pending() == size and flood.is_alive():
                return True
            time.sleep(0.01)
        return False

    assert settles_at(5)  # full, and the receiving thread is held
    for _ in range(5):
        intake.queue.get_nowait()  # the writers take a batch
    assert settles_at(5)  # it went on, and is held again at the bound
    intake.accepting = False  # stopping: the waiting message is left to the broker
    flood.join(WAIT)
    assert not flood.is_alive()
    assert intake.pending() == 5
