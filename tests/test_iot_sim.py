"""The simulator's pure layers (physiology, scenarios, artefacts, faults, waveforms, payloads) with an injected
clock and no broker; plus the CLI parser, the control messages and the store-and-forward transport with a fake
MQTT client."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.mqtt_topics import sim_control_topic, sim_state_topic
from data.simulator_commands import ARTEFACTS, SCENARIOS
from iot_sim import waveforms as waveforms_module
from iot_sim.cli import build_parser, main
from iot_sim.devices import Fleet, bed_for_device, demo_beds, demo_devices, device_for_bed
from iot_sim.faults import Faults
from iot_sim.physiology import HR, NEUTRAL, RR, SBP, SPO2, TEMP, Effect, Patient, draw_baseline
from iot_sim.scenarios import COURSES, normalise_scenario
from iot_sim.simulator import Simulator, parse_control

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_763_880_000.0  # epoch seconds of the fake clock's first tick
KEYS = ("v", "device_id", "seq", "ts", "hr", "spo2", "rr", "sbp", "dbp", "map", "temp", "sqi", "status")
STATES = {"ok", "off", "noisy"}


def fake_clock(rate: float = 1.0, start: float = T0):
    ticks = itertools.count()
    return lambda: start + next(ticks) / rate


def make_fleet(devices=None, *, rate: float = 1.0, **kwargs) -> Fleet:
    return Fleet("TEST", devices, rate=rate, clock=fake_clock(rate), **kwargs)


def vitals(fleet: Fleet, ticks: int) -> list[dict]:
    """Every numerics payload of ``ticks`` ticks, decoded, in publishing order."""
    out = []
    for _ in range(ticks):
        out.extend(orjson.loads(o.payload) for o in fleet.tick() if o.kind == "vitals")
    return out


def per_device(messages: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for m in messages:
        grouped[m["device_id"]].append(m)
    return grouped


def check_vitals(topic: str, payload: bytes) -> dict:
    """Assert one numerics message follows DESIGN.md §3 (and the simulator's own promises); return it."""
    assert len(payload) <= 64 * 1024
    parts = topic.split("/")
    assert parts[:2] == ["pantau", "v1"] and parts[3] == "vitals" and len(parts) == 5
    m = orjson.loads(payload)
    assert tuple(m) == KEYS
    assert m["v"] == 1 and m["device_id"] == parts[4]
    assert type(m["seq"]) is int and m["seq"] >= 0
    assert type(m["ts"]) is int and m["ts"] > 1_500_000_000_000
    for name, low, high in (("hr", 0, 300), ("spo2", 40, 100), ("rr", 0, 60)):
        assert m[name] is None or (type(m[name]) is int and low <= m[name] <= high), (name, m)
    assert m["temp"] is None or (
        type(m["temp"]) is float and 30 <= m["temp"] <= 43 and m["temp"] == round(m["temp"], 1)
    )
    nibp = (m["sbp"], m["dbp"], m["map"])
    assert nibp == (None, None, None) or all(type(v) is int for v in nibp), m
    if m["sbp"] is not None:
        assert 10 <= m["dbp"] < m["sbp"] <= 300
        assert abs(m["map"] - (m["dbp"] + (m["sbp"] - m["dbp"]) / 3)) <= 0.5 + 1e-9
    assert set(m["sqi"]) == {"ecg", "spo2"} and set(m["status"]) == {"ecg", "spo2"}
    assert all(type(q) is float and 0.0 <= q <= 1.0 for q in m["sqi"].values()), m
    assert set(m["status"].values()) <= STATES
    # A sensor that is off has no value (and no quality).
    assert (m["status"]["ecg"] == "off") == (m["hr"] is None)
    assert (m["status"]["spo2"] == "off") == (m["spo2"] is None)
    if m["status"]["ecg"] == "off":
        assert m["sqi"]["ecg"] == 0.0 and m["rr"] is None
    if m["status"]["spo2"] == "off":
        assert m["sqi"]["spo2"] == 0.0
    return m


def news2(m: dict) -> int:
    """NEWS2 of the numeric parameters (air, alert), DESIGN.md §5 — enough to follow a scenario."""

    def band(value, bands):
        return next(points for low, high, points in bands if low <= value <= high)

    return (
        band(m["rr"], [(0, 8, 3), (9, 11, 1), (12, 20, 0), (21, 24, 2), (25, 999, 3)])
        + band(m["spo2"], [(0, 91, 3), (92, 93, 2), (94, 95, 1), (96, 100, 0)])
        + band(m["sbp"], [(0, 90, 3), (91, 100, 2), (101, 110, 1), (111, 219, 0), (220, 999, 3)])
        + band(m["hr"], [(0, 40, 3), (41, 50, 1), (51, 90, 0), (91, 110, 1), (111, 130, 2), (131, 999, 3)])
        + band(m["temp"], [(0, 35.0, 3), (35.1, 36.0, 1), (36.1, 38.0, 0), (38.1, 39.0, 1), (39.1, 99, 2)])
    )


# -- devices, topics, payloads --------------------------------------------------------------------------------


def test_demo_devices_match_the_seeded_demo_hospital():
    from data import seed

    expected = [f"{code}-{n:02d}" for code, *_ in seed.WARDS for n in range(1, seed.BEDS_PER_WARD + 1)]
    assert demo_beds() == expected
    assert demo_devices() == [f"MON-{bed}" for bed in expected]
    assert demo_beds(34)[-2:] == ["SIM-033", "SIM-034"] and demo_beds(3) == ["ICU-01", "ICU-02", "ICU-03"]
    assert bed_for_device("MON-ICU-03") == "ICU-03" == bed_for_device(device_for_bed("ICU-03"))
    assert bed_for_device("X-7") == "X-7"


def test_every_payload_follows_the_contract_in_every_scenario_and_artefact():
    fleet = make_fleet(nibp_interval=7, waveforms=True, faults=Faults(clock_skew={"MEL-01": -2.5}))
    for bed, scenario in zip(demo_beds(), itertools.cycle(SCENARIOS), strict=False):
        fleet.set_scenario(bed, scenario)
    for bed, artefact in zip(demo_beds()[::3], itertools.cycle(ARTEFACTS), strict=False):
        fleet.inject_artefact(bed, artefact, 20)
    seen_states: Counter[str] = Counter()
    nibp_ticks = defaultdict(list)
    for k in range(60):
        for o in fleet.tick():
            assert o.topic.endswith("/" + fleet.monitors[o.device].device_id)
            if o.kind == "vitals":
                device_id = fleet.monitors[o.device].device_id
                assert (o.qos, o.retain) == (1, False) and o.topic == f"pantau/v1/TEST/vitals/{device_id}"
                m = check_vitals(o.topic, o.payload)
                seen_states.update(m["status"].values())
                skew = -2500 if m["device_id"] == "MON-MEL-01" else 0
                assert m["ts"] == round(T0 * 1000) + k * 1000 + skew
                if m["sbp"] is not None:
                    nibp_ticks[m["device_id"]].append(k)
            elif o.kind == "wave":
                assert o.topic.startswith("pantau/v1/TEST/wave/")
                chunk = orjson.loads(o.payload)
                assert tuple(chunk) == ("seq", "ts", "ecg", "pleth")
                assert chunk["ecg"] is None or len(chunk["ecg"]) == 250
                assert chunk["pleth"] is None or len(chunk["pleth"]) == 125
            else:
                assert o.kind == "status" and o.retain and o.topic.startswith("pantau/v1/TEST/status/")
    assert seen_states["off"] and seen_states["noisy"] and seen_states["ok"]
    # NIBP only with a new cuff reading: every 7 s per bed, the first within 7 s, staggered between beds.
    assert len(nibp_ticks) == 32
    for ticks in nibp_ticks.values():
        assert ticks[0] <= 7 and all(b - a == 7 for a, b in itertools.pairwise(ticks))
    assert len({ticks[0] for ticks in nibp_ticks.values()}) > 3


def test_default_nibp_is_every_five_minutes_and_first_within_thirty_seconds():
    messages = per_device(vitals(make_fleet(demo_devices(4)), 700))
    for stream in messages.values():
        seqs = [m["seq"] for m in stream if m["sbp"] is not None]
        assert len(seqs) == 3 and seqs[0] <= 30 and seqs[1] - seqs[0] == 300 == seqs[2] - seqs[1]


def test_status_messages_report_battery_and_change_only_when_it_does():
    fleet = make_fleet(demo_devices(2), speed=1)
    status = orjson.loads(fleet.status(0, True).payload)
    assert status["online"] is True and 0 <= status["battery"] <= 100
    assert orjson.loads(fleet.status(1, False).payload)["online"] is False
    changes = [o for _ in range(1300) for o in fleet.tick() if o.kind == "status"]
    assert 2 <= len(changes) <= 8  # about 1 % per 10 min of battery drain per monitor
    assert all(orjson.loads(o.payload)["online"] is True for o in changes)


def test_same_seed_same_sequence_other_seed_other_sequence():
    def run(seed: int, devices: list[str]) -> list[tuple[str, bytes]]:
        fleet = make_fleet(devices, seed=seed, waveforms=True, scenarios={"ICU-05": "sepsis"})
        if len(devices) > 1:
            fleet.set_scenario("ICU-02", "af")
            fleet.inject_artefact("ICU-04", "motion", 10)
        return [(o.topic, o.payload) for _ in range(40) for o in fleet.tick()]

    eight = demo_devices(8)
    assert run(1, eight) == run(1, eight)
    assert run(1, eight) != run(2, eight)
    # A monitor's stream depends on its own id, not on which other monitors run.
    alone = run(1, ["MON-ICU-05"])
    together = [(topic, p) for topic, p in run(1, eight) if topic.endswith("/MON-ICU-05")]
    assert alone == together


def test_payloads_do_not_depend_on_waveforms_or_transport_faults():
    plain = vitals(make_fleet(demo_devices(3)), 30)
    with_waves = vitals(make_fleet(demo_devices(3), waveforms=True), 30)
    assert plain == with_waves


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    speed=st.sampled_from([1.0, 30.0, 3600.0]),
    rate=st.sampled_from([0.5, 1.0, 4.0]),
    plan=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(list(SCENARIOS)), st.sampled_from((None, *ARTEFACTS))),
        max_size=4,
    ),
)
def test_any_seed_speed_rate_and_mix_of_scenarios_gives_valid_payloads(seed, speed, rate, plan):
    fleet = make_fleet(demo_devices(4), seed=seed, speed=speed, rate=rate, nibp_interval=3)
    for step, (bed, scenario, artefact) in enumerate(plan):
        fleet.set_scenario(demo_beds()[bed], scenario)
        if artefact:
            fleet.inject_artefact(demo_beds()[bed], artefact, 5)
        for o in (o for _ in range(5 + step) for o in fleet.tick()):
            if o.kind == "vitals":
                check_vitals(o.topic, o.payload)


