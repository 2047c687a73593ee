"""The vitals consumer: MQTT -> validate -> resolve bed -> live store + hooks -> batch insert -> ack.

``python -m bridge.consumer`` runs it as a process (SIGTERM: flush, commit, ack, disconnect, exit 0); the
embedded demo runs :class:`Consumer` in background threads of the web process.

Delivery (DESIGN.md §3): QoS 1 on a persistent session (fixed client id, ``clean_session=False``) with
paho-mqtt's *manual* acknowledgement, so a message is acknowledged (PUBACK) only after the database
transaction holding it has committed. A crash before the commit means the broker delivers it again; a crash
after the commit but before the PUBACK means a duplicate, which ``ON CONFLICT (device_id, ts, seq) DO
NOTHING`` absorbs and the counters show. Exactly-once in effect, nothing lost.

Threads (the GIL is shared, so each stage does its Python work while another waits on a socket):

* paho's network loop - reads, parses and validates each message (:mod:`domain.vitals_contract`) and queues it
  (a bounded queue: when the writers fall behind it waits and the broker holds the rest - back-pressure);
* ``writer-N`` (``writers``, default 2, each with its own connection so one commits while the other builds)
  - collects a numbered batch (up to ``batch_size``, or ``batch_wait`` seconds, or as soon as nothing more is
  waiting), resolves device -> bed, hands it to the live stage, then inserts samples and dead letters in one
  transaction, commits, acks. The database is never on the way to a screen or an alarm: a failing database is
  retried with back-off, never acked, never fatal, and meanwhile the writer keeps taking new batches (up to
  ``_HELD_BATCHES``) and handing them to the live stage, to store them all at the next attempt;
* ``live`` - in batch order, each batch once: only samples newer than the newest already shown of their device
  (:class:`bridge.live_gate.LiveGate`, so a redelivered or resent sample is stored but never shown again) go
  to the live store (one round trip: latest hash, capped stream, one ``pantau:ward:{ward}`` message per
  sample, see docs/live-data.md) and the hooks (the clinical step); then every sample to the gap tracker;
* ``gaps`` - sequence gaps (:mod:`bridge.sequence_gaps`): the live stage reports each received sample; this
  thread asks monitors to resend what is missing (``cmd`` topic) and records gaps in ``vital_gap``;
* ``housekeeping`` - partitions, rollups, retention every ``maintenance_interval`` seconds (and at start), and a
  JSON snapshot of the counters in ``pantau:consumer:{client_id}`` every ``snapshot_interval`` seconds;
* optionally a small HTTP server with ``/metrics`` (Prometheus text) and ``/healthz``.

Batches fill only if the broker hands over enough unacknowledged messages: Mosquitto's
``max_inflight_messages`` (default 20) is the bound. Mosquitto 2.0 refills in bulk after each batch of PUBACKs,
so ``bench/ingest.py`` measures ~500-message batches even with 20, but ``max_inflight_messages 1000`` states
the intent (and bounds the consumer's memory while the database is away).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import queue
import signal
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import orjson
import paho.mqtt.client as mqtt
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError

from bridge.fast_paho import FastClient, speed_up
from bridge.live_gate import LiveGate
from bridge.sequence_gaps import GapCounters, GapPolicy, Observed, SequenceGaps
from data import partitions, vital_gaps
from data.db import Database
from data.live_store import LiveStore, open_live_store
from data.mqtt_client import KEEPALIVE, BrokerAddress, broker_address, make_client
from data.vitals import (
    DeadLetterRow,
    DeviceDirectory,
    drop_expired_dead_letters,
    insert_dead_letters,
    insert_samples,
    sample_row,
)
from domain.vitals_contract import (
    MAX_SKEW_MS,
    DeviceStatus,
    Rejected,
    VitalsMessage,
    parse_status,
    parse_topic,
    parse_vitals,
)

if TYPE_CHECKING:
    from config import Settings
    from data.runtime import Runtime

__all__ = [
    "STATUS_TOPIC",
    "STREAM_MAXLEN",
    "VITALS_TOPIC",
    "Consumer",
    "ConsumerMetrics",
    "Sample",
    "StatusUpdate",
    "main",
]

log = logging.getLogger(__name__)

VITALS_TOPIC = "pantau/v1/+/vitals/+"
STATUS_TOPIC = "pantau/v1/+/status/+"
SHARE_GROUP = "pantau"
STREAM_MAXLEN = 3600
DEFAULT_CLIENT_ID = "pantau-consumer"
DEFAULT_RETENTION_DAYS = 30
SNAPSHOT_KEY = "pantau:consumer:{client_id}"

_VITALS, _STATUS, _REJECTED, _IGNORED = 0, 1, 2, 3
_BACKOFF_MIN, _BACKOFF_MAX = 0.2, 10.0
# The live store is tried again at least every 2 s while it is away: the screens are dark until it is back.
_LIVE_BACKOFF_MIN, _LIVE_BACKOFF_MAX = 0.5, 2.0
_LOG_EVERY = 30.0  # seconds between repeats of the same error in the log
_TICK_NAMES = {"news2_complete": "complete", "news2_risk": "risk"}
_LIVE_REORDER_MAX = 64
_LIVE_WAIT = 5.0  # seconds a writer waits for room in the live stage before it skips a batch there
_HELD_BATCHES = 4  # batches a writer keeps taking (and showing) while the database is away


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class Sample:
    """A stored (new) sample and the bed its monitor was assigned to when it arrived."""

    msg: VitalsMessage
    bed: str
    ward: str
    bed_id: int


@dataclass(slots=True)
class StatusUpdate:
    """A device status message (retained topic) resolved to its bed."""

    status: DeviceStatus
    bed: str
    ward: str
    bed_id: int
    received: int


@dataclass(slots=True)
class _Resolved:
    """A chunk's messages at their beds: rows to store, what goes live, and what is refused."""

    rows: list[tuple]
    samples: list[Sample]
    updates: list[StatusUpdate]
    letters: list[DeadLetterRow]
    doubtful: bool  # a device was not found while the directory could not reload: ask again before refusing


