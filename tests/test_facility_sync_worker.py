"""The facility sync worker (bridge.facility_sync) for real: two sites, each its own PostgreSQL database and data
keys, one Mosquitto that these tests stop and start, and each site's worker as a subprocess (SIGTERM, kill -9)."""

from __future__ import annotations

import base64
import queue
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bridge.facility_sync.control import Acks, Fingerprints, open_control, seal_control
from bridge.facility_sync.options import load_setup, parse_keys
from bridge.facility_sync.verify import (
    DIFFERS,
    MISSING_HERE,
    MISSING_THERE,
    Difference,
    NoAnswer,
    await_answer,
    compare,
)
from config import ConfigError, load_settings
from data.db import Database
from data.models import Patient, SyncConflict, SyncInbox, SyncOutbox, SyncPeerStatus
from data.patient_records import soft_delete
from data.sync_envelope import EnvelopeError, Keyring, ack_topic, parse_chunk, seal_change, sync_topic
from data.sync_store import link_id
from domain.actor import Actor
from domain.hlc import Hlc
from domain.record_merge import Change, Op, Write
from testkit.servers import MosquittoServer
from tests.facility_sync_sites import (
    BORN,
    LINK_KEY,
    SiteDb,
    Worker,
    edit,
    new_site,
    register,
    run_verify,
    sync_env,
    wait_until,
)


@pytest.fixture(scope="module")
def broker() -> Iterator[MosquittoServer]:
    """A broker of this module's own, to stop and start."""
    server = MosquittoServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def sites(postgres_server) -> Iterator[Callable[[str], SiteDb]]:
    """A factory of sites, each in a fresh migrated database with its own data keys."""
    made: list[Database] = []

    def make(code: str) -> SiteDb:
        site = new_site(postgres_server.create_database(f"fs_{uuid.uuid4().hex[:12]}"), code, len(made) + 1)
        made.append(site.db)
        return site

    yield make
    for db in made:
        db.engine.dispose()


@pytest.fixture
def pair(sites, broker, tmp_path) -> Iterator[tuple[SiteDb, SiteDb, Worker, Worker]]:
    """A Puskesmas and a hospital with their workers running; fresh site codes, so no session of an earlier test
    (same client id, same broker) delivers its changes here."""
    tag = uuid.uuid4().hex[:4]
    a, b = sites(f"PKM-{tag}"), sites(f"RS-{tag}")
    window = ("--window", "2")  # two changes in flight per peer: a stream of changes takes many round trips
    workers = Worker(a, b.code, broker, tmp_path, *window).start(), Worker(b, a.code, broker, tmp_path, *window).start()
    try:
        wait_until(lambda: a.count(SyncPeerStatus) == 1 and b.count(SyncPeerStatus) == 1, "sites registered")
        yield a, b, *workers
    finally:
        for worker in workers:
            if worker.alive():
                worker.kill()


def nameless(n: int) -> str:
    """A distinct patient name for ``n`` (names hold letters only)."""
    return "Pasien " + "".join("abcdefghij"[int(digit)] for digit in str(n)).title()


def delete(site: SiteDb, sync_id: str) -> None:
    with site.db.session() as s:
        patient = s.scalar(select(Patient).where(Patient.sync_id == sync_id))
        actor = Actor(None, "tester", site.site_id, "127.0.0.1")
        soft_delete(s, site.cipher, actor, patient.id, version=patient.version, reason="Ganda")


def converged(a: SiteDb, b: SiteDb) -> bool:
    """Both sites hold the same records with the same fingerprints and nothing is left unacknowledged."""
    pending = SyncOutbox.acked_at.is_(None)
    return a.fingerprints() == b.fingerprints() and a.count(SyncOutbox, pending) == b.count(SyncOutbox, pending) == 0


def conflicts(site: SiteDb) -> set[tuple[str, str, str, str]]:
    with site.db.session() as s:
        rows = s.execute(
            select(SyncConflict.record_id, SyncConflict.field, SyncConflict.lost_hlc, SyncConflict.won_hlc)
        )
        return {tuple(row) for row in rows}


