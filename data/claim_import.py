"""The monthly claim-status file (docs/claims.md): the hospital's own export of what BPJS answered, one SEP a line,
as CSV or XLSX with the columns ``COLUMNS``.

``check_claim_file`` is the dry run: every line is planned against the claims as they are (nothing written) and
every bad line is listed with its line number. ``apply_claim_file`` re-plans the same file in the caller's
transaction and refuses it whole on any error (all or nothing); it is tied to the checked file by SHA-256, and a
file already applied changes nothing and says so. A status the file skips over (submitted → paid) is walked
through its intermediate states, each recorded as an event with source ``import``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.claims import claims_by_sep, step
from data.models import AuditLog, BpjsClaim
from data.schedules import local_today
from data.setup_import import file_digest, sheet_cells
from data.setup_rows import conflicts_as_input_errors
from domain import claim_rules as rules
from domain.actor import Actor
from domain.errors import InputError
from domain.finance import CLAIM_STATES
from domain.free_text import clean_text
from domain.import_rules import RowError, SheetRow, repeated, sheet_rows

COLUMNS = ("no_sep", "status", "tarif_inacbg", "diajukan", "disetujui", "topup", "tanggal", "alasan")
AMOUNT_COLUMNS = {
    "tarif_inacbg": "inacbg_tariff",
    "diajukan": "submitted_amount",
    "disetujui": "approved_amount",
    "topup": "topup_amount",
}
# The words e-Klaim / V-Claim exports and hospital staff use, besides the codes themselves.
STATUS_WORDS = {
    "diajukan": "submitted",
    "terverifikasi": "verified",
    "layak": "eligible",
    "pending": "pending",
    "tidak layak": "not_eligible",
    "dispute": "dispute",
    "dibayar": "paid",
    "terbayar": "paid",
    **{code: code for code in CLAIM_STATES},
    "not eligible": "not_eligible",
}
APPLIED = "claim_import_applied"
_DMY = re.compile(r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})$")


@dataclass(frozen=True)
class _Plan:
    line: int
    claim_id: int
    amounts: dict[str, int]
    path: list[str]
    on: date
    reason: str | None


@dataclass(frozen=True)
class ClaimImportReport:
    """What a run found or did: the file's digest, its data rows, every refused line, and how many claims moved,
    only had amounts updated, or were already as the file says; ``already``: this file was applied before."""

    sha256: str
    rows: int
    errors: list[RowError]
    moved: int = 0
    updated: int = 0
    unchanged: int = 0
    already: bool = False
    plans: list[_Plan] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors


class ClaimImportRefused(InputError):
    """Apply found errors; nothing was saved."""

    def __init__(self, report: ClaimImportReport) -> None:
        super().__init__("import_err_apply_refused", n=len(report.errors))
        self.report = report


def status_of(word: str) -> str | None:
    """The claim status a file's word means (``Tidak Layak``, ``not_eligible``), or ``None``."""
    text = " ".join(word.lower().split())
    return STATUS_WORDS.get(text) or STATUS_WORDS.get(text.replace("_", " "))


