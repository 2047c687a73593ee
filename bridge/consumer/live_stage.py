"""The live stage: each batch, before it is stored, to the live store and the hooks, once, in the order the
batches were taken from the broker.

Only samples newer than the newest already shown of their device (:class:`LiveGate`) go live (so a redelivered
or resent sample is stored but never shown again): to the enrichers, to the live store in one round trip
(:func:`fill_live_batch`), and to the sample hooks (the clinical step); status updates likewise. Then every
sample of the batch goes to the sequence-gap tracker. A writer that cannot hand a batch over within its
deadline has it skipped here (stored, not shown), so storage never waits long for the screens.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.consumer.live_gate import LiveGate
from bridge.consumer.live_ticks import BedMemory, fill_live_batch
from bridge.consumer.messages import Sample, StatusUpdate
from bridge.consumer.metrics import ConsumerMetrics
from bridge.consumer.options import ConsumerHooks
from bridge.consumer.throttled_log import ThrottledLog
from bridge.sequence_gaps import Observed, SequenceGaps
from data.live_store import LiveStore
from domain.clock import now_ms

__all__ = ["LiveStage"]

log = logging.getLogger(__name__)

_REORDER_MAX = 64
# The live store is tried again at least every 2 s while it is away: the screens are dark until it is back.
_BACKOFF_MIN, _BACKOFF_MAX = 0.5, 2.0


@dataclass(slots=True)
class _Handed:
    """Batch number ``seq`` as a writer handed it over, at ``now`` (epoch ms)."""

    seq: int
    samples: list[Sample]
    updates: list[StatusUpdate]
    now: int


class LiveStage:
    """One thread from :meth:`start` until :meth:`finish`; writers call :meth:`hand` for every batch number."""

    def __init__(
        self,
        live: LiveStore,
        hooks: ConsumerHooks,
        metrics: ConsumerMetrics,
        *,
        gaps: SequenceGaps | None,
        stream_maxlen: int,
    ) -> None:
        self.live = live
        self.hooks = hooks
        self.metrics = metrics
        self.gaps = gaps
        self.stream_maxlen = stream_maxlen
        self._queue: queue.Queue[_Handed | None] = queue.Queue(maxsize=16)
        self._skips: set[int] = set()  # batch numbers not handed over in time
        self._gate = LiveGate()
        self._memory = BedMemory()
        self._down_until = 0.0
        self._backoff = _BACKOFF_MIN
        self._thread: threading.Thread | None = None
        self._throttled = ThrottledLog(log)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="pantau-consumer-live", daemon=True)
        self._thread.start()

    def hand(self, seq: int, samples: list[Sample], updates: list[StatusUpdate], deadline: float) -> None:
        """Batch ``seq`` to the live stage; skipped there (stored, not shown) when it is still full at
        ``deadline`` (``time.monotonic()``)."""
        if not self._put(_Handed(seq, samples, updates, now_ms()), deadline):
            self._skips.add(seq)
            with self.metrics.lock:
                self.metrics.live_skipped += 1

    def finish(self, deadline: float) -> None:
        """Show what was handed over (after the writers stopped), then end the thread."""
        self._put(None, deadline)
        if self._thread is not None:
            self._thread.join(max(0.1, deadline - time.monotonic()))

    def _put(self, item: _Handed | None, deadline: float) -> bool:
        while True:
            try:
                self._queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                if time.monotonic() >= deadline:
                    return False
                if self._thread is None or not self._thread.is_alive():
                    return False

    def _loop(self) -> None:
        """Batch by batch, in the order the batches were taken from the broker."""
        expected = 0
        waiting: dict[int, _Handed] = {}
        while True:
            item = self._queue.get()
            if item is None:
                for seq in sorted(waiting):  # stopping: whatever was stored, in order
                    self._show(waiting.pop(seq))
                return
            waiting[item.seq] = item
            if len(waiting) > _REORDER_MAX:  # a batch that never came (cannot happen; be safe)
                expected = min(waiting)
            while expected in waiting or expected in self._skips:
                handed = waiting.pop(expected, None)
                if handed is None:
                    self._skips.discard(expected)
                else:
                    self._show(handed)
                expected += 1

    def _show(self, handed: _Handed) -> None:
        """One batch: its newest samples and its status updates to the live store and the hooks, then every
        sample to the sequence-gap tracker."""
        samples, updates, now = handed.samples, handed.updates, handed.now
        fresh = self._gate.admit(samples)
        if fresh or updates:
            try:
                self._write(fresh, updates, now)
            except Exception as exc:  # pragma: no cover - _write handles its own errors
                self.metrics.live_errors += 1
                log.exception("live stage failed", extra={"error": str(exc)})
        for hook in self.hooks.on_samples if fresh else ():
            self._call(hook, fresh, now)
        for hook in self.hooks.on_status if updates else ():
            self._call(hook, updates, now)
        if self.gaps is not None and samples:
            self._call(self._observe_gaps, samples, now)

    def _observe_gaps(self, samples: list[Sample], now: int) -> None:
        """Received samples, in arrival order, to the sequence-gap tracker (:mod:`bridge.sequence_gaps`)."""
        assert self.gaps is not None
        self.gaps.observe(Observed(s.msg.site, s.msg.device_id, s.msg.seq, s.msg.ts, s.bed_id) for s in samples)

    def _call(self, hook: Callable[[Any, int], Any], batch: list, now: int) -> Any:
        """A hook's result; an exception is counted and logged (throttled), and never stops the stage."""
        try:
            return hook(batch, now)
        except Exception as exc:
            self.metrics.hook_errors += 1
            self.metrics.error(f"hook {getattr(hook, '__qualname__', hook)!r}: {exc!r}")
            self._throttled(f"hook:{id(hook)}", "consumer hook failed", hook=repr(hook), error=repr(exc)[:300])
            return None

    def _write(self, samples: list[Sample], updates: list[StatusUpdate], now: int) -> None:
        """Enrich, then write to the live store in one round trip; while it is away, skip batches with back-off."""
        extra: dict[str, Any] = {}
        for enricher in self.hooks.enrichers if samples else ():
            result = self._call(enricher, samples, now)
            if result:
                for bed, fields in result.items():
                    extra.setdefault(bed, {})
                    extra[bed] = {**extra[bed], **fields}
        if time.monotonic() < self._down_until:
            self.metrics.live_skipped += 1
            return
        batch = self.live.batch()
        fill_live_batch(batch, samples, updates, extra, self._memory, self.stream_maxlen)
        try:
            batch.execute()
        except Exception as exc:
            self.metrics.live_errors += 1
            self.metrics.error(f"live store: {exc!r}"[:500])
            self._down_until = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, _BACKOFF_MAX)
            self._throttled("live", "live store write failed; samples are stored, screens lag", error=str(exc)[:300])
            return
        self._backoff = _BACKOFF_MIN
