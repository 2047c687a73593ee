"""The weekly plan's rules (domain/schedule_rules.py): times, quotas, validity and one doctor's overlaps."""

from __future__ import annotations

from datetime import date, time

import pytest

from domain.errors import FieldErrors
from domain.formats import weekday_name
from domain.schedule_rules import PlanSession, check_session, clashes, session_errors
from i18n import translate

MONDAY = 0


def plan(start: int, end: int, *, doctor: int = 1, weekday: int = MONDAY, id: int | None = None, **kw) -> PlanSession:
    return PlanSession(id=id, doctor_id=doctor, weekday=weekday, start=time(start), end=time(end), **kw)


def test_touching_sessions_do_not_clash():
    assert not clashes(plan(8, 12), plan(12, 16))
    assert not clashes(plan(12, 16), plan(8, 12))
    check_session(plan(12, 16), [plan(8, 12, id=7, poli_name="Poli Anak")])


def test_overlap_names_the_clashing_session_at_any_poli():
    with pytest.raises(FieldErrors) as caught:
        check_session(plan(11, 14), [plan(8, 12, id=7, poli_name="Poli Anak")])
    error = caught.value.errors["start"]
    assert error.key == "err_schedule_overlap"
    assert error.params == {"day": 0, "start": time(8), "end": time(12), "poli": "Poli Anak"}
    assert translate(error.key, "id", **error.params).startswith("Bentrok dengan Senin 08.00–12.00 di Poli Anak")
    assert translate(error.key, "en", **error.params).startswith("Clashes with Monday 08:00–12:00 at Poli Anak")


def test_a_session_inside_another_clashes():
    assert clashes(plan(9, 10), plan(8, 12))


@pytest.mark.parametrize(
    ("other", "clash"),
    [
        (plan(8, 12, doctor=2), False),  # another doctor
        (plan(8, 12, weekday=1), False),  # another day
        (plan(8, 12, valid_until=date(2026, 6, 30)), False),  # disjoint validity
        (plan(8, 12, valid_until=date(2026, 7, 1)), True),  # shares 1 July
        (plan(8, 12, valid_from=date(2026, 1, 1)), True),  # open end reaches forever
    ],
)
def test_validity_and_doctor_decide_a_clash(other, clash):
    mine = plan(9, 11, valid_from=date(2026, 7, 1))
    assert clashes(mine, other) is clash


def test_a_saved_session_does_not_clash_with_itself():
    assert session_errors(plan(8, 12, id=3), [plan(8, 12, id=3)]) == {}
    assert "start" in session_errors(plan(8, 12, id=3), [plan(8, 12, id=4)])


def test_each_wrong_field_is_named():
    wrong = plan(
        12, 8, quota_jkn=-1, quota_non_jkn=5, capacity=3, valid_from=date(2026, 2, 1), valid_until=date(2026, 1, 1)
    )
    errors = session_errors(wrong, [])
    assert {field: e.key for field, e in errors.items()} == {
        "end": "err_schedule_end_before_start",
        "quota_jkn": "err_schedule_quota_negative",
        "capacity": "err_schedule_capacity",
        "valid_until": "err_schedule_validity",
    }
    assert errors["capacity"].params == {"capacity": 3, "total": 4}


def test_capacity_equal_to_the_quotas_is_enough():
    assert session_errors(plan(8, 12, quota_jkn=20, quota_non_jkn=10, capacity=30), []) == {}


def test_weekday_names_start_on_monday():
    assert [weekday_name(n) for n in (0, 4, 6)] == ["Senin", "Jumat", "Minggu"]
    assert weekday_name(0, "en") == "Monday"
