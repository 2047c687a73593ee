"""The one MQTT helper (paho-mqtt 2) used by the consumer, the simulator, facility sync and health checks.

* :class:`BrokerAddress` - where the broker is (``mqtt://host:port`` or ``mqtts://host:port``) and how to log
  in; its ``repr``/``str`` never show the password.
* :func:`broker_address` - the address from the :class:`config.Settings` (or the embedded broker).
* :func:`make_client` - a configured, not yet connected client: MQTT 3.1.1, persistent session by default,
  reconnect back-off 1-30 s, verified TLS for ``mqtts://``.
* :func:`probe_broker` - a real CONNECT/CONNACK round trip for ``/healthz``.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

if TYPE_CHECKING:
    from config import Settings

__all__ = ["BrokerAddress", "broker_address", "make_client", "probe_broker"]

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
EMBEDDED_HOST = "127.0.0.1"
KEEPALIVE = 30
RECONNECT_MIN_DELAY = 1
RECONNECT_MAX_DELAY = 5  # a broker that is back is used again within seconds: the live screens wait on it

OnConnect = Callable[[mqtt.Client, Any, mqtt.ConnectFlags, Any, Any], None]
OnMessage = Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]


@dataclass(frozen=True)
class BrokerAddress:
    """Where an MQTT broker listens and how to authenticate; the password is never printed."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
    ) -> BrokerAddress:
        """Parse ``mqtt://[user[:pass]@]host[:port]`` (default 1883) or ``mqtts://...`` (TLS, default 8883).

        Explicit ``username``/``password`` win over credentials in the URL; empty strings count as unset.
        """
        parts = urlsplit((url or "").strip())
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError("MQTT URL must start with mqtt:// or mqtts://")
        host = parts.hostname
        if not host:
            raise ValueError("MQTT URL has no host")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise ValueError("MQTT URL has an invalid port") from None
        url_user = unquote(parts.username) if parts.username else None
        url_pass = unquote(parts.password) if parts.password else None
        return cls(
            host=host,
            port=port,
            tls=scheme == "mqtts",
            username=username or url_user,
            password=password or url_pass,
            ca_file=ca_file or None,
        )

    @property
    def url(self) -> str:
        """``mqtt[s]://[user@]host:port`` - safe to log (no password)."""
        scheme = "mqtts" if self.tls else "mqtt"
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{host}:{self.port}"

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return (
            f"BrokerAddress(host={self.host!r}, port={self.port}, tls={self.tls}, "
            f"username={self.username!r}, password={'***' if self.password else None}, "
            f"ca_file={self.ca_file!r})"
        )


def broker_address(settings: Settings, embedded_port: int | None = None) -> BrokerAddress:
    """The broker from ``settings.mqtt_url`` (+ username, password, CA file), else the embedded one.

    For the embedded broker pass the port it actually listens on (``EmbeddedBroker.start()`` returns it);
    without it ``settings.embedded_mqtt_port`` is used.
    """
    if settings.mqtt_url:
        return BrokerAddress.from_url(
            settings.mqtt_url,
            username=settings.mqtt_username or None,
            password=settings.mqtt_password or None,
            ca_file=settings.mqtt_ca_file or None,
        )
    port = embedded_port if embedded_port is not None else settings.embedded_mqtt_port
    if not port:
        raise ValueError("the embedded broker's port is not known yet (start it first and pass its port)")
    return BrokerAddress(host=EMBEDDED_HOST, port=port)


def _configure(client: mqtt.Client, address: BrokerAddress) -> None:
    if address.tls:
        # Verified TLS only: the certificate must chain to ca_file (or the system CAs) and match the host.
        client.tls_set(ca_certs=address.ca_file, cert_reqs=ssl.CERT_REQUIRED)
    if address.username:
        client.username_pw_set(address.username, address.password)


def make_client(
    address: BrokerAddress,
    client_id: str,
    *,
    persistent: bool = True,
    on_connect: OnConnect | None = None,
    on_message: OnMessage | None = None,
) -> mqtt.Client:
    """A configured paho client, not connected yet.

    Connect with ``client.connect_async(address.host, address.port, KEEPALIVE)`` + ``client.loop_start()``
    (paho then reconnects by itself with the 1-30 s back-off), or ``connect`` + ``loop_forever``.

    ``persistent`` = fixed ``client_id`` + ``clean_session=False``: the broker keeps the subscriptions and
    queues QoS 1 messages while the client is away, so a restarted consumer gets what it missed. Subscribe in
    ``on_connect`` (it runs on every reconnect). ``on_connect`` and ``on_disconnect`` also log; replace
    ``client.on_disconnect`` freely, but pass ``on_connect`` here to keep the connect log.
    """
    if persistent and not client_id:
        raise ValueError("a persistent MQTT session needs a fixed client id")
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=mqtt.MQTTv311,  # the embedded amqtt broker speaks 3.1.1 only
    )
    client.reconnect_delay_set(min_delay=RECONNECT_MIN_DELAY, max_delay=RECONNECT_MAX_DELAY)
    _configure(client, address)
    where = address.url

    def _on_connect(c: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            log.warning(
                "mqtt connect refused",
                extra={"broker": where, "client_id": client_id, "reason": str(reason_code)},
            )
        else:
            log.info(
                "mqtt connected",
                extra={"broker": where, "client_id": client_id, "session_present": flags.session_present},
            )
        if on_connect is not None:
            on_connect(c, userdata, flags, reason_code, properties)

    def _on_disconnect(
        c: mqtt.Client, userdata: Any, flags: mqtt.DisconnectFlags, reason_code: Any, properties: Any
    ) -> None:
        level = logging.INFO if reason_code == 0 else logging.WARNING
        log.log(
            level,
            "mqtt disconnected",
            extra={"broker": where, "client_id": client_id, "reason": str(reason_code)},
        )

    def _on_connect_fail(c: mqtt.Client, userdata: Any) -> None:
        log.warning("mqtt connect failed, will retry", extra={"broker": where, "client_id": client_id})

    client.on_connect = _on_connect
    client.on_disconnect = _on_disconnect
    client.on_connect_fail = _on_connect_fail
    if on_message is not None:
        client.on_message = on_message
    return client


def probe_broker(address: BrokerAddress, timeout: float = 2.0) -> bool:
    """True when the broker answers a CONNECT with a successful CONNACK within ``timeout`` seconds.

    Uses a throwaway clean-session client id, runs no background thread, never raises.
    """
    deadline = time.monotonic() + timeout
    result: dict[str, bool] = {}
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"pantau-probe-{uuid.uuid4().hex[:12]}",
        clean_session=True,
        protocol=mqtt.MQTTv311,
        reconnect_on_failure=False,
    )

    def _on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        result["ok"] = not reason_code.is_failure

    client.on_connect = _on_connect
    try:
        _configure(client, address)
        client.connect_timeout = max(0.1, timeout)
        client.connect(address.host, address.port, keepalive=max(5, int(timeout) + 5))
        while "ok" not in result:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if client.loop(timeout=min(0.1, remaining)) != mqtt.MQTT_ERR_SUCCESS:
                break  # connection closed by the broker
        ok = result.get("ok", False)
        if ok:
            client.disconnect()
            client.loop(timeout=0.05)  # flush the DISCONNECT
        return ok
    except Exception as exc:  # any failure means "not reachable"
        log.debug("mqtt probe failed", extra={"broker": address.url, "error": str(exc)})
        return False
    finally:
        sock = client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
