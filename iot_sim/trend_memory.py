"""A monitor's trend memory: the numerics of the last hour, kept compactly, so a ``resend`` command can be
answered with the very same payloads (as bedside monitors keep trend memory).

A sample is 34 bytes in a numpy ring (not a 250-byte JSON string): 200 monitors x 1 Hz x 1 h is ~25 MB. The
payload is rebuilt by :func:`encode`, the one function that also builds it the first time, so a resent
payload is byte for byte the original (every value is stored exactly: integers, tenths of a degree,
hundredths of a signal quality index).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import orjson

__all__ = ["Numerics", "TrendMemory", "encode"]

_NONE = -1
_STATES = ("ok", "off", "noisy")
_STATE_CODE = {name: i for i, name in enumerate(_STATES)}
_DTYPE = np.dtype(
    [
        ("seq", "<i8"),
        ("ts", "<i8"),
        ("hr", "<i2"),
        ("spo2", "<i2"),
        ("rr", "<i2"),
        ("sbp", "<i2"),
        ("dbp", "<i2"),
        ("map", "<i2"),
        ("temp", "<i2"),  # tenths of a degree
        ("sqi_ecg", "u1"),  # hundredths
        ("sqi_spo2", "u1"),
        ("st_ecg", "u1"),
        ("st_spo2", "u1"),
    ]
)
_INTS = ("hr", "spo2", "rr", "sbp", "dbp", "map")


class Numerics(NamedTuple):
    """One numerics sample as the monitor measured it (``None`` = not measured)."""

    seq: int
    ts: int
    hr: int | None
    spo2: int | None
    rr: int | None
    sbp: int | None
    dbp: int | None
    map: int | None
    temp: float  # one decimal
    sqi_ecg: float  # two decimals
    sqi_spo2: float
    st_ecg: str
    st_spo2: str


def encode(device_id: str, n: Numerics) -> bytes:
    """The vitals payload of DESIGN.md §3 for ``n``."""
    return orjson.dumps(
        {
            "v": 1,
            "device_id": device_id,
            "seq": n.seq,
            "ts": n.ts,
            "hr": n.hr,
            "spo2": n.spo2,
            "rr": n.rr,
            "sbp": n.sbp,
            "dbp": n.dbp,
            "map": n.map,
            "temp": n.temp,
            "sqi": {"ecg": n.sqi_ecg, "spo2": n.sqi_spo2},
            "status": {"ecg": n.st_ecg, "spo2": n.st_spo2},
        }
    )


class TrendMemory:
    """A ring of the last ``capacity`` samples of one monitor."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("trend memory needs room for at least one sample")
        self._ring = np.zeros(capacity, dtype=_DTYPE)
        self._next = 0  # where the next sample goes
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def capacity(self) -> int:
        return len(self._ring)

    @property
    def nbytes(self) -> int:
        return self._ring.nbytes

    def append(self, n: Numerics) -> None:
        """Keep ``n``, forgetting the oldest sample when full."""
        ints = [_NONE if value is None else value for value in (n.hr, n.spo2, n.rr, n.sbp, n.dbp, n.map)]
        self._ring[self._next] = (
            n.seq,
            n.ts,
            *ints,
            round(n.temp * 10),
            round(n.sqi_ecg * 100),
            round(n.sqi_spo2 * 100),
            _STATE_CODE[n.st_ecg],
            _STATE_CODE[n.st_spo2],
        )
        self._next = (self._next + 1) % len(self._ring)
        self._count = min(self._count + 1, len(self._ring))

    def between(self, from_seq: int, to_seq: int) -> list[Numerics]:
        """The kept samples with ``from_seq <= seq <= to_seq``, oldest first (both runs of the counter if the
        monitor restarted meanwhile: the ``ts`` tells them apart)."""
        size = len(self._ring)
        order = np.arange(self._next - self._count, self._next) % size
        rows = self._ring[order]
        rows = rows[(rows["seq"] >= from_seq) & (rows["seq"] <= to_seq)]
        return [self._numerics(row) for row in rows]

    @staticmethod
    def _numerics(row: np.void) -> Numerics:
        ints = [None if int(row[name]) == _NONE else int(row[name]) for name in _INTS]
        return Numerics(
            int(row["seq"]),
            int(row["ts"]),
            *ints,
            int(row["temp"]) / 10,
            int(row["sqi_ecg"]) / 100,
            int(row["sqi_spo2"]) / 100,
            _STATES[int(row["st_ecg"])],
            _STATES[int(row["st_spo2"])],
        )
