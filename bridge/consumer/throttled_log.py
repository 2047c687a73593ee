"""A warning logged the first time and then at most every 30 seconds per key, so an outage fills no log."""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["ThrottledLog"]

LOG_EVERY = 30.0  # seconds between repeats of the same error in the log


class ThrottledLog:
    """``throttled(key, message, **extra)`` logs a warning to ``log`` unless the same key was logged within
    :data:`LOG_EVERY` seconds."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._last: dict[str, float] = {}

    def __call__(self, key: str, message: str, **extra: Any) -> None:
        now = time.monotonic()
        if now - self._last.get(key, float("-inf")) >= LOG_EVERY:
            self._last[key] = now
            self._log.warning(message, extra=extra)
