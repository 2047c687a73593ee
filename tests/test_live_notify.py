"""A change the database holds is never answered as failed because the live side could not be told of it
(``data.live_notify``): the message goes when it can, and what it would have said is read from the database."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from data import live_keys
from data.live_notify import notify
from data.live_store import LiveBatch, LiveStore, LiveStoreError, MemoryLiveStore, open_live_store
from data.models import AlarmEvent
from testkit.servers import free_port
from tests.test_alarm_api import open_spo2_alarm


class _BatchAway:
    """A batch that collects and then cannot be sent."""

    def publish(self, channel: str, message: str) -> None:
        pass

    def execute(self) -> None:
        raise LiveStoreError("live store (redis) batch failed: away (test)")


class PublishAway:
    """The web app's live store, read as before, but nothing it publishes gets through: Redis out of the web app's
    reach after the change was committed."""

    def __init__(self, live: LiveStore) -> None:
        self._live = live

    def __getattr__(self, name: str) -> object:
        return getattr(self._live, name)

    def publish(self, channel: str, message: str) -> int:
        raise LiveStoreError("live store (redis) publish failed: away (test)")

    def batch(self) -> LiveBatch:
        return _BatchAway()  # type: ignore[return-value]


@pytest.fixture(params=["memory", "redis"])
def live(request) -> Iterator[LiveStore]:
    store = MemoryLiveStore() if request.param == "memory" else open_live_store(request.getfixturevalue("redis_url"))
    yield store
    store.close()


def test_every_message_is_delivered_in_order(live):
    with live.subscribe(live_keys.CONTROL_CHANNEL, live_keys.ward_channel("ICU")) as subscription:
        sent = [
            (live_keys.CONTROL_CHANNEL, live_keys.control_message("adt", "ICU-03")),
            (live_keys.ward_channel("ICU"), '{"t":"b","bed":"ICU-03"}'),
            (live_keys.CONTROL_CHANNEL, live_keys.control_message("adt", "ICU-04")),
        ]
        assert notify(live, sent) is True
        assert [subscription.get(timeout=2) for _ in sent] == sent


def test_a_redis_nobody_answers_is_reported_not_raised(caplog):
    live = open_live_store(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with caplog.at_level(logging.WARNING, logger="data.live_notify"):
            assert notify(live, [(live_keys.CONTROL_CHANNEL, live_keys.control_message("wards", ""))]) is False
    finally:
        live.close()
    assert "the live side not told now" in caplog.text


def test_an_acknowledgement_stored_while_the_live_store_is_away_is_answered_as_done(sqlite_app, login, monkeypatch):
    """Stored, it is taken over by the clinical step from the database (``sync_acknowledgements``), so the ward
    station must not say that it failed."""
    runtime = sqlite_app.runtime
    open_spo2_alarm(runtime.db)
    client = login("nurse")
    monkeypatch.setattr(runtime, "live", PublishAway(runtime.live))
    response = client.post("/api/beds/ICU-03/alarms/ack", json={"condition": "spo2_low"})
    assert (response.status_code, response.get_json()) == (200, {"ok": True, "acknowledged": 1})
    with runtime.db.session() as s:
        assert s.scalars(select(AlarmEvent)).one().acknowledged_at is not None
