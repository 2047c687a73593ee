"""NEWS2's SpO2 scale for a patient (RCP 2017, chart 2): Scale 1 (target 96 % and above) for everyone, Scale 2
(target 88–92 %) only for a patient whose hypercapnic respiratory failure is confirmed by blood gas, on a
clinician's decision. Who may choose it and what a choice must carry: pure rules of the bed page."""

from __future__ import annotations

from typing import Final

from domain.errors import InputError
from domain.free_text import clean_text, readable

SCALES: Final = (1, 2)
# A choice of scale is a medical decision: doctors make it; nurses and admins see it on the bed page.
PRESCRIBING_ROLES: Final = frozenset({"doctor"})
REASON_MAX: Final = 200


def may_prescribe(roles: frozenset[str]) -> bool:
    return bool(roles & PRESCRIBING_ROLES)


def checked_order(scale: object, reason: str | None) -> tuple[int, str | None]:
    """``(scale, reason)`` as stored: Scale 2 needs its indication (for instance the blood gas that confirmed the
    hypercapnia), a return to Scale 1 may say why. Raises ``InputError`` with the message's key."""
    try:
        chosen = int(str(scale))
    except ValueError:
        chosen = 0
    if chosen not in SCALES:
        raise InputError("spo2_scale_err_choose")
    text = clean_text(reason)
    if len(text) > REASON_MAX:
        raise InputError("spo2_scale_err_reason_long", n=REASON_MAX)
    if chosen == 2 and not readable(text):
        raise InputError("spo2_scale_err_reason")
    return chosen, text if readable(text) else None
