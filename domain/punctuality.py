"""A doctor's punctuality in a session: how late the first patient was seen and how early the last one left.
Pure arithmetic on the BPJS task times (DESIGN §6); nothing is measured for a session that did not run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import mean, median


def early_minutes(ends_at: datetime, last_finished: datetime | None) -> float | None:
    """Minutes between the last task 5 (end of the doctor's service) and the planned end, 0 when at or after
    the end; ``None`` when no patient finished (nothing measured)."""
    if last_finished is None:
        return None
    return max(0.0, (ends_at - last_finished).total_seconds() / 60)


@dataclass(frozen=True)
class Deviation:
    """How many sessions deviated (minutes > 0), and their mean and median minutes (``None`` when none did)."""

    count: int
    mean: float | None
    median: float | None


def deviation(minutes: list[float]) -> Deviation:
    """The sessions among ``minutes`` that deviated (> 0 minutes) and by how much."""
    late = [m for m in minutes if m > 0]
    return Deviation(len(late), mean(late) if late else None, median(late) if late else None)
