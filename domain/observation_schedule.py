"""When a patient's next observation set is due: the RCP 2017 minimum monitoring frequency by NEWS2 score.

Score 0: every 12 h; 1–4: every 4–6 h (due at 4 h, overdue at 6 h); 5–6: hourly; 7 or more: continuous. No
observation yet in this admission, or an incomplete NEWS2 (oxygen or ACVPU unknown): due now. A patient NEWS2 does
not score (under 16, pregnant or postpartum, or on a maternity ward) is ``prescribed``: how often they are observed
is prescribed for them, by the ward's own early-warning chart (PEWS, MEOWS) or the doctor, not by NEWS2 — only the
stay's first observation is due now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CONTINUOUS_FROM = 7
HOURLY_FROM = 5
STATES = ("overdue", "due", "continuous", "ok", "prescribed")  # most urgent first


@dataclass(frozen=True)
class ObservationDue:
    """``state``: ``overdue``, ``due``, ``continuous`` (score ≥ 7), ``ok`` or ``prescribed`` (not scored by
    NEWS2); ``due_at`` None when continuous or prescribed."""

    state: str
    due_at: datetime | None


def monitoring_interval(score: int) -> tuple[timedelta, timedelta] | None:
    """(due after, overdue after) the last observation for a complete NEWS2 ``score``; None: continuous."""
    if score >= CONTINUOUS_FROM:
        return None
    if score >= HOURLY_FROM:
        return timedelta(hours=1), timedelta(hours=1)
    if score >= 1:
        return timedelta(hours=4), timedelta(hours=6)
    return timedelta(hours=12), timedelta(hours=12)


def observation_due(
    score: int | None, complete: bool, last_observed: datetime | None, now: datetime, *, scored: bool = True
) -> ObservationDue:
    """The patient's observation state at ``now``, from the current NEWS2 and the admission's last observation;
    ``scored`` False for a patient NEWS2 does not score."""
    if last_observed is None:
        return ObservationDue("due", now)
    if not scored:
        return ObservationDue("prescribed", None)
    if score is None or not complete:
        return ObservationDue("due", now)
    interval = monitoring_interval(score)
    if interval is None:
        return ObservationDue("continuous", None)
    due_after, overdue_after = interval
    due_at = last_observed + due_after
    if now >= last_observed + overdue_after:
        return ObservationDue("overdue", due_at)
    return ObservationDue("due" if now >= due_at else "ok", due_at)
