"""Hybrid logical clocks (Kulkarni, Demirbas et al., "Logical Physical Clocks", 2014) for facility sync.

A timestamp is ``(wall_ms, counter, node)``: ``wall_ms`` follows the physical clock (epoch milliseconds UTC) but
never goes back, ``counter`` orders events within one millisecond, ``node`` (the site) breaks the last tie, so
two distinct events never compare equal and every site orders them the same way.

* :func:`tick` stamps a local event (a change written at this site);
* :func:`receive` merges a remote timestamp into ours, so what we write next is newer than anything we have seen;
* a remote clock more than ``max_skew_ms`` ahead of our physical clock raises :class:`ClockSkew` instead of
  dragging our clock (and every later write of ours) into the future: one site with a wrong clock must not win
  every conflict for hours.

Both functions take the physical time as an argument and read no clock: the caller passes ``domain.clock``'s.
The string form (``Hlc.encode``) and the bytes form (``Hlc.to_bytes``) are fixed-width up to the node, so they
sort exactly like the values: a database column or index of them orders writes correctly.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

MAX_WALL_MS = 2**48 - 1  # year 10889: 12 hex digits
MAX_COUNTER = 2**32 - 1  # 8 hex digits; reached only by 4 billion events within one millisecond
MAX_SKEW_MS = 60_000
"""Default bound on how far a remote clock may be ahead of ours."""

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Ids on the sync path — sites (a clock's node), links, records, changes — like DESIGN.md §3's site ids; ASCII,
so an encoded clock's bytes sort like its text. Use with ``fullmatch``."""
_TEXT = re.compile(r"([0-9a-f]{12})\.([0-9a-f]{8})\.(.+)")
_PACKED = struct.Struct(">QI")  # wall (8 bytes, big-endian) then counter (4 bytes): byte order = numeric order


class ClockError(ValueError):
    """A timestamp out of range, a malformed encoding, or a counter that would overflow."""


class ClockSkew(ClockError):
    """A remote timestamp is further ahead of our physical clock than the accepted skew."""

    def __init__(self, remote: Hlc, now_ms: int, max_skew_ms: int) -> None:
        super().__init__(
            f"clock of {remote.node} is {remote.wall_ms - now_ms} ms ahead of ours (at most {max_skew_ms} accepted)"
        )
        self.remote = remote
        self.ahead_ms = remote.wall_ms - now_ms


@dataclass(frozen=True, order=True, slots=True)
class Hlc:
    """One hybrid-logical-clock timestamp; ordered by wall time, then counter, then node."""

    wall_ms: int
    counter: int
    node: str

    def __post_init__(self) -> None:
        if isinstance(self.wall_ms, bool) or not isinstance(self.wall_ms, int) or not 0 <= self.wall_ms <= MAX_WALL_MS:
            raise ClockError(f"wall time {self.wall_ms!r} is outside 0…{MAX_WALL_MS} ms")
        if isinstance(self.counter, bool) or not isinstance(self.counter, int) or not 0 <= self.counter <= MAX_COUNTER:
            raise ClockError(f"counter {self.counter!r} is outside 0…{MAX_COUNTER}")
        if not isinstance(self.node, str) or not ID_PATTERN.fullmatch(self.node):
            raise ClockError(f"node {self.node!r} must be 1-64 letters, digits, '_' or '-'")

    @classmethod
    def zero(cls, node: str) -> Hlc:
        """The clock of a site that has seen nothing yet."""
        return cls(0, 0, node)

    def encode(self) -> str:
        """``<wall:12 hex>.<counter:8 hex>.<node>``, e.g. ``019a2b3c4d5e.00000000.PKM-01``; sorts like the value."""
        return f"{self.wall_ms:012x}.{self.counter:08x}.{self.node}"

    @classmethod
    def decode(cls, text: str) -> Hlc:
        """The inverse of :meth:`encode`; anything else raises :class:`ClockError`."""
        match = _TEXT.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ClockError(f"not an encoded clock: {text!r}")
        return cls(int(match[1], 16), int(match[2], 16), match[3])

    def to_bytes(self) -> bytes:
        """Twelve bytes of wall time and counter, then the node in ASCII; sorts like the value."""
        return _PACKED.pack(self.wall_ms, self.counter) + self.node.encode("ascii")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Hlc:
        """The inverse of :meth:`to_bytes`; anything else raises :class:`ClockError`."""
        if len(raw) <= _PACKED.size:
            raise ClockError(f"an encoded clock has more than {_PACKED.size} bytes, not {len(raw)}")
        wall_ms, counter = _PACKED.unpack_from(raw)
        try:
            node = raw[_PACKED.size :].decode("ascii")
        except UnicodeDecodeError as exc:
            raise ClockError("the node of an encoded clock is not ASCII") from exc
        return cls(wall_ms, counter, node)


def _next(node: str, wall_ms: int, counter: int) -> Hlc:
    if counter > MAX_COUNTER:
        raise ClockError(f"counter overflow at {node} (wall {wall_ms} ms)")
    return Hlc(wall_ms, counter, node)


def tick(local: Hlc, now_ms: int) -> Hlc:
    """The timestamp of a new local event: later than ``local`` and, when our clock allows, equal to ``now_ms``."""
    if now_ms > local.wall_ms:
        return _next(local.node, now_ms, 0)
    return _next(local.node, local.wall_ms, local.counter + 1)


def receive(local: Hlc, remote: Hlc, now_ms: int, *, max_skew_ms: int = MAX_SKEW_MS) -> Hlc:
    """Our clock after receiving ``remote``: later than both ``local`` and ``remote``, on our node.

    Raises :class:`ClockSkew` (and leaves the caller's clock as it was) when ``remote`` is more than
    ``max_skew_ms`` ahead of ``now_ms``.
    """
    if remote.wall_ms - now_ms > max_skew_ms:
        raise ClockSkew(remote, now_ms, max_skew_ms)
    wall_ms = max(local.wall_ms, remote.wall_ms, now_ms)
    if wall_ms == local.wall_ms == remote.wall_ms:
        counter = max(local.counter, remote.counter) + 1
    elif wall_ms == local.wall_ms:
        counter = local.counter + 1
    elif wall_ms == remote.wall_ms:
        counter = remote.counter + 1
    else:
        counter = 0
    return _next(local.node, wall_ms, counter)
