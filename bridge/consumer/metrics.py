"""The consumer's counters, their Prometheus text, and the small HTTP server that serves them
(``/metrics``, Prometheus text format 0.0.4; ``/healthz``, JSON with 200 or 503)."""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from bridge.health_http import HealthHttpServer, Reply
from bridge.sequence_gaps import GapCounters
from domain.clock import now_ms

__all__ = ["ConsumerMetrics", "MetricsServer"]

log = logging.getLogger(__name__)

_CLINICAL_COUNTERS = (  # bridge.clinical_worker.ClinicalWorker.counters
    ("evaluated", "Clinical steps and status updates evaluated."),
    ("late", "Samples of a clinical step already evaluated, skipped."),
    ("repeated", "Clinical entries read again after a takeover, already handled by the previous owner."),
    ("broken", "Clinical stream entries that could not be read."),
    ("lost", "Clinical partitions taken by another evaluator after a stall."),
)


class ConsumerMetrics:
    """Counters of one consumer; written by its threads, read by snapshots (plain ints under the GIL; ``lock``
    where several threads add to the same counter)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.lock = threading.Lock()
        self.started_at = now_ms()
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
        self.fed = 0  # samples and status updates handed to the durable clinical feed
        self.feed_errors = 0
        self.clinical: Callable[[], dict[str, Any]] | None = None  # the in-process evaluator's counters
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
        self.last_error_at = now_ms()

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
            "updated_at": now_ms(),
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
            "fed": self.fed,
            "feed_errors": self.feed_errors,
            "clinical": self.clinical() if self.clinical is not None else None,
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
        metric("fed_total", "counter", "Samples and status updates fed to the clinical streams.", self.fed)
        metric("feed_errors_total", "counter", "Failed appends to the clinical streams (retried).", self.feed_errors)
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
        if self.clinical is not None:  # the in-process evaluator
            clinical = self.clinical()
            metric("clinical_partitions_owned", "gauge", "Clinical partitions held.", len(clinical["owned"]))
            metric(
                "clinical_feeders",
                "gauge",
                "Consumers announced as feeding the clinical streams.",
                len(clinical["feeders"]),
            )
            for name, help_text in _CLINICAL_COUNTERS:
                metric(f"clinical_{name}_total", "counter", help_text, clinical[name])
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


class MetricsServer(HealthHttpServer):
    """``/metrics`` and ``/healthz`` of one consumer on ``host:port`` (port 0: any free one, then :attr:`port`),
    served by a daemon thread from :meth:`start` until :meth:`stop`."""

    def __init__(
        self,
        metrics: ConsumerMetrics,
        queued: Callable[[], int],
        healthy: Callable[[], bool],
        host: str,
        port: int,
    ) -> None:
        self.metrics = metrics
        self._queued = queued
        self._healthy = healthy
        routes = {"/metrics": self._prometheus, "/healthz": self._health}
        super().__init__(routes, host, port, "pantau-consumer-metrics")

    def _prometheus(self) -> Reply:
        return 200, self.metrics.prometheus(self._queued()).encode(), "text/plain; version=0.0.4; charset=utf-8"

    def _health(self) -> Reply:
        ok = self._healthy()
        return 200 if ok else 503, orjson.dumps({"ok": ok, **self.metrics.snapshot(self._queued())}), "application/json"
