"""NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017), DESIGN §5.

Source: Royal College of Physicians. *National Early Warning Score (NEWS) 2: Standardising the assessment of
acute-illness severity in the NHS.* Updated report of a working party. London: RCP, 2017 — chart 1 (scoring
table), chart 2 (SpO2 scale 2), table 1 (clinical response).

The scoring table is data (:class:`ScoringTable`): many hospitals run a local early-warning score, stored as
JSON with :meth:`ScoringTable.to_dict` / :meth:`ScoringTable.from_dict`. :data:`NEWS2` is the RCP 2017 table.

Rounding (DESIGN §5): HR, RR, SBP and SpO2 are rounded to whole numbers and temperature to 0.1 °C before
banding, **half up** (90.5 → 91, 38.05 → 38.1), not Python's ``round`` (banker's rounding: 90.5 → 90). A float is
rounded as the decimal number it prints as (``38.05`` is 38.05, although the nearest binary double is a hair
below it), so what the nurse sees is what is scored.

Who is scored: the RCP report sets NEWS2 for patients aged 16 and over, and not in pregnancy (it is not validated
there). :func:`scored_from_at` gives the moment a patient turns 16, and never on a maternity ward (the ward's kind
stands for pregnancy) or for a stay a nurse, midwife or doctor recorded as pregnant or postpartum (``obstetric``);
before it the clinical step shows NEWS2 as not applicable (:data:`NOT_APPLICABLE`) and raises no NEWS2 alarm.

Missing values (``None``) make the score *incomplete*: ``total`` then sums what is known, ``risk`` is ``None``.
Impossible values (HR 900, SpO2 120, negative, NaN) are programming errors here — the consumer rejects them
earlier — and raise ``ValueError``; values of the wrong type raise ``TypeError``.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

Band = tuple[float | None, float | None, int]
"""``(low_inclusive, high_inclusive, points)``; ``None`` is an open end."""

CONSCIOUSNESS_LEVELS: tuple[str, ...] = ("A", "C", "V", "P", "U")
"""ACVPU: alert, new confusion, responds to voice, responds to pain, unresponsive."""

BANDED_PARAMETERS: tuple[str, ...] = ("rr", "spo2_scale1", "spo2_scale2_air", "spo2_scale2_oxygen", "sbp", "hr", "temp")
"""The numeric parameters of a :class:`ScoringTable`, each a list of bands."""

DECIMALS: Mapping[str, int] = MappingProxyType({name: (1 if name == "temp" else 0) for name in BANDED_PARAMETERS})
"""Decimal places each parameter is rounded to before banding (temperature 0.1 °C, the rest whole numbers)."""

SUBSCORE_KEYS: tuple[str, ...] = ("rr", "spo2", "air_or_oxygen", "sbp", "hr", "consciousness", "temp")
"""Keys of :attr:`News2Score.subscores`, in chart order."""

PLAUSIBLE_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"rr": (0, 150), "spo2": (0, 100), "sbp": (0, 350), "hr": (0, 350), "temp": (10.0, 47.0)}
)
"""Inclusive limits outside which a vital sign is impossible (a fault, not a patient); used to reject input."""

RISK_LEVELS: tuple[str, ...] = ("low", "low-medium", "medium", "high")
RESPONSES: tuple[str, ...] = ("routine", "ward_assessment", "urgent_ward", "emergency")
"""Escalation keys of :func:`clinical_response` (RCP 2017 table 1); the UI text lives in the i18n catalogue."""

ADULT_FROM_YEARS = 16
UNSCORED_WARD_KINDS = frozenset({"maternity"})  # ``domain.hospital.WARD_KINDS`` whose patients NEWS2 does not score
NEVER = datetime.max.replace(tzinfo=UTC)
# Who records a patient as pregnant or just delivered (``scored_from_at``'s ``obstetric``): nurses and midwives
# (the nurse role) and doctors.
OBSTETRIC_ROLES = frozenset({"nurse", "doctor"})
NOT_APPLICABLE = "not_applicable"
"""The risk a screen is given for a patient NEWS2 does not score (under 16, pregnant or postpartum, a maternity
ward): no total, no alarm."""

_SPO2_BANDS = {1: ("spo2_scale1", "spo2_scale1"), 2: ("spo2_scale2_air", "spo2_scale2_oxygen")}


# --------------------------------------------------------------------------------------------- rounding


def _check_number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number or None, not {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")


def _to_decimal(value: numbers.Real) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    return Decimal(repr(float(value)))  # the shortest decimal that reads back as this float: 38.05, not 38.04999…


def _units(value: numbers.Real, decimals: int) -> int:
    """``value`` rounded half up to ``decimals`` places, as an integer count of the last place (38.05 → 381)."""
    return int(_to_decimal(value).scaleb(decimals).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def round_half_up(value: float, decimals: int = 0) -> float:
    """Round half away from zero as written in decimal (90.5 → 91, 38.05 → 38.1), the rounding NEWS2 uses.

    Returns an ``int`` when ``decimals`` is 0. Python's ``round`` rounds half to even (90.5 → 90) and so is not used.
    """
    _check_number("value", value)
    units = _units(value, decimals)
    return units if decimals == 0 else float(Decimal(units).scaleb(-decimals))


def check_vital(name: str, value: float | None) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` is None or a finite number in :data:`PLAUSIBLE_RANGES`."""
    if value is None:
        return
    _check_number(name, value)
    low, high = PLAUSIBLE_RANGES[name]
    if not low <= value <= high:
        raise ValueError(f"{name} {value!r} is outside the possible range {low}–{high}")


