"""The consumer's clinical feed: batches are fed in the order they were taken, whichever writer comes first (an
evaluator given a consumer's newer samples first skips its older ones as late), also after a live store outage,
and soon after the store is back (before a bed's silence reaches the no-data wait)."""

from __future__ import annotations

import threading

import pytest

from bridge.consumer import pipeline as consumer_pipeline
from bridge.consumer.metrics import ConsumerMetrics
from bridge.consumer.options import ConsumerOptions
from bridge.consumer.pipeline import Writers, _Chunk, _Resolved


def chunk(seq: int) -> _Chunk:
    taken = _Chunk(seq, [])
    taken.resolved = _Resolved(rows=[], samples=[f"samples of batch {seq}"], updates=[], letters=[], doubtful=False)
    return taken


def test_batches_held_through_an_outage_are_fed_first_and_once_whichever_writer_comes_back_first():
    fed: list[str] = []
    store = {"up": False}

    def feed(samples: list, _updates: list) -> None:
        if not store["up"]:
            raise ConnectionError("live store away")
        fed.extend(samples)

    metrics = ConsumerMetrics("test")
    writers = Writers(None, None, None, None, lambda _items: None, metrics, ConsumerOptions(), on_stored=(feed,))
    older, newer, newest = chunk(0), chunk(1), chunk(2)
    for held in (older, newer):  # two writers, each holding a batch while the store is away
        with pytest.raises(ConnectionError):  # the writer holds it, unacknowledged, and tries again later
            writers._feed_chunk(held)
    store["up"] = True
    writers._feed_chunk(newest)  # a third writer's new batch, before the others' back-off ends
    writers._feed_chunk(newer)  # their retries find theirs fed
    writers._feed_chunk(older)
    assert fed == ["samples of batch 0", "samples of batch 1", "samples of batch 2"]
    assert (metrics.feed_errors, metrics.fed) == (2, 3)


def writers_feeding_into(fed: list[str]) -> Writers:
    def feed(samples: list, _updates: list) -> None:
        fed.extend(samples)

    return Writers(None, None, None, None, lambda _items: None, ConsumerMetrics("t"), ConsumerOptions(), (feed,))


def test_a_batch_whose_writer_comes_first_waits_for_the_batch_taken_before_it():
    """Two writers: the second batch's writer reaches the feed while the first batch's writer is still between
    taking and feeding its batch (descheduled, or slowed). Fed at once, the second batch's samples made the
    evaluator close the seconds before them, and the first batch's samples then came late (one batch late, now and
    then, in a test of consumers stalling in a backlog)."""
    fed: list[str] = []
    writers = writers_feeding_into(fed)
    first, second = chunk(0), chunk(1)
    writers._feed_chunk(second)
    assert fed == [] and not second.fed, "it waits for the batch taken before it"
    acknowledged = threading.Event()

    def store_and_acknowledge() -> None:
        writers._feed([second])  # before the acknowledgement: returns once it is fed
        acknowledged.set()

    waiting = threading.Thread(target=store_and_acknowledge)
    waiting.start()
    assert not acknowledged.wait(0.3), "not acknowledged before it is fed"
    writers._feed_chunk(first)  # the first batch's writer feeds its batch, then the one waiting for it
    assert acknowledged.wait(5)
    waiting.join(5)
    assert fed == ["samples of batch 0", "samples of batch 1"]


def test_a_writer_stopping_does_not_wait_for_a_batch_never_fed():
    """Stopping past the store deadline with an earlier batch never handed over (its writer gave up): the later one
    is left unacknowledged (the broker delivers it again) instead of holding the stop."""
    writers = writers_feeding_into([])
    writers._stop.set()
    writers._stop_deadline = 0.0
    with pytest.raises(TimeoutError):
        writers._feed([chunk(1)])


def test_a_held_back_batch_is_tried_again_at_least_every_half_second(monkeypatch):
    """Once the live store is back, the held-back batch must reach the evaluator before a bed's silence reaches
    the no-data wait (3 s at 1 Hz): the feed's back-off does not grow to the database's 10 s."""
    failures = {"left": 8}
    slept: list[float] = []

    def feed(_samples: list, _updates: list) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("live store away")

    monkeypatch.setattr(consumer_pipeline.time, "sleep", slept.append)
    writers = Writers(None, None, None, None, lambda _items: None, ConsumerMetrics("t"), ConsumerOptions(), (feed,))
    writers._feed([chunk(0)])
    assert len(slept) == 8 and max(slept) <= 0.5
