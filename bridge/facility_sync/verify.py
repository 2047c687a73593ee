"""``verify``: compare this site with one peer record by record, by fingerprint, over MQTT.

The command asks on this site's ack topic (sealed for the link); the peer's running worker answers on its own ack
topic with the fingerprints of every record it holds (sealed, in chunks). Only ids and fingerprints travel.
"""

from __future__ import annotations

import queue
import time
import uuid
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from bridge.facility_sync.control import Fingerprints, VerifyRequest, open_control, seal_control
from bridge.facility_sync.options import SyncSetup
from data.db import Database
from data.mqtt_client import KEEPALIVE, BrokerAddress, make_client
from data.sync_envelope import EnvelopeError, Keyring, Reassembler, ack_topic, parse_chunk
from data.sync_store import fingerprints, save_verify
from domain.clock import now_ms, utcnow

MISSING_HERE = "missing here"
MISSING_THERE = "missing there"
DIFFERS = "differs"


class NoAnswer(RuntimeError):
    """The peer's worker did not answer in time."""


@dataclass(frozen=True)
class Difference:
    """One record that is not the same at both sites, and how."""

    record_id: str
    state: str


@dataclass(frozen=True)
class VerifyResult:
    """How many records the two sites hold together, and those that differ."""

    records: int
    differences: list[Difference]


def compare(here: dict[str, str], there: dict[str, str]) -> list[Difference]:
    """The records whose fingerprints differ or that only one side holds, by record id."""
    differences = []
    for record_id in sorted(here.keys() | there.keys()):
        if record_id not in here:
            differences.append(Difference(record_id, MISSING_HERE))
        elif record_id not in there:
            differences.append(Difference(record_id, MISSING_THERE))
        elif here[record_id] != there[record_id]:
            differences.append(Difference(record_id, DIFFERS))
    return differences


def peer_fingerprints(setup: SyncSetup, broker: BrokerAddress, peer: str, *, timeout: float) -> dict[str, str]:
    """Ask ``peer``'s worker for its fingerprints; :class:`NoAnswer` after ``timeout`` seconds."""
    keyring = setup.keyrings[peer]
    request = VerifyRequest(str(uuid.uuid4()), int((time.time() + timeout) * 1000))
    received: queue.Queue[bytes] = queue.Queue()

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            client.subscribe(ack_topic(peer), qos=1)

    def on_subscribe(client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        for chunk in seal_control(keyring, request, origin=setup.site):
            client.publish(ack_topic(setup.site), chunk.encode(), qos=1)

    client = make_client(broker, f"pantau-sync-{setup.site}-verify-{uuid.uuid4().hex[:8]}", persistent=False)
    client.on_connect, client.on_subscribe = on_connect, on_subscribe
    client.on_message = lambda c, u, message: received.put(message.payload)
    client.connect_async(broker.host, broker.port, KEEPALIVE)
    client.loop_start()
    try:
        return await_answer(received, keyring, request.request_id, time.monotonic() + timeout)
    finally:
        client.disconnect()
        client.loop_stop()


def await_answer(received: queue.Queue[bytes], keyring: Keyring, request_id: str, deadline: float) -> dict[str, str]:
    """The fingerprints answering ``request_id`` among the ``received`` payloads (other messages are skipped);
    :class:`NoAnswer` at ``deadline`` (monotonic seconds)."""
    reassembler = Reassembler()
    while (left := deadline - time.monotonic()) > 0:
        try:
            payload = received.get(timeout=left)
        except queue.Empty:
            break
        try:
            chunk = parse_chunk(payload)
            if chunk.header.link != keyring.link:
                continue
            whole = reassembler.add(chunk, now_ms())
            message = open_control(keyring, whole) if whole else None
        except EnvelopeError:
            continue  # acknowledgements of other links, or noise: the answer is what counts
        if isinstance(message, Fingerprints) and message.request_id == request_id:
            return message.prints
    raise NoAnswer(f"no answer to verify request {request_id}")


def verify(setup: SyncSetup, db: Database, broker: BrokerAddress, peer: str, *, timeout: float) -> VerifyResult:
    """Compare this site with ``peer`` now and keep the result (``save_verify``)."""
    there = peer_fingerprints(setup, broker, peer, timeout=timeout)
    with db.session() as session:
        here = fingerprints(session)
        differences = compare(here, there)
        records = len(here.keys() | there.keys())
        save_verify(session, peer, now=utcnow(), records=records, differing=[d.record_id for d in differences])
    return VerifyResult(records, differences)
