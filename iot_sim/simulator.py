"""The simulator's transport: one MQTT connection per monitor, a tick loop, run-time control.

Each monitor has its own paho client (:func:`data.mqtt_client.make_client`, MQTT 3.1.1, clean session, client id
``{prefix}-{site}-{device_id}``) so that each has its own last will: ``{"online":false}`` retained on
``pantau/v1/{site}/status/{device_id}``. On every (re)connect the monitor publishes its retained
``{"online":true,"battery":…}``; on a clean stop ``{"online":false,"battery":…}``.

One thread runs the tick loop at ``rate`` Hz (:meth:`Fleet.tick` under a lock, then publish) and serves every
connection's socket through one selector between ticks - no thread per monitor, no hand-over per message. A
few connector threads do the blocking (re)connects with 1-30 s back-off. While a monitor is disconnected its
numerics are lost (``seq`` still advances) unless ``burst`` is on: then they queue (up to ``burst_limit`` per
monitor) and are flushed all at once after the reconnect, before newer ones.

Run-time control: one more client subscribes to ``pantau/v1/{site}/sim/scenario`` (QoS 1) and applies
``{"bed":"ICU-03","scenario":"sepsis"}`` or ``{"bed":"ICU-03","artefact":"spo2_off","seconds":30}`` (``bed`` may
be a bed code, a device id or ``*``; ``device`` is accepted as a synonym). The current scenarios are published
retained on ``pantau/v1/{site}/sim/state`` (``{"online":false}`` is that client's last will).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import math
import random
import selectors
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import orjson
import paho.mqtt.client as mqtt

from data.mqtt_client import (
    KEEPALIVE,
    RECONNECT_MAX_DELAY,
    RECONNECT_MIN_DELAY,
    BrokerAddress,
    broker_address,
    make_client,
)
from data.mqtt_topics import command_topic, sim_control_topic, sim_state_topic
from data.simulator_commands import ARTEFACTS, CLEAR_ARTEFACTS
from domain.vitals_contract import parse_command
from iot_sim.devices import DEFAULT_NIBP_INTERVAL, DEFAULT_TREND_MEMORY, Fleet, Outgoing
from iot_sim.faults import Faults
from iot_sim.scenarios import normalise_scenario

if TYPE_CHECKING:
    from config import Settings

__all__ = ["DEFAULT_SITE", "ControlCommand", "Simulator", "parse_control"]

log = logging.getLogger(__name__)

DEFAULT_SITE = "DEMO"  # config.Settings' default site code
DEFAULT_ARTEFACT_SECONDS = 30.0
STOP_PUBLISH_TIMEOUT = 5.0
BEHIND_LIMIT = 2.0  # seconds behind schedule before the loop skips ahead instead of catching up

ClientFactory = Callable[..., mqtt.Client]


@dataclass(frozen=True)
class ControlCommand:
    """One decoded control message."""

    target: str
    scenario: str | None = None
    artefact: str | None = None
    seconds: float = DEFAULT_ARTEFACT_SECONDS


def parse_control(payload: bytes | str) -> ControlCommand:
    """Decode a control message; ``ValueError`` saying what is wrong otherwise."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise ValueError("control message is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("control message must be a JSON object")
    target = data.get("bed", data.get("device"))
    if not isinstance(target, str) or not target.strip():
        raise ValueError('control message needs "bed" (bed code, device id or "*")')
    scenario = data.get("scenario")
    artefact = data.get("artefact")
    if scenario is None and artefact is None:
        raise ValueError('control message needs "scenario" or "artefact"')
    if scenario is not None:
        if not isinstance(scenario, str):
            raise ValueError('"scenario" must be a string')
        scenario = normalise_scenario(scenario)
    seconds = data.get("seconds", DEFAULT_ARTEFACT_SECONDS) if artefact is not None else DEFAULT_ARTEFACT_SECONDS
    if artefact is not None:
        if not isinstance(artefact, str):
            raise ValueError('"artefact" must be a string')
        artefact = artefact.strip().lower()
        if artefact not in ARTEFACTS and artefact not in CLEAR_ARTEFACTS:
            raise ValueError(f"unknown artefact {artefact!r}; known: {', '.join(ARTEFACTS)}, none")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise ValueError('"seconds" must be a number')
    return ControlCommand(target.strip(), scenario, artefact, float(seconds))


