"""The messages a site sends on its :func:`data.sync_envelope.ack_topic`, sealed per link like a change:
acknowledgements, a ``verify`` request and its answer (the fingerprints of every record held)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from data.sync_envelope import Chunk, EnvelopeError, Keyring
from domain.hlc import ID_PATTERN


@dataclass(frozen=True)
class Acks:
    """The peer applied (or had applied) these changes of ours."""

    change_ids: tuple[str, ...]


@dataclass(frozen=True)
class VerifyRequest:
    """Send me your fingerprints, if it is still before ``until_ms`` (epoch ms)."""

    request_id: str
    until_ms: int


@dataclass(frozen=True)
class Fingerprints:
    """The answer to a verify request: record id -> fingerprint of every record the peer holds."""

    request_id: str
    prints: dict[str, str]


Control = Acks | VerifyRequest | Fingerprints


def _body(message: Control) -> dict:
    if isinstance(message, Acks):
        return {"acks": list(message.change_ids)}
    if isinstance(message, VerifyRequest):
        return {"verify": message.request_id, "until": message.until_ms}
    return {"request": message.request_id, "fingerprints": message.prints}


def seal_control(keyring: Keyring, message: Control, *, origin: str) -> list[Chunk]:
    """``message`` sealed for ``keyring``'s link as the chunks to publish on ``ack_topic(origin)``."""
    return keyring.seal(orjson.dumps(_body(message)), change_id=str(uuid.uuid4()), origin=origin, seq=0)


def _ids(value: object) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def open_control(keyring: Keyring, chunks: Sequence[Chunk]) -> Control:
    """The message in a reassembled payload; anything else raises ``EnvelopeError("payload")``."""
    try:
        raw = orjson.loads(keyring.open(chunks))
    except orjson.JSONDecodeError:
        raise EnvelopeError("payload", "a sync control message is not JSON") from None
    keys = set(raw) if isinstance(raw, dict) else set()
    if keys == {"acks"} and isinstance(raw["acks"], list) and all(map(_ids, raw["acks"])):
        return Acks(tuple(raw["acks"]))
    if keys == {"verify", "until"} and _ids(raw["verify"]) and type(raw["until"]) is int:
        return VerifyRequest(raw["verify"], raw["until"])
    if keys == {"request", "fingerprints"} and _ids(raw["request"]) and isinstance(raw["fingerprints"], dict):
        prints = raw["fingerprints"]
        if all(_ids(k) and isinstance(v, str) for k, v in prints.items()):
            return Fingerprints(raw["request"], prints)
    raise EnvelopeError("payload", "not an acknowledgement, verify request or fingerprints")
