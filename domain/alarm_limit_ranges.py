"""How far a bed's alarm limits may be moved: the adjustable range per parameter, the smallest gap between a
low and a high limit, and when a change widens a limit past the unit profile (it then needs a reason).

Pure: values in, errors out. A limit outside these ranges is a typing error or an alarm switched off in effect
(HR 0 – 1,000,000,000 never alarms), so it is refused rather than saved.

Source of the ranges: Philips IntelliVue MX/MP series patient monitors, Instructions for Use, "Specifications →
Measurement specifications", adjustable alarm ranges for adult patients: HR 15–300 bpm; SpO2 50–100 %;
Resp 0–100 rpm; NBP systolic 30–270, diastolic 10–245, mean 20–255 mmHg; temperature −1–45 °C. One deviation:
an RR low limit of 0 could never alarm (a rate is never below 0), so Pantau's lowest RR low limit is 1 rpm.

The minimum gap is twice the engine's clearing margin (``domain.alarms.CLEAR_MARGIN``): a value must be back
inside a limit by that margin before its alarm clears, so a narrower gap would leave no value at which the bed is
clear of both its low and its high alarm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from domain.alarms import CLEAR_MARGIN, PARAMETERS, Bounds, Limits
from domain.errors import InputError
from domain.free_text import readable

Side = Literal["low", "high"]
SIDES: tuple[Side, Side] = ("low", "high")
LimitField = tuple[str, Side]  # ("hr", "high")
FieldError = tuple[str, dict[str, object]]  # (i18n key, params)
REASON_MAX = 200  # characters of the reason a widened limit needs


@dataclass(frozen=True)
class AdjustableRange:
    """Both limits of a parameter lie in ``lowest``–``highest`` and at least ``min_gap`` apart."""

    lowest: float
    highest: float
    min_gap: float
    unit: str


def _range(param: str, lowest: float, highest: float, unit: str) -> AdjustableRange:
    return AdjustableRange(lowest, highest, round(2 * CLEAR_MARGIN[param], 3), unit)


ADJUSTABLE: dict[str, AdjustableRange] = {
    "hr": _range("hr", 15, 300, "/min"),
    "spo2": _range("spo2", 50, 100, "%"),
    "rr": _range("rr", 1, 100, "/min"),
    "sbp": _range("sbp", 30, 270, "mmHg"),
    "dbp": _range("dbp", 10, 245, "mmHg"),
    "map": _range("map", 20, 255, "mmHg"),
    "temp": _range("temp", -1, 45, "°C"),
}


class LimitsRefused(InputError):
    """One or more limits cannot be saved; ``fields`` says why, per (parameter, side)."""

    def __init__(self, fields: dict[LimitField, FieldError]) -> None:
        super().__init__("limits_fix_errors")
        self.fields = fields


class ReasonRequired(InputError):
    """The change widens ``widened`` past the unit profile: it needs a confirmation and a reason."""

    def __init__(self, widened: tuple[LimitField, ...], key: str = "limits_err_reason", **params: object) -> None:
        super().__init__(key, **params)
        self.widened = widened


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def check_overrides(base: Limits, wanted: Mapping[str, Bounds]) -> dict[LimitField, FieldError]:
    """Per field, why a wanted limit cannot be saved (empty when all can); ``None`` on a side = the profile's."""
    errors: dict[LimitField, FieldError] = {}
    for param, bounds in wanted.items():
        if param not in ADJUSTABLE:
            raise InputError("limits_err_parameter", name=param)
        spec = ADJUSTABLE[param]
        given: dict[Side, float] = {}
        for side, raw in zip(SIDES, bounds, strict=True):
            if raw is None:
                continue
            value = _number(raw)
            if value is None:
                errors[(param, side)] = ("limits_err_number", {})
            elif not spec.lowest <= value <= spec.highest:
                errors[(param, side)] = (
                    "limits_err_range",
                    {"low": float(spec.lowest), "high": float(spec.highest), "unit": spec.unit},
                )
            else:
                given[side] = value
        if len(given) != sum(raw is not None for raw in bounds):
            continue  # report the gap only once both sides are valid numbers
        low = given.get("low", base[param][0])
        high = given.get("high", base[param][1])
        if low is not None and high is not None and high - low < spec.min_gap:
            message = ("limits_err_gap", {"gap": float(spec.min_gap), "unit": spec.unit})
            for side in given:
                errors[(param, side)] = message
    return errors


def widened_limits(base: Limits, wanted: Mapping[str, Bounds]) -> tuple[LimitField, ...]:
    """The limits that ``wanted`` moves past the profile: a low below the profile's, a high above it."""
    out: list[LimitField] = []
    for param in PARAMETERS:
        low, high = wanted.get(param, (None, None))
        base_low, base_high = base[param]
        if low is not None and base_low is not None and low < base_low:
            out.append((param, "low"))
        if high is not None and base_high is not None and high > base_high:
            out.append((param, "high"))
    return tuple(out)


def validate_overrides(base: Limits, wanted: Mapping[str, Bounds], reason: str | None) -> str:
    """Refuse limits outside the adjustable ranges, and a widening without a reason; return the reason, trimmed.

    Raises :class:`LimitsRefused` (per field) or :class:`ReasonRequired` (``reason`` missing, empty or too long
    while a limit is widened)."""
    errors = check_overrides(base, wanted)
    if errors:
        raise LimitsRefused(errors)
    widened = widened_limits(base, wanted)
    text = (reason or "").strip()
    if widened and not readable(text):
        raise ReasonRequired(widened)
    if len(text) > REASON_MAX:
        raise ReasonRequired(widened, "limits_err_reason_long", n=REASON_MAX)
    return text