# -- physiology and scenarios ------------------------------------------------------------------------------------


def test_baselines_are_plausible_stable_adults():
    rng = np.random.default_rng(7)
    for _ in range(200):
        b = draw_baseline(rng)
        assert 58 <= b.hr <= 88 and 96.5 <= b.spo2 <= 99.4 and 13 <= b.rr <= 18
        assert 110 <= b.sbp <= 134 and 40 <= b.sbp - b.dbp <= 60 and 36.4 <= b.temp <= 37.2
        assert b.dbp + (b.sbp - b.dbp) / 3 < 110  # a stable patient does not sit on the MAP alarm limit


def test_couplings_fever_and_hypoxia_raise_hr_and_rr():
    def run(effect: Effect) -> np.ndarray:
        rng = np.random.default_rng(3)
        patient = Patient(draw_baseline(rng), rng)
        return np.array([patient.step(1.0, effect).copy() for _ in range(200)])

    calm = run(NEUTRAL)
    fever = run(Effect(offset=np.array([0, 0, 0, 0, 0, 2.0])))
    excess = np.maximum(0, fever[:, TEMP] - 37.0) - np.maximum(0, calm[:, TEMP] - 37.0)
    assert np.allclose(fever[:, HR] - calm[:, HR], 10.0 * excess)  # same noise: exactly ~10/min per °C
    assert np.allclose(fever[:, RR] - calm[:, RR], 2.5 * excess)
    hypoxic = run(Effect(offset=np.array([0, -10.0, 0, 0, 0, 0])))
    assert (hypoxic[:, HR] > calm[:, HR] + 5).all() and (hypoxic[:, RR] > calm[:, RR] + 2).all()
    suppressed = run(Effect(offset=np.array([0, -10.0, 0, 0, 0, 0]), hypoxic_drive=0.0))
    assert np.allclose(suppressed[:, HR], calm[:, HR])


