"""Simulated adult physiology: per-patient baselines, mean-reverting noise, couplings. Pure numpy, no I/O.

A :class:`Patient` holds six true (unmeasured) values — HR, SpO2, RR, SBP, DBP, temperature — as a baseline
plus an Ornstein–Uhlenbeck deviation per parameter (each with its own time constant and spread; the temperature
deviation is a slow drift). Every :meth:`Patient.step` advances the deviations by ``dt`` simulated seconds with
the exact OU update, applies a scenario's :class:`Effect` and the couplings:

* fever raises HR by ~10/min and RR by ~2.5/min per °C above 37.0 °C;
* hypoxaemia (SpO2 below 94 %) raises HR by 1.5/min and RR by 0.6/min per percent point (scaled by the
  effect's ``hypoxic_drive``; opioids suppress it);
* DBP follows part of the SBP deviation and stays at least 10 mmHg below SBP.

Randomness comes only from the ``numpy.random.Generator`` given to the patient, drawn in fixed-size blocks so
the sequence depends on the seed and the number of steps alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DBP",
    "HR",
    "NEUTRAL",
    "PARAMS",
    "RR",
    "SBP",
    "SPO2",
    "TEMP",
    "Baseline",
    "Effect",
    "Patient",
    "draw_baseline",
    "mean_arterial_pressure",
]

PARAMS = ("hr", "spo2", "rr", "sbp", "dbp", "temp")
HR, SPO2, RR, SBP, DBP, TEMP = range(6)
N_PARAMS = len(PARAMS)

# Ornstein–Uhlenbeck time constants (s) and stationary standard deviations of the deviations from baseline.
OU_TAU = np.array([60.0, 40.0, 45.0, 900.0, 900.0, 7200.0])
OU_SD = np.array([3.0, 0.6, 1.0, 5.0, 2.5, 0.15])
DBP_FOLLOWS_SBP = 0.6  # share of the SBP deviation that DBP follows

FEVER_THRESHOLD = 37.0
FEVER_HR = 10.0  # /min per °C above the threshold
FEVER_RR = 2.5
HYPOXIA_THRESHOLD = 94.0
HYPOXIA_HR = 1.5  # /min per SpO2 point below the threshold
HYPOXIA_RR = 0.6

# True-value limits: anything beyond is not a living (or dying) adult any more.
LOWER = np.array([0.0, 40.0, 0.0, 20.0, 10.0, 32.0])
UPPER = np.array([250.0, 100.0, 60.0, 260.0, 160.0, 42.5])

_BLOCK = 256  # noise rows drawn at once
_NOISE_COLUMNS = 2 * N_PARAMS  # OU innovations + scenario jitter


@dataclass(frozen=True)
class Baseline:
    """A patient's resting values (what the OU noise reverts to)."""

    hr: float
    spo2: float
    rr: float
    sbp: float
    dbp: float
    temp: float

    def as_array(self) -> np.ndarray:
        return np.array([self.hr, self.spo2, self.rr, self.sbp, self.dbp, self.temp])


def _clipped_normal(rng: np.random.Generator, mean: float, sd: float, low: float, high: float) -> float:
    return float(np.clip(rng.normal(mean, sd), low, high))


def draw_baseline(rng: np.random.Generator) -> Baseline:
    """A plausible, stable adult inpatient (NEWS2 0–1): HR 58–88, SpO2 96.5–99.4, RR 13–18, SBP 110–134 with a
    pulse pressure of 40–60 (so MAP stays below the adult alarm limit of 110), temp 36.4–37.2 °C."""
    hr = _clipped_normal(rng, 74.0, 8.0, 58.0, 88.0)
    spo2 = _clipped_normal(rng, 97.6, 0.8, 96.5, 99.4)
    rr = _clipped_normal(rng, 15.0, 1.5, 13.0, 18.0)
    sbp = _clipped_normal(rng, 122.0, 7.0, 110.0, 134.0)
    pulse_pressure = _clipped_normal(rng, 46.0, 6.0, 40.0, 60.0)
    temp = _clipped_normal(rng, 36.8, 0.2, 36.4, 37.2)
    return Baseline(hr=hr, spo2=spo2, rr=rr, sbp=sbp, dbp=sbp - pulse_pressure, temp=temp)


def mean_arterial_pressure(sbp: float, dbp: float) -> float:
    """MAP ≈ DBP + (SBP − DBP) / 3."""
    return dbp + (sbp - dbp) / 3.0


def _zeros() -> np.ndarray:
    return np.zeros(N_PARAMS)


def _ones() -> np.ndarray:
    return np.ones(N_PARAMS)


