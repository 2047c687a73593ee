"""The rules for correcting a patient record (domain.patient_rules): each field's check, the NIK's agreement with
the record, and the retention period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import FieldErrors, InputError
from domain.patient_rules import (
    MAX_AGE_YEARS,
    PROVINCES,
    NikMismatch,
    check_birth_date,
    check_nik_agrees,
    check_record,
    nik_mismatches,
    normalise_contact_phone,
    retention_ends,
    same_name,
)

TODAY = date(2026, 12, 4)
FIELDS = dict(name="Siti Nurhaliza", birth_date=date(1990, 5, 17), sex="P", nik=None, bpjs=None, phone=None)


def nik_for(born: date, sex: str, province: str = "31", serial: str = "0001") -> str:
    """The NIK Dukcapil would issue to someone born ``born`` of ``sex`` in ``province`` (district 7101)."""
    day = born.day + (40 if sex == "P" else 0)
    return f"{province}7101{day:02d}{born.month:02d}{born.year % 100:02d}{serial}"


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sexes = st.sampled_from(["L", "P"])
provinces = st.sampled_from(sorted(PROVINCES))


def test_there_are_38_provinces_with_the_new_papua_ones():
    assert len(PROVINCES) == 38
    assert {"11", "31", "91", "92", "93", "94", "95", "96"} <= set(PROVINCES)
    assert not {"00", "20", "54", "97", "99"} & set(PROVINCES)


@given(birth_dates, sexes, provinces)
def test_a_nik_issued_for_the_record_agrees_with_it(born, sex, province):
    assert nik_mismatches(nik_for(born, sex, province), born, sex) == ()


@given(birth_dates, sexes)
def test_a_nik_of_the_other_sex_names_only_the_sex(born, sex):
    other = "L" if sex == "P" else "P"
    assert nik_mismatches(nik_for(born, other), born, sex) == ("sex",)


@given(birth_dates, birth_dates, sexes)
def test_a_nik_of_another_birth_date_names_the_birth_date(born, other, sex):
    if (born.day, born.month, born.year % 100) == (other.day, other.month, other.year % 100):
        return
    assert nik_mismatches(nik_for(other, sex), born, sex) == ("birth_date",)


def test_an_unknown_province_is_named_with_the_rest():
    born = date(1990, 5, 17)
    assert nik_mismatches(nik_for(born, "P", province="99"), born, "L") == ("province", "sex")
    assert nik_mismatches("0001010101900001", born, "L") == ("province", "birth_date")


def test_a_mismatch_is_refused_until_confirmed_and_then_reported():
    born = date(1990, 5, 17)
    nik = nik_for(date(1991, 5, 17), "L")
    with pytest.raises(NikMismatch) as err:
        check_nik_agrees(nik, born, "L", confirmed=False)
    assert err.value.key == "pat_nik_mismatch"
    assert err.value.mismatches == ("birth_date",)
    assert err.value.params == {"birth": "17-05-91"}
    assert check_nik_agrees(nik, born, "L", confirmed=True) == ("birth_date",)
    assert check_nik_agrees(None, born, "L", confirmed=False) == ()


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("0812-3456-7890", "081234567890"),
        ("+62 812 3456 7890", "081234567890"),
        ("62 812 3456 7890", "081234567890"),
        ("(021) 123-4567", "0211234567"),
        ("021 12345678", "02112345678"),
        ("+62 274 123456", "0274123456"),
        ("０２７４ １２３４５６", "0274123456"),
        ("", None),
        ("  ", None),
    ],
)
def test_mobile_and_landline_numbers_keep_their_national_form(typed, stored):
    assert normalise_contact_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "0",
        "+620",
        "62",
        "12345",
        "0812",
        "021 123",
        "0001234567",
        "+1 212 555 0100",
        "0812345678901234",
        "021-abc-4567",
        "+",
    ],
)
def test_what_is_no_indonesian_number_is_refused(typed):
    with pytest.raises(InputError) as err:
        normalise_contact_phone(typed)
    assert err.value.key in ("pat_err_phone", "err_phone_format")


@given(st.text(max_size=30))
def test_any_text_is_either_refused_or_a_national_number(typed):
    try:
        stored = normalise_contact_phone(typed)
    except InputError:
        return
    assert stored is None or (stored.isdigit() and stored.startswith("0") and 9 <= len(stored) <= 15)


def test_birth_date_neither_future_nor_absurdly_old():
    assert check_birth_date(TODAY, TODAY) == TODAY
    for wrong in (TODAY + timedelta(days=1), date(TODAY.year - MAX_AGE_YEARS - 1, 12, 31)):
        with pytest.raises(InputError) as err:
            check_birth_date(wrong, TODAY)
        assert err.value.key == "err_birth_date_range"
    with pytest.raises(InputError):
        check_birth_date(None, TODAY)


def test_every_wrong_field_is_named_at_once_and_right_ones_are_normalised():
    with pytest.raises(FieldErrors) as err:
        check_record(**FIELDS | dict(nik="12345", bpjs="1", phone="12", sex="X", name=" "), address=None, today=TODAY)
    assert {f: e.key for f, e in err.value.errors.items()} == {
        "name": "err_full_name_required",
        "sex": "err_sex",
        "nik": "err_nik_format",
        "bpjs": "err_bpjs_format",
        "phone": "pat_err_phone",
    }
    good = check_record(
        **FIELDS | dict(nik="3171-0157-0590-0001", bpjs="0001-2345-67890", phone="+62812345678"),
        address=" Jl. Melati 5\x00 ",
        today=TODAY,
    )
    assert (good["nik"], good["bpjs"]) == ("3171015705900001", "0001234567890")
    assert good["phone"] == "0812345678"
    assert good["address"] == "Jl. Melati 5"


def test_a_record_is_kept_25_years_after_the_last_activity():
    assert retention_ends(date(2000, 6, 1)) == date(2025, 6, 1)
    assert retention_ends(date(2004, 2, 29)) == date(2029, 3, 1)


def test_names_are_the_same_ignoring_case_spacing_and_width():
    assert same_name("Siti  Nurhaliza", "ＳＩＴＩ nurhaliza")
    assert not same_name("Siti Nurhaliza", "Siti Nurhalisa")
