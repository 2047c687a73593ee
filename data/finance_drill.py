"""Drill-downs: the rows behind a report figure, paged and sorted on the server. Patients appear by their RM
(medical record number) only, never by name or NIK."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.finance_query import charge_conditions, page
from data.models import ChargeLine, Doctor, Patient, Poli, Ward
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
_LINE_KEYS = ("day", "unit", "payer", "poli_id", "ward_id", "doctor_id")


def narrowed(flt: ReportFilter, row_key: dict, allowed: tuple[str, ...]) -> ReportFilter:
    """The filter narrowed by a row's key (``{"day": "2026-03-02"}`` is that one day)."""
    unknown = set(row_key) - set(allowed)
    if unknown:
        raise ValueError(f"unknown drill key(s) {sorted(unknown)}")
    changes: dict = {k: v for k, v in row_key.items() if k in ("unit", "payer", "poli_id", "ward_id", "doctor_id")}
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
    count_query = select(line.id).where(*charge_conditions(line, site_id, flt))
    return page(session, query, LINE_COLUMNS, sort_keys, line.id, count_query, **paging)