@dataclass(frozen=True)
class Effect:
    """What a scenario does to the physiology at one moment (arrays indexed by ``HR, SPO2, RR, SBP, DBP, TEMP``).

    ``offset`` is added to the baseline; ``target``/``weight`` then pull the mean towards a value (weight 0 =
    no pull, 1 = the target); ``noise`` scales the OU deviation; ``jitter`` adds white noise of that standard
    deviation (beat-to-beat irregularity); ``hr_range`` clips HR (atrial fibrillation's 110–150);
    ``perfusion`` (0–1) drives the pleth amplitude and SpO2 signal quality; ``rhythm`` selects the ECG shape.
    """

    offset: np.ndarray = field(default_factory=_zeros)
    target: np.ndarray = field(default_factory=_zeros)
    weight: np.ndarray = field(default_factory=_zeros)
    noise: np.ndarray = field(default_factory=_ones)
    jitter: np.ndarray = field(default_factory=_zeros)
    hypoxic_drive: float = 1.0
    perfusion: float = 1.0
    rhythm: str = "sinus"
    hr_range: tuple[float, float] | None = None

    def blend(self, other: Effect, share: float) -> Effect:
        """``share`` of ``other`` mixed into this effect (0 = this, 1 = other); used for scenario switches."""
        if share <= 0.0:
            return self
        if share >= 1.0:
            return other
        keep = 1.0 - share
        weight = keep * self.weight + share * other.weight
        pulled = keep * self.weight * self.target + share * other.weight * other.target
        target = np.divide(pulled, weight, out=np.zeros(N_PARAMS), where=weight > 0)
        return Effect(
            offset=keep * self.offset + share * other.offset,
            target=target,
            weight=weight,
            noise=keep * self.noise + share * other.noise,
            jitter=keep * self.jitter + share * other.jitter,
            hypoxic_drive=keep * self.hypoxic_drive + share * other.hypoxic_drive,
            perfusion=keep * self.perfusion + share * other.perfusion,
            rhythm=other.rhythm if share >= 0.5 else self.rhythm,
            hr_range=other.hr_range if share >= 0.5 else self.hr_range,
        )


NEUTRAL = Effect()
"""No scenario: the patient's own baseline and noise."""


class Patient:
    """One patient's true physiology; :meth:`step` advances it and returns the six true values."""

    def __init__(self, baseline: Baseline, rng: np.random.Generator) -> None:
        self.baseline = baseline
        self._base = baseline.as_array()
        self._rng = rng
        # Start somewhere in the stationary distribution rather than exactly on the baseline.
        self._dev = rng.standard_normal(N_PARAMS) * OU_SD
        self._noise = np.empty((0, _NOISE_COLUMNS))
        self._row = 0
        self._coeff_dt = -1.0
        self._decay = np.ones(N_PARAMS)
        self._spread = np.zeros(N_PARAMS)
        self.values = self._base + self._dev

    def _noise_row(self) -> np.ndarray:
        if self._row >= len(self._noise):
            self._noise = self._rng.standard_normal((_BLOCK, _NOISE_COLUMNS))
            self._row = 0
        row = self._noise[self._row]
        self._row += 1
        return row

    def step(self, dt: float, effect: Effect = NEUTRAL) -> np.ndarray:
        """Advance ``dt`` simulated seconds under ``effect``; return ``[hr, spo2, rr, sbp, dbp, temp]``."""
        if dt != self._coeff_dt:  # exact OU discretisation; dt is constant in practice, so cached
            self._decay = np.exp(-dt / OU_TAU)
            self._spread = OU_SD * np.sqrt(1.0 - self._decay**2)
            self._coeff_dt = dt
        row = self._noise_row()
        dev = self._dev
        dev *= self._decay
        dev += self._spread * row[:N_PARAMS]

        mean = self._base + effect.offset
        temp = mean[TEMP] + dev[TEMP]
        spo2 = min(mean[SPO2] + dev[SPO2], 100.0)
        fever = max(0.0, temp - FEVER_THRESHOLD)
        hypoxia = max(0.0, HYPOXIA_THRESHOLD - spo2) * effect.hypoxic_drive
        mean[HR] += FEVER_HR * fever + HYPOXIA_HR * hypoxia
        mean[RR] += FEVER_RR * fever + HYPOXIA_RR * hypoxia
        mean += effect.weight * (effect.target - mean)

        noisy = dev * effect.noise
        noisy[DBP] += DBP_FOLLOWS_SBP * noisy[SBP]
        values = mean + noisy + effect.jitter * row[N_PARAMS:]
        np.clip(values, LOWER, UPPER, out=values)
        if effect.hr_range is not None:
            values[HR] = min(max(values[HR], effect.hr_range[0]), effect.hr_range[1])
        values[DBP] = min(values[DBP], values[SBP] - 10.0)
        self.values = values
        return values