def applied_once(receiver: SiteDb, sender: SiteDb) -> bool:
    """The receiver's inbox holds each change the sender queued for it exactly once."""
    with sender.db.session() as s:
        sent = set(s.scalars(select(SyncOutbox.change_id).where(SyncOutbox.peer == receiver.code)))
    with receiver.db.session() as s:
        inbox = list(s.scalars(select(SyncInbox.change_id).where(SyncInbox.origin == sender.code)))
    return len(inbox) == len(set(inbox)) and set(inbox) == sent


def publish_raw(broker: MosquittoServer, topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


# ------------------------------------------------------------------------------------------------ end to end


def test_register_update_delete_reach_the_peer_and_verify_says_identical(pair, broker, tmp_path):
    a, b, worker_a, worker_b = pair
    record = register(a, "Siti Nurhaliza")
    wait_until(lambda: (p := b.patient(record)) is not None and p.name == "Siti Nurhaliza", "registration at B")
    assert b.patient(record).site_id == b.site_id

    edit(b, record, name="Siti Aminah")
    wait_until(lambda: a.patient(record).name == "Siti Aminah", "update at A")

    delete(a, record)
    wait_until(lambda: b.patient(record).deleted_at is not None, "delete at B")
    wait_until(lambda: converged(a, b), "both acknowledged")

    # A message that is not a chunk is refused with its reason; the worker goes on.
    publish_raw(broker, sync_topic(b.code), b"not a chunk")
    wait_until(lambda: (a.peer_status(b.code) or SyncPeerStatus()).last_error == "format", "refusal noted")
    assert worker_a.alive()

    done = run_verify(a, b.code, broker, tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "identical: 1 records"), done.stderr
    assert a.peer_status(b.code).verify_records == 1 and a.peer_status(b.code).verify_differences == 0
    assert applied_once(b, a) and applied_once(a, b)
    assert worker_a.stop() == 0 and worker_b.stop() == 0  # SIGTERM stops cleanly


def test_verify_lists_what_differs_and_exits_1(pair, broker, tmp_path):
    a, b, _, _ = pair
    register(a, "Rina")
    wait_until(lambda: converged(a, b), "first record synced")
    with b.db.session() as s:  # a record B holds that A never got: queued for no active peer
        s.execute(SyncPeerStatus.__table__.update().values(active=False))
    only_b = register(b, "Dewi")
    done = run_verify(a, b.code, broker, tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"{only_b}: {MISSING_HERE}" in done.stdout.splitlines()
    assert a.peer_status(b.code).verify_differences == 1


def test_broker_outage_both_sites_change_then_converge(pair, broker):
    a, b, _, _ = pair
    shared = register(a, "Siti Nurhaliza")
    wait_until(lambda: b.patient(shared) is not None and converged(a, b), "first record at B")

    broker.stop()
    try:
        edit(a, shared, name="Siti A")  # the same field at both sites, neither seeing the other
        edit(b, shared, name="Siti B")
        edit(b, shared, birth_date=date(1991, 1, 2))
        only_a, only_b = register(a, "Ani"), register(b, "Budi")
        time.sleep(1)
    finally:
        broker.start()

    wait_until(lambda: converged(a, b), "both sites converge after the outage", timeout=60)
    assert {only_a, only_b, shared} <= set(a.fingerprints())
    assert a.patient(shared).name == b.patient(shared).name == "Siti B"  # B's write is the later one
    assert a.patient(shared).birth_date == date(1991, 1, 2)
    found = conflicts(a)
    assert found and found == conflicts(b)
    assert {(record, field) for record, field, _, _ in found} == {(shared, "name")}
    assert applied_once(b, a) and applied_once(a, b)


def test_a_worker_killed_mid_stream_loses_nothing(pair, broker, tmp_path):
    a, b, worker_a, worker_b = pair
    records = [register(a, nameless(n)) for n in range(30)]
    wait_until(lambda: b.count(SyncInbox) >= 3, "some changes applied at B", timeout=30)
    worker_b.kill()
    worker_a.kill()
    assert b.count(SyncInbox) < 30  # killed mid-stream
    records += [register(a, nameless(n)) for n in range(30, 40)]
    worker_a.start()
    worker_b.start()
    wait_until(lambda: converged(a, b), "every change at B after the kills", timeout=60)
    assert all(b.patient(record) is not None for record in records)
    assert b.count(Patient) == 40 and applied_once(b, a)


class AckListener:
    """Collects the change ids a site acknowledges to its peer (opened with the link key, as the peer would)."""

    def __init__(self, broker: MosquittoServer, site: str, keyring: Keyring) -> None:
        self.acked: list[str] = []
        self._keyring = keyring
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-acks-{uuid.uuid4().hex[:8]}")
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.subscribe(ack_topic(site), qos=1)
        self._client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        chunks = [parse_chunk(message.payload)]  # acknowledgements fit one chunk
        opened = open_control(self._keyring, chunks)
        if isinstance(opened, Acks):
            self.acked.extend(opened.change_ids)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def forged_change(origin: str, *, ahead_ms: int = 0) -> Change:
    """A new record's upsert made at ``origin`` (as its worker would send it), its clock ``ahead_ms`` in the future."""
    at = Hlc(int(time.time() * 1000) + ahead_ms, 0, origin)
    fields = {"name": Write("Sari", at), "birth_date": Write(BORN.isoformat(), at), "sex": Write("P", at)}
    return Change(str(uuid.uuid4()), str(uuid.uuid4()), origin, Op.UPSERT, at, None, fields)


def test_duplicates_are_acknowledged_again_and_a_clock_too_far_ahead_never(pair, broker):
    a, b, worker_a, _ = pair
    keyring = Keyring(link_id(a.code, b.code), [("k1", b"L" * 32)])
    listener = AckListener(broker, a.code, keyring)
    try:
        change = forged_change(b.code)
        for sent in (1, 2):  # sent twice, sealed twice (new nonces), as a resend is: acknowledged each time
            for chunk in seal_change(keyring, change, seq=7):
                publish_raw(broker, sync_topic(b.code), chunk.encode())
            wait_until(lambda n=sent: listener.acked.count(change.change_id) == n, f"delivery {sent} acknowledged")
        assert a.count(SyncInbox, SyncInbox.change_id == change.change_id) == 1
        assert a.patient(change.record_id).name == "Sari"

        skewed = forged_change(b.code, ahead_ms=10 * 60_000)
        for chunk in seal_change(keyring, skewed, seq=8):
            publish_raw(broker, sync_topic(b.code), chunk.encode())
        wait_until(lambda: a.peer_status(b.code).last_error == "clock_skew", "clock skew noted")
        time.sleep(0.5)  # longer than the acknowledgements' batching
        assert skewed.change_id not in listener.acked
        assert a.count(SyncInbox, SyncInbox.change_id == skewed.change_id) == 0
        assert a.patient(skewed.record_id) is None and worker_a.alive()
    finally:
        listener.close()


def set_connections(postgres_server, database_url: str, *, allowed: bool) -> None:
    """Let a site's database accept connections again, or refuse them and end those open (a database down)."""
    name = make_url(database_url).database
    admin = create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
                )
    finally:
        admin.dispose()


def test_a_database_down_is_waited_for_and_nothing_is_acknowledged_meanwhile(pair, broker, postgres_server):
    a, b, _, worker_b = pair
    b.db.engine.dispose()
    set_connections(postgres_server, b.url, allowed=False)
    try:
        record = register(a, "Siti Nurhaliza")
        time.sleep(3)  # sent, refused by B's database, not acknowledged; sent again after 2 s
        assert worker_b.alive()
        with a.db.session() as s:
            row = s.scalar(select(SyncOutbox).where(SyncOutbox.record_id == record))
            assert row.acked_at is None and row.attempts >= 1
    finally:
        set_connections(postgres_server, b.url, allowed=True)
    wait_until(lambda: converged(a, b), "applied once B's database is back")
    with a.db.session() as s:
        assert s.scalar(select(SyncOutbox.attempts).where(SyncOutbox.record_id == record)) >= 2  # by resend
    assert b.patient(record).name == "Siti Nurhaliza" and applied_once(b, a)


# ------------------------------------------------------------------------------------------------ pieces


def test_settings_refused_with_a_clear_message():
    key = f"RS-01:k1:{LINK_KEY}"
    good = dict(site_code="PKM-01", sync_peers="RS-01", sync_keys=key, env="test")
    setup = load_setup(load_settings(**good))
    assert setup.peers == ("RS-01",) and setup.keyrings["RS-01"].link == "PKM-01_RS-01"
    cases = {
        "empty": dict(good, sync_peers=""),
        "no key for peer(s) RS-02": dict(good, sync_peers="RS-01,RS-02"),
        "site id": dict(good, site_code="vitals"),
        "itself": dict(good, sync_peers="RS-01,PKM-01", sync_keys=f"{key},PKM-01:k1:{LINK_KEY}"),
        "32 bytes": dict(good, sync_keys="RS-01:k1:" + base64.b64encode(b"short").decode()),
        "not base64": dict(good, sync_keys="RS-01:k1:%%%"),
        "PEER:keyid:base64": dict(good, sync_keys="RS-01:" + LINK_KEY),
        "not in PANTAU_SYNC_PEERS": dict(good, sync_keys=f"{key},RS-09:k1:{LINK_KEY}"),
    }
    for words, settings in cases.items():
        with pytest.raises(ConfigError, match=re.escape(words)):
            load_setup(load_settings(**settings))


def test_the_command_refuses_to_start_with_its_reason(sites, broker, tmp_path):
    site = sites("PKM-X1")
    env = sync_env(site, "RS-X1", broker.url, tmp_path)
    for change, reason in (
        ({"PANTAU_SITE_CODE": "PKM-X2"}, "no site with code PKM-X2"),
        ({"PANTAU_SYNC_KEYS": ""}, "PANTAU_SYNC_KEYS has no key for peer(s) RS-X1"),
        ({"PANTAU_SYNC_PEERS": "cmd"}, "site id 'cmd'"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bridge.facility_sync", "run"],
            env=env | change,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and reason in done.stderr, done.stderr


def test_keys_newest_first_and_rotation():
    old, new = base64.b64encode(b"o" * 32).decode(), base64.b64encode(b"n" * 32).decode()
    rings = parse_keys("RS-01", f"PKM-01:k2:{new},PKM-01:k1:{old}")
    assert rings["PKM-01"].active_key_id == "k2"
    sealed_old = seal_control(Keyring("PKM-01_RS-01", [("k1", b"o" * 32)]), Acks(("c1",)), origin="PKM-01")
    assert open_control(rings["PKM-01"], sealed_old) == Acks(("c1",))


def test_control_messages_refuse_other_payloads():
    ring = Keyring("PKM-01_RS-01", [("k1", b"L" * 32)])
    bad = ring.seal(b'{"acks": "c1"}', change_id="x", origin="PKM-01", seq=0)
    with pytest.raises(EnvelopeError) as refused:
        open_control(ring, bad)
    assert refused.value.reason == "payload"


def test_a_large_verify_answer_arrives_in_chunks_in_any_order():
    ring = Keyring("PKM-01_RS-01", [("k1", b"L" * 32)])
    prints = {str(uuid.uuid4()): uuid.uuid4().hex * 2 for _ in range(3000)}  # about 330 KB: four chunks
    chunks = seal_control(ring, Fingerprints("req-1", prints), origin="RS-01")
    other = seal_control(ring, Fingerprints("req-0", {}), origin="RS-01")  # an older request's answer
    assert len(chunks) > 1
    received: queue.Queue[bytes] = queue.Queue()
    for payload in [b"noise", other[0].encode(), *(c.encode() for c in reversed(chunks))]:
        received.put(payload)
    assert await_answer(received, ring, "req-1", time.monotonic() + 5) == prints
    with pytest.raises(NoAnswer):
        await_answer(received, ring, "req-1", time.monotonic() + 0.2)


def test_compare_names_each_difference():
    here, there = {"r1": "a", "r2": "b", "r3": "c"}, {"r1": "a", "r2": "x", "r4": "d"}
    assert compare(here, there) == [
        Difference("r2", DIFFERS),
        Difference("r3", MISSING_THERE),
        Difference("r4", MISSING_HERE),
    ]
    assert ack_topic("RS-01") == "pantau/v1/sync/RS-01/acks"
