"""An in-process MQTT 3.1.1 broker (amqtt) for the embedded demo, on 127.0.0.1 only.

It runs in a daemon thread with its own asyncio event loop::

    with EmbeddedBroker() as broker:
        port = broker.start(1883)   # another free port when 1883 is taken
        ...

Persistent sessions and QoS 1 work: a client with a fixed id and ``clean_session=False`` gets the QoS 1
messages published while it was offline when it reconnects. Two amqtt 0.12.1 behaviours shape this module:

* amqtt neither queues offline messages for, nor keeps the session of, a client its auth plugin marked
  *anonymous* - and its ``AnonymousAuthPlugin`` marks every client anonymous when anonymous access is on. So
  this broker uses :class:`LoopbackAuthPlugin`, which accepts every client (the listener is loopback-only)
  without that mark.
* Sessions live in memory only: stopping the broker loses queued messages and sessions.

A third, a defect, is worked around in :class:`_OwnRetainedBroker`: retained messages of other clients' filters.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
from types import TracebackType
from typing import Any, Self

from amqtt.broker import Broker
from amqtt.errors import BrokerError
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

__all__ = ["EmbeddedBroker", "LoopbackAuthPlugin"]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
# Disconnected persistent sessions (and the messages queued for them) are dropped after this long.
DEFAULT_SESSION_EXPIRY = 24 * 3600
_NOISY_LOGGERS = ("amqtt", "transitions")


class LoopbackAuthPlugin(BaseAuthPlugin):
    """Accept every client without marking it anonymous, so persistent sessions keep their messages.

    Only for a broker bound to the loopback interface.
    """

    async def authenticate(self, *, session: Session) -> bool:
        return True


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


class _OwnRetainedBroker(Broker):
    """amqtt's broker, sending a client only the retained messages of the filters it subscribed to itself.

    After a client connects, amqtt 0.12.1 goes through every filter any client has subscribed to and sends it the
    retained messages of each (a demo monitor took the other monitors' statuses for commands), awaiting each one
    while other clients subscribe: the filters change under the loop, and the connection's handler dies with
    "dictionary changed size during iteration", leaving that client without a working session (a simulated
    monitor stayed silent for the whole demo). A filter that is not the client's now returns at once, without an
    await, so the loop neither sends it nor lets the filters change under it."""

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        subscribers = self._subscriptions.get(subscription[0], ())
        if all(subscriber.client_id != session.client_id for subscriber, _ in subscribers):
            return
        await super()._publish_retained_messages_for_subscription(subscription, session)


class EmbeddedBroker:
    """amqtt broker in a daemon thread, listening on 127.0.0.1; ``start()`` returns the actual port."""

    def __init__(self, *, session_expiry: int | None = DEFAULT_SESSION_EXPIRY) -> None:
        self.session_expiry = session_expiry
        self.port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT`` once started."""
        if self.port is None:
            raise RuntimeError("the embedded broker is not started")
        return f"mqtt://{HOST}:{self.port}"

    def _config(self, port: int) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{port}", "max_connections": 0}},
            "session_expiry_interval": self.session_expiry,
            "timeout_disconnect_delay": 0,
            # Only our auth plugin: no $SYS publisher (needs psutil), no packet/event loggers.
            "plugins": {f"{LoopbackAuthPlugin.__module__}.{LoopbackAuthPlugin.__qualname__}": {}},
        }

    def start(self, port: int = 1883) -> int:
        """Start listening on ``port`` (any free port when it is 0 or taken); return the port in use.

        Blocks until the broker accepts connections. Calling it again while running returns the same port.
        """
        with self._lock:
            if self.running and self.port is not None:
                return self.port
            for name in _NOISY_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            wanted = port if port and _port_free(port) else 0
            if port and not wanted:
                log.warning("mqtt port taken, using another", extra={"requested_port": port})
            try:
                self._thread, self.port = self._launch(wanted)
            except OSError as exc:
                if not wanted or not _is_addr_in_use(exc):
                    raise RuntimeError(f"the embedded MQTT broker could not start: {exc}") from exc
                # Lost a race for the port between the check and the bind: take any free port.
                log.warning("mqtt port taken, using another", extra={"requested_port": port})
                self._thread, self.port = self._launch(0)
            log.info("embedded mqtt broker listening", extra={"broker": self.url})
            return self.port

    def _launch(self, port: int) -> tuple[threading.Thread, int]:
        started = threading.Event()
        outcome: dict[str, Any] = {}
        thread = threading.Thread(
            target=self._run, args=(port, started, outcome), name="pantau-mqtt-broker", daemon=True
        )
        thread.start()
        if not started.wait(START_TIMEOUT):
            raise RuntimeError("the embedded MQTT broker did not start in time")
        error = outcome.get("error")
        if error is not None:
            thread.join(STOP_TIMEOUT)
            if isinstance(error, OSError):
                raise error
            raise RuntimeError(f"the embedded MQTT broker could not start: {error}") from error
        return thread, int(outcome["port"])

    def _run(self, port: int, started: threading.Event, outcome: dict[str, Any]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(port, started, outcome))
        except BaseException as exc:  # report start failures to start(); log later crashes
            if not started.is_set():
                outcome["error"] = exc
            else:
                log.exception("embedded mqtt broker crashed")
        finally:
            started.set()
            _cancel_pending(loop)
            loop.close()
            self._loop = None

    async def _serve(self, port: int, started: threading.Event, outcome: dict[str, Any]) -> None:
        broker = _OwnRetainedBroker(self._config(port), loop=asyncio.get_running_loop())
        try:
            await broker.start()
        except BrokerError as exc:
            raise (exc.__cause__ or exc) from None
        stop_event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._stop_event = stop_event
        outcome["port"] = _bound_port(broker) or port
        started.set()
        await stop_event.wait()
        try:
            await asyncio.wait_for(broker.shutdown(), timeout=STOP_TIMEOUT)
        except Exception:
            log.exception("embedded mqtt broker did not shut down cleanly")

    def stop(self) -> None:
        """Stop the broker and its thread; idempotent."""
        with self._lock:
            thread, loop, stop_event = self._thread, self._loop, self._stop_event
            self._thread = None
            self._stop_event = None
            if thread is None:
                return
            if loop is not None and stop_event is not None:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    loop.call_soon_threadsafe(stop_event.set)
            thread.join(STOP_TIMEOUT + 5)
            if thread.is_alive():
                log.warning("embedded mqtt broker thread did not stop in time")
            else:
                log.info("embedded mqtt broker stopped", extra={"broker": f"mqtt://{HOST}:{self.port}"})

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<EmbeddedBroker {self.url if self.running else 'stopped'}>"


def _is_addr_in_use(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno == errno.EADDRINUSE


def _bound_port(broker: Broker) -> int | None:
    """The port the listener really bound (when started on port 0)."""
    server = broker._servers.get("default")  # amqtt keeps no public accessor for this
    instance = getattr(server, "instance", None)
    for sock in getattr(instance, "sockets", None) or ():
        with contextlib.suppress(OSError, IndexError):
            return int(sock.getsockname()[1])
    return None


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    with contextlib.suppress(Exception):
        loop.run_until_complete(loop.shutdown_asyncgens())
