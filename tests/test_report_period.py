"""A report's period and what it compares with: a running period compares only its days so far."""

from __future__ import annotations

from datetime import date

from domain.finance import ReportFilter

DECEMBER = ReportFilter(date(2026, 12, 1), date(2026, 12, 31), payer="umum")


def _days(flt: ReportFilter) -> tuple[date, date]:
    return flt.start, flt.end


def test_a_whole_month_over_compares_with_the_whole_previous_month_and_the_same_month_last_year():
    seen = DECEMBER.as_of(date(2027, 1, 5))
    assert seen.through is None and seen.counted_end == date(2026, 12, 31)
    assert _days(seen.previous()) == (date(2026, 11, 1), date(2026, 11, 30))
    assert _days(seen.last_year()) == (date(2025, 12, 1), date(2025, 12, 31))
    assert seen.previous().payer == "umum"  # the other choices stay


def test_a_running_month_compares_its_days_so_far():
    seen = DECEMBER.as_of(date(2026, 12, 7))
    assert seen.counted_end == date(2026, 12, 7)
    assert _days(seen.previous()) == (date(2026, 11, 1), date(2026, 11, 7))
    assert _days(seen.last_year()) == (date(2025, 12, 1), date(2025, 12, 7))
    assert seen.previous().through is None and seen.last_year().through is None


def test_a_running_month_never_compares_past_the_shorter_previous_month():
    seen = ReportFilter(date(2026, 3, 1), date(2026, 3, 31)).as_of(date(2026, 3, 30))
    assert _days(seen.previous()) == (date(2026, 2, 1), date(2026, 2, 28))


def test_a_running_span_of_days_compares_with_as_many_days_just_before():
    seen = ReportFilter(date(2026, 12, 1), date(2026, 12, 14)).as_of(date(2026, 12, 3))
    assert _days(seen.previous()) == (date(2026, 11, 17), date(2026, 11, 19))


def test_a_period_not_yet_started_or_on_its_last_day_is_not_running():
    assert DECEMBER.as_of(date(2026, 11, 30)).through is None
    assert DECEMBER.as_of(date(2026, 12, 31)).through is None
