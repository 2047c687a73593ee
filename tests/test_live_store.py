"""The live store on both backends: in-memory and a real Redis (``redis_url`` from the suite's services)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from data import live_keys
from data.live_store import (
    LiveStore,
    LiveStoreError,
    MemoryLiveStore,
    RedisLiveStore,
    Subscription,
    open_live_store,
)
from tests.waiting import returns_within

WAIT = 5.0


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest) -> Iterator[LiveStore]:
    if request.param == "memory":
        live: LiveStore = MemoryLiveStore()
    else:
        live = open_live_store(request.getfixturevalue("redis_url"))
        assert isinstance(live, RedisLiveStore)
    try:
        yield live
    finally:
        live.close()


@pytest.fixture
def ns() -> str:
    """A key prefix of its own per test, so tests sharing one Redis never see each other's keys."""
    return f"pantau-test:{uuid.uuid4().hex[:10]}"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------------------------ latest


def test_latest_merges_and_none_deletes(store: LiveStore, ns: str) -> None:
    key = f"{ns}:latest:ICU-01"
    assert store.get_latest(key) == {}

    store.set_latest(key, {"hr": 82, "spo2": 97, "temp": 36.8, "status_spo2": "ok"})
    assert store.get_latest(key) == {"hr": "82", "spo2": "97", "temp": "36.8", "status_spo2": "ok"}

    # The SpO2 probe is switched off: its old value must disappear, the rest is merged.
    store.set_latest(key, {"hr": 90, "spo2": None, "status_spo2": "off"})
    assert store.get_latest(key) == {"hr": "90", "temp": "36.8", "status_spo2": "off"}

    store.set_latest(key, {})  # nothing to do
    store.set_latest(key, {"hr": None, "temp": None, "status_spo2": None})
    assert store.get_latest(key) == {}
    store.set_latest(f"{ns}:latest:missing", {"hr": None})  # deleting from a missing hash is fine
    assert store.get_latest(f"{ns}:latest:missing") == {}


def test_set_latest_if_newer_never_replaces_newer_values(store: LiveStore, ns: str) -> None:
    """Of two writers, the older values never replace the newer ones, decided when the batch runs (not when it was
    filled); equal stamps write (the same sample again), and a hash without the stamp takes the values."""
    empty, partial, newer, same = (f"{ns}:latest:{bed}" for bed in "ABCD")
    store.set_latest(partial, {"hr": 70, "map": 99})
    store.set_latest(same, {"sbp": 118, "nibp_ts": 1000})
    batch = store.batch()
    for key in (empty, partial, newer, same):  # a reading without its mean pressure: an older one's goes
        batch.set_latest_if_newer(key, {"sbp": 120, "dbp": 80, "map": None, "nibp_ts": 1000}, ("nibp_ts",))
    store.set_latest(newer, {"sbp": 141, "nibp_ts": 2000})  # the cuff measured after the batch was filled
    batch.execute()
    assert store.get_latest(empty) == {"sbp": "120", "dbp": "80", "nibp_ts": "1000"}
    assert store.get_latest(partial) == {"hr": "70", "sbp": "120", "dbp": "80", "nibp_ts": "1000"}
    assert store.get_latest(newer) == {"sbp": "141", "nibp_ts": "2000"}
    assert store.get_latest(same) == {"sbp": "120", "dbp": "80", "nibp_ts": "1000"}
    batch.set_latest_if_newer(newer, {"sbp": 150, "nibp_ts": 2001}, ("nibp_ts",))
    batch.execute()
    assert store.get_latest(newer) == {"sbp": "150", "nibp_ts": "2001"}
    for wrong in ({"sbp": 120}, {"sbp": 120, "nibp_ts": None}, {"nibp_ts": "1000"}):
        with pytest.raises(ValueError):  # the stamp is what decides: it must be there, and a number
            store.batch().set_latest_if_newer(empty, wrong, ("nibp_ts",))
    with pytest.raises(ValueError):
        store.batch().set_latest_if_newer(empty, {"sbp": 120}, ())