def test_noise_reverts_to_the_baseline_and_pressures_stay_consistent():
    rng = np.random.default_rng(11)
    patient = Patient(draw_baseline(rng), rng)
    values = np.array([patient.step(5.0).copy() for _ in range(4000)])
    base = patient.baseline.as_array()
    assert np.allclose(values.mean(axis=0), base, atol=np.array([1.0, 0.3, 0.5, 3.0, 2.0, 0.15]))
    assert 1.5 < values[:, HR].std() < 5
    assert (values[:, SBP] - values[:, 4] >= 10 - 1e-9).all()
    assert values[:, SPO2].max() <= 100


def test_sepsis_drives_hr_rr_temp_up_and_sbp_spo2_down_news2_from_low_to_high():
    # 4 h of sepsis compressed into 240 one-second ticks (speed 60); a cuff reading every tick.
    fleet = make_fleet(demo_devices(12), speed=60, nibp_interval=1, scenarios={"*": "sepsis"})
    ticks = [vitals(fleet, 1) for _ in range(250)]
    early = [m for tick in ticks[1:11] for m in tick]
    late = [m for tick in ticks[-10:] for m in tick]

    def mean(messages, name):
        return sum(m[name] for m in messages) / len(messages)

    assert mean(late, "hr") > mean(early, "hr") + 25
    assert mean(late, "rr") > mean(early, "rr") + 8
    assert mean(late, "temp") > mean(early, "temp") + 2
    assert mean(late, "sbp") < mean(early, "sbp") - 30
    assert mean(late, "spo2") < mean(early, "spo2") - 2.5
    assert max(news2(m) for m in early) <= 2 and mean([{"n": news2(m)} for m in early], "n") <= 1
    assert min(news2(m) for m in late) >= 7
    # It climbs: the mean score per half-hour of simulated time never falls by more than noise.
    halves = [np.mean([news2(m) for tick in ticks[i : i + 30] for m in tick]) for i in range(1, 241, 30)]
    assert all(b >= a - 0.5 for a, b in itertools.pairwise(halves)) and halves[-1] - halves[0] >= 6


