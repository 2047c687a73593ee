"""ECG (250 Hz) and pleth (125 Hz) waveform chunks from beat templates built once at start-up.

:func:`build_templates` computes a Gaussian-sum PQRST complex (and a P-less one for atrial fibrillation) on a
1 ms grid around the R peak, and a pleth pulse (systolic peak + dicrotic wave) over one beat's phase. Live, a
:class:`WaveGenerator` only places R peaks at the current heart rate (irregularly in AF) and reads the templates
with ``numpy.interp``: the QT part of the complex stretches with √RR, the pleth pulse with the RR interval and
arrives 0.2 s after its R peak. No per-beat model is integrated at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ECG_RATE", "PLETH_RATE", "Templates", "WaveGenerator", "build_templates"]

ECG_RATE = 250  # samples per second
PLETH_RATE = 125
PULSE_TRANSIT = 0.2  # s from R peak to the pulse arriving at the finger
QRS_END = 0.04  # s after R: the part of the complex that does not stretch with the heart rate
LOOKAHEAD = 0.3  # s of beats scheduled beyond the chunk
HISTORY = 2.5  # s of past beats kept
MIN_HR = 2.0  # below this there are no beats at all (asystole)

# (centre s relative to R, amplitude mV, width s)
_PQRST = (
    (-0.14, 0.12, 0.022),  # P
    (-0.022, -0.12, 0.008),  # Q
    (0.0, 1.10, 0.009),  # R
    (0.024, -0.25, 0.009),  # S
    (0.27, 0.30, 0.045),  # T
    (0.33, 0.05, 0.05),  # T tail (asymmetry)
)


@dataclass(frozen=True)
class Templates:
    """Precomputed beat shapes: ECG on ``ecg_grid`` (s around R), pleth on ``pleth_grid`` (beat phase 0–1)."""

    ecg_grid: np.ndarray
    ecg_sinus: np.ndarray
    ecg_af: np.ndarray
    pleth_grid: np.ndarray
    pleth: np.ndarray


def _gaussians(grid: np.ndarray, waves: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    out = np.zeros_like(grid)
    for centre, amplitude, width in waves:
        out += amplitude * np.exp(-0.5 * ((grid - centre) / width) ** 2)
    return out


def build_templates() -> Templates:
    """Build the ECG and pleth templates (a few hundred microseconds; done once when waveforms are enabled)."""
    ecg_grid = np.arange(-0.3, 0.7, 0.001)
    sinus = _gaussians(ecg_grid, _PQRST)
    af = _gaussians(ecg_grid, _PQRST[1:])
    phase = np.linspace(0.0, 1.0, 501)
    pulse = _gaussians(phase, ((0.20, 1.0, 0.075), (0.45, 0.38, 0.09)))
    # A fast upstroke: suppress the part of the systolic Gaussian before its foot.
    pulse *= 1.0 / (1.0 + np.exp(-(phase - 0.08) / 0.02))
    pulse -= pulse[0] + (pulse[-1] - pulse[0]) * phase  # start and end on the baseline
    pulse = np.clip(pulse / pulse.max(), 0.0, 1.0)
    return Templates(ecg_grid, sinus, af, phase, pulse)


class WaveGenerator:
    """One device's continuous ECG and pleth, produced one second at a time."""

    def __init__(self, templates: Templates, rng: np.random.Generator) -> None:
        self._tpl = templates
        self._rng = rng
        self._t = 0.0
        first = -float(rng.uniform(0.2, 0.9))
        self._beats = np.array([first])
        self._next = first + 0.8
        self._wander_phase = float(rng.uniform(0.0, 2.0 * math.pi))
        self._ecg_t = np.arange(ECG_RATE) / ECG_RATE
        self._pleth_t = np.arange(PLETH_RATE) / PLETH_RATE - PULSE_TRANSIT

    def _schedule(self, hr: float, rhythm: str, until: float) -> None:
        if hr < MIN_HR:
            self._next = math.inf
            return
        interval = 60.0 / hr
        self._next = min(self._next, self._beats[-1] + interval)
        new = []
        while self._next < until:
            new.append(self._next)
            if rhythm == "af":
                rr = interval * math.exp(0.22 * self._rng.standard_normal())
            else:
                rr = interval * (1.0 + 0.02 * self._rng.standard_normal())
            self._next += max(rr, 0.25)
        if new:
            self._beats = np.concatenate((self._beats, new))

    def chunk(
        self, hr: float, *, rhythm: str = "sinus", perfusion: float = 1.0, ecg: str = "ok", spo2: str = "ok"
    ) -> tuple[list[float] | None, list[float] | None]:
        """The next second: 250 ECG samples (mV) and 125 pleth samples (0–1), ``None`` for a sensor that is off.

        ``ecg``/``spo2`` are the sensor states (``ok``/``noisy``/``off``); ``perfusion`` scales the pleth.
        """
        t0 = self._t
        self._t = t0 + 1.0
        self._schedule(hr, rhythm, t0 + 1.0 + LOOKAHEAD)
        first_kept = max(0, int(np.searchsorted(self._beats, t0 - HISTORY)) - 1)
        self._beats = self._beats[first_kept:]  # the recent beats and the one before them
        # The earliest kept beat precedes every sample of this chunk, so each sample has a previous beat.
        peaks = np.concatenate((self._beats, (self._next, math.inf)))
        noise = self._rng.standard_normal(ECG_RATE + PLETH_RATE)

        ecg_out = None
        if ecg != "off":
            t = t0 + self._ecg_t
            idx = np.maximum(np.searchsorted(peaks, t, side="right"), 1)
            prev, nxt = peaks[idx - 1], peaks[idx]
            local = t - prev
            stretch = np.clip(np.sqrt(nxt - prev), 0.6, 1.2)
            after = np.where(local > QRS_END, QRS_END + (local - QRS_END) / stretch, local)
            shape = self._tpl.ecg_af if rhythm == "af" else self._tpl.ecg_sinus
            grid = self._tpl.ecg_grid
            wave = np.interp(after, grid, shape, left=0.0, right=0.0)
            wave += np.interp(t - nxt, grid, shape, left=0.0, right=0.0)
            wave += 0.04 * np.sin(2.0 * math.pi * 0.3 * t + self._wander_phase) + 0.012 * noise[:ECG_RATE]
            if rhythm == "af":
                wave += 0.05 * np.sin(2.0 * math.pi * 6.3 * t + 1.7 * np.sin(2.0 * math.pi * 0.7 * t))
            if ecg == "noisy":
                wave += 0.25 * noise[:ECG_RATE] + 0.3 * np.sin(2.0 * math.pi * 1.3 * t + self._wander_phase)
            ecg_out = wave.round(3).tolist()

        pleth_out = None
        if spo2 != "off":
            t = t0 + self._pleth_t
            idx = np.maximum(np.searchsorted(peaks, t, side="right"), 1)
            prev, nxt = peaks[idx - 1], peaks[idx]
            phase = (t - prev) / (nxt - prev)  # 0 when no next beat is coming (asystole)
            wave = np.interp(phase, self._tpl.pleth_grid, self._tpl.pleth, left=0.0, right=0.0)
            wave *= max(0.0, perfusion)
            wave += 0.004 * noise[ECG_RATE:]
            if spo2 == "noisy":
                wave += 0.12 * noise[ECG_RATE:] + 0.2 * np.sin(2.0 * math.pi * 0.9 * t + self._wander_phase)
            pleth_out = wave.round(3).tolist()
        return ecg_out, pleth_out
