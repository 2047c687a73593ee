"""The sync loop: publish queued changes, apply the peers' changes once, acknowledge, answer verify requests.

paho's network thread only queues what arrives; one thread (:meth:`SyncWorker.run`) does all the database work
and publishing, so a slow or absent database holds messages back instead of losing them. Every failure is
handled where it happens and the loop goes on: a refused message is noted for its peer and not acknowledged, a
database that is down is retried with a back-off and nothing received meanwhile is acknowledged (its sender sends
it again after ``resend_after``), and paho reconnects to the broker by itself.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from sqlalchemy import select

from bridge.facility_sync.control import Acks, Fingerprints, VerifyRequest, open_control, seal_control
from bridge.facility_sync.options import SyncSetup
from config import ConfigError
from data.broker_admin import sync_user
from data.db import Database
from data.db_errors import is_transient
from data.field_crypto import FieldCipher
from data.models import Site
from data.mqtt_client import KEEPALIVE, BrokerAddress, make_client
from data.sync_envelope import (
    Chunk,
    EnvelopeError,
    Reassembler,
    ack_topic,
    open_change,
    parse_chunk,
    seal_change,
    sync_topic,
)
from data.sync_store import (
    ApplyResult,
    Outgoing,
    SyncError,
    apply_remote,
    due_changes,
    fingerprints,
    mark_acked,
    note_peer,
    register_site,
)
from domain.clock import now_ms, utcnow
from domain.hlc import ClockError, ClockSkew
from domain.record_merge import Change, MergeError

__all__ = ["SyncWorker"]

log = logging.getLogger(__name__)

T = TypeVar("T")

ACK_DELAY = 0.2  # seconds an acknowledgement waits for others to share its message
ACKS_PER_MESSAGE = 1000
REMEMBER_APPLIED = 20_000  # change ids; a resend of an older one is reassembled and found in the inbox
EXPIRE_EVERY = 5.0
POLL = 0.5  # seconds between looks at the outbox when nothing else happens
DB_BACKOFF_MAX = 30.0


class DatabaseDown(Exception):
    """The database failed (or is in its back-off): nothing was acknowledged, the work is tried again later."""


class SyncWorker:
    """One site's sync worker; :meth:`run` until ``stop`` is set. ``window`` bounds the changes sent to a peer
    and not yet acknowledged (older than ``resend_after`` they no longer count: they are due again)."""

    def __init__(
        self, setup: SyncSetup, db: Database, cipher: FieldCipher, broker: BrokerAddress, *, window: int = 100
    ) -> None:
        self.setup, self.db, self.cipher, self.broker, self.window = setup, db, cipher, broker, window
        self.client_id = sync_user(setup.site)  # the broker user it may log in as is bound to this id
        self.connected = threading.Event()
        self._received: queue.Queue[tuple[str, bytes]] = queue.Queue(maxsize=1000)  # full: paho's thread waits
        self._topics = {sync_topic(p): ("change", p) for p in setup.peers} | {
            ack_topic(p): ("control", p) for p in setup.peers
        }
        self._reassembler = Reassembler()
        self._in_flight: dict[str, dict[str, float]] = {peer: {} for peer in setup.peers}
        self._acks: dict[str, dict[str, None]] = {}  # per peer, the change ids to acknowledge (ordered, once each)
        # Changes applied lately: a resend of one is acknowledged from its first chunk, without reassembly.
        self._applied: OrderedDict[str, None] = OrderedDict()
        self._acks_since = 0.0
        self._db_retry_at = 0.0
        self._db_delay = 1.0
        self._site_id = 0
        self._client: mqtt.Client | None = None
        self._stopping = threading.Event()

    # ----------------------------------------------------------------------------------------- lifecycle

    def run(self, stop: threading.Event, heartbeat: Path | None = None) -> None:
        """Register the site, connect, and loop until ``stop`` is set; then send the pending acks and disconnect.
        ``heartbeat`` is touched every few seconds while the loop runs (the container's health check)."""
        if not self._prepare(stop):
            return
        client = make_client(self.broker, self.client_id, persistent=True, on_connect=self._on_connect)
        client.on_message = self._on_message
        previous = client.on_disconnect

        def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            self.connected.clear()
            if previous is not None:
                previous(c, userdata, flags, reason, props)

        client.on_disconnect = on_disconnect
        self._client = client
        client.connect_async(self.broker.host, self.broker.port, KEEPALIVE)
        client.loop_start()  # connects, and reconnects for ever with paho's back-off
        log.info("facility sync started", extra={"site": self.setup.site, "peers": list(self.setup.peers)})
        next_send = next_expire = 0.0
        try:
            while not stop.is_set():
                try:
                    self._receive(timeout=0.05)
                    self._flush_acks()
                    now = time.monotonic()
                    if now >= next_send:
                        next_send = now if self._send_due() else now + POLL
                    if now >= next_expire:
                        if heartbeat is not None:
                            heartbeat.touch()
                        self._expire()
                        next_expire = now + EXPIRE_EVERY
                except Exception as exc:  # never stop on a fault: what it left unacknowledged comes again
                    log.error("sync loop fault", extra={"error": type(exc).__name__})
                    stop.wait(1.0)
        finally:
            self._stopping.set()  # paho's thread no longer waits for room in the queue
            self._flush_acks(force=True)
            client.disconnect()
            client.loop_stop()
            log.info("facility sync stopped", extra={"site": self.setup.site})

    def _prepare(self, stop: threading.Event) -> bool:
        """Find this site's row and register it with its peers, waiting for the database; False if stopped."""
        delay = 1.0
        while not stop.is_set():
            try:
                with self.db.session() as session:
                    site_id = session.scalar(select(Site.id).where(Site.code == self.setup.site))
                    if site_id is None:
                        raise ConfigError(f"no site with code {self.setup.site} in this database (PANTAU_SITE_CODE)")
                    register_site(session, self.setup.site, self.setup.peers)
                self._site_id = site_id
                return True
            except SyncError as exc:
                raise ConfigError(f"facility sync: {exc}") from None
            except ConfigError:
                raise
            except Exception as exc:
                log.warning("sync database unavailable, retrying", extra={"error": type(exc).__name__})
                stop.wait(delay)
                delay = min(delay * 2, DB_BACKOFF_MAX)
        return False

    # ------------------------------------------------------------------------------------------ MQTT side

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            return
        client.subscribe([(topic, 1) for topic in self._topics])  # again on every connect: harmless with a session
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        while not self._stopping.is_set():  # a full queue holds paho's thread, and so the broker, back
            try:
                self._received.put((message.topic, message.payload), timeout=0.5)
                return
            except queue.Full:
                continue

    def _publish(self, topic: str, chunks: list[Chunk]) -> None:
        assert self._client is not None
        for chunk in chunks:
            self._client.publish(topic, chunk.encode(), qos=1)

    # -------------------------------------------------------------------------------------------- database

    def _database(self, work: Callable[[], T]) -> T:
        """``work()`` unless the database is in its back-off; a failure starts (or doubles) the back-off."""
        now = time.monotonic()
        if now < self._db_retry_at:
            raise DatabaseDown
        try:
            result = work()
        except (ClockError, MergeError, SyncError, EnvelopeError):
            raise
        except Exception as exc:  # the type only: a database error's text may quote values
            self._db_retry_at = now + self._db_delay
            log.log(
                logging.WARNING if is_transient(exc) else logging.ERROR,
                "sync database work failed, retrying later",
                extra={"error": type(exc).__name__, "retry_seconds": self._db_delay},
            )
            self._db_delay = min(self._db_delay * 2, DB_BACKOFF_MAX)
            raise DatabaseDown from None
        self._db_delay = 1.0
        return result

    # ------------------------------------------------------------------------------------------- receiving

    def _receive(self, timeout: float) -> None:
        """Handle what arrived (waiting up to ``timeout`` for the first message)."""
        try:
            topic, payload = self._received.get(timeout=timeout)
        except queue.Empty:
            return
        for _ in range(self._received.maxsize):
            self._handle(topic, payload)
            try:
                topic, payload = self._received.get_nowait()
            except queue.Empty:
                return

    def _handle(self, topic: str, payload: bytes) -> None:
        kind, peer = self._topics.get(topic, ("", ""))
        if not peer:
            return
        try:
            chunk = parse_chunk(payload)
            header = chunk.header
            if self.setup.peer_of_link(header.link) is None:
                return  # a change for another link of that peer
            if header.link != self.setup.keyrings[peer].link or header.origin != peer:
                raise EnvelopeError("link", f"change {header.change_id} of {header.origin} on {peer}'s topic")
            if kind == "change" and header.change_id in self._applied:
                self._ack(peer, header.change_id)  # sent again before our acknowledgement arrived
                return
            whole = self._reassembler.add(chunk, now_ms())
            if whole is None:
                return
            if kind == "change":
                self._apply(peer, open_change(self.setup.keyrings[peer], whole))
            else:
                self._control(peer, whole)
        except EnvelopeError as exc:
            self._refused(peer, exc.reason, str(exc))
        except DatabaseDown:
            pass  # not acknowledged: the peer sends it again

    def _apply(self, peer: str, change: Change) -> None:
        def work() -> ApplyResult:
            with self.db.session() as session:
                result = apply_remote(session, self.cipher, change, site_id=self._site_id)
                note_peer(session, peer, now=utcnow(), message=True, applied=not result.duplicate)
                return result

        try:
            result = self._database(work)
        except ClockSkew as exc:
            self._refused(peer, "clock_skew", f"change {change.change_id} is {exc.ahead_ms} ms ahead")
            return
        except (ClockError, MergeError) as exc:
            self._refused(peer, "clock" if isinstance(exc, ClockError) else "merge", f"change {change.change_id}")
            return
        except SyncError as exc:
            self._refused(peer, exc.reason, f"change {change.change_id}")
            return
        if result.conflicts:
            log.info(
                "sync conflicts found",
                extra={"peer": peer, "change_id": change.change_id, "record": change.record_id, "n": result.conflicts},
            )
        self._remember(change.change_id)
        self._ack(peer, change.change_id)

    def _remember(self, change_id: str) -> None:
        self._applied[change_id] = None
        if len(self._applied) > REMEMBER_APPLIED:
            self._applied.popitem(last=False)

    def _ack(self, peer: str, change_id: str) -> None:
        if not self._acks:
            self._acks_since = time.monotonic()
        self._acks.setdefault(peer, {})[change_id] = None

    def _control(self, peer: str, whole: tuple[Chunk, ...]) -> None:
        message = open_control(self.setup.keyrings[peer], whole)
        if isinstance(message, Acks):

            def acked() -> int:
                with self.db.session() as session:
                    count = mark_acked(session, peer, message.change_ids, now=utcnow())
                    note_peer(session, peer, now=utcnow(), message=True)
                    return count

            self._database(acked)
            flight = self._in_flight[peer]
            for change_id in message.change_ids:
                flight.pop(change_id, None)
        elif isinstance(message, VerifyRequest):
            if message.until_ms < now_ms():
                log.info("sync verify request expired", extra={"peer": peer, "request": message.request_id})
                return

            def prints() -> dict[str, str]:
                with self.db.session() as session:
                    return fingerprints(session)

            answer = Fingerprints(message.request_id, self._database(prints))
            self._publish(
                ack_topic(self.setup.site), seal_control(self.setup.keyrings[peer], answer, origin=self.setup.site)
            )
            log.info(
                "sync verify answered",
                extra={"peer": peer, "request": message.request_id, "records": len(answer.prints)},
            )
        # Fingerprints: the answer to a verify command of this site, which reads it itself

    def _refused(self, peer: str, reason: str, detail: str) -> None:
        """Note a refused message for its peer (ids and reason only); it is not acknowledged."""
        log.warning("sync message refused", extra={"peer": peer, "reason": reason, "detail": detail})

        def note() -> None:
            with self.db.session() as session:
                note_peer(session, peer, now=utcnow(), message=True, error=reason)

        with contextlib.suppress(DatabaseDown):
            self._database(note)

    def _expire(self) -> None:
        for gone in self._reassembler.expire(now_ms()):
            log.info(
                "sync payload expired incomplete",
                extra={
                    "link": gone.link,
                    "change_id": gone.change_id,
                    "origin": gone.origin,
                    "seq": gone.seq,
                    "received": gone.received,
                    "count": gone.count,
                },
            )

    # ------------------------------------------------------------------------------------------- sending

    def _flush_acks(self, *, force: bool = False) -> None:
        if not self._acks or (not force and time.monotonic() - self._acks_since < ACK_DELAY):
            return
        for peer, pending in self._acks.items():
            ids = list(pending)
            for start in range(0, len(ids), ACKS_PER_MESSAGE):
                acks = Acks(tuple(ids[start : start + ACKS_PER_MESSAGE]))
                self._publish(
                    ack_topic(self.setup.site), seal_control(self.setup.keyrings[peer], acks, origin=self.setup.site)
                )
        self._acks.clear()

    def _send_due(self) -> bool:
        """Publish the changes due to each peer within its window; True when a window was filled (more may wait)."""
        if not self.connected.is_set():
            return False
        resend = self.setup.resend_after.total_seconds()
        more = False
        for peer in self.setup.peers:
            flight = self._in_flight[peer]
            now = time.monotonic()
            for change_id in [c for c, sent in flight.items() if now - sent > resend]:
                del flight[change_id]
            room = self.window - len(flight)
            if room <= 0:
                continue

            def due(peer: str = peer, room: int = room) -> list[Outgoing]:
                with self.db.session() as session:
                    return due_changes(
                        session, self.cipher, peer, now=utcnow(), resend_after=self.setup.resend_after, limit=room
                    )

            try:
                items = self._database(due)
            except DatabaseDown:
                return False
            for item in items:  # committed as sent first: a crash now means a resend, never a loss
                try:
                    chunks = seal_change(self.setup.keyrings[peer], item.change, seq=item.outbox_id)
                except EnvelopeError as exc:
                    log.error("sync change not sealable", extra={"outbox_id": item.outbox_id, "reason": exc.reason})
                    continue
                self._publish(sync_topic(self.setup.site), chunks)
                flight[item.change.change_id] = now
            more = more or len(items) == room
        return more
