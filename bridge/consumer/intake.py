"""The consumer's intake: each MQTT message parsed and validated on paho's network thread, then queued for the
writers, who take it in batches.

The queue is bounded: when the writers fall behind (database slow or down), paho's thread waits here and stops
reading the socket, so the broker holds the rest (back-pressure) instead of this process's memory.
"""

from __future__ import annotations

import logging
import queue
import time

from bridge.consumer.messages import Kind, Received
from bridge.consumer.metrics import ConsumerMetrics
from bridge.consumer.throttled_log import ThrottledLog
from domain.vitals_contract import Rejected, parse_status, parse_topic, parse_vitals

__all__ = ["Intake"]

log = logging.getLogger(__name__)


class Intake:
    """Received messages waiting for a writer. :attr:`accepting` is False before start and while stopping (a
    message is then left unacknowledged, so the broker delivers it again); :attr:`generation` counts the
    broker connections (a message is acknowledged only on the connection it came on)."""

    def __init__(self, metrics: ConsumerMetrics, *, max_pending: int, max_skew_ms: int) -> None:
        self.metrics = metrics
        self.max_skew_ms = max_skew_ms
        self.queue: queue.Queue[Received] = queue.Queue(maxsize=max_pending)
        self.accepting = False
        self.generation = 0
        self._throttled = ThrottledLog(log)

    def receive(self, raw_topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        """Parse, validate and queue one message, on paho's network thread. Never raises (that would end
        paho's loop): anything unexpected is logged and the message is left unacknowledged."""
        try:
            if not self.accepting:
                return  # stopping: not acked, so the broker delivers it again next time
            received = time.time_ns() // 1_000_000
            self.metrics.received += 1
            generation = self.generation
            try:
                topic = raw_topic.decode()
            except UnicodeDecodeError:
                topic = repr(raw_topic)[:256]
                exc = Rejected("bad_topic", "topic is not UTF-8")
                self._put(Received(Kind.REJECTED, mid, qos, generation, topic, payload, received, exc))
                return
            try:
                kind = parse_topic(topic)[1]
                if kind == "vitals":
                    parsed = parse_vitals(topic, payload, received, max_skew_ms=self.max_skew_ms)
                    self._put(Received(Kind.VITALS, mid, qos, generation, topic, payload, received, parsed))
                elif kind == "status":
                    status = parse_status(topic, payload)
                    code = Kind.STATUS if status is not None else Kind.IGNORED
                    self._put(Received(code, mid, qos, generation, topic, payload, received, status))
                else:
                    raise Rejected("bad_topic", f"unexpected topic {topic[:200]}")
            except Rejected as exc:
                self._put(Received(Kind.REJECTED, mid, qos, generation, topic, payload, received, exc))
        except Exception as exc:  # pragma: no cover - defensive: keep paho's thread alive
            self.metrics.error(f"receive: {exc!r}")
            log.exception("consumer could not queue a message")

    def _put(self, item: Received) -> None:
        """Queue a message, waiting while the queue is full (back-pressure); a message that arrives while
        stopping is dropped unacknowledged, so the broker delivers it again."""
        while True:
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                if not self.accepting:
                    return
                self._throttled("full", "consumer queue full; reading from the broker paused until it drains")

    def batch(self, timeout: float, *, max_size: int, wait: float, idle: float) -> list[Received]:
        """The next batch: the first message within ``timeout`` seconds (else none), then more until ``max_size``,
        or ``wait`` seconds, or an ``idle`` gap with nothing arriving (nothing more is on its way: commit now)."""
        try:
            first = self.queue.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + wait
        get_nowait = self.queue.get_nowait
        while len(batch) < max_size:
            try:
                batch.append(get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self.queue.get(timeout=min(remaining, idle)))
            except queue.Empty:
                break
        return batch

    def pending(self) -> int:
        """Messages received and not yet taken by a writer."""
        return self.queue.qsize()

    def empty(self) -> bool:
        """True when no received message waits for a writer."""
        return self.queue.empty()