class _Chunk:
    """Messages taken from the queue together: one numbered batch of the live stage, handed to it once, then
    stored (with the chunks taken while the database was away) and acknowledged."""

    __slots__ = ("handed", "items", "resolved", "seq")

    def __init__(self, seq: int, items: list[tuple]) -> None:
        self.seq = seq
        self.items = items
        self.handed = False
        self.resolved: _Resolved | None = None


class _WriterState:
    """What one writer thread keeps between batches: its own database connection, and the chunks not yet stored."""

    __slots__ = ("chunks", "conn")

    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.chunks: list[_Chunk] = []


def _unknown_device(item: tuple, device_id: str) -> DeadLetterRow:
    return DeadLetterRow(item[6], item[4], device_id, "unknown_device", "no open device_assignment", item[5])


SampleHook = Callable[[list[Sample], int], None]
StatusHook = Callable[[list[StatusUpdate], int], None]
Enricher = Callable[[list[Sample], int], Mapping[str, Mapping[str, Any]]]


# ------------------------------------------------------------------------------------------------- metrics


class ConsumerMetrics:
    """Counters of one consumer; written by its threads, read by snapshots (plain ints under the GIL)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.started_at = _now_ms()
        self.received = 0
        self.stored = 0
        self.duplicates = 0
        self.acked = 0
        self.batches = 0
        self.dead_lettered: Counter[str] = Counter()
        self.db_errors = 0
        self.live_errors = 0
        self.live_skipped = 0
        self.hook_errors = 0
        self.maintenance_errors = 0
        self.statuses = 0
        self.lag_ms: int | None = None
        self.last_batch_at: int | None = None
        self.last_error: str | None = None
        self.last_error_at: int | None = None
        self.connected = False
        self.subscribed = False
        self.subscribed_at: int | None = None
        self.commit_seconds: deque[float] = deque(maxlen=2048)
        self.batch_sizes: deque[int] = deque(maxlen=2048)
        self.gaps = GapCounters()

    def error(self, message: str) -> None:
        self.last_error = message[:500]
        self.last_error_at = _now_ms()

    @staticmethod
    def _quantile(values: Sequence[float], q: float) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def snapshot(self, queued: int = 0) -> dict[str, Any]:
        commits = list(self.commit_seconds)
        p50, p99 = self._quantile(commits, 0.5), self._quantile(commits, 0.99)
        sizes = list(self.batch_sizes)
        return {
            "client_id": self.client_id,
            "started_at": self.started_at,
            "updated_at": _now_ms(),
            "connected": self.connected,
            "subscribed": self.subscribed,
            "subscribed_at": self.subscribed_at,
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "acked": self.acked,
            "dead_lettered": dict(self.dead_lettered),
            "dead_lettered_total": sum(self.dead_lettered.values()),
            "statuses": self.statuses,
            "batches": self.batches,
            "batch_size_avg": round(sum(sizes) / len(sizes), 1) if sizes else None,
            "commit_ms_p50": round(p50 * 1000, 2) if p50 is not None else None,
            "commit_ms_p99": round(p99 * 1000, 2) if p99 is not None else None,
            "lag_ms": self.lag_ms,
            "last_batch_at": self.last_batch_at,
            "queued": queued,
            "db_errors": self.db_errors,
            "live_errors": self.live_errors,
            "live_skipped": self.live_skipped,
            "hook_errors": self.hook_errors,
            "maintenance_errors": self.maintenance_errors,
            "gaps": self.gaps.as_dict(),
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }

    def prometheus(self, queued: int = 0) -> str:
        """The counters in the Prometheus text exposition format (version 0.0.4)."""
        label = f'client_id="{_prom_escape(self.client_id)}"'
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str, value: float | None, extra: str = "") -> None:
            if not any(line.startswith(f"# TYPE pantau_consumer_{name} ") for line in lines):
                lines.append(f"# HELP pantau_consumer_{name} {help_text}")
                lines.append(f"# TYPE pantau_consumer_{name} {kind}")
            if value is not None:
                labels = f"{label},{extra}" if extra else label
                lines.append(f"pantau_consumer_{name}{{{labels}}} {value}")

        metric("received_total", "counter", "MQTT messages received.", self.received)
        metric("stored_total", "counter", "Samples newly stored.", self.stored)
        metric("duplicates_total", "counter", "Redelivered samples already stored.", self.duplicates)
        metric("acked_total", "counter", "Messages acknowledged to the broker after commit.", self.acked)
        metric("statuses_total", "counter", "Device status messages applied.", self.statuses)
        metric("batches_total", "counter", "Committed batches.", self.batches)
        for reason, count in sorted(self.dead_lettered.items()) or [("none", 0)]:
            metric("dead_lettered_total", "counter", "Messages refused, by reason.", count, f'reason="{reason}"')
        metric("db_errors_total", "counter", "Failed database attempts (retried).", self.db_errors)
        metric("live_errors_total", "counter", "Failed live store writes.", self.live_errors)
        metric("live_skipped_total", "counter", "Batches not written to the live store.", self.live_skipped)
        metric("hook_errors_total", "counter", "Exceptions raised by hooks.", self.hook_errors)
        metric("maintenance_errors_total", "counter", "Failed maintenance runs.", self.maintenance_errors)
        g = self.gaps
        metric("gaps_detected_total", "counter", "Sequence gaps found (jumps in a device's seq).", g.detected)
        for state, count in (("filled", g.filled), ("unfillable", g.unfillable)):
            metric("gaps_closed_total", "counter", "Gap records closed, by outcome.", count, f'state="{state}"')
        metric("gap_resend_requests_total", "counter", "Resend commands sent to monitors.", g.requests)
        for state, count in (
            ("missing", g.samples_missing),
            ("filled", g.samples_filled),
            ("unfillable", g.samples_unfillable),
        ):
            metric(
                "gap_samples_total",
                "counter",
                "Sequence numbers found missing, filled, given up.",
                count,
                f'state="{state}"',
            )
        commits = list(self.commit_seconds)
        for q in (0.5, 0.99):
            value = self._quantile(commits, q)
            metric("commit_seconds", "summary", "Batch commit time.", value, f'quantile="{q}"')
        metric(
            "lag_seconds",
            "gauge",
            "Now minus device ts of the newest stored sample.",
            None if self.lag_ms is None else self.lag_ms / 1000,
        )
        metric("queued", "gauge", "Messages received and not yet processed.", queued)
        metric("connected", "gauge", "1 while connected to the broker.", int(self.connected))
        metric(
            "last_error_timestamp_seconds",
            "gauge",
            "Time of the last error.",
            None if self.last_error_at is None else self.last_error_at / 1000,
        )
        return "\n".join(lines) + "\n"


def _prom_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Throttled:
    """Logs an error the first time and then at most every ``_LOG_EVERY`` seconds per key."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def __call__(self, key: str, message: str, **extra: Any) -> None:
        now = time.monotonic()
        if now - self._last.get(key, float("-inf")) >= _LOG_EVERY:
            self._last[key] = now
            log.warning(message, extra=extra)


