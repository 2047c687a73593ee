"""The RCP 2017 monitoring frequency (domain/observation_schedule.py): every band edge, written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.observation_schedule import monitoring_interval, observation_due

LAST = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, (12 * H, 12 * H)),
        (1, (4 * H, 6 * H)),
        (4, (4 * H, 6 * H)),
        (5, (H, H)),
        (6, (H, H)),
        (7, None),
        (20, None),
    ],
)
def test_interval_by_score_band(score, expected):
    assert monitoring_interval(score) == expected


def test_no_observation_yet_is_due_now():
    now = LAST + 5 * H
    due = observation_due(0, True, None, now)
    assert (due.state, due.due_at) == ("due", now)


@pytest.mark.parametrize("score", [0, 3, 6, 9])
def test_incomplete_news2_is_due_now(score):
    now = LAST + timedelta(minutes=10)
    due = observation_due(score, False, LAST, now)
    assert (due.state, due.due_at) == ("due", now)


def test_unknown_score_is_due_now():
    assert observation_due(None, True, LAST, LAST).state == "due"


@pytest.mark.parametrize(
    ("score", "after", "state", "due_in"),
    [
        (0, 12 * H - timedelta(seconds=1), "ok", 12 * H),
        (0, 12 * H, "overdue", 12 * H),
        (1, 4 * H - timedelta(seconds=1), "ok", 4 * H),
        (1, 4 * H, "due", 4 * H),
        (4, 6 * H - timedelta(seconds=1), "due", 4 * H),
        (4, 6 * H, "overdue", 4 * H),
        (5, H - timedelta(seconds=1), "ok", H),
        (6, H, "overdue", H),
    ],
)
def test_due_and_overdue_edges(score, after, state, due_in):
    due = observation_due(score, True, LAST, LAST + after)
    assert (due.state, due.due_at) == (state, LAST + due_in)


@pytest.mark.parametrize("score", [7, 8, 15])
def test_seven_or_more_is_continuous(score):
    due = observation_due(score, True, LAST, LAST + 30 * H)
    assert (due.state, due.due_at) == ("continuous", None)


def test_a_child_is_observed_as_prescribed_after_the_first_set():
    """NEWS2 does not set a child's frequency: only the stay's first set is due now, then the ward's prescription."""
    assert observation_due(None, True, None, LAST, scored=False).state == "due"
    later = observation_due(None, True, LAST, LAST + timedelta(hours=30), scored=False)
    assert (later.state, later.due_at) == ("prescribed", None)
