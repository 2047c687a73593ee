"""The one normaliser for what people type into identifier, phone and name fields (domain.identifiers,
domain.formats) and the poli age rule (domain.age_range): every input is either refused with its field's message
key or turned into exactly one stored form."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from api.jkn_fields import Body
from domain.age_range import AgeRange, age_shown, age_years, years_bound
from domain.errors import InputError
from domain.formats import PHONE_DIGITS, normalise_name, normalise_phone
from domain.identifiers import LENGTHS, digit_string, normalise_identifier

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SEPARATOR = st.sampled_from([" ", "-", ".", "\u3000", "\t"])


def digits(length: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=length, max_size=length)


@st.composite
def typed(draw: st.DrawFn, number: str) -> str:
    """``number`` as a clerk might type or paste it: full-width or not, with spaces and separators anywhere."""
    if draw(st.booleans()):
        number = number.translate(FULL_WIDTH)
    out = []
    for ch in number:
        out.append(draw(st.lists(SEPARATOR, max_size=2)))
        out.append([ch])
    return "".join("".join(part) for part in out) + draw(st.sampled_from(["", " "]))


@given(st.sampled_from(sorted(LENGTHS)), st.data())
def test_a_number_typed_any_way_is_stored_as_its_ascii_digits(field, data):
    number = data.draw(digits(LENGTHS[field]))
    assert normalise_identifier(field, data.draw(typed(number))) == number


@given(digits(16))
def test_full_width_and_ascii_nik_are_the_same_number(number):
    assert normalise_identifier("nik", number.translate(FULL_WIDTH)) == normalise_identifier("nik", number)


@given(
    st.sampled_from(sorted(LENGTHS)),
    st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and digit_string(s) is None),
)
@example("nik", "abcdefghijklmnop")
@example("bpjs", "abcdefghijklm")
@example("nik", "3171012301900001😀")
@example("nik", "317101230190000l")  # a lower-case L for a one
@example("bpjs", "٠٠٠١٢٣٤٥٦٧٨٩٠")  # Arabic-Indic digits: digits, but not the ones a NIK is written in
def test_anything_but_digits_and_separators_is_refused_never_dropped(field, value):
    with pytest.raises(InputError) as refused:
        normalise_identifier(field, value)
    assert refused.value.key == f"err_{field}_format"


@given(st.sampled_from(sorted(LENGTHS)), st.data())
def test_a_wrong_length_is_refused(field, data):
    length = data.draw(st.integers(1, 30).filter(lambda n: n != LENGTHS[field]))
    with pytest.raises(InputError) as refused:
        normalise_identifier(field, data.draw(typed(data.draw(digits(length)))))
    assert refused.value.key == f"err_{field}_format"


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000"])
def test_a_blank_identifier_is_none(blank):
    assert normalise_identifier("nik", blank) is None


# ---- phone ------------------------------------------------------------------------------------------------------


@given(st.integers(PHONE_DIGITS[0] - 2, PHONE_DIGITS[1] - 2).flatmap(digits), st.data())
def test_a_mobile_number_in_any_usual_form_is_stored_in_the_national_form(rest, data):
    national = "08" + rest
    prefix = data.draw(st.sampled_from(["0", "+62", "62", "+62 ", "０"]))
    written = data.draw(typed("8" + rest))
    assert normalise_phone(prefix + written) == national


@given(st.one_of(st.integers(1, PHONE_DIGITS[0] - 3), st.integers(PHONE_DIGITS[1] - 1, 25)).flatmap(digits))
@example("1234567")  # 081234567: nine digits, the length the old rule let through
def test_a_mobile_number_of_the_wrong_length_is_refused_with_the_rule_in_the_message(rest):
    with pytest.raises(InputError) as refused:
        normalise_phone("08" + rest)
    assert (refused.value.key, refused.value.params) == ("err_phone_format", {"min": 10, "max": 15})


@pytest.mark.parametrize("value", ["", "0212345678", "+1 415 555 0100", "0812-3456-789O", "62", "+0812345678"])
def test_what_is_not_an_indonesian_mobile_number_is_refused(value):
    with pytest.raises(InputError, match="err_phone_format"):
        normalise_phone(value)


# ---- names ------------------------------------------------------------------------------------------------------

NAME_CHARS = st.characters(codec="utf-8", categories=("L", "M", "Zs", "N", "So", "Cc", "P"))


@given(st.text(NAME_CHARS, max_size=30))
@example("Bayu 😀")
@example("Nguye\u0302\u0303n Thi\u0323")
@example("  Sri   Rahayu  ")
def test_a_name_is_refused_with_its_key_or_stored_in_one_normal_form(name):
    try:
        stored = normalise_name(name)
    except InputError as refused:
        assert refused.key in ("err_full_name_required", "err_name_characters")
        return
    assert stored == unicodedata.normalize("NFKC", stored) == " ".join(stored.split())
    assert normalise_name(stored) == stored
    assert not any(unicodedata.category(ch) in ("So", "Cc", "Nd") for ch in stored)


# ---- poli age range ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1983, 5, 2), date(2026, 5, 1), 42),
        (date(1983, 5, 2), date(2026, 5, 2), 43),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_counts_completed_years(born, day, age):
    assert age_years(born, day) == age


@pytest.mark.parametrize(
    ("born", "day", "shown"),
    [
        (date(2026, 12, 7), date(2026, 12, 7), (0, "days")),  # born today
        (date(2026, 11, 8), date(2026, 12, 7), (29, "days")),
        (date(2026, 11, 7), date(2026, 12, 7), (1, "months")),
        (date(2026, 1, 31), date(2026, 2, 28), (28, "days")),  # no 31 February: a month from 1 March
        (date(2026, 1, 31), date(2026, 3, 1), (1, "months")),
        (date(2024, 12, 8), date(2026, 12, 7), (23, "months")),
        (date(2024, 12, 7), date(2026, 12, 7), (2, "years")),
        (date(1983, 5, 2), date(2026, 5, 1), (42, "years")),
    ],
)
def test_a_ward_shows_a_young_childs_age_in_days_then_months(born, day, shown):
    assert age_shown(born, day) == shown


def test_an_age_range_admits_its_bounds_only():
    children = AgeRange(0, 17)
    assert children.admits(0) and children.admits(17) and not children.admits(18)
    assert AgeRange(None, None).admits(90) and AgeRange(60, None).admits(150) and not AgeRange(60, None).admits(59)


@pytest.mark.parametrize(
    ("low", "high", "key"), [(-1, None, "err_age_bound"), (None, 151, "err_age_bound"), (18, 17, "err_age_order")]
)
def test_an_impossible_age_range_is_refused(low, high, key):
    with pytest.raises(InputError) as refused:
        AgeRange(low, high)
    assert refused.value.key == key


@pytest.mark.parametrize(("typed_bound", "years"), [("", None), (" 17 ", 17), ("１７", 17), ("0", 0), ("150", 150)])
def test_an_age_bound_as_typed(typed_bound, years):
    assert years_bound(typed_bound) == years


@pytest.mark.parametrize("typed_bound", ["151", "-1", "17.5", "tujuh", "1e2"])
def test_an_age_bound_that_is_not_whole_years_is_refused(typed_bound):
    with pytest.raises(InputError, match="err_age_bound"):
        years_bound(typed_bound)


def test_mobile_jkn_reads_its_numbers_with_the_same_normaliser():
    nik = "3171012301900001"
    assert Body({"nik": nik.translate(FULL_WIDTH)}).digits("nik", 16) == nik
    with pytest.raises(InputError, match="jkn_field_digits"):
        Body({"nik": "abcdefghijklmnop"}).digits("nik", 16)
