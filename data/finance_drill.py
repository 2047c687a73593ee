"""Drill-downs: the rows behind a report figure, paged and sorted on the server. Patients appear by their RM
(medical record number) only, never by name or NIK."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from data.finance_claims_report import cbg_group
from data.finance_query import charge_conditions, claim_conditions, page
from data.finance_receivables import bucket_bounds, claim_query, invoice_query
from data.models import BpjsClaim, ChargeDaily, ChargeLine, Doctor, Patient, Poli, Ward
from data.schedules import local_today
from domain.claim_rules import NOT_SUBMITTED, submission_deadline
from domain.finance import Column, DrillPage, ReportFilter

LINE_COLUMNS = (
    Column("day", "fin_col_day", "date"),
    Column("unit", "fin_col_unit", "unit"),
    Column("payer", "fin_col_payer", "payer"),
    Column("poli", "fin_col_poli", "text"),
    Column("ward", "fin_col_ward", "text"),
    Column("doctor", "fin_col_doctor", "text"),
    Column("code", "fin_col_code", "text"),
    Column("description", "fin_col_description", "text"),
    Column("quantity", "fin_col_quantity", "count"),
    Column("price", "fin_col_price", "rupiah"),
    Column("amount", "fin_col_amount", "rupiah"),
    Column("mrn", "fin_col_mrn", "text"),
)
_FILTER_KEYS = ("unit", "payer", "poli_id", "ward_id", "doctor_id")
_LINE_KEYS = ("day", *_FILTER_KEYS)


def narrowed(flt: ReportFilter, row_key: dict, allowed: tuple[str, ...]) -> ReportFilter:
    """The filter narrowed by a row's key (``{"day": "2026-03-02"}`` is that one day)."""
    unknown = set(row_key) - set(allowed)
    if unknown:
        raise ValueError(f"unknown drill key(s) {sorted(unknown)}")
    changes: dict = {k: v for k, v in row_key.items() if k in _FILTER_KEYS}
    if "day" in row_key:
        day = date.fromisoformat(row_key["day"])
        changes.update(start=day, end=day)
    return replace(flt, **changes)


def revenue_lines(session: Session, site_id: int, flt: ReportFilter, row_key: dict, **paging) -> DrillPage:
    """The charge lines behind a revenue figure."""
    flt = narrowed(flt, row_key, _LINE_KEYS)
    line = ChargeLine
    sort_keys = {
        "day": line.service_date,
        "unit": line.unit,
        "payer": line.payer,
        "poli": Poli.name,
        "ward": Ward.name,
        "doctor": Doctor.name,
        "code": line.tariff_code,
        "description": line.description,
        "quantity": line.quantity,
        "price": line.unit_price,
        "amount": line.amount,
        "mrn": Patient.mrn,
    }
    query = (
        select(
            line.service_date,
            line.unit,
            line.payer,
            Poli.name,
            Ward.name,
            Doctor.name,
            line.tariff_code,
            line.description,
            line.quantity,
            line.unit_price,
            line.amount,
            func.coalesce(Patient.mrn, ""),
        )
        .outerjoin(Poli, Poli.id == line.poli_id)
        .outerjoin(Ward, Ward.id == line.ward_id)
        .outerjoin(Doctor, Doctor.id == line.doctor_id)
        .outerjoin(Patient, Patient.id == line.patient_id)
        .where(*charge_conditions(line, site_id, flt))
    )
    # the rollup counts the lines by every key the filter has: no count over millions of lines
    count = session.scalar(select(func.sum(ChargeDaily.lines)).where(*charge_conditions(ChargeDaily, site_id, flt)))
    return page(session, query, LINE_COLUMNS, sort_keys, (line.service_date, line.id), int(count or 0), **paging)


CLAIM_COLUMNS = (
    Column("sep", "fin_col_sep", "text"),
    Column("episode", "fin_col_episode", "unit"),
    Column("service_end", "fin_col_service_end", "date"),
    Column("inacbg_code", "fin_col_inacbg_code", "text"),
    Column("hospital_tariff", "fin_col_hospital_tariff", "rupiah"),
    Column("inacbg_tariff", "fin_col_inacbg_tariff", "rupiah"),
    Column("submitted", "fin_col_submitted", "rupiah"),
    Column("approved", "fin_col_approved", "rupiah"),
    Column("status", "fin_col_status", "claim_status"),
    Column("reason", "fin_col_reason", "text"),
    Column("days_left", "fin_col_days_left", "count"),
)
_CLAIM_KEYS = ("status", "cbg", "doctor_id", "poli_id", "ward_id", "sep", "with_tariff")


def claims(session: Session, site_id: int, flt: ReportFilter, row_key: dict, **paging) -> DrillPage:
    """The claims behind a claims or margin figure (service end in the period). ``days_left`` is the days to the
    6-month submission limit of a claim not yet submitted (negative once past), from the site's today."""
    flt = narrowed(flt, row_key, _CLAIM_KEYS)
    conditions = claim_conditions(site_id, flt)
    if "status" in row_key:
        conditions.append(BpjsClaim.status == row_key["status"])
    if "sep" in row_key:
        conditions.append(BpjsClaim.sep_number == row_key["sep"])
    if "cbg" in row_key:
        conditions.append(cbg_group() == row_key["cbg"])
    if "cbg" in row_key or row_key.get("with_tariff"):
        conditions.append(BpjsClaim.inacbg_tariff.is_not(None))
    claim = BpjsClaim
    columns = (
        claim.sep_number,
        claim.episode,
        claim.service_end,
        claim.inacbg_code,
        claim.hospital_tariff,
        claim.inacbg_tariff,
        claim.submitted_amount,
        claim.approved_amount,
        claim.status,
        claim.status_reason,
    )
    sort_keys = dict(zip([column.key for column in CLAIM_COLUMNS[:-1]], columns, strict=True))
    sort_keys["days_left"] = claim.service_end  # the deadline moves with the service end
    query = select(*columns).where(*conditions)
    result = page(session, query, CLAIM_COLUMNS, sort_keys, (claim.service_end, claim.id), **paging)
    today = local_today(session, site_id)
    rows = tuple(
        (*row, (submission_deadline(row[2]) - today).days if row[8] in NOT_SUBMITTED else None) for row in result.rows
    )
    return replace(result, rows=rows)


RECEIVABLE_COLUMNS = (
    Column("number", "fin_col_invoice", "text"),
    Column("payer", "fin_col_payer", "payer"),
    Column("issued", "fin_col_issued", "date"),
    Column("age_days", "fin_col_age_days", "count"),
    Column("total", "fin_col_total", "rupiah"),
    Column("paid", "fin_col_paid", "rupiah"),
    Column("outstanding", "fin_col_outstanding", "rupiah"),
)


def receivables(session: Session, site_id: int, flt: ReportFilter, row_key: dict, **paging) -> DrillPage:
    """The open invoices and unpaid submitted claims behind an ageing figure, as of ``flt.counted_end``."""
    flt = narrowed(flt, row_key, ("payer", "bucket"))
    both = union_all(invoice_query(session, site_id, flt), claim_query(session, site_id, flt)).subquery()
    conditions = []
    if "bucket" in row_key:
        oldest, youngest = bucket_bounds(row_key["bucket"], flt.counted_end)
        conditions.append(both.c.issued <= youngest)
        if oldest is not None:
            conditions.append(both.c.issued >= oldest)
    query = select(*both.c).where(*conditions)
    sort_keys = {column.key: both.c[column.key] for column in RECEIVABLE_COLUMNS}
    return page(session, query, RECEIVABLE_COLUMNS, sort_keys, (both.c.issued, both.c.number), **paging)
