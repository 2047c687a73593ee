"""How one consumer runs (:class:`ConsumerOptions`) and what it calls for each batch (:class:`ConsumerHooks`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.consumer.messages import Enricher, SampleHook, StatusHook, StoredHook
from bridge.sequence_gaps import GapPolicy
from domain.vitals_contract import MAX_SKEW_MS

__all__ = ["DEFAULT_CLIENT_ID", "ConsumerHooks", "ConsumerOptions"]

DEFAULT_CLIENT_ID = "pantau-consumer"


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """Tuning of one consumer; ``None`` for ``retention_days`` and ``shared_subscription`` means "as the
    settings say"."""

    client_id: str = DEFAULT_CLIENT_ID  # fixed: the broker keeps its persistent session
    batch_size: int = 500  # messages per committed batch at most
    batch_wait: float = 0.05  # seconds a batch may wait to fill
    batch_idle: float = 0.002  # an idle gap this long ends the batch (nothing more is on its way)
    writers: int = 2  # writer threads, each with its own database connection
    # Received messages queued for the writers before paho's thread waits: twice Mosquitto's max_inflight_messages
    # (1000), so QoS 1 at the usual rate never waits.
    max_pending: int = 4 * 500
    directory_ttl: float = 30.0  # seconds the device -> bed map is trusted
    maintenance_interval: float = 300.0  # seconds between partition, rollup and retention runs
    snapshot_interval: float = 5.0  # seconds between counter snapshots in the live store
    metrics_port: int | None = None  # serve /metrics and /healthz here (0: any free port)
    metrics_host: str = "127.0.0.1"
    max_skew_ms: int = MAX_SKEW_MS  # a device clock further off is refused (dead letter)
    stream_maxlen: int = 3600  # entries of each bed's recent-values stream
    fast_receive: bool = True  # the cheaper MQTT receive path (bridge.consumer.fast_receive) where paho allows
    sequence_gaps: bool = True  # ask monitors to resend missing samples and record gaps
    gap_policy: GapPolicy | None = None
    retention_days: int | None = None  # days of raw samples kept
    shared_subscription: bool | None = None  # $share/pantau/... (several consumers)
    # Live-store sets it is announced in while subscribed (the clinical feeders), beside the shared consumers' own.
    announce_in: tuple[str, ...] = ()
    # Seconds a consumer leaving the shared subscription goes on taking what the broker had queued for it.
    share_drain_s: float = 15.0

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ValueError("the consumer needs a fixed client id (persistent session)")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.writers < 1:
            raise ValueError("writers must be at least 1")


@dataclass(frozen=True, slots=True)
class ConsumerHooks:
    """Callables run by the live stage for each batch, after it is in the live store and before it is stored (a
    database outage never delays them), with the samples newer than any before of their device, each once.

    ``on_samples``: ``(samples, now_ms)``; ``on_status``: ``(updates, now_ms)`` for device status messages;
    ``enrichers``: ``(samples, now_ms) -> {bed: {field: value}}``, run before the live store write, whose fields
    go into the bed's latest values and ticks (``news2``, ``news2_complete``, ``news2_risk`` become ``news2``,
    ``complete``, ``risk`` in a tick). An exception in any of them is logged and counted, and never stops
    ingestion. ``on_stored``: ``(samples, updates)`` of a batch as soon as it is resolved (like the live stage, not
    held up by a database outage), each batch once, and a batch is acknowledged to the broker only once they took
    it and it is stored (the durable feed of the clinical step, :mod:`bridge.clinical_feed`); while they raise the
    batch is held and tried again, unacknowledged."""

    on_samples: Sequence[SampleHook] = ()
    on_status: Sequence[StatusHook] = ()
    enrichers: Sequence[Enricher] = ()
    on_stored: Sequence[StoredHook] = ()
