"""The wire format of facility sync: a record change sealed for one link between two sites, in chunks.

A site publishes its changes on :func:`sync_topic` (QoS 1). Every message is one **chunk**:

    {"v":1,"link":…,"change":…,"origin":…,"key":…,"seq":…,"i":…,"n":…,"size":…,"sha256":…}\\n<body>

* The change (:func:`encode_change`, JSON) is cut into ``n`` pieces so that every message stays under
  ``max_message`` (default :data:`MESSAGE_LIMIT`, below the broker's 128 KiB packet cap); a small change is one
  chunk.
* Each piece is sealed with AES-256-GCM under the link's newest key: ``body`` = 12-byte random nonce + ciphertext
  and tag. The associated data is the header's version, link, change id, origin, key id, seq, index and count, so
  a body moved to another message, another index or another link does not open, and changing any of those
  header fields makes the chunk fail. The broker sees ids and sizes, never a person's data.
* ``size`` and ``sha256`` describe the whole sealed payload (every body in index order): the receiver
  reassembles, checks both, and only then opens. The checksum is over ciphertext, so it says nothing about the
  content.
* Keys rotate by id (:class:`Keyring`): the first key seals, every known key opens.

:class:`Reassembler` takes chunks in any order and any number of times, bounds what it holds (open payloads,
bytes) and forgets a payload left incomplete for ``idle_ms`` when :meth:`Reassembler.expire` is called with the
time; every refusal is an :class:`EnvelopeError` with a short ``reason``, never a silent drop.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.hlc import ID_PATTERN, Hlc
from domain.record_merge import Change, Write
from domain.vitals_contract import TOPIC_ROOT

VERSION = 1
MESSAGE_LIMIT = 96 * 1024
"""Default largest message: under Mosquitto's ``max_packet_size 131072`` with room for the topic and MQTT's own
headers."""
MAX_HEADER = 512  # bytes of header JSON; the longest legal header is about 420
MIN_MESSAGE = 1024
MAX_CHUNKS = 1 << 20
NONCE = 12
TAG = 16
MAX_SEQ = 2**63 - 1

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEADER_KEYS = frozenset({"v", "link", "change", "origin", "key", "seq", "i", "n", "size", "sha256"})


def sync_topic(site: str) -> str:
    """Where ``site`` publishes its record changes (QoS 1)."""
    return f"{TOPIC_ROOT}/sync/{site}/patients"


def ack_topic(site: str) -> str:
    """Where ``site`` acknowledges its peers' changes and answers (or asks) ``verify`` (QoS 1, sealed per link)."""
    return f"{TOPIC_ROOT}/sync/{site}/acks"


class EnvelopeError(ValueError):
    """A message or payload refused; ``reason`` is short and machine-readable (``format``, ``version``, ``link``,
    ``key``, ``auth``, ``checksum``, ``inconsistent``, ``too_large``, ``full``, ``payload``), the text says
    more. Neither ever holds personal data."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Header:
    """The clear part of one chunk."""

    link: str
    change_id: str
    origin: str
    key_id: str
    seq: int
    index: int
    count: int
    size: int
    sha256: str

    def associated(self) -> bytes:
        """What the chunk's AES-GCM tag binds besides the body."""
        fields = [VERSION, self.link, self.change_id, self.origin, self.key_id, self.seq, self.index, self.count]
        return orjson.dumps(fields)

    def encode(self) -> bytes:
        """The header line's JSON."""
        return orjson.dumps(
            {
                "v": VERSION,
                "link": self.link,
                "change": self.change_id,
                "origin": self.origin,
                "key": self.key_id,
                "seq": self.seq,
                "i": self.index,
                "n": self.count,
                "size": self.size,
                "sha256": self.sha256,
            }
        )


@dataclass(frozen=True, slots=True)
class Chunk:
    """One message: the clear header and the sealed piece (nonce, ciphertext, tag)."""

    header: Header
    body: bytes

    def encode(self) -> bytes:
        """The MQTT payload of this chunk."""
        return self.header.encode() + b"\n" + self.body


def _integer(raw: dict, key: str, low: int, high: int) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EnvelopeError("format", f"header {key} must be an integer in {low}…{high}")
    return value


def _text(raw: dict, key: str, pattern: re.Pattern[str]) -> str:
    value = raw[key]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise EnvelopeError("format", f"header {key} is malformed")
    return value


