"""The live store: newest values, short capped streams and pub/sub for the live screens.

One small interface, two backends chosen by URL (:func:`open_live_store`):

* ``redis://``, ``rediss://``, ``unix://`` -> :class:`RedisLiveStore` (production; shared by every process);
* ``memory://`` or empty -> :class:`MemoryLiveStore` (embedded demo; one process).

Both return every value as ``str`` so callers see the same types whichever backend runs. Keys are given whole
by callers, named in :mod:`data.live_keys` (``pantau:latest:ICU-01``); the store adds no prefix.

Memory URLs behave like a Redis server: within one process, every ``open_live_store("memory://")`` shares the
same data (``memory://NAME`` gives a separate named store), so the consumer thread and the web app of the
all-in-one process see each other's writes. ``MemoryLiveStore()`` constructed directly is private.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Protocol, Self, runtime_checkable
from urllib.parse import urlsplit

import orjson
import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import Script
from redis.retry import Retry

__all__ = [
    "UNCAPPED",
    "LiveBatch",
    "LiveStore",
    "LiveStoreError",
    "MemoryLiveStore",
    "RedisLiveStore",
    "StreamEntry",
    "Subscription",
    "open_live_store",
]

log = logging.getLogger(__name__)

UNCAPPED = 1_000_000  # the cap of a counted set that only registers its members (``LiveStore.claim_slot``)

Value = str | int | float | None
StreamEntry = tuple[str, dict[str, str]]

# A dead Redis must never hang a web request: connect/read timeouts of a few seconds and few quick retries.
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_SOCKET_TIMEOUT = 3.0
REDIS_HEALTH_CHECK_INTERVAL = 10
REDIS_RETRIES = 2
# Messages a slow in-memory subscriber may have waiting before new ones are dropped for it (Redis has its own
# output-buffer limit for slow subscribers).
MEMORY_SUBSCRIBER_QUEUE = 10_000


class LiveStoreError(RuntimeError):
    """The live store cannot do what was asked (for example Redis is unreachable)."""


@runtime_checkable
class Subscription(Protocol):
    """Messages from one or more pub/sub channels; use as a context manager or call :meth:`close`."""

    def get(self, timeout: float) -> tuple[str, str] | None:
        """Wait up to ``timeout`` seconds for the next ``(channel, message)``; ``None`` if none came."""
        ...

    def close(self) -> None:
        """Stop receiving; idempotent."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@runtime_checkable
class LiveBatch(Protocol):
    """Writes collected and sent together (one Redis pipeline round trip; one lock on the memory store).

    Same semantics as the :class:`LiveStore` methods of the same names; nothing happens before
    :meth:`execute`, which raises :class:`LiveStoreError` when the store cannot be reached. Not thread-safe:
    one batch per thread.
    """

    def set_latest(self, key: str, values: Mapping[str, Value]) -> None: ...

    def set_latest_if_newer(self, key: str, values: Mapping[str, Value], stamps: tuple[str, ...]) -> None:
        """:meth:`set_latest`, unless the hash ``key`` already holds larger numbers in the fields ``stamps`` when
        the batch runs, compared in order like a tuple (``values`` must set them all; a field the hash lacks counts
        as 0, so stamps are never negative): of two writers, the older values never replace the newer ones."""
        ...

    def append_stream(
        self, key: str, fields: Mapping[str, Value], maxlen: int, *, approximate: bool = True
    ) -> None: ...

    def trim_stream(self, key: str, before: str) -> None:
        """Drop the entries of stream ``key`` older than id ``before`` (Redis drops only whole nodes of them, so a
        few may stay)."""
        ...

    def publish(self, channel: str, message: str) -> None: ...

    def execute(self) -> None:
        """Apply the collected writes in order, then empty the batch."""
        ...

    def __len__(self) -> int: ...