def test_set_latest_if_newer_compares_its_stamps_in_order(store: LiveStore, ns: str) -> None:
    """Two stamps compare like a tuple: a later pairing wins whatever its clock, and within one pairing the
    newer sample time; a stamp the hash lacks counts as 0."""
    key, legacy = f"{ns}:latest:paired", f"{ns}:latest:legacy"
    store.set_latest(key, {"hr": 80, "pairing": 7, "ts": 5_000})
    store.set_latest(legacy, {"hr": 80, "ts": 5_000})

    def write(target: str, hr: int, pairing: int, ts: int) -> dict[str, str]:
        batch = store.batch()
        batch.set_latest_if_newer(target, {"hr": hr, "pairing": pairing, "ts": ts}, ("pairing", "ts"))
        batch.execute()
        return store.get_latest(target)

    assert write(key, 81, 7, 4_999)["hr"] == "80"  # same monitor, older sample
    assert write(key, 82, 6, 9_000)["hr"] == "80"  # the monitor taken off the bed, its clock ahead
    assert write(key, 83, 8, 1_000) == {"hr": "83", "pairing": "8", "ts": "1000"}  # the new monitor, clock behind
    assert write(key, 84, 8, 1_000)["hr"] == "84"  # the same stamps again
    assert write(key, 85, 7, 9_999)["hr"] == "84"
    assert write(legacy, 86, 0, 4_000)["hr"] == "80"  # a missing stamp counts as 0
    assert write(legacy, 87, 1, 10)["hr"] == "87"


def test_values_are_strings_and_bools_refused(store: LiveStore, ns: str) -> None:
    key = f"{ns}:latest:types"
    store.set_latest(key, {"i": -3, "f": 0.1, "big": 10**12, "s": "naïve"})
    values = store.get_latest(key)
    assert values == {"i": "-3", "f": "0.1", "big": "1000000000000", "s": "naïve"}
    assert all(isinstance(v, str) for v in values.values())
    with pytest.raises(TypeError):
        store.set_latest(key, {"flag": True})
    with pytest.raises(TypeError):
        store.set_latest(key, {"raw": b"bytes"})  # type: ignore[dict-item]


def test_get_latest_many(store: LiveStore, ns: str) -> None:
    keys = [f"{ns}:latest:bed-{i}" for i in range(3)]
    store.set_latest(keys[0], {"hr": 60})
    store.set_latest(keys[2], {"hr": 120, "rr": 30})
    missing = f"{ns}:latest:nobody"

    result = store.get_latest_many([*keys, missing])
    assert result == {keys[0]: {"hr": "60"}, keys[1]: {}, keys[2]: {"hr": "120", "rr": "30"}, missing: {}}
    assert store.get_latest_many([]) == {}


def test_concurrent_writers(store: LiveStore, ns: str) -> None:
    key = f"{ns}:latest:shared"
    stream = f"{ns}:vitals:shared"
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(50):
                store.set_latest(key, {f"w{n}": i})
                store.append_stream(stream, {"w": n, "i": i}, maxlen=10_000)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 4)
    assert not errors
    assert store.get_latest(key) == {f"w{n}": "49" for n in range(8)}
    entries = store.read_stream(stream)
    assert len(entries) == 400
    ids = [_id_tuple(entry_id) for entry_id, _ in entries]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


# ------------------------------------------------------------------------------------------------ streams


