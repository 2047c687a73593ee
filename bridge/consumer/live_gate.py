"""Which samples become live: only the newest of each device, once.

The consumer hands a batch to the live stage (live store, clinical hooks) before it is stored, so a database
outage never holds a screen or an alarm back. A batch is handed over once however often its store is retried,
but the same sample can still come again: the broker redelivers unacknowledged messages after a reconnect, a
monitor resends what a sequence gap asked for. :class:`LiveGate` keeps, per device, the newest ``(ts, seq)``
already handed over and lets through only samples newer than that (a monitor that restarts its counter has a
later ``ts``, so it passes). Older ones are stored and never shown as a live tick.
"""

from __future__ import annotations

from collections.abc import Iterable

from bridge.consumer.messages import Sample

__all__ = ["LiveGate"]


class LiveGate:
    """Per device, the newest ``(ts, seq)`` handed to the live stage. Not thread-safe: one caller (the live
    stage, in batch order)."""

    def __init__(self) -> None:
        self._newest: dict[str, tuple[int, int]] = {}

    def admit(self, samples: Iterable[Sample]) -> list[Sample]:
        """The samples, in order, that are newer than every one admitted before for their device."""
        newest = self._newest
        admitted = []
        for sample in samples:
            m = sample.msg
            key = (m.ts, m.seq)
            if key > newest.get(m.device_id, (-1, -1)):
                newest[m.device_id] = key
                admitted.append(sample)
        return admitted
