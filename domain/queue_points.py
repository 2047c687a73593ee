"""Service points of the clinic queues, their ticket labels and booking codes."""

from __future__ import annotations

import re
import secrets
from datetime import date

ADMISSION = "loket"
DEFAULT_BOARD_GROUP = "umum"  # the TV board of every poli not given a board of its own
PHARMACY_COMPOUNDED = "farmasi:racikan"
PHARMACY_READY = "farmasi:nonracikan"
PHARMACY_POINTS = (PHARMACY_COMPOUNDED, PHARMACY_READY)
# Ticket prefixes of the points that are not polis (polis carry their own prefix).
FIXED_PREFIXES = {ADMISSION: "P", PHARMACY_COMPOUNDED: "R", PHARMACY_READY: "N"}
_POLI = re.compile(r"^poli:([A-Z0-9]{1,16})$")
_BOOKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud over the phone


def poli_point(poli_code: str) -> str:
    return f"poli:{poli_code}"


def poli_code_of(point: str) -> str | None:
    """``"poli:UMU"`` → ``"UMU"``; ``None`` for the admission desk and the pharmacy."""
    found = _POLI.match(point)
    return found.group(1) if found else None


def is_known_point(point: str) -> bool:
    return point in FIXED_PREFIXES or poli_code_of(point) is not None


def ticket_label(prefix: str, number: int) -> str:
    """``("A", 12)`` → ``"A012"``; numbers past 999 simply grow (``"A1000"``)."""
    return f"{prefix}{number:03d}"


def booking_code(service_date: date) -> str:
    """A unique-enough, unguessable booking code (``kodebooking``): the date plus 6 random characters,
    e.g. ``20261123K7QM2D``. The database's unique constraint is the final guard."""
    suffix = "".join(secrets.choice(_BOOKING_ALPHABET) for _ in range(6))
    return f"{service_date:%Y%m%d}{suffix}"


def may_operate(roles: frozenset[str] | set[str], point: str) -> bool:
    """Who may run a counter: the admission desk is the front desk's, the pharmacy the pharmacy's, a poli's
    counter its nurses', doctors' and the front desk's (small clinics call from the desk); admins all."""
    if "admin" in roles:
        return True
    if point == ADMISSION:
        return "front_desk" in roles
    if point in PHARMACY_POINTS:
        return "pharmacy" in roles
    return bool(roles & {"nurse", "doctor", "front_desk"})
