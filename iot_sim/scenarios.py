"""Clinical scenarios: what happens to a bed's physiology over (simulated) time.

Each scenario maps the simulated seconds since it started to an :class:`~iot_sim.physiology.Effect`. Durations
are simulated time; ``--speed`` compresses them (sepsis takes 4 h at speed 1, 4 min at speed 60).

| name | course |
|---|---|
| ``stable`` | the patient's own baseline |
| ``sepsis`` | over 4 h: temp +2.4 °C, HR +18 (+ fever coupling), RR → 26, SBP → 86, SpO2 −4 (NEWS2 0–1 → ≥ 7) |
| ``haemorrhage`` | over 15 min: HR +50, SBP → 78, DBP → 45, RR +8, perfusion ↓ |
| ``bradycardia`` | over 90 s: HR → 34–42, SBP −12 |
| ``opioid`` | over 10 min: RR → 6–8, no hypoxic drive, SpO2 −9, HR −8 (consciousness is not measured) |
| ``af`` | over 20 s: irregular HR 110–150 (no P waves on the ECG) |
| ``arrest`` | HR → 0 within 4 s (ECG status stays ok), perfusion lost, SpO2 falls ~1 %/s, RR → 0, SBP → 35 |

Switching scenario blends the previous course into the new one with a time constant of 15 simulated seconds
(so, for example, ``arrest`` → ``stable`` recovers over about a minute); ``arrest`` and ``af`` start at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from data.simulator_commands import SCENARIOS
from iot_sim.physiology import DBP, HR, N_PARAMS, NEUTRAL, RR, SBP, SPO2, TEMP, Effect

__all__ = ["ALIASES", "COURSES", "ScenarioState", "normalise_scenario", "scenario_effect"]

SWITCH_TAU = 15.0  # simulated seconds over which a switch blends in
SUDDEN = frozenset({"arrest", "af"})  # acute events start at once, without the blend

SEPSIS_DURATION = 4 * 3600.0
HAEMORRHAGE_DURATION = 15 * 60.0
BRADYCARDIA_DURATION = 90.0
OPIOID_DURATION = 10 * 60.0
AF_ONSET = 20.0
ARREST_HR_SECONDS = 4.0

ALIASES = {"hemorrhage": "haemorrhage", "bleeding": "haemorrhage", "normal": "stable", "asystole": "arrest"}


def _ramp(t: float, duration: float) -> float:
    """0 → 1 over ``duration`` with a smooth start and end."""
    x = min(max(t / duration, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def _vec(**values: float) -> np.ndarray:
    out = np.zeros(N_PARAMS)
    index = {"hr": HR, "spo2": SPO2, "rr": RR, "sbp": SBP, "dbp": DBP, "temp": TEMP}
    for name, value in values.items():
        out[index[name]] = value
    return out


def _stable(t: float, params: dict[str, float]) -> Effect:
    return NEUTRAL


def _sepsis(t: float, params: dict[str, float]) -> Effect:
    p = _ramp(t, SEPSIS_DURATION)
    return Effect(
        offset=_vec(hr=18.0 * p, spo2=-4.0 * p, temp=2.4 * p),
        target=_vec(rr=26.0, sbp=86.0, dbp=50.0),
        weight=_vec(rr=p, sbp=p, dbp=p),
        perfusion=1.0 - 0.3 * p,
    )


def _haemorrhage(t: float, params: dict[str, float]) -> Effect:
    p = _ramp(t, HAEMORRHAGE_DURATION)
    return Effect(
        offset=_vec(hr=50.0 * p, rr=8.0 * p, spo2=-2.0 * p, temp=-0.3 * p),
        target=_vec(sbp=78.0, dbp=45.0),
        weight=_vec(sbp=p, dbp=p),
        perfusion=1.0 - 0.6 * p,
    )


def _bradycardia(t: float, params: dict[str, float]) -> Effect:
    p = _ramp(t, BRADYCARDIA_DURATION)
    return Effect(
        offset=_vec(sbp=-12.0 * p, dbp=-6.0 * p),
        target=_vec(hr=params["hr"]),
        weight=_vec(hr=p),
        noise=_vec(hr=1.0 - 0.6 * p, spo2=1.0, rr=1.0, sbp=1.0, dbp=1.0, temp=1.0),
    )


def _opioid(t: float, params: dict[str, float]) -> Effect:
    p = _ramp(t, OPIOID_DURATION)
    return Effect(
        offset=_vec(spo2=-9.0 * p, hr=-8.0 * p, sbp=-10.0 * p, dbp=-5.0 * p),
        target=_vec(rr=params["rr"]),
        weight=_vec(rr=p),
        noise=_vec(hr=1.0, spo2=1.0, rr=1.0 - 0.7 * p, sbp=1.0, dbp=1.0, temp=1.0),
        hypoxic_drive=1.0 - p,
    )


def _af(t: float, params: dict[str, float]) -> Effect:
    p = _ramp(t, AF_ONSET)
    return Effect(
        offset=_vec(sbp=-8.0 * p, dbp=-4.0 * p),
        target=_vec(hr=params["hr"]),
        weight=_vec(hr=p),
        jitter=_vec(hr=9.0 * p, sbp=4.0 * p),
        rhythm="af" if p >= 0.5 else "sinus",
        hr_range=(110.0, 150.0) if p >= 1.0 else None,
    )


def _arrest(t: float, params: dict[str, float]) -> Effect:
    w_hr = min(1.0, t / ARREST_HR_SECONDS)
    w_rr = min(1.0, t / 15.0)
    w_bp = min(1.0, t / 10.0)
    spo2_fall = min(45.0, max(0.0, t - 3.0) * 1.0)
    return Effect(
        offset=_vec(spo2=-spo2_fall),
        target=_vec(hr=0.0, rr=0.0, sbp=35.0, dbp=15.0),
        weight=_vec(hr=w_hr, rr=w_rr, sbp=w_bp, dbp=w_bp),
        noise=_vec(hr=1.0 - 0.9 * w_hr, spo2=1.0, rr=1.0 - 0.9 * w_rr, sbp=1.0, dbp=1.0, temp=1.0),
        hypoxic_drive=0.0,
        perfusion=max(0.0, 1.0 - t / ARREST_HR_SECONDS),
        rhythm="sinus",
    )


# Each scenario's course, in the order of its name in SCENARIOS (each function is named after its scenario).
COURSES: dict[str, Callable[[float, dict[str, float]], Effect]] = dict(
    zip(SCENARIOS, (_stable, _sepsis, _haemorrhage, _bradycardia, _opioid, _af, _arrest), strict=True)
)


def normalise_scenario(name: str) -> str:
    """The canonical scenario name (``"Hemorrhage"`` → ``"haemorrhage"``); ``ValueError`` when unknown."""
    key = (name or "").strip().lower()
    key = ALIASES.get(key, key)
    if key not in COURSES:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return key


def _draw_params(name: str, rng: np.random.Generator) -> dict[str, float]:
    """Per-bed particulars of a scenario (the target HR of this patient's AF, and so on)."""
    if name == "bradycardia":
        return {"hr": float(rng.uniform(34.0, 42.0))}
    if name == "opioid":
        return {"rr": float(rng.uniform(6.2, 7.8))}
    if name == "af":
        return {"hr": float(rng.uniform(120.0, 140.0))}
    return {}


def scenario_effect(name: str, t: float, params: dict[str, float] | None = None) -> Effect:
    """The effect of scenario ``name`` ``t`` simulated seconds after it started."""
    return COURSES[name](t, params or {})


class ScenarioState:
    """The scenario one bed runs, its start time and the blend-in from the previous one."""

    def __init__(self, rng: np.random.Generator, name: str = "stable") -> None:
        self._rng = rng
        self.name = normalise_scenario(name)
        self.params = _draw_params(self.name, rng)
        self.started = 0.0
        self._previous: Effect | None = None
        self._last: Effect = NEUTRAL

    def switch(self, name: str, now: float) -> None:
        """Start scenario ``name`` at simulated time ``now`` (restarts it when it is already running)."""
        name = normalise_scenario(name)
        sudden = name in SUDDEN
        self._previous = self._last if self._last is not NEUTRAL and not sudden else None
        self.name = name
        self.params = _draw_params(name, self._rng)
        self.started = now

    def effect(self, now: float) -> Effect:
        """The effect at simulated time ``now``."""
        elapsed = max(0.0, now - self.started)
        current = COURSES[self.name](elapsed, self.params)
        if self._previous is not None:
            share = 1.0 - math.exp(-elapsed / SWITCH_TAU)
            if share > 0.999:
                self._previous = None
            else:
                current = self._previous.blend(current, share)
        self._last = current
        return current
