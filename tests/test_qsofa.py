"""qSOFA (Sepsis-3, 2016): RR ≥ 22, SBP ≤ 100, altered mentation; ≥ 2 is positive. Expected values written out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.qsofa import QsofaScore, altered_from_acvpu, qsofa


@pytest.mark.parametrize("rr,met", [(0, False), (21, False), (21.4, False), (21.5, True), (22, True), (40, True)])
def test_respiration_rate_criterion(rr, met):
    result = qsofa(rr=rr, sbp=120, altered_mentation=False)
    assert result.criteria["rr"] is met
    assert result.total == (1 if met else 0)


@pytest.mark.parametrize("sbp,met", [(60, True), (100, True), (100.4, True), (100.5, False), (101, False)])
def test_systolic_pressure_criterion(sbp, met):
    result = qsofa(rr=16, sbp=sbp, altered_mentation=False)
    assert result.criteria["sbp"] is met
    assert result.total == (1 if met else 0)


@pytest.mark.parametrize(
    "level,altered",
    [("A", False), ("C", True), ("V", True), ("P", True), ("U", True), (None, None)],
)
def test_altered_from_acvpu(level, altered):
    assert altered_from_acvpu(level) is altered


@pytest.mark.parametrize("level", ["X", "a", "", 1])
def test_altered_from_acvpu_rejects_other_values(level):
    with pytest.raises(ValueError, match="consciousness"):
        altered_from_acvpu(level)


@pytest.mark.parametrize("mentation,met", [(True, True), (False, False), ("A", False), ("C", True), ("U", True)])
def test_mentation_as_bool_or_acvpu(mentation, met):
    result = qsofa(rr=16, sbp=120, altered_mentation=mentation)
    assert result.criteria["altered_mentation"] is met
    assert result.total == (1 if met else 0)


def test_none_met_is_negative():
    assert qsofa(rr=16, sbp=120, altered_mentation="A") == QsofaScore(
        total=0, complete=True, positive=False, criteria={"rr": False, "sbp": False, "altered_mentation": False}
    )


def test_one_met_is_negative():
    result = qsofa(rr=24, sbp=120, altered_mentation=False)
    assert result.total == 1
    assert result.positive is False


def test_two_met_is_positive():
    result = qsofa(rr=22, sbp=100, altered_mentation="A")
    assert result.total == 2
    assert result.complete is True
    assert result.positive is True


def test_all_three_met():
    assert qsofa(rr=30, sbp=85, altered_mentation="V") == QsofaScore(
        total=3, complete=True, positive=True, criteria={"rr": True, "sbp": True, "altered_mentation": True}
    )


@pytest.mark.parametrize(
    "inputs,total",
    [
        ({"rr": None, "sbp": 120, "altered_mentation": False}, 0),
        ({"rr": 25, "sbp": None, "altered_mentation": "A"}, 1),
        ({"rr": 25, "sbp": 90, "altered_mentation": None}, 2),
        ({"rr": None, "sbp": None, "altered_mentation": None}, 0),
    ],
)
def test_incomplete_has_no_verdict(inputs, total):
    result = qsofa(**inputs)
    assert result.complete is False
    assert result.positive is None
    assert result.total == total


@pytest.mark.parametrize(
    "inputs,error",
    [
        ({"rr": -1, "sbp": 120, "altered_mentation": False}, ValueError),
        ({"rr": 16, "sbp": 1000, "altered_mentation": False}, ValueError),
        ({"rr": 16, "sbp": float("nan"), "altered_mentation": False}, ValueError),
        ({"rr": 16, "sbp": 120, "altered_mentation": "confused"}, ValueError),
        ({"rr": "16", "sbp": 120, "altered_mentation": False}, TypeError),
        ({"rr": 16, "sbp": 120, "altered_mentation": 1}, TypeError),
    ],
)
def test_bad_inputs_are_rejected(inputs, error):
    with pytest.raises(error):
        qsofa(**inputs)


@given(
    rr=st.none() | st.floats(0, 150),
    sbp=st.none() | st.floats(0, 350),
    mentation=st.none() | st.booleans() | st.sampled_from("ACVPU"),
)
def test_total_counts_the_criteria_met(rr, sbp, mentation):
    result = qsofa(rr=rr, sbp=sbp, altered_mentation=mentation)
    assert result.total == sum(1 for met in result.criteria.values() if met is True)
    assert 0 <= result.total <= 3
    assert result.complete is (None not in result.criteria.values())
    assert result.positive == ((result.total >= 2) if result.complete else None)