# ------------------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class RiskThresholds:
    """Aggregate-score thresholds: ``total ≥ high`` → high, ``total ≥ medium`` → medium; below ``medium``, any single
    parameter scoring ``red_score_points`` or more (a "red score") → low-medium. RCP 2017: 5, 7 and 3."""

    medium: int = 5
    high: int = 7
    red_score_points: int = 3

    def __post_init__(self) -> None:
        for name in ("medium", "high", "red_score_points"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"risk.{name} must be a positive whole number, got {value!r}")
        if self.medium >= self.high:
            raise ValueError(f"risk.medium ({self.medium}) must be below risk.high ({self.high})")


def _check_points(where: str, points: object) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise ValueError(f"{where}: points must be a whole number ≥ 0, got {points!r}")
    return points


def _bound_units(where: str, bound: object, decimals: int) -> int | None:
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or not math.isfinite(bound):
        raise ValueError(f"{where}: a bound must be a finite number or null, got {bound!r}")
    scaled = _to_decimal(bound).scaleb(decimals)
    if scaled != scaled.to_integral_value():
        step = "a whole number" if decimals == 0 else f"a multiple of {Decimal(1).scaleb(-decimals)}"
        raise ValueError(f"{where}: bound {bound!r} must be {step}, since values are rounded to that before banding")
    return int(scaled)


def _normalise_bands(
    name: str, bands: object
) -> tuple[tuple[Band, ...], tuple[tuple[int | None, int | None, int], ...]]:
    """Check one parameter's bands; return them as tuples and in integer units of the rounding step."""
    if isinstance(bands, str | bytes) or not isinstance(bands, Iterable):
        raise ValueError(f"{name}: bands must be a list of [low, high, points]")
    decimals = DECIMALS[name]
    rows: list[tuple[Band, tuple[int | None, int | None, int]]] = []
    for i, band in enumerate(bands):
        where = f"{name} band {i + 1}"
        if isinstance(band, str | bytes) or not isinstance(band, Iterable) or len(band := tuple(band)) != 3:
            raise ValueError(f"{where}: a band is [low_inclusive, high_inclusive, points], got {band!r}")
        low, high, points = band
        low_u, high_u = _bound_units(where, low, decimals), _bound_units(where, high, decimals)
        points = _check_points(where, points)
        if low_u is not None and high_u is not None and low_u > high_u:
            raise ValueError(f"{where}: low {low!r} is above high {high!r}")
        rows.append(((low, high, points), (low_u, high_u, points)))
    if not rows:
        raise ValueError(f"{name}: at least one band is needed")
    rows.sort(key=lambda row: -math.inf if row[1][0] is None else row[1][0])
    step = Decimal(1).scaleb(-decimals)
    shown = [band for band, _ in rows]
    if rows[0][1][0] is not None:
        raise ValueError(f"{name}: the lowest band must be open below (low null), got {shown[0]!r}")
    if rows[-1][1][1] is not None:
        raise ValueError(f"{name}: the highest band must be open above (high null), got {shown[-1]!r}")
    for (before, (_, before_high, _)), (after, (after_low, _, _)) in itertools.pairwise(rows):
        if before_high is None or after_low is None or after_low <= before_high:
            raise ValueError(f"{name}: bands {before!r} and {after!r} overlap")
        if after_low > before_high + 1:
            raise ValueError(
                f"{name}: gap between bands {before!r} and {after!r} (every value in steps of {step} "
                "must fall in exactly one band)"
            )
    return tuple(shown), tuple(units for _, units in rows)


