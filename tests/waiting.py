"""Bounded waits: a test asserts that something happens, never how fast (speed is measured in bench/). Each wait
has a generous bound and fails with a message that says what did not happen."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def returns_within(seconds: float, call: Callable[[], T], what: str) -> T:
    """``call()``'s result, or its exception; the test fails when ``call`` is still running after ``seconds``
    (it hangs, or waits for something it must not wait for). ``call`` runs on a helper thread that has ended by
    the time this returns."""
    outcome: list[T] = []
    raised: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the test's thread below
            raised.append(exc)

    worker = threading.Thread(target=run, name=f"returns_within: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"{what}: still running after {seconds:g} s")
    if raised:
        raise raised[0]
    return outcome[0]
