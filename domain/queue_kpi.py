"""Queue service indicators: the outpatient waiting-time target and doctors' late starts.

The national minimum service standard for outpatient care counts a patient as served in time when they waited
at most 60 minutes from registration to the doctor (BPJS "waktu tunggu poli": task 3 → task 4), and asks that
at least 80 % of patients are."""

from __future__ import annotations

from datetime import datetime, timedelta

WAIT_TARGET = timedelta(minutes=60)
SHARE_TARGET = 0.80


def share(part: int, whole: int) -> float | None:
    """``part / whole``; ``None`` when there is nothing to count (shown as "—", never as 0 %)."""
    if whole < 0 or part < 0 or part > whole:
        raise ValueError("share needs 0 ≤ part ≤ whole")
    return part / whole if whole else None


def meets_target(value: float | None, target: float = SHARE_TARGET) -> bool | None:
    """Whether a share reaches the target; ``None`` when there is no share to judge."""
    return None if value is None else value >= target


def wait_judged(registered: datetime | None, called: datetime | None, cancelled: bool, now: datetime) -> bool:
    """Whether a visit counts for the ≤ 60 min share: served patients count, and so does anyone still waiting
    who already waited longer than the target (they cannot make it any more). No-shows do not count."""
    if registered is None or cancelled:
        return False
    return called is not None or now - registered > WAIT_TARGET


def waited_in_time(registered: datetime | None, called: datetime | None) -> bool:
    """Served within the target (registration → start of the doctor's service)."""
    return registered is not None and called is not None and called - registered <= WAIT_TARGET


def late_minutes(starts_at: datetime, started_at: datetime | None) -> float | None:
    """How many minutes after the scheduled start the doctor saw the first patient (0 when on time or early);
    ``None`` while the session has not started."""
    if started_at is None:
        return None
    return max(0.0, (started_at - starts_at).total_seconds() / 60)