def _points_map(name: str, points: object, keys: tuple[str, ...]) -> Mapping[str, int]:
    if not isinstance(points, Mapping):
        raise ValueError(f"{name} must be a mapping of {', '.join(keys)} to points")
    if set(points) != set(keys):
        raise ValueError(f"{name} must give points for exactly {', '.join(keys)}, got {', '.join(map(str, points))}")
    return MappingProxyType({key: _check_points(f"{name}.{key}", points[key]) for key in keys})


@dataclass(frozen=True)
class ScoringTable:
    """A NEWS2-shaped early-warning table: bands per numeric parameter, points for air/oxygen and ACVPU, and risk.

    ``bands`` maps each of :data:`BANDED_PARAMETERS` to ordered ``(low_inclusive, high_inclusive, points)`` bands;
    ``spo2_scale2_air``/``spo2_scale2_oxygen`` are SpO2 scale 2 for a patient on air and on oxygen. Bands must cover
    every rounded value exactly once (open at both ends, no overlap, no gap). Construction validates and raises
    ``ValueError``; the stored mappings are read-only.
    """

    bands: Mapping[str, tuple[Band, ...]]
    air_or_oxygen: Mapping[str, int]
    consciousness: Mapping[str, int]
    risk: RiskThresholds = field(default_factory=RiskThresholds)
    name: str = "NEWS2"
    _units: Mapping[str, tuple[tuple[int | None, int | None, int], ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("name must be a non-empty string")
        if not isinstance(self.bands, Mapping):
            raise ValueError("bands must be a mapping of parameter to bands")
        unknown, missing = set(self.bands) - set(BANDED_PARAMETERS), set(BANDED_PARAMETERS) - set(self.bands)
        if unknown or missing:
            raise ValueError(
                f"bands must cover exactly {', '.join(BANDED_PARAMETERS)}"
                + (f"; unknown: {', '.join(sorted(map(str, unknown)))}" if unknown else "")
                + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
            )
        if not isinstance(self.risk, RiskThresholds):
            raise ValueError("risk must be a RiskThresholds")
        normalised = {name: _normalise_bands(name, self.bands[name]) for name in BANDED_PARAMETERS}
        object.__setattr__(self, "bands", MappingProxyType({k: bands for k, (bands, _) in normalised.items()}))
        object.__setattr__(self, "_units", MappingProxyType({k: units for k, (_, units) in normalised.items()}))
        object.__setattr__(self, "air_or_oxygen", _points_map("air_or_oxygen", self.air_or_oxygen, ("air", "oxygen")))
        object.__setattr__(
            self, "consciousness", _points_map("consciousness", self.consciousness, CONSCIOUSNESS_LEVELS)
        )

    def __hash__(self) -> int:
        return hash(
            (
                self.name,
                tuple(self.bands.items()),
                tuple(self.air_or_oxygen.items()),
                tuple(self.consciousness.items()),
                self.risk,
            )
        )

    def __reduce__(self) -> tuple[Any, ...]:  # read-only mappings do not pickle or deepcopy; the dict form does
        return (ScoringTable.from_dict, (self.to_dict(),))

    def points(self, parameter: str, value: float) -> int:
        """Points for ``value`` of a banded parameter, after rounding it half up (see the module docstring)."""
        units = _units(value, DECIMALS[parameter])
        for low, high, points in self._units[parameter]:
            if (low is None or units >= low) and (high is None or units <= high):
                return points
        raise AssertionError(f"{parameter}: no band for {value!r}")  # unreachable: validated tables have no gaps

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (bands as ``[low, high, points]`` lists, ``None`` for open ends)."""
        return {
            "name": self.name,
            "bands": {name: [list(band) for band in self.bands[name]] for name in BANDED_PARAMETERS},
            "air_or_oxygen": dict(self.air_or_oxygen),
            "consciousness": dict(self.consciousness),
            "risk": {
                "medium": self.risk.medium,
                "high": self.risk.high,
                "red_score_points": self.risk.red_score_points,
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScoringTable:
        """The table stored by :meth:`to_dict`; ``ValueError`` (naming the problem) if it is malformed, has unknown
        keys, or its bands overlap or leave a gap."""
        if not isinstance(d, Mapping):
            raise ValueError("a scoring table must be a JSON object")
        expected = {"name", "bands", "air_or_oxygen", "consciousness", "risk"}
        if unknown := set(d) - expected:
            raise ValueError(f"unknown scoring-table keys: {', '.join(sorted(map(str, unknown)))}")
        if missing := {"bands", "air_or_oxygen", "consciousness"} - set(d):
            raise ValueError(f"scoring table is missing: {', '.join(sorted(missing))}")
        risk = d.get("risk", {})
        if not isinstance(risk, Mapping):
            raise ValueError("risk must be an object with medium, high and red_score_points")
        if unknown := set(risk) - {"medium", "high", "red_score_points"}:
            raise ValueError(f"unknown risk keys: {', '.join(sorted(map(str, unknown)))}")
        return cls(
            bands=d["bands"],
            air_or_oxygen=d["air_or_oxygen"],
            consciousness=d["consciousness"],
            risk=RiskThresholds(**risk),
            name=d.get("name", "NEWS2"),
        )


NEWS2 = ScoringTable(
    name="NEWS2",
    bands={
        "rr": ((None, 8, 3), (9, 11, 1), (12, 20, 0), (21, 24, 2), (25, None, 3)),
        "spo2_scale1": ((None, 91, 3), (92, 93, 2), (94, 95, 1), (96, None, 0)),
        "spo2_scale2_air": ((None, 83, 3), (84, 85, 2), (86, 87, 1), (88, None, 0)),
        "spo2_scale2_oxygen": (
            (None, 83, 3),
            (84, 85, 2),
            (86, 87, 1),
            (88, 92, 0),
            (93, 94, 1),
            (95, 96, 2),
            (97, None, 3),
        ),
        "sbp": ((None, 90, 3), (91, 100, 2), (101, 110, 1), (111, 219, 0), (220, None, 3)),
        "hr": ((None, 40, 3), (41, 50, 1), (51, 90, 0), (91, 110, 1), (111, 130, 2), (131, None, 3)),
        "temp": ((None, 35.0, 3), (35.1, 36.0, 1), (36.1, 38.0, 0), (38.1, 39.0, 1), (39.1, None, 2)),
    },
    air_or_oxygen={"air": 0, "oxygen": 2},
    consciousness={"A": 0, "C": 3, "V": 3, "P": 3, "U": 3},
    risk=RiskThresholds(medium=5, high=7, red_score_points=3),
)
"""The Royal College of Physicians 2017 NEWS2 chart (DESIGN §5)."""


# ------------------------------------------------------------------------------------------ the score


@dataclass(frozen=True)
class News2Score:
    """A NEWS2 result. ``subscores`` has the :data:`SUBSCORE_KEYS`, ``None`` where unknown; ``total`` sums the known
    ones; ``risk`` is ``None`` unless ``complete``; ``red_score`` is any known parameter scoring 3."""

    total: int
    subscores: dict[str, int | None] = field(hash=False)
    complete: bool
    risk: str | None
    red_score: bool


def news2(
    *,
    rr: float | None,
    spo2: float | None,
    on_oxygen: bool | None,
    sbp: float | None,
    hr: float | None,
    consciousness: str | None,
    temp: float | None,
    spo2_scale: int = 1,
    table: ScoringTable = NEWS2,
) -> News2Score:
    """Score one observation set by ``table`` (default RCP 2017 NEWS2, chart 1 and chart 2).

    ``spo2_scale=2`` only when a clinician has recorded hypercapnic respiratory failure. On scale 2 the SpO2 points
    depend on air/oxygen, so with ``on_oxygen=None`` a SpO2 whose points differ on air and on oxygen (≥ 93 %) is
    unknown. ``consciousness`` is ACVPU (``"C"`` = new confusion). ``None`` = not measured → incomplete.
    """
    if type(spo2_scale) is not int or spo2_scale not in _SPO2_BANDS:
        raise ValueError(f"spo2_scale must be 1 or 2, got {spo2_scale!r}")
    for name, value in (("rr", rr), ("spo2", spo2), ("sbp", sbp), ("hr", hr), ("temp", temp)):
        check_vital(name, value)
    if on_oxygen is not None and not isinstance(on_oxygen, bool):
        raise TypeError(f"on_oxygen must be True, False or None, not {type(on_oxygen).__name__}")
    if consciousness is not None and consciousness not in CONSCIOUSNESS_LEVELS:
        raise ValueError(
            f"consciousness must be one of {', '.join(CONSCIOUSNESS_LEVELS)} or None, got {consciousness!r}"
        )
    if not isinstance(table, ScoringTable):
        raise TypeError("table must be a ScoringTable")

    def banded(parameter: str, value: float | None) -> int | None:
        return None if value is None else table.points(parameter, value)

    on_air_bands, on_oxygen_bands = _SPO2_BANDS[spo2_scale]
    if spo2 is None:
        spo2_points = None
    elif on_oxygen is None:
        on_air, on_o2 = table.points(on_air_bands, spo2), table.points(on_oxygen_bands, spo2)
        spo2_points = on_air if on_air == on_o2 else None
    else:
        spo2_points = table.points(on_oxygen_bands if on_oxygen else on_air_bands, spo2)

    subscores: dict[str, int | None] = {
        "rr": banded("rr", rr),
        "spo2": spo2_points,
        "air_or_oxygen": None if on_oxygen is None else table.air_or_oxygen["oxygen" if on_oxygen else "air"],
        "sbp": banded("sbp", sbp),
        "hr": banded("hr", hr),
        "consciousness": None if consciousness is None else table.consciousness[consciousness],
        "temp": banded("temp", temp),
    }
    known = [points for points in subscores.values() if points is not None]
    total = sum(known)
    complete = len(known) == len(subscores)
    red_score = any(points >= table.risk.red_score_points for points in known)
    risk: str | None = None
    if complete:
        if total >= table.risk.high:
            risk = "high"
        elif total >= table.risk.medium:
            risk = "medium"
        else:
            risk = "low-medium" if red_score else "low"
    return News2Score(total=total, subscores=subscores, complete=complete, risk=risk, red_score=red_score)


def clinical_response(score: News2Score) -> str | None:
    """The RCP 2017 (table 1) escalation key: ``"routine"`` (total 0), ``"ward_assessment"`` (1–4),
    ``"urgent_ward"`` (a red score, or 5–6), ``"emergency"`` (7 or more); ``None`` when the score is incomplete.

    Follows ``score.risk``, so a local table's thresholds carry through.
    """
    if score.risk is None:
        return None
    if score.risk == "high":
        return "emergency"
    if score.risk in ("medium", "low-medium"):
        return "urgent_ward"
    return "routine" if score.total == 0 else "ward_assessment"


def scored_from_at(birth: date | None, timezone: str, ward_kind: str, obstetric: bool = False) -> datetime | None:
    """The moment NEWS2 starts scoring a patient born on ``birth`` on a ward of ``ward_kind``: local midnight of
    their 16th birthday (UTC), :data:`NEVER` on a maternity ward or for a woman recorded as ``obstetric``
    (pregnant or up to six weeks after giving birth), None (scored) when the birth date is unknown."""
    if ward_kind in UNSCORED_WARD_KINDS or obstetric:
        return NEVER
    if birth is None:
        return None
    return datetime.combine(scored_from(birth), datetime.min.time(), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def scored_from(birth: date) -> date:
    """The day a patient born on ``birth`` turns 16, from which NEWS2 scores them (29 February: 1 March in a year
    without it, as :func:`domain.age_range.age_years` counts)."""
    year = birth.year + ADULT_FROM_YEARS
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 3, 1)
