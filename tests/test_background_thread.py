"""The daemon thread our background workers share: started once, stopped on request, a stuck one reported."""

from __future__ import annotations

import logging
import threading

from bridge.background_thread import BackgroundThread


def test_a_loop_on_stopping_ends_when_stopped_and_can_start_again():
    rounds = []

    def loop():
        while not worker.stopping.wait(0.01):
            rounds.append(threading.current_thread().name)

    worker = BackgroundThread(loop, "test-loop")
    worker.start()
    worker.start()  # already running: no second thread
    while len(rounds) < 3:
        threading.Event().wait(0.01)
    assert [t.name for t in threading.enumerate()].count("test-loop") == 1
    assert worker.stop(timeout=2)
    assert not worker.alive()
    worker.start()
    assert worker.alive()
    assert worker.stop(timeout=2)


def test_a_thread_that_does_not_end_in_time_is_reported(caplog):
    release = threading.Event()
    worker = BackgroundThread(lambda: release.wait(10), "test-stuck")
    worker.start()
    with caplog.at_level(logging.WARNING, logger="bridge.background_thread"):
        assert not worker.stop(timeout=0.1)
    assert "test-stuck did not stop" in caplog.text
    worker.start()  # still running: no second thread beside it
    assert [t.name for t in threading.enumerate()].count("test-stuck") == 1
    release.set()
    assert worker.stop(timeout=2) and not worker.alive()
