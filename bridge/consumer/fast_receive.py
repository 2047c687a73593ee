"""The consumer's MQTT receive path: :func:`receive` hands every PUBLISH a paho client receives to one function
and returns the one that acknowledges them. Behind it, :class:`FastClient`, a cheaper receive path switched on
when this paho has the internals it relies on; otherwise paho's stock ``on_message`` path."""

from __future__ import annotations

import logging
import ssl
import struct
import time
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.client import MalformedPacket

__all__ = ["Acknowledge", "Deliver", "FastClient", "receive"]

log = logging.getLogger(__name__)

_PUBACK = struct.Struct("!BBH")
_PUBACK_CMD = 0x40

Deliver = Callable[[bytes, bytes, int, int], None]
"""``deliver(topic, payload, mid, qos)``, called on paho's network thread for each PUBLISH received."""
Acknowledge = Callable[[Sequence[int]], None]
"""``acknowledge(mids)`` sends the PUBACKs of QoS 1 messages."""


class FastClient(mqtt.Client):
    """paho's client with the consumer's receive path made cheaper (about 3x less CPU per message).

    Stock paho reads each packet with 3-4 ``recv`` calls, one ``select`` and one loop pass, then builds an
    ``MQTTMessage`` (and an ``MQTTMessageInfo``) for it; at 15,000 messages a second that is most of the
    consumer's CPU. A client made by :func:`data.mqtt_client.make_client` (so TLS, auth and reconnect back-off are
    configured there, once) is switched to this class by :func:`receive`, which gives it:

    * one 256 KiB read buffer: a single ``recv`` for hundreds of packets;
    * ``loop_read`` that parses every complete PUBLISH (QoS 0/1) in the buffer itself and hands
      ``(topic, payload, mid, qos)`` to :attr:`on_publish_fast`; any other packet (CONNACK, SUBACK, PINGRESP,
      QoS 2, ...) and any packet paho was already in the middle of go through paho's own handling;
    * ``_loop`` that handles buffered packets before it waits in ``select``;
    * ``ack_many``: a whole batch of PUBACKs in one write.

    It relies on paho 2's private methods and attributes; :func:`receive` checks them and otherwise leaves
    the stock client (and its ``on_message`` path) in place.
    """

    _READ_SIZE = 256 * 1024
    _MAX_PACKETS = 2000
    _rbuf: bytes = b""
    _rpos: int = 0
    on_publish_fast: Callable[[bytes, bytes, int, int], None] | None = None

    def reconnect(self) -> mqtt.MQTTErrorCode:
        self._rbuf, self._rpos = b"", 0  # bytes of an old connection must never reach the new one
        return super().reconnect()

    def _recv(self) -> bytes:
        """Raw bytes from the socket; ``BlockingIOError`` when there are none yet, ``b""`` when closed."""
        sock = self._sock
        if sock is None:
            raise ConnectionError("self._sock is None")
        try:
            return sock.recv(self._READ_SIZE)
        except ssl.SSLWantReadError as err:
            raise BlockingIOError() from err
        except ssl.SSLWantWriteError as err:
            self._call_socket_register_write()
            raise BlockingIOError() from err

    def _sock_recv(self, bufsize: int) -> bytes:
        """paho's reads (a packet it is handling itself), served from the buffer."""
        pos, buf = self._rpos, self._rbuf
        if pos >= len(buf):
            buf = self._recv()
            if not buf:
                return buf  # connection closed
            self._rbuf, pos = buf, 0
        end = pos + bufsize
        self._rpos = end
        return buf[pos:end]

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        ok = mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        if self._sock is None:
            return mqtt.MQTTErrorCode.MQTT_ERR_NO_CONN
        deliver = self.on_publish_fast
        if self._in_packet["command"] != 0 or deliver is None:
            # paho is in the middle of a packet (or no fast receiver): let it go on the stock way.
            for _ in range(self._MAX_PACKETS):
                rc = self._packet_read()
                if rc > 0:
                    return self._loop_rc_handle(rc)
                if rc == mqtt.MQTTErrorCode.MQTT_ERR_AGAIN or (deliver is not None and self._in_packet["command"] == 0):
                    break
            if deliver is None or self._in_packet["command"] != 0:
                return ok
        handled = 0
        buf, pos = self._rbuf, self._rpos
        while handled < self._MAX_PACKETS:
            size = len(buf)
            # Fixed header: type/flags byte, then the remaining length (1-4 bytes, 7 bits each).
            complete = False
            if pos + 1 < size:
                header = buf[pos]
                length = 0
                shift = 0
                i = pos + 1
                while i < size:
                    byte = buf[i]
                    length |= (byte & 0x7F) << shift
                    i += 1
                    if byte < 0x80:
                        complete = i + length <= size
                        break
                    shift += 7
                    if shift > 21:
                        self._rbuf, self._rpos = buf, pos
                        return self._loop_rc_handle(mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL)
            if not complete:
                try:
                    data = self._recv()
                except BlockingIOError:
                    break
                except OSError:
                    self._rbuf, self._rpos = b"", 0
                    return self._loop_rc_handle(mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST)
                if not data:
                    self._rbuf, self._rpos = b"", 0
                    return self._loop_rc_handle(mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST)
                buf = buf[pos:] + data if pos < size else data
                pos = 0
                continue
            end = i + length
            qos = (header >> 1) & 3
            if header & 0xF0 == 0x30 and qos < 2 and length >= 2:  # PUBLISH, QoS 0 or 1
                topic_end = i + 2 + (buf[i] << 8 | buf[i + 1])
                payload_start = topic_end + 2 * qos
                pos = end
                if payload_start > end or topic_end == i + 2:  # MQTT 3.1.1: a topic is never empty
                    self._rbuf, self._rpos = buf, pos
                    return self._loop_rc_handle(mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL)
                mid = buf[topic_end] << 8 | buf[topic_end + 1] if qos else 0
                topic = buf[i + 2 : topic_end]
                payload = buf[payload_start:end]
                deliver(topic, payload, mid, qos)
            else:  # anything else: paho's own handler, exactly as its _packet_read would call it
                pos = end
                self._rbuf, self._rpos = buf, pos
                self._in_packet = {
                    "command": header,
                    "have_remaining": 1,
                    "remaining_count": [],
                    "remaining_mult": 1,
                    "remaining_length": length,
                    "packet": bytearray(buf[i:end]),
                    "to_process": 0,
                    "pos": 0,
                }
                try:
                    rc = self._packet_handle()
                except MalformedPacket:
                    rc = mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL
                self._in_packet = {
                    "command": 0,
                    "have_remaining": 0,
                    "remaining_count": [],
                    "remaining_mult": 1,
                    "remaining_length": 0,
                    "packet": bytearray(b""),
                    "to_process": 0,
                    "pos": 0,
                }
                if rc > 0:
                    return self._loop_rc_handle(rc)
                if self._sock is None:
                    return mqtt.MQTTErrorCode.MQTT_ERR_NO_CONN
                buf, pos = self._rbuf, self._rpos
            handled += 1
        self._rbuf, self._rpos = buf, pos
        if handled:
            with self._msgtime_mutex:
                self._last_bytes_received = time.monotonic()
        return ok

    def _loop(self, timeout: float = 1.0) -> mqtt.MQTTErrorCode:
        if self._rpos < len(self._rbuf) and self._sock is not None:
            # Packets already read from the socket: paho's select() cannot see them, handle them first.
            rc = self.loop_read()
            if rc:
                return rc
            if self._rpos < len(self._rbuf):
                timeout = 0.0
        return super()._loop(timeout)

    def ack_many(self, mids: Sequence[int]) -> None:
        """PUBACK every QoS 1 ``mid`` in one write (manual acknowledgement)."""
        if mids:
            pack = _PUBACK.pack
            self._packet_queue(_PUBACK_CMD, b"".join([pack(_PUBACK_CMD, 2, mid) for mid in mids]), 0, 0)


