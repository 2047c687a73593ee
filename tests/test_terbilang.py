"""Indonesian number words for the queue voice call."""

from __future__ import annotations

import pytest

from domain.announcement import CLIP_WORDS
from domain.terbilang import NUMBER_UNITS, number_words, terbilang

TABLE = {
    0: "nol",
    1: "satu",
    2: "dua",
    3: "tiga",
    4: "empat",
    5: "lima",
    6: "enam",
    7: "tujuh",
    8: "delapan",
    9: "sembilan",
    10: "sepuluh",
    11: "sebelas",
    12: "dua belas",
    13: "tiga belas",
    14: "empat belas",
    15: "lima belas",
    16: "enam belas",
    17: "tujuh belas",
    18: "delapan belas",
    19: "sembilan belas",
    20: "dua puluh",
    21: "dua puluh satu",
    99: "sembilan puluh sembilan",
    100: "seratus",
    101: "seratus satu",
    110: "seratus sepuluh",
    111: "seratus sebelas",
    115: "seratus lima belas",
    119: "seratus sembilan belas",
    120: "seratus dua puluh",
    199: "seratus sembilan puluh sembilan",
    200: "dua ratus",
    999: "sembilan ratus sembilan puluh sembilan",
    1000: "seribu",
    1001: "seribu satu",
    1010: "seribu sepuluh",
    1011: "seribu sebelas",
    1100: "seribu seratus",
    1111: "seribu seratus sebelas",
    1999: "seribu sembilan ratus sembilan puluh sembilan",
    2000: "dua ribu",
    9998: "sembilan ribu sembilan ratus sembilan puluh delapan",
    9999: "sembilan ribu sembilan ratus sembilan puluh sembilan",
    10000: "sepuluh ribu",
    11000: "sebelas ribu",
    100000: "seratus ribu",
    101000: "seratus satu ribu",
    1000000: "satu juta",
    1000001: "satu juta satu",
    2500: "dua ribu lima ratus",
    12_345_678: "dua belas juta tiga ratus empat puluh lima ribu enam ratus tujuh puluh delapan",
    999_999_999: "sembilan ratus sembilan puluh sembilan juta sembilan ratus sembilan puluh sembilan ribu "
    "sembilan ratus sembilan puluh sembilan",
}


@pytest.mark.parametrize("n,words", TABLE.items())
def test_table(n, words):
    assert terbilang(n) == words


@pytest.mark.parametrize(
    "n,units",
    [
        (12, ["dua", "belas"]),
        (111, ["seratus", "sebelas"]),
        (1000, ["seribu"]),
        (2500, ["dua", "ribu", "lima", "ratus"]),
        (0, ["nol"]),
    ],
)
def test_number_words_are_clip_units(n, units):
    assert number_words(n) == units


_ONES = ("satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")


def _reference(n: int) -> str:
    """Written independently: recursive by place value, with the "se-" forms as special cases."""
    if n == 0:
        return "nol"
    for value, name, single in ((1_000_000, "juta", "satu juta"), (1000, "ribu", "seribu"), (100, "ratus", "seratus")):
        if n >= value:
            head = single if n // value == 1 else f"{_reference(n // value)} {name}"
            return head if n % value == 0 else f"{head} {_reference(n % value)}"
    if n >= 20:
        return f"{_ONES[n // 10 - 1]} puluh" + (f" {_ONES[n % 10 - 1]}" if n % 10 else "")
    if n >= 12:
        return f"{_ONES[n - 11]} belas"
    return {10: "sepuluh", 11: "sebelas"}.get(n) or _ONES[n - 1]


def test_reference_agrees_with_table():
    assert {n: _reference(n) for n in TABLE} == TABLE


def test_every_number_below_ten_thousand():
    for n in range(10_000):
        words = terbilang(n)
        assert words == _reference(n), n
        assert " ".join(number_words(n)) == words, n
        assert words == words.strip().lower() and "  " not in words, n


def test_units_have_clips():
    seen = {unit for n in [*range(10_000), *range(10_000, 2_000_000, 997)] for unit in number_words(n)}
    assert seen == NUMBER_UNITS
    assert seen <= CLIP_WORDS


@pytest.mark.parametrize("bad", [-1, 10**9, True, False, 1.5, 12.0, "12", None])
def test_rejects_what_it_cannot_read(bad):
    with pytest.raises(ValueError):
        terbilang(bad)
    with pytest.raises(ValueError):
        number_words(bad)
