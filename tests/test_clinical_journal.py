"""The alarm journal (bridge/alarm_journal.py) and the clinical step around it, with a database and a live store
that fail on demand: changes are kept in order until stored, never stored twice, a poison change cannot block
the rest, and screens are republished whole once the live store is back."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bridge import alarm_journal
from bridge.alarm_journal import MAX_ATTEMPTS, AlarmJournal
from bridge.clinical import ClinicalPipeline
from data import live_keys
from data.db import Database
from data.live_store import LiveBatch, LiveStore, LiveStoreError, MemoryLiveStore
from data.models import AlarmEvent
from data.wards import bed_by_code
from domain.alarms import Alarm, Change
from tests.test_clinical import T0, feed
from tests.test_clinical_outage import wait_for

BED = "ICU-03"


class FlakyDatabase:
    """The real database behind a switch: while ``down`` every session fails to connect, and each session first
    raises the next of ``failures``. ``calls`` counts the sessions asked for."""

    def __init__(self, db: Database) -> None:
        self.db, self.down, self.failures, self.calls = db, False, [], 0

    @contextmanager
    def session(self) -> Iterator[Session]:
        self.calls += 1
        if self.down:
            raise OperationalError("connect", {}, ConnectionRefusedError("database is down"))
        if self.failures:
            raise self.failures.pop(0)
        with self.db.session() as session:
            yield session


class _FlakyBatch:
    def __init__(self, batch: LiveBatch, live: FlakyLive) -> None:
        self._batch, self._live = batch, live

    def __getattr__(self, name: str):
        return getattr(self._batch, name)

    def execute(self) -> None:
        if self._live.down:
            raise LiveStoreError("live store is down")
        self._batch.execute()


class FlakyLive:
    """The real live store whose batches (the clinical step's only writes of alarms and scores) fail while
    ``down``."""

    def __init__(self, live: LiveStore) -> None:
        self._live, self.down = live, False

    def __getattr__(self, name: str):
        return getattr(self._live, name)

    def batch(self) -> _FlakyBatch:
        return _FlakyBatch(self._live.batch(), self)


def episode(condition: str = "spo2_low", started: int = 0) -> list[Change]:
    """Started, acknowledged, ended: one alarm's changes, none with a database id yet."""
    alarm = Alarm(condition, "physiological", "medium", T0 + started, 85.0, "SpO2 85 < 90")
    acked = Alarm(**{**alarm.to_dict(), "acked_by": None, "acked_ms": T0 + started + 5000, "acked_where": "ICU@x"})
    ended = Alarm(**{**acked.to_dict(), "ended_ms": T0 + started + 9000})
    return [Change("started", alarm), Change("acknowledged", acked), Change("ended", ended)]


@pytest.fixture
def bed_id(sqlite_app) -> int:
    with sqlite_app.runtime.db.session() as session:
        return bed_by_code(session, 1, BED).id


@pytest.fixture
def live() -> LiveStore:
    """A private live store (``memory://`` URLs share one store per process, and with it other tests' keys)."""
    return MemoryLiveStore()


def rows(db: Database, condition: str | None = None) -> list[AlarmEvent]:
    with db.session() as session:
        query = select(AlarmEvent).order_by(AlarmEvent.id)
        if condition:
            query = query.where(AlarmEvent.condition == condition)
        return list(session.scalars(query))


def test_changes_wait_in_order_while_the_database_is_down(sqlite_app, bed_id):
    db = FlakyDatabase(sqlite_app.runtime.db)
    journal = AlarmJournal(db)
    db.down = True
    journal.append(bed_id, BED, episode())
    assert journal.flush() == []
    assert db.calls == 1, "the acknowledgement and the end must not be tried before their started row"
    assert len(journal) == 3 and journal.retry_in() > 0
    assert journal.flush() == [] and len(journal) == 3  # still down: nothing lost, nothing skipped

    db.down = False
    stored = journal.flush()
    [row] = rows(sqlite_app.runtime.db)
    assert [(s.bed_code, s.condition, s.alarm_id) for s in stored] == [(BED, "spo2_low", row.id)]
    assert row.acknowledged_at is not None and row.acknowledged_where == "ICU@x" and row.ended_at is not None
    assert len(journal) == 0 and journal.retry_in() is None


def test_a_lost_connection_is_retried_however_often_it_fails(sqlite_app, bed_id):
    db = FlakyDatabase(sqlite_app.runtime.db)
    journal = AlarmJournal(db)
    db.down = True
    journal.append(bed_id, BED, episode()[:1])
    for _ in range(MAX_ATTEMPTS * 3):
        journal.flush()
    assert len(journal) == 1
    db.down = False
    journal.flush()
    assert len(rows(sqlite_app.runtime.db)) == 1


def test_a_poison_change_is_skipped_after_a_few_attempts_and_the_rest_is_stored(sqlite_app, bed_id, caplog):
    db = FlakyDatabase(sqlite_app.runtime.db)
    journal = AlarmJournal(db)
    db.failures = [IntegrityError("insert", {}, ValueError("constraint")) for _ in range(MAX_ATTEMPTS)]
    journal.append(bed_id, BED, episode("spo2_low"))  # its started row is refused every time
    journal.append(bed_id, BED, episode("hr_high", started=1000))
    with caplog.at_level(logging.WARNING, logger="bridge.alarm_journal"):
        for _ in range(MAX_ATTEMPTS):
            if not len(journal):
                break
            journal.flush()
    assert len(journal) == 0
    assert [r.condition for r in rows(sqlite_app.runtime.db)] == ["hr_high"]
    assert rows(sqlite_app.runtime.db)[0].ended_at is not None
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped and all(r.bed == BED for r in skipped)  # context: bed code and condition, nothing else
    assert skipped[0].levelno == logging.ERROR and skipped[0].condition == "spo2_low"


def test_a_full_journal_drops_its_oldest_change_loudly(sqlite_app, bed_id, monkeypatch, caplog):
    monkeypatch.setattr(alarm_journal, "MAX_PENDING", 2)
    journal = AlarmJournal(FlakyDatabase(sqlite_app.runtime.db))
    with caplog.at_level(logging.ERROR, logger="bridge.alarm_journal"):
        journal.append(bed_id, BED, episode())
    assert len(journal) == 2
    assert [e["kind"] for e in journal.to_list()] == ["acknowledged", "ended"]
    assert any("dropped" in r.getMessage() for r in caplog.records)


def test_a_restored_journal_stores_nothing_twice(sqlite_app, bed_id):
    db = sqlite_app.runtime.db
    first = AlarmJournal(db)
    first.append(bed_id, BED, episode())
    snapshot = json.loads(json.dumps(first.to_list()))
    first.flush()  # stored, but the process died before its next snapshot
    second = AlarmJournal(db)
    second.restore(snapshot)
    assert [s.alarm_id for s in second.flush()] == [rows(db)[0].id]
    assert len(rows(db)) == 1


def test_the_screen_gets_the_alarm_while_the_database_is_down(sqlite_app, live):
    runtime = sqlite_app.runtime
    pipeline = ClinicalPipeline(runtime.db, live)
    pipeline.load()
    flaky = FlakyDatabase(runtime.db)
    pipeline.journal.db = flaky
    flaky.down = True
    feed(pipeline, range(0, 20), spo2=85.0)
    active = json.loads(live.get_latest(live_keys.ward_alarms("ICU"))[BED])
    assert [a["condition"] for a in active] == ["spo2_low"] and active[0]["id"] is None
    assert rows(runtime.db, "spo2_low") == []

    flaky.down = False
    pipeline.store_pending()  # what the journal thread does while the pipeline runs
    [row] = rows(runtime.db, "spo2_low")
    pipeline.republish()
    assert json.loads(live.get_latest(live_keys.ward_alarms("ICU"))[BED])[0]["id"] == row.id


def test_screens_converge_once_the_live_store_is_back(sqlite_app, live):
    runtime = sqlite_app.runtime
    flaky = FlakyLive(live)
    pipeline = ClinicalPipeline(runtime.db, flaky)
    pipeline.load()
    feed(pipeline, range(0, 3))
    flaky.down = True
    feed(pipeline, range(3, 20), spo2=85.0)
    assert BED not in live.get_latest(live_keys.ward_alarms("ICU"))
    assert live.get_latest(live_keys.latest(BED))["news2"] == "0"
    [row] = rows(runtime.db, "spo2_low")  # stored although nothing could be published

    flaky.down = False
    with live.subscribe(live_keys.ward_channel("ICU")) as channel:
        pipeline.republish()
        messages = []
        while (m := channel.get(timeout=0.2)) is not None:
            messages.append(json.loads(m[1]))
    assert [a["id"] for a in json.loads(live.get_latest(live_keys.ward_alarms("ICU"))[BED])] == [row.id]
    assert live.get_latest(live_keys.latest(BED))["news2"] == "3"  # SpO2 85 scores 3: re-sent
    beds = {m["bed"] for m in messages if m["t"] == "a"}
    assert BED in beds and len(beds) > 1  # every bed of the ward, set or cleared
    assert any(m["t"] == "n" and m["bed"] == BED and m["news2"] == 3 for m in messages)


def test_unsaved_changes_survive_a_consumer_restart(sqlite_app, live):
    runtime = sqlite_app.runtime
    first = ClinicalPipeline(runtime.db, live)
    first.load()
    flaky = FlakyDatabase(runtime.db)
    first.journal.db = flaky
    flaky.down = True
    feed(first, range(0, 20), spo2=85.0)
    first.snapshot()  # the tick does this every second; a kill -9 loses only what came after
    assert len(first.journal) >= 1 and rows(runtime.db, "spo2_low") == []

    second = ClinicalPipeline(runtime.db, live)
    second.start()
    try:
        [row] = wait_for(lambda: rows(runtime.db, "spo2_low"), 10, "the restored change stored")

        def shown_id() -> int | None:
            return json.loads(live.get_latest(live_keys.ward_alarms("ICU"))[BED])[0]["id"]

        wait_for(lambda: shown_id() == row.id, 10, "the stored alarm's id republished")
    finally:
        second.stop()


def test_a_steady_news2_comes_back_after_the_live_store_lost_it(sqlite_app, live):
    pipeline = ClinicalPipeline(sqlite_app.runtime.db, live)
    pipeline.load()
    feed(pipeline, range(0, 3))
    live.set_latest(live_keys.latest(BED), {"news2": None, "news2_complete": None})  # Redis restarted empty
    feed(pipeline, range(3, 6))  # the score has not changed: nothing is written for it
    assert "news2" not in live.get_latest(live_keys.latest(BED))
    pipeline.republish()
    assert live.get_latest(live_keys.latest(BED))["news2"] == "0"
