"""SIMRS bill-line import: a CSV or XLSX export of another system's bill lines (SIMRS Khanza, SIMGOS, …) becomes
Pantau charge lines (``source="import"``), through ``data.charges.add_charge_lines`` like every other charge.

The file's header can be anything: the user maps each Pantau field to one of its columns (``guess_mapping``
proposes one from common SIMRS column names). ``check_bills`` is the dry run: it reads every line, lists every bad
one (line, column, message key) and counts lines new and already imported; it writes nothing but its audit row.
``apply_bills`` re-checks the very file that was checked (same SHA-256) and writes every line or, on any error,
none (``BillImportRefused``: the caller's session rolls back). A line's ``source_id`` is ``"<system>:<its id in
the file>"``, so importing a file twice adds nothing. Amounts are integer Rupiah: sen are rounded to the nearest
Rupiah. Limits: 50,000 lines and 2.5 MB per file (the upload must stay under the app's 4 MB request limit once
base64-encoded).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import islice

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.charges import NewCharge, add_charge_lines
from data.models import ChargeLine, Doctor, Patient, Poli, Ward
from domain.actor import Actor
from domain.errors import InputError
from domain.finance import PAYERS, UNITS
from domain.import_rules import RowError, cell_text, csv_cells

MAX_BYTES = 2_500_000
MAX_ROWS = 50_000
SYSTEM_MAX = 30
SOURCE_ID_MAX = 80
CODE_MAX = 32
DESCRIPTION_MAX = 200
_XLSX_MAGIC = b"PK\x03\x04"
_CHUNK = 500

FIELDS = (
    "source_id",
    "date",
    "amount",
    "quantity",
    "unit_price",
    "unit",
    "payer",
    "poli_code",
    "ward_code",
    "doctor",
    "code",
    "description",
    "rm",
)
# Header names SIMRS exports commonly use for each field (compared lower-case, spaces and dots as "_").
HEADER_GUESSES: dict[str, tuple[str, ...]] = {
    "source_id": ("source_id", "id", "no_tagihan", "no_nota", "noindex", "no_billing", "id_billing", "no_rawat"),
    "date": ("date", "tanggal", "tgl", "tgl_perawatan", "tgl_periksa", "tgl_byr", "tgl_registrasi", "tanggal_layanan"),
    "amount": ("amount", "total", "totalbiaya", "total_biaya", "biaya", "jumlah_biaya", "nominal", "subtotal"),
    "quantity": ("quantity", "qty", "jumlah", "jml", "banyak"),
    "unit_price": ("unit_price", "harga", "tarif", "biaya_item", "harga_satuan"),
    "unit": ("unit", "status_lanjut", "jenis_rawat", "status", "instalasi", "unit_layanan"),
    "payer": ("payer", "penjab", "png_jawab", "cara_bayar", "kd_pj", "penjamin", "carabayar"),
    "poli_code": ("poli_code", "kd_poli", "kode_poli", "poli", "kdpoli"),
    "ward_code": ("ward_code", "kd_bangsal", "kode_bangsal", "bangsal", "ruang", "kd_kamar"),
    "doctor": ("doctor", "kd_dokter", "dokter", "nm_dokter", "nama_dokter", "dpjp"),
    "code": ("code", "kode", "kd_jenis_prw", "kode_tarif", "kd_tindakan", "kode_item"),
    "description": ("description", "nm_perawatan", "nama_tindakan", "keterangan", "uraian", "nama_item", "item"),
    "rm": ("rm", "no_rm", "no_rkm_medis", "norm", "nomor_rm", "rekam_medis"),
}
# Words SIMRS files use for a payer or a unit, besides Pantau's own codes (upper-case, spaces as "_").
PAYER_WORDS = {
    "BPJS": "jkn",
    "JKN": "jkn",
    "BPJS_KESEHATAN": "jkn",
    "JKN_(BPJS_KESEHATAN)": "jkn",
    "BPJ": "jkn",
    "UMUM": "umum",
    "PRIBADI": "umum",
    "TUNAI": "umum",
    "UMUM/PRIBADI": "umum",
    "ASURANSI": "asuransi",
    "ASURANSI_SWASTA": "asuransi",
    "PERUSAHAAN": "perusahaan",
    "JASA_RAHARJA": "jasa_raharja",
    "JASARAHARJA": "jasa_raharja",
}
UNIT_WORDS = {
    "RAWAT_JALAN": "rawat_jalan",
    "RALAN": "rawat_jalan",
    "RJ": "rawat_jalan",
    "RAWAT_INAP": "rawat_inap",
    "RANAP": "rawat_inap",
    "RI": "rawat_inap",
    "IGD": "igd",
    "UGD": "igd",
    "GAWAT_DARURAT": "igd",
    "PENUNJANG": "penunjang",
    "LAB": "penunjang",
    "LABORATORIUM": "penunjang",
    "RADIOLOGI": "penunjang",
    "FARMASI": "farmasi",
    "APOTEK": "farmasi",
    "OBAT": "farmasi",
}
_Fail = Callable[..., None]  # records a line's error: fail(field, message key, **params)
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y")


@dataclass(frozen=True)
class BillCheck:
    """What a run found: the file's digest, its data lines, how many are new and already imported, and every
    bad line (line numbers count the header as line 1)."""

    sha256: str
    rows: int
    new: int
    already: int
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class BillImportRefused(InputError):
    """Apply found errors; nothing was saved."""

    def __init__(self, report: BillCheck) -> None:
        super().__init__("import_err_apply_refused", n=len(report.errors))
        self.report = report


def file_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_cells(raw: bytes) -> list[list[str]]:
    """The text of every cell (first sheet of an XLSX, or a CSV in UTF-8, ``;`` or ``,`` separated)."""
    if len(raw) > MAX_BYTES:
        raise InputError("import_err_too_big", mb=MAX_BYTES / 1_000_000)
    if not raw.strip():
        raise InputError("import_err_empty")
    if raw.startswith(_XLSX_MAGIC):
        try:
            book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
            raise InputError("import_err_xlsx") from exc
        try:
            lines = list(islice(book.worksheets[0].iter_rows(values_only=True), MAX_ROWS * 2 + 2))
        finally:
            book.close()
    else:
        lines = csv_cells(raw)
    cells = [[cell_text(c) for c in line] for line in lines]
    if sum(1 for line in cells[1:] if any(line)) > MAX_ROWS or len(cells) > MAX_ROWS * 2 + 1:
        raise InputError("import_err_too_many_rows", n=MAX_ROWS)
    return cells


def header_of(cells: Sequence[Sequence[str]]) -> list[str]:
    """The file's column names (trailing empty cells dropped); a repeated or empty name refuses the file."""
    header = [c.strip() for c in (cells[0] if cells else [])]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise InputError("import_err_no_rows")
    if "" in header or len({h.lower() for h in header}) != len(header):
        raise InputError("bimp_err_header")
    return header


