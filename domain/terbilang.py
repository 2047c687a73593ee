"""Indonesian number words (*terbilang*) for voice calls: ``12`` → ``"dua belas"``, ``1000`` → ``"seribu"``."""

from __future__ import annotations

MAX_NUMBER = 999_999_999

DIGITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")

# Every word number_words() can return: also the names of the voice clips that say them.
NUMBER_UNITS = frozenset(DIGITS) | {
    "sepuluh",
    "sebelas",
    "belas",
    "puluh",
    "seratus",
    "ratus",
    "seribu",
    "ribu",
    "juta",
}


def _below_thousand(n: int) -> list[str]:
    """Words for 1..999 (nothing for 0: a zero group is silent inside a larger number)."""
    hundreds, rest = divmod(n, 100)
    words = [] if hundreds == 0 else ["seratus"] if hundreds == 1 else [DIGITS[hundreds], "ratus"]
    tens, ones = divmod(rest, 10)
    if rest == 0:
        pass
    elif rest < 10:
        words.append(DIGITS[ones])
    elif rest == 10:
        words.append("sepuluh")
    elif rest == 11:
        words.append("sebelas")
    elif rest < 20:
        words += [DIGITS[ones], "belas"]
    else:
        words += [DIGITS[tens], "puluh"] + ([DIGITS[ones]] if ones else [])
    return words


def number_words(n: int) -> list[str]:
    """The word units of ``n`` in order, each one voice clip: ``2500`` → ``["dua", "ribu", "lima", "ratus"]``.

    Raises ``ValueError`` unless ``n`` is an ``int`` (not ``bool``) in ``0..999_999_999``."""
    if type(n) is not int or not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"terbilang needs a whole number from 0 to {MAX_NUMBER:_}, got {n!r}")
    if n == 0:
        return ["nol"]
    millions, rest = divmod(n, 1_000_000)
    thousands, units = divmod(rest, 1000)
    words = [*_below_thousand(millions), "juta"] if millions else []
    if thousands == 1:
        words.append("seribu")  # but 101_000 is "seratus satu ribu"
    elif thousands:
        words += [*_below_thousand(thousands), "ribu"]
    return words + _below_thousand(units)


def terbilang(n: int) -> str:
    """``n`` in Indonesian words, lower case, single spaces: ``111`` → ``"seratus sebelas"``."""
    return " ".join(number_words(n))