# ------------------------------------------------------------------------------------------------ consumer


class Consumer:
    """MQTT vitals consumer; see the module docstring. ``start()`` / ``stop(timeout)`` / ``run_forever()``.

    Give either ``runtime`` (a :class:`data.runtime.Runtime`: its database, live store and broker are used and
    not closed) or ``db`` and ``live`` (likewise not closed), or nothing (they are opened from ``settings`` and
    closed by :meth:`stop`).

    ``on_samples``: callables ``(samples, now_ms)`` run after each batch is in the live store and before it is
    stored (a database outage never delays them), with the samples newer than any before of their device, each
    once. ``on_status``: likewise for device status messages. ``enrichers``: callables ``(samples, now_ms) ->
    {bed: {field: value}}`` run before the live store write; their fields go into ``pantau:latest:{bed}`` and
    the bed's ticks (``news2``, ``news2_complete``, ``news2_risk`` become ``news2``, ``complete``, ``risk`` in a
    tick). An exception in any of them is logged and counted, and never stops ingestion.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        runtime: Runtime | None = None,
        db: Database | None = None,
        live: LiveStore | None = None,
        broker: BrokerAddress | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        on_samples: SampleHook | Sequence[SampleHook] | None = None,
        on_status: StatusHook | Sequence[StatusHook] | None = None,
        enrichers: Enricher | Sequence[Enricher] | None = None,
        retention_days: int | None = None,
        shared_subscription: bool | None = None,
        batch_size: int = 500,
        batch_wait: float = 0.05,
        batch_idle: float = 0.002,
        directory_ttl: float = 30.0,
        maintenance_interval: float = 300.0,
        snapshot_interval: float = 5.0,
        metrics_port: int | None = None,
        metrics_host: str = "127.0.0.1",
        max_skew_ms: int = MAX_SKEW_MS,
        stream_maxlen: int = STREAM_MAXLEN,
        fast_paho: bool = True,
        writers: int = 2,
        sequence_gaps: bool = True,
        gap_policy: GapPolicy | None = None,
        max_pending: int = 4 * 500,
    ) -> None:
        if not client_id:
            raise ValueError("the consumer needs a fixed client id (persistent session)")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if writers < 1:
            raise ValueError("writers must be at least 1")
        self.settings = settings
        self.client_id = client_id
        self._owns_services = runtime is None and db is None and live is None
        if runtime is not None:
            db, live, broker = runtime.db, runtime.live, broker or runtime.broker
        self.db: Database | None = db
        self.live: LiveStore | None = live
        self.broker = broker
        self.on_samples = _as_list(on_samples)
        self.on_status = _as_list(on_status)
        self.enrichers = _as_list(enrichers)
        if retention_days is None:
            retention_days = getattr(settings, "vitals_retention_days", None) or DEFAULT_RETENTION_DAYS
        self.retention_days = int(retention_days)
        self.dead_letter_retention_days = int(getattr(settings, "dead_letter_retention_days", 14))
        if shared_subscription is None:
            shared_subscription = bool(getattr(settings, "mqtt_shared_subscription", False))
        if shared_subscription and settings.embedded_broker:
            log.warning("the embedded broker has no shared subscriptions; subscribing normally")
            shared_subscription = False
        self.shared_subscription = shared_subscription
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.batch_idle = batch_idle
        self.directory_ttl = directory_ttl
        self.maintenance_interval = maintenance_interval
        self.snapshot_interval = snapshot_interval
        self.metrics_port = metrics_port
        self.metrics_host = metrics_host
        self.max_skew_ms = max_skew_ms
        self.stream_maxlen = stream_maxlen
        self.fast_paho = fast_paho
        self.writers = writers
        self.sequence_gaps = sequence_gaps
        self.gap_policy = gap_policy
        self.gaps: SequenceGaps | None = None
        self.metrics = ConsumerMetrics(client_id)
        self.ready = threading.Event()  # set once subscribed (SUBACK)

        # Bounded: when the writers fall behind (database slow or down), paho's thread waits here and stops
        # reading the socket, so the broker holds the rest (back-pressure) instead of this process's memory. Room
        # for twice Mosquitto's max_inflight_messages (1000): QoS 1 at the usual rate never waits.
        self._queue: queue.Queue[tuple] = queue.Queue(maxsize=max_pending)
        self._live_queue: queue.Queue[tuple | None] = queue.Queue(maxsize=16)
        self._client: mqtt.Client | None = None
        self._directory: DeviceDirectory | None = None
        self._generation = 0
        self._accepting = False
        self._stop_writer = threading.Event()
        self._stop_housekeeping = threading.Event()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._writer_threads: list[threading.Thread] = []
        self._live_thread: threading.Thread | None = None
        self._housekeeping_thread: threading.Thread | None = None
        self._collect_lock = threading.Lock()
        self._metrics_lock = threading.Lock()
        self._next_seq = 0
        self._http: ThreadingHTTPServer | None = None
        self._started = False
        self._lock = threading.Lock()
        self._throttled = _Throttled()
        self._live_down_until = 0.0
        self._live_backoff = _LIVE_BACKOFF_MIN
        self._gate = LiveGate()  # the live stage's: only the newest sample of each device becomes live
        self._live_skips: set[int] = set()  # batch numbers skipped by the live stage (it was too far behind)
        self._latest_ts: dict[str, int] = {}  # bed -> newest ts written to its latest hash (this process)
        self._nibp: dict[str, dict[str, Any]] = {}  # bed -> newest cuff reading (for ticks)
        self._last_commit_ok = True
        self._stop_deadline = float("inf")

    # ------------------------------------------------------------------------------------------ lifecycle

    @property
    def topics(self) -> list[str]:
        prefix = f"$share/{SHARE_GROUP}/" if self.shared_subscription else ""
        return [prefix + VITALS_TOPIC, prefix + STATUS_TOPIC]

    def start(self) -> None:
        """Open the services, start the threads and connect (in the background; reconnects by itself)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            if self.db is None:
                self.db = Database(self.settings.database_url)
            if self.live is None:
                self.live = open_live_store(self.settings.redis_url)
            if self.broker is None:
                self.broker = broker_address(self.settings)
            self._directory = DeviceDirectory(self.db.engine, ttl=self.directory_ttl)
            if self.sequence_gaps:
                self.gaps = SequenceGaps(
                    self.db.engine,
                    self._publish_command,
                    default_site=self.settings.site_code,
                    policy=self.gap_policy,
                    counters=self.metrics.gaps,
                )
                self.gaps.start()
            self._accepting = True
            self._writer_threads = [
                self._spawn(f"writer-{n}", lambda: self._writer_loop(_WriterState())) for n in range(self.writers)
            ]
            self._live_thread = self._spawn("live", self._live_loop)
            self._housekeeping_thread = self._spawn("housekeeping", self._housekeeping_loop)
            if self.metrics_port is not None:
                self._start_http()
            client = make_client(self.broker, self.client_id, persistent=True, on_connect=self._on_connect)
            if self.fast_paho:
                client = speed_up(client)
            client.manual_ack_set(True)  # PUBACK only after the batch is committed
            client.on_message = self._on_message
            if isinstance(client, FastClient):
                client.on_publish_fast = self._receive
            client.on_subscribe = self._on_subscribe
            previous_disconnect = client.on_disconnect

            def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
                self.metrics.connected = self.metrics.subscribed = False
                self.ready.clear()
                if previous_disconnect is not None:
                    previous_disconnect(c, userdata, flags, reason, props)

            client.on_disconnect = on_disconnect
            self._client = client
            client.connect_async(self.broker.host, self.broker.port, KEEPALIVE)
            client.loop_start()
            log.info(
                "consumer started",
                extra={"client_id": self.client_id, "broker": self.broker.url, "topics": self.topics},
            )

    def _spawn(self, name: str, target: Callable[[], None]) -> threading.Thread:
        thread = threading.Thread(target=target, name=f"pantau-consumer-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until connected and subscribed; True when it is."""
        return self.ready.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop receiving, commit and acknowledge what was received, disconnect; idempotent."""
        with self._lock:
            if not self._started or self._stopped.is_set():
                return
            deadline = time.monotonic() + timeout
            self._stop_deadline = deadline - min(1.0, timeout / 4)  # leave time to disconnect
            self._accepting = False  # later messages are not acked: the broker keeps them for next time
            self._stop_writer.set()
            for writer in self._writer_threads:
                writer.join(max(0.1, deadline - time.monotonic()))
                if writer.is_alive():
                    log.warning("consumer stopped before a batch was committed; the broker will redeliver it")
            self._live_queue_put(None, deadline)  # after the writers: their last batches are in the queue
            if self._live_thread is not None:
                self._live_thread.join(max(0.1, deadline - time.monotonic()))
            if self.gaps is not None:
                self.gaps.stop(max(0.1, deadline - time.monotonic()))
            self._stop_housekeeping.set()
            if self._housekeeping_thread is not None:
                self._housekeeping_thread.join(max(0.1, deadline - time.monotonic()))
            client = self._client
            if client is not None:
                with contextlib.suppress(Exception):
                    client.disconnect()  # after the PUBACKs already queued
                client.loop_stop()
            self.metrics.connected = False
            with contextlib.suppress(Exception):
                self._write_snapshot()
            if self._http is not None:
                self._http.shutdown()
                self._http.server_close()
            if self._owns_services:
                if self.live is not None:
                    self.live.close()
                if self.db is not None:
                    self.db.dispose()
            self._stopped.set()
            log.info("consumer stopped", extra=self.metrics.snapshot())

    def run_forever(self, stop_event: threading.Event | None = None, timeout: float = 10.0) -> None:
        """Start, block until ``stop_event`` is set (or :meth:`stop` is called elsewhere), then stop."""
        self.start()
        waiter = stop_event or threading.Event()
        while not waiter.is_set() and not self._stopped.is_set():
            waiter.wait(0.5)
        self.stop(timeout)

    # --------------------------------------------------------------------------------------------- MQTT side

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.metrics.error(f"mqtt connect refused: {reason}")
            return
        self._generation += 1  # acks of messages from an older connection are not sent (they come again)
        self.metrics.connected = True
        # Always (re)subscribe: harmless with a session present, necessary when the broker lost it.
        client.subscribe([(topic, 1) for topic in self.topics])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            self.metrics.error(f"subscription refused: {reasons}")
            log.error("mqtt subscription refused", extra={"reasons": [str(r) for r in reasons]})
            return
        self.metrics.subscribed = True
        self.metrics.subscribed_at = _now_ms()
        self.ready.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        """paho's callback (stock client): runs on paho's network thread."""
        self._receive(message._topic, message.payload, message.mid, message.qos)

    def _receive(self, raw_topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        """Parse, validate and queue one message, on paho's network thread. Never raises (that would end
        paho's loop): anything unexpected is logged and the message is left unacknowledged."""
        try:
            if not self._accepting:
                return  # stopping: not acked, so the broker delivers it again next time
            received = time.time_ns() // 1_000_000
            self.metrics.received += 1
            generation = self._generation
            try:
                topic = raw_topic.decode()
            except UnicodeDecodeError:
                topic = repr(raw_topic)[:256]
                exc = Rejected("bad_topic", "topic is not UTF-8")
                self._enqueue((_REJECTED, mid, qos, generation, topic, payload, received, exc))
                return
            try:
                kind = parse_topic(topic)[1]
                if kind == "vitals":
                    parsed = parse_vitals(topic, payload, received, max_skew_ms=self.max_skew_ms)
                    self._enqueue((_VITALS, mid, qos, generation, topic, payload, received, parsed))
                elif kind == "status":
                    status = parse_status(topic, payload)
                    code = _STATUS if status is not None else _IGNORED
                    self._enqueue((code, mid, qos, generation, topic, payload, received, status))
                else:
                    raise Rejected("bad_topic", f"unexpected topic {topic[:200]}")
            except Rejected as exc:
                self._enqueue((_REJECTED, mid, qos, generation, topic, payload, received, exc))
        except Exception as exc:  # pragma: no cover - defensive: keep paho's thread alive
            self.metrics.error(f"receive: {exc!r}")
            log.exception("consumer could not queue a message")

    def _publish_command(self, topic: str, payload: bytes) -> bool:
        """Send a command to a monitor (QoS 1); False when not connected (nothing is queued then)."""
        client = self._client
        if client is None or not self.metrics.connected:
            return False
        return client.publish(topic, payload, qos=1).rc == mqtt.MQTT_ERR_SUCCESS

    def _enqueue(self, item: tuple) -> None:
        """Hand a message to the writers, waiting while their queue is full (back-pressure); a message that
        arrives while stopping is dropped unacknowledged, so the broker delivers it again."""
        while True:
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                if not self._accepting:
                    return
                self._throttled("full", "consumer queue full; reading from the broker paused until it drains")

    def _ack(self, acks: list[tuple[int, int, int]]) -> None:
        """Acknowledge, to the broker, the messages of a committed batch that came on this connection (those of
        an older connection are being delivered again anyway)."""
        client = self._client
        if client is None:
            return
        generation = self._generation
        mids = [mid for mid, qos, gen in acks if qos == 1 and gen == generation]
        if isinstance(client, FastClient):
            client.ack_many(mids)
        else:
            for mid in mids:
                client.ack(mid, 1)
        for mid, qos, gen in acks:
            if qos == 2 and gen == generation:  # never with our QoS 1 subscriptions; complete the flow anyway
                client.ack(mid, 2)
        with self._metrics_lock:
            self.metrics.acked += len(mids)

    # ------------------------------------------------------------------------------------------------ writer

    def _collect(self, timeout: float) -> list[tuple]:
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait
        get_nowait = self._queue.get_nowait
        while len(batch) < self.batch_size:
            try:
                batch.append(get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:  # a short idle gap means nothing more is on its way: commit now
                batch.append(self._queue.get(timeout=min(remaining, self.batch_idle)))
            except queue.Empty:
                break
        return batch

    def _take(self, state: _WriterState, timeout: float) -> bool:
        """Take the next batch from the queue as a numbered chunk (the live stage keeps this order)."""
        with self._collect_lock:
            items = self._collect(timeout)
            if not items:
                return False
            chunk = _Chunk(self._next_seq, items)
            self._next_seq += 1
        state.chunks.append(chunk)
        return True

    def _writer_loop(self, state: _WriterState) -> None:
        """One writer: take the next batch, hand it to the live stage, store it, ack it; retried until stored."""
        backoff = _BACKOFF_MIN
        while True:
            if not state.chunks:
                if self._stop_writer.is_set() and self._queue.empty():
                    break
                if not self._take(state, 0.1):
                    continue
            try:
                self._process(state)
            except Exception as exc:
                with self._metrics_lock:
                    self.metrics.db_errors += 1
                self.metrics.error(f"database: {exc!r}"[:500])
                self._last_commit_ok = False
                held = sum(len(chunk.items) for chunk in state.chunks)
                self._throttled("db", "consumer cannot store the batch, will retry", error=str(exc)[:300], batch=held)
                if self._back_off(state, backoff) and not self._retry_while_stopping():
                    log.warning("consumer stopping with an uncommitted batch; the broker will deliver it again")
                    for chunk in state.chunks:
                        if not chunk.handed:  # nothing to show, but the live stage waits for its number
                            self._hand_to_live(chunk.seq, [], [], self._stop_deadline)
                    break  # nothing of it was acked: the broker keeps it all for the next start
                backoff = min(backoff * 2, _BACKOFF_MAX)
                continue
            self._last_commit_ok = True
            backoff = _BACKOFF_MIN
            state.chunks = []
        conn, state.conn = state.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _back_off(self, state: _WriterState, seconds: float) -> bool:
        """Wait before the next store attempt; what arrives meanwhile still goes to the live stage at once (up to
        ``_HELD_BATCHES`` batches held by this writer, then the broker holds the rest). True when stopping."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            if self._stop_writer.is_set():
                return True
            if sum(len(chunk.items) for chunk in state.chunks) >= _HELD_BATCHES * self.batch_size:
                return self._stop_writer.wait(left)
            if self._take(state, min(left, 0.1)):
                with contextlib.suppress(Exception):  # no bed map yet (database away): _process retries it
                    self._hand_over(state.chunks[-1])
        return self._stop_writer.is_set()

    def _retry_while_stopping(self) -> bool:
        """While stopping, another try is worth it only before the stop deadline and if the database answers."""
        if time.monotonic() >= self._stop_deadline:
            return False
        time.sleep(0.2)
        return self.db is not None and self.db.ping()

    def _resolve(self, items: list[tuple], *, confirm: bool) -> _Resolved:
        """Validated messages -> rows, samples and status updates at their beds, and dead letters. ``confirm``:
        a device the directory could not check (database away) is asked for again instead of refused."""
        assert self._directory is not None
        vitals: list[tuple] = []
        statuses: list[tuple] = []
        letters: list[DeadLetterRow] = []
        for item in items:
            kind = item[0]
            if kind == _VITALS:
                vitals.append(item)
            elif kind == _STATUS:
                statuses.append(item)
            elif kind == _REJECTED:
                exc: Rejected = item[7]
                letters.append(DeadLetterRow(item[6], item[4], exc.device_id, exc.reason, exc.detail, item[5]))
        ids = {item[7].device_id for item in vitals}
        ids.update(item[7].device_id for item in statuses)
        beds = self._directory.lookup_many(ids, confirm_misses=confirm) if ids else {}
        resolved = _Resolved([], [], [], letters, len(beds) < len(ids) and self._directory.failing)
        for item in vitals:
            msg: VitalsMessage = item[7]
            ref = beds.get(msg.device_id)
            if ref is None:
                letters.append(_unknown_device(item, msg.device_id))
                continue
            resolved.rows.append(sample_row(msg, ref.bed_id))
            resolved.samples.append(Sample(msg, ref.bed, ref.ward, ref.bed_id))
        for item in statuses:
            status: DeviceStatus = item[7]
            ref = beds.get(status.device_id)
            if ref is None:
                letters.append(_unknown_device(item, status.device_id))
                continue
            resolved.updates.append(StatusUpdate(status, ref.bed, ref.ward, ref.bed_id, item[6]))
        return resolved

    def _hand_over(self, chunk: _Chunk) -> None:
        """Resolve a chunk and give it to the live stage, once, before it is stored."""
        if chunk.resolved is None:
            chunk.resolved = self._resolve(chunk.items, confirm=False)
        self._hand_to_live(chunk.seq, chunk.resolved.samples, chunk.resolved.updates, time.monotonic() + _LIVE_WAIT)
        chunk.handed = True

    def _process(self, state: _WriterState) -> None:
        """Hand the writer's chunks to the live stage (those not handed yet), then store them (samples and dead
        letters in one transaction), then ack them. Raises (nothing acked) when the database fails."""
        assert self.db is not None
        for chunk in state.chunks:
            if not chunk.handed:
                self._hand_over(chunk)
        rows = []
        samples: list[Sample] = []
        letters: list[DeadLetterRow] = []
        seen: set[tuple[str, int, int]] = set()
        in_batch_duplicates = 0
        updates = 0
        for chunk in state.chunks:
            resolved = chunk.resolved
            assert resolved is not None
            if resolved.doubtful:  # about to refuse a device the directory could not check
                resolved = chunk.resolved = self._resolve(chunk.items, confirm=True)
            letters += resolved.letters
            updates += len(resolved.updates)
            for row, sample in zip(resolved.rows, resolved.samples, strict=True):
                m = sample.msg
                key = (m.device_id, m.ts, m.seq)
                if key in seen:
                    in_batch_duplicates += 1
                    continue
                seen.add(key)
                rows.append(row)
                samples.append(sample)

        started = time.perf_counter()
        try:
            conn = self._connection(state)
            try:
                with conn.begin():
                    new = insert_samples(conn, rows)
                    insert_dead_letters(conn, letters)
            except Exception:
                self._drop_connection(state)
                raise
        except Exception as exc:
            if _transient(exc) or not rows:
                raise
            new, letters = self._store_one_by_one(rows, samples, letters, exc)
        elapsed = time.perf_counter() - started

        items = [item for chunk in state.chunks for item in chunk.items]
        self._ack([(item[1], item[2], item[3]) for item in items])  # only now: all of it is durable (or refused)

        now = _now_ms()
        m = self.metrics
        with self._metrics_lock:
            m.commit_seconds.append(elapsed)
            m.batch_sizes.append(len(items))
            m.batches += 1
            m.stored += new
            m.duplicates += len(rows) - new + in_batch_duplicates
            for letter in letters:
                m.dead_lettered[letter.reason] += 1
            m.statuses += updates
            if samples:
                m.lag_ms = now - max(s.msg.ts for s in samples)
            m.last_batch_at = now

    def _connection(self, state: _WriterState) -> Connection:
        """The writer's own connection, kept between batches (no pool check-out and ping per batch)."""
        if state.conn is None:
            assert self.db is not None
            state.conn = self.db.engine.connect()
        return state.conn

    def _drop_connection(self, state: _WriterState) -> None:
        conn, state.conn = state.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()
            with contextlib.suppress(Exception):
                conn.close()

    def _store_one_by_one(
        self, rows: list[tuple], samples: list[Sample], letters: list[DeadLetterRow], error: Exception
    ) -> tuple[int, list[DeadLetterRow]]:
        """A batch the database refuses for a reason other than being unreachable: store row by row and
        dead-letter the rows it refuses (``store_error``), so one bad row cannot block ingestion for ever."""
        assert self.db is not None
        log.warning("batch refused by the database, storing row by row", extra={"error": str(error)[:300]})
        new = 0
        letters = list(letters)
        for row, sample in zip(rows, samples, strict=True):
            try:
                with self.db.engine.begin() as conn:
                    new += insert_samples(conn, [row])
            except Exception as exc:
                if _transient(exc):
                    raise
                m = sample.msg
                letters.append(
                    DeadLetterRow(
                        m.received,
                        f"pantau/v1/{m.site}/vitals/{m.device_id}",
                        m.device_id,
                        "store_error",
                        str(exc)[:500],
                        orjson.dumps(m._asdict()),
                    )
                )
        with self.db.engine.begin() as conn:
            insert_dead_letters(conn, letters)
        return new, letters

    # -------------------------------------------------------------------------------------------- live stage

    def _hand_to_live(self, seq: int, samples: list[Sample], updates: list[StatusUpdate], deadline: float) -> None:
        """Batch ``seq`` to the live stage; skipped there (stored, not shown) when it is still full at
        ``deadline``, so storage never waits long for the screens."""
        if not self._live_queue_put((seq, samples, updates, _now_ms()), deadline):
            self._live_skips.add(seq)
            with self._metrics_lock:
                self.metrics.live_skipped += 1

    def _live_queue_put(self, item: tuple | None, deadline: float) -> bool:
        while True:
            try:
                self._live_queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                if time.monotonic() >= deadline:
                    return False
                if self._live_thread is None or not self._live_thread.is_alive():
                    return False

    def _live_loop(self) -> None:
        """Live store + hooks, batch by batch in the order the batches were taken from the broker."""
        expected = 0
        waiting: dict[int, tuple] = {}
        while True:
            item = self._live_queue.get()
            if item is None:
                for seq in sorted(waiting):  # stopping: whatever was stored, in order
                    self._live_batch(*waiting.pop(seq)[1:])
                return
            waiting[item[0]] = item
            if len(waiting) > _LIVE_REORDER_MAX:  # a batch that never came (cannot happen; be safe)
                expected = min(waiting)
            while expected in waiting or expected in self._live_skips:
                item = waiting.pop(expected, None)
                if item is None:
                    self._live_skips.discard(expected)
                else:
                    self._live_batch(*item[1:])
                expected += 1

    def _live_batch(self, samples: list[Sample], updates: list[StatusUpdate], now: int) -> None:
        """One batch, before it is stored: its newest samples (:class:`LiveGate`) and status updates to the live
        store and the hooks, then every sample to the sequence-gap tracker."""
        fresh = self._gate.admit(samples)
        if fresh or updates:
            try:
                self._write_live(fresh, updates, now)
            except Exception as exc:  # pragma: no cover - _write_live handles its own errors
                self.metrics.live_errors += 1
                log.exception("live stage failed", extra={"error": str(exc)})
        for hook in self.on_samples if fresh else ():
            self._call(hook, fresh, now)
        for hook in self.on_status if updates else ():
            self._call(hook, updates, now)
        if self.gaps is not None and samples:
            self._call(self._observe_gaps, samples, now)

    def _observe_gaps(self, samples: list[Sample], now: int) -> None:
        """Received samples, in arrival order, to the sequence-gap tracker (:mod:`bridge.sequence_gaps`)."""
        assert self.gaps is not None
        self.gaps.observe(Observed(s.msg.site, s.msg.device_id, s.msg.seq, s.msg.ts, s.bed_id) for s in samples)

    def _call(self, hook: Callable[[Any, int], Any], batch: list, now: int) -> Any:
        try:
            return hook(batch, now)
        except Exception as exc:
            self.metrics.hook_errors += 1
            self.metrics.error(f"hook {getattr(hook, '__qualname__', hook)!r}: {exc!r}")
            self._throttled(f"hook:{id(hook)}", "consumer hook failed", hook=repr(hook), error=repr(exc)[:300])
            return None

    def _write_live(self, samples: list[Sample], updates: list[StatusUpdate], now: int) -> None:
        assert self.live is not None
        extra: dict[str, Mapping[str, Any]] = {}
        for enricher in self.enrichers if samples else ():
            result = self._call(enricher, samples, now)
            if result:
                for bed, fields in result.items():
                    extra.setdefault(bed, {})
                    extra[bed] = {**extra[bed], **fields}
        if time.monotonic() < self._live_down_until:
            self.metrics.live_skipped += 1
            return
        batch = self.live.batch()
        latest: dict[str, dict[str, Any]] = {}
        latest_ts = self._latest_ts
        maxlen = self.stream_maxlen
        for s in samples:
            m = s.msg
            bed = s.bed
            stream: dict[str, Any] = {"ts": m.ts}
            tick: dict[str, Any] = {"t": "v", "bed": bed, "ts": m.ts, "rx": m.received}
            for name in ("hr", "spo2", "rr", "temp"):
                value = getattr(m, name)
                if value is not None:
                    stream[name] = tick[name] = value
            nibp = None
            if m.has_nibp:  # a new cuff reading: replaces the whole previous one
                nibp = {"sbp": m.sbp, "dbp": m.dbp, "map": m.map, "nibp_ts": m.ts}
                for name in ("sbp", "dbp", "map"):
                    if nibp[name] is not None:
                        stream[name] = nibp[name]
            batch.append_stream(f"pantau:vitals:{bed}", stream, maxlen)
            if m.ts < latest_ts.get(bed, 0):
                continue  # an older sample arriving late: history only, the screen already shows newer
            latest_ts[bed] = m.ts
            values = latest.setdefault(bed, {})
            values.update(
                bed=bed,
                ward=s.ward,
                device=m.device_id,
                ts=m.ts,
                rx=m.received,
                hr=m.hr,
                spo2=m.spo2,
                rr=m.rr,
                temp=m.temp,
            )
            if nibp is not None:
                values.update(nibp)  # a part the cuff did not measure is deleted, not left from the last one
                self._nibp[bed] = {k: v for k, v in nibp.items() if v is not None}
            tick.update(self._nibp.get(bed, ()))
            st = {}
            if m.ecg_status is not None:
                values["st_ecg"] = st["ecg"] = m.ecg_status
            if m.spo2_status is not None:
                values["st_spo2"] = st["spo2"] = m.spo2_status
            if st:
                tick["st"] = st
            fields = extra.get(bed)
            if fields:
                values.update(fields)
                for name, value in fields.items():
                    if value is None:
                        continue
                    name = _TICK_NAMES.get(name, name)
                    tick[name] = value == "1" or value is True if name == "complete" else value
            batch.publish(f"pantau:ward:{s.ward}", orjson.dumps(tick).decode())
        for u in updates:
            status = u.status
            values = latest.setdefault(u.bed, {})
            values.update(bed=u.bed, ward=u.ward, device=status.device_id, online=int(bool(status.online)))
            message: dict[str, Any] = {"t": "s", "bed": u.bed, "online": bool(status.online)}
            if status.battery is not None:
                values["battery"] = status.battery
                message["battery"] = status.battery
            batch.publish(f"pantau:ward:{u.ward}", orjson.dumps(message).decode())
        for bed, values in latest.items():
            batch.set_latest(f"pantau:latest:{bed}", values)
        try:
            batch.execute()
        except Exception as exc:
            self.metrics.live_errors += 1
            self.metrics.error(f"live store: {exc!r}"[:500])
            self._live_down_until = time.monotonic() + self._live_backoff
            self._live_backoff = min(self._live_backoff * 2, _LIVE_BACKOFF_MAX)
            self._throttled("live", "live store write failed; samples are stored, screens lag", error=str(exc)[:300])
            return
        self._live_backoff = _LIVE_BACKOFF_MIN

    # ------------------------------------------------------------------------------------------ housekeeping

    def run_maintenance(self, now: datetime | None = None) -> dict[str, Any]:
        """Partitions ahead, rollups of the last closed minutes, expired partitions, gaps and dead letters dropped."""
        assert self.db is not None
        now = now or datetime.now(UTC)
        engine = self.db.engine
        created = partitions.ensure_partitions(engine, days_ahead=2, today=now.date())
        lookback = max(timedelta(seconds=2 * self.maintenance_interval), timedelta(minutes=10))
        rollups = partitions.refresh_rollups(engine, now - lookback, now)
        dropped = partitions.drop_expired(engine, self.retention_days, today=now.date())
        gaps = vital_gaps.drop_closed(engine, now - timedelta(days=self.retention_days))
        letters = drop_expired_dead_letters(engine, self.dead_letter_retention_days, now)
        return {
            "partitions_created": created,
            "rollup_rows": rollups,
            "partitions_dropped": dropped,
            "gaps_dropped": gaps,
            "dead_letters_dropped": letters,
        }

    def _housekeeping_loop(self) -> None:
        next_maintenance = time.monotonic()
        while True:
            if time.monotonic() >= next_maintenance:
                try:
                    result = self.run_maintenance()
                    log.info("consumer maintenance done", extra=result)
                    next_maintenance = time.monotonic() + self.maintenance_interval
                except Exception as exc:
                    self.metrics.maintenance_errors += 1
                    self.metrics.error(f"maintenance: {exc!r}"[:500])
                    self._throttled("maintenance", "consumer maintenance failed, will retry", error=str(exc)[:300])
                    next_maintenance = time.monotonic() + min(30.0, self.maintenance_interval)
            with contextlib.suppress(Exception):
                self._write_snapshot()
            if self._stop_housekeeping.wait(self.snapshot_interval):
                return

    def _write_snapshot(self) -> None:
        if self.live is None:
            return
        snapshot = self.metrics.snapshot(self._queue.qsize())
        key = SNAPSHOT_KEY.format(client_id=self.client_id)
        try:
            self.live.set_latest(key, {"json": orjson.dumps(snapshot).decode(), "updated": snapshot["updated_at"]})
        except Exception as exc:
            self.metrics.live_errors += 1
            self._throttled("snapshot", "consumer snapshot not written", error=str(exc)[:300])

    def healthy(self) -> bool:
        """Connected to the broker and the last database attempt succeeded."""
        return self.metrics.connected and self._last_commit_ok

    # --------------------------------------------------------------------------------------------- metrics

    def _start_http(self) -> None:
        consumer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/metrics":
                    body = consumer.metrics.prometheus(consumer._queue.qsize()).encode()
                    self._reply(200, body, "text/plain; version=0.0.4; charset=utf-8")
                elif self.path.split("?")[0] == "/healthz":
                    ok = consumer.healthy()
                    body = orjson.dumps({"ok": ok, **consumer.metrics.snapshot(consumer._queue.qsize())})
                    self._reply(200 if ok else 503, body, "application/json")
                else:
                    self._reply(404, b"not found\n", "text/plain")

            def _reply(self, code: int, body: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._http = ThreadingHTTPServer((self.metrics_host, self.metrics_port or 0), Handler)
        self._http.daemon_threads = True
        self.metrics_port = self._http.server_address[1]
        self._spawn("metrics", self._http.serve_forever)
        log.info("consumer metrics listening", extra={"host": self.metrics_host, "port": self.metrics_port})


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if callable(value):
        return [value]
    return list(value)


def _transient(exc: BaseException) -> bool:
    """True for errors that mean "the database is unreachable or busy" (retry the same batch later)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig or exc
    if isinstance(exc, DisconnectionError):
        return True
    if isinstance(exc, sqlite3.OperationalError | sqlite3.InterfaceError):
        return True
    try:
        import psycopg2
    except ImportError:  # pragma: no cover
        psycopg2 = None  # type: ignore[assignment]
    if psycopg2 is not None and isinstance(
        exc, psycopg2.OperationalError | psycopg2.InterfaceError | psycopg2.InternalError
    ):
        return True
    if isinstance(exc, SQLAlchemyError) and not isinstance(exc, DBAPIError):
        return True  # pool timeouts and the like
    return isinstance(exc, OSError | TimeoutError)


# ------------------------------------------------------------------------------------------------- process


def main(argv: list[str] | None = None) -> int:
    """``python -m bridge.consumer``: run until SIGTERM/SIGINT, then flush, ack, disconnect, exit 0."""
    from config import configure_logging, load_settings

    parser = argparse.ArgumentParser(prog="python -m bridge.consumer", description=__doc__.split("\n")[0])
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="fixed MQTT client id (persistent session)")
    parser.add_argument("--metrics-port", type=int, default=None, help="serve /metrics and /healthz on this port")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address for the metrics server")
    parser.add_argument("--shared", action="store_true", help="use a shared subscription ($share/pantau/...)")
    parser.add_argument("--retention-days", type=int, default=None, help="days of raw samples to keep")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-wait", type=float, default=0.05, help="seconds a batch may wait to fill")
    parser.add_argument("--maintenance-interval", type=float, default=300.0, help="seconds between upkeep runs")
    parser.add_argument("--no-clinical", action="store_true", help="store and show only: no NEWS2, no alarms")
    args = parser.parse_args(argv)

    from bridge.clinical import ClinicalPipeline
    from data.runtime import build_runtime

    settings = load_settings()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings)
    clinical = None if args.no_clinical else ClinicalPipeline(runtime.db, runtime.live)
    consumer = Consumer(
        settings,
        runtime=runtime,
        on_samples=[clinical.on_samples] if clinical else None,
        on_status=[clinical.on_status] if clinical else None,
        client_id=args.client_id,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        shared_subscription=True if args.shared else None,
        retention_days=args.retention_days,
        batch_size=args.batch_size,
        batch_wait=args.batch_wait,
        maintenance_interval=args.maintenance_interval,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("consumer stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if clinical:
        clinical.start()
    try:
        consumer.run_forever(stop)
    finally:
        if clinical:
            clinical.stop()
        runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