def test_arrest_drops_hr_below_30_within_seconds_with_ecg_ok_and_spo2_falling():
    fleet = make_fleet(demo_devices(3))
    vitals(fleet, 20)
    fleet.set_scenario("ICU-02", "arrest")
    stream = [m for m in vitals(fleet, 40) if m["device_id"] == "MON-ICU-02"]
    first_low = next(i for i, m in enumerate(stream) if m["hr"] < 30)
    assert first_low <= 4  # seconds after the switch
    assert all(m["hr"] < 30 and m["status"]["ecg"] == "ok" for m in stream[first_low:])
    assert stream[-1]["spo2"] < stream[2]["spo2"] - 20
    assert stream[-1]["rr"] <= 3


@pytest.mark.parametrize(
    ("scenario", "speed", "check"),
    [
        ("haemorrhage", 10, lambda m: m["hr"] > 105 and m["sbp"] < 95),
        ("bradycardia", 2, lambda m: 30 <= m["hr"] <= 46),
        ("opioid", 10, lambda m: 5 <= m["rr"] <= 9 and m["spo2"] <= 92),
        ("af", 1, lambda m: 110 <= m["hr"] <= 150),
    ],
)
def test_other_scenarios_reach_their_picture(scenario, speed, check):
    fleet = make_fleet(demo_devices(6), speed=speed, nibp_interval=1, scenarios={"*": scenario})
    vitals(fleet, 100)
    assert all(check(m) for m in vitals(fleet, 20))


def test_af_is_irregular():
    fleet = make_fleet(["MON-ICU-01"], scenarios={"ICU-01": "af"})
    hr = np.array([m["hr"] for m in vitals(fleet, 120)[30:]])
    assert np.abs(np.diff(hr)).mean() > 4  # sinus rhythm at rest changes by ~1/min per second


def test_switching_back_to_stable_recovers_gradually():
    fleet = make_fleet(["MON-ICU-01"], scenarios={"ICU-01": "arrest"})
    vitals(fleet, 30)
    fleet.set_scenario("MON-ICU-01", "stable")
    hr = [m["hr"] for m in vitals(fleet, 90)]
    assert hr[0] < 20 and 20 < hr[10] < hr[-1] and hr[-1] > 55


def test_each_scenario_runs_its_own_course():
    assert {name: course.__name__ for name, course in COURSES.items()} == {name: f"_{name}" for name in SCENARIOS}


def test_scenario_names_and_targets():
    assert normalise_scenario(" Hemorrhage ") == "haemorrhage"
    with pytest.raises(ValueError, match="unknown scenario"):
        normalise_scenario("zombie")
    fleet = make_fleet(demo_devices(4))
    assert fleet.set_scenario("icu-02", "sepsis") == ["MON-ICU-02"]
    assert fleet.set_scenario("MON-ICU-03", "opioid") == ["MON-ICU-03"]
    assert fleet.scenarios() == {"ICU-01": "stable", "ICU-02": "sepsis", "ICU-03": "opioid", "ICU-04": "stable"}
    assert len(fleet.set_scenario("*", "stable")) == 4
    with pytest.raises(KeyError):
        fleet.set_scenario("MEL-09", "sepsis")


