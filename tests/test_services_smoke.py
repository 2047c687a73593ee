"""Smoke tests: the real services and the browser the suite starts actually work."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
import redis
import sqlalchemy as sa

from testkit.servers import SERVICE_PORTS_FROM, MosquittoServer, ephemeral_ports_start, free_port

pytestmark = pytest.mark.services

TIMEOUT = 10.0


# ------------------------------------------------------------------------------------------------ PostgreSQL


def _scalar(url: str, sql: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_postgres_answers(postgres_url: str) -> None:
    version = _scalar(postgres_url, "SELECT version()")
    assert isinstance(version, str)
    assert version.startswith("PostgreSQL")
    assert _scalar(postgres_url, "SELECT current_database()") == sa.make_url(postgres_url).database
    assert _scalar(postgres_url, "SHOW server_encoding") == "UTF8"


def test_postgres_create_database(postgres_server) -> None:
    name = f"smoke_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    assert sa.make_url(url).database == name
    assert _scalar(url, "SELECT current_database()") == name
    assert _scalar(url, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'") == 0


# ----------------------------------------------------------------------------------------------------- Redis


def test_redis_set_get(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        key = f"pantau:smoke:{uuid.uuid4().hex}"
        assert client.ping()
        client.set(key, "Selamat pagi", ex=60)
        assert client.get(key) == b"Selamat pagi"
        client.delete(key)
    finally:
        client.close()


# ------------------------------------------------------------------------------------------------- Mosquitto


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


class _Client:
    """A paho-mqtt 2 client in a background loop that records what it receives."""

    def __init__(self, url: str, client_id: str, *, clean_session: bool = True) -> None:
        self.host, self.port = _host_port(url)
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.received: list[mqtt.MQTTMessage] = []
        self.got_message = threading.Event()
        self.session_present: bool | None = None
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self.session_present = bool(flags.session_present)
        if not reason_code.is_failure:
            self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self.subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        self.received.append(message)
        self.got_message.set()

    def connect(self) -> _Client:
        self.connected.clear()
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(TIMEOUT), "MQTT connect timed out"
        return self

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=qos)
        assert self.subscribed.wait(TIMEOUT), "MQTT subscribe timed out"

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(timeout=TIMEOUT)
        assert info.is_published(), "MQTT publish was not acknowledged"

    def disconnect(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mqtt_clients(mqtt_url: str) -> Iterator[list[_Client]]:
    clients: list[_Client] = []
    yield clients
    for client in clients:
        client.disconnect()


def test_mqtt_publish_subscribe(mqtt_url: str, mqtt_clients: list[_Client]) -> None:
    tag = uuid.uuid4().hex[:12]
    topic = f"pantau/v1/smoke/vitals/MON-{tag}"
    subscriber = _Client(mqtt_url, f"smoke-sub-{tag}").connect()
    mqtt_clients.append(subscriber)
    subscriber.subscribe(topic, qos=1)
    publisher = _Client(mqtt_url, f"smoke-pub-{tag}").connect()
    mqtt_clients.append(publisher)

    publisher.publish(topic, b'{"v":1,"hr":82}', qos=1)

    assert subscriber.got_message.wait(TIMEOUT), "no message received"
    message = subscriber.received[0]
    assert message.topic == topic
    assert message.payload == b'{"v":1,"hr":82}'
    assert message.qos == 1


def test_mqtt_persistent_session_survives_broker_restart(
    mosquitto_server: MosquittoServer, mqtt_clients: list[_Client]
) -> None:
    tag = uuid.uuid4().hex[:12]
    topic = f"pantau/v1/smoke/vitals/MON-{tag}"
    client_id = f"smoke-persistent-{tag}"
    url = mosquitto_server.url

    subscriber = _Client(url, client_id, clean_session=False).connect()
    subscriber.subscribe(topic, qos=1)
    subscriber.disconnect()

    publisher = _Client(url, f"smoke-pub-{tag}").connect()
    publisher.publish(topic, b"queued while offline", qos=1)
    publisher.disconnect()

    mosquitto_server.stop()
    assert not mosquitto_server.running
    mosquitto_server.start()
    assert mosquitto_server.url == url, "the broker must come back on the same port"

    again = _Client(url, client_id, clean_session=False)
    mqtt_clients.append(again)
    again.connect()
    assert again.session_present is True, "the broker forgot the persistent session"
    assert again.got_message.wait(TIMEOUT), "the queued QoS 1 message was lost across the restart"
    assert [m.payload for m in again.received] == [b"queued while offline"]
    assert again.received[0].topic == topic


# --------------------------------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_browser_renders(page) -> None:
    page.set_content("<h1>ok</h1>")
    assert page.text_content("h1") == "ok"
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Jakarta"
    assert page.evaluate("navigator.language") == "id-ID"
    assert page.viewport_size == {"width": 1366, "height": 768}


# ------------------------------------------------------------------------------------------------ free ports


def test_free_ports_lie_below_the_ephemeral_range_where_no_outgoing_connection_takes_them():
    """What ``free_port`` hands a service is bindable and, where the kernel leaves room, below the range its
    outgoing connections draw from (a test's app once lost its port to one between the check and its bind)."""
    start = ephemeral_ports_start()
    ports = [free_port() for _ in range(50)]
    if start - SERVICE_PORTS_FROM > 1000:
        assert all(SERVICE_PORTS_FROM <= port < start for port in ports), ports
    assert len(set(ports)) > 40, "random picks, so that parallel test processes rarely meet"
    for port in ports[:5]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))
