"""Rules for correcting a patient record: each field's check, the NIK's agreement with the record, who may do what,
and how long a record is kept.

- NIK (Nomor Induk Kependudukan, PP 37/2007 art. 37): 16 digits; digits 1–2 the province, 3–4 the regency or city,
  5–6 the district, 7–12 the birth date as DDMMYY with 40 added to DD for a woman, 13–16 a serial number.
- Province codes: Kepmendagri 100.1.1-6117/2022 (38 provinces). 91 Papua and 92 Papua Barat are the old codes; 93
  Papua Selatan, 94 Papua Tengah, 95 Papua Pegunungan and 96 Papua Barat Daya were formed in 2022 (cards issued
  before keep 91 or 92).
- A NIK that disagrees with the record's birth date, sex or has an unknown province is not refused: cards with
  such numbers exist (``domain.identifiers`` says why the desk never refused them), so the clerk is told what
  disagrees and saves only after confirming that the number is the one on the KTP; the confirmation is audited.
- BPJS card number: 13 digits. Telephone: an Indonesian mobile (``domain.formats.normalise_phone``) or a
  landline with its area code (``021 1234567``, ``+62 274 123456``), kept in the national form ``0…``.
- Birth date: not in the future, not more than ``MAX_AGE_YEARS`` ago.
- Retention (Permenkes 24/2022 art. 39): a record is kept at least 25 years after the patient's last visit,
  admission or discharge; only then may an admin purge it.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from domain.errors import InputError, check_fields
from domain.formats import normalise_name, normalise_phone
from domain.free_text import clean_text
from domain.identifiers import digit_string, normalise_identifier

PROVINCES: dict[str, str] = {
    "11": "Aceh",
    "12": "Sumatera Utara",
    "13": "Sumatera Barat",
    "14": "Riau",
    "15": "Jambi",
    "16": "Sumatera Selatan",
    "17": "Bengkulu",
    "18": "Lampung",
    "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau",
    "31": "DKI Jakarta",
    "32": "Jawa Barat",
    "33": "Jawa Tengah",
    "34": "DI Yogyakarta",
    "35": "Jawa Timur",
    "36": "Banten",
    "51": "Bali",
    "52": "Nusa Tenggara Barat",
    "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah",
    "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur",
    "65": "Kalimantan Utara",
    "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara",
    "75": "Gorontalo",
    "76": "Sulawesi Barat",
    "81": "Maluku",
    "82": "Maluku Utara",
    "91": "Papua",
    "92": "Papua Barat",
    "93": "Papua Selatan",
    "94": "Papua Tengah",
    "95": "Papua Pegunungan",
    "96": "Papua Barat Daya",
}
WOMAN_DAY_OFFSET = 40
MAX_AGE_YEARS = 130
RETENTION_YEARS = 25
LANDLINE_DIGITS = (9, 12)  # national form with the leading 0: a 2–3 digit area code and 5–8 digit number
SEXES = ("L", "P")
WRITE_ROLES = frozenset({"front_desk", "admin"})
READ_ROLES = frozenset({"nurse", "doctor"}) | WRITE_ROLES
ADMIN_ROLES = frozenset({"admin"})  # merge and purge
EDITABLE_FIELDS = ("name", "birth_date", "sex", "nik", "bpjs", "phone", "address")
MISMATCHES = ("province", "birth_date", "sex")  # what a NIK can disagree with, in the order they are named


class NikMismatch(InputError):
    """The NIK disagrees with the record (``mismatches``, a subset of ``MISMATCHES`` in that order): saved only
    once the user confirms it is the number on the KTP."""

    def __init__(self, mismatches: tuple[str, ...], nik_birth: str) -> None:
        super().__init__("pat_nik_mismatch", birth=nik_birth)
        self.mismatches = mismatches


def normalise_contact_phone(value: str | None) -> str | None:
    """A patient's telephone in its national form, or None when blank: a mobile as ``domain.formats`` keeps it, or
    a landline with its area code (``(021) 123-4567`` → ``0211234567``). Anything else raises
    ``InputError("pat_err_phone")``."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        return None
    try:
        return normalise_phone(text)
    except InputError:
        pass
    plus = text.startswith("+")
    digits = digit_string((text[1:] if plus else text).replace("(", "").replace(")", ""))
    if digits is not None and (plus or digits.startswith("62")):
        digits = "0" + digits[2:] if digits.startswith("62") else None
    shortest, longest = LANDLINE_DIGITS
    if digits is None or not shortest <= len(digits) <= longest or digits[0] != "0" or digits[1] in "08":
        raise InputError("pat_err_phone")
    return digits


