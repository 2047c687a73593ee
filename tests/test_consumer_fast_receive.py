"""The consumer's MQTT receive path (bridge/consumer/fast_receive.py), fed raw MQTT 3.1.1 bytes through a socket
pair: every PUBLISH reaches ``deliver`` once, in order, however the bytes are split between reads; other
packets go through paho's own handling; the returned function sends the PUBACKs; paho's stock path gives the
same deliveries."""

from __future__ import annotations

import random
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from bridge.consumer.fast_receive import Acknowledge, FastClient, receive

Delivery = tuple[bytes, bytes, int, int]


def remaining_length(size: int) -> bytes:
    out = bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        out.append(byte | (0x80 if size else 0))
        if not size:
            return bytes(out)


def publish(topic: bytes, payload: bytes, mid: int, qos: int) -> bytes:
    """A PUBLISH packet as a broker sends it."""
    body = struct.pack("!H", len(topic)) + topic + (struct.pack("!H", mid) if qos else b"") + payload
    return bytes([0x30 | qos << 1]) + remaining_length(len(body)) + body


PINGRESP = b"\xd0\x00"


@dataclass
class Wired:
    """A client whose socket is one end of a pair; the test plays the broker at the other end."""

    client: mqtt.Client
    broker: socket.socket
    acknowledge: Acknowledge
    delivered: list[Delivery] = field(default_factory=list)

    def feed(self, data: bytes) -> None:
        self.broker.sendall(data)
        assert self.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def received_by_broker(self) -> bytes:
        self.broker.settimeout(1)
        return self.broker.recv(65536)


def wire(client: mqtt.Client, *, fast: bool) -> Iterator[Wired]:
    delivered: list[Delivery] = []
    acknowledge = receive(client, lambda *message: delivered.append(message), fast=fast)
    ours, broker = socket.socketpair()
    ours.setblocking(False)
    client._sock = ours  # as if connected: the receive path reads this socket
    try:
        yield Wired(client, broker, acknowledge, delivered)
    finally:
        ours.close()
        broker.close()


def new_client() -> mqtt.Client:
    return mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fast-receive-test", protocol=mqtt.MQTTv311)


@pytest.fixture(params=["fast", "stock"])
def wired(request: pytest.FixtureRequest) -> Iterator[Wired]:
    yield from wire(new_client(), fast=request.param == "fast")


@pytest.fixture
def fast() -> Iterator[Wired]:
    yield from wire(new_client(), fast=True)


def messages(count: int, seed: int = 12) -> list[Delivery]:
    rng = random.Random(seed)
    return [
        (f"pantau/v1/S/vitals/MON-{n % 7}".encode(), rng.randbytes(rng.choice([0, 1, 90, 400, 5000])), n + 1, n % 2)
        for n in range(count)
    ]


def expected(sent: list[Delivery]) -> list[Delivery]:
    return [(topic, payload, mid if qos else 0, qos) for topic, payload, mid, qos in sent]


def test_the_fast_path_is_used_where_paho_allows_it() -> None:
    client = new_client()
    receive(client, lambda *message: None)
    assert type(client) is FastClient
    stock = new_client()
    receive(stock, lambda *message: None, fast=False)
    assert type(stock) is mqtt.Client


def test_a_client_of_another_class_keeps_the_stock_path() -> None:
    class Custom(mqtt.Client):
        pass

    client = Custom(CallbackAPIVersion.VERSION2, client_id="custom", protocol=mqtt.MQTTv311)
    receive(client, lambda *message: None)
    assert type(client) is Custom


def test_every_publish_is_delivered_once_in_order(wired: Wired) -> None:
    sent = messages(60)
    wired.feed(b"".join(publish(*message) for message in sent))
    for _ in range(len(sent)):  # the stock path reads one packet per call
        if len(wired.delivered) == len(sent):
            break
        wired.client.loop_read()
    assert wired.delivered == expected(sent)


def test_bytes_split_anywhere_between_reads(fast: Wired) -> None:
    sent = [*messages(40, seed=7), (b"pantau/v1/S/vitals/BIG", bytes(300 * 1024), 99, 1)]  # more than one read
    data = b"".join(publish(*message) for message in sent)
    rng = random.Random(3)
    cuts = [*sorted(rng.sample(range(1, len(data)), 300)), len(data)]
    start = 0
    for cut in cuts:
        fast.feed(data[start:cut])
        start = cut
    for _ in range(10):  # the big packet arrives in several socket reads
        if len(fast.delivered) == len(sent):
            break
        assert fast.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert fast.delivered == expected(sent)


def test_other_packets_take_pahos_own_path(fast: Wired) -> None:
    fast.client._ping_t = 123.0  # waiting for a PINGRESP
    sent = messages(4)
    fast.feed(publish(*sent[0]) + publish(*sent[1]) + PINGRESP + publish(*sent[2]) + publish(*sent[3]))
    assert fast.delivered == expected(sent)
    assert fast.client._ping_t == 0  # paho handled the PINGRESP


def test_an_empty_topic_is_a_protocol_error(fast: Wired) -> None:
    fast.broker.sendall(publish(b"", b"{}", 1, 1))
    assert fast.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL
    assert fast.delivered == []


def test_acknowledge_sends_the_pubacks(wired: Wired) -> None:
    wired.acknowledge([1, 2, 513])
    assert wired.received_by_broker() == b"\x40\x02\x00\x01\x40\x02\x00\x02\x40\x02\x02\x01"


def test_nothing_is_acknowledged_by_itself(wired: Wired) -> None:
    wired.feed(publish(*messages(1)[0]) + publish(b"pantau/v1/S/vitals/MON-1", b"{}", 7, 1))
    assert len(wired.delivered) >= 1
    wired.broker.setblocking(False)
    with pytest.raises(BlockingIOError):
        wired.broker.recv(100)  # manual acknowledgement: no PUBACK until the batch is stored