# -- artefacts -------------------------------------------------------------------------------------------------


def test_leads_off_nulls_hr_and_rr_with_status_off_then_ends():
    fleet = make_fleet(["MON-ICU-01"])
    vitals(fleet, 5)
    fleet.inject_artefact("ICU-01", "leads_off", 10)
    during = vitals(fleet, 10)
    assert all(m["hr"] is None and m["rr"] is None and m["status"]["ecg"] == "off" for m in during)
    assert all(m["spo2"] is not None and m["status"]["spo2"] == "ok" for m in during)
    after = vitals(fleet, 3)
    assert all(m["hr"] is not None and m["status"]["ecg"] == "ok" for m in after)


def test_spo2_off_motion_low_perfusion_noisy():
    fleet = make_fleet(demo_devices(4))
    vitals(fleet, 5)
    for bed, kind in zip(demo_beds(4), ("spo2_off", "motion", "low_perfusion", "noisy"), strict=True):
        fleet.inject_artefact(bed, kind, 60)
    stream = per_device(vitals(fleet, 30))
    assert all(m["spo2"] is None and m["status"]["spo2"] == "off" and m["hr"] is not None for m in stream["MON-ICU-01"])
    motion = stream["MON-ICU-02"]
    assert all(m["status"] == {"ecg": "noisy", "spo2": "noisy"} and max(m["sqi"].values()) < 0.5 for m in motion)
    assert np.std([m["hr"] for m in motion]) > 4
    perfusion = stream["MON-ICU-03"]
    assert all(
        m["status"]["spo2"] == "noisy" and m["sqi"]["spo2"] < 0.4 and m["status"]["ecg"] == "ok" for m in perfusion
    )
    assert all(m["status"] == {"ecg": "noisy", "spo2": "noisy"} for m in stream["MON-ICU-04"])
    fleet.inject_artefact("*", "none", 0)
    assert all(m["status"] == {"ecg": "ok", "spo2": "ok"} for m in vitals(fleet, 1))
    with pytest.raises(ValueError, match="unknown artefact"):
        fleet.inject_artefact("ICU-01", "gremlins", 5)


# -- transport faults ----------------------------------------------------------------------------------------


def test_drop_skips_messages_but_seq_advances():
    devices = ("MON-ICU-01", "MON-ICU-02")
    clean_fleet, faulty_fleet = make_fleet(list(devices)), make_fleet(list(devices), faults=Faults(drop=0.2))
    clean = [o.payload for _ in range(400) for o in clean_fleet.tick() if o.kind == "vitals"]
    faulty = [o.payload for _ in range(400) for o in faulty_fleet.tick() if o.kind == "vitals"]
    assert set(faulty) < set(clean)
    assert [p for p in clean if p in set(faulty)] == faulty  # a subsequence: nothing altered or reordered
    assert 0.12 < 1 - len(faulty) / len(clean) < 0.28
    seqs = [orjson.loads(p)["seq"] for p in faulty if b'"MON-ICU-01"' in p]
    assert seqs == sorted(seqs) and max(seqs) >= 395 and any(b - a > 1 for a, b in itertools.pairwise(seqs))
    assert sum(m.faults.dropped for m in faulty_fleet.monitors) == len(clean) - len(faulty)


def test_duplicate_publishes_the_same_bytes_twice_back_to_back():
    clean, faulty = fault_clean_and_faulty(Faults(duplicate=0.1))
    deduplicated = [p for i, p in enumerate(faulty) if i == 0 or p != faulty[i - 1]]
    assert deduplicated == clean
    assert 40 < len(faulty) - len(clean) < 120


def test_reorder_publishes_a_held_message_right_after_the_next():
    clean, faulty = fault_clean_and_faulty(Faults(reorder=0.1))
    assert sorted(faulty) == sorted(clean) and faulty != clean
    for device in (b'"MON-ICU-01"', b'"MON-ICU-02"'):
        want = [p for p in clean if device in p]
        got = [p for p in faulty if device in p]
        swaps = 0
        i = 0
        while i < len(got):
            if got[i] == want[i]:
                i += 1
            else:  # exactly one adjacent swap
                assert (got[i], got[i + 1]) == (want[i + 1], want[i])
                swaps += 1
                i += 2
        assert 10 < swaps < 70