def parse_day(text: str) -> date:
    """``2026-11-20`` (as a spreadsheet date cell reads) or ``20/11/2026`` (also with ``-`` or ``.``)."""
    text = text.strip()
    try:
        if match := _DMY.match(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise InputError("claim_imp_err_date") from exc


def _plan_row(row: SheetRow, claim: BpjsClaim | None, today: date) -> tuple[_Plan | None, list[RowError]]:
    values, line = row.values, row.line
    errors: list[RowError] = []
    if claim is None:
        return None, [RowError(line, "no_sep", "claim_imp_err_unknown_sep", {"sep": values["no_sep"][:24]})]
    target = status_of(values["status"])
    if target is None:
        errors.append(RowError(line, "status", "claim_imp_err_status", {"status": values["status"][:30]}))
    amounts: dict[str, int] = {}
    for column, attribute in AMOUNT_COLUMNS.items():
        try:
            value = rules.optional_amount(values[column])
        except InputError as err:
            errors.append(RowError(line, column, err.key))
            continue
        if value is not None and value != getattr(claim, attribute):
            amounts[attribute] = value
    on = None
    try:
        on = parse_day(values["tanggal"])
        if on > today or on < claim.service_end:
            errors.append(RowError(line, "tanggal", "claim_err_move_date"))
    except InputError as err:
        errors.append(RowError(line, "tanggal", err.key))
    reason = clean_text(values["alasan"] or "")[:300] or None
    path: list[str] = []
    if target is not None:
        found = rules.path_to(claim.status, target)
        if found is None:
            errors.append(RowError(line, "status", "claim_imp_err_transition", {"old": claim.status, "new": target}))
        else:
            path = found
            if target in rules.NEEDS_REASON and path and not reason:
                errors.append(RowError(line, "alasan", "claim_err_reason"))
            coded = claim.inacbg_code and amounts.get("inacbg_tariff", claim.inacbg_tariff) is not None
            if set(path) & {"grouped", "final", "submitted"} and not coded:
                errors.append(RowError(line, "status", "claim_err_needs_grouping"))
    if errors or on is None:
        return None, errors
    return _Plan(line, claim.id, amounts, path, on, reason), []


def _plan(session: Session, site_id: int, raw: bytes) -> ClaimImportReport:
    rows, errors = sheet_rows(sheet_cells(raw), COLUMNS)
    for row in rows:
        row.values["no_sep"] = re.sub(r"\s+", "", row.values["no_sep"]).upper()
    errors += repeated(rows, ("no_sep",))
    skip = {e.line for e in errors}
    claims = claims_by_sep(session, site_id, [r.values["no_sep"] for r in rows])
    today = local_today(session, site_id)
    plans = []
    for row in rows:
        if row.line in skip:
            continue
        plan, row_errors = _plan_row(row, claims.get(row.values["no_sep"]), today)
        errors += row_errors
        if plan:
            plans.append(plan)
    errors.sort(key=lambda e: e.line)
    moved = sum(1 for p in plans if p.path)
    updated = sum(1 for p in plans if p.amounts and not p.path)
    unchanged = len(plans) - moved - updated
    return ClaimImportReport(file_digest(raw), len(rows), errors, moved, updated, unchanged, plans=plans)


def _applied_before(session: Session, site_id: int, sha256: str) -> bool:
    found = select(AuditLog.id).where(
        AuditLog.site_id == site_id, AuditLog.action == APPLIED, AuditLog.target_id == sha256
    )
    return session.scalar(found.limit(1)) is not None


def check_claim_file(session: Session, actor: Actor, raw: bytes) -> ClaimImportReport:
    """The dry run: every line planned and checked, nothing written (only the check is audited)."""
    report = _plan(session, actor.site_id, raw)
    if _applied_before(session, actor.site_id, report.sha256):
        report = ClaimImportReport(report.sha256, report.rows, [], already=True)
    audit.record_by(
        session, actor, "claim_import_checked", target_type="claim_import", target_id=report.sha256,
        detail={"rows": report.rows, "errors": len(report.errors)},
    )  # fmt: skip
    return report


def apply_claim_file(session: Session, actor: Actor, raw: bytes, checked_sha256: str) -> ClaimImportReport:
    """Apply a checked file in the caller's transaction: all lines or none (``ClaimImportRefused``)."""
    if file_digest(raw) != checked_sha256:
        raise InputError("import_err_not_checked")
    if _applied_before(session, actor.site_id, checked_sha256):
        return ClaimImportReport(checked_sha256, 0, [], already=True)
    report = _plan(session, actor.site_id, raw)
    if not report.ok:
        raise ClaimImportRefused(report)
    with conflicts_as_input_errors():  # a claim changed by someone else since this file was planned
        for plan in report.plans:
            claim = session.get(BpjsClaim, plan.claim_id)
            for attribute, value in plan.amounts.items():
                setattr(claim, attribute, value)
            for status in plan.path:
                reason = plan.reason if status == plan.path[-1] else None
                step(session, claim, status, plan.on, reason, "import", actor.user_id)
            session.flush()
    audit.record_by(
        session, actor, APPLIED, target_type="claim_import", target_id=report.sha256,
        detail={"rows": report.rows, "moved": report.moved, "updated": report.updated},
    )  # fmt: skip
    return report
