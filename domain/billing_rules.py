"""The cashier's rules: invoice numbers and due dates, which payment a bill accepts, and Rupiah as people type it.

Money is integer Rupiah. Every refusal is an ``InputError`` whose key (prefix ``cash_``) names its message.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from domain.errors import FieldErrors, InputError
from domain.formats import Rupiah, typed_amount, whole_number

# Payers billed on credit (an insurer, a company, Jasa Raharja): 30 days to pay, and they may pay "asuransi".
CREDIT_PAYERS = ("asuransi", "perusahaan", "jasa_raharja")
CREDIT_DAYS = 30
# Methods a cashier takes at the desk; "deposit" is only ever a deposit applied to a bill (apply_deposit).
DESK_METHODS = ("tunai", "qris", "transfer", "asuransi")
DEPOSIT_METHODS = ("tunai", "qris", "transfer")
REFUND_METHODS = ("tunai", "transfer")
NEEDS_REFERENCE = ("qris", "transfer")
REFERENCE_MAX = 64
REASON_MAX = 200
MAX_AMOUNT = 10_000_000_000  # Rp 10 miliar: more than any one bill, so a slip of the finger is caught


def invoice_number(day: date, number: int) -> str:
    """``INV/2026/03/000042``: the month's running number at one site."""
    return f"INV/{day.year:04d}/{day.month:02d}/{number:06d}"


def invoice_counter(day: date) -> tuple[str, date]:
    """The counter row (point, date) whose running number numbers a month's invoices."""
    return f"invoice:{day.year:04d}{day.month:02d}", day.replace(day=1)


def due_on(payer: str, issued_on: date) -> date:
    """Self-pay bills are due the day they are issued; insurers, companies and Jasa Raharja have 30 days."""
    return issued_on + timedelta(days=CREDIT_DAYS) if payer in CREDIT_PAYERS else issued_on


def check_billable(payer: str) -> None:
    """JKN episodes are claimed from BPJS Kesehatan, never billed to the patient."""
    if payer == "jkn":
        raise InputError("cash_err_jkn")


def parse_rupiah(text: object) -> int:
    """A typed amount as whole Rupiah: ``150000``, ``150.000``, ``Rp 150.000``, ``150.000,00`` or, as the English
    pages write it, ``150,000``; anything else (sen, a minus, letters, nothing) raises ``InputError``."""
    if isinstance(text, int) and not isinstance(text, bool):
        value: int | None = text
    else:
        written = typed_amount(text)
        if not written:
            raise InputError("cash_err_amount_missing")
        value = whole_number(re.sub(",0{1,2}$", "", written))  # 150.000,00: no sen
        if value is None:
            raise InputError("cash_err_amount_format")
    if value <= 0:
        raise InputError("cash_err_amount_positive")
    if value > MAX_AMOUNT:
        raise InputError("cash_err_amount_too_large")
    return value


def clean_reference(method: str, reference: str | None) -> str | None:
    """The payment's reference (QRIS / transfer number), required for those methods; ``None`` when empty."""
    written = (reference or "").strip()
    if method in NEEDS_REFERENCE and not written:
        raise InputError("cash_err_reference")
    if len(written) > REFERENCE_MAX:
        raise InputError("cash_err_reference_long", n=REFERENCE_MAX)
    return written or None


def check_payment(
    *, method: str, amount: object, reference: str | None, payer: str, outstanding: int
) -> tuple[int, str | None]:
    """A desk payment against a bill with ``outstanding`` left: (amount, reference), or ``FieldErrors`` naming
    each wrong field (``method``, ``amount``, ``reference``)."""
    errors: dict[str, InputError] = {}
    if method not in DESK_METHODS:
        errors["method"] = InputError("cash_err_method")
    elif method == "asuransi" and payer not in CREDIT_PAYERS:
        errors["method"] = InputError("cash_err_insurer_only")
    value, ref = 0, None
    try:
        value = parse_rupiah(amount)
        if value > outstanding:
            errors["amount"] = InputError("cash_err_overpay", outstanding=Rupiah(outstanding))
    except InputError as err:
        errors["amount"] = err
    try:
        ref = clean_reference(method, reference)
    except InputError as err:
        errors["reference"] = err
    if errors:
        raise FieldErrors(errors)
    return value, ref


def check_deposit(*, method: str, amount: object, reference: str | None, methods: tuple = DEPOSIT_METHODS) -> tuple:
    """A deposit received (or a refund paid) by ``method``: (amount, reference), or ``FieldErrors``."""
    errors: dict[str, InputError] = {}
    if method not in methods:
        errors["method"] = InputError("cash_err_method")
    value, ref = 0, None
    if amount is not None:
        try:
            value = parse_rupiah(amount)
        except InputError as err:
            errors["amount"] = err
    try:
        ref = clean_reference(method, reference)
    except InputError as err:
        errors["reference"] = err
    if errors:
        raise FieldErrors(errors)
    return value, ref


def clean_reason(reason: str | None) -> str:
    """Why a bill is voided: required, at most 200 characters."""
    written = " ".join((reason or "").split())
    if not written:
        raise InputError("cash_err_reason")
    if len(written) > REASON_MAX:
        raise InputError("cash_err_reason_long", n=REASON_MAX)
    return written
