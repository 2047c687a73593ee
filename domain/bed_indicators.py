"""Bed-use indicators of a ward or hospital over a period (Depkes RI, Barber & Johnson 1973).

- BOR  (bed occupancy rate, %)      = patient days ÷ (beds × days) × 100
- AvLOS (average length of stay)    = days of stay of the patients discharged ÷ patients discharged
- TOI  (turn-over interval, days)   = (beds × days − patient days) ÷ patients discharged
- BTO  (bed turn-over, times)       = patients discharged ÷ beds
- NDR  (net death rate, ‰)          = deaths 48 hours or more after admission ÷ patients discharged × 1000
- GDR  (gross death rate, ‰)        = all deaths ÷ patients discharged × 1000

"Patients discharged" counts the living and the dead. ``beds`` is the average number of beds in service over the
period, so ``beds × days`` is the bed-days available. Each figure is ``None`` where its denominator is 0.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BedIndicators:
    bor: float | None
    avlos: float | None
    toi: float | None
    bto: float | None
    ndr: float | None
    gdr: float | None


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
    return None if not denominator else numerator / denominator * scale


def bed_indicators(
    beds: float, days: int, patient_days: int, discharges: int, los_days: int, deaths: int, deaths_48h: int
) -> BedIndicators:
    """The six indicators; see the module docstring for each formula."""
    if min(beds, days, patient_days, discharges, los_days, deaths, deaths_48h) < 0:
        raise ValueError("bed indicator inputs cannot be negative")
    if deaths_48h > deaths or deaths > discharges:
        raise ValueError("deaths ≥ 48 h ⊆ deaths ⊆ discharges")
    bed_days = beds * days
    return BedIndicators(
        bor=_ratio(patient_days, bed_days, 100.0),
        avlos=_ratio(los_days, discharges),
        toi=_ratio(bed_days - patient_days, discharges),
        bto=_ratio(discharges, beds),
        ndr=_ratio(deaths_48h, discharges, 1000.0),
        gdr=_ratio(deaths, discharges, 1000.0),
    )


def barber_johnson_point(indicators: BedIndicators) -> tuple[float, float] | None:
    """The period's point on a Barber-Johnson chart: (TOI, AvLOS); ``None`` without discharges."""
    if indicators.toi is None or indicators.avlos is None:
        return None
    return indicators.toi, indicators.avlos
