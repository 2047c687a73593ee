"""Adjustable alarm-limit ranges: every parameter's boundaries in and out, the minimum gap, widening needs a reason."""

from __future__ import annotations

import math

import pytest

from domain.alarm_limit_ranges import (
    ADJUSTABLE,
    REASON_MAX,
    LimitsRefused,
    ReasonRequired,
    check_overrides,
    validate_overrides,
    widened_limits,
)
from domain.alarms import CLEAR_MARGIN, PARAMETERS, PROFILES, Limits

NO_PROFILE = Limits()  # no profile limit on either side: each side is checked on its own
ADULT = PROFILES["adult"]


def test_every_parameter_has_a_range_with_its_gap():
    assert set(ADJUSTABLE) == set(PARAMETERS)
    for param, spec in ADJUSTABLE.items():
        assert spec.lowest < spec.highest and spec.min_gap == pytest.approx(2 * CLEAR_MARGIN[param])
        for low, high in (ADULT[param], PROFILES["icu"][param]):  # every profile limit is itself adjustable
            assert all(spec.lowest <= v <= spec.highest for v in (low, high) if v is not None)


@pytest.mark.parametrize("param", PARAMETERS)
@pytest.mark.parametrize("side", [0, 1])
def test_boundaries_are_in_and_one_step_beyond_is_out(param, side):
    spec = ADJUSTABLE[param]
    step = 0.1 if param == "temp" else 1
    name = ("low", "high")[side]

    def bounds(value):
        return (value, None) if side == 0 else (None, value)

    for value in (spec.lowest, spec.highest):
        assert check_overrides(NO_PROFILE, {param: bounds(value)}) == {}
    for value in (spec.lowest - step, spec.highest + step, 1_000_000_000, -273, math.nan, math.inf):
        errors = check_overrides(NO_PROFILE, {param: bounds(value)})
        assert list(errors) == [(param, name)], value
        assert errors[(param, name)][0] in ("limits_err_range", "limits_err_number")


def test_the_issue_inputs_are_all_refused_per_field():
    wanted = {"hr": (0, 1_000_000_000), "rr": (-1, 999), "temp": (-273, 1e9), "spo2": (-100, None)}
    errors = check_overrides(ADULT, wanted)
    assert set(errors) == {(p, s) for p in ("hr", "rr", "temp") for s in ("low", "high")} | {("spo2", "low")}
    assert errors[("hr", "high")] == ("limits_err_range", {"low": 15.0, "high": 300.0, "unit": "/min"})


def test_rr_low_can_always_alarm():
    assert ("rr", "low") in check_overrides(ADULT, {"rr": (0, None)})


def test_minimum_gap_against_the_other_limit_and_the_profile():
    assert check_overrides(ADULT, {"hr": (100, 104)}) == {}
    errors = check_overrides(ADULT, {"hr": (100, 103)})
    assert set(errors) == {("hr", "low"), ("hr", "high")} and errors[("hr", "low")][0] == "limits_err_gap"
    # Only the side the nurse typed is marked; the other is the profile's (adult HR high 120).
    assert set(check_overrides(ADULT, {"hr": (117, None)})) == {("hr", "low")}
    assert check_overrides(ADULT, {"hr": (116, None)}) == {}


def test_non_numbers_are_refused():
    assert check_overrides(ADULT, {"hr": ("60", None)}) == {("hr", "low"): ("limits_err_number", {})}
    assert ("hr", "high") in check_overrides(ADULT, {"hr": (None, True)})


def test_widening_is_lower_low_or_higher_high_than_the_profile():
    assert widened_limits(ADULT, {"spo2": (88, None), "hr": (55, 130), "temp": (35.0, 38.0)}) == (
        ("hr", "high"),
        ("spo2", "low"),
        ("temp", "low"),
    )
    assert widened_limits(ADULT, {"spo2": (92, 99), "hr": (50, 120)}) == ()  # narrower, equal, or a new high


def test_a_widened_limit_needs_a_reason_of_bounded_length():
    with pytest.raises(ReasonRequired) as err:
        validate_overrides(ADULT, {"spo2": (88, None)}, None)
    assert err.value.widened == (("spo2", "low"),) and err.value.key == "limits_err_reason"
    with pytest.raises(ReasonRequired):
        validate_overrides(ADULT, {"spo2": (88, None)}, "   ")
    with pytest.raises(ReasonRequired) as err:
        validate_overrides(ADULT, {"spo2": (88, None)}, "x" * (REASON_MAX + 1))
    assert err.value.key == "limits_err_reason_long" and err.value.params == {"n": REASON_MAX}
    assert validate_overrides(ADULT, {"spo2": (88, None)}, "  PPOK, target 88-92 (dr. Sari) ") == (
        "PPOK, target 88-92 (dr. Sari)"
    )
    assert validate_overrides(ADULT, {"spo2": (92, None)}, None) == ""


def test_out_of_range_is_refused_before_the_reason_is_asked():
    with pytest.raises(LimitsRefused) as err:
        validate_overrides(ADULT, {"spo2": (40, None), "hr": (None, 1_000_000_000)}, None)
    assert set(err.value.fields) == {("spo2", "low"), ("hr", "high")}