def check_birth_date(birth_date: date | None, today: date) -> date:
    """The birth date, neither in the future nor more than ``MAX_AGE_YEARS`` years ago."""
    if birth_date is None:
        raise InputError("err_birth_date_required")
    if birth_date > today or birth_date.year < today.year - MAX_AGE_YEARS:
        raise InputError("err_birth_date_range")
    return birth_date


def check_sex(sex: str | None) -> str:
    """``L`` or ``P``."""
    if sex not in SEXES:
        raise InputError("err_sex")
    return sex


def check_record(
    *,
    name: str | None,
    birth_date: date | None,
    sex: str | None,
    nik: str | None,
    bpjs: str | None,
    phone: str | None,
    address: str | None,
    today: date,
) -> dict[str, object]:
    """Every field of a corrected record, normalised as it is stored (keys: ``EDITABLE_FIELDS``; a blank
    identifier, phone or address is None); all wrong fields raise together as ``FieldErrors``."""
    return check_fields(
        {
            "name": lambda: normalise_name(name),
            "birth_date": lambda: check_birth_date(birth_date, today),
            "sex": lambda: check_sex(sex),
            "nik": lambda: normalise_identifier("nik", nik),
            "bpjs": lambda: normalise_identifier("bpjs", bpjs),
            "phone": lambda: normalise_contact_phone(phone),
            "address": lambda: clean_text(address) or None,
        }
    )


def nik_birth(nik: str) -> tuple[int, int, int]:
    """The day, month and two-digit year written in digits 7–12 of a normalised NIK (the day as written: a
    woman's is 40 more)."""
    return int(nik[6:8]), int(nik[8:10]), int(nik[10:12])


def nik_mismatches(nik: str, birth_date: date, sex: str) -> tuple[str, ...]:
    """What a normalised NIK disagrees with (names from ``MISMATCHES``): its province code unknown, its embedded
    date not the birth date, or its day (40 added for a woman) not the sex."""
    found = []
    if nik[:2] not in PROVINCES:
        found.append("province")
    day, month, year = nik_birth(nik)
    woman = day > WOMAN_DAY_OFFSET
    real_day = day - WOMAN_DAY_OFFSET if woman else day
    if (real_day, month, year) != (birth_date.day, birth_date.month, birth_date.year % 100):
        found.append("birth_date")
    if woman != (sex == "P"):
        found.append("sex")
    return tuple(found)


def check_nik_agrees(nik: str | None, birth_date: date, sex: str, *, confirmed: bool) -> tuple[str, ...]:
    """The NIK's disagreements with the record; unless ``confirmed``, any raises ``NikMismatch``."""
    if not nik:
        return ()
    found = nik_mismatches(nik, birth_date, sex)
    if found and not confirmed:
        day, month, year = nik_birth(nik)
        raise NikMismatch(found, f"{day:02d}-{month:02d}-{year:02d}")
    return found


def retention_ends(last_activity: date) -> date:
    """The first day a record whose last visit, admission or discharge was ``last_activity`` may be purged."""
    try:
        return last_activity.replace(year=last_activity.year + RETENTION_YEARS)
    except ValueError:  # 29 February
        return date(last_activity.year + RETENTION_YEARS, 3, 1)


def same_name(a: str, b: str) -> bool:
    """Names the same person wrote twice: NFKC, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", a).casefold().split()) == " ".join(
        unicodedata.normalize("NFKC", b).casefold().split()
    )
