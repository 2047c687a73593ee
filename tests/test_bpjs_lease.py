"""Fencing of the BPJS outbox lease: a worker that stalled past its lease cannot overwrite what the worker that
took the row over recorded, and every BPJS call ends at its deadline, however slowly the server answers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bridge.bpjs.client import AntreanClient, BpjsResult, BpjsTransportError
from bridge.bpjs.sandbox import create_sandbox
from bridge.bpjs_worker import BpjsWorker
from data.bpjs_outbox import LEASE, claim_next, mark_failed, mark_retry, mark_sent
from data.models import BpjsOutbox
from domain.clock import utcnow
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve
from tests.test_bpjs_outbox import jkn_bookings

REFUSAL = "Data tidak valid"


class StallingClient:
    """Stands in for a BPJS client whose call hangs (a frozen VM, a dead link) until ``release`` is set, then
    answers 201: the late "failed" a stalled worker would record."""

    deadline = 10.0

    def __init__(self) -> None:
        self.called = threading.Event()
        self.release = threading.Event()

    def add_antrean(self, _payload: dict) -> BpjsResult:
        self.called.set()
        self.release.wait(30)
        return BpjsResult(201, REFUSAL, None)


def state_of(app, item_id: int) -> tuple[str, int | None, str | None]:
    with app.runtime.db.session() as s:
        row = s.get(BpjsOutbox, item_id)
        return row.state, row.response_code, row.last_error


def test_an_outcome_is_written_only_under_the_latest_claim(any_app):
    jkn_bookings(any_app, 1)
    now = utcnow()
    with any_app.runtime.db.session() as s:
        first = claim_next(s, now)
    with any_app.runtime.db.session() as s:
        assert claim_next(s, now + timedelta(seconds=30)) is None  # leased: no one else takes it
        second = claim_next(s, now + LEASE + timedelta(seconds=1))  # the first lease ended
    assert second.id == first.id and second.attempts == first.attempts + 1
    with any_app.runtime.db.session() as s:
        assert mark_sent(s, second, 200, now)
        assert not mark_failed(s, first, 201, REFUSAL)
        assert not mark_retry(s, first, None, "timeout", now)
        assert not mark_sent(s, second, 208, now)  # an outcome is written once
    assert state_of(any_app, first.id) == ("sent", 200, None)


def test_a_stalled_worker_does_not_overwrite_what_the_next_one_sent(postgres_app, caplog):
    app = create_sandbox(CONS_ID, SECRET, USER_KEY)
    jkn_bookings(postgres_app, 1)
    runtime = postgres_app.runtime
    stalling = StallingClient()
    late = BpjsWorker(runtime.db, stalling, runtime.cipher)
    stalled = threading.Thread(target=late.run_once)
    stalled.start()
    try:
        assert stalling.called.wait(30), "the first worker never reached BPJS"
        with runtime.db.session() as s:
            head = s.scalar(select(BpjsOutbox).where(BpjsOutbox.attempts == 1))
            head_id = head.id
        with serve(app) as url:
            # The second worker comes after the first one's lease ended.
            assert BpjsWorker(runtime.db, client_for(url), runtime.cipher).run_once(utcnow() + LEASE + LEASE)
        assert state_of(postgres_app, head_id) == ("sent", 200, None)
        with caplog.at_level(logging.WARNING, logger="bridge.bpjs_worker"):
            stalling.release.set()
            stalled.join(30)
    finally:
        stalling.release.set()
    assert state_of(postgres_app, head_id) == ("sent", 200, None)
    assert any("claim 1 lost" in r.getMessage() for r in caplog.records)


def _trickle(environ, start_response) -> Iterator[bytes]:
    """A server that answers, but one byte every 0.3 s: no single socket wait is long."""
    start_response("200 OK", [("Content-Type", "application/json")])
    for char in b'{"metadata": {"code": 200, "message": "OK"}}':
        time.sleep(0.3)
        yield bytes([char])


def test_a_call_ends_at_its_deadline_however_slowly_the_server_answers():
    with serve(_trickle) as url:
        client = AntreanClient(url, CONS_ID, SECRET, USER_KEY, timeout=1.0)
        started = time.monotonic()
        with pytest.raises(BpjsTransportError, match="within 1 s"):
            client.ref_poli()
        assert time.monotonic() - started < 1.5


def test_a_deadline_too_long_for_the_lease_is_refused_at_start(any_app):
    slow = AntreanClient("http://127.0.0.1:9", CONS_ID, SECRET, USER_KEY, timeout=LEASE.total_seconds())
    with pytest.raises(ValueError, match="too long"):
        BpjsWorker(any_app.runtime.db, slow, any_app.runtime.cipher)
