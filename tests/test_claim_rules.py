"""BPJS claim rules: lifecycle, the 6-month submission limit, the 15-working-day verification promise, field checks."""

from datetime import date

import pytest

from domain import claim_rules as rules
from domain.errors import InputError


def test_lifecycle_steps():
    assert rules.next_states("coded") == ("grouped",)
    assert set(rules.next_states("verified")) == {"eligible", "pending", "not_eligible", "dispute"}
    assert rules.next_states("paid") == ()
    assert rules.can_move("pending", "submitted")
    assert rules.can_move("dispute", "submitted")
    assert not rules.can_move("submitted", "paid")
    assert not rules.can_move("coded", "submitted")


def test_path_through_skipped_states():
    assert rules.path_to("submitted", "paid") == ["verified", "eligible", "paid"]
    assert rules.path_to("pending", "paid") == ["submitted", "verified", "eligible", "paid"]
    assert rules.path_to("final", "pending") == ["submitted", "verified", "pending"]
    assert rules.path_to("paid", "paid") == []
    assert rules.path_to("paid", "submitted") is None
    assert rules.path_to("eligible", "pending") is None


@pytest.mark.parametrize(
    ("end", "deadline"),
    [
        (date(2025, 8, 31), date(2026, 2, 28)),
        (date(2023, 8, 31), date(2024, 2, 29)),  # leap year
        (date(2026, 1, 15), date(2026, 7, 15)),
        (date(2026, 7, 31), date(2027, 1, 31)),  # across the year
        (date(2025, 12, 31), date(2026, 6, 30)),
    ],
)
def test_submission_deadline_month_ends(end, deadline):
    assert rules.submission_deadline(end) == deadline


def test_days_left_and_near_limit():
    end = date(2026, 1, 15)  # deadline 15 July 2026
    assert rules.days_to_deadline(end, date(2026, 6, 15)) == 30
    assert rules.near_limit(end, date(2026, 6, 15), "final")
    assert not rules.near_limit(end, date(2026, 6, 14), "final")  # 31 days left
    assert not rules.near_limit(end, date(2026, 7, 1), "submitted")  # already submitted
    assert rules.days_to_deadline(end, date(2026, 7, 16)) == -1
    assert rules.near_limit(end, date(2026, 7, 16), "coded")  # late is flagged too


def test_verification_due_skips_weekends_and_17_august():
    # Submitted Friday 14 Aug 2026; Monday 17 Aug is Independence Day: days 1-15 run 18 Aug .. 7 Sep.
    assert rules.verification_due(date(2026, 8, 14), {date(2026, 8, 17)}) == date(2026, 9, 7)
    assert rules.verification_due(date(2026, 8, 14), set()) == date(2026, 9, 4)


def test_verification_due_over_idul_fitri():
    # Idul Fitri 1446 H: 31 Mar and 1 Apr 2025 (Mon, Tue). Submitted Thursday 27 Mar.
    lebaran = {date(2025, 3, 31), date(2025, 4, 1)}
    assert rules.verification_due(date(2025, 3, 27), lebaran) == date(2025, 4, 21)


def test_sep_number():
    assert rules.sep_number(" 0101r0010125v000123 ") == "0101R0010125V000123"
    for bad in ("0101R0010125V00012", "0101R0010125V0001234", "0101R0010125-000123", ""):
        with pytest.raises(InputError) as err:
            rules.sep_number(bad)
        assert err.value.key == "claim_err_sep"


def test_inacbg_code():
    assert rules.inacbg_code("k-4-17-i") == "K-4-17-I"
    assert rules.inacbg_code("Q-5-44-0") == "Q-5-44-0"
    assert rules.inacbg_code("I-4-10-III") == "I-4-10-III"
    assert rules.inacbg_code("") is None
    for bad in ("K-4-17-IV", "K4-17-I", "K-4-7-I", "KK-4-17-I"):
        with pytest.raises(InputError):
            rules.inacbg_code(bad)


def test_amounts():
    assert rules.amount("1.234.567") == 1_234_567
    assert rules.amount("Rp 4.500.000") == 4_500_000
    assert rules.amount("1,234,567") == 1_234_567
    assert rules.amount("250000") == 250_000
    assert rules.amount(0) == 0
    assert rules.optional_amount("") is None
    for bad in ("-5", "1.234,50", "12.34", "abc", "1.2345", True, 10**12):
        with pytest.raises(InputError):
            rules.amount(bad)


@pytest.mark.parametrize("today", [date(2026, 1, 29), date(2026, 2, 27), date(2026, 6, 1), date(2024, 1, 30)])
def test_near_limit_cutoff_agrees_with_near_limit(today):
    cutoff = rules.near_limit_cutoff(today)
    assert rules.near_limit(cutoff, today, "coded")
    assert not rules.near_limit(date.fromordinal(cutoff.toordinal() + 1), today, "coded")


def test_near_limit_cutoff_month_end():
    # 29 Jan 2026 + 30 days = 28 Feb 2026, the deadline of every service that ended 28-31 Aug 2025.
    assert rules.near_limit_cutoff(date(2026, 1, 29)) == date(2025, 8, 31)
