"""Field rules of the tariff master: what a person typed into the tariff form becomes a ``TariffInput`` or a
``FieldErrors`` naming each wrong field. Amounts are integer Rupiah written the Indonesian way ("150.000",
"Rp 150.000") or plain ("150000"); decimals and negative amounts are refused, never rounded."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from domain.errors import FieldErrors, InputError
from domain.finance import PAYERS, UNITS
from domain.formats import parse_day_first, typed_amount, whole_number
from domain.free_text import clean_text, readable
from domain.hospital import CARE_CLASSES

CODE_MAX = 32
NAME_MAX = 200
AMOUNT_MAX = 10_000_000_000  # Rp 10 miliar: beyond any single service; a typo guard
_CODE = re.compile(r"^[A-Z0-9-]{2,32}$")
# Units whose tariffs are procedures and supporting services, offered on the procedures page.
PROCEDURE_UNITS = ("penunjang", "rawat_inap", "igd", "rawat_jalan")
FIELDS = ("code", "name", "unit", "care_class", "payer", "amount", "valid_from", "valid_until")


@dataclass(frozen=True)
class TariffInput:
    """A checked tariff row; ``care_class`` / ``payer`` None = every class / every payer."""

    code: str
    name: str
    unit: str
    care_class: str | None
    payer: str | None
    amount: int
    valid_from: date
    valid_until: date | None


def _text(value: object) -> str:
    return clean_text(None if value is None else str(value))


def parse_rupiah(value: object) -> int:
    """Integer Rupiah from "150.000", "150000", "Rp 150.000" or, as the English pages write it, "150,000"; refuses
    blanks, decimals and negatives."""
    text = typed_amount(_text(value))
    if not text:
        raise InputError("tar_err_amount_required")
    if text.startswith("-"):
        raise InputError("tar_err_amount_negative")
    amount = whole_number(text)
    if amount is None:
        decimals = "," in text or re.fullmatch(r"\d+\.\d{1,2}", text)
        raise InputError("tar_err_amount_decimal" if decimals else "tar_err_amount_format")
    if amount > AMOUNT_MAX:
        raise InputError("tar_err_amount_high")
    return amount


def parse_day(value: object, *, required: bool) -> date | None:
    """A date typed day first (``domain.formats.parse_day_first``); blank is ``None`` unless ``required``."""
    text = _text(value)
    if not text:
        if required:
            raise InputError("tar_err_date_required")
        return None
    try:
        return parse_day_first(text)
    except ValueError as exc:
        raise InputError("tar_err_date_format") from exc


def _code(value: object) -> str:
    text = _text(value).upper()
    if not _CODE.match(text):
        raise InputError("tar_err_code")
    return text


def _name(value: object) -> str:
    text = _text(value)
    if not text or not readable(text):
        raise InputError("tar_err_name_required")
    if len(text) > NAME_MAX:
        raise InputError("tar_err_name_long", n=NAME_MAX)
    return text


def _choice(value: object, allowed: tuple[str, ...], key: str, *, optional: bool) -> str | None:
    text = _text(value)
    if not text and optional:
        return None
    if text not in allowed:
        raise InputError(key)
    return text


def check_tariff(form: Mapping[str, object]) -> TariffInput:
    """Every field of the tariff form checked at once; ``FieldErrors`` names each wrong field."""
    rules = {
        "code": _code,
        "name": _name,
        "unit": lambda v: _choice(v, UNITS, "tar_err_unit", optional=False),
        "care_class": lambda v: _choice(v, CARE_CLASSES, "tar_err_class", optional=True),
        "payer": lambda v: _choice(v, PAYERS, "tar_err_payer", optional=True),
        "amount": parse_rupiah,
        "valid_from": lambda v: parse_day(v, required=True),
        "valid_until": lambda v: parse_day(v, required=False),
    }
    values: dict[str, object] = {}
    errors: dict[str, InputError] = {}
    for field, rule in rules.items():
        try:
            values[field] = rule(form.get(field))
        except InputError as exc:
            errors[field] = exc
    start, until = values.get("valid_from"), values.get("valid_until")
    if isinstance(start, date) and isinstance(until, date) and until < start:
        errors["valid_until"] = InputError("tar_err_until_before_from")
    if errors:
        raise FieldErrors(errors)
    return TariffInput(**values)  # type: ignore[arg-type]


def overlaps(start_a: date, end_a: date | None, start_b: date, end_b: date | None) -> bool:
    """Whether two inclusive validity periods share a day (``None`` end = open)."""
    return (end_b is None or start_a <= end_b) and (end_a is None or start_b <= end_a)
