"""The MQTT helper and the embedded broker, against a real Mosquitto (``mqtt_url``) and the embedded amqtt."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from bridge.embedded_broker import EmbeddedBroker
from config import load_settings
from data.mqtt_client import BrokerAddress, broker_address, make_client, probe_broker
from tests.waiting import returns_within

WAIT = 5.0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as broker:
        broker.start(0)
        yield broker


@pytest.fixture(params=[pytest.param("mosquitto", marks=pytest.mark.services), "embedded"])
def broker(request: pytest.FixtureRequest) -> BrokerAddress:
    if request.param == "mosquitto":
        return BrokerAddress.from_url(request.getfixturevalue("mqtt_url"))
    return BrokerAddress.from_url(request.getfixturevalue("embedded").url)


class Peer:
    """A started client that records connects, subscriptions and messages, with events to wait on."""

    def __init__(self, address: BrokerAddress, client_id: str, *, persistent: bool, topic: str | None = None):
        self.topic = topic
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.session_present: bool | None = None
        self.messages: list[mqtt.MQTTMessage] = []
        self._cond = threading.Condition()
        self.client = make_client(
            address,
            client_id,
            persistent=persistent,
            on_connect=self._on_connect,
            on_message=self._on_message,
        )
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.connect(address.host, address.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(WAIT), "no CONNACK"
        if topic is not None:
            assert self.subscribed.wait(WAIT), "no SUBACK"

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.session_present = flags.session_present
        if self.topic is not None:
            client.subscribe(self.topic, qos=1)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_messages(self, count: int, timeout: float = WAIT) -> list[mqtt.MQTTMessage]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _topic() -> str:
    return f"pantau/v1/TEST/vitals/MON-{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------------------------------------ addresses


def test_broker_address_from_url() -> None:
    plain = BrokerAddress.from_url("mqtt://broker.local")
    assert (plain.host, plain.port, plain.tls, plain.username, plain.password) == (
        "broker.local", 1883, False, None, None,
    )  # fmt: skip
    secure = BrokerAddress.from_url("mqtts://broker.local", ca_file="/etc/pantau/ca.pem")
    assert (secure.port, secure.tls, secure.ca_file) == (8883, True, "/etc/pantau/ca.pem")
    assert BrokerAddress.from_url("mqtts://10.0.0.5:18883").port == 18883
    assert BrokerAddress.from_url("mqtt://[::1]:1884").host == "::1"

    in_url = BrokerAddress.from_url("mqtt://pantau:p%40ss%3Aword@broker.local:1884")
    assert (in_url.username, in_url.password, in_url.port) == ("pantau", "p@ss:word", 1884)
    explicit = BrokerAddress.from_url("mqtt://a:b@broker.local", username="consumer", password="s3cret")
    assert (explicit.username, explicit.password) == ("consumer", "s3cret")

    for bad in ("http://broker.local", "broker.local:1883", "mqtt://", "mqtt://host:notaport", ""):
        with pytest.raises(ValueError):
            BrokerAddress.from_url(bad)


def test_password_never_printed() -> None:
    address = BrokerAddress.from_url("mqtts://consumer:Sup3r-S3cret@broker.local")
    for text in (repr(address), str(address), address.url, f"{address}", f"{address!r}"):
        assert "Sup3r-S3cret" not in text
    assert "consumer" in repr(address) and "***" in repr(address)
    assert str(address) == "mqtts://consumer@broker.local:8883"


def test_broker_address_from_settings() -> None:
    settings = load_settings(
        mqtt_url="mqtts://mq.rs.local:8883",
        mqtt_username="consumer",
        mqtt_password="pw",
        mqtt_ca_file="/ca.pem",
    )
    address = broker_address(settings)
    assert address == BrokerAddress("mq.rs.local", 8883, True, "consumer", "pw", "/ca.pem")

    embedded = load_settings(mqtt_url="", mqtt_username="", mqtt_password="", embedded_mqtt_port=1883)
    expected = BrokerAddress("127.0.0.1", 41234, False, None, None, None)
    assert broker_address(embedded, embedded_port=41234) == expected
    assert broker_address(embedded).port == 1883
    with pytest.raises(ValueError):
        broker_address(load_settings(mqtt_url="", embedded_mqtt_port=0))


def test_persistent_client_needs_an_id() -> None:
    with pytest.raises(ValueError):
        make_client(BrokerAddress("127.0.0.1", 1883), "", persistent=True)
    make_client(BrokerAddress("127.0.0.1", 1883), "", persistent=False)  # clean session: broker assigns an id


# ------------------------------------------------------------------------------------------------ probe


def test_probe_true_against_real_brokers(broker: BrokerAddress) -> None:
    threads_before = threading.active_count()
    assert probe_broker(broker) is True
    assert threading.active_count() == threads_before


def test_probe_false_for_closed_port_and_silent_listener() -> None:
    threads_before = threading.active_count()
    closed = BrokerAddress("127.0.0.1", _closed_port())
    assert returns_within(4, lambda: probe_broker(closed, timeout=1.0), "probe of a closed port") is False
    with socket.socket() as silent:  # accepts TCP but never answers MQTT
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        quiet = BrokerAddress("127.0.0.1", silent.getsockname()[1])
        assert returns_within(4, lambda: probe_broker(quiet, timeout=0.5), "probe of a silent listener") is False
    assert threading.active_count() == threads_before


# ------------------------------------------------------------------------------------------------ delivery


def test_qos1_round_trip(broker: BrokerAddress) -> None:
    topic = _topic()
    consumer = Peer(broker, f"test-sub-{uuid.uuid4().hex[:8]}", persistent=False, topic=topic)
    device = Peer(broker, f"test-pub-{uuid.uuid4().hex[:8]}", persistent=False)
    try:
        payloads = [f'{{"v":1,"seq":{i},"hr":{70 + i}}}'.encode() for i in range(5)]
        for payload in payloads:
            info = device.client.publish(topic, payload, qos=1)
            info.wait_for_publish(WAIT)
            assert info.is_published()  # PUBACK received
        received = consumer.wait_messages(len(payloads))
        assert [m.payload for m in received] == payloads
        assert {m.qos for m in received} == {1}
        assert {m.topic for m in received} == {topic}
    finally:
        device.stop()
        consumer.stop()


def test_a_client_gets_only_the_retained_messages_of_its_own_subscriptions(broker: BrokerAddress) -> None:
    """A monitor's retained status, under the consumer's subscription, never reaches another monitor that
    subscribed to its own command topic only. amqtt 0.12 sent each connecting client the retained messages of every
    filter any client had subscribed to (the demo's monitors took the others' statuses for commands), awaiting each
    while other clients subscribed, and died mid-loop with "dictionary changed size during iteration"."""
    status, command = _topic() + "/status", _topic() + "/cmd"
    consumer = Peer(broker, f"test-sub-{uuid.uuid4().hex[:8]}", persistent=False, topic=status.rsplit("/", 1)[0] + "/#")
    device = Peer(broker, f"test-pub-{uuid.uuid4().hex[:8]}", persistent=False)
    newcomer = None
    try:
        device.client.publish(status, b'{"online":true}', qos=1, retain=True).wait_for_publish(WAIT)
        assert consumer.wait_messages(1)[0].topic == status
        newcomer = Peer(broker, f"test-mon-{uuid.uuid4().hex[:8]}", persistent=False, topic=command)
        device.client.publish(command, b'{"cmd":"resend"}', qos=1).wait_for_publish(WAIT)
        assert [m.topic for m in newcomer.wait_messages(1)] == [command]  # a retained one would have come first
    finally:
        device.client.publish(status, b"", qos=1, retain=True).wait_for_publish(WAIT)  # the retained one cleared
        for peer in (newcomer, device, consumer):
            if peer is not None:
                peer.stop()


def test_persistent_session_gets_messages_sent_while_offline(broker: BrokerAddress) -> None:
    topic = _topic()
    client_id = f"test-consumer-{uuid.uuid4().hex[:8]}"
    consumer = Peer(broker, client_id, persistent=True, topic=topic)
    assert consumer.session_present is False
    consumer.stop()  # the consumer goes away (e.g. restarts); its session stays on the broker

    device = Peer(broker, f"test-dev-{uuid.uuid4().hex[:8]}", persistent=False)
    payloads = [f"offline-{i}".encode() for i in range(10)]
    try:
        for payload in payloads:
            device.client.publish(topic, payload, qos=1).wait_for_publish(WAIT)
    finally:
        device.stop()

    back = Peer(broker, client_id, persistent=True, topic=None)  # does not even re-subscribe
    try:
        assert back.session_present is True
        received = back.wait_messages(len(payloads))
        assert sorted(m.payload for m in received) == sorted(payloads)
        assert {m.qos for m in received} == {1}
    finally:
        back.stop()
        # Leave nothing queued behind on the shared broker: end the session with a clean connect.
        Peer(broker, client_id, persistent=False).stop()


# ------------------------------------------------------------------------------------------ embedded broker


def test_embedded_broker_takes_another_port_when_busy() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        with EmbeddedBroker() as broker:
            port = broker.start(busy)
            assert port != busy
            assert broker.start(busy) == port  # already running: same port
            assert probe_broker(BrokerAddress("127.0.0.1", port)) is True
        assert not broker.running
        broker.stop()  # idempotent
    assert probe_broker(BrokerAddress("127.0.0.1", port), timeout=0.5) is False


def test_embedded_broker_uses_the_requested_free_port_and_restarts() -> None:
    threads_before = set(threading.enumerate())
    wanted = _closed_port()
    broker = EmbeddedBroker()
    try:
        assert broker.start(wanted) == wanted
        assert broker.url == f"mqtt://127.0.0.1:{wanted}"
        broker.stop()
        assert probe_broker(BrokerAddress("127.0.0.1", wanted), timeout=0.5) is False
        assert broker.start(wanted) == wanted  # the same object starts again, on the same port
        assert probe_broker(BrokerAddress("127.0.0.1", wanted)) is True
    finally:
        broker.stop()
    assert set(threading.enumerate()) <= threads_before  # no broker thread left behind
