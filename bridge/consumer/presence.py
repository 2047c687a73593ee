"""A consumer's presence in the live store while it is subscribed: among the clinical streams' feeders
(``live_keys.CLINICAL_FEEDERS``: an evaluator replaying a backlog waits for each, :mod:`bridge.clinical_order`) and
among the members of the shared subscription (``live_keys.SHARED_CONSUMERS``: one that stops leaves the share only
while another stays in it, :mod:`bridge.consumer.service`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from bridge.background_thread import BackgroundThread
from bridge.consumer.throttled_log import ThrottledLog
from data.live_store import UNCAPPED, LiveStore

__all__ = ["Presence"]

log = logging.getLogger(__name__)

ANNOUNCE_EVERY_S = 1.0  # a subscribed consumer renews its presence this often
PRESENCE_TTL_S = 3.0  # and it lapses this long after the last renewal (a killed consumer's)


class Presence:
    """Keeps ``member`` in the counted sets ``keys`` while ``active()`` says so, from before its first message.
    ``stop()`` takes it out; a killed consumer's lapses after ``PRESENCE_TTL_S``. A live store away is logged
    (throttled) and tried again."""

    def __init__(self, live: LiveStore, member: str, active: Callable[[], bool], keys: Sequence[str]) -> None:
        self.live = live
        self.member = member
        self.active = active
        self._keys = list(keys)
        self._lock = threading.Lock()  # an announcement never lands between a leave's check and its removal
        self._thread = BackgroundThread(self._loop, "consumer-presence")
        self._throttled = ThrottledLog(log)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._thread.stop(timeout)
        try:
            with self._lock:
                self.live.release_slot(self._keys, self.member)
        except Exception as exc:
            log.warning("consumer presence not withdrawn; it lapses by itself", extra={"error": repr(exc)[:300]})

    def leave_unless_alone(self, key: str) -> bool:
        """Leave ``key`` for good if another member stays in it (True); otherwise stay (False). Raises when the live
        store is away."""
        with self._lock:
            if not self.live.release_slot_unless_alone(key, self.member):
                return False
            self._keys = [k for k in self._keys if k != key]
            return True

    def _loop(self) -> None:
        while True:
            try:
                with self._lock:
                    if self._keys and self.active():
                        self.live.claim_slot(dict.fromkeys(self._keys, UNCAPPED), self.member, PRESENCE_TTL_S)
                    elif self._keys:
                        self.live.release_slot(self._keys, self.member)
            except Exception as exc:
                self._throttled("presence", "consumer presence not announced, retrying", error=repr(exc)[:300])
            if self._thread.stopping.wait(ANNOUNCE_EVERY_S):
                return
