"""Pure queue rules: BPJS task order, waiting estimates, ticket labels and booking codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import InputError
from domain.queue_estimate import estimated_call, mean_service_time
from domain.queue_points import (
    ADMISSION,
    PHARMACY_COMPOUNDED,
    booking_code,
    is_known_point,
    may_operate,
    poli_code_of,
    poli_point,
    ticket_label,
)
from domain.queue_tasks import CANCELLED, check_next, is_complete

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def tasks(*ids: int) -> dict[int, datetime]:
    return {task: at(n) for n, task in enumerate(ids)}


@pytest.mark.parametrize(
    ("recorded", "task", "new_patient"),
    [
        ((), 3, False),
        ((), 1, True),
        ((), 3, True),  # a new patient registered without the admission queue
        ((1,), 2, True),
        ((1, 2), 3, True),
        ((3,), 4, False),
        ((3, 4), 5, False),
        ((3, 4, 5), 6, False),
        ((3, 4, 5, 6), 7, False),
        ((3,), CANCELLED, False),
        ((), CANCELLED, False),
    ],
)
def test_allowed_next_tasks(recorded, task, new_patient):
    check_next(tasks(*recorded), task, at(60), new_patient=new_patient)


@pytest.mark.parametrize(
    ("recorded", "task", "new_patient", "key"),
    [
        ((), 1, False, "err_task_order"),  # existing patients start at 3
        ((), 4, False, "err_task_order"),
        ((3,), 5, False, "err_task_order"),
        ((1,), 3, True, "err_task_order"),
        ((3, 4), 4, False, "err_task_done"),
        ((3, 4), CANCELLED, False, "err_task_cancel_served"),
        ((3, CANCELLED), 4, False, "err_task_cancelled"),
        ((3,), 8, False, "err_task_unknown"),
    ],
)
def test_refused_tasks(recorded, task, new_patient, key):
    with pytest.raises(InputError) as raised:
        check_next(tasks(*recorded), task, at(60), new_patient=new_patient)
    assert raised.value.key == key


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=-1)])
def test_times_must_strictly_increase(offset):
    recorded = tasks(3, 4)
    with pytest.raises(InputError) as raised:
        check_next(recorded, 5, recorded[4] + offset, new_patient=False)
    assert raised.value.key == "err_task_time"
    check_next(recorded, 5, recorded[4] + timedelta(milliseconds=1), new_patient=False)


def test_completeness():
    assert is_complete(tasks(3, 4, 5), new_patient=False, pharmacy=False)
    assert not is_complete(tasks(3, 4, 5), new_patient=False, pharmacy=True)
    assert is_complete(tasks(1, 2, 3, 4, 5, 6, 7), new_patient=True, pharmacy=True)
    assert not is_complete(tasks(3, 5), new_patient=False, pharmacy=False)
    assert is_complete(tasks(3, CANCELLED), new_patient=False, pharmacy=False)
    backwards = {3: at(5), 4: at(1), 5: at(9)}
    assert not is_complete(backwards, new_patient=False, pharmacy=False)


def test_mean_service_time_uses_the_last_measured_services():
    default = timedelta(minutes=10)
    assert mean_service_time([], default) == default
    assert mean_service_time([timedelta(0)], default) == default  # nothing really measured
    measured = [timedelta(minutes=m) for m in (100, 4, 6, 8)]
    assert mean_service_time(measured, default, window=3) == timedelta(minutes=6)
    # One quick first visit is blended with the default until three are measured.
    assert mean_service_time([timedelta(minutes=1)], default) == timedelta(minutes=7)
    assert mean_service_time([timedelta(minutes=1)], default, min_samples=1) == timedelta(minutes=1)


def test_estimate_follows_the_plan_then_the_clock():
    start, mean = at(0), timedelta(minutes=8)
    # Before the day runs late: start + (rank − 1) × mean.
    assert estimated_call(start, 4, 3, mean, now=at(-30)) == at(24)
    # Doctor is behind: the fifth in line cannot be seen before now + 4 × mean.
    assert estimated_call(start, 5, 4, mean, now=at(60)) == at(92)
    # Next in line, late day: now.
    assert estimated_call(start, 9, 0, mean, now=at(70)) == at(70)
    with pytest.raises(ValueError):
        estimated_call(start, 0, 0, mean, now=start)


def test_labels_points_and_booking_codes():
    assert ticket_label("A", 12) == "A012"
    assert ticket_label("B", 1) == "B001"
    assert ticket_label("A", 1000) == "A1000"
    assert poli_code_of(poli_point("ANA")) == "ANA"
    assert poli_code_of(ADMISSION) is None
    assert is_known_point(PHARMACY_COMPOUNDED) and is_known_point("poli:UMU") and not is_known_point("poli:")
    codes = {booking_code(date(2026, 11, 23)) for _ in range(500)}
    assert len(codes) == 500
    assert all(c.startswith("20261123") and len(c) == 14 and not set(c[8:]) & set("01OI") for c in codes)


def test_who_may_operate_which_counter():
    assert may_operate({"front_desk"}, ADMISSION)
    assert not may_operate({"nurse"}, ADMISSION)
    assert may_operate({"pharmacy"}, PHARMACY_COMPOUNDED)
    assert not may_operate({"nurse", "doctor"}, PHARMACY_COMPOUNDED)
    assert may_operate({"doctor"}, "poli:UMU")
    assert not may_operate({"pharmacy"}, "poli:UMU")
    assert may_operate({"admin"}, PHARMACY_COMPOUNDED)