def fault_clean_and_faulty(faults: Faults, ticks: int = 400) -> tuple[list[bytes], list[bytes]]:
    devices = ["MON-ICU-01", "MON-ICU-02"]
    clean_fleet, faulty_fleet = make_fleet(devices), make_fleet(devices, faults=faults)
    clean = [o.payload for _ in range(ticks) for o in clean_fleet.tick() if o.kind == "vitals"]
    faulty = [o.payload for _ in range(ticks) for o in faulty_fleet.tick() if o.kind == "vitals"]
    return clean, faulty + [o.payload for o in faulty_fleet.flush()]


def test_fault_draws_are_seeded():
    assert (
        fault_clean_and_faulty(Faults(drop=0.1, duplicate=0.1, reorder=0.1))[1]
        == (fault_clean_and_faulty(Faults(drop=0.1, duplicate=0.1, reorder=0.1))[1])
    )


def test_reboot_restarts_seq_at_zero_while_ts_keeps_increasing():
    fleet = make_fleet(demo_devices(3), faults=Faults(reboot_every=20))
    stream = per_device(vitals(fleet, 100))
    first_reboots = set()
    for messages in stream.values():
        seqs = [m["seq"] for m in messages]
        ts = [m["ts"] for m in messages]
        assert all(b > a for a, b in itertools.pairwise(ts))
        restarts = [i for i in range(1, len(seqs)) if seqs[i] == 0]
        assert all(b - a == 20 for a, b in itertools.pairwise(restarts)) and 4 <= len(restarts) <= 5
        assert all(seqs[i] == seqs[i - 1] + 1 for i in range(1, len(seqs)) if i not in restarts)
        first_reboots.add(restarts[0])
    assert len(first_reboots) > 1  # staggered between devices
    assert sum(m.reboots for m in fleet.monitors) >= 12


def test_clock_skew_offsets_ts_of_that_device_only():
    fleet = make_fleet(demo_devices(2), faults=Faults(clock_skew={"MON-ICU-02": 90.5}))
    stream = per_device(vitals(fleet, 3))
    assert [m["ts"] for m in stream["MON-ICU-01"]] == [round(T0 * 1000) + k * 1000 for k in range(3)]
    assert [m["ts"] for m in stream["MON-ICU-02"]] == [round(T0 * 1000) + k * 1000 + 90_500 for k in range(3)]
    with pytest.raises(KeyError):
        make_fleet(demo_devices(2), faults=Faults(clock_skew={"MON-XYZ": 1}))


def test_fault_settings_are_validated():
    with pytest.raises(ValueError):
        Faults(drop=1.5)
    with pytest.raises(ValueError):
        Faults(reboot_every=0)
    with pytest.raises(ValueError):
        make_fleet(["bad id!"])
    with pytest.raises(ValueError):
        make_fleet(["MON-1", "MON-1"])
    with pytest.raises(ValueError):
        Fleet("TEST", rate=0)


# -- waveforms -------------------------------------------------------------------------------------------------


def test_waveform_chunks_follow_the_heart_rate_and_use_precomputed_templates(monkeypatch):
    fleet = make_fleet(["MON-ICU-01", "MON-ICU-02"], waveforms=True, scenarios={"ICU-02": "af"})

    def no_live_models(*args, **kwargs):
        raise AssertionError("templates must be built at start-up, not per beat")

    monkeypatch.setattr(waveforms_module, "_gaussians", no_live_models)
    monkeypatch.setattr(waveforms_module, "build_templates", no_live_models)
    chunks: dict[str, list[dict]] = defaultdict(list)
    hr: dict[str, list[int]] = defaultdict(list)
    for _ in range(60):
        for o in fleet.tick():
            device = o.topic.rsplit("/", 1)[1]
            if o.kind == "wave":
                chunks[device].append(orjson.loads(o.payload))
            elif o.kind == "vitals":
                hr[device].append(orjson.loads(o.payload)["hr"])
    for device, series in chunks.items():
        assert [c["seq"] for c in series] == list(range(59))
        assert [c["ts"] for c in series] == [round(T0 * 1000) + 1000 * k for k in range(59)]
        assert all(len(c["ecg"]) == 250 and len(c["pleth"]) == 125 for c in series)
        ecg = np.concatenate([c["ecg"] for c in series[19:]])
        peaks = np.flatnonzero((ecg[1:-1] > 0.6) & (ecg[1:-1] >= ecg[:-2]) & (ecg[1:-1] > ecg[2:]))
        beats_per_minute = len(peaks) / 40 * 60
        assert abs(beats_per_minute - np.mean(hr[device][20:])) < 8, (device, beats_per_minute)
        pleth = np.concatenate([c["pleth"] for c in series[19:]])
        assert pleth.max() > 0.6 and pleth.min() > -0.2
    rr = np.diff(
        np.flatnonzero(np.diff(np.sign(np.diff(np.concatenate([c["ecg"] for c in chunks["MON-ICU-02"]])))) < 0)
    )
    assert rr.size > 0