_PRIVATE_PAHO = (
    "_loop",
    "_packet_read",
    "_packet_handle",
    "_loop_rc_handle",
    "_packet_queue",
    "_call_socket_register_write",
)
_PRIVATE_STATE = ("_sock", "_in_packet", "_msgtime_mutex", "_last_bytes_received", "_manual_ack", "_protocol")


def receive(client: mqtt.Client, deliver: Deliver, *, fast: bool = True) -> Acknowledge:
    """Hand every PUBLISH ``client`` receives to ``deliver`` with manual acknowledgement on (nothing is
    acknowledged until the returned function is called with its ``mid``). ``fast``: through :class:`FastClient`
    when this paho has the internals it relies on (a QoS 2 PUBLISH still takes paho's own path). Call before the
    client connects."""

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        deliver(message._topic, message.payload, message.mid, message.qos)

    def acknowledge(mids: Sequence[int]) -> None:
        for mid in mids:
            client.ack(mid, 1)

    client.manual_ack_set(True)
    client.on_message = on_message
    if fast and _speed_up(client):
        assert isinstance(client, FastClient)
        client.on_publish_fast = deliver
        return client.ack_many
    return acknowledge


def _speed_up(client: mqtt.Client) -> bool:
    """Turn a stock paho client into a :class:`FastClient` when this paho has the internals it relies on."""
    usable = (
        type(client) is mqtt.Client
        and all(callable(getattr(client, name, None)) for name in _PRIVATE_PAHO)
        and all(hasattr(client, name) for name in _PRIVATE_STATE)
        and isinstance(client._in_packet, dict)
        and client._protocol in (mqtt.MQTTv31, mqtt.MQTTv311)
        and getattr(mqtt, "time_func", None) is time.monotonic
    )
    if not usable:
        log.info("paho-mqtt internals differ; the consumer uses the stock client")
        return False
    client.__class__ = FastClient
    return True
