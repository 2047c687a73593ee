"""The durable side of the clinical step: consumers append what they stored to Redis streams partitioned by bed,
and the clinical evaluator (:mod:`bridge.clinical_worker`) reads them back.

A bed always hashes to the same partition (CRC-32 of its code, modulo the partition count, the same in every
process), so however many consumers share the MQTT subscription, every sample of a bed lands in one stream, read
by one evaluator. An entry is one sample (``k`` = ``v``, with its pairing ``p`` and the consumer that fed it, ``f``)
or one device status (``k`` = ``s``) with its bed's code; the message itself is its fields as a JSON array, in the
order of their named tuple.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from bridge.consumer.messages import Sample, StatusUpdate
from data import live_keys
from data.live_store import LiveStore
from domain.vitals_contract import DeviceStatus, VitalsMessage

__all__ = [
    "ClinicalFeed",
    "FeedEntry",
    "decode",
    "encode_sample",
    "encode_status",
    "partition_of",
]

_VITALS, _STATUS = "v", "s"


def partition_of(bed_code: str, partitions: int) -> int:
    """The partition of ``bed_code``: stable across processes and restarts (unlike ``hash()``)."""
    return zlib.crc32(bed_code.encode()) % partitions


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry read back: a sample (``msg``, with its ``pairing``: 0 in an entry appended without one, and its
    ``feeder``, the consumer that appended it: empty when unnamed) or a status update (``status``, with its
    ``received`` time)."""

    entry_id: str
    bed: str
    msg: VitalsMessage | None = None
    pairing: int = 0
    status: DeviceStatus | None = None
    received: int = 0
    feeder: str = ""


def encode_sample(bed_code: str, pairing: int, msg: VitalsMessage, feeder: str = "") -> dict[str, str]:
    """A sample's entry, appended by the consumer named ``feeder``."""
    return {"k": _VITALS, "b": bed_code, "p": str(pairing), "f": feeder, "m": orjson.dumps(tuple(msg)).decode()}


def encode_status(bed_code: str, status: DeviceStatus, received: int) -> dict[str, str]:
    """A status update's entry."""
    return {"k": _STATUS, "b": bed_code, "m": orjson.dumps(tuple(status)).decode(), "r": str(received)}


def decode(entry_id: str, fields: dict[str, str]) -> FeedEntry | None:
    """An entry as appended by :class:`ClinicalFeed`; ``None`` for one it cannot read (never raises)."""
    try:
        body = orjson.loads(fields["m"])
        if fields["k"] == _VITALS:
            msg, pairing = VitalsMessage(*body), int(fields.get("p", 0))
            return FeedEntry(entry_id, fields["b"], msg=msg, pairing=pairing, feeder=fields.get("f", ""))
        if fields["k"] == _STATUS:
            return FeedEntry(entry_id, fields["b"], status=DeviceStatus(*body), received=int(fields["r"]))
    except (KeyError, TypeError, ValueError):
        pass
    return None


class ClinicalFeed:
    """Appends a stored batch's samples and status updates to their partitions, in one live-store round trip;
    ``feeder`` names the consumer in its sample entries (its MQTT client id: unique, and kept across restarts)."""

    def __init__(self, live: LiveStore, partitions: int, maxlen: int, feeder: str = "") -> None:
        self.live = live
        self.partitions = partitions
        self.maxlen = maxlen
        self.feeder = feeder

    def append(self, samples: Sequence[Sample], updates: Sequence[StatusUpdate]) -> None:
        """Raises when the live store is away: the caller must not acknowledge the batch then."""
        batch = self.live.batch()
        for sample in samples:
            entry = encode_sample(sample.bed, sample.pairing, sample.msg, self.feeder)
            batch.append_stream(self._key(sample.bed), entry, self.maxlen)
        for update in updates:
            entry = encode_status(update.bed, update.status, update.received)
            batch.append_stream(self._key(update.bed), entry, self.maxlen)
        batch.execute()

    def _key(self, bed_code: str) -> str:
        return live_keys.clinical_partition(partition_of(bed_code, self.partitions))
