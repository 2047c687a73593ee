"""The :class:`Consumer`: builds the stages, holds the MQTT connection, starts and stops it all."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt

from bridge.consumer.fast_receive import Acknowledge, receive
from bridge.consumer.housekeeping import Housekeeping
from bridge.consumer.intake import Intake
from bridge.consumer.live_stage import LiveStage
from bridge.consumer.messages import Received
from bridge.consumer.metrics import ConsumerMetrics, MetricsServer
from bridge.consumer.options import ConsumerHooks, ConsumerOptions
from bridge.consumer.pipeline import Writers
from bridge.consumer.presence import Presence
from bridge.sequence_gaps import SequenceGaps
from data import live_keys
from data.mqtt_client import KEEPALIVE, make_client
from data.mqtt_topics import ALL_STATUS, ALL_VITALS, shared
from data.runtime import Runtime
from data.vitals import DeviceDirectory
from domain.clock import now_ms

__all__ = ["Consumer"]

log = logging.getLogger(__name__)

UNSUBSCRIBE_WAIT_S = 5.0  # how long a consumer leaving the shared subscription waits for the broker's UNSUBACK
SESSION_QUIET_S = 0.5  # nothing more received for this long: the broker has handed over its session's queue


class Consumer:
    """MQTT vitals consumer (see :mod:`bridge.consumer`): ``start()`` / ``stop(timeout)`` / ``run_forever()``.

    It uses the runtime's database, live store and broker address, and never closes them (the runtime's owner
    does). ``hooks`` run for each batch before it is stored (:class:`ConsumerHooks`)."""

    def __init__(
        self,
        runtime: Runtime,
        options: ConsumerOptions | None = None,
        hooks: ConsumerHooks | None = None,
    ) -> None:
        options = options or ConsumerOptions()
        settings = runtime.settings
        self.runtime = runtime
        self.options = options
        self.hooks = hooks or ConsumerHooks()
        self.retention_days = (
            options.retention_days if options.retention_days is not None else settings.vitals_retention_days
        )
        shared = options.shared_subscription
        if shared is None:
            shared = settings.mqtt_shared_subscription
        if shared and settings.embedded_broker:
            log.warning("the embedded broker has no shared subscriptions; subscribing normally")
            shared = False
        self.shared_subscription = shared
        self.metrics = ConsumerMetrics(options.client_id)
        self.ready = threading.Event()  # set once subscribed (SUBACK)
        self.gaps: SequenceGaps | None = None
        # Monitor -> bed map; invalidate() after a pairing changes (the clinical step's ``adt`` listener).
        self.directory = DeviceDirectory(runtime.db.engine, ttl=options.directory_ttl)
        self._intake = Intake(self.metrics, max_pending=options.max_pending, max_skew_ms=options.max_skew_ms)
        self._housekeeping = Housekeeping(
            runtime.db,
            runtime.live,
            self.metrics,
            self._intake.pending,
            retention_days=self.retention_days,
            dead_letter_retention_days=settings.dead_letter_retention_days,
            maintenance_interval=options.maintenance_interval,
            snapshot_interval=options.snapshot_interval,
        )
        self._writers: Writers | None = None
        self._live_stage: LiveStage | None = None
        self._metrics_server: MetricsServer | None = None
        self._client: mqtt.Client | None = None
        self._acknowledge: Acknowledge | None = None
        self._presence: Presence | None = None
        self._leaving = False  # left the shared subscription: a reconnect must not subscribe again
        self._unsubscribed = threading.Event()
        self._started = False
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    @property
    def client_id(self) -> str:
        return self.options.client_id

    @property
    def metrics_port(self) -> int | None:
        """Where ``/metrics`` and ``/healthz`` listen once started (the port given, or the free one taken)."""
        return self._metrics_server.port if self._metrics_server is not None else self.options.metrics_port

    @property
    def topics(self) -> list[str]:
        patterns = [ALL_VITALS, ALL_STATUS]
        return [shared(p) for p in patterns] if self.shared_subscription else patterns

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the threads and connect (in the background; reconnects by itself)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            runtime, options = self.runtime, self.options
            if options.sequence_gaps:
                self.gaps = SequenceGaps(
                    runtime.db.engine,
                    self._publish_command,
                    default_site=runtime.settings.site_code,
                    policy=options.gap_policy,
                    counters=self.metrics.gaps,
                )
                self.gaps.start()
            self._live_stage = LiveStage(
                runtime.live, self.hooks, self.metrics, gaps=self.gaps, stream_maxlen=options.stream_maxlen
            )
            self._writers = Writers(
                runtime.db,
                self.directory,
                self._intake,
                self._live_stage,
                self._ack,
                self.metrics,
                options,
                self.hooks.on_stored,
            )
            self._intake.accepting = True
            self._writers.start()
            self._live_stage.start()
            self._housekeeping.start()
            if options.metrics_port is not None:
                self._metrics_server = MetricsServer(
                    self.metrics, self._intake.pending, self.healthy, options.metrics_host, options.metrics_port
                )
                self._metrics_server.start()
            client = make_client(runtime.broker, self.client_id, persistent=True, on_connect=self._on_connect)
            self._acknowledge = receive(client, self._intake.receive, fast=options.fast_receive)
            client.on_subscribe = self._on_subscribe
            client.on_unsubscribe = self._on_unsubscribe
            previous_disconnect = client.on_disconnect

            def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
                self.metrics.connected = self.metrics.subscribed = False
                self.ready.clear()
                if previous_disconnect is not None:
                    previous_disconnect(c, userdata, flags, reason, props)

            client.on_disconnect = on_disconnect
            self._client = client
            client.connect_async(runtime.broker.host, runtime.broker.port, KEEPALIVE)
            client.loop_start()
            announce_in = [*options.announce_in, *([live_keys.SHARED_CONSUMERS] if self.shared_subscription else [])]
            if announce_in:
                self._presence = Presence(runtime.live, self.client_id, self.is_subscribed, announce_in)
                self._presence.start()
            log.info(
                "consumer started",
                extra={"client_id": self.client_id, "broker": runtime.broker.url, "topics": self.topics},
            )

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until connected and subscribed; True when it is."""
        return self.ready.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Leave the shared subscription if another consumer stays in it (up to ``options.share_drain_s`` more),
        stop receiving, commit and acknowledge what was received, disconnect; idempotent."""
        with self._lock:
            if not self._started or self._stopped.is_set():
                return
            assert self._writers is not None and self._live_stage is not None
            if self.shared_subscription:
                self._leave_share(self._writers)
            deadline = time.monotonic() + timeout
            self._intake.accepting = False  # later messages are not acked: the broker keeps them for next time
            self._writers.stop(deadline, store_until=deadline - min(1.0, timeout / 4))  # leave time to disconnect
            self._live_stage.finish(deadline)  # after the writers: their last batches are handed over
            if self.gaps is not None:
                self.gaps.stop(max(0.1, deadline - time.monotonic()))
            self._housekeeping.stop(max(0.1, deadline - time.monotonic()))
            client = self._client
            if client is not None:
                with contextlib.suppress(Exception):
                    client.disconnect()  # after the PUBACKs already queued
                client.loop_stop()
            self.metrics.connected = False
            if self._presence is not None:
                self._presence.stop()
            with contextlib.suppress(Exception):
                self._housekeeping.write_snapshot()
            if self._metrics_server is not None:
                self._metrics_server.stop()
            self._stopped.set()
            log.info("consumer stopped", extra=self.metrics.snapshot())

    def _leave_share(self, writers: Writers) -> None:
        """Leave the shared subscription, and take what the broker had already queued for this consumer, if another
        consumer stays in it. Otherwise the broker would go on queuing this one's share of every monitor's samples
        in its session until it came back: late for the clinical step if it does, lost if it was scaled away. The
        last one stays, so the broker keeps every message for its return."""
        client, presence = self._client, self._presence
        if client is None or presence is None or not self.metrics.subscribed:
            return
        where = {"client_id": self.client_id}
        try:
            if not presence.leave_unless_alone(live_keys.SHARED_CONSUMERS):
                log.info("consumer stays in the shared subscription: it is the last one", extra=where)
                return
        except Exception as exc:
            log.warning(
                "consumer stays in the shared subscription: live store away", extra={**where, "error": repr(exc)[:300]}
            )
            return
        self._leaving = True
        self._unsubscribed.clear()
        result, _mid = client.unsubscribe(self.topics)
        if result != mqtt.MQTT_ERR_SUCCESS or not self._unsubscribed.wait(UNSUBSCRIBE_WAIT_S):
            log.warning("consumer could not leave the shared subscription; its session keeps its share", extra=where)
            return
        self.metrics.subscribed = False
        drained = self._take_session_queue(writers, time.monotonic() + self.options.share_drain_s)
        log.info("consumer left the shared subscription", extra={**where, "queue_taken": drained})

    def _take_session_queue(self, writers: Writers, until: float) -> bool:
        """Go on storing what the broker hands over until it has sent nothing for ``SESSION_QUIET_S`` while the
        writers held nothing (all of it stored and acknowledged, so nothing is held back for lack of a PUBACK).
        False when ``until`` came first."""
        last, quiet_since = self.metrics.received, time.monotonic()
        while (now := time.monotonic()) < until:
            received = self.metrics.received
            if received != last or not writers.settled():
                last, quiet_since = received, now
            elif now - quiet_since >= SESSION_QUIET_S:
                return True
            time.sleep(0.05)
        return False

    def run_forever(self, stop_event: threading.Event | None = None, timeout: float = 10.0) -> None:
        """Start, block until ``stop_event`` is set (or :meth:`stop` is called elsewhere), then stop."""
        self.start()
        waiter = stop_event or threading.Event()
        while not waiter.is_set() and not self._stopped.is_set():
            waiter.wait(0.5)
        self.stop(timeout)

    def is_subscribed(self) -> bool:
        """Connected and subscribed: the broker delivers to this consumer."""
        return self.metrics.subscribed

    def healthy(self) -> bool:
        """Connected to the broker and the last database attempt succeeded."""
        return self.metrics.connected and (self._writers is None or self._writers.last_commit_ok)

    def run_maintenance(self, now: datetime | None = None) -> dict[str, Any]:
        """Partitions, rollups and retention now (:meth:`Housekeeping.run_maintenance`)."""
        return self._housekeeping.run_maintenance(now)

    # --------------------------------------------------------------------------------------------- MQTT side

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.metrics.error(f"mqtt connect refused: {reason}")
            return
        self._intake.generation += 1  # acks of messages from an older connection are not sent (they come again)
        self.metrics.connected = True
        if self._leaving:
            return  # its session still hands over what it had queued
        # Always (re)subscribe: harmless with a session present, necessary when the broker lost it.
        client.subscribe([(topic, 1) for topic in self.topics])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            self.metrics.error(f"subscription refused: {reasons}")
            log.error("mqtt subscription refused", extra={"reasons": [str(r) for r in reasons]})
            return
        self.metrics.subscribed = True
        self.metrics.subscribed_at = now_ms()
        self.ready.set()

    def _on_unsubscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        self._unsubscribed.set()

    def _publish_command(self, topic: str, payload: bytes) -> bool:
        """Send a command to a monitor (QoS 1); False when not connected (nothing is queued then)."""
        client = self._client
        if client is None or not self.metrics.connected:
            return False
        return client.publish(topic, payload, qos=1).rc == mqtt.MQTT_ERR_SUCCESS

    def _ack(self, items: list[Received]) -> None:
        """Acknowledge, to the broker, the messages of a committed batch that came on this connection (those of
        an older connection are being delivered again anyway)."""
        client, acknowledge = self._client, self._acknowledge
        if client is None or acknowledge is None:
            return
        generation = self._intake.generation
        mids = [item.mid for item in items if item.qos == 1 and item.generation == generation]
        acknowledge(mids)
        for item in items:
            if item.qos == 2 and item.generation == generation:  # never with our QoS 1 subscriptions
                client.ack(item.mid, 2)
        with self.metrics.lock:
            self.metrics.acked += len(mids)
