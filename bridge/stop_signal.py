"""The stop event of a long-running bridge process, set by SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any


def stop_on_signals(log: logging.Logger, what: str) -> threading.Event:
    """An event that SIGTERM and SIGINT set, each logged as ``"{what} stopping"`` with the signal's name."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info(f"{what} stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop
