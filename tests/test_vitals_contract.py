"""The device -> consumer MQTT contract (DESIGN.md §3): every accepted shape and every rejection reason."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.vitals_contract import (
    MAX_PAYLOAD,
    MAX_SKEW_MS,
    REASONS,
    DeviceStatus,
    Rejected,
    VitalsMessage,
    parse_status,
    parse_topic,
    parse_vitals,
)

NOW = 1_763_880_000_000
TOPIC = "pantau/v1/RSUD/vitals/MON-ICU-01"
STATUS_TOPIC = "pantau/v1/RSUD/status/MON-ICU-01"


def body(**changes: object) -> dict:
    base = {
        "v": 1,
        "device_id": "MON-ICU-01",
        "seq": 1234,
        "ts": NOW - 250,
        "hr": 82,
        "spo2": 97,
        "rr": 16,
        "sbp": 121,
        "dbp": 78,
        "map": 92,
        "temp": 36.8,
        "sqi": {"ecg": 0.98, "spo2": 0.95},
        "status": {"ecg": "ok", "spo2": "ok"},
    }
    for key, value in changes.items():
        if value is _DROP:
            base.pop(key, None)
        else:
            base[key] = value
    return base


_DROP = object()


def parse(data: object, topic: str = TOPIC, received: int = NOW, **kwargs: object) -> VitalsMessage:
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    return parse_vitals(topic, payload, received, **kwargs)


def reason_of(data: object, topic: str = TOPIC, **kwargs: object) -> Rejected:
    with pytest.raises(Rejected) as caught:
        parse(data, topic, **kwargs)
    assert caught.value.reason in REASONS
    return caught.value


# ------------------------------------------------------------------------------------------------ accepted


def test_full_message_is_parsed() -> None:
    msg = parse(body())
    assert msg == VitalsMessage(
        site="RSUD",
        device_id="MON-ICU-01",
        seq=1234,
        ts=NOW - 250,
        received=NOW,
        hr=82,
        spo2=97,
        rr=16,
        sbp=121,
        dbp=78,
        map=92,
        temp=36.8,
        ecg_status="ok",
        spo2_status="ok",
        sqi_ecg=0.98,
        sqi_spo2=0.95,
    )
    assert msg.key == ("MON-ICU-01", NOW - 250, 1234)
    assert msg.has_nibp


def test_minimal_message_every_vital_optional() -> None:
    msg = parse({"v": 1, "device_id": "MON-ICU-01", "seq": 0, "ts": NOW})
    assert (msg.hr, msg.spo2, msg.rr, msg.sbp, msg.dbp, msg.map, msg.temp) == (None,) * 7
    assert (msg.ecg_status, msg.spo2_status, msg.sqi_ecg, msg.sqi_spo2) == (None,) * 4
    assert not msg.has_nibp


def test_nulls_mean_not_measured_and_unknown_fields_are_ignored() -> None:
    msg = parse(body(hr=None, sbp=None, dbp=None, map=None, sqi=None, status=None, firmware="2.1", extra={"a": 1}))
    assert msg.hr is None and not msg.has_nibp and msg.ecg_status is None and msg.sqi_ecg is None
    assert msg.spo2 == 97


def test_sensor_off_gives_no_value_never_the_last_one() -> None:
    msg = parse(body(status={"ecg": "off", "spo2": "off"}))
    assert msg.hr is None and msg.spo2 is None
    assert (msg.ecg_status, msg.spo2_status) == ("off", "off")
    assert msg.rr == 16 and msg.temp == 36.8  # other sensors untouched

    only_spo2 = parse(body(status={"ecg": "ok", "spo2": "off"}))
    assert only_spo2.hr == 82 and only_spo2.spo2 is None


def test_noisy_sensor_keeps_its_value_for_the_alarm_engine() -> None:
    msg = parse(body(status={"ecg": "noisy", "spo2": "ok"}))
    assert msg.hr == 82 and msg.ecg_status == "noisy"


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [("hr", 0, 350), ("spo2", 0, 100), ("rr", 0, 120), ("sbp", 0, 300), ("dbp", 0, 250), ("map", 0, 300),
     ("temp", 25, 45)],
)  # fmt: skip
def test_range_limits_are_inclusive(field: str, low: float, high: float) -> None:
    assert getattr(parse(body(**{field: low})), field) == low
    assert getattr(parse(body(**{field: high})), field) == high
    assert getattr(parse(body(**{field: float(high) - 0.5})), field) == high - 0.5


def test_clock_skew_within_the_window_is_accepted() -> None:
    assert parse(body(ts=NOW - MAX_SKEW_MS)).ts == NOW - MAX_SKEW_MS
    assert parse(body(ts=NOW + MAX_SKEW_MS)).ts == NOW + MAX_SKEW_MS
    assert parse(body(ts=NOW - 60_000), max_skew_ms=60_000).ts == NOW - 60_000


def test_topic_ids_use_the_allowed_characters() -> None:
    assert parse_topic("pantau/v1/RS_UD-1/vitals/" + "a" * 64) == ("RS_UD-1", "vitals", "a" * 64)
    assert parse_topic(STATUS_TOPIC) == ("RSUD", "status", "MON-ICU-01")
    assert parse(body(device_id="x_Y-9"), topic="pantau/v1/S/vitals/x_Y-9").device_id == "x_Y-9"


# ------------------------------------------------------------------------------------------------ rejected


@pytest.mark.parametrize(
    "topic",
    [
        "pantau/v2/RSUD/vitals/MON-ICU-01",
        "other/v1/RSUD/vitals/MON-ICU-01",
        "pantau/v1/RSUD/vitals",
        "pantau/v1/RSUD/vitals/MON-ICU-01/extra",
        "pantau/v1//vitals/MON-ICU-01",
        "pantau/v1/RSUD/vitals/",
        "pantau/v1/RSUD/vitals/MON.ICU.01",
        "pantau/v1/RS UD/vitals/MON-ICU-01",
        "pantau/v1/RSUD/vitals/" + "a" * 65,
        "pantau/v1/RSUD/numerics/MON-ICU-01",
        "pantau/v1/RSUD/vitals/MON-ÏCU",
    ],
)
def test_bad_topic(topic: str) -> None:
    rejected = reason_of(body(), topic=topic)
    assert rejected.reason == "bad_topic"
    assert rejected.device_id is None


def test_status_topic_is_not_a_vitals_topic() -> None:
    assert reason_of(body(), topic=STATUS_TOPIC).reason == "bad_topic"


def test_oversize() -> None:
    payload = json.dumps(body(pad="x" * MAX_PAYLOAD)).encode()
    rejected = reason_of(payload)
    assert rejected.reason == "oversize"
    assert rejected.device_id == "MON-ICU-01"  # known from the topic, kept for the dead letter


@pytest.mark.parametrize("payload", [b"", b"{", b"not json", b'{"v":1,}', b"\xff\xfe{}", b'{"hr": NaN}'])
def test_not_json(payload: bytes) -> None:
    assert reason_of(payload).reason == "not_json"


@pytest.mark.parametrize("payload", [b"[1, 2]", b"42", b'"text"', b"null", b"true"])
def test_not_object(payload: bytes) -> None:
    assert reason_of(payload).reason == "not_object"


@pytest.mark.parametrize("field", ["v", "device_id", "seq", "ts"])
def test_missing_field(field: str) -> None:
    rejected = reason_of(body(**{field: _DROP}))
    assert (rejected.reason, rejected.detail) == ("missing_field", field)
    assert reason_of(body(**{field: None})).reason == "missing_field"


@pytest.mark.parametrize("version", [2, 0, "1", 1.0, True, [1]])
def test_bad_version(version: object) -> None:
    assert reason_of(body(v=version)).reason == "bad_version"


def test_device_mismatch() -> None:
    rejected = reason_of(body(device_id="MON-ICU-02"))
    assert rejected.reason == "device_mismatch"
    assert rejected.device_id == "MON-ICU-01"


@pytest.mark.parametrize(
    "changes",
    [
        {"hr": "abc"},
        {"hr": "82"},
        {"spo2": True},
        {"temp": [36.8]},
        {"rr": {"value": 16}},
        {"seq": "12"},
        {"seq": 12.5},
        {"seq": True},
        {"ts": 1763880000123.5},
        {"ts": "1763880000123"},
        {"device_id": 7},
        {"sqi": [0.9, 0.9]},
        {"sqi": {"ecg": "good"}},
        {"status": "ok"},
        {"status": {"ecg": 1}},
    ],
)
def test_bad_type(changes: dict) -> None:
    assert reason_of(body(**changes)).reason == "bad_type"


@pytest.mark.parametrize(
    "changes",
    [
        {"hr": 900},
        {"hr": 350.5},
        {"hr": -1},
        {"spo2": 120},
        {"spo2": -0.1},
        {"rr": 121},
        {"sbp": 301},
        {"dbp": 251},
        {"map": 301},
        {"temp": 24.9},
        {"temp": 45.1},
        {"temp": 0},
        {"sqi": {"ecg": 1.5}},
        {"sqi": {"spo2": -0.2}},
        {"status": {"ecg": "broken"}},
        {"status": {"spo2": "OK"}},
        {"seq": -1},
        {"seq": 2**63},
    ],
)
def test_impossible_value(changes: dict) -> None:
    assert reason_of(body(**changes)).reason == "impossible_value"


def test_clock_skew_beyond_the_window() -> None:
    assert reason_of(body(ts=NOW - MAX_SKEW_MS - 1)).reason == "clock_skew"
    assert reason_of(body(ts=NOW + MAX_SKEW_MS + 1)).reason == "clock_skew"
    assert reason_of(body(ts=0)).reason == "clock_skew"
    assert reason_of(body(ts=NOW - 60_001), max_skew_ms=60_000).reason == "clock_skew"


def test_rejected_carries_reason_and_detail() -> None:
    rejected = reason_of(body(hr=900))
    assert rejected.reason == "impossible_value" and "hr" in rejected.detail
    assert rejected.site == "RSUD"
    assert str(rejected).startswith("impossible_value")
    assert isinstance(rejected, ValueError)


# ------------------------------------------------------------------------------------------------ status


def test_status_parsed() -> None:
    assert parse_status(STATUS_TOPIC, b'{"online": true, "battery": 87}') == DeviceStatus(
        "RSUD", "MON-ICU-01", True, 87
    )
    assert parse_status(STATUS_TOPIC, b'{"online": false}') == DeviceStatus("RSUD", "MON-ICU-01", False, None)


def test_cleared_retained_status_is_nothing() -> None:
    assert parse_status(STATUS_TOPIC, b"") is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{}", "missing_field"),
        (b'{"online": "yes"}', "bad_type"),
        (b'{"online": 1}', "bad_type"),
        (b'{"online": true, "battery": 101}', "impossible_value"),
        (b'{"online": true, "battery": "full"}', "bad_type"),
        (b"[true]", "not_object"),
        (b"{online}", "not_json"),
    ],
)
def test_status_rejected(payload: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as caught:
        parse_status(STATUS_TOPIC, payload)
    assert caught.value.reason == reason


def test_status_needs_a_status_topic() -> None:
    with pytest.raises(Rejected) as caught:
        parse_status(TOPIC, b'{"online": true}')
    assert caught.value.reason == "bad_topic"


# ------------------------------------------------------------------------------------------------ fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(["v", "device_id", "seq", "ts", "hr", "spo2", "rr", "sbp", "dbp", "map", "temp", "sqi",
                          "status"])  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_accepted_or_rejected_never_crash(payload: bytes) -> None:
    try:
        parse_vitals(TOPIC, payload, NOW)
    except Rejected as rejected:
        assert rejected.reason in REASONS


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(fields, json_values, max_size=8))
def test_arbitrary_field_values_are_accepted_or_rejected_never_crash(changes: dict) -> None:
    try:
        msg = parse(body(**changes))
    except Rejected as rejected:
        assert rejected.reason in REASONS
        return
    for name in ("hr", "spo2", "rr", "sbp", "dbp", "map", "temp", "sqi_ecg", "sqi_spo2"):
        value = getattr(msg, name)
        assert value is None or type(value) in (int, float)
    assert type(msg.seq) is int and type(msg.ts) is int
