"""Waiting-time estimate for a queue ticket (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

MEAN_WINDOW = 10  # the last N services of the doctor today make the rolling mean
MIN_SAMPLES = 3  # until this many are measured, the configured default fills the missing ones


def mean_service_time(
    durations: Sequence[timedelta], default: timedelta, window: int = MEAN_WINDOW, min_samples: int = MIN_SAMPLES
) -> timedelta:
    """Rolling mean of today's measured services (task 4 → 5), newest last. Until ``min_samples`` are measured
    the ``default`` stands in for the missing ones, so one unusually short first visit cannot collapse every
    estimate to "now"."""
    recent = [d for d in durations if d > timedelta(0)][-window:]
    padding = [default] * max(min_samples - len(recent), 0)
    return sum(recent + padding, timedelta(0)) / len(recent + padding)


def estimated_call(start: datetime, rank: int, ahead: int, mean: timedelta, now: datetime) -> datetime:
    """When a ticket will be called.

    ``start`` is the doctor's actual start (the scheduled one until they start), ``rank`` the ticket's 1-based
    place among the session's bookings and ``ahead`` the number of patients still in front of it. The plan is
    ``start + (rank − 1) × mean``; once the day runs late it is ``now + ahead × mean`` instead, so an estimate is
    never in the past while someone is still waiting."""
    if rank < 1 or ahead < 0:
        raise ValueError("rank starts at 1 and ahead cannot be negative")
    return max(start + (rank - 1) * mean, now + ahead * mean)
