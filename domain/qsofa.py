"""qSOFA, the quick Sequential Organ Failure Assessment — a secondary sepsis badge next to NEWS2 (DESIGN §5).

Source: Singer M, et al. *The Third International Consensus Definitions for Sepsis and Septic Shock (Sepsis-3).*
JAMA 2016;315(8):801–810; Seymour CW, et al. JAMA 2016;315(8):762–774. One point each for respiratory rate
≥ 22/min, systolic blood pressure ≤ 100 mmHg and altered mentation; 2 or more is positive.

Altered mentation is taken as ACVPU other than "A" (the RCP 2017 NEWS2 report's proxy for GCS < 15). RR and SBP
are rounded half up to whole numbers first, as for NEWS2 (RR 21.5 → 22 → 1 point).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.news2 import CONSCIOUSNESS_LEVELS, check_vital, round_half_up

RR_THRESHOLD = 22
"""RR ≥ this (/min) scores 1."""
SBP_THRESHOLD = 100
"""SBP ≤ this (mmHg) scores 1."""
POSITIVE_THRESHOLD = 2
"""A total ≥ this is a positive screen."""


@dataclass(frozen=True)
class QsofaScore:
    """A qSOFA result. ``criteria`` (``rr``, ``sbp``, ``altered_mentation``) is True/False, or None when unknown;
    ``total`` counts the criteria met; ``positive`` is ``total ≥ 2``, ``None`` unless ``complete``."""

    total: int
    complete: bool
    positive: bool | None
    criteria: dict[str, bool | None] = field(hash=False)


def altered_from_acvpu(level: str | None) -> bool | None:
    """``True`` for C, V, P or U, ``False`` for A, ``None`` when unknown; ``ValueError`` for anything else."""
    if level is None:
        return None
    if level not in CONSCIOUSNESS_LEVELS:
        raise ValueError(f"consciousness must be one of {', '.join(CONSCIOUSNESS_LEVELS)} or None, got {level!r}")
    return level != "A"


def qsofa(*, rr: float | None, sbp: float | None, altered_mentation: bool | str | None) -> QsofaScore:
    """Score qSOFA (Sepsis-3, 2016). ``altered_mentation`` is a bool, an ACVPU letter, or ``None`` (unknown)."""
    check_vital("rr", rr)
    check_vital("sbp", sbp)
    if isinstance(altered_mentation, str):
        altered_mentation = altered_from_acvpu(altered_mentation)
    elif altered_mentation is not None and not isinstance(altered_mentation, bool):
        raise TypeError(f"altered_mentation must be a bool, an ACVPU letter or None, not {type(altered_mentation)}")
    criteria: dict[str, bool | None] = {
        "rr": None if rr is None else round_half_up(rr) >= RR_THRESHOLD,
        "sbp": None if sbp is None else round_half_up(sbp) <= SBP_THRESHOLD,
        "altered_mentation": altered_mentation,
    }
    total = sum(1 for met in criteria.values() if met)
    complete = all(met is not None for met in criteria.values())
    return QsofaScore(
        total=total,
        complete=complete,
        positive=(total >= POSITIVE_THRESHOLD) if complete else None,
        criteria=criteria,
    )
