"""The message-generation layer: simulated bedside monitors and the MQTT messages they send. No I/O, no threads.

A :class:`Fleet` owns one :class:`Monitor` per device. Each :meth:`Fleet.tick` advances every monitor by one
sample period (``1 / rate`` device seconds, ``speed / rate`` simulated seconds) and returns the
:class:`Outgoing` messages of that tick: numerics (after the transport faults), waveform chunks and status
changes. Device time is counted in ticks, so the payloads depend only on the seed, the inputs and the number of
ticks; the ``clock`` (epoch seconds, injectable) only stamps ``ts``.

Topics and payloads follow DESIGN.md §3 exactly (``pantau/v1/{site}/vitals|status|wave/{device_id}``).
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import numpy as np
import orjson

from data.mqtt_topics import status_topic, vitals_topic, wave_topic
from data.simulator_commands import ARTEFACTS, CLEAR_ARTEFACTS
from iot_sim.faults import FaultLine, Faults
from iot_sim.physiology import DBP, HR, RR, SBP, SPO2, TEMP, Patient, draw_baseline
from iot_sim.scenarios import ScenarioState, normalise_scenario
from iot_sim.trend_memory import Numerics, TrendMemory, encode
from iot_sim.waveforms import Templates, WaveGenerator, build_templates

__all__ = [
    "DEMO_BEDS_PER_WARD",
    "DEMO_WARDS",
    "Fleet",
    "Monitor",
    "Outgoing",
    "bed_for_device",
    "demo_beds",
    "demo_devices",
    "device_for_bed",
]

# The demo hospital of data/seed.py: wards ICU and MEL with 16 beds each, monitor MON-<bed> in every bed.
DEMO_WARDS = ("ICU", "MEL")
DEMO_BEDS_PER_WARD = 16
DEVICE_PREFIX = "MON-"
EXTRA_WARD = "SIM"  # beds beyond the 32 demo beds (benchmarks): SIM-033, SIM-034, ...

DEFAULT_NIBP_INTERVAL = 300.0
DEFAULT_TREND_MEMORY = 3600.0  # s of numerics a monitor keeps and can resend
FIRST_NIBP_WITHIN = 30.0  # s: every bed's first cuff reading comes within this, staggered
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SENSOR_BLOCK = 256
_SENSOR_COLUMNS = 12

# Battery: drains 1 % per 10 min on battery; at 20 % the monitor goes on charge, +1 % per 2 min up to 100 %.
BATTERY_DRAIN = 1.0 / 600.0
BATTERY_CHARGE = 1.0 / 120.0
BATTERY_LOW = 20.0


class Outgoing(NamedTuple):
    """One MQTT message to publish; ``device`` is the monitor's index in the fleet."""

    device: int
    kind: str  # "vitals" | "wave" | "status"
    topic: str
    payload: bytes
    qos: int
    retain: bool


def demo_beds(count: int | None = None) -> list[str]:
    """The demo beds in order (ICU-01..ICU-16, MEL-01..MEL-16); beyond 32, SIM-033, SIM-034, ..."""
    beds = [f"{ward}-{n:02d}" for ward in DEMO_WARDS for n in range(1, DEMO_BEDS_PER_WARD + 1)]
    if count is None:
        return beds
    if count < 1:
        raise ValueError("the number of beds must be at least 1")
    beds.extend(f"{EXTRA_WARD}-{n:03d}" for n in range(len(beds) + 1, count + 1))
    return beds[:count]


def device_for_bed(bed: str) -> str:
    """``ICU-03`` → ``MON-ICU-03``."""
    return f"{DEVICE_PREFIX}{bed}"


def bed_for_device(device_id: str) -> str:
    """``MON-ICU-03`` → ``ICU-03`` (a device id without the ``MON-`` prefix names its own bed)."""
    return device_id[len(DEVICE_PREFIX) :] if device_id.startswith(DEVICE_PREFIX) else device_id


