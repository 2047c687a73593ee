"""The alarm engine (domain/alarms.py): delays, hysteresis, episodes, gating, latching, acknowledge, pause,
escalation, technical alarms, limits and snapshots — all with explicit times."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.alarms import (
    CONDITIONS,
    FLASH_HZ,
    HIGH_FLASH_HZ,
    LOW_FLASH_HZ,
    MEDIUM_FLASH_HZ,
    PROFILES,
    BedAlarms,
    Change,
    Limits,
    Reading,
    effective_limits,
    ward_profile,
)

T0 = 1_763_880_000_000  # 2025-11-23 06:40:00 UTC
ADULT = PROFILES["adult"]
NORMAL = {"hr": 80.0, "spo2": 97.0, "rr": 16.0, "temp": 36.8, "ecg_status": "ok", "spo2_status": "ok"}


def reading(t: int, **overrides: object) -> Reading:
    """A normal adult reading at ``t`` (device clock = receive time) with ``overrides``."""
    values: dict[str, object] = {**NORMAL, "sqi_ecg": 0.95, "sqi_spo2": 0.95}
    values.update(overrides)
    return Reading(ts_ms=t, received_ms=t, **values)  # type: ignore[arg-type]


def feed(bed: BedAlarms, start: int, stop: int, limits: Limits = ADULT, step: int = 1000, **overrides: object):
    """Readings every ``step`` ms from ``start`` to ``stop`` inclusive; returns all changes as (kind, cond, t)."""
    out = []
    for t in range(start, stop + 1, step):
        out += [(c.kind, c.alarm.condition, t) for c in bed.observe(reading(t, **overrides), limits, t)]
    return out


def run(bed: BedAlarms, start: int, stop: int, **overrides: object):
    """Readings and a tick every second from ``start`` to ``stop`` inclusive; changes as (kind, cond, t)."""
    out = []
    for t in range(start, stop + 1, 1_000):
        changes = bed.observe(reading(t, **overrides), ADULT, t) + bed.tick(t)
        out += [(c.kind, c.alarm.condition, t) for c in changes]
    return out


def conditions(bed: BedAlarms) -> list[str]:
    return [a.condition for a in bed.active()]


# ---------------------------------------------------------------- delay, episode, hysteresis


def test_spo2_low_needs_ten_seconds():
    bed = BedAlarms()
    assert feed(bed, T0, T0 + 9_000, spo2=85) == []
    changes = bed.observe(reading(T0 + 10_000, spo2=85), ADULT, T0 + 10_000)
    assert len(changes) == 1
    alarm = changes[0].alarm
    assert changes[0].kind == "started"
    assert (alarm.condition, alarm.kind, alarm.priority) == ("spo2_low", "physiological", "medium")
    assert alarm.message == "SpO2 85 < 90"
    assert alarm.value == 85
    assert (alarm.onset_ms, alarm.started_ms) == (T0, T0 + 10_000)
    assert alarm.latched is False
    assert feed(bed, T0 + 11_000, T0 + 30_000, spo2=85) == []


def test_a_single_good_sample_restarts_the_condition_delay():
    bed = BedAlarms()
    feed(bed, T0, T0 + 8_000, spo2=85)
    bed.observe(reading(T0 + 9_000, spo2=95), ADULT, T0 + 9_000)
    assert feed(bed, T0 + 10_000, T0 + 19_000, spo2=85) == []
    assert feed(bed, T0 + 20_000, T0 + 20_000, spo2=85) == [("started", "spo2_low", T0 + 20_000)]


def test_one_alarm_per_episode_when_the_value_flickers_during_the_clearing_delay():
    bed = BedAlarms()
    feed(bed, T0, T0 + 10_000, spo2=85)
    assert conditions(bed) == ["spo2_low"]
    # 95 for 4 s (clearing delay is 5 s), back to 86, 95 for 4 s, 88, ...: the same alarm throughout.
    t = T0 + 11_000
    for _ in range(5):
        assert feed(bed, t, t + 3_000, spo2=95) == []
        assert feed(bed, t + 4_000, t + 4_000, spo2=86) == []
        t += 5_000
    assert conditions(bed) == ["spo2_low"]
    assert bed.active()[0].started_ms == T0 + 10_000
    # Now 95 for the whole clearing delay: ends once, 5 s after the first good sample.
    assert feed(bed, t, t + 4_000, spo2=95) == []
    assert feed(bed, t + 5_000, t + 10_000, spo2=95) == [("ended", "spo2_low", t + 5_000)]
    assert bed.active() == []


def test_hysteresis_needs_the_margin_and_the_clearing_delay():
    bed = BedAlarms()
    feed(bed, T0, T0 + 10_000, spo2=85)
    assert feed(bed, T0 + 11_000, T0 + 71_000, spo2=90) == []  # at the limit, inside the 2 % margin
    assert feed(bed, T0 + 72_000, T0 + 80_000, spo2=91) == []
    assert conditions(bed) == ["spo2_low"]
    assert feed(bed, T0 + 81_000, T0 + 85_000, spo2=92) == []
    assert feed(bed, T0 + 86_000, T0 + 86_000, spo2=92) == [("ended", "spo2_low", T0 + 86_000)]


def test_hr_high_after_five_seconds_and_clears_with_margin():
    bed = BedAlarms()
    assert feed(bed, T0, T0 + 4_000, hr=135) == []
    changes = bed.observe(reading(T0 + 5_000, hr=135), ADULT, T0 + 5_000)
    assert [(c.kind, c.alarm.condition, c.alarm.message) for c in changes] == [("started", "hr_high", "HR 135 > 120")]
    assert feed(bed, T0 + 6_000, T0 + 20_000, hr=119) == []  # inside the limit but not by 2 bpm
    assert feed(bed, T0 + 21_000, T0 + 26_000, hr=118) == [("ended", "hr_high", T0 + 26_000)]


# ---------------------------------------------------------------- signal-quality gating


@pytest.mark.parametrize("hr", [None, 0.0, 20.0])
def test_leads_off_is_a_technical_alarm_never_asystole_or_hr_low(hr):
    bed = BedAlarms()
    changes = feed(bed, T0, T0 + 120_000, hr=hr, ecg_status="off", sqi_ecg=None)
    assert changes == [("started", "ecg_leads_off", T0)]
    (alarm,) = bed.active()
    assert (alarm.kind, alarm.priority, alarm.message) == ("technical", "medium", "ECG leads off")
    assert bed.audible(T0 + 120_000) is True


def test_leads_off_on_an_unmonitored_bed_is_low_priority():
    bed = BedAlarms(monitored=False)
    feed(bed, T0, T0, hr=None, ecg_status="off")
    assert [(a.condition, a.priority) for a in bed.active()] == [("ecg_leads_off", "low")]
    assert bed.audible(T0) is False


def test_leads_off_ends_an_active_hr_alarm_and_replaces_it():
    bed = BedAlarms()
    feed(bed, T0, T0 + 5_000, hr=40)
    assert conditions(bed) == ["hr_low"]
    changes = feed(bed, T0 + 6_000, T0 + 12_000, hr=None, ecg_status="off")
    assert changes == [("started", "ecg_leads_off", T0 + 6_000), ("ended", "hr_low", T0 + 11_000)]
    # Leads back on: leads-off clears after its clearing delay; HR 80 raises nothing.
    assert feed(bed, T0 + 13_000, T0 + 18_000) == [("ended", "ecg_leads_off", T0 + 18_000)]


def test_noisy_spo2_suppresses_spo2_low_and_raises_a_technical_alarm():
    bed = BedAlarms()
    changes = feed(bed, T0, T0 + 60_000, spo2=85, spo2_status="noisy")
    assert changes == [("started", "spo2_noisy", T0 + 5_000)]
    (alarm,) = bed.active()
    assert (alarm.kind, alarm.priority, alarm.message) == ("technical", "low", "SpO2 noisy")


def test_low_sqi_counts_as_noisy_with_hysteresis():
    bed = BedAlarms()
    changes = feed(bed, T0, T0 + 20_000, spo2=70, sqi_spo2=0.3)
    assert changes == [("started", "spo2_noisy", T0 + 5_000)]
    assert bed.active()[0].message == "SpO2 noisy (SQI 0.30)"
    # 0.55: no longer noisy for gating, but not clear of the noisy alarm (clears at 0.6).
    assert feed(bed, T0 + 21_000, T0 + 40_000, sqi_spo2=0.55) == []
    assert feed(bed, T0 + 41_000, T0 + 46_000, sqi_spo2=0.6) == [("ended", "spo2_noisy", T0 + 46_000)]


def test_probe_off_spo2_value_is_missing_never_zero():
    bed = BedAlarms()
    changes = feed(bed, T0, T0 + 60_000, spo2=0.0, spo2_status="off", sqi_spo2=None)
    assert changes == [("started", "spo2_probe_off", T0)]
    assert [(a.condition, a.priority) for a in bed.active()] == [("spo2_probe_off", "low")]


def test_hr_extreme_low_needs_a_verified_ecg():
    bed = BedAlarms()
    # Status not reported: an ordinary hr_low after 5 s, never the latching extreme.
    assert feed(bed, T0, T0 + 10_000, hr=20, ecg_status=None) == [("started", "hr_low", T0 + 5_000)]
    bed = BedAlarms()
    assert feed(bed, T0, T0 + 10_000, hr=20, sqi_ecg=0.4) == [("started", "ecg_noisy", T0 + 5_000)]


# ---------------------------------------------------------------- latching, acknowledge, escalation, pause


def test_latching_spo2_extreme_low_stays_after_recovery_until_acknowledged():
    bed = BedAlarms()
    changes = bed.observe(reading(T0, spo2=75), ADULT, T0)
    assert [(c.kind, c.alarm.condition) for c in changes] == [("started", "spo2_extreme_low")]
    alarm = changes[0].alarm
    assert (alarm.priority, alarm.latched, alarm.message, alarm.started_ms) == ("high", True, "SpO2 75 < 80", T0)
    feed(bed, T0 + 1_000, T0 + 15_000, spo2=75)
    assert conditions(bed) == ["spo2_extreme_low"]  # spo2_low is superseded by the extreme
    assert feed(bed, T0 + 16_000, T0 + 120_000, spo2=97) == []
    assert conditions(bed) == ["spo2_extreme_low"]
    ack = bed.acknowledge("spo2_extreme_low", "ners.sari", "ICU station", T0 + 121_000)
    assert ack is not None and ack.kind == "acknowledged"
    assert (ack.alarm.acked_by, ack.alarm.acked_where, ack.alarm.acked_ms) == ("ners.sari", "ICU station", T0 + 121_000)
    assert ack.alarm.ended_ms is None
    ended = bed.tick(T0 + 121_500)
    assert [(c.kind, c.alarm.condition, c.alarm.ended_ms) for c in ended] == [
        ("ended", "spo2_extreme_low", T0 + 121_500)
    ]
    assert ended[0].alarm.acked_by == "ners.sari"
    assert bed.active() == []


def test_latched_alarm_acknowledged_while_present_ends_when_the_condition_clears():
    bed = BedAlarms()
    feed(bed, T0, T0 + 2_000, hr=25)
    assert conditions(bed) == ["hr_extreme_low"]
    bed.acknowledge("hr_extreme_low", "dr.budi", "bed", T0 + 3_000)
    assert feed(bed, T0 + 3_000, T0 + 10_000, hr=25) == []
    assert feed(bed, T0 + 11_000, T0 + 16_000, hr=80) == [("ended", "hr_extreme_low", T0 + 16_000)]


def test_acknowledged_non_latched_alarm_still_ends_when_the_condition_clears():
    bed = BedAlarms()
    feed(bed, T0, T0 + 10_000, spo2=85)
    assert bed.acknowledge("spo2_low", "ners.sari", "ICU station", T0 + 10_500) is not None
    assert bed.acknowledge("spo2_low", "ners.sari", "ICU station", T0 + 10_600) is None  # already acknowledged
    assert bed.acknowledge("hr_low", "ners.sari", "ICU station", T0 + 10_600) is None  # no such alarm
    assert feed(bed, T0 + 11_000, T0 + 16_000, spo2=95) == [("ended", "spo2_low", T0 + 16_000)]


def test_escalation_after_sixty_seconds_exactly_once():
    bed = BedAlarms()
    feed(bed, T0, T0, hr=25)  # hr_extreme_low starts at T0
    escalations = []
    for t in range(T0 + 1_000, T0 + 180_001, 1_000):
        bed.observe(reading(t, hr=25), ADULT, t)
        escalations += [(c.alarm.condition, c.alarm.escalated_ms) for c in bed.tick(t) if c.kind == "escalated"]
    assert escalations == [("hr_extreme_low", T0 + 60_000)]
    assert bed.active()[0].escalated_ms == T0 + 60_000


def test_escalation_time_is_configurable_and_medium_alarms_do_not_escalate():
    bed = BedAlarms(escalate_after_ms=30_000)
    assert run(bed, T0, T0 + 29_000, spo2=70, hr=140) == [
        ("started", "spo2_extreme_low", T0),
        ("started", "hr_high", T0 + 5_000),  # medium: never escalates
    ]
    assert [(c.kind, c.alarm.condition) for c in bed.tick(T0 + 29_999)] == []
    assert [(c.kind, c.alarm.condition) for c in bed.tick(T0 + 30_000)] == [("escalated", "spo2_extreme_low")]
    assert run(bed, T0 + 31_000, T0 + 300_000, spo2=70, hr=140) == []


def test_acknowledge_stops_escalation():
    bed = BedAlarms()
    feed(bed, T0, T0, hr=25)
    bed.acknowledge("hr_extreme_low", "ners.sari", "ICU station", T0 + 30_000)
    for t in range(T0 + 1_000, T0 + 180_001, 1_000):
        assert [c for c in bed.tick(t) if c.kind == "escalated"] == []
    assert bed.active()[0].escalated_ms is None


def test_pause_silences_the_bed_until_it_expires():
    bed = BedAlarms()
    assert bed.pause_ms == 120_000
    feed(bed, T0, T0 + 10_000, spo2=85)
    assert bed.audible(T0 + 10_000) is True
    bed.pause(T0 + 10_000 + 120_000)
    assert bed.audible(T0 + 10_000) is False
    assert bed.pause_remaining_ms(T0 + 70_000) == 60_000
    assert bed.audible(T0 + 129_999) is False
    assert bed.audible(T0 + 130_000) is True
    assert bed.pause_remaining_ms(T0 + 130_000) == 0
    bed.acknowledge("spo2_low", "ners.sari", "ICU station", T0 + 131_000)
    assert bed.audible(T0 + 131_000) is False


def test_low_priority_alarms_do_not_sound():
    bed = BedAlarms()
    bed.observe_status(True, 10, T0)
    assert conditions(bed) == ["battery_low"]
    assert bed.audible(T0) is False


def test_active_is_sorted_high_then_medium_then_low_then_oldest_first():
    bed = BedAlarms()
    bed.observe_status(True, 10, T0)  # battery_low, low, T0
    feed(bed, T0, T0 + 10_000, hr=140, temp=36.8)  # hr_high, medium, T0+5 s
    feed(bed, T0 + 11_000, T0 + 11_000, hr=140, rr=40)
    bed.observe(reading(T0 + 12_000, hr=140, rr=40, spo2=70), ADULT, T0 + 12_000)  # spo2_extreme_low, T0+12 s
    feed(bed, T0 + 13_000, T0 + 21_000, hr=140, rr=40, spo2=70)  # rr_high, medium, T0+21 s
    assert [(a.condition, a.priority) for a in bed.active()] == [
        ("spo2_extreme_low", "high"),
        ("hr_high", "medium"),
        ("rr_high", "medium"),
        ("battery_low", "low"),
    ]


# ---------------------------------------------------------------- technical alarms


def test_no_data_after_three_missed_intervals_and_ends_when_data_returns():
    bed = BedAlarms()
    bed.observe(reading(T0), ADULT, T0)
    assert bed.tick(T0 + 1_000) == [] and bed.tick(T0 + 2_000) == [] and bed.tick(T0 + 3_000) == []
    changes = bed.tick(T0 + 4_000)
    assert [(c.kind, c.alarm.condition, c.alarm.priority, c.alarm.message) for c in changes] == [
        ("started", "no_data", "medium", "No data for 4 s")
    ]
    assert bed.tick(T0 + 5_000) == []
    changes = bed.observe(reading(T0 + 6_000), ADULT, T0 + 6_000)
    assert [(c.kind, c.alarm.condition, c.alarm.ended_ms) for c in changes] == [("ended", "no_data", T0 + 6_000)]


def test_an_episode_ended_by_a_sample_older_than_its_start_ends_where_it_began():
    """A sample held back by an outage reaches the engine after the tick that raised "no data": the episode ends,
    never before it started."""
    bed = BedAlarms()
    bed.observe(reading(T0), ADULT, T0)
    (started,) = bed.tick(T0 + 8_000)
    changes = bed.observe(reading(T0 + 1_000), ADULT, T0 + 1_000)
    assert [(c.kind, c.alarm.condition) for c in changes] == [("ended", "no_data")]
    assert changes[0].alarm.ended_ms == started.alarm.started_ms == T0 + 8_000


def test_no_data_respects_the_expected_interval_and_a_bed_that_never_sent_anything():
    bed = BedAlarms(expected_interval_ms=5_000)
    bed.tick(T0)
    assert bed.tick(T0 + 15_000) == []
    assert [c.alarm.condition for c in bed.tick(T0 + 16_000)] == ["no_data"]


def test_device_offline_is_no_data_at_once_and_ends_physiological_alarms():
    bed = BedAlarms()
    feed(bed, T0, T0 + 10_000, spo2=85)
    changes = bed.observe_status(False, None, T0 + 10_500)
    assert [(c.kind, c.alarm.condition, c.alarm.message) for c in changes] == [("started", "no_data", "Device offline")]
    kinds = [(c.kind, c.alarm.condition, t) for t in range(T0 + 11_000, T0 + 20_001, 1_000) for c in bed.tick(t)]
    assert kinds == [("ended", "spo2_low", T0 + 16_000)]  # unknown for the 5 s clearing delay
    assert conditions(bed) == ["no_data"]


def test_clock_skew_with_delay_and_hysteresis():
    bed = BedAlarms()
    out = []
    for t in range(T0, T0 + 10_001, 1_000):
        out += [(c.kind, c.alarm.condition, t) for c in bed.observe(Reading(t - 7_000, t, **NORMAL), ADULT, t)]
    assert out == [("started", "clock_skew", T0 + 10_000)]
    assert bed.active()[0].message == "Clock skew 7 s"
    for t in range(T0 + 11_000, T0 + 40_001, 1_000):  # 4.5 s: under the limit but not clear of it
        assert bed.observe(Reading(t - 4_500, t, **NORMAL), ADULT, t) == []
    out = []
    for t in range(T0 + 41_000, T0 + 60_001, 1_000):
        out += [(c.kind, c.alarm.condition, t) for c in bed.observe(Reading(t + 1_000, t, **NORMAL), ADULT, t)]
    assert out == [("ended", "clock_skew", T0 + 51_000)]


def test_battery_low_with_hysteresis():
    bed = BedAlarms()
    assert bed.observe_status(True, 20, T0) == []
    changes = bed.observe_status(True, 19, T0 + 1_000)
    assert [(c.kind, c.alarm.condition, c.alarm.priority, c.alarm.message) for c in changes] == [
        ("started", "battery_low", "low", "Battery 19 % < 20 %")
    ]
    assert bed.observe_status(True, 22, T0 + 2_000) == []
    assert bed.observe_status(True, None, T0 + 3_000) == []  # not reported: the last value stands
    assert run(bed, T0 + 3_000, T0 + 60_000) == []
    assert conditions(bed) == ["battery_low"]
    changes = bed.observe_status(True, 25, T0 + 5_000)
    assert [(c.kind, c.alarm.condition) for c in changes] == [("ended", "battery_low")]


# ---------------------------------------------------------------- NIBP, NEWS2


def test_nibp_reading_stands_until_the_next_cuff_reading():
    bed = BedAlarms()
    changes = bed.observe(reading(T0, sbp=85, dbp=50, map=62), ADULT, T0)
    assert [(c.alarm.condition, c.alarm.message) for c in changes] == [
        ("sbp_low", "SBP 85 < 90"),
        ("map_low", "MAP 62 < 65"),
    ]
    assert feed(bed, T0 + 1_000, T0 + 300_000, step=10_000) == []
    assert conditions(bed) == ["map_low", "sbp_low"]  # both medium, same start: by condition name
    changes = bed.observe(reading(T0 + 301_000, sbp=118, dbp=70, map=86), ADULT, T0 + 301_000)
    assert [(c.kind, c.alarm.condition) for c in changes] == [("ended", "sbp_low"), ("ended", "map_low")]


def test_news2_alarms_with_delay_and_supersession():
    bed = BedAlarms()
    assert bed.observe_news2(7, T0) == []  # a single score stands: tick() lets its delay run
    assert run(bed, T0, T0 + 29_000) == []
    changes = bed.tick(T0 + 30_000)
    assert [(c.kind, c.alarm.condition, c.alarm.kind, c.alarm.priority, c.alarm.message) for c in changes] == [
        ("started", "news2_high", "clinical", "high", "NEWS2 7 ≥ 7")
    ]
    assert conditions(bed) == ["news2_high"]  # news2_medium is superseded while news2_high is active
    assert bed.observe_news2(5, T0 + 60_000) == []
    assert run(bed, T0 + 31_000, T0 + 179_000) == [("escalated", "news2_high", T0 + 90_000)]
    assert run(bed, T0 + 180_000, T0 + 180_000) == [
        ("ended", "news2_high", T0 + 180_000),
        ("started", "news2_medium", T0 + 180_000),
    ]
    assert bed.observe_news2(None, T0 + 200_000) == []  # incomplete: clears after the clearing delay
    assert run(bed, T0 + 201_000, T0 + 319_000) == []
    assert run(bed, T0 + 320_000, T0 + 320_000) == [("ended", "news2_medium", T0 + 320_000)]


# ---------------------------------------------------------------- limits


def test_profiles_and_effective_limits_with_per_side_overrides():
    assert PROFILES["adult"] == Limits(
        hr=(50, 120), spo2=(90, None), rr=(8, 30), sbp=(90, 180), dbp=(40, 110), map=(65, 110), temp=(35.5, 38.5)
    )
    assert PROFILES["icu"] == Limits(
        hr=(45, 130), spo2=(90, None), rr=(8, 35), sbp=(90, 180), dbp=(40, 110), map=(65, 110), temp=(35.5, 39.0)
    )
    limits = effective_limits("adult", {"spo2": (85, None), "hr": (None, 140)})
    assert limits.spo2 == (85, None)
    assert limits.hr == (50, 140)
    assert limits.rr == (8, 30)
    assert effective_limits("icu") == PROFILES["icu"]
    with pytest.raises(ValueError, match="unknown alarm profile"):
        effective_limits("geriatric")
    with pytest.raises(ValueError, match="unknown alarm parameter"):
        effective_limits("adult", {"etco2": (30, 45)})
    with pytest.raises(ValueError, match="must be below"):
        effective_limits("adult", {"hr": (130, None)})


def test_per_bed_override_changes_what_alarms():
    bed = BedAlarms()
    copd = effective_limits("adult", {"spo2": (85, None)})
    assert feed(bed, T0, T0 + 60_000, limits=copd, spo2=87) == []
    assert feed(bed, T0 + 61_000, T0 + 71_000, limits=copd, spo2=84) == [("started", "spo2_low", T0 + 71_000)]
    assert bed.active()[0].message == "SpO2 84 < 85"


# ---------------------------------------------------------------- snapshot


def test_snapshot_round_trip_keeps_delays_acks_and_pause():
    bed = BedAlarms(escalate_after_ms=90_000)
    feed(bed, T0, T0 + 10_000, hr=140)  # hr_high active since T0+5 s
    bed.acknowledge("hr_high", "ners.sari", "ICU station", T0 + 10_000)
    feed(bed, T0 + 11_000, T0 + 16_000, hr=140, spo2=85)  # spo2_low pending since T0+11 s
    bed.observe_status(True, 15, T0 + 16_000)
    bed.pause(T0 + 100_000)
    snapshot = json.loads(json.dumps(bed.to_dict()))
    restored = BedAlarms.from_dict(snapshot)
    assert restored.to_dict() == snapshot
    assert restored.escalate_after_ms == 90_000
    assert [(a.condition, a.acked_by) for a in restored.active()] == [("hr_high", "ners.sari"), ("battery_low", None)]
    assert restored.audible(T0 + 20_000) is False
    assert feed(restored, T0 + 17_000, T0 + 20_000, hr=140, spo2=85) == []
    assert feed(restored, T0 + 21_000, T0 + 21_000, hr=140, spo2=85) == [("started", "spo2_low", T0 + 21_000)]
    assert next(a for a in restored.active() if a.condition == "spo2_low").onset_ms == T0 + 11_000
    with pytest.raises(ValueError, match="version"):
        BedAlarms.from_dict({**snapshot, "v": 2})


def test_live_shape_and_assigned_id():
    bed = BedAlarms()
    feed(bed, T0, T0 + 10_000, spo2=84)
    assert bed.assign_id("spo2_low", 123) is True
    assert bed.assign_id("hr_low", 124) is False
    assert bed.active()[0].live() == {
        "id": 123,
        "condition": "spo2_low",
        "kind": "physiological",
        "priority": "medium",
        "since": T0 + 10_000,
        "value": 84.0,
        "message": "SpO2 84 < 90",
        "acked": False,
        "ack_by": None,
        "latched": False,
    }


def test_flash_constants_follow_iec_60601_1_8():
    assert (HIGH_FLASH_HZ, MEDIUM_FLASH_HZ, LOW_FLASH_HZ) == (2.0, 0.5, 0.0)
    assert FLASH_HZ == {"high": 2.0, "medium": 0.5, "low": 0.0}
    assert all(spec.onset_delay_ms == 0 for spec in CONDITIONS.values() if spec.latching)


# ---------------------------------------------------------------- property


def _maybe(values):
    return st.one_of(st.none(), values)


_vital = _maybe(st.one_of(st.floats(min_value=-10, max_value=300), st.sampled_from([math.nan, math.inf, -math.inf])))
_status = st.sampled_from([None, "ok", "off", "noisy", "weird"])
_sqi = _maybe(st.floats(min_value=0, max_value=1))
_reading = st.fixed_dictionaries(
    {
        "hr": _vital,
        "spo2": _maybe(st.floats(min_value=50, max_value=100)),
        "rr": _vital,
        "sbp": _vital,
        "dbp": _vital,
        "map": _vital,
        "temp": _maybe(st.floats(min_value=30, max_value=43)),
        "ecg_status": _status,
        "spo2_status": _status,
        "sqi_ecg": _sqi,
        "sqi_spo2": _sqi,
    }
)
_op = st.one_of(
    st.tuples(st.just("reading"), st.integers(0, 3_000), _reading, st.integers(-8_000, 8_000)),
    st.tuples(st.just("tick"), st.integers(0, 10_000)),
    st.tuples(st.just("ack"), st.sampled_from(sorted(CONDITIONS))),
    st.tuples(st.just("news2"), _maybe(st.integers(0, 20))),
    st.tuples(st.just("status"), st.booleans(), _maybe(st.integers(0, 100))),
    st.tuples(st.just("pause"), st.integers(0, 200_000)),
    st.tuples(st.just("snapshot")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, max_size=120), profile=st.sampled_from(["adult", "icu"]), monitored=st.booleans())
def test_random_sequences_never_raise_nor_double_an_alarm(ops, profile, monitored):
    bed = BedAlarms(monitored=monitored)
    limits = effective_limits(profile)
    now = T0
    open_alarms: dict[str, int] = {}  # condition → started_ms of the open alarm, from the change stream

    def apply(changes: list[Change], ecg_gated: bool = False) -> None:
        for change in changes:
            cond = change.alarm.condition
            if change.kind == "started":
                assert cond not in open_alarms, f"second {cond} while one is open"
                assert not (ecg_gated and cond in ("hr_low", "hr_high", "hr_extreme_low"))
                open_alarms[cond] = change.alarm.started_ms
            else:
                assert open_alarms.get(cond) == change.alarm.started_ms
                if change.kind == "ended":
                    del open_alarms[cond]

    for op in ops:
        if op[0] == "reading":
            _, dt, values, skew = op
            now += dt
            r = Reading(ts_ms=now - skew, received_ms=now, **values)
            apply(bed.observe(r, limits, now), ecg_gated=values["ecg_status"] in ("off", "noisy"))
        elif op[0] == "tick":
            now += op[1]
            apply(bed.tick(now))
        elif op[0] == "ack":
            change = bed.acknowledge(op[1], "ners.sari", "ICU station", now)
            apply([change] if change else [])
        elif op[0] == "news2":
            apply(bed.observe_news2(op[1], now))
        elif op[0] == "status":
            apply(bed.observe_status(op[1], op[2], now))
        elif op[0] == "pause":
            bed.pause(now + op[1])
        else:
            snapshot = json.loads(json.dumps(bed.to_dict(), allow_nan=False))
            bed = BedAlarms.from_dict(snapshot)
            assert bed.to_dict() == snapshot
        active = bed.active()
        assert len({a.condition for a in active}) == len(active)
        assert {a.condition: a.started_ms for a in active} == open_alarms
        assert all(a.ended_ms is None for a in active)
        bed.audible(now)


def test_only_an_intensive_care_ward_takes_the_icu_profile():
    assert [ward_profile(kind) for kind in ("icu", "ward", "maternity", None)] == ["icu", "adult", "adult", "adult"]
