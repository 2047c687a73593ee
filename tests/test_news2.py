"""NEWS2 (RCP 2017, DESIGN §5). Every expected value is written out from the RCP chart, never computed by the code
under test, so a wrong band edge fails."""

from __future__ import annotations

import copy
import json
import math
import pickle
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.age_range import age_years
from domain.news2 import (
    NEVER,
    NEWS2,
    News2Score,
    RiskThresholds,
    ScoringTable,
    clinical_response,
    news2,
    round_half_up,
    scored_from,
    scored_from_at,
)

# A patient who scores 0 on every parameter; each test changes one or a few values.
NORMAL = {"rr": 16, "spo2": 98, "on_oxygen": False, "sbp": 120, "hr": 70, "consciousness": "A", "temp": 37.0}


def score(**changes) -> News2Score:
    return news2(**{**NORMAL, **changes})


def test_normal_patient_scores_zero():
    result = score()
    assert result.total == 0
    assert result.subscores == {
        "rr": 0,
        "spo2": 0,
        "air_or_oxygen": 0,
        "sbp": 0,
        "hr": 0,
        "consciousness": 0,
        "temp": 0,
    }
    assert result.complete is True
    assert result.risk == "low"
    assert result.red_score is False
    assert clinical_response(result) == "routine"


# --------------------------------------------------------------------------------------- band edges