def test_waveform_of_an_off_sensor_is_null_and_arrest_flattens_the_pleth():
    fleet = make_fleet(["MON-ICU-01"], waveforms=True)
    fleet.tick()
    fleet.inject_artefact("ICU-01", "leads_off", 5)
    chunk = next(orjson.loads(o.payload) for o in fleet.tick() if o.kind == "wave")
    assert chunk["ecg"] is None and len(chunk["pleth"]) == 125
    fleet.set_scenario("ICU-01", "arrest")
    for _ in range(10):
        out = fleet.tick()
    chunk = next(orjson.loads(o.payload) for o in out if o.kind == "wave")
    assert max(abs(x) for x in chunk["pleth"]) < 0.05 and max(chunk["ecg"]) < 0.3  # no pulse, no QRS


# -- control messages, CLI ---------------------------------------------------------------------------------------


def test_control_messages():
    assert sim_control_topic("RS1") == "pantau/v1/RS1/sim/scenario"
    assert sim_state_topic("RS1") == "pantau/v1/RS1/sim/state"
    command = parse_control(b'{"bed":"ICU-03","scenario":"Sepsis"}')
    assert (command.target, command.scenario, command.artefact) == ("ICU-03", "sepsis", None)
    command = parse_control('{"device":"MON-ICU-03","artefact":"spo2_off","seconds":12}')
    assert (command.target, command.artefact, command.seconds) == ("MON-ICU-03", "spo2_off", 12.0)
    for bad in (b"nope", b"[]", b'{"scenario":"sepsis"}', b'{"bed":"ICU-01"}', b'{"bed":"ICU-01","scenario":"x"}',
                b'{"bed":"ICU-01","artefact":"x"}', b'{"bed":"ICU-01","artefact":"motion","seconds":"5"}'):  # fmt: skip
        with pytest.raises(ValueError):
            parse_control(bad)


