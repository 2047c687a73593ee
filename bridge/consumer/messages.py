"""What travels between the consumer's stages: a received MQTT message, and samples and status updates at
their beds; and the shapes of the hooks that receive them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from domain.vitals_contract import DeviceStatus, Rejected, VitalsMessage

__all__ = [
    "Enricher",
    "Kind",
    "Received",
    "Sample",
    "SampleHook",
    "StatusHook",
    "StatusUpdate",
    "StoredHook",
]


class Kind(IntEnum):
    """What a received message turned out to be."""

    VITALS = 0  # body: VitalsMessage
    STATUS = 1  # body: DeviceStatus
    REJECTED = 2  # body: Rejected (goes to the dead letters)
    IGNORED = 3  # body: None (a status message with nothing to apply)


@dataclass(slots=True)
class Received:
    """One MQTT message, parsed and validated on paho's thread, waiting for a writer.

    ``generation`` is the connection it came on (an ack is sent only on that connection); ``received`` is the
    arrival time in epoch ms."""

    kind: Kind
    mid: int
    qos: int
    generation: int
    topic: str
    payload: bytes
    received: int
    body: VitalsMessage | DeviceStatus | Rejected | None


@dataclass(slots=True)
class Sample:
    """A stored (new) sample and the bed its monitor was assigned to when it arrived, by ``pairing`` (the
    assignment's id: a bed's samples are ordered by pairing, then by ``msg.ts``, so a monitor paired later counts
    as newer whatever its clock says)."""

    msg: VitalsMessage
    bed: str
    ward: str
    bed_id: int
    pairing: int


@dataclass(slots=True)
class StatusUpdate:
    """A device status message (retained topic) resolved to its bed."""

    status: DeviceStatus
    bed: str
    ward: str
    bed_id: int
    received: int


SampleHook = Callable[[list[Sample], int], None]
"""Called with a batch's new samples and the time (epoch ms) before the batch is stored."""
StatusHook = Callable[[list[StatusUpdate], int], None]
"""Called with a batch's status updates, likewise."""
StoredHook = Callable[[list[Sample], list[StatusUpdate]], None]
"""Called with a batch's samples and status updates before the broker's acknowledgement (the durable feed);
raising keeps the batch unacknowledged (tried again, with back-off)."""
Enricher = Callable[[list[Sample], int], Mapping[str, Mapping[str, Any]]]
"""Returns ``{bed: {field: value}}`` to add to the beds' latest values and ticks."""