class _Link:
    """One MQTT connection (a monitor's, or the control client's) and its store-and-forward queue.

    A link belongs either to the connector (while it (re)connects) or to the network loop (once its socket is
    adopted); only the owner touches the client's socket.
    """

    __slots__ = ("client", "connected", "delay", "device_id", "index", "looped", "queue", "sock", "writing")

    def __init__(self, index: int | None, device_id: str, burst_limit: int) -> None:
        self.index = index
        self.device_id = device_id
        self.client: Any = None
        self.connected = False  # CONNACK received, not disconnected since
        self.looped = False  # owned by the network loop (else by the connector)
        self.sock: Any = None
        self.writing = False  # registered for EVENT_WRITE
        self.delay = 0.0  # current reconnect back-off
        self.queue: deque[Outgoing] = deque(maxlen=burst_limit)


class _Connector:
    """Threads that (re)connect links with exponential back-off, so a slow or dead broker never stalls the ticks.

    ``client.reconnect()`` blocks (TCP connect, TLS handshake) and sends CONNECT; the link is then handed to
    ``adopt`` (the network loop reads the CONNACK). A link connected after :meth:`close` is disconnected here.
    """

    def __init__(self, adopt: Callable[[_Link], bool], workers: int, where: str) -> None:
        self._adopt = adopt
        self._where = where
        self._heap: list[tuple[float, int, _Link]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._last_warning = -math.inf
        self._jitter = random.Random()  # noqa: S311 - back-off jitter, not security; payloads never use it
        self._threads = [
            threading.Thread(target=self._work, name=f"pantau-iot-sim-connect-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def schedule(self, link: _Link, delay: float = 0.0) -> None:
        with self._cond:
            if self._closed:
                return
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), link))
            self._cond.notify()

    def retry(self, link: _Link) -> None:
        """Schedule the next attempt after the link's back-off (1 s, doubling up to 30 s, ±20 % jitter)."""
        link.delay = min(RECONNECT_MAX_DELAY, link.delay * 2) if link.delay else RECONNECT_MIN_DELAY
        self.schedule(link, link.delay * self._jitter.uniform(0.8, 1.2))

    def close(self, timeout: float = 1.0) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _next(self) -> _Link | None:
        with self._cond:
            while not self._closed:
                if self._heap:
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self._heap)[2]
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _work(self) -> None:
        while (link := self._next()) is not None:
            try:
                ok = link.client.reconnect() == mqtt.MQTT_ERR_SUCCESS
                error = "" if ok else "CONNECT not sent"
            except Exception as exc:  # refused, unreachable, timeout, TLS failure: keep trying
                ok, error = False, str(exc) or type(exc).__name__
            if ok and self._adopt(link):
                continue
            if ok:  # closed meanwhile
                with contextlib.suppress(Exception):
                    link.client.disconnect()
                continue
            now = time.monotonic()
            if now - self._last_warning > RECONNECT_MAX_DELAY:
                self._last_warning = now
                log.warning("mqtt connect failed, will retry", extra={"broker": self._where, "error": error})
            self.retry(link)