def parse_chunk(message: bytes) -> Chunk:
    """One received MQTT payload as a :class:`Chunk`; anything malformed raises :class:`EnvelopeError`."""
    newline = message.find(b"\n", 0, MAX_HEADER + 1)
    if newline < 0:
        raise EnvelopeError("format", f"no header line within {MAX_HEADER} bytes")
    try:
        raw = orjson.loads(message[:newline])
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError("format", "header is not JSON") from exc
    if not isinstance(raw, dict) or set(raw) != _HEADER_KEYS:
        raise EnvelopeError("format", f"header must have exactly the keys {sorted(_HEADER_KEYS)}")
    if raw["v"] != VERSION or isinstance(raw["v"], bool):
        raise EnvelopeError("version", f"envelope version {raw['v']!r} is not {VERSION}")
    count = _integer(raw, "n", 1, MAX_CHUNKS)
    header = Header(
        link=_text(raw, "link", ID_PATTERN),
        change_id=_text(raw, "change", ID_PATTERN),
        origin=_text(raw, "origin", ID_PATTERN),
        key_id=_text(raw, "key", _KEY_ID),
        seq=_integer(raw, "seq", 0, MAX_SEQ),
        index=_integer(raw, "i", 0, count - 1),
        count=count,
        size=_integer(raw, "size", count * (NONCE + TAG), MAX_SEQ),
        sha256=_text(raw, "sha256", _SHA256),
    )
    body = message[newline + 1 :]
    if len(body) < NONCE + TAG or len(body) > header.size:
        raise EnvelopeError("format", f"chunk body of {len(body)} bytes does not fit a payload of {header.size}")
    return Chunk(header, body)


class Keyring:
    """The keys of one link between two sites: ``keys`` as (id, 32 bytes), newest first; the newest seals."""

    def __init__(self, link: str, keys: Sequence[tuple[str, bytes]]) -> None:
        if not ID_PATTERN.fullmatch(link):
            raise EnvelopeError("link", "a link id is 1-64 letters, digits, '_' or '-'")
        if not keys:
            raise EnvelopeError("key", f"link {link} has no key")
        for key_id, key in keys:
            if not _KEY_ID.fullmatch(key_id):
                raise EnvelopeError("key", f"key id {key_id!r} must be 1-16 letters, digits, '_' or '-'")
            if len(key) != 32:
                raise EnvelopeError("key", f"key {key_id} of link {link} must be 32 bytes, not {len(key)}")
        self.link = link
        self.active_key_id = keys[0][0]
        self._aead = {key_id: AESGCM(key) for key_id, key in keys}

    def seal(
        self, payload: bytes, *, change_id: str, origin: str, seq: int, max_message: int = MESSAGE_LIMIT
    ) -> list[Chunk]:
        """``payload`` sealed under the newest key, in as many chunks as keep each message ≤ ``max_message``."""
        if max_message < MIN_MESSAGE:
            raise EnvelopeError("too_large", f"a message limit under {MIN_MESSAGE} bytes leaves no room")
        piece = max_message - MAX_HEADER - 1 - NONCE - TAG
        count = max(1, math.ceil(len(payload) / piece))
        if count > MAX_CHUNKS:
            raise EnvelopeError("too_large", f"{len(payload)} bytes need more than {MAX_CHUNKS} chunks")
        aead = self._aead[self.active_key_id]
        draft = Header(self.link, change_id, origin, self.active_key_id, seq, 0, count, 0, "0" * 64)
        bodies = []
        for index in range(count):
            nonce = os.urandom(NONCE)
            associated = replace(draft, index=index).associated()
            bodies.append(nonce + aead.encrypt(nonce, payload[index * piece : (index + 1) * piece], associated))
        whole = replace(draft, size=sum(map(len, bodies)), sha256=_digest(bodies))
        chunks = [Chunk(replace(whole, index=index), body) for index, body in enumerate(bodies)]
        parse_chunk(chunks[-1].encode())  # refuses a malformed id here, as a receiver would, before anything is sent
        return chunks

    def open(self, chunks: Sequence[Chunk]) -> bytes:
        """The payload of a complete, checked set of chunks (from :class:`Reassembler`), opened with its key."""
        first = chunks[0].header
        if first.link != self.link:
            raise EnvelopeError("link", f"a payload of link {first.link} offered to link {self.link}")
        aead = self._aead.get(first.key_id)
        if aead is None:
            raise EnvelopeError("key", f"link {self.link} has no key {first.key_id!r}")
        try:
            return b"".join(
                aead.decrypt(chunk.body[:NONCE], chunk.body[NONCE:], chunk.header.associated()) for chunk in chunks
            )
        except InvalidTag as exc:
            raise EnvelopeError("auth", f"change {first.change_id} does not authenticate on link {self.link}") from exc