@runtime_checkable
class LiveStore(Protocol):
    """Newest values (hashes), capped streams and pub/sub; every value comes back as ``str``."""

    def ping(self) -> bool:
        """True when the store answers; never raises."""
        ...

    def set_latest(self, key: str, values: Mapping[str, Value]) -> None:
        """Merge ``values`` into the hash ``key``; a ``None`` value deletes that field."""
        ...

    def get_latest(self, key: str) -> dict[str, str]:
        """The hash ``key`` (empty when missing)."""
        ...

    def get_latest_many(self, keys: Sequence[str]) -> dict[str, dict[str, str]]:
        """Several hashes at once (one round trip); missing keys map to ``{}``."""
        ...

    def append_stream(self, key: str, fields: Mapping[str, Value], maxlen: int, *, approximate: bool = True) -> str:
        """Append an entry (``None`` fields left out) to a stream capped near ``maxlen``; return its id."""
        ...

    def read_stream(self, key: str, after: str = "-", count: int | None = None) -> list[StreamEntry]:
        """Entries with an id strictly after ``after`` (``"-"`` = from the start), oldest first."""
        ...

    def publish(self, channel: str, message: str) -> int:
        """Send ``message`` to the subscribers of ``channel``; return how many received it."""
        ...

    def subscribe(self, *channels: str) -> Subscription:
        """Subscribe to ``channels``; messages published after this returns are delivered."""
        ...

    def batch(self) -> LiveBatch:
        """A :class:`LiveBatch` of writes sent together on :meth:`LiveBatch.execute` (the consumer's path)."""
        ...

    def claim_slot(self, caps: Mapping[str, int], member: str, ttl: float) -> str | None:
        """Hold ``member`` in each counted set of ``caps`` (key -> cap) for ``ttl`` seconds, all or none: a set that
        already holds its cap of unexpired members (``member`` not among them) refuses, and its key is returned."""
        ...

    def renew_slot(self, keys: Sequence[str], member: str, ttl: float) -> None:
        """Keep ``member`` in the counted sets ``keys`` for another ``ttl`` seconds (a lapsed one is not revived)."""
        ...

    def release_slot(self, keys: Sequence[str], member: str) -> None:
        """Take ``member`` out of the counted sets ``keys``; idempotent."""
        ...

    def release_slot_unless_alone(self, key: str, member: str) -> bool:
        """Take ``member`` out of the counted set ``key`` only if another unexpired member stays in it, in one step
        (of several members leaving at once, one stays); True when another stays."""
        ...

    def slot_members(self, key: str) -> list[str]:
        """The unexpired members of the counted set ``key``."""
        ...

    def close(self) -> None:
        """Release connections and close this store's subscriptions; idempotent."""
        ...


# ----------------------------------------------------------------------------------------------- helpers


def _encode(value: str | int | float) -> str:
    """The string form both backends store (the same as redis-py's encoder: ``repr`` for numbers)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is float or kind is int:  # the hot path of the consumer: exact types first
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"live store values must be str, int, float or None, not {type(value).__name__}")
    return repr(value)


def _split_latest(values: Mapping[str, Value]) -> tuple[dict[str, str], list[str]]:
    to_set: dict[str, str] = {}
    to_delete: list[str] = []
    for field, value in values.items():
        if value is None:
            to_delete.append(field)
        else:
            to_set[field] = _encode(value)
    return to_set, to_delete


def _stamped(values: Mapping[str, Value], stamps: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """For :meth:`LiveBatch.set_latest_if_newer`: ``values`` split as :func:`_split_latest`, once each stamp is
    checked to be a number."""
    if not stamps:
        raise ValueError("set_latest_if_newer needs at least one stamp field")
    for stamp in stamps:
        if isinstance(values.get(stamp), bool) or not isinstance(values.get(stamp), int | float):
            raise ValueError(f"set_latest_if_newer needs a number in its stamp field {stamp!r}")
    return _split_latest(values)


def _not_older(shown: Sequence[str | None], wanted: tuple[float, ...]) -> bool:
    """Whether stamps ``wanted`` are not older than the ``shown`` ones (``None``: the hash lacks the field, 0)."""
    for held, number in zip(shown, wanted, strict=True):
        value = 0.0 if held is None else float(held)
        if value != number:
            return value < number
    return True


def _stream_fields(fields: Mapping[str, Value]) -> dict[str, str]:
    encoded = {}
    for field, value in fields.items():
        if value is not None:
            kind = type(value)
            encoded[field] = value if kind is str else repr(value) if kind is float or kind is int else _encode(value)
    if not encoded:
        raise ValueError("a stream entry needs at least one field that is not None")
    return encoded


def _check_maxlen(maxlen: int) -> None:
    if maxlen < 1:
        raise ValueError("maxlen must be at least 1")


def parse_stream_id(entry_id: str) -> tuple[int, int]:
    """``"ms-seq"`` (or ``"ms"``, meaning ``ms-0``) as a sortable tuple."""
    ms, _, seq = entry_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        raise ValueError(f"invalid stream id {entry_id!r}") from None


class _SubscriptionBase(ABC):
    @abstractmethod
    def get(self, timeout: float) -> tuple[str, str] | None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------ memory


class _MemoryData:
    """The shared state behind one or more :class:`MemoryLiveStore` handles (one lock for everything)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hashes: dict[str, dict[str, str]] = {}
        self.streams: dict[str, deque[tuple[tuple[int, int], dict[str, str]]]] = {}
        self.last_id: dict[str, tuple[int, int]] = {}
        self.subscribers: dict[str, set[_MemorySubscription]] = {}
        self.slots: dict[str, dict[str, float]] = {}  # counted set -> member -> expiry (time.monotonic())


