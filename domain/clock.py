"""The one clock: timezone-aware UTC (local days come from the site's zone, in ``data.schedules``), and the epoch
milliseconds that monitors, screens and BPJS speak."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_ms() -> int:
    """Now in whole epoch milliseconds (the wall clock), the scale of every time a monitor, a tick or an alarm
    carries."""
    return time.time_ns() // 1_000_000


def epoch_ms(moment: datetime) -> int:
    """``moment`` (timezone-aware) as whole milliseconds since the Unix epoch, counted exactly (no float): the part
    below a millisecond is dropped, towards the past. A naive datetime raises ``TypeError``."""
    return (moment - _EPOCH) // _MS
