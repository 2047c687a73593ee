"""Dates, times and money in the house style."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.formats import (
    clock,
    clock_range,
    day_first,
    local_datetime,
    long_date,
    parse_clock,
    parse_day_first,
    rupiah,
    typed_amount,
    wall_clock,
    whole_number,
)
from i18n import translate


def test_long_date_in_both_languages():
    assert long_date(date(2026, 1, 12)) == "12 Januari 2026"
    assert long_date(date(2026, 12, 1), "en") == "1 December 2026"


@pytest.mark.parametrize(
    "zone,expected",
    [
        ("Asia/Jakarta", "1 Januari 2026 07.30 WIB"),
        ("Asia/Makassar", "1 Januari 2026 08.30 WITA"),
        ("Asia/Jayapura", "1 Januari 2026 09.30 WIT"),
    ],
)
def test_local_datetime_converts_utc_to_site_zone(zone, expected):
    assert local_datetime(datetime(2026, 1, 1, 0, 30, tzinfo=UTC), zone) == expected


def test_local_datetime_crosses_midnight():
    assert local_datetime(datetime(2026, 1, 31, 20, 0, tzinfo=UTC), "Asia/Jakarta", "en") == "1 February 2026 03:00 WIB"


def test_wall_clock_writes_the_site_zone_by_its_indonesian_name_or_the_zone_s_own():
    moment = datetime(2026, 1, 31, 23, 5, tzinfo=UTC)
    assert wall_clock(moment, "Asia/Makassar") == "07.05 WITA"
    assert wall_clock(moment, "Asia/Jakarta", "en") == "06:05 WIB"
    assert wall_clock(moment, "Europe/London", "en") == "23:05 GMT"


def test_whole_number_reads_both_languages_groupings():
    assert [whole_number(x) for x in ("150000", "150.000", "150,000", "1.250.000", "1,250,000", "7")] == [
        150_000, 150_000, 150_000, 1_250_000, 1_250_000, 7,
    ]  # fmt: skip
    assert [whole_number(x) for x in ("150.00", "1,50", "1.000,000", "1,000.000", "-5", "", "15.00.000")] == [None] * 7
    assert typed_amount(" Rp. 1 250 000 ") == "1250000"


@pytest.mark.parametrize(
    "amount,expected",
    [(0, "Rp 0"), (999, "Rp 999"), (1000, "Rp 1.000"), (1234567, "Rp 1.234.567"), (-5000, "-Rp 5.000")],
)
def test_rupiah(amount, expected):
    assert rupiah(amount) == expected
    assert rupiah(amount, "en") == expected.replace(".", ",")  # as the English pages write every amount


@pytest.mark.parametrize(
    "typed",
    [
        "07-02-1992",
        "7-2-1992",
        "07/02/1992",
        "7/2/1992",
        "07.02.1992",
        "07 02 1992",
        "07021992",
        "1992-02-07",
        " 7-2-1992 ",
    ],
)
def test_a_date_typed_day_first_is_read_day_first(typed):
    assert parse_day_first(typed) == date(1992, 2, 7)


@pytest.mark.parametrize(
    "typed", ["", "07-02-92", "1992/02/07", "31-02-1992", "07-13-1992", "7-2-1992-1", "0702992", "٠٧-٠٢-١٩٩٢"]
)
def test_a_date_that_cannot_be_read_day_first_is_refused(typed):
    with pytest.raises(ValueError):
        parse_day_first(typed)


@given(st.dates(min_value=date(1000, 1, 1)))
def test_a_date_written_day_first_reads_back_as_itself(day):
    assert parse_day_first(day_first(day)) == day


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("14.30", time(14, 30)),
        ("14:30", time(14, 30)),
        ("1430", time(14, 30)),
        (" 8.05 ", time(8, 5)),
        ("805", time(8, 5)),
        ("00.00", time(0, 0)),
        ("23:59", time(23, 59)),
    ],
)
def test_a_time_is_read_on_the_24_hour_clock(typed, expected):
    assert parse_clock(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "24.00", "14.60", "14.5", "2.30 pm", "2:30 PM", "14", "14.30.00", "14-30", "١٤.٣٠", "12345"]
)
def test_a_time_that_cannot_be_read_on_the_24_hour_clock_is_refused(typed):
    with pytest.raises(ValueError):
        parse_clock(typed)


@given(st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_a_time_written_as_a_field_writes_it_reads_back_as_itself(moment):
    assert parse_clock(f"{moment:%H:%M}") == parse_clock(f"{moment:%H.%M}") == parse_clock(f"{moment:%H%M}") == moment


def test_a_time_of_day_is_written_the_language_way() -> None:
    assert clock(time(8, 5)) == "08.05"
    assert clock(datetime(2026, 1, 1, 23, 59), "en") == "23:59"
    assert clock_range(time(8), time(12, 30)) == "08.00–12.30"
    assert clock_range(time(8), time(12, 30), "en") == "08:00–12:30"
    assert translate("err_schedule_overlap", "id", day="Senin", start=time(8), end=time(12), poli="Poli Umum") == (
        translate("err_schedule_overlap", "id", day="Senin", start="08.00", end="12.00", poli="Poli Umum")
    )
    assert "07:30–09:00" in translate(
        "err_schedule_overlap", "en", day="Monday", start=time(7, 30), end=time(9), poli="X"
    )
