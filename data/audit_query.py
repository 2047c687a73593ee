"""Reading the audit trail for the audit viewer (/admin/audit): one filter, a page of rows counted and sorted on
the server (a column shown by name in the order of its names), and the capped rows of an export. Nothing here
decrypts anything: the log holds ids and actions, never identifiers in clear.

A patient is found by RM; a row concerns that patient when its object is the patient (``target_type`` 'patient')
or its detail names the patient (``patient_id``, or a ``patient_ids`` list such as a ``patient_search``'s hits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    cast,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    values,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from data.models import AuditLog, Patient

PATIENT_TARGET = "patient"
# The grid's sortable columns and what each sorts by (the id breaks ties so pages never overlap).
SORTS: dict[str, tuple[Any, ...]] = {
    "at": (AuditLog.at,),
    "username": (AuditLog.username,),
    "action": (AuditLog.action,),
    # an object's kind, then its id as a number reads (the shorter first: "Akun 2" before "Akun 10")
    "target": (AuditLog.target_type, func.length(AuditLog.target_id), AuditLog.target_id),
    "ip": (AuditLog.ip,),
}
NAMED = {"action", "target"}  # sortable columns the viewer shows by name: their first sort key is the named code


@dataclass(frozen=True)
class AuditFilter:
    """What the viewer asks for; ``None`` is "any". ``start`` is inclusive and ``end`` exclusive (UTC)."""

    site_id: int
    username: str | None = None
    patient_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    """One audit row as the viewer shows it."""

    id: int
    at: datetime
    username: str | None
    action: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    detail: dict | None


@dataclass(frozen=True)
class AuditPage:
    """Rows of one page and how many rows the filter matches in all."""

    rows: list[AuditRow]
    count: int


def patient_id_by_mrn(session: Session, site_id: int, mrn: str) -> int | None:
    """The id of the site's patient with this RM (as typed, surrounding blanks ignored), if any."""
    return session.scalar(select(Patient.id).where(Patient.site_id == site_id, Patient.mrn == mrn.strip()))


def page(
    session: Session,
    flt: AuditFilter,
    *,
    offset: int,
    limit: int,
    sort: str | None = None,
    descending: bool = True,
    name_order: Mapping[str, Sequence[str]] | None = None,
) -> AuditPage:
    """``limit`` rows from ``offset`` of those ``flt`` matches, sorted by ``sort`` (newest first by default).
    ``name_order`` gives, for a column shown by name (``NAMED``), its codes in the order of their names: that column
    then sorts as the names read, codes without a name after them."""
    where = _conditions(session, flt)
    order = (name_order or {}).get(sort or "")
    rows = _rows(session, where, offset=offset, limit=limit, sort=sort, descending=descending, name_order=order)
    return AuditPage(rows, _count(session, where))


def count(session: Session, flt: AuditFilter) -> int:
    """How many rows ``flt`` matches."""
    return _count(session, _conditions(session, flt))


def export_rows(session: Session, flt: AuditFilter, cap: int) -> AuditPage:
    """The newest ``cap`` rows ``flt`` matches, and how many it matches in all (more than ``cap`` when capped)."""
    return page(session, flt, offset=0, limit=cap)


def _count(session: Session, where: list) -> int:
    return session.scalar(select(func.count()).select_from(AuditLog).where(*where)) or 0


def _site(site_id: int) -> ColumnElement[bool]:
    # Rows without a site are the process's own (a sign-in with an unknown username, a command-line action).
    return or_(AuditLog.site_id == site_id, AuditLog.site_id.is_(None))


def _conditions(session: Session, flt: AuditFilter) -> list[ColumnElement[bool]]:
    where = [_site(flt.site_id)]
    if flt.username:
        # By the name on the row: an account's own actions and the failed sign-ins typed with its name alike.
        where.append(AuditLog.username == flt.username)
    if flt.patient_id is not None:
        where.append(_concerns_patient(session, flt.patient_id))
    if flt.action:
        where.append(AuditLog.action == flt.action)
    if flt.target_type:
        where.append(AuditLog.target_type == flt.target_type)
    if flt.target_id:
        where.append(AuditLog.target_id == flt.target_id)
    if flt.start is not None:
        where.append(AuditLog.at >= flt.start)
    if flt.end is not None:
        where.append(AuditLog.at < flt.end)
    return where


def _concerns_patient(session: Session, patient_id: int) -> ColumnElement[bool]:
    """The row's object is the patient, or its detail names the patient (alone or in a list)."""
    own = and_(AuditLog.target_type == PATIENT_TARGET, AuditLog.target_id == str(patient_id))
    if session.get_bind().dialect.name == "postgresql":
        detail = cast(AuditLog.detail, JSONB)
        named = or_(detail.contains({"patient_ids": [patient_id]}), detail.contains({"patient_id": patient_id}))
    else:
        listed = func.json_each(AuditLog.detail, "$.patient_ids").table_valued("value")
        named = or_(
            exists(select(literal_column("1")).select_from(listed).where(listed.c.value == patient_id)),
            func.json_extract(AuditLog.detail, "$.patient_id") == patient_id,
        )
    return or_(own, named)


def _rows(
    session: Session,
    where: list,
    *,
    offset: int,
    limit: int,
    sort: str | None,
    descending: bool,
    name_order: Sequence[str] | None,
) -> list[AuditRow]:
    keys = (*SORTS.get(sort or "at", SORTS["at"]), AuditLog.id)
    query = select(
        AuditLog.id,
        AuditLog.at,
        AuditLog.username,
        AuditLog.action,
        AuditLog.target_type,
        AuditLog.target_id,
        AuditLog.ip,
        AuditLog.detail,
    )
    if sort in NAMED and name_order:
        query, rank = _ranked(query, keys[0], name_order)
        keys = (rank, *keys)
    order = [key.desc() if descending else key.asc() for key in keys]
    found = session.execute(query.where(*where).order_by(*order).offset(max(offset, 0)).limit(max(limit, 0)))
    return [AuditRow(*row) for row in found]


def _ranked(query: Select, code: Any, codes: Sequence[str]) -> tuple[Select, ColumnElement[int]]:
    """``query`` joined to each code's place in ``codes`` (a small table of them, so the database hashes the join
    rather than testing a hundred cases per row), and that place: after the last for a code not listed."""
    places = (
        values(column("code", String), column("place", Integer), name="name_order")
        .data([(value, n) for n, value in enumerate(codes)])
        .cte("name_order")
    )
    joined = query.outerjoin(places, places.c.code == code)
    return joined, func.coalesce(places.c.place, len(codes))