class Simulator:
    """Simulated bedside monitors publishing to an MQTT broker, in a background thread (or the caller's).

    ``settings_or_address``: a :class:`config.Settings` (broker and site from it), a
    :class:`data.mqtt_client.BrokerAddress` or an ``mqtt[s]://`` URL. ``site`` defaults to the settings' site code
    (``DEMO`` otherwise); ``devices`` to every demo monitor. The other keywords are those of
    :class:`iot_sim.devices.Fleet`, plus ``burst``/``burst_limit`` (store-and-forward while disconnected),
    ``control`` (subscribe to the control topic), ``client_id_prefix``, ``connect_timeout`` (how long the
    first tick waits for the connections) and ``credentials`` (``{device_id: password}``: such a monitor logs
    in as its own broker user, client id = device id, as the broker's ACL requires; the control client keeps the
    address's user).

    One thread (the tick loop) generates, publishes and serves every connection through a selector - no
    thread per monitor; a few connector threads do the blocking (re)connects. The other methods are
    thread-safe.
    """

    def __init__(
        self,
        settings_or_address: Settings | BrokerAddress | str,
        site: str | None = None,
        devices: Iterable[str] | None = None,
        seed: int = 1,
        speed: float = 1.0,
        *,
        rate: float = 1.0,
        nibp_interval: float = DEFAULT_NIBP_INTERVAL,
        waveforms: bool = False,
        scenarios: Mapping[str, str] | None = None,
        faults: Faults | None = None,
        burst: bool = False,
        burst_limit: int = 3600,
        clock: Callable[[], float] = time.time,
        memory: float = DEFAULT_TREND_MEMORY,
        control: bool = True,
        client_id_prefix: str = "pantau-sim",
        connect_timeout: float = 5.0,
        client_factory: ClientFactory = make_client,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(settings_or_address, BrokerAddress):
            self.address = settings_or_address
        elif isinstance(settings_or_address, str):
            self.address = BrokerAddress.from_url(settings_or_address)
        else:
            self.address = broker_address(settings_or_address)
            site = site or settings_or_address.site_code
        if burst_limit < 1:
            raise ValueError("burst_limit must be at least 1")
        self.site = site or DEFAULT_SITE
        self.fleet = Fleet(
            self.site,
            devices,
            seed=seed,
            speed=speed,
            rate=rate,
            nibp_interval=nibp_interval,
            waveforms=waveforms,
            faults=faults,
            scenarios=scenarios,
            clock=clock,
            memory=memory,
        )
        self.burst = burst
        self.control = control
        self.client_id_prefix = client_id_prefix
        self.connect_timeout = connect_timeout
        self._client_factory = client_factory
        self.credentials = dict(credentials or {})
        self._links = [_Link(m.index, m.device_id, burst_limit) for m in self.fleet.monitors]
        self._control_link = _Link(None, "control", 1) if control else None
        self._control_subscribed = threading.Event()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = False
        self._closing = False
        self._state_dirty = False
        self._loop_thread: int | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._adopted: deque[_Link] = deque()
        self._connector: _Connector | None = None
        self._counts = {
            "vitals": 0,
            "wave": 0,
            "status": 0,
            "lost": 0,
            "queued": 0,
            "overflow": 0,
            "flushed": 0,
            "resend_requests": 0,
            "resent": 0,
        }

    # -- public API ----------------------------------------------------------------------------------------

    @property
    def device_ids(self) -> list[str]:
        return self.fleet.device_ids

    def start(self) -> None:
        """Connect and run the tick loop in a background thread; returns at once."""
        self._claim()
        self._thread = threading.Thread(target=self._main, name="pantau-iot-sim", daemon=True)
        self._thread.start()

    def run(self, duration: float | None = None) -> None:
        """Connect and run the tick loop in this thread until :meth:`stop` (or ``duration`` seconds of ticks)."""
        self._claim()
        self._main(duration)

    def request_stop(self) -> None:
        """Ask the loop to stop (safe from a signal handler); :meth:`stop` also waits for it."""
        self._stop.set()
        self._wake()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop: publish what reordering still holds and every monitor's offline status, then disconnect."""
        self.request_stop()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("simulator thread did not stop in time")
        self._thread = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the loop has stopped (for example after ``duration``); True when it has."""
        return self._done.wait(timeout)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Wait until every monitor is connected and (when enabled) the control topic is subscribed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(link.connected for link in self._links) and (
                self._control_link is None or self._control_subscribed.is_set()
            ):
                return True
            if self._done.is_set():
                return False
            time.sleep(0.02)
        return False

    def set_scenario(self, bed_or_device: str, name: str) -> list[str]:
        """Switch a bed (code, device id or ``*``) to scenario ``name`` now; returns the device ids switched."""
        with self._lock:
            switched = self.fleet.set_scenario(bed_or_device, name)
            self._state_dirty = True
        log.info("scenario switched", extra={"target": bed_or_device, "scenario": name, "devices": switched})
        self._wake()
        return switched

    def inject_artefact(self, bed_or_device: str, kind: str, seconds: float = DEFAULT_ARTEFACT_SECONDS) -> list[str]:
        """Add artefact ``kind`` (``motion``, ``spo2_off``, ``leads_off``, ``low_perfusion``, ``noisy``;
        ``none`` clears) to a bed for ``seconds``; returns the device ids affected."""
        with self._lock:
            affected = self.fleet.inject_artefact(bed_or_device, kind, seconds)
            self._state_dirty = True
        log.info("artefact injected", extra={"target": bed_or_device, "artefact": kind, "seconds": seconds})
        self._wake()
        return affected

    def scenarios(self) -> dict[str, str]:
        """Bed code → scenario."""
        with self._lock:
            return self.fleet.scenarios()

    def stats(self) -> dict[str, int]:
        """Messages published per kind, lost while disconnected, queued for a burst, fault counters, resend
        commands answered (``resend_requests``) and samples resent (``resent``), and the trend memory in use."""
        with self._lock:
            counts = dict(self._counts)
            counts["dropped"] = sum(m.faults.dropped for m in self.fleet.monitors)
            counts["duplicated"] = sum(m.faults.duplicated for m in self.fleet.monitors)
            counts["reordered"] = sum(m.faults.reordered for m in self.fleet.monitors)
            counts["reboots"] = sum(m.reboots for m in self.fleet.monitors)
            counts["ticks"] = self.fleet.ticks
            memories = [m.memory for m in self.fleet.monitors if m.memory is not None]
            counts["remembered"] = sum(len(memory) for memory in memories)
            counts["memory_bytes"] = sum(memory.nbytes for memory in memories)
        return counts

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- connections ---------------------------------------------------------------------------------------

    def _claim(self) -> None:
        with self._lock:
            if self._running:
                raise RuntimeError("the simulator is already running")
            self._running = True
        self._stop.clear()
        self._done.clear()

    def _wake(self) -> None:
        wake = self._wake_w
        if wake is not None:
            with contextlib.suppress(OSError):  # full (a wake-up is pending anyway) or closed
                wake.send(b"\0")

    def _all_links(self) -> list[_Link]:
        return self._links + ([self._control_link] if self._control_link is not None else [])

    def _make_client(self, link: _Link) -> Any:
        if link.index is None:
            client_id = f"{self.client_id_prefix}-{self.site}-control-{uuid.uuid4().hex[:8]}"
            client = self._client_factory(
                self.address, client_id, persistent=False, on_connect=self._on_connect, on_message=self._on_message
            )
            client.will_set(sim_state_topic(self.site), b'{"online":false}', qos=1, retain=True)
            client.on_subscribe = lambda *args: self._control_subscribed.set()
        else:
            # A monitor with its own credential logs in as itself, with the client id its broker user is bound to.
            password = self.credentials.get(link.device_id)
            address = replace(self.address, username=link.device_id, password=password) if password else self.address
            client_id = link.device_id if password else f"{self.client_id_prefix}-{self.site}-{link.device_id}"
            client = self._client_factory(
                address, client_id, persistent=False, on_connect=self._on_connect, on_message=self._on_command
            )
            client.will_set(self.fleet.monitors[link.index].topic_status, b'{"online":false}', qos=1, retain=True)
        client.user_data_set(link)
        logged = client.on_disconnect

        def on_disconnect(c: Any, userdata: _Link, flags: Any, reason_code: Any, properties: Any) -> None:
            self._on_disconnect(userdata)
            if logged is not None:
                logged(c, userdata, flags, reason_code, properties)

        client.on_disconnect = on_disconnect
        client.on_socket_close = self._on_socket_close
        # Set host and port without connecting; the connector's reconnect() connects.
        client.connect_async(self.address.host, self.address.port, KEEPALIVE)
        return client

    def _adopt(self, link: _Link) -> bool:
        """Hand a freshly connected link to the network loop (called by a connector thread)."""
        with self._lock:
            if self._closing:
                return False
            self._adopted.append(link)
        self._wake()
        return True

    def _on_connect(self, client: Any, link: _Link, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            return  # paho closes the connection; _on_disconnect schedules the retry
        link.delay = 0.0
        if link.index is None:
            client.subscribe(sim_control_topic(self.site), qos=1)
            self._state_dirty = True
        else:
            with self._lock:
                status = self.fleet.status(link.index, True)
            client.publish(status.topic, status.payload, qos=1, retain=True)
            self._count({"status": 1})
            client.subscribe(command_topic(self.site, link.device_id), qos=1)
        link.connected = True

    def _on_disconnect(self, link: _Link) -> None:
        link.connected = False
        if link.looped:
            link.looped = False
            if not self._closing and self._connector is not None:
                self._connector.retry(link)

    def _on_socket_close(self, client: Any, link: _Link, sock: Any) -> None:
        if threading.get_ident() == self._loop_thread and self._selector is not None and link.sock is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(link.sock)
        link.sock = None
        link.writing = False

    def _on_message(self, client: Any, link: _Link, message: mqtt.MQTTMessage) -> None:
        try:
            command = parse_control(message.payload)
            if command.scenario is not None:
                self.set_scenario(command.target, command.scenario)
            if command.artefact is not None:
                self.inject_artefact(command.target, command.artefact, command.seconds)
        except (ValueError, KeyError) as exc:
            log.warning("control message ignored", extra={"topic": message.topic, "error": str(exc)})

    def _on_command(self, client: Any, link: _Link, message: mqtt.MQTTMessage) -> None:
        """A command to one monitor (network loop): ``resend`` republishes remembered numerics unchanged."""
        try:
            command = parse_command(message.payload)
        except ValueError as exc:
            log.warning("monitor command ignored", extra={"device": link.device_id, "error": str(exc)})
            return
        with self._lock:
            out = self.fleet.resend(link.index, command.from_seq, command.to_seq)
        for o in out:
            client.publish(o.topic, o.payload, o.qos, o.retain)
        self._count({"resend_requests": 1, "resent": len(out)})
        log.info(
            "resend answered",
            extra={"device": link.device_id, "from_seq": command.from_seq, "to_seq": command.to_seq, "sent": len(out)},
        )

    def _state_payload(self, online: bool) -> bytes:
        if not online:
            return b'{"online":false}'
        with self._lock:
            scenarios = self.fleet.scenarios()
            now_ms = int(self.fleet.clock() * 1000)
            artefacts = {
                m.bed: {kind: now_ms + int((until - m.t_dev) * 1000) for kind, until in m.artefacts.items()}
                for m in self.fleet.monitors
                if m.artefacts
            }
        return orjson.dumps(
            {
                "online": True,
                "speed": self.fleet.speed,
                "rate": self.fleet.rate,
                "scenarios": scenarios,
                "artefacts": artefacts,
            }
        )

    # -- the network loop (tick thread only) ---------------------------------------------------------------

    def _open(self) -> None:
        self._loop_thread = threading.get_ident()
        self._closing = False
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        links = self._all_links()
        for link in links:
            link.client = self._make_client(link)
        self._connector = _Connector(self._adopt, min(4, len(links)), self.address.url)
        for link in links:
            self._connector.schedule(link)

    def _take_adopted(self) -> None:
        while True:
            with self._lock:
                if not self._adopted:
                    return
                link = self._adopted.popleft()
            sock = link.client.socket()
            if sock is None:  # lost between connect and adoption
                if self._connector is not None:
                    self._connector.retry(link)
                continue
            link.sock = sock
            link.looped = True
            link.writing = False
            assert self._selector is not None
            try:
                self._selector.register(sock, selectors.EVENT_READ, link)
            except KeyError:  # the descriptor number of a socket closed behind the selector's back: reuse it
                self._selector.unregister(sock.fileno())
                self._selector.register(sock, selectors.EVENT_READ, link)
            self._pump(link)

    def _pump(self, link: _Link) -> None:
        """Write what the client has queued; watch for writability while anything remains."""
        client = link.client
        if client.want_write():
            client.loop_write()
        sock = link.sock
        if sock is None or self._selector is None:
            return
        want = client.want_write()
        if want != link.writing:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.modify(sock, events, link)
                link.writing = want

    def _network(self, timeout: float) -> None:
        """Serve the sockets for up to ``timeout`` seconds (returns after the first batch of events)."""
        self._take_adopted()
        assert self._selector is not None
        if self._state_dirty and self._control_link is not None and self._control_link.connected:
            self._state_dirty = False
            self._control_link.client.publish(sim_state_topic(self.site), self._state_payload(True), qos=1, retain=True)
            self._pump(self._control_link)
        for key, mask in self._selector.select(max(0.0, timeout)):
            link = key.data
            if link is None:
                with contextlib.suppress(OSError):
                    while self._wake_r is not None and self._wake_r.recv(4096):
                        pass
                continue
            client = link.client
            if mask & selectors.EVENT_READ:
                client.loop_read()
                # TLS may hold decrypted bytes that select() cannot see.
                while link.sock is not None and getattr(link.sock, "pending", None) and link.sock.pending():
                    client.loop_read()
            if link.sock is not None:
                self._pump(link)
        self._take_adopted()

    def _misc(self) -> None:
        """Keep-alive pings and timeouts, once a second."""
        for link in self._all_links():
            if link.looped and link.sock is not None:
                link.client.loop_misc()
                if link.sock is not None and link.client.want_write():
                    self._pump(link)

    def _main(self, duration: float | None = None) -> None:
        cpu0, wall0 = time.process_time(), time.monotonic()
        log.info(
            "simulator starting",
            extra={
                "broker": self.address.url,
                "site": self.site,
                "devices": len(self._links),
                "rate": self.fleet.rate,
                "speed": self.fleet.speed,
                "waveforms": self.fleet.waveforms,
            },
        )
        try:
            self._open()
            self._wait_connected()
            self._loop(duration)
        except Exception:
            log.exception("simulator failed")
        finally:
            with contextlib.suppress(Exception):
                self._shutdown()
            stats = self.stats()
            stats["cpu_seconds"] = round(time.process_time() - cpu0, 3)
            stats["wall_seconds"] = round(time.monotonic() - wall0, 3)
            log.info("simulator stopped", extra=stats)
            with self._lock:
                self._running = False
            self._done.set()

    def _wait_connected(self) -> None:
        deadline = time.monotonic() + self.connect_timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            if all(link.connected for link in self._all_links()):
                return
            self._network(min(0.05, deadline - time.monotonic()))
        missing = sum(not link.connected for link in self._links)
        if missing and not self._stop.is_set():
            log.warning("monitors not connected yet, starting anyway", extra={"missing": missing})

    def _loop(self, duration: float | None) -> None:
        period = 1.0 / self.fleet.rate
        start = next_tick = next_misc = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_tick:
                if duration is not None and now - start >= duration - 1e-3:
                    break
                with self._lock:
                    out = self.fleet.tick()
                self._send(out)
                next_tick += period
                if now - next_tick > max(BEHIND_LIMIT, 5 * period):
                    log.warning("simulator behind schedule, skipping ahead", extra={"behind_seconds": now - next_tick})
                    next_tick = now + period
            if now >= next_misc:
                self._misc()
                next_misc = now + 1.0
            self._network(min(next_tick, next_misc) - time.monotonic())

    def _send(self, out: list[Outgoing]) -> None:
        links = self._links
        counts = dict.fromkeys(self._counts, 0)
        for o in out:
            link = links[o.device]
            if link.connected:
                if link.queue:
                    self._flush_queue(link, counts)
                client = link.client
                client.publish(o.topic, o.payload, o.qos, o.retain)
                counts[o.kind] += 1
                if client.want_write():
                    self._pump(link)
            elif self.burst and o.kind == "vitals":
                if len(link.queue) == link.queue.maxlen:
                    counts["overflow"] += 1
                link.queue.append(o)
                counts["queued"] += 1
            else:
                counts["lost"] += 1
        if self.burst:
            for link in links:
                if link.queue and link.connected:
                    self._flush_queue(link, counts)
        self._count(counts)

    def _count(self, counts: Mapping[str, int]) -> None:
        with self._lock:
            for key, value in counts.items():
                self._counts[key] += value

    def _flush_queue(self, link: _Link, counts: dict[str, int]) -> None:
        queue = link.queue
        flushed = len(queue)
        publish = link.client.publish
        while queue:
            o = queue.popleft()
            publish(o.topic, o.payload, o.qos, o.retain)
        counts["vitals"] += flushed
        counts["flushed"] += flushed
        self._pump(link)
        log.info("burst flushed after reconnect", extra={"device": link.device_id, "messages": flushed})

    def _shutdown(self) -> None:
        with self._lock:
            self._closing = True
            pending = list(self._adopted)
            self._adopted.clear()
        if self._connector is not None:
            self._connector.close()
        for link in pending:  # connected but never adopted: just hang up
            with contextlib.suppress(Exception):
                link.client.disconnect()
        with self._lock:
            held = self.fleet.flush()
            offline = [self.fleet.status(link.index, False) for link in self._links]
        with contextlib.suppress(Exception):
            self._send(held)
        infos = []
        for link, status in zip(self._links, offline, strict=True):
            if link.connected:
                infos.append(link.client.publish(status.topic, status.payload, qos=1, retain=True))
                self._pump(link)
        control = self._control_link
        if control is not None and control.connected:
            state = self._state_payload(False)
            infos.append(control.client.publish(sim_state_topic(self.site), state, qos=1, retain=True))
            self._pump(control)
        self._count({"status": len(infos)})
        deadline = time.monotonic() + STOP_PUBLISH_TIMEOUT
        while infos and not all(info.is_published() for info in infos) and time.monotonic() < deadline:
            if self._selector is None:
                break
            self._network(0.05)
        lost = sum(len(link.queue) for link in self._links)
        if lost:
            log.warning("burst queue not delivered at stop", extra={"messages": lost})
        for link in self._all_links():
            if link.client is not None and link.sock is not None:
                with contextlib.suppress(Exception):
                    link.client.disconnect()  # DISCONNECT: a clean goodbye, so the broker drops the last will
                    if link.client.want_write():
                        link.client.loop_write()
            link.connected = link.looped = False
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._wake_r = self._wake_w = None
        self._connector = None
        self._control_subscribed.clear()
