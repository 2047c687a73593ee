"""One daemon thread a worker starts and stops: the start, stop and join every background loop of ours shares."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundThread:
    """Runs ``target`` in a daemon thread named ``name`` from :meth:`start` until :meth:`stop`. ``target`` loops on
    :attr:`stopping`: ``stopping.wait(seconds)`` sleeps between rounds and is True once :meth:`stop` asks it to end."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self.target = target
        self.name = name
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread; a second call while it runs does nothing."""
        if self.alive():
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self.target, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Ask the thread to end and wait for it up to ``timeout`` seconds; False (and a warning) when it has not.
        A thread still running stays :meth:`alive`, so :meth:`start` never runs a second loop beside it."""
        self.stopping.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("thread %s did not stop within %.0f s", self.name, timeout)
            return False
        self._thread = None
        return True

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