@pytest.mark.parametrize(
    "rr,points",
    [(0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (60, 3)],
)
def test_respiration_rate_bands(rr, points):
    result = score(rr=rr)
    assert result.subscores["rr"] == points
    assert result.total == points


@pytest.mark.parametrize(
    "spo2,points",
    [(0, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)],
)
@pytest.mark.parametrize("on_oxygen", [False, True])
def test_spo2_scale_1_bands_do_not_depend_on_oxygen(spo2, points, on_oxygen):
    result = score(spo2=spo2, on_oxygen=on_oxygen, spo2_scale=1)
    assert result.subscores["spo2"] == points
    assert result.subscores["air_or_oxygen"] == (2 if on_oxygen else 0)
    assert result.total == points + (2 if on_oxygen else 0)


@pytest.mark.parametrize(
    "spo2,points",
    [
        (0, 3),
        (83, 3),
        (84, 2),
        (85, 2),
        (86, 1),
        (87, 1),
        (88, 0),
        (92, 0),
        (93, 0),
        (94, 0),
        (95, 0),
        (96, 0),
        (97, 0),
        (100, 0),
    ],
)
def test_spo2_scale_2_bands_on_air(spo2, points):
    result = score(spo2=spo2, on_oxygen=False, spo2_scale=2)
    assert result.subscores["spo2"] == points
    assert result.subscores["air_or_oxygen"] == 0
    assert result.total == points


@pytest.mark.parametrize(
    "spo2,points",
    [
        (0, 3),
        (83, 3),
        (84, 2),
        (85, 2),
        (86, 1),
        (87, 1),
        (88, 0),
        (92, 0),
        (93, 1),
        (94, 1),
        (95, 2),
        (96, 2),
        (97, 3),
        (100, 3),
    ],
)
def test_spo2_scale_2_bands_on_oxygen(spo2, points):
    result = score(spo2=spo2, on_oxygen=True, spo2_scale=2)
    assert result.subscores["spo2"] == points
    assert result.subscores["air_or_oxygen"] == 2
    assert result.total == points + 2


@pytest.mark.parametrize("spo2,points", [(80, 3), (83, 3), (84, 2), (87, 1), (88, 0), (92, 0)])
def test_spo2_scale_2_below_93_is_known_without_oxygen(spo2, points):
    result = score(spo2=spo2, on_oxygen=None, spo2_scale=2)
    assert result.subscores["spo2"] == points
    assert result.subscores["air_or_oxygen"] is None
    assert result.complete is False
    assert result.total == points


@pytest.mark.parametrize("spo2", [93, 94, 95, 96, 97, 100, 92.5])
def test_spo2_scale_2_from_93_needs_oxygen(spo2):
    result = score(spo2=spo2, on_oxygen=None, spo2_scale=2)
    assert result.subscores["spo2"] is None
    assert result.complete is False
    assert result.risk is None
    assert result.total == 0


def test_spo2_scale_1_is_known_without_oxygen():
    result = score(spo2=93, on_oxygen=None, spo2_scale=1)
    assert result.subscores["spo2"] == 2
    assert result.subscores["air_or_oxygen"] is None
    assert result.total == 2


@pytest.mark.parametrize("on_oxygen,points", [(False, 0), (True, 2)])
def test_air_or_oxygen(on_oxygen, points):
    result = score(on_oxygen=on_oxygen)
    assert result.subscores["air_or_oxygen"] == points
    assert result.total == points


@pytest.mark.parametrize(
    "sbp,points",
    [(0, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3), (300, 3)],
)
def test_systolic_pressure_bands(sbp, points):
    result = score(sbp=sbp)
    assert result.subscores["sbp"] == points
    assert result.total == points


@pytest.mark.parametrize(
    "hr,points",
    [
        (0, 3),
        (40, 3),
        (41, 1),
        (50, 1),
        (51, 0),
        (90, 0),
        (91, 1),
        (110, 1),
        (111, 2),
        (130, 2),
        (131, 3),
        (250, 3),
    ],
)
def test_pulse_bands(hr, points):
    result = score(hr=hr)
    assert result.subscores["hr"] == points
    assert result.total == points


@pytest.mark.parametrize("level,points", [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_consciousness(level, points):
    result = score(consciousness=level)
    assert result.subscores["consciousness"] == points
    assert result.total == points
    assert result.red_score is (points == 3)


@pytest.mark.parametrize(
    "temp,points",
    [
        (30.0, 3),
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
        (41.5, 2),
    ],
)
def test_temperature_bands(temp, points):
    result = score(temp=temp)
    assert result.subscores["temp"] == points
    assert result.total == points


# ----------------------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    "changes,key,points",
    [
        ({"hr": 90.5}, "hr", 1),  # → 91; banker's rounding would give 90 → 0
        ({"hr": 90.4}, "hr", 0),
        ({"hr": 110.5}, "hr", 2),  # → 111; banker's rounding would give 110 → 1
        ({"hr": 40.5}, "hr", 1),  # → 41
        ({"hr": 40.49}, "hr", 3),
        ({"rr": 8.5}, "rr", 1),  # → 9
        ({"rr": 20.5}, "rr", 2),  # → 21
        ({"rr": 24.4}, "rr", 2),
        ({"sbp": 90.5}, "sbp", 2),  # → 91
        ({"sbp": 219.5}, "sbp", 3),  # → 220
        ({"spo2": 95.5}, "spo2", 0),  # → 96
        ({"spo2": 91.5}, "spo2", 2),  # → 92
        ({"temp": 38.05}, "temp", 1),  # → 38.1 (the float is a hair below 38.05; rounded as written)
        ({"temp": 38.04}, "temp", 0),
        ({"temp": 35.04}, "temp", 3),  # → 35.0
        ({"temp": 35.05}, "temp", 1),  # → 35.1
        ({"temp": 36.05}, "temp", 0),  # → 36.1
        ({"temp": 39.05}, "temp", 2),  # → 39.1
        ({"temp": 38}, "temp", 0),  # an int works too
    ],
)
def test_values_are_rounded_half_up_before_banding(changes, key, points):
    assert score(**changes).subscores[key] == points


def test_spo2_scale_2_rounds_before_the_oxygen_rule():
    assert score(spo2=92.5, on_oxygen=True, spo2_scale=2).subscores["spo2"] == 1  # → 93 on O2
    assert score(spo2=92.4, on_oxygen=True, spo2_scale=2).subscores["spo2"] == 0  # → 92
    assert score(spo2=92.4, on_oxygen=None, spo2_scale=2).subscores["spo2"] == 0


@pytest.mark.parametrize(
    "value,decimals,expected",
    [(90.5, 0, 91), (91.5, 0, 92), (0.5, 0, 1), (90.49, 0, 90), (38.05, 1, 38.1), (35.04, 1, 35.0), (36.95, 1, 37.0)],
)
def test_round_half_up(value, decimals, expected):
    assert round_half_up(value, decimals) == expected


def test_round_half_up_returns_int_for_whole_numbers():
    assert type(round_half_up(90.5)) is int


# ---------------------------------------------------------------------------------------- risk rules


def test_single_three_with_total_three_is_low_medium():
    result = score(rr=8)  # RR 3, everything else 0
    assert result.total == 3
    assert result.red_score is True
    assert result.risk == "low-medium"
    assert clinical_response(result) == "urgent_ward"


def test_single_three_with_total_four_is_low_medium():
    result = score(consciousness="C", hr=95)  # 3 + 1
    assert result.total == 4
    assert result.risk == "low-medium"
    assert clinical_response(result) == "urgent_ward"


def test_total_four_without_a_three_is_low():
    result = score(rr=22, hr=100, temp=38.5)  # 2 + 1 + 1
    assert result.total == 4
    assert result.red_score is False
    assert result.risk == "low"
    assert clinical_response(result) == "ward_assessment"


def test_total_one_is_low_and_needs_ward_assessment():
    result = score(hr=91)
    assert result.total == 1
    assert result.risk == "low"
    assert clinical_response(result) == "ward_assessment"


def test_total_five_is_medium():
    result = score(hr=111, sbp=100, temp=38.5)  # 2 + 2 + 1
    assert result.total == 5
    assert result.risk == "medium"
    assert clinical_response(result) == "urgent_ward"


def test_total_five_with_a_three_is_medium_not_low_medium():
    result = score(sbp=85, on_oxygen=True)  # 3 + 2
    assert result.total == 5
    assert result.red_score is True
    assert result.risk == "medium"
    assert clinical_response(result) == "urgent_ward"


def test_total_six_is_medium():
    result = score(rr=22, hr=115, on_oxygen=True)  # 2 + 2 + 2
    assert result.total == 6
    assert result.risk == "medium"


def test_total_seven_is_high():
    result = score(consciousness="V", on_oxygen=True, hr=111)  # 3 + 2 + 2
    assert result.total == 7
    assert result.risk == "high"
    assert clinical_response(result) == "emergency"


def test_maximum_score_is_twenty():
    result = score(rr=5, spo2=80, on_oxygen=True, sbp=80, hr=35, consciousness="U", temp=34.0)
    assert result.total == 20  # 3 + 3 + 2 + 3 + 3 + 3 + 3
    assert result.risk == "high"


def test_incomplete_score_still_sums_what_is_known():
    result = score(rr=8, on_oxygen=None, temp=None)
    assert result.total == 3
    assert result.subscores["air_or_oxygen"] is None
    assert result.subscores["temp"] is None
    assert result.complete is False
    assert result.risk is None
    assert result.red_score is True  # a known 3 is still a red score
    assert clinical_response(result) is None


@pytest.mark.parametrize("missing", ["rr", "spo2", "on_oxygen", "sbp", "hr", "consciousness", "temp"])
def test_any_missing_input_makes_the_score_incomplete(missing):
    result = score(**{"hr": 111, missing: None})  # HR 2 unless HR is the missing one
    expected_key = "air_or_oxygen" if missing == "on_oxygen" else missing
    assert result.subscores[expected_key] is None
    assert result.complete is False
    assert result.risk is None
    assert result.total == (0 if missing == "hr" else 2)


def test_nothing_known():
    result = news2(rr=None, spo2=None, on_oxygen=None, sbp=None, hr=None, consciousness=None, temp=None)
    assert result.total == 0
    assert set(result.subscores.values()) == {None}
    assert result.complete is False
    assert result.risk is None
    assert result.red_score is False


# ----------------------------------------------------------------------------------------- worked examples


def test_worked_example_on_scale_1():
    # RR 23 → 2, SpO2 94 → 1, oxygen → 2, SBP 105 → 1, pulse 115 → 2, alert → 0, 38.4 °C → 1: total 9.
    result = news2(rr=23, spo2=94, on_oxygen=True, sbp=105, hr=115, consciousness="A", temp=38.4)
    assert result == News2Score(
        total=9,
        subscores={"rr": 2, "spo2": 1, "air_or_oxygen": 2, "sbp": 1, "hr": 2, "consciousness": 0, "temp": 1},
        complete=True,
        risk="high",
        red_score=False,
    )
    assert clinical_response(result) == "emergency"


def test_worked_example_copd_patient_on_scale_2():
    # Hypercapnic respiratory failure, target 88–92 %: SpO2 90 on O2 scores 0 on scale 2, but 3 on scale 1.
    vitals = {"rr": 22, "spo2": 90, "on_oxygen": True, "sbp": 135, "hr": 88, "consciousness": "A", "temp": 37.2}
    on_scale_2 = news2(**vitals, spo2_scale=2)
    assert on_scale_2.subscores == {
        "rr": 2,
        "spo2": 0,
        "air_or_oxygen": 2,
        "sbp": 0,
        "hr": 0,
        "consciousness": 0,
        "temp": 0,
    }
    assert on_scale_2.total == 4
    assert on_scale_2.risk == "low"
    assert clinical_response(on_scale_2) == "ward_assessment"
    on_scale_1 = news2(**vitals)
    assert on_scale_1.subscores["spo2"] == 3
    assert on_scale_1.total == 7
    assert on_scale_1.risk == "high"


def test_worked_example_new_confusion():
    # New confusion alone is a red score: urgent ward response even though the total is 3.
    result = news2(rr=18, spo2=97, on_oxygen=False, sbp=128, hr=84, consciousness="C", temp=36.6)
    assert result.total == 3
    assert result.risk == "low-medium"
    assert clinical_response(result) == "urgent_ward"


# -------------------------------------------------------------------------------------- input checks


@pytest.mark.parametrize("scale", [0, 3, -1, True, 1.0, "1", None])
def test_spo2_scale_must_be_1_or_2(scale):
    with pytest.raises(ValueError, match="spo2_scale"):
        score(spo2_scale=scale)


@pytest.mark.parametrize(
    "changes",
    [
        {"hr": 900},
        {"hr": -1},
        {"rr": -0.5},
        {"rr": 500},
        {"spo2": 101},
        {"spo2": -3},
        {"sbp": 1000},
        {"sbp": -10},
        {"temp": 60.0},
        {"temp": -5.0},
        {"temp": 0.0},
        {"hr": math.nan},
        {"temp": math.inf},
    ],
)
def test_impossible_values_are_rejected(changes):
    with pytest.raises(ValueError):
        score(**changes)


@pytest.mark.parametrize("changes", [{"hr": "80"}, {"temp": True}, {"on_oxygen": "yes"}, {"on_oxygen": 1}])
def test_wrong_types_are_rejected(changes):
    with pytest.raises(TypeError):
        score(**changes)


@pytest.mark.parametrize("level", ["X", "a", "", "Alert", "CV", 0, True])
def test_consciousness_must_be_acvpu(level):
    with pytest.raises(ValueError, match="consciousness"):
        score(consciousness=level)


def test_all_inputs_are_keyword_only_and_required():
    with pytest.raises(TypeError):
        news2(16, 98, False, 120, 70, "A", 37.0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        news2(rr=16, spo2=98, on_oxygen=False, sbp=120, hr=70, consciousness="A")  # type: ignore[call-arg]


# -------------------------------------------------------------------------------------- the table as data

NEWS2_AS_JSON = {
    "name": "NEWS2",
    "bands": {
        "rr": [[None, 8, 3], [9, 11, 1], [12, 20, 0], [21, 24, 2], [25, None, 3]],
        "spo2_scale1": [[None, 91, 3], [92, 93, 2], [94, 95, 1], [96, None, 0]],
        "spo2_scale2_air": [[None, 83, 3], [84, 85, 2], [86, 87, 1], [88, None, 0]],
        "spo2_scale2_oxygen": [
            [None, 83, 3],
            [84, 85, 2],
            [86, 87, 1],
            [88, 92, 0],
            [93, 94, 1],
            [95, 96, 2],
            [97, None, 3],
        ],
        "sbp": [[None, 90, 3], [91, 100, 2], [101, 110, 1], [111, 219, 0], [220, None, 3]],
        "hr": [[None, 40, 3], [41, 50, 1], [51, 90, 0], [91, 110, 1], [111, 130, 2], [131, None, 3]],
        "temp": [[None, 35.0, 3], [35.1, 36.0, 1], [36.1, 38.0, 0], [38.1, 39.0, 1], [39.1, None, 2]],
    },
    "air_or_oxygen": {"air": 0, "oxygen": 2},
    "consciousness": {"A": 0, "C": 3, "V": 3, "P": 3, "U": 3},
    "risk": {"medium": 5, "high": 7, "red_score_points": 3},
}


def test_news2_table_is_the_rcp_chart():
    assert NEWS2.to_dict() == NEWS2_AS_JSON


def test_table_round_trips_through_json():
    stored = json.dumps(NEWS2.to_dict())
    loaded = ScoringTable.from_dict(json.loads(stored))
    assert loaded == NEWS2
    assert hash(loaded) == hash(NEWS2)
    assert loaded.to_dict() == NEWS2.to_dict()
    assert news2(**{**NORMAL, "rr": 25}, table=loaded).total == 3


def test_table_is_immutable_and_picklable():
    with pytest.raises(TypeError):
        NEWS2.bands["rr"] = ()  # type: ignore[index]
    with pytest.raises(AttributeError):
        NEWS2.name = "local"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(NEWS2)) == NEWS2  # noqa: S301 - our own bytes
    assert copy.deepcopy(NEWS2) == NEWS2


def test_from_dict_accepts_bands_in_any_order():
    table = copy.deepcopy(NEWS2_AS_JSON)
    table["bands"]["hr"].reverse()
    assert ScoringTable.from_dict(table) == NEWS2


def test_a_local_table_changes_the_score_and_the_risk():
    local = copy.deepcopy(NEWS2_AS_JSON)
    local["name"] = "RS Harapan EWS"
    local["bands"]["hr"] = [[None, 39, 3], [40, 49, 1], [50, 100, 0], [101, 120, 1], [121, 139, 2], [140, None, 3]]
    local["risk"] = {"medium": 4, "high": 6, "red_score_points": 3}
    table = ScoringTable.from_dict(local)
    assert news2(**{**NORMAL, "hr": 100}, table=table).total == 0  # 1 point on NEWS2
    result = news2(**{**NORMAL, "hr": 125, "rr": 22}, table=table)  # 2 + 2
    assert result.total == 4
    assert result.risk == "medium"  # "low" on NEWS2
    assert clinical_response(result) == "urgent_ward"


def _with(**bands):
    table = copy.deepcopy(NEWS2_AS_JSON)
    table["bands"].update(bands)
    return table


@pytest.mark.parametrize(
    "table,message",
    [
        (_with(rr=[[None, 8, 3], [9, 12, 1], [12, 20, 0], [21, 24, 2], [25, None, 3]]), "rr: bands .* overlap"),
        (_with(hr=[[None, 40, 3], [41, 50, 1], [45, 90, 0], [91, None, 1]]), "hr: bands .* overlap"),
        (_with(rr=[[None, 8, 3], [9, 11, 1], [13, 20, 0], [21, 24, 2], [25, None, 3]]), "rr: gap"),
        (_with(temp=[[None, 35.0, 3], [35.1, 36.0, 1], [36.2, None, 0]]), "temp: gap"),
        (_with(temp=[[None, 35.0, 3], [35.0, 36.0, 1], [36.1, None, 0]]), "temp: bands .* overlap"),
        (_with(sbp=[[0, 90, 3], [91, None, 0]]), "sbp: the lowest band must be open below"),
        (_with(sbp=[[None, 90, 3], [91, 300, 0]]), "sbp: the highest band must be open above"),
        (_with(rr=[[None, 8.5, 3], [8.6, None, 0]]), "rr band 1: bound 8.5 must be a whole number"),
        (_with(temp=[[None, 35.05, 3], [35.06, None, 0]]), "temp band 1: bound 35.05 must be a multiple of 0.1"),
        (_with(hr=[[None, 40, 3], [60, 41, 1], [61, None, 0]]), "hr band 2: low 60 is above high 41"),
        (_with(hr=[[None, 40, -1], [41, None, 0]]), "hr band 1: points must be a whole number"),
        (_with(hr=[[None, 40], [41, None, 0]]), r"hr band 1: a band is \[low_inclusive, high_inclusive, points\]"),
        (_with(hr=[]), "hr: at least one band"),
        (_with(pulse=[[None, None, 0]]), "unknown: pulse"),
    ],
)
def test_from_dict_rejects_bad_bands(table, message):
    with pytest.raises(ValueError, match=message):
        ScoringTable.from_dict(table)


def test_from_dict_rejects_a_missing_parameter():
    table = copy.deepcopy(NEWS2_AS_JSON)
    del table["bands"]["temp"]
    with pytest.raises(ValueError, match="missing: temp"):
        ScoringTable.from_dict(table)


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("consciousness", {"A": 0, "V": 3, "P": 3, "U": 3}, "consciousness must give points for exactly A, C, V, P, U"),
        ("air_or_oxygen", {"air": 0, "oxygen": 2.5}, "air_or_oxygen.oxygen: points must be a whole number"),
        ("risk", {"medium": 7, "high": 5, "red_score_points": 3}, r"risk.medium \(7\) must be below risk.high \(5\)"),
        ("risk", {"medium": 5, "high": 7, "red": 3}, "unknown risk keys: red"),
        ("colour", "red", "unknown scoring-table keys: colour"),
    ],
)
def test_from_dict_rejects_bad_points_and_thresholds(key, value, message):
    table = copy.deepcopy(NEWS2_AS_JSON)
    table[key] = value
    with pytest.raises(ValueError, match=message):
        ScoringTable.from_dict(table)