def _norm(name: str) -> str:
    return re.sub(r"[\s.\-]+", "_", name.strip().lower())


def guess_mapping(header: Sequence[str], keep: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """For each field, the column ``keep`` names (a choice the user made), else the first header column whose
    name SIMRS files commonly use for it; each column once."""
    keep = {f: c for f, c in (keep or {}).items() if c in header}
    by_norm = {_norm(h): h for h in header}
    taken: set[str] = set(keep.values())
    mapping: dict[str, str | None] = {}
    for name in FIELDS:
        if name in keep:
            mapping[name] = keep[name]
            continue
        found = next((by_norm[g] for g in HEADER_GUESSES[name] if g in by_norm and by_norm[g] not in taken), None)
        mapping[name] = found
        if found:
            taken.add(found)
    return mapping


def check_mapping(header: Sequence[str], mapping: Mapping[str, str | None], system: str) -> dict[str, str]:
    """The mapping's chosen columns (field → column); a missing required field or a column used twice, or a
    blank system name, refuses the run (``InputError`` naming the field)."""
    chosen = {f: c for f, c in mapping.items() if f in FIELDS and c}
    unknown = [c for c in chosen.values() if c not in header]
    if unknown:
        raise InputError("bimp_err_mapping_column", column=unknown[0])
    if len(set(chosen.values())) != len(chosen):
        raise InputError("bimp_err_mapping_twice")
    for required in ("source_id", "date", "payer"):
        if required not in chosen:
            raise InputError(f"bimp_err_need_{required}")
    if "amount" not in chosen and not {"quantity", "unit_price"} <= set(chosen):
        raise InputError("bimp_err_mapping_amount")
    if not system.strip() or len(system.strip()) > SYSTEM_MAX or ":" in system:
        raise InputError("bimp_err_system", n=SYSTEM_MAX)
    return chosen


@dataclass(frozen=True)
class _Lookups:
    polis: dict[str, int]
    wards: dict[str, int]
    doctors: dict[str, int | None]  # None: two doctors share the name
    patients: dict[str, int]


def _lookups(session: Session, site_id: int, rms: Iterable[str]) -> _Lookups:
    polis: dict[str, int] = {}
    for poli_id, code, bpjs in session.execute(
        select(Poli.id, Poli.code, Poli.bpjs_code).where(Poli.site_id == site_id)
    ):
        polis.setdefault(code.upper(), poli_id)
        if bpjs:
            polis.setdefault(bpjs.upper(), poli_id)
    wards = {
        code.upper(): ward_id
        for ward_id, code in session.execute(select(Ward.id, Ward.code).where(Ward.site_id == site_id))
    }
    doctors: dict[str, int | None] = {}
    for doctor_id, name, bpjs in session.execute(
        select(Doctor.id, Doctor.name, Doctor.bpjs_code).where(Doctor.site_id == site_id)
    ):
        for key in filter(None, (" ".join(name.upper().split()), (bpjs or "").upper())):
            doctors[key] = doctor_id if key not in doctors else None
    patients: dict[str, int] = {}
    wanted = sorted(set(filter(None, rms)))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(
            select(Patient.mrn, Patient.id).where(Patient.site_id == site_id, Patient.mrn.in_(chunk))
        )
        patients.update(dict(rows.all()))
    return _Lookups(polis, wards, doctors, patients)


def parse_amount(text: str) -> int | None:
    """Rupiah written any common way: ``150000``, ``150.000``, ``150000.00``, ``150.000,50``, ``Rp 1,500,000``,
    ``-25.000`` (sen rounded to the nearest Rupiah); ``None`` when it is not a number."""
    cleaned = text.strip().replace(" ", "")
    negative = cleaned.startswith("-")
    cleaned = re.sub(r"(?i)^-?(rp\.?)?-?", "", cleaned)
    if not re.fullmatch(r"\d[\d.,]*", cleaned):
        return None
    if "." in cleaned and "," in cleaned:
        decimal_mark = "." if cleaned.rfind(".") > cleaned.rfind(",") else ","
        thousands_mark = "," if decimal_mark == "." else "."
    elif "." in cleaned or "," in cleaned:
        mark = "." if "." in cleaned else ","
        groups = cleaned.split(mark)
        if 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]):
            decimal_mark, thousands_mark = None, mark
        elif len(groups) == 2:
            decimal_mark, thousands_mark = mark, None
        else:
            return None
    else:
        decimal_mark = thousands_mark = None
    number = cleaned.replace(thousands_mark, "") if thousands_mark else cleaned
    if decimal_mark:
        number = number.replace(decimal_mark, ".")
    try:
        value = int(Decimal(number).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return None
    return -value if negative else value


def parse_date(text: str) -> date | None:
    """``2026-03-02``, ``02/03/2026``, ``02-03-2026``, with or without a time after it."""
    head = text.strip().split(" ")[0].split("T")[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    return None


def _word(text: str, words: Mapping[str, str], codes: Sequence[str]) -> str | None:
    key = "_".join(text.strip().upper().split())
    if key.lower() in codes:
        return key.lower()
    if key in words:
        return words[key]
    # "BPJS PBI", "ASURANSI MANDIRI INHEALTH": the first word decides
    return words.get(key.split("_")[0])


@dataclass(frozen=True)
class _Run:
    report: BillCheck
    charges: list[NewCharge]  # the good lines not imported before


def _run(session: Session, site_id: int, raw: bytes, mapping: Mapping[str, str | None], system: str) -> _Run:
    cells = read_cells(raw)
    header = header_of(cells)
    chosen = check_mapping(header, mapping, system)
    system = system.strip()
    position = {column: header.index(column) for column in chosen.values()}
    lines = []
    for line, texts in enumerate(cells[1:], start=2):
        if any(t.strip() for t in texts):
            lines.append((line, {f: _cell(texts, position[c]) for f, c in chosen.items()}))
    if not lines:
        raise InputError("import_err_no_rows")
    found = _lookups(session, site_id, (values.get("rm", "") for _, values in lines))
    errors: list[RowError] = []
    charges: list[NewCharge] = []
    seen: dict[str, int] = {}
    for line, values in lines:
        charge, row_errors = _line(line, values, chosen, system, found)
        if charge is not None and charge.source_id in seen:
            row_errors.append(
                RowError(
                    line,
                    chosen["source_id"],
                    "import_err_repeated",
                    {"value": values["source_id"], "line": seen[charge.source_id]},
                )
            )
        if row_errors:
            errors.extend(row_errors)
        else:
            seen[charge.source_id] = line
            charges.append(charge)
    already = _already(session, site_id, [c.source_id for c in charges])
    report = BillCheck(file_digest(raw), len(lines), len(charges) - len(already), len(already), errors)
    return _Run(report, [c for c in charges if c.source_id not in already])


def _cell(texts: Sequence[str], index: int) -> str:
    return texts[index].strip() if index < len(texts) else ""


def _line(
    line: int, values: Mapping[str, str], chosen: Mapping[str, str], system: str, found: _Lookups
) -> tuple[NewCharge | None, list[RowError]]:
    """One file line as a charge, or its errors (each naming the file's column at fault)."""
    errors: list[RowError] = []

    def fail(name: str, key: str, **params: object) -> None:
        errors.append(RowError(line, chosen.get(name), key, params))

    source_id = f"{system}:{values['source_id']}"
    if not values["source_id"]:
        fail("source_id", "bimp_err_required")
    elif len(source_id) > SOURCE_ID_MAX:
        fail("source_id", "bimp_err_too_long", n=SOURCE_ID_MAX - len(system) - 1)
    day = parse_date(values["date"])
    if not values["date"]:
        fail("date", "bimp_err_required")
    elif day is None:
        fail("date", "bimp_err_date", value=values["date"])
    payer = _word(values["payer"], PAYER_WORDS, PAYERS) if values["payer"] else None
    if not values["payer"]:
        fail("payer", "bimp_err_required")
    elif payer is None:
        fail("payer", "bimp_err_payer", value=values["payer"])
    poli_id = _code(values.get("poli_code", ""), found.polis, "poli_code", "bimp_err_poli", fail)
    ward_id = _code(values.get("ward_code", ""), found.wards, "ward_code", "bimp_err_ward", fail)
    doctor_id = _doctor(values.get("doctor", ""), found.doctors, fail)
    unit = _unit(values.get("unit", ""), values, fail)
    quantity, unit_price, amount = _money(values, chosen, fail)
    if errors:
        return None, errors
    code = values.get("code", "")[:CODE_MAX] or "-"
    description = values.get("description", "") or code
    return NewCharge(
        service_date=day,
        unit=unit,
        payer=payer,
        tariff_code=code,
        description=description[: DESCRIPTION_MAX - 1] + "…" if len(description) > DESCRIPTION_MAX else description,
        source_id=source_id,
        unit_price=unit_price,
        quantity=quantity,
        amount=amount,
        source="import",
        poli_id=poli_id,
        ward_id=ward_id,
        doctor_id=doctor_id,
        patient_id=found.patients.get(values.get("rm", "")),
    ), []


def _code(text: str, known: Mapping[str, int], name: str, key: str, fail: _Fail) -> int | None:
    if not text:
        return None
    found = known.get(text.upper())
    if found is None:
        fail(name, key, value=text)
    return found


def _doctor(text: str, known: Mapping[str, int | None], fail: _Fail) -> int | None:
    if not text:
        return None
    key = " ".join(text.upper().split())
    if key not in known:
        fail("doctor", "bimp_err_doctor", value=text)
    elif known[key] is None:
        fail("doctor", "bimp_err_doctor_ambiguous", value=text)
    return known.get(key)


def _unit(text: str, values: Mapping[str, str], fail: _Fail) -> str | None:
    """The unit from its column, else from the line's ward (inpatient) or poli (outpatient)."""
    if text:
        unit = _word(text, UNIT_WORDS, UNITS)
        if unit is None:
            fail("unit", "bimp_err_unit", value=text)
        return unit
    if values.get("ward_code"):
        return "rawat_inap"
    if values.get("poli_code"):
        return "rawat_jalan"
    fail("unit", "bimp_err_unit_missing")
    return None


def _money(values: Mapping[str, str], chosen: Mapping[str, str], fail: _Fail) -> tuple[int, int, int]:
    """(quantity, unit price, amount). With an amount column the amount is the file's; a fractional quantity
    (0.5 tablet) is then kept as one line of that amount."""
    quantity = 1
    if values.get("quantity"):
        parsed = _decimal(values["quantity"])
        if parsed is None or parsed <= 0 or (parsed != parsed.to_integral_value() and "amount" not in chosen):
            fail("quantity", "bimp_err_quantity", value=values["quantity"])
        elif parsed == parsed.to_integral_value():
            quantity = int(parsed)
    elif "amount" not in chosen:
        fail("quantity", "bimp_err_required")
    if "amount" in chosen:
        amount = parse_amount(values["amount"])
        if amount is None:
            fail("amount", "bimp_err_amount" if values["amount"] else "bimp_err_required", value=values["amount"])
            return 1, 0, 0
        if amount % quantity:
            quantity = 1
        return quantity, amount // quantity, amount
    unit_price = parse_amount(values["unit_price"])
    if unit_price is None:
        fail(
            "unit_price", "bimp_err_amount" if values["unit_price"] else "bimp_err_required", value=values["unit_price"]
        )
        return 1, 0, 0
    return quantity, unit_price, quantity * unit_price


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def _already(session: Session, site_id: int, source_ids: Sequence[str]) -> set[str]:
    """The ``source_id``s among these that an earlier import wrote."""
    found: set[str] = set()
    for start in range(0, len(source_ids), _CHUNK):
        chunk = source_ids[start : start + _CHUNK]
        found.update(
            session.scalars(
                select(ChargeLine.source_id).where(
                    ChargeLine.site_id == site_id, ChargeLine.source == "import", ChargeLine.source_id.in_(chunk)
                )
            )
        )
    return found


def check_bills(
    session: Session, actor: Actor, raw: bytes, mapping: Mapping[str, str | None], system: str
) -> BillCheck:
    """The dry run: every line read and checked, nothing written but the audit row (counts only)."""
    report = _run(session, actor.site_id, raw, mapping, system).report
    audit.record_by(
        session,
        actor,
        "bill_import_checked",
        target_type="bill_import",
        target_id=system.strip(),
        detail=_detail(report),
    )
    return report


def apply_bills(
    session: Session, actor: Actor, raw: bytes, mapping: Mapping[str, str | None], system: str, checked_sha256: str
) -> BillCheck:
    """Write the checked file's lines in the caller's transaction; any error raises ``BillImportRefused``.
    Lines already imported are skipped: the returned ``new`` counts what this run added."""
    if file_digest(raw) != checked_sha256:
        raise InputError("import_err_not_checked")
    run = _run(session, actor.site_id, raw, mapping, system)
    if not run.report.ok:
        raise BillImportRefused(run.report)
    added = add_charge_lines(session, actor.site_id, [replace(c, created_by=actor.user_id) for c in run.charges])
    report = BillCheck(run.report.sha256, run.report.rows, added, run.report.rows - added)
    audit.record_by(
        session,
        actor,
        "bill_import_applied",
        target_type="bill_import",
        target_id=system.strip(),
        detail=_detail(report),
    )
    return report


def _detail(report: BillCheck) -> dict[str, object]:
    return {
        "sha256": report.sha256,
        "rows": report.rows,
        "new": report.new,
        "already": report.already,
        "errors": len(report.errors),
    }
