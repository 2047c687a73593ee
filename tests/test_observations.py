"""A nurse's observation form: every mistake gets a message, good input passes through unchanged."""

from __future__ import annotations

import pytest

from domain.observations import validate_observation

GOOD = {
    "on_oxygen": "no",
    "consciousness": "A",
    "rr": "18",
    "spo2": "96",
    "sbp": "120",
    "dbp": "80",
    "hr": "88",
    "temp": "37,2",
}


def test_good_input_parses_with_decimal_comma():
    obs, errors = validate_observation(GOOD)
    assert errors == {}
    assert obs.on_oxygen is False and obs.consciousness == "A" and obs.temp == 37.2 and obs.rr == 18


def test_only_oxygen_and_consciousness_are_required():
    obs, errors = validate_observation({"on_oxygen": "yes", "consciousness": "V"})
    assert errors == {} and obs.on_oxygen is True and obs.hr is None


@pytest.mark.parametrize(
    "field,value,key",
    [
        ("on_oxygen", None, "obs_err_oxygen"),
        ("consciousness", "X", "obs_err_acvpu"),
        ("hr", "delapan", "obs_err_number"),
        ("hr", "900", "obs_err_range"),
        ("temp", "3.7", "obs_err_range"),
        ("dbp", "130", "obs_err_dbp_above_sbp"),
    ],
)
def test_each_mistake_has_its_message(field, value, key):
    _, errors = validate_observation(GOOD | {field: value})
    assert errors[field][0] == key


def test_blood_pressure_comes_in_pairs():
    _, errors = validate_observation(GOOD | {"dbp": ""})
    assert errors["dbp"][0] == "obs_err_bp_pair"