def test_constructor_validates_too():
    with pytest.raises(ValueError, match="overlap"):
        ScoringTable(
            bands={**NEWS2.bands, "hr": ((None, 50, 3), (50, None, 0))},
            air_or_oxygen={"air": 0, "oxygen": 2},
            consciousness={"A": 0, "C": 3, "V": 3, "P": 3, "U": 3},
            risk=RiskThresholds(),
        )


# ----------------------------------------------------------------------------------------- properties

maybe = st.none().__or__
vital = {
    "rr": st.floats(0, 150),
    "spo2": st.floats(0, 100),
    "sbp": st.floats(0, 350),
    "hr": st.floats(0, 350),
    "temp": st.floats(10.0, 47.0),
}


@given(
    rr=maybe(vital["rr"] | st.integers(0, 150)),
    spo2=maybe(vital["spo2"] | st.integers(0, 100)),
    on_oxygen=maybe(st.booleans()),
    sbp=maybe(vital["sbp"] | st.integers(0, 350)),
    hr=maybe(vital["hr"] | st.integers(0, 350)),
    consciousness=maybe(st.sampled_from("ACVPU")),
    temp=maybe(vital["temp"]),
    spo2_scale=st.sampled_from([1, 2]),
)
def test_total_is_the_sum_of_known_subscores(rr, spo2, on_oxygen, sbp, hr, consciousness, temp, spo2_scale):
    result = news2(
        rr=rr,
        spo2=spo2,
        on_oxygen=on_oxygen,
        sbp=sbp,
        hr=hr,
        consciousness=consciousness,
        temp=temp,
        spo2_scale=spo2_scale,
    )
    known = [points for points in result.subscores.values() if points is not None]
    assert result.total == sum(known)
    assert 0 <= result.total <= 20
    assert all(0 <= points <= 3 for points in known)
    assert result.complete is (len(known) == 7)
    assert (result.risk is None) is (not result.complete)
    assert result.red_score is (3 in known)
    if result.complete:
        expected = "high" if result.total >= 7 else "medium" if result.total >= 5 else None
        assert result.risk == (expected or ("low-medium" if result.red_score else "low"))


