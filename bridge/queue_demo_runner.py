"""Demo only: runs the demo clinic (``data.queue_demo``) so the TV boards and counters show a live morning.

A thread that first replays the morning that already passed (``data.queue_demo.run_morning``) and then steps
the demo clinic every demo minute (``PANTAU_SIMULATOR_SPEED`` demo minutes per real minute, one step at most
every ``MAX_INTERVAL`` seconds) with the real time. Errors are logged and the loop goes on; ``stop()`` returns
within a step."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from bridge.background_thread import BackgroundThread
from data.models import Site
from data.queue_demo import DemoClinic, run_morning
from data.runtime import Runtime
from domain.clock import utcnow

log = logging.getLogger(__name__)
MIN_INTERVAL, MAX_INTERVAL = 0.2, 5.0


class QueueDemoRunner:
    """``start()`` it next to the other demo threads; ``stop()`` it before the runtime closes. ``clock`` gives the
    current time (UTC); tests pass one that runs from a fixed day's noon."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        speed: float | None = None,
        morning: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.speed = speed or runtime.settings.simulator_speed
        self.morning = morning
        self.interval = min(MAX_INTERVAL, max(MIN_INTERVAL, 60 / self.speed))  # one demo minute per step
        self.steps = 0
        self._thread = BackgroundThread(self._run, "queue-simulator")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the loop to end within a step; False when it still ran after ``timeout`` seconds."""
        return self._thread.stop(timeout)

    def _site_id(self) -> int | None:
        with self.runtime.db.session() as session:
            return session.scalar(select(Site.id).where(Site.code == self.runtime.settings.site_code))

    def _run(self) -> None:
        site_id = None
        while site_id is None and not self._thread.stopping.is_set():
            try:
                site_id = self._site_id()
            except Exception:
                log.warning("queue simulator: database not ready", exc_info=True)
            if site_id is None:
                self._thread.stopping.wait(MAX_INTERVAL)
        if site_id is None:
            return
        if self.morning:
            try:
                run_morning(self.runtime, site_id, self.clock(), should_stop=self._thread.stopping.is_set)
            except Exception:
                log.warning("queue simulator: the morning replay failed", exc_info=True)
        clinic = DemoClinic(self.runtime, site_id, speed=self.speed)
        while not self._thread.stopping.wait(self.interval):
            try:
                clinic.step(self.clock())
                self.steps += 1
            except Exception:  # one bad step must not end the demo
                log.warning("queue simulator: step failed", exc_info=True)
                self._thread.stopping.wait(self.interval)