def _digest(bodies: Iterable[bytes]) -> str:
    sha = hashlib.sha256()
    for body in bodies:
        sha.update(body)
    return sha.hexdigest()


@dataclass(frozen=True, slots=True)
class Expired:
    """A payload forgotten incomplete by :meth:`Reassembler.expire`: its sender must send it again."""

    link: str
    change_id: str
    origin: str
    seq: int
    received: int
    count: int


@dataclass
class _Partial:
    header: Header
    touched_ms: int
    bodies: dict[int, bytes] = field(default_factory=dict)
    held: int = 0


class Reassembler:
    """Collects chunks into whole sealed payloads, in any order and with duplicates, within fixed bounds.

    At most ``max_open`` payloads are incomplete at once, and their declared sizes together stay within
    ``max_bytes``: a payload's first chunk reserves its whole size, so a payload once begun can always finish (two
    large payloads never starve each other half-way). The first chunk of a payload beyond either bound is refused
    (reason ``full``: it is not acknowledged, so its sender sends it again later), and a payload larger than
    ``max_bytes`` is refused outright (``too_large``). A payload with no new chunk for ``idle_ms`` is forgotten by
    :meth:`expire`, which returns what it forgot. Chunks of a payload completed recently (the last ``remember``
    ones) are duplicates and are counted in ``duplicates``, not held again.
    """

    def __init__(
        self, *, max_open: int = 64, max_bytes: int = 256 * 2**20, idle_ms: int = 60_000, remember: int = 4096
    ) -> None:
        self.max_open, self.max_bytes, self.idle_ms, self.remember = max_open, max_bytes, idle_ms, remember
        self.duplicates = 0
        self._partial: dict[tuple[str, str, str], _Partial] = {}
        self._done: dict[tuple[str, str, str], None] = {}  # insertion-ordered: the oldest is forgotten first
        self._held = 0
        self._reserved = 0  # the declared sizes of the incomplete payloads: never above max_bytes

    @property
    def held_bytes(self) -> int:
        """Bytes of chunks held for incomplete payloads."""
        return self._held

    @property
    def open_payloads(self) -> int:
        """Payloads begun and not complete."""
        return len(self._partial)

    def add(self, chunk: Chunk, now_ms: int) -> tuple[Chunk, ...] | None:
        """The payload's chunks in order once ``chunk`` completes it and its size and checksum match; ``None``
        while chunks are missing (or for a chunk already seen). Refusals raise :class:`EnvelopeError`."""
        header = chunk.header
        key = (header.link, header.change_id, header.sha256)
        if key in self._done:
            self.duplicates += 1
            return None
        if header.size > self.max_bytes:
            raise EnvelopeError("too_large", f"change {header.change_id} has {header.size} bytes, {self.max_bytes} fit")
        partial = self._partial.get(key)
        if partial is None:
            partial = _Partial(header, now_ms)
        elif _whole(partial.header) != _whole(header):
            raise EnvelopeError("inconsistent", f"chunk {header.index} of change {header.change_id} disagrees")
        known = partial.bodies.get(header.index)
        if known is not None:
            if known != chunk.body:
                raise EnvelopeError("inconsistent", f"chunk {header.index} of change {header.change_id} differs")
            self.duplicates += 1
            partial.touched_ms = max(partial.touched_ms, now_ms)
            return None
        if header.count > 1:
            self._hold(key, partial, chunk)
        partial.bodies[header.index] = chunk.body
        partial.touched_ms = max(partial.touched_ms, now_ms)
        if len(partial.bodies) < header.count:
            return None
        self._forget(key)
        ordered = [partial.bodies[index] for index in range(header.count)]
        if sum(map(len, ordered)) != header.size or _digest(ordered) != header.sha256:
            raise EnvelopeError("checksum", f"change {header.change_id} does not match its size and SHA-256")
        self._done[key] = None
        if len(self._done) > self.remember:
            del self._done[next(iter(self._done))]
        return tuple(Chunk(replace(partial.header, index=index), body) for index, body in enumerate(ordered))

    def _hold(self, key: tuple[str, str, str], partial: _Partial, chunk: Chunk) -> None:
        size = chunk.header.size
        if key not in self._partial:
            if len(self._partial) >= self.max_open:
                raise EnvelopeError("full", f"{self.max_open} changes are incomplete already")
            if self._reserved + size > self.max_bytes:
                raise EnvelopeError("full", f"{self._reserved} bytes are reserved for incomplete changes already")
            self._partial[key] = partial
            self._reserved += size
        if partial.held + len(chunk.body) > size:
            raise EnvelopeError("inconsistent", f"change {chunk.header.change_id} is longer than it says")
        partial.held += len(chunk.body)
        self._held += len(chunk.body)

    def _forget(self, key: tuple[str, str, str]) -> None:
        partial = self._partial.pop(key, None)
        if partial is not None:
            self._held -= partial.held
            self._reserved -= partial.header.size

    def expire(self, now_ms: int) -> list[Expired]:
        """Forget every payload with no new chunk for more than ``idle_ms`` before ``now_ms``; what was forgotten."""
        stale = [key for key, partial in self._partial.items() if now_ms - partial.touched_ms > self.idle_ms]
        forgotten = []
        for key in stale:
            header, received = self._partial[key].header, len(self._partial[key].bodies)
            forgotten.append(Expired(header.link, header.change_id, header.origin, header.seq, received, header.count))
            self._forget(key)
        return forgotten