@pytest.mark.parametrize(
    ("birth", "turns_16"),
    [
        (date(2010, 12, 8), date(2026, 12, 8)),
        (date(2008, 2, 29), date(2024, 2, 29)),  # 16 years on from a leap day is a leap day again
        (date(2084, 2, 29), date(2100, 3, 1)),  # except across a century that is not a leap year
        (date(2011, 1, 1), date(2027, 1, 1)),
    ],
)
def test_news2_scores_a_patient_from_the_day_they_turn_16(birth, turns_16):
    """The same day the patient's age in completed years becomes 16, as the rest of Pantau counts it."""
    assert scored_from(birth) == turns_16
    assert age_years(birth, turns_16) == 16 and age_years(birth, turns_16 - timedelta(days=1)) == 15


def test_the_sixteenth_birthday_starts_at_the_sites_midnight():
    moment = scored_from_at(date(2010, 12, 8), "Asia/Jakarta", "ward")
    assert moment == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # 00:00 WIB
    assert scored_from_at(date(2010, 12, 8), "Asia/Jayapura", "icu") == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_nobody_is_scored_on_a_maternity_ward_and_an_unknown_age_is():
    assert scored_from_at(date(1995, 5, 1), "Asia/Jakarta", "maternity") == NEVER
    assert scored_from_at(None, "Asia/Jakarta", "maternity") == NEVER
    assert scored_from_at(None, "Asia/Jakarta", "ward") is None  # no birth date: NEWS2 as by default


def test_a_woman_recorded_as_pregnant_or_postpartum_is_not_scored_on_any_ward():
    for kind in ("ward", "icu"):
        assert scored_from_at(date(1995, 5, 1), "Asia/Jakarta", kind, obstetric=True) == NEVER
        assert scored_from_at(date(1995, 5, 1), "Asia/Jakarta", kind, obstetric=False) < datetime.now(UTC)