_memory_registry: dict[str, _MemoryData] = {}
_memory_registry_lock = threading.Lock()


class _MemorySubscription(_SubscriptionBase):
    _CLOSED = object()

    def __init__(self, data: _MemoryData, channels: tuple[str, ...], owner: MemoryLiveStore) -> None:
        self._data = data
        self._channels = channels
        self._owner = owner
        self._queue: queue.Queue[object] = queue.Queue(maxsize=MEMORY_SUBSCRIBER_QUEUE)
        self._closed = False
        self.dropped = 0

    def _offer(self, channel: str, message: str) -> bool:
        """Called under the data lock by ``publish``."""
        try:
            self._queue.put_nowait((channel, message))
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("live store subscriber too slow, dropping", extra={"dropped": self.dropped})
            return False
        return True

    def get(self, timeout: float) -> tuple[str, str] | None:
        if self._closed:
            return None
        try:
            item = self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if item is self._CLOSED:
            return None
        return item  # type: ignore[return-value]

    def close(self) -> None:
        with self._data.lock:
            if self._closed:
                return
            self._closed = True
            for channel in self._channels:
                subscribers = self._data.subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(self)
                    if not subscribers:
                        del self._data.subscribers[channel]
            self._owner._subscriptions.discard(self)
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(self._CLOSED)  # wake a reader blocked in get()


