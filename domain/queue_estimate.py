"""Waiting-time estimate for a queue ticket (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

MEAN_WINDOW = 10  # the last N services of the doctor today make the rolling mean


def mean_service_time(durations: Sequence[timedelta], default: timedelta, window: int = MEAN_WINDOW) -> timedelta:
    """Rolling mean of today's measured services (task 4 → 5), newest last; ``default`` until one is measured."""
    recent = [d for d in durations if d > timedelta(0)][-window:]
    if not recent:
        return default
    return sum(recent, timedelta(0)) / len(recent)


def estimated_call(start: datetime, rank: int, ahead: int, mean: timedelta, now: datetime) -> datetime:
    """When a ticket will be called.

    ``start`` is the doctor's actual start (the scheduled one until they start), ``rank`` the ticket's 1-based
    place among the session's bookings and ``ahead`` the number of patients still in front of it. The plan is
    ``start + (rank − 1) × mean``; once the day runs late it is ``now + ahead × mean`` instead, so an estimate is
    never in the past while someone is still waiting."""
    if rank < 1 or ahead < 0:
        raise ValueError("rank starts at 1 and ahead cannot be negative")
    return max(start + (rank - 1) * mean, now + ahead * mean)