def demo_devices(count: int | None = None) -> list[str]:
    """Device ids of the demo monitors (``MON-ICU-01``, ...)."""
    return [device_for_bed(bed) for bed in demo_beds(count)]


def _check_id(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(f"{kind} {value!r} must be 1-64 characters of A-Z a-z 0-9 _ -")
    return value


def _rounded(value: float) -> int:
    return math.floor(value + 0.5)


class Monitor:
    """One simulated bedside monitor: a patient, a scenario, sensors with artefacts, a clock and a counter."""

    def __init__(
        self,
        index: int,
        device_id: str,
        site: str,
        *,
        seed: int,
        rate: float,
        speed: float,
        nibp_interval: float,
        faults: Faults,
        templates: Templates | None,
        skew_seconds: float = 0.0,
        scenario: str = "stable",
        memory: float = DEFAULT_TREND_MEMORY,
    ) -> None:
        self.index = index
        self.device_id = device_id
        self.bed = bed_for_device(device_id)
        self.topic_vitals = vitals_topic(site, device_id)
        self.topic_status = status_topic(site, device_id)
        self.topic_wave = wave_topic(site, device_id)
        streams = np.random.SeedSequence([seed, zlib.crc32(device_id.encode())]).spawn(6)
        physiology, sensors, scenarios, waves, transport, reboot = (np.random.default_rng(s) for s in streams)
        self.patient = Patient(draw_baseline(physiology), physiology)
        self.scenario = ScenarioState(scenarios, scenario)
        self._sensors = sensors
        self._noise = np.empty((0, _SENSOR_COLUMNS))
        self._row = 0
        self._period = 1.0 / rate
        self._dt_sim = speed / rate
        self.t_dev = 0.0  # device seconds at the last tick
        self.t_sim = 0.0  # simulated physiological seconds at the last tick
        self.seq = 0
        self.wave_seq = 0
        self.skew_ms = _rounded(skew_seconds * 1000.0)
        self.nibp_interval = nibp_interval
        self._nibp_next = float(sensors.uniform(0.0, min(nibp_interval, FIRST_NIBP_WITHIN)))
        self.battery = float(sensors.uniform(55.0, 100.0))
        self._charging = False
        self.reported_battery = _rounded(self.battery)
        self.artefacts: dict[str, float] = {}  # kind -> device time it ends
        self.faults = FaultLine(faults, transport)
        self._reboot_every = faults.reboot_every
        self._reboot_phase = float(reboot.uniform(0.0, faults.reboot_every)) if faults.reboot_every else 0.0
        self.reboots = 0
        self._waves = WaveGenerator(templates, waves) if templates is not None else None
        self._wave_due = -self._period  # the first chunk covers the first second, sent one second in
        self.last_true: list[float] = self.patient.values.tolist()
        capacity = math.ceil(memory * rate)
        self.memory = TrendMemory(capacity) if capacity > 0 else None  # the last ``memory`` seconds of numerics

    # -- control -------------------------------------------------------------------------------------------

    def set_scenario(self, name: str) -> None:
        """Start scenario ``name`` now (simulated time of the last tick)."""
        self.scenario.switch(name, self.t_sim)

    def inject_artefact(self, kind: str, seconds: float) -> None:
        """Add artefact ``kind`` for ``seconds`` of device time (``seconds <= 0`` ends it; ``none`` ends all)."""
        kind = kind.strip().lower()
        if kind in CLEAR_ARTEFACTS:
            self.artefacts.clear()
            return
        if kind not in ARTEFACTS:
            raise ValueError(f"unknown artefact {kind!r}; known: {', '.join(ARTEFACTS)}, none")
        if not math.isfinite(seconds):
            raise ValueError("artefact seconds must be finite")
        if seconds <= 0:
            self.artefacts.pop(kind, None)
        else:
            self.artefacts[kind] = self.t_dev + seconds

    def status_payload(self, online: bool) -> bytes:
        """``{"online":…, "battery":…}`` for the retained status topic."""
        return orjson.dumps({"online": online, "battery": self.reported_battery})

    # -- one tick ------------------------------------------------------------------------------------------

    def _sensor_row(self) -> list[float]:
        if self._row >= len(self._noise):
            self._noise = self._sensors.standard_normal((_SENSOR_BLOCK, _SENSOR_COLUMNS))
            self._row = 0
        row = self._noise[self._row]
        self._row += 1
        return row.tolist()

    def _advance_battery(self) -> bool:
        if self._charging:
            self.battery = min(100.0, self.battery + BATTERY_CHARGE * self._period)
            self._charging = self.battery < 100.0
        else:
            self.battery = max(0.0, self.battery - BATTERY_DRAIN * self._period)
            self._charging = self.battery <= BATTERY_LOW
        level = _rounded(self.battery)
        if level != self.reported_battery:
            self.reported_battery = level
            return True
        return False

    def tick(self, k: int, now_ms: int) -> tuple[bytes, list[bytes], bytes | None]:
        """Tick ``k`` (0, 1, 2, ...) at clock ``now_ms``: the numerics payload, waveform chunks, a status change."""
        previous_dev = self.t_dev
        self.t_dev = t_dev = k * self._period
        self.t_sim = k * self._dt_sim
        ts = now_ms + self.skew_ms

        if self._reboot_every and k > 0:
            every, phase = self._reboot_every, self._reboot_phase
            if math.floor((t_dev + phase) / every) > math.floor((previous_dev + phase) / every):
                self.seq = 0
                self.wave_seq = 0
                self.reboots += 1

        effect = self.scenario.effect(self.t_sim)
        true = self.patient.step(self._dt_sim, effect).tolist()
        self.last_true = true
        n = self._sensor_row()

        if self.artefacts:
            for kind in [kind for kind, until in self.artefacts.items() if t_dev > until + 1e-9]:
                del self.artefacts[kind]
        active = self.artefacts

        hr = true[HR] + 0.8 * n[0]
        if effect.hr_range is not None:  # atrial fibrillation's 110-150 holds for the displayed value too
            hr = min(max(hr, effect.hr_range[0]), effect.hr_range[1])
        spo2 = true[SPO2] + 0.3 * n[1]
        rr = true[RR] + 0.6 * n[2]
        temp = true[TEMP] + 0.03 * n[3]
        sqi_ecg = 0.97 + 0.012 * n[4]
        sqi_spo2 = (0.96 + 0.012 * n[5]) * (0.4 + 0.6 * effect.perfusion)
        st_ecg = st_spo2 = "ok"
        if active:
            if "noisy" in active:
                hr += 4.0 * n[6]
                spo2 += 1.5 * n[7]
                sqi_ecg = 0.58 + 0.05 * n[8]
                sqi_spo2 = min(sqi_spo2, 0.58 + 0.05 * n[9])
                st_ecg = st_spo2 = "noisy"
            if "motion" in active:
                hr += 9.0 * n[6]
                spo2 -= abs(3.0 * n[7])
                sqi_ecg = 0.35 + 0.06 * n[8]
                sqi_spo2 = min(sqi_spo2, 0.3 + 0.06 * n[9])
                st_ecg = st_spo2 = "noisy"
            if "low_perfusion" in active:
                spo2 += -1.0 + 2.5 * n[10]
                sqi_spo2 = min(sqi_spo2, 0.25 + 0.05 * n[9])
                st_spo2 = "noisy"

        hr_v = None if "leads_off" in active else min(max(_rounded(hr), 0), 300)
        rr_v = None if "leads_off" in active else min(max(_rounded(rr), 0), 100)  # impedance RR uses the leads
        spo2_v = None if "spo2_off" in active else min(max(_rounded(spo2), 0), 100)
        if hr_v is None:
            st_ecg, sqi_ecg = "off", 0.0
        if spo2_v is None:
            st_spo2, sqi_spo2 = "off", 0.0

        sbp_v = dbp_v = map_v = None
        if t_dev >= self._nibp_next:
            self._nibp_next += self.nibp_interval * max(1, math.ceil((t_dev - self._nibp_next) / self.nibp_interval))
            sbp = true[SBP] + 3.0 * n[11]
            dbp = min(true[DBP] + 2.0 * n[11] + 1.5 * n[10], sbp - 10.0)
            sbp_v = min(max(_rounded(sbp), 20), 300)
            dbp_v = min(max(_rounded(dbp), 10), sbp_v - 5)
            map_v = _rounded(dbp_v + (sbp_v - dbp_v) / 3.0)

        numerics = Numerics(
            self.seq,
            ts,
            hr_v,
            spo2_v,
            rr_v,
            sbp_v,
            dbp_v,
            map_v,
            round(min(max(temp, 25.0), 45.0), 1),
            round(min(max(sqi_ecg, 0.0), 1.0), 2),
            round(min(max(sqi_spo2, 0.0), 1.0), 2),
            st_ecg,
            st_spo2,
        )
        payload = encode(self.device_id, numerics)
        if self.memory is not None:
            self.memory.append(numerics)  # before the transport faults: a dropped message can be resent
        self.seq += 1

        waves: list[bytes] = []
        if self._waves is not None:
            self._wave_due += self._period
            chunks = int(self._wave_due + 1e-9)
            self._wave_due -= chunks
            for j in range(chunks):
                ecg, pleth = self._waves.chunk(
                    true[HR], rhythm=effect.rhythm, perfusion=effect.perfusion, ecg=st_ecg, spo2=st_spo2
                )
                chunk_ts = ts - 1000 * (chunks - j)
                waves.append(orjson.dumps({"seq": self.wave_seq, "ts": chunk_ts, "ecg": ecg, "pleth": pleth}))
                self.wave_seq += 1

        status = self.status_payload(True) if self._advance_battery() else None
        return payload, waves, status


class Fleet:
    """Every simulated monitor of one site, stepped together; the pure core of the simulator.

    ``devices``: device ids (default: every demo bed's monitor); ``scenarios``: bed code or device id → scenario
    at start; ``speed``: simulated seconds per device second; ``rate``: messages per second per device;
    ``clock``: epoch seconds for ``ts`` (default :func:`time.time`); ``memory``: seconds of numerics each monitor
    keeps to answer :meth:`resend` (0 = none). Not thread-safe: one caller at a time.
    """

    def __init__(
        self,
        site: str,
        devices: Iterable[str] | None = None,
        *,
        seed: int = 1,
        speed: float = 1.0,
        rate: float = 1.0,
        nibp_interval: float = DEFAULT_NIBP_INTERVAL,
        waveforms: bool = False,
        faults: Faults | None = None,
        scenarios: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        memory: float = DEFAULT_TREND_MEMORY,
    ) -> None:
        self.site = _check_id("site", site)
        ids = list(devices) if devices is not None else demo_devices()
        if not ids:
            raise ValueError("at least one device is needed")
        for device_id in ids:
            _check_id("device id", device_id)
        if len(set(ids)) != len(ids):
            raise ValueError("device ids must be unique")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError("seed must be a non-negative integer")
        for name, value in (("speed", speed), ("rate", rate), ("nibp_interval", nibp_interval)):
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive number, not {value!r}")
        if not (memory >= 0 and math.isfinite(memory)):
            raise ValueError(f"memory must be a number of seconds (0 = none), not {memory!r}")
        self.seed = seed
        self.speed = float(speed)
        self.rate = float(rate)
        self.nibp_interval = float(nibp_interval)
        self.faults = faults or Faults()
        self.clock = clock
        self.templates = build_templates() if waveforms else None
        self.ticks = 0
        self.monitors = [
            Monitor(
                i,
                device_id,
                self.site,
                seed=seed,
                rate=self.rate,
                speed=self.speed,
                nibp_interval=self.nibp_interval,
                faults=self.faults,
                templates=self.templates,
                memory=memory,
            )
            for i, device_id in enumerate(ids)
        ]
        self._by_name: dict[str, list[int]] = {}
        for m in self.monitors:
            self._by_name.setdefault(m.device_id.upper(), []).append(m.index)
            if m.bed.upper() != m.device_id.upper():
                self._by_name.setdefault(m.bed.upper(), []).append(m.index)
        for who, seconds in self.faults.clock_skew.items():
            for i in self.resolve(who):
                self.monitors[i].skew_ms = _rounded(seconds * 1000.0)
        for who, name in (scenarios or {}).items():
            self.set_scenario(who, name)

    @property
    def device_ids(self) -> list[str]:
        return [m.device_id for m in self.monitors]

    @property
    def waveforms(self) -> bool:
        return self.templates is not None

    def resolve(self, who: str) -> list[int]:
        """Indexes of the monitors named by a bed code or device id (any case); ``*``/``all`` = every monitor."""
        key = (who or "").strip().upper()
        if key in ("*", "ALL"):
            return list(range(len(self.monitors)))
        found = self._by_name.get(key)
        if not found:
            raise KeyError(f"no simulated monitor for bed or device {who!r}")
        return list(found)

    def set_scenario(self, who: str, name: str) -> list[str]:
        """Switch the bed(s)/device(s) ``who`` to scenario ``name``; returns the device ids switched."""
        name = normalise_scenario(name)
        indexes = self.resolve(who)
        for i in indexes:
            self.monitors[i].set_scenario(name)
        return [self.monitors[i].device_id for i in indexes]

    def inject_artefact(self, who: str, kind: str, seconds: float = 30.0) -> list[str]:
        """Add artefact ``kind`` to ``who`` for ``seconds`` device seconds; returns the device ids affected."""
        indexes = self.resolve(who)
        for i in indexes:
            self.monitors[i].inject_artefact(kind, seconds)
        return [self.monitors[i].device_id for i in indexes]

    def scenarios(self) -> dict[str, str]:
        """Bed code → the scenario it runs."""
        return {m.bed: m.scenario.name for m in self.monitors}

    def tick(self) -> list[Outgoing]:
        """Advance every monitor by one sample period; the messages to publish now, in order."""
        k = self.ticks
        self.ticks += 1
        now_ms = _rounded(self.clock() * 1000.0)
        out: list[Outgoing] = []
        append = out.append
        transport = self.faults.transport
        for m in self.monitors:
            payload, waves, status = m.tick(k, now_ms)
            i = m.index
            if status is not None:
                append(Outgoing(i, "status", m.topic_status, status, 1, True))
            if transport:
                for p in m.faults.apply(payload):
                    append(Outgoing(i, "vitals", m.topic_vitals, p, 1, False))
            else:
                append(Outgoing(i, "vitals", m.topic_vitals, payload, 1, False))
            for w in waves:
                append(Outgoing(i, "wave", m.topic_wave, w, 0, False))
        return out

    def status(self, index: int, online: bool) -> Outgoing:
        """The retained status message of monitor ``index``."""
        m = self.monitors[index]
        return Outgoing(index, "status", m.topic_status, m.status_payload(online), 1, True)

    def resend(self, index: int, from_seq: int, to_seq: int) -> list[Outgoing]:
        """Monitor ``index``'s remembered numerics with ``from_seq <= seq <= to_seq``, as published the first time
        (a ``resend`` command; no transport faults apply)."""
        m = self.monitors[index]
        if m.memory is None:
            return []
        return [
            Outgoing(index, "vitals", m.topic_vitals, encode(m.device_id, n), 1, False)
            for n in m.memory.between(from_seq, to_seq)
        ]

    def flush(self) -> list[Outgoing]:
        """Messages still held back by the reorder fault (publish them before going offline)."""
        return [
            Outgoing(m.index, "vitals", m.topic_vitals, p, 1, False) for m in self.monitors for p in m.faults.flush()
        ]
