"""Validation of a nurse's observation set (what feeds NEWS2 beside the monitor). Pure: values in, errors out."""

from __future__ import annotations

from dataclasses import dataclass

from domain.decimal_input import parse_decimal

ACVPU = ("A", "C", "V", "P", "U")
# Plausible manual readings; outside them the entry is almost certainly a typing error.
MANUAL_RANGES = {
    "rr": (3, 80),
    "spo2": (50, 100),
    "sbp": (40, 280),
    "dbp": (20, 180),
    "hr": (20, 250),
    "temp": (30.0, 43.0),
}


@dataclass(frozen=True)
class ObservationInput:
    on_oxygen: bool | None
    consciousness: str | None
    rr: float | None = None
    spo2: float | None = None
    sbp: float | None = None
    dbp: float | None = None
    hr: float | None = None
    temp: float | None = None


def validate_observation(raw: dict[str, object]) -> tuple[ObservationInput | None, dict[str, tuple[str, dict]]]:
    """Parse form values (``domain.decimal_input``: 36,8 is 36.8); return the observation or, per field, an
    (i18n key, params) error."""
    errors: dict[str, tuple[str, dict]] = {}
    oxygen = raw.get("on_oxygen")
    if oxygen not in ("yes", "no"):
        errors["on_oxygen"] = ("obs_err_oxygen", {})
    consciousness = raw.get("consciousness")
    if consciousness not in ACVPU:
        errors["consciousness"] = ("obs_err_acvpu", {})
    values: dict[str, float | None] = {}
    for name, (low, high) in MANUAL_RANGES.items():
        text = raw.get(name)
        if text is None or not str(text).strip():
            values[name] = None
            continue
        try:
            number = parse_decimal(str(text))
        except ValueError:
            errors[name] = ("obs_err_number", {})
            continue
        if not low <= number <= high:
            errors[name] = ("obs_err_range", {"low": low, "high": high})
        values[name] = number
    sbp, dbp = values.get("sbp"), values.get("dbp")
    if sbp is not None and dbp is not None and "sbp" not in errors and "dbp" not in errors and dbp >= sbp:
        errors["dbp"] = ("obs_err_dbp_above_sbp", {})
    if (sbp is None) != (dbp is None) and "sbp" not in errors and "dbp" not in errors:
        errors["dbp" if dbp is None else "sbp"] = ("obs_err_bp_pair", {})
    if errors:
        return None, errors
    return ObservationInput(on_oxygen=oxygen == "yes", consciousness=str(consciousness), **values), {}
