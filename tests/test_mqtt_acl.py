"""Each monitor is itself, and only itself: the compose Mosquitto configuration on a real broker.

The broker runs ``deploy/mosquitto/mosquitto.conf`` itself, changed only for paths (plugin, data, certificates)
and ports, with TLS on a throwaway CA; its dynamic-security state starts as ``mosquitto_ctrl dynsec init`` makes
it and is set up by ``flask --app app mqtt-setup`` (``DynsecAdmin.setup``). Nothing is proved by waiting: a
message that must not arrive is published before one that must, on the same connection (the broker keeps
their order), so once the second is in, the first would have been too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from data.broker_admin import DynsecAdmin, sync_user
from data.mqtt_client import BrokerAddress
from data.sync_envelope import sync_topic
from testkit.servers import MosquittoServer, find_binary, free_port
from tests.fixtures_app import build_app, make_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
DEBIAN_PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
SITE = "RSX"
ADMIN, ADMIN_PASSWORD = "admin", "admin-Secret-1"
PROCESS_PASSWORDS = {"pantau-consumer": "consumer-Secret-1", "pantau-web": "web-Secret-1"}
WAIT = 10.0

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not Path(DEBIAN_PLUGIN).exists() or find_binary("mosquitto_ctrl") is None,
        reason="needs Debian's mosquitto with the dynamic-security plugin and mosquitto_ctrl",
    ),
]


def _certificates(folder: Path) -> None:
    """A CA and a server certificate for 127.0.0.1, as deploy/README.md §2 makes them with openssl."""
    now = dt.datetime.now(dt.UTC)

    def cert(subject: str, key, issuer_name, issuer_key, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pantau test CA")])
    ca = cert("Pantau test CA", ca_key, ca_name, ca_key, ca=True)
    server = cert("127.0.0.1", server_key, ca_name, ca_key, ca=False)
    folder.mkdir(exist_ok=True)
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


class ComposeMosquitto(MosquittoServer):
    """deploy/mosquitto/mosquitto.conf with this machine's paths and free ports; TLS on ``port``."""

    def __init__(self) -> None:
        super().__init__()
        self.local_port = free_port()

    @property
    def certs(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "certs"

    def _write_config(self) -> None:
        text = COMPOSE_CONF.read_text()
        text = text.replace("/usr/lib/mosquitto_dynamic_security.so", DEBIAN_PLUGIN)
        text = text.replace("/mosquitto/data/", f"{self.datadir}/").replace("/mosquitto/certs/", f"{self.certs}/")
        text = re.sub(r"^listener 8883$", f"listener {self.port} {self.host}", text, flags=re.M)
        text = re.sub(r"^listener 1883 127.0.0.1$", f"listener {self.local_port} {self.host}", text, flags=re.M)
        text = text.replace("log_dest stdout", f"log_dest file {self.logfile}")
        assert "/mosquitto/" not in text, "a path of the container is left"
        self.config_file.write_text(text + "\nuser mosquitto\n")

    def _prepare_dirs(self) -> None:
        self.datadir.mkdir(exist_ok=True)
        state = self.datadir / "dynamic-security.json"
        if not state.exists():
            _certificates(self.certs)
            subprocess.run(
                [find_binary("mosquitto_ctrl"), "dynsec", "init", str(state), ADMIN, ADMIN_PASSWORD],
                check=True,
                capture_output=True,
            )
        super()._prepare_dirs()

    def address(self, username: str | None = None, password: str | None = None) -> BrokerAddress:
        """The TLS listener, verified against the test CA."""
        return BrokerAddress(
            self.host, self.port, tls=True, username=username, password=password, ca_file=str(self.certs / "ca.crt")
        )


@pytest.fixture(scope="module")
def broker():
    """The compose broker, set up with the process users (as the compose ``mqtt-setup`` step does)."""
    server = ComposeMosquitto().start()
    try:
        DynsecAdmin(server.address(ADMIN, ADMIN_PASSWORD)).setup(PROCESS_PASSWORDS)
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def admin(broker) -> DynsecAdmin:
    return DynsecAdmin(broker.address(ADMIN, ADMIN_PASSWORD))


@dataclass
class Session:
    """One MQTT connection and what happened on it."""

    client: mqtt.Client
    connack: threading.Event = field(default_factory=threading.Event)
    refused: bool = False
    subacks: list = field(default_factory=list)
    received: list = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate, timeout: float = WAIT) -> bool:
        with self.arrived:
            return self.arrived.wait_for(predicate, timeout)

    def subscribe(self, topic: str) -> list:
        before = len(self.subacks)
        self.client.subscribe(topic, 1)
        assert self.wait_for(lambda: len(self.subacks) > before), "no SUBACK"
        return self.subacks[-1]

    def ends(self) -> bool:
        """True once the broker has closed the connection (within the wait)."""
        return self.wait_for(lambda: not self.client.is_connected())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(broker: ComposeMosquitto, username: str, password: str, client_id: str) -> Session:
    """Log in (TLS, MQTT 3.1.1) and wait for the CONNACK; ``refused`` says whether the broker said no."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    session = Session(client)
    client.tls_set(ca_certs=str(broker.certs / "ca.crt"))
    client.username_pw_set(username, password)

    def on_connect(c, userdata, flags, reason, props) -> None:
        session.refused = reason.is_failure
        session.connack.set()

    def on_subscribe(c, userdata, mid, reasons, props) -> None:
        with session.arrived:
            session.subacks.append([r.is_failure for r in reasons])
            session.arrived.notify_all()

    def on_message(c, userdata, message) -> None:
        with session.arrived:
            session.received.append((message.topic, message.payload))
            session.arrived.notify_all()

    def on_disconnect(c, userdata, flags, reason, props) -> None:
        if not session.connack.is_set():
            session.refused = True
            session.connack.set()
        with session.arrived:
            session.arrived.notify_all()

    client.on_connect, client.on_subscribe = on_connect, on_subscribe
    client.on_message, client.on_disconnect = on_message, on_disconnect
    client.reconnect_delay_set(60, 60)  # one attempt per test: a refusal stays a refusal
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert session.connack.wait(WAIT), "no CONNACK"
    return session


def topic(kind: str, device_id: str) -> str:
    return f"pantau/v1/{SITE}/{kind}/{device_id}"


@pytest.fixture
def monitors(admin, request):
    """Two provisioned monitors (unique per test), deleted afterwards."""
    ids = [f"MON-{request.node.name[-20:].strip('_[]')}-{n}" for n in (1, 2)]
    for device_id in ids:
        admin.create_device(SITE, device_id, f"pw-{device_id}")
    yield ids
    for device_id in ids:
        admin.delete_device(device_id)


@pytest.fixture
def consumer(broker):
    session = connect(broker, "pantau-consumer", PROCESS_PASSWORDS["pantau-consumer"], "pantau-consumer")
    assert not session.refused
    assert session.subscribe("pantau/v1/+/vitals/+") == [False]
    assert session.subscribe("pantau/v1/+/status/+") == [False]
    yield session
    session.close()


def test_a_monitor_cannot_publish_as_another(broker, monitors, consumer):
    mine, other = monitors
    for forged in (topic("vitals", other), topic("status", other), f"pantau/v1/OTHER/vitals/{mine}"):
        device = connect(broker, mine, f"pw-{mine}", mine)
        assert not device.refused
        device.client.publish(forged, b'{"forged":1}', qos=1)
        # Mosquitto answers a refused publish by closing the connection.
        assert device.ends(), forged
        device.close()
    device = connect(broker, mine, f"pw-{mine}", mine)
    device.client.publish(topic("vitals", mine), b'{"own":1}', qos=1)
    assert consumer.wait_for(lambda: consumer.received)
    assert consumer.received == [(topic("vitals", mine), b'{"own":1}')]
    device.close()


def test_a_monitor_cannot_read_other_topics_only_its_commands(broker, monitors):
    mine, other = monitors
    device = connect(broker, mine, f"pw-{mine}", mine)
    assert device.subscribe("#") == [True]
    assert device.subscribe("pantau/v1/+/vitals/+") == [True]
    assert device.subscribe(topic("cmd", other)) == [True]
    assert device.subscribe(topic("cmd", mine)) == [False]
    # The consumer asks for a resend; only the monitor it is meant for gets it.
    consumer = connect(broker, "pantau-consumer", PROCESS_PASSWORDS["pantau-consumer"], "pantau-consumer")
    consumer.client.publish(topic("cmd", mine), b'{"cmd":"resend"}', qos=1)
    assert device.wait_for(lambda: device.received)
    assert device.received == [(topic("cmd", mine), b'{"cmd":"resend"}')]
    consumer.close()
    device.close()


def test_client_ids_are_bound_to_users(broker, monitors):
    mine, other = monitors
    assert connect(broker, mine, f"pw-{mine}", "pantau-consumer").refused
    assert connect(broker, mine, f"pw-{mine}", other).refused
    assert connect(broker, mine, f"pw-{other}", mine).refused  # another monitor's password
    assert connect(broker, other, f"pw-{mine}", other).refused
    assert connect(broker, "pantau-consumer", "wrong", "pantau-consumer").refused
    second = connect(broker, "pantau-consumer", PROCESS_PASSWORDS["pantau-consumer"], "pantau-consumer-2")
    assert not second.refused  # the second consumer on the shared subscription, under an id of its own
    second.close()
    assert connect(broker, "nobody", "x", "nobody").refused


def test_process_users_have_only_their_topics(broker, monitors, consumer):
    web = connect(broker, "pantau-web", PROCESS_PASSWORDS["pantau-web"], "pantau-web-probe-1")
    assert not web.refused
    assert web.subscribe("pantau/v1/+/vitals/+") == [True]
    web.client.publish(topic("vitals", monitors[0]), b"{}", qos=1)  # refused: must not arrive
    assert web.ends()
    device = connect(broker, monitors[0], f"pw-{monitors[0]}", monitors[0])
    device.client.publish(topic("vitals", monitors[0]), b'{"own":1}', qos=1)
    assert consumer.wait_for(lambda: consumer.received)
    assert consumer.received == [(topic("vitals", monitors[0]), b'{"own":1}')]
    assert consumer.subscribe("#") == [True]
    for session in (web, device):
        session.close()


@pytest.fixture
def provisioning_app(tmp_path, broker):
    """The Pantau app with the compose broker and its admin user (SQLite, demo data)."""
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'pantau.db'}",
        "memory://",
        f"mqtts://{broker.host}:{broker.port}",
        mqtt_ca_file=str(broker.certs / "ca.crt"),
        mqtt_admin_username=ADMIN,
        mqtt_admin_password=ADMIN_PASSWORD,
        site_code=SITE,
    )
    app = build_app(settings)
    yield app
    app.runtime.close()


def _password(output: str) -> str:
    return re.search(r"password (\S+)", output).group(1)


def test_registered_rotated_and_retired_monitors_on_a_running_broker(provisioning_app, broker, consumer):
    runner = provisioning_app.server.test_cli_runner()
    result = runner.invoke(args=["create-device", "MON-NEW-01", "--model", "Mindray ePM 10"])
    assert result.exit_code == 0, result.output
    first = _password(result.output)
    device = connect(broker, "MON-NEW-01", first, "MON-NEW-01")
    assert not device.refused  # no broker restart
    device.client.publish(topic("vitals", "MON-NEW-01"), b'{"seq":1}', qos=1)
    assert consumer.wait_for(lambda: consumer.received)

    result = runner.invoke(args=["rotate-device-credential", "MON-NEW-01"])
    assert result.exit_code == 0, result.output
    second = _password(result.output)
    assert second != first
    assert device.ends()  # the old login is ended
    device.close()
    assert connect(broker, "MON-NEW-01", first, "MON-NEW-01").refused
    fresh = connect(broker, "MON-NEW-01", second, "MON-NEW-01")
    assert not fresh.refused
    fresh.close()

    result = runner.invoke(args=["retire-device", "MON-NEW-01"])
    assert result.exit_code == 0, result.output
    assert connect(broker, "MON-NEW-01", second, "MON-NEW-01").refused
    refused = runner.invoke(args=["rotate-device-credential", "MON-NEW-01"])
    assert refused.exit_code != 0 and "retired" in refused.output


def test_the_compose_simulator_logs_each_monitor_in_as_itself(provisioning_app, broker, consumer, tmp_path):
    """The ``sim`` profile: sim-provision writes the passwords, the simulator reads them (iot_sim --credentials)."""
    from iot_sim.cli import read_credentials
    from iot_sim.simulator import Simulator

    file = tmp_path / "sim-credentials.json"
    runner = provisioning_app.server.test_cli_runner()
    result = runner.invoke(args=["provision-sim-devices", "--file", str(file), "--devices", "MON-SIM-01,MON-ICU-01"])
    assert result.exit_code == 0, result.output
    assert file.stat().st_mode & 0o077 == 0, "only its owner may read the passwords"
    credentials = read_credentials(str(file))
    assert set(credentials) == {"MON-SIM-01", "MON-ICU-01"}
    address = broker.address("pantau-web", PROCESS_PASSWORDS["pantau-web"])  # any user: not used by monitors
    sim = Simulator(address, SITE, sorted(credentials), rate=4, control=False, credentials=credentials)
    sim.start()
    try:
        wanted = {topic("vitals", device_id) for device_id in credentials}
        assert consumer.wait_for(lambda: wanted <= {t for t, _ in consumer.received}), consumer.received
    finally:
        sim.stop()


def test_a_sync_site_writes_only_its_own_sync_topics(admin, broker):
    """A site's sync worker (``flask --app app sync-site-credential``) writes its own changes and
    acknowledgements, reads every site's, and is cut off when it writes as another site."""
    admin.set_sync_site("PKM-01", "pw-pkm-old")
    admin.set_sync_site("PKM-01", "pw-pkm")  # a new password: the old one stops working
    admin.set_sync_site("RS-01", "pw-rs")
    assert connect(broker, sync_user("PKM-01"), "pw-pkm-old", sync_user("PKM-01")).refused
    assert connect(broker, sync_user("PKM-01"), "pw-pkm", "another-client-id").refused
    hospital = connect(broker, sync_user("RS-01"), "pw-rs", sync_user("RS-01"))
    assert hospital.subscribe(sync_topic("+")) == [False] and hospital.subscribe("pantau/v1/+/vitals/+") == [True]
    puskesmas = connect(broker, sync_user("PKM-01"), "pw-pkm", sync_user("PKM-01"))
    assert not puskesmas.refused
    puskesmas.client.publish(sync_topic("PKM-01"), b"sealed", qos=1)
    assert hospital.wait_for(lambda: hospital.received)
    assert hospital.received == [(sync_topic("PKM-01"), b"sealed")]
    puskesmas.client.publish(sync_topic("RS-01"), b"forged", qos=1)  # as the hospital: refused, cut off
    assert puskesmas.ends()
    assert hospital.received == [(sync_topic("PKM-01"), b"sealed")]
    hospital.close()