class MemoryLiveStore:
    """In-process live store for the embedded demo and tests; thread-safe (one lock)."""

    def __init__(self, *, _data: _MemoryData | None = None) -> None:
        self._data = _data or _MemoryData()
        self._subscriptions: set[_MemorySubscription] = set()  # guarded by the data lock
        self._closed = False

    @classmethod
    def shared(cls, name: str = "") -> MemoryLiveStore:
        """A handle on the process-wide memory store called ``name`` (what ``memory://NAME`` opens)."""
        with _memory_registry_lock:
            data = _memory_registry.get(name)
            if data is None:
                data = _memory_registry[name] = _MemoryData()
        return cls(_data=data)

    def ping(self) -> bool:
        return not self._closed

    def set_latest(self, key: str, values: Mapping[str, Value]) -> None:
        to_set, to_delete = _split_latest(values)
        with self._data.lock:
            self._set_latest_locked(key, to_set, to_delete)

    def _set_latest_locked(self, key: str, to_set: dict[str, str], to_delete: list[str]) -> None:
        current = self._data.hashes.get(key)
        if current is None:
            if not to_set:
                return
            current = self._data.hashes[key] = {}
        current.update(to_set)
        for field in to_delete:
            current.pop(field, None)
        if not current:
            del self._data.hashes[key]  # like Redis: a hash without fields does not exist

    def get_latest(self, key: str) -> dict[str, str]:
        with self._data.lock:
            return dict(self._data.hashes.get(key, {}))

    def get_latest_many(self, keys: Sequence[str]) -> dict[str, dict[str, str]]:
        with self._data.lock:
            return {key: dict(self._data.hashes.get(key, {})) for key in keys}

    def append_stream(self, key: str, fields: Mapping[str, Value], maxlen: int, *, approximate: bool = True) -> str:
        _check_maxlen(maxlen)
        entry = _stream_fields(fields)
        with self._data.lock:
            return self._append_stream_locked(key, entry, maxlen)

    def _append_stream_locked(self, key: str, entry: dict[str, str], maxlen: int) -> str:
        now_ms = time.time_ns() // 1_000_000
        last_ms, last_seq = self._data.last_id.get(key, (0, -1))
        new_id = (now_ms, 0) if now_ms > last_ms else (last_ms, last_seq + 1)
        self._data.last_id[key] = new_id
        stream = self._data.streams.get(key)
        if stream is None or stream.maxlen != maxlen:
            stream = self._data.streams[key] = deque(stream or (), maxlen=maxlen)
        stream.append((new_id, entry))
        return f"{new_id[0]}-{new_id[1]}"

    def read_stream(self, key: str, after: str = "-", count: int | None = None) -> list[StreamEntry]:
        start = None if after == "-" else parse_stream_id(after)
        with self._data.lock:
            stream = self._data.streams.get(key)
            if not stream:
                return []
            picked: list[tuple[tuple[int, int], dict[str, str]]] = []
            for entry_id, fields in reversed(stream):  # newest first; stop at the first not after ``start``
                if start is not None and entry_id <= start:
                    break
                picked.append((entry_id, fields))
        picked.reverse()
        if count is not None:
            picked = picked[: max(count, 0)]
        return [(f"{ms}-{seq}", dict(fields)) for (ms, seq), fields in picked]

    def publish(self, channel: str, message: str) -> int:
        with self._data.lock:
            return self._publish_locked(channel, message)

    def _publish_locked(self, channel: str, message: str) -> int:
        subscribers = self._data.subscribers.get(channel)
        if not subscribers:
            return 0
        return sum(1 for sub in list(subscribers) if sub._offer(channel, message))

    def batch(self) -> LiveBatch:
        return _MemoryBatch(self)

    def subscribe(self, *channels: str) -> Subscription:
        if not channels:
            raise ValueError("subscribe needs at least one channel")
        unique = tuple(dict.fromkeys(channels))
        sub = _MemorySubscription(self._data, unique, self)
        with self._data.lock:
            for channel in unique:
                self._data.subscribers.setdefault(channel, set()).add(sub)
            self._subscriptions.add(sub)
        return sub

    def claim_slot(self, caps: Mapping[str, int], member: str, ttl: float) -> str | None:
        now = time.monotonic()
        with self._data.lock:
            held = {key: self._live_slots_locked(self._data.slots.setdefault(key, {}), now) for key in caps}
            for key, cap in caps.items():
                if member not in held[key] and len(held[key]) >= cap:
                    return key
            for members in held.values():
                members[member] = now + ttl
        return None

    def renew_slot(self, keys: Sequence[str], member: str, ttl: float) -> None:
        now = time.monotonic()
        with self._data.lock:
            for key in keys:
                members = self._live_slots_locked(self._data.slots.get(key, {}), now)
                if member in members:
                    members[member] = now + ttl

    def release_slot(self, keys: Sequence[str], member: str) -> None:
        with self._data.lock:
            for key in keys:
                members = self._data.slots.get(key, {})
                members.pop(member, None)
                if not members:
                    self._data.slots.pop(key, None)  # like Redis: an empty set does not exist

    def release_slot_unless_alone(self, key: str, member: str) -> bool:
        with self._data.lock:
            members = self._live_slots_locked(self._data.slots.get(key, {}), now=time.monotonic())
            if not members.keys() - {member}:
                return False
            members.pop(member, None)
            return True

    def slot_members(self, key: str) -> list[str]:
        with self._data.lock:
            return list(self._live_slots_locked(self._data.slots.get(key, {}), now=time.monotonic()))

    @staticmethod
    def _live_slots_locked(members: dict[str, float], now: float) -> dict[str, float]:
        """A counted set's ``members`` with the expired ones dropped."""
        for expired in [m for m, until in members.items() if until <= now]:
            del members[expired]
        return members

    def close(self) -> None:
        """Close this handle's subscriptions; the data stays (like a Redis server's) for other handles."""
        self._closed = True
        with self._data.lock:
            subscriptions = list(self._subscriptions)
        for sub in subscriptions:
            sub.close()

    def __repr__(self) -> str:
        return f"<MemoryLiveStore {id(self._data):#x}>"