def _id_tuple(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def test_stream_append_and_read_after(store: LiveStore, ns: str) -> None:
    key = f"{ns}:vitals:ICU-01"
    assert store.read_stream(key) == []

    before_ms = time.time_ns() // 1_000_000
    ids = [
        store.append_stream(key, {"hr": 80 + i, "spo2": None, "ts": 1763880000123 + i}, maxlen=100) for i in range(5)
    ]
    assert all(isinstance(entry_id, str) for entry_id in ids)
    assert [_id_tuple(i) for i in ids] == sorted(_id_tuple(i) for i in ids)
    assert len(set(ids)) == 5
    assert _id_tuple(ids[0])[0] >= before_ms - 1000  # "ms-seq" ids from the wall clock

    entries = store.read_stream(key)
    assert [entry_id for entry_id, _ in entries] == ids
    assert entries[0][1] == {"hr": "80", "ts": "1763880000123"}  # None fields are left out

    assert [e for e, _ in store.read_stream(key, after=ids[1])] == ids[2:]  # strictly after
    assert store.read_stream(key, after=ids[-1]) == []
    assert [e for e, _ in store.read_stream(key, after=ids[0], count=2)] == ids[1:3]
    assert [e for e, _ in store.read_stream(key, count=1)] == ids[:1]
    assert [e for e, _ in store.read_stream(key, after="0-0")] == ids

    with pytest.raises(ValueError):
        store.append_stream(key, {"hr": None}, maxlen=100)
    with pytest.raises(ValueError):
        store.append_stream(key, {"hr": 1}, maxlen=0)


def test_stream_exact_cap_keeps_the_newest(store: LiveStore, ns: str) -> None:
    key = f"{ns}:vitals:exact"
    for i in range(20):
        store.append_stream(key, {"i": i}, maxlen=5, approximate=False)
    assert [fields["i"] for _, fields in store.read_stream(key)] == ["15", "16", "17", "18", "19"]


def test_stream_approximate_cap(store: LiveStore, ns: str) -> None:
    key = f"{ns}:vitals:approx"
    for i in range(400):
        store.append_stream(key, {"i": i}, maxlen=50)
    entries = store.read_stream(key)
    # Redis trims whole nodes (~100 entries) at a time; memory trims exactly. Never below the cap.
    assert 50 <= len(entries) < 400
    assert entries[-1][1] == {"i": "399"}
    assert [int(fields["i"]) for _, fields in entries] == list(range(400 - len(entries), 400))


def test_stream_trim_drops_only_entries_older_than_an_id(store: LiveStore, ns: str) -> None:
    key = f"{ns}:clinical:trim"
    ids = [store.append_stream(key, {"i": i}, maxlen=10_000) for i in range(400)]
    batch = store.batch()
    batch.trim_stream(key, ids[300])
    batch.trim_stream(f"{ns}:clinical:none", ids[300])  # no such stream: nothing to do
    batch.execute()
    entries = store.read_stream(key)
    # Redis drops whole nodes (~100 entries) of the older ones; memory drops exactly those.
    assert 100 <= 400 - len(entries) <= 300
    assert [entry_id for entry_id, _ in entries] == ids[400 - len(entries) :]
    with pytest.raises(ValueError):
        store.batch().trim_stream(key, "not-an-id")


# ------------------------------------------------------------------------------------------------ pub/sub


def test_pubsub_between_threads(store: LiveStore, ns: str) -> None:
    ward, other, silent = f"{ns}:ward:ICU", f"{ns}:ward:HCU", f"{ns}:ward:none"
    received: list[tuple[str, str]] = []
    done = threading.Event()

    with store.subscribe(ward, other) as sub:
        assert isinstance(sub, Subscription)

        def reader() -> None:
            while len(received) < 101:
                message = sub.get(timeout=WAIT)
                if message is None:
                    break
                received.append(message)
            done.set()

        thread = threading.Thread(target=reader)
        thread.start()
        publisher = threading.Thread(
            target=lambda: [store.publish(ward, f"tick {i}") for i in range(100)], name="publisher"
        )
        publisher.start()
        publisher.join(WAIT)
        assert store.publish(silent, "nobody listens") == 0
        assert store.publish(other, '{"bed":"HCU-02"}') == 1
        assert done.wait(WAIT)
        thread.join(WAIT)

    assert received[:100] == [(ward, f"tick {i}") for i in range(100)]
    assert received[100] == (other, '{"bed":"HCU-02"}')


def test_subscription_timeout_and_close(store: LiveStore, ns: str) -> None:
    channel = f"{ns}:ward:quiet"
    sub = store.subscribe(channel)
    assert returns_within(2, lambda: sub.get(timeout=0.2), "get(timeout=0.2) on a quiet channel") is None

    # close() from another thread wakes a blocked get().
    result: list[object] = []
    getter = threading.Thread(target=lambda: result.append(sub.get(timeout=WAIT)))
    getter.start()
    time.sleep(0.1)  # let the getter block first; correctness does not depend on it
    sub.close()
    getter.join(WAIT)
    assert not getter.is_alive()
    sub.close()  # idempotent
    assert sub.get(timeout=0.05) is None

    deadline = time.monotonic() + WAIT  # Redis notices the closed connection asynchronously
    while store.publish(channel, "after close") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.publish(channel, "after close") == 0


def test_two_subscribers_both_receive(store: LiveStore, ns: str) -> None:
    channel = f"{ns}:ward:fanout"
    with store.subscribe(channel) as first, store.subscribe(channel) as second:
        assert store.publish(channel, "alarm") == 2
        assert first.get(timeout=WAIT) == (channel, "alarm")
        assert second.get(timeout=WAIT) == (channel, "alarm")


def test_store_close_closes_its_subscriptions(store: LiveStore, ns: str) -> None:
    sub = store.subscribe(f"{ns}:ward:x")
    store.close()
    assert sub.get(timeout=0.1) is None


def test_ping(store: LiveStore) -> None:
    assert store.ping() is True


# ------------------------------------------------------------------------------------------------ choosing


def test_open_live_store_by_url() -> None:
    assert isinstance(open_live_store(""), MemoryLiveStore)
    assert isinstance(open_live_store("memory://"), MemoryLiveStore)
    for url in ("redis://127.0.0.1:1/0", "rediss://example.invalid:6380/0", "unix:///tmp/none.sock"):
        live = open_live_store(url)  # opening never connects
        assert isinstance(live, RedisLiveStore)
        live.close()
    with pytest.raises(ValueError):
        open_live_store("postgres://localhost/x")


def test_memory_urls_share_data_by_name() -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    a, b = open_live_store(f"memory://{name}"), open_live_store(f"memory://{name}")
    other = open_live_store(f"memory://{name}-other")
    a.set_latest("k", {"hr": 70})
    assert b.get_latest("k") == {"hr": "70"}
    assert other.get_latest("k") == {}
    with b.subscribe("ch") as sub:
        assert a.publish("ch", "hello") == 1
        assert sub.get(timeout=WAIT) == ("ch", "hello")
    a.close()  # one handle closing leaves the data for the others
    assert b.get_latest("k") == {"hr": "70"}
    assert MemoryLiveStore().get_latest("k") == {}  # a directly constructed store is private


def test_redis_password_not_in_repr() -> None:
    live = open_live_store("redis://:s3cret-pass@127.0.0.1:1/0")
    assert "s3cret" not in repr(live)
    live.close()


def test_dead_redis_ping_false_quickly() -> None:
    live = open_live_store(f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        assert returns_within(5, live.ping, "ping of a closed port") is False
        with pytest.raises(LiveStoreError):
            returns_within(5, lambda: live.get_latest(live_keys.latest("ICU-01")), "a read from a closed port")
        with pytest.raises(LiveStoreError):
            returns_within(5, lambda: live.subscribe(live_keys.ward_channel("ICU")), "subscribing on a closed port")
    finally:
        live.close()


@pytest.mark.services
def test_redis_restart_is_survived() -> None:
    """Ping reflects the outage; commands and a subscription work again once Redis is back."""
    from testkit.servers import RedisServer

    server = RedisServer().start()
    port = server.port
    live = open_live_store(server.url)
    try:
        live.set_latest(live_keys.latest("R1"), {"hr": 70})
        sub = live.subscribe(live_keys.ward_channel("R"))
        assert live.ping()

        server.stop()
        assert returns_within(5, live.ping, "ping while Redis is down") is False
        assert returns_within(5, lambda: sub.get(timeout=0.3), "get(timeout=0.3) while Redis is down") is None

        server = RedisServer(port=port).start()  # an empty Redis again, same address
        assert live.ping() is True
        live.set_latest(live_keys.latest("R1"), {"hr": 71})
        assert live.get_latest(live_keys.latest("R1")) == {"hr": "71"}

        # The subscription reconnects and re-subscribes on its next read.
        deadline = time.monotonic() + WAIT * 2
        message = None
        while message is None and time.monotonic() < deadline:
            live.publish(live_keys.ward_channel("R"), "back")
            message = sub.get(timeout=0.2)
        assert message == (live_keys.ward_channel("R"), "back")
        sub.close()
    finally:
        live.close()
        server.stop()