def _whole(header: Header) -> tuple:
    """What every chunk of one payload shares."""
    return (header.origin, header.key_id, header.seq, header.count, header.size)


def _clock(hlc: Hlc | None) -> str | None:
    return None if hlc is None else hlc.encode()


def _unclock(text: str | None) -> Hlc | None:
    return None if text is None else Hlc.decode(text)


def encode_change(change: Change) -> bytes:
    """A change as the JSON that is sealed: clocks in their sortable text form."""
    return orjson.dumps(
        {
            "id": change.change_id,
            "record": change.record_id,
            "origin": change.origin,
            "op": change.op.value,
            "hlc": change.hlc.encode(),
            "base": _clock(change.base),
            "fields": {name: [w.value, w.hlc.encode(), _clock(w.base)] for name, w in change.fields.items()},
        }
    )


_CHANGE_KEYS = frozenset({"id", "record", "origin", "op", "hlc", "base", "fields"})


def decode_change(payload: bytes) -> Change:
    """The inverse of :func:`encode_change`; a payload that is not a valid change raises ``EnvelopeError``."""
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError("payload", "the sealed change is not JSON") from exc
    if not isinstance(raw, dict) or set(raw) != _CHANGE_KEYS or not isinstance(raw["fields"], dict):
        raise EnvelopeError("payload", f"a change is an object with exactly the keys {sorted(_CHANGE_KEYS)}")
    try:
        fields = {
            name: Write(value, Hlc.decode(hlc), _unclock(base)) for name, (value, hlc, base) in raw["fields"].items()
        }
        clock, base = Hlc.decode(raw["hlc"]), _unclock(raw["base"])
        return Change(raw["id"], raw["record"], raw["origin"], raw["op"], clock, base, fields)
    except (TypeError, ValueError) as exc:  # ClockError and MergeError are ValueErrors
        raise EnvelopeError("payload", "the sealed change is not a valid change") from exc


def seal_change(keyring: Keyring, change: Change, *, seq: int, max_message: int = MESSAGE_LIMIT) -> list[Chunk]:
    """``change`` sealed for ``keyring``'s link as the chunks to publish; ``seq`` is the sender's running number."""
    return keyring.seal(
        encode_change(change), change_id=change.change_id, origin=change.origin, seq=seq, max_message=max_message
    )


def open_change(keyring: Keyring, chunks: Sequence[Chunk]) -> Change:
    """The change in a reassembled payload, which must be the change and origin its header names."""
    change = decode_change(keyring.open(chunks))
    header = chunks[0].header
    if (change.change_id, change.origin) != (header.change_id, header.origin):
        raise EnvelopeError("inconsistent", f"change {header.change_id} holds another change or origin")
    return change