def test_cli_help_documents_every_flag():
    result = subprocess.run(
        [sys.executable, "-m", "iot_sim", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    for flag in (
        "--mqtt-url", "--site", "--devices", "--beds", "--seed", "--speed", "--rate", "--duration", "--nibp-interval",
        "--waveforms", "--scenario", "--artefact", "--drop", "--duplicate", "--reorder", "--burst", "--clock-skew",
        "--reboot-every", "--log-level", "sim/scenario",
    ):  # fmt: skip
        assert flag in result.stdout, flag


def test_cli_parses_flags_and_refuses_bad_ones(capsys, monkeypatch):
    monkeypatch.setattr("config.configure_logging", lambda level: None)  # keep pytest's logging set-up
    args = build_parser().parse_args(
        ["--beds", "4", "--scenario", "ICU-03=hemorrhage", "--clock-skew", "MON-ICU-01=-30", "--drop", "0.1"]
    )
    assert args.beds == 4 and args.scenario == [("ICU-03", "haemorrhage")] and args.clock_skew == [("MON-ICU-01", -30)]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--scenario", "ICU-03=zombie"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--drop", "2"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--beds", "2", "--devices", "MON-ICU-01"])
    assert main(["--mqtt-url", "mqtt://127.0.0.1:1", "--beds", "2", "--scenario", "ICU-09=sepsis"]) == 2
    assert "ICU-09" in capsys.readouterr().err


def test_importing_the_package_does_no_work():
    code = "import sys, iot_sim; assert 'paho.mqtt.client' not in sys.modules and 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=30)


# -- transport: store and forward and control, without a broker ---------------------------------------------


class FakeClient:
    """Just enough of a paho client for the transport's bookkeeping: records set-up and publishes."""

    def __init__(self, address=None, client_id="", *, persistent=True, on_connect=None, on_message=None):
        self.client_id = client_id
        self.persistent = persistent
        self.on_connect = on_connect
        self.on_message = on_message
        self.on_disconnect = None
        self.will = None
        self.userdata = None
        self.target = None
        self.published: list[tuple[str, bytes, int, bool]] = []
        self.subscribed: list[tuple[str, int]] = []

    def subscribe(self, topic, qos=0):
        self.subscribed.append((topic, qos))

    def will_set(self, topic, payload, qos=0, retain=False):
        self.will = (topic, payload, qos, retain)

    def user_data_set(self, userdata):
        self.userdata = userdata

    def connect_async(self, host, port, keepalive):
        self.target = (host, port, keepalive)

    def want_write(self):
        return False

    def publish(self, topic, payload, qos=0, retain=False):
        self.published.append((topic, payload, qos, retain))
        return SimpleNamespace(is_published=lambda: True, rc=0)


def vitals_seqs(client: FakeClient) -> list[int]:
    return [orjson.loads(p)["seq"] for topic, p, *_ in client.published if "/vitals/" in topic]


def test_each_monitor_has_its_own_connection_with_a_retained_last_will():
    sim = Simulator("mqtt://broker.example:1884", "TEST", demo_devices(2), client_factory=FakeClient)
    device = sim._make_client(sim._links[1])
    assert device.client_id == "pantau-sim-TEST-MON-ICU-02" and device.persistent is False
    assert device.will == ("pantau/v1/TEST/status/MON-ICU-02", b'{"online":false}', 1, True)
    assert device.target == ("broker.example", 1884, 30) and device.userdata is sim._links[1]
    control = sim._make_client(sim._control_link)
    assert control.client_id.startswith("pantau-sim-TEST-control-") and control.on_message is not None
    assert control.will == ("pantau/v1/TEST/sim/state", b'{"online":false}', 1, True)
    # On (re)connect a monitor announces itself online, retained.
    device.on_connect(device, sim._links[1], None, SimpleNamespace(is_failure=False), None)
    topic, payload, qos, retain = device.published[-1]
    assert topic == "pantau/v1/TEST/status/MON-ICU-02" and (qos, retain) == (1, True)
    assert orjson.loads(payload)["online"] is True and sim._links[1].connected
    # ... and listens to its own command topic (resend requests), QoS 1.
    assert device.subscribed == [("pantau/v1/TEST/cmd/MON-ICU-02", 1)] and device.on_message is not None


@pytest.mark.parametrize("burst", [True, False])
def test_burst_queues_while_disconnected_and_flushes_after_reconnect(burst):
    sim = Simulator("mqtt://127.0.0.1:1", "TEST", ["MON-ICU-01"], clock=fake_clock(), burst=burst, control=False)
    link = sim._links[0]
    link.client, link.connected = FakeClient(), True

    def tick():
        sim._send(sim.fleet.tick())

    tick(), tick()
    link.connected = False
    for _ in range(5):
        tick()
    assert vitals_seqs(link.client) == [0, 1]
    link.connected = True
    tick()
    if burst:
        assert vitals_seqs(link.client) == list(range(8))  # the queued five at once, in order, then the new one
        assert sim.stats()["flushed"] == 5 and sim.stats()["lost"] == 0
    else:
        assert vitals_seqs(link.client) == [0, 1, 7]
        assert sim.stats()["lost"] == 5


def test_control_messages_switch_scenarios_and_artefacts():
    sim = Simulator("mqtt://127.0.0.1:1", "TEST", demo_devices(3), clock=fake_clock())
    control = sim._control_link

    def send(payload: bytes) -> None:
        sim._on_message(None, control, SimpleNamespace(topic=sim_control_topic("TEST"), payload=payload))

    send(b'{"bed":"ICU-01","scenario":"opioid"}')
    send(b'{"device":"MON-ICU-03","artefact":"spo2_off","seconds":10}')
    send(b"{")  # ignored (logged)
    send(b'{"bed":"ICU-99","scenario":"sepsis"}')  # unknown bed: ignored (logged)
    assert sim.set_scenario("ICU-02", "arrest") == ["MON-ICU-02"]
    assert sim.scenarios() == {"ICU-01": "opioid", "ICU-02": "arrest", "ICU-03": "stable"}
    with pytest.raises(KeyError):
        sim.set_scenario("ICU-99", "sepsis")
    with pytest.raises(ValueError):
        sim.inject_artefact("ICU-01", "gremlins")
    state = orjson.loads(sim._state_payload(True))
    assert state["online"] is True and state["scenarios"]["ICU-02"] == "arrest" and state["speed"] == 1.0
    assert set(state["artefacts"]) == {"ICU-03"} and "spo2_off" in state["artefacts"]["ICU-03"]
    assert sim._state_dirty
    stream = per_device(vitals(sim.fleet, 12))
    assert all(m["spo2"] is None for m in stream["MON-ICU-03"][:10]) and stream["MON-ICU-03"][-1]["spo2"]