class _MemoryBatch:
    """Writes checked and encoded when added, applied under one lock acquisition by :meth:`execute`."""

    def __init__(self, store: MemoryLiveStore) -> None:
        self._store = store
        self._ops: list[tuple[int, str, object, object]] = []

    def set_latest(self, key: str, values: Mapping[str, Value]) -> None:
        to_set, to_delete = _split_latest(values)
        if to_set or to_delete:
            self._ops.append((0, key, to_set, to_delete))

    def set_latest_if_newer(self, key: str, values: Mapping[str, Value], stamps: tuple[str, ...]) -> None:
        to_set, to_delete = _stamped(values, stamps)
        numbers = tuple(float(values[stamp]) for stamp in stamps)  # type: ignore[arg-type]
        self._ops.append((3, key, (numbers, to_set, to_delete), stamps))

    def append_stream(self, key: str, fields: Mapping[str, Value], maxlen: int, *, approximate: bool = True) -> None:
        _check_maxlen(maxlen)
        self._ops.append((1, key, _stream_fields(fields), maxlen))

    def trim_stream(self, key: str, before: str) -> None:
        self._ops.append((4, key, parse_stream_id(before), None))

    def publish(self, channel: str, message: str) -> None:
        self._ops.append((2, channel, message, None))

    def execute(self) -> None:
        ops, self._ops = self._ops, []
        store = self._store
        with store._data.lock:
            for kind, key, a, b in ops:
                if kind == 0:
                    store._set_latest_locked(key, a, b)  # type: ignore[arg-type]
                elif kind == 1:
                    store._append_stream_locked(key, a, b)  # type: ignore[arg-type]
                elif kind == 3:
                    numbers, to_set, to_delete = a  # type: ignore[misc]
                    held = store._data.hashes.get(key, {})
                    if _not_older([held.get(stamp) for stamp in b], numbers):  # type: ignore[union-attr]
                        store._set_latest_locked(key, to_set, to_delete)
                elif kind == 4:
                    stream = store._data.streams.get(key)
                    while stream and stream[0][0] < a:  # type: ignore[operator]
                        stream.popleft()
                else:
                    store._publish_locked(key, a)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self._ops)


# ------------------------------------------------------------------------------------------------- redis


