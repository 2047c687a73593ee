"""Vocabularies of a hospital's setup and of inpatient stays (admission, transfer, discharge)."""

from __future__ import annotations

from typing import Final

# Site time zones of Indonesia: WIB, WITA, WIT.
TIMEZONES: Final = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
# Facility classes: hospitals A-D (Permenkes 3/2020), a Puskesmas, a clinic.
FACILITY_CLASSES: Final = ("A", "B", "C", "D", "PKM", "KLINIK")
# Care classes of an inpatient bed: the JKN classes, KRIS (Kelas Rawat Inap Standar), paying classes, intensive
# and isolation care.
CARE_CLASSES: Final = ("VVIP", "VIP", "1", "2", "3", "KRIS", "ICU", "ICCU", "HCU", "NICU", "PICU", "ISOLASI")
# A ward's kind: "icu" picks the intensive alarm profile, "ward" and "maternity" the adult one; on a "maternity"
# ward (kebidanan: pregnancy, childbirth and after) NEWS2 scores nobody (``domain.news2``).
WARD_KINDS: Final = ("ward", "icu", "maternity")
BED_STATES: Final = ("available", "occupied", "cleaning", "out_of_service")
ADMISSION_SOURCES: Final = ("desk", "poli", "emergency")
# How a stay ended: alive (home, referred to another facility, against medical advice = "atas permintaan
# sendiri") or deceased.
DISCHARGE_KINDS: Final = ("home", "referred", "against_advice", "deceased")
OCCUPANCY_ENDS: Final = ("transfer", "discharge")
HOLIDAY_KINDS: Final = ("collective", "open")  # cuti bersama (closes sessions); a national holiday kept open


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's text: ``column IN ('a', 'b')`` from a fixed vocabulary of this module (never input)."""
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))
