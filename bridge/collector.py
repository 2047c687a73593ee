"""The garbage collector of the ingest processes (the consumer and the clinical evaluator).

CPython collects its youngest generation each time 700 more container objects have been made than freed. A
consumer's batch of 500 messages holds several such objects per message until it is stored, so in a drain of
``bench/ingest.py`` the collector ran 4,999 times, its middle generation 454 times and the full heap 41 times, and
took 11.2 of the consumer's 38.2 CPU-seconds (docs/performance.md, thirteenth session). Those objects are freed by
reference counting once their batch is done. Collecting the youngest generation every 50,000 instead leaves them
to reference counting and still finds real cycles: 12 collections and 0.6 s in the same drain.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # net allocations between collections of the youngest generation (CPython: 700)


def collect_for_batches() -> None:
    """Collect the youngest generation every ``YOUNG_THRESHOLD`` net allocations, so a batch's objects are freed
    by reference counting before the collector looks at them; the older generations keep their ratios."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
