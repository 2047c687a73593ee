"""Field rules of the hospital setup forms (facility, wards, beds, polis, doctors), shared by the admin pages and
the bulk import. Each rule takes what a person typed and returns the value to store, or raises ``InputError``
with the message of that field; ``check_form`` checks a whole form at once and raises ``FieldErrors``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

from domain.errors import FieldErrors, InputError
from domain.free_text import clean_text, readable
from domain.hospital import BED_STATES, CARE_CLASSES, FACILITY_CLASSES, TIMEZONES, WARD_KINDS
from domain.queue_points import FIXED_PREFIXES

Rule = Callable[[object], object]

_CODE = re.compile(r"^[A-Z0-9-]+$")
_CODE_NO_HYPHEN = re.compile(r"^[A-Z0-9]+$")  # a poli's code is part of its queue point ``poli:CODE``
_PPK = re.compile(r"^[A-Z0-9]{8}$")  # BPJS PPK code, e.g. 0101R001
_PREFIX = re.compile(r"^[A-Z]{1,2}$")
_BPJS_POLI = re.compile(r"^[A-Z]{3}$")  # BPJS ref/poli, e.g. INT
_HFIS = re.compile(r"^[0-9]{1,16}$")
_BOARD = re.compile(r"^[a-z0-9-]{1,32}$")
BED_COUNT_MAX = 200
SERVICE_MINUTES_MAX = 240


def _text(value: object) -> str:
    """What was typed, normalised (NFKC, no control characters, trimmed); ``None`` is blank."""
    return clean_text(None if value is None else str(value))


def code(value: object, max_len: int, *, hyphen: bool = True) -> str:
    """An upper-case code of A-Z, 0-9 (and ``-`` where allowed), 1 to ``max_len`` characters."""
    text = _text(value).upper()
    pattern = _CODE if hyphen else _CODE_NO_HYPHEN
    if not text or len(text) > max_len or not pattern.match(text):
        raise InputError("err_setup_code" if hyphen else "err_setup_code_plain", n=max_len)
    return text


def name(value: object, max_len: int) -> str:
    """A required name, trimmed, at most ``max_len`` characters."""
    text = _text(value)
    if not text or not readable(text):
        raise InputError("err_setup_name_required")
    if len(text) > max_len:
        raise InputError("err_setup_too_long", n=max_len)
    return text


def optional_text(value: object, max_len: int) -> str | None:
    """Free text that may be blank (``None``), at most ``max_len`` characters."""
    text = _text(value)
    if len(text) > max_len:
        raise InputError("err_setup_too_long", n=max_len)
    return text if readable(text) else None


def _choice(value: object, options: tuple[str, ...] | Mapping[str, str], key: str) -> str:
    text = _text(value)
    if text not in options:
        raise InputError(key)
    return text


def timezone(value: object) -> str:
    return _choice(value, TIMEZONES, "err_setup_timezone")


def facility_class(value: object) -> str | None:
    """One of ``FACILITY_CLASSES`` (upper-cased), or blank (not yet classified)."""
    text = _text(value).upper()
    return _choice(text, FACILITY_CLASSES, "err_setup_facility_class") if text else None


def care_class(value: object) -> str:
    return _choice(_text(value).upper(), CARE_CLASSES, "err_setup_care_class")


def optional_care_class(value: object) -> str | None:
    """A bed's care class, or blank: the ward's."""
    return care_class(value) if _text(value) else None


def ward_kind(value: object) -> str:
    return _choice(_text(value).lower(), WARD_KINDS, "err_setup_ward_kind")


def bed_status(value: object) -> str:
    return _choice(_text(value).lower(), BED_STATES, "err_setup_bed_status")


def ppk_code(value: object) -> str | None:
    """The BPJS PPK code: 8 letters or digits (``0101R001``), or blank (not a BPJS partner yet)."""
    text = _text(value).upper()
    if text and not _PPK.match(text):
        raise InputError("err_setup_ppk")
    return text or None


def queue_prefix(value: object) -> str:
    """A poli's ticket prefix: one or two letters A-Z, not one of the desk's or pharmacy's fixed prefixes."""
    text = _text(value).upper()
    if not _PREFIX.match(text):
        raise InputError("err_setup_prefix")
    if text in FIXED_PREFIXES.values():
        raise InputError("err_setup_prefix_fixed", prefix=text)
    return text


def bpjs_poli_code(value: object) -> str | None:
    """A BPJS poli code (three letters, ``INT``), or blank."""
    text = _text(value).upper()
    if text and not _BPJS_POLI.match(text):
        raise InputError("err_setup_bpjs_poli")
    return text or None


def hfis_code(value: object) -> str | None:
    """A doctor's HFIS code (digits), or blank."""
    text = unicodedata.normalize("NFKC", _text(value))
    if text and not _HFIS.match(text):
        raise InputError("err_setup_hfis")
    return text or None


def sip(value: object) -> str | None:
    """A practice licence number (Surat Izin Praktik): free text up to 64 characters, or blank."""
    return optional_text(value, 64)


def _whole(value: object, low: int, high: int, key: str) -> int:
    text = _text(value)
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise InputError(key, low=low, high=high)
    return int(text)


def bed_count(value: object) -> int:
    return _whole(value, 1, BED_COUNT_MAX, "err_setup_bed_count")


def service_minutes(value: object) -> int:
    return _whole(value, 1, SERVICE_MINUTES_MAX, "err_setup_service_minutes")


def board_group(value: object) -> str:
    """The TV board that calls a poli's numbers: a short lower-case slug (``umum``, ``gigi``)."""
    text = _text(value).lower()
    if not _BOARD.match(text):
        raise InputError("err_setup_board_group")
    return text


def check_form(values: Mapping[str, object], rules: Mapping[str, Rule]) -> dict[str, object]:
    """Every field of ``rules`` checked from ``values`` (a missing field is blank); all the wrong ones raised
    together as ``FieldErrors``, else the normalised values."""
    clean: dict[str, object] = {}
    errors: dict[str, InputError] = {}
    for field, rule in rules.items():
        try:
            clean[field] = rule(values.get(field))
        except InputError as err:
            errors[field] = err
    if errors:
        raise FieldErrors(errors)
    return clean


def field_error(field: str, key: str, **params: object) -> FieldErrors:
    """One wrong field found after the form's own rules (a code already taken, an unknown ward), as
    ``FieldErrors`` so the page shows it beside that field."""
    return FieldErrors({field: InputError(key, **params)})
