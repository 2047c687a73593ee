"""Transport faults of one device's numerics stream: drop, duplicate, reorder (seeded, pure).

Each vitals message consumes exactly three uniform draws from the device's own fault generator, whatever
happens to it, so enabling one fault never changes another's choices nor any payload.

* **drop** ``P``: the message is not published (its ``seq`` is used up: the consumer sees a gap);
* **duplicate** ``P``: the message is published twice, back to back (same bytes);
* **reorder** ``P``: the message is held back and published right after the next published message.

Reboots and clock skew change the payload itself and live in :mod:`iot_sim.devices`; the burst after a
reconnect is a transport matter and lives in :mod:`iot_sim.simulator`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["FaultLine", "Faults"]

_BLOCK = 256


@dataclass(frozen=True)
class Faults:
    """Fault settings for a whole simulation.

    ``clock_skew`` maps a device id or bed code to seconds added to that device's clock; ``reboot_every``
    restarts each device's ``seq`` at 0 every so many device seconds (staggered per device).
    """

    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    clock_skew: Mapping[str, float] = field(default_factory=dict)
    reboot_every: float | None = None

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "reorder"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1, not {value!r}")
        if self.reboot_every is not None and not (self.reboot_every > 0 and math.isfinite(self.reboot_every)):
            raise ValueError(f"reboot_every must be a positive number of seconds, not {self.reboot_every!r}")
        for key, value in self.clock_skew.items():
            if not math.isfinite(value):
                raise ValueError(f"clock skew of {key} must be a finite number of seconds")

    @property
    def transport(self) -> bool:
        """True when any of drop / duplicate / reorder is on."""
        return self.drop > 0 or self.duplicate > 0 or self.reorder > 0


class FaultLine:
    """Applies drop/duplicate/reorder to one device's messages, in order."""

    def __init__(self, faults: Faults, rng: np.random.Generator) -> None:
        self.faults = faults
        self._rng = rng
        self._draws = np.empty((0, 3))
        self._row = 0
        self._held: list[bytes] | None = None
        self.dropped = 0
        self.duplicated = 0
        self.reordered = 0

    def _next_draw(self) -> tuple[float, float, float]:
        if self._row >= len(self._draws):
            self._draws = self._rng.random((_BLOCK, 3))
            self._row = 0
        u = self._draws[self._row]
        self._row += 1
        return float(u[0]), float(u[1]), float(u[2])

    def apply(self, payload: bytes) -> list[bytes]:
        """What to publish now for ``payload`` (possibly nothing, possibly several messages)."""
        f = self.faults
        u_drop, u_dup, u_reorder = self._next_draw()
        if u_drop < f.drop:
            self.dropped += 1
            return []
        copies = [payload, payload] if u_dup < f.duplicate else [payload]
        if len(copies) == 2:
            self.duplicated += 1
        if self._held is not None:
            out = copies + self._held
            self._held = None
            return out
        if u_reorder < f.reorder:
            self._held = copies
            self.reordered += 1
            return []
        return copies

    def flush(self) -> list[bytes]:
        """The held-back message, if any (at shutdown nothing is lost to reordering)."""
        held, self._held = self._held, None
        return held or []
