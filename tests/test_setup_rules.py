"""The setup forms' field rules (domain/setup_rules): what they store, and the message each refusal names."""

from __future__ import annotations

import pytest

from domain import setup_rules as rules
from domain.errors import FieldErrors, InputError


@pytest.mark.parametrize(
    ("rule", "typed", "stored"),
    [
        (lambda v: rules.code(v, 32), " mawar-2 ", "MAWAR-2"),
        (lambda v: rules.code(v, 32), "ＩＣＵ", "ICU"),  # full-width letters read as letters (NFKC)
        (lambda v: rules.name(v, 100), "  Bangsal\x00 Mawar ", "Bangsal Mawar"),
        (rules.ppk_code, "0101r001", "0101R001"),
        (rules.ppk_code, "  ", None),
        (rules.queue_prefix, "fa", "FA"),
        (rules.bpjs_poli_code, "int", "INT"),
        (rules.bpjs_poli_code, "", None),
        (rules.hfis_code, "１２３", "123"),
        (rules.sip, " ", None),
        (rules.facility_class, "pkm", "PKM"),
        (rules.facility_class, None, None),
        (rules.care_class, "kris", "KRIS"),
        (rules.optional_care_class, "", None),
        (rules.ward_kind, "ICU", "icu"),
        (rules.ward_kind, "Maternity", "maternity"),
        (rules.bed_status, "Out_Of_Service", "out_of_service"),
        (rules.bed_count, " 12 ", 12),
        (rules.board_group, "Gigi", "gigi"),
    ],
)
def test_a_good_value_is_stored_normalised(rule, typed, stored):
    assert rule(typed) == stored


@pytest.mark.parametrize(
    ("rule", "typed", "key"),
    [
        (lambda v: rules.code(v, 4), "MAWAR", "err_setup_code"),
        (lambda v: rules.code(v, 16, hyphen=False), "T-HT", "err_setup_code_plain"),
        (lambda v: rules.name(v, 100), "\u200b", "err_setup_name_required"),
        (rules.timezone, "Asia/Singapore", "err_setup_timezone"),
        (rules.ppk_code, "0101R0011", "err_setup_ppk"),
        (rules.queue_prefix, "A1", "err_setup_prefix"),
        (rules.queue_prefix, "R", "err_setup_prefix_fixed"),
        (rules.hfis_code, "-12", "err_setup_hfis"),
        (rules.sip, "S" * 65, "err_setup_too_long"),
        (rules.bed_count, "1.5", "err_setup_bed_count"),
        (rules.bed_count, "٣", "err_setup_bed_count"),  # digits, but not ASCII ones
        (rules.service_minutes, "241", "err_setup_service_minutes"),
        (rules.bed_status, "dirty", "err_setup_bed_status"),
    ],
)
def test_a_bad_value_names_its_message(rule, typed, key):
    with pytest.raises(InputError) as err:
        rule(typed)
    assert err.value.key == key


def test_a_form_is_checked_whole_and_a_missing_field_is_blank():
    form_rules = {"name": lambda v: rules.name(v, 10), "count": rules.bed_count}
    with pytest.raises(FieldErrors) as err:
        rules.check_form({"count": "0"}, form_rules)
    assert {f: e.key for f, e in err.value.errors.items()} == {
        "name": "err_setup_name_required",
        "count": "err_setup_bed_count",
    }
    assert rules.check_form({"name": " A ", "count": "3"}, form_rules) == {"name": "A", "count": 3}