@contextlib.contextmanager
def _redis_errors(action: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise LiveStoreError(f"live store (redis) {action} failed: {exc}") from exc


class _RedisSubscription(_SubscriptionBase):
    def __init__(self, client: redis.Redis, channels: tuple[str, ...], owner: RedisLiveStore) -> None:
        self._owner = owner
        self._closed = False
        self._lock = threading.Lock()
        self._pending: deque[tuple[str, str]] = deque()
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._down_since: float | None = None
        try:
            # Wait for Redis to confirm every channel, so anything published after subscribe() returns is
            # delivered; then drop confirmations as usual.
            self._pubsub.ignore_subscribe_messages = False
            self._pubsub.subscribe(*channels)
            confirmed: set[str] = set()
            deadline = time.monotonic() + REDIS_SOCKET_TIMEOUT
            while len(confirmed) < len(channels):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LiveStoreError("live store (redis) subscribe was not confirmed in time")
                message = self._pubsub.get_message(timeout=remaining)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    confirmed.add(message["channel"])
                elif message["type"] == "message":
                    self._pending.append((message["channel"], message["data"]))
            self._pubsub.ignore_subscribe_messages = True
        except redis.RedisError as exc:
            self._pubsub.close()
            raise LiveStoreError(f"live store (redis) subscribe failed: {exc}") from exc
        except BaseException:
            self._pubsub.close()
            raise

    def get(self, timeout: float) -> tuple[str, str] | None:
        """Next message; while Redis is down this waits out ``timeout`` and returns ``None`` (never raises).

        redis-py reconnects and re-subscribes on the next read once Redis is back; messages published
        meanwhile are lost (pub/sub has no history), so readers should re-read the latest values after a gap.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            try:
                if self._pending and not self._closed:
                    return self._pending.popleft()
                while not self._closed:
                    message = self._read(deadline)
                    if message is not None:
                        return message
                    if time.monotonic() >= deadline:
                        return None
                return None
            finally:
                if self._closed:
                    self._release()

    def _read(self, deadline: float) -> tuple[str, str] | None:
        """One read of at most the remaining time; ``None`` when nothing (or Redis is away)."""
        try:
            message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
        except Exception as exc:
            if self._closed:
                return None  # close() from another thread pulled the connection away
            if not isinstance(exc, redis.RedisError | OSError):
                raise
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.warning("live store subscription lost redis", extra={"error": str(exc)})
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            return None
        if self._down_since is not None:
            log.info("live store subscription back on redis")
            self._down_since = None
        if message is not None and message.get("type") == "message":
            return message["channel"], message["data"]
        return None

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            self._pubsub.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._owner._forget(self)
        if self._lock.acquire(blocking=False):
            try:
                self._release()
            finally:
                self._lock.release()
            return
        # A reader is blocked in get() on another thread: wake it by shutting the socket down; it releases the
        # connection on its way out (PubSub is not thread-safe, so it is not closed from here).
        sock = getattr(self._pubsub.connection, "_sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# Applies a whole batch of writes in one command with one JSON argument: one round trip, one reply, and far
# less client CPU than a pipeline of one command per write. The argument is a JSON array of
# [op, key, [arguments...]] with op H(SET), D (HDEL), N(EWER: the first argument is a count n of stamp fields,
# then n pairs of field and number; unless the hash's fields hold larger numbers (a missing one is 0), compared
# in order like a tuple, HSET the number of arguments named next, then HDEL the rest), X(ADD: the arguments
# start with MAXLEN), T(RIM: XTRIM's arguments) or P(UBLISH);
# every argument is a string (as _encode makes it), so Lua never turns a number into text its own way.
_BATCH_SCRIPT = """
local ops = cjson.decode(ARGV[1])
for i = 1, #ops do
  local op = ops[i]
  local kind, key, args = op[1], op[2], op[3]
  if kind == 'H' then redis.call('HSET', key, unpack(args))
  elseif kind == 'D' then redis.call('HDEL', key, unpack(args))
  elseif kind == 'N' then
    local stamps, names = tonumber(args[1]), {}
    for j = 1, stamps do names[j] = args[2 * j] end
    local shown, newer = redis.call('HMGET', key, unpack(names)), true
    for j = 1, stamps do
      local held, wanted = tonumber(shown[j]) or 0, tonumber(args[2 * j + 1])
      if held ~= wanted then newer = held < wanted break end
    end
    if newer then
      local base = 2 + 2 * stamps
      local n = tonumber(args[base])
      if n > 0 then redis.call('HSET', key, unpack(args, base + 1, base + n)) end
      if #args > base + n then redis.call('HDEL', key, unpack(args, base + n + 1)) end
    end
  elseif kind == 'X' then redis.call('XADD', key, unpack(args))
  elseif kind == 'T' then redis.call('XTRIM', key, unpack(args))
  elseif kind == 'P' then redis.call('PUBLISH', key, args[1])
  else return redis.error_reply('pantau live batch: unknown op ' .. tostring(kind)) end
end
return #ops
"""
_BATCH_MAX_OPS = 5000  # writes per script call (keeps each call short for the other Redis clients)


def _flat(fields: dict[str, str]) -> list[str]:
    """``{f1: v1, f2: v2}`` as ``[f1, v1, f2, v2]``, the arguments of HSET and XADD."""
    return [part for item in fields.items() for part in item]


class _RedisBatch:
    """Writes collected as :data:`_BATCH_SCRIPT` operations, run by :meth:`execute`."""

    def __init__(self, store: RedisLiveStore) -> None:
        self._store = store
        self._ops: list[tuple[str, str, list[str]]] = []

    def set_latest(self, key: str, values: Mapping[str, Value]) -> None:
        to_set, to_delete = _split_latest(values)
        if to_set:
            self._ops.append(("H", key, _flat(to_set)))
        if to_delete:
            self._ops.append(("D", key, to_delete))

    def set_latest_if_newer(self, key: str, values: Mapping[str, Value], stamps: tuple[str, ...]) -> None:
        to_set, to_delete = _stamped(values, stamps)
        compared = [part for stamp in stamps for part in (stamp, to_set[stamp])]
        self._ops.append(("N", key, [str(len(stamps)), *compared, str(2 * len(to_set)), *_flat(to_set), *to_delete]))

    def append_stream(self, key: str, fields: Mapping[str, Value], maxlen: int, *, approximate: bool = True) -> None:
        _check_maxlen(maxlen)
        args = ["MAXLEN", "~" if approximate else "=", str(maxlen), "*", *_flat(_stream_fields(fields))]
        self._ops.append(("X", key, args))

    def trim_stream(self, key: str, before: str) -> None:
        parse_stream_id(before)
        self._ops.append(("T", key, ["MINID", "~", before]))

    def publish(self, channel: str, message: str) -> None:
        self._ops.append(("P", channel, [message]))

    def execute(self) -> None:
        ops, self._ops = self._ops, []
        if not ops:
            return
        script = self._store._batch_script()
        with _redis_errors("batch"):
            for start in range(0, len(ops), _BATCH_MAX_OPS):
                script(args=[orjson.dumps(ops[start : start + _BATCH_MAX_OPS])])

    def __len__(self) -> int:
        return len(self._ops)


# Counted sets (claim_slot and friends) are sorted sets of members scored by their expiry on Redis's own clock, so
# web workers on different machines agree; each script drops the expired members of its keys first.
_SLOT_PRUNE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i = 1, #KEYS do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now) end
"""
# KEYS: the sets; ARGV: member, ttl, then each key's cap. Returns the first full key, or false when claimed.
_SLOT_CLAIM = f"""{_SLOT_PRUNE}
local ttl = tonumber(ARGV[2])
for i = 1, #KEYS do
  if not redis.call('ZSCORE', KEYS[i], ARGV[1]) and redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2 + i]) then
    return KEYS[i]
  end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], math.ceil(ttl * 1000))
end
return false
"""
# KEYS: the sets; ARGV: member, ttl.
_SLOT_RENEW = f"""{_SLOT_PRUNE}
for i = 1, #KEYS do
  if redis.call('ZADD', KEYS[i], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1]) == 1 then
    redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2]) * 1000))
  end
end
"""
# KEYS: the set; ARGV: member. Returns 1 when another member stays (and ``member`` left), 0 otherwise.
_SLOT_LEAVE_UNLESS_ALONE = f"""{_SLOT_PRUNE}
local others = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then others = others - 1 end
if others < 1 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""
_SLOT_MEMBERS = _SLOT_PRUNE + "return redis.call('ZRANGE', KEYS[1], 0, -1)"


class RedisLiveStore:
    """Live store on Redis (``redis://``, ``rediss://``, ``unix://``); thread-safe; rides out restarts."""

    def __init__(self, url: str) -> None:
        self._url = url
        # URL query options (e.g. ?socket_timeout=10) override these defaults.
        self._client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
            socket_timeout=REDIS_SOCKET_TIMEOUT,
            health_check_interval=REDIS_HEALTH_CHECK_INTERVAL,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.25), retries=REDIS_RETRIES),
        )
        self._subscriptions: weakref.WeakSet[_RedisSubscription] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._script: Script | None = None
        self._slot_scripts: dict[str, Script] = {}

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except Exception:  # any failure means "not reachable"; never raise from a health check
            return False

    def set_latest(self, key: str, values: Mapping[str, Value]) -> None:
        to_set, to_delete = _split_latest(values)
        if not to_set and not to_delete:
            return
        with _redis_errors("set_latest"):
            pipe = self._client.pipeline(transaction=True)
            if to_set:
                pipe.hset(key, mapping=to_set)
            if to_delete:
                pipe.hdel(key, *to_delete)
            pipe.execute()

    def get_latest(self, key: str) -> dict[str, str]:
        with _redis_errors("get_latest"):
            return dict(self._client.hgetall(key))

    def get_latest_many(self, keys: Sequence[str]) -> dict[str, dict[str, str]]:
        keys = list(keys)
        if not keys:
            return {}
        with _redis_errors("get_latest_many"):
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.hgetall(key)
            results = pipe.execute()
        return {key: dict(result or {}) for key, result in zip(keys, results, strict=True)}

    def append_stream(self, key: str, fields: Mapping[str, Value], maxlen: int, *, approximate: bool = True) -> str:
        _check_maxlen(maxlen)
        entry = _stream_fields(fields)
        with _redis_errors("append_stream"):
            return str(self._client.xadd(key, entry, maxlen=maxlen, approximate=approximate))

    def read_stream(self, key: str, after: str = "-", count: int | None = None) -> list[StreamEntry]:
        start = "-" if after == "-" else f"({after}"
        with _redis_errors("read_stream"):
            entries = self._client.xrange(key, min=start, max="+", count=count)
        return [(entry_id, dict(fields)) for entry_id, fields in entries]

    def publish(self, channel: str, message: str) -> int:
        with _redis_errors("publish"):
            return int(self._client.publish(channel, message))

    def batch(self) -> LiveBatch:
        return _RedisBatch(self)

    def _batch_script(self) -> Script:
        if self._script is None:
            self._script = self._client.register_script(_BATCH_SCRIPT)  # EVALSHA, loaded again after NOSCRIPT
        return self._script

    def claim_slot(self, caps: Mapping[str, int], member: str, ttl: float) -> str | None:
        with _redis_errors("claim_slot"):
            full = self._slot_script(_SLOT_CLAIM)(keys=list(caps), args=[member, ttl, *caps.values()])
        return full or None

    def renew_slot(self, keys: Sequence[str], member: str, ttl: float) -> None:
        with _redis_errors("renew_slot"):
            self._slot_script(_SLOT_RENEW)(keys=list(keys), args=[member, ttl])

    def release_slot(self, keys: Sequence[str], member: str) -> None:
        with _redis_errors("release_slot"):
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.zrem(key, member)
            pipe.execute()

    def release_slot_unless_alone(self, key: str, member: str) -> bool:
        with _redis_errors("release_slot_unless_alone"):
            return bool(self._slot_script(_SLOT_LEAVE_UNLESS_ALONE)(keys=[key], args=[member]))

    def slot_members(self, key: str) -> list[str]:
        with _redis_errors("slot_members"):
            return list(self._slot_script(_SLOT_MEMBERS)(keys=[key]))

    def _slot_script(self, source: str) -> Script:
        script = self._slot_scripts.get(source)
        if script is None:
            script = self._slot_scripts[source] = self._client.register_script(source)
        return script

    def subscribe(self, *channels: str) -> Subscription:
        if not channels:
            raise ValueError("subscribe needs at least one channel")
        sub = _RedisSubscription(self._client, tuple(dict.fromkeys(channels)), self)
        with self._lock:
            self._subscriptions.add(sub)
        return sub

    def _forget(self, sub: _RedisSubscription) -> None:
        with self._lock:
            self._subscriptions.discard(sub)

    def close(self) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for sub in subscriptions:
            sub.close()
        with contextlib.suppress(Exception):
            self._client.close()

    def __repr__(self) -> str:
        parts = urlsplit(self._url)  # never show a password
        where = f"{parts.hostname}:{parts.port or 6379}{parts.path}" if parts.hostname else parts.path
        return f"<RedisLiveStore {parts.scheme}://{where}>"


# ------------------------------------------------------------------------------------------------ choose

_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


def is_redis_url(url: str) -> bool:
    """Whether ``url`` names a Redis server (redis://, rediss://, unix://) rather than the in-process memory store."""
    return urlsplit((url or "").strip()).scheme.lower() in _REDIS_SCHEMES


def open_live_store(url: str) -> LiveStore:
    """The live store for ``url``: redis://, rediss://, unix:// -> Redis; memory:// or empty -> memory.

    Opening does not connect; Redis is reached on first use (check with :meth:`LiveStore.ping`).
    """
    url = (url or "").strip()
    if is_redis_url(url):
        return RedisLiveStore(url)
    scheme = urlsplit(url).scheme.lower() if url else "memory"
    if scheme == "memory":
        name = url.split("://", 1)[1] if "://" in url else ""
        return MemoryLiveStore.shared(name)
    raise ValueError(f"unsupported live store URL scheme {scheme!r} (use redis://, rediss://, unix:// or memory://)")
