"""Append-only audit trail: who did what to which record, from where."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from data.models import AuditLog
from domain.actor import Actor


def record(
    session: Session,
    action: str,
    *,
    user_id: int | None = None,
    username: str | None = None,
    site_id: int | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one audit row to ``session`` (committed with the change it describes)."""
    session.add(
        AuditLog(
            action=action,
            user_id=user_id,
            username=username,
            site_id=site_id,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            ip=ip,
            detail=detail,
        )
    )


def record_by(session: Session, actor: Actor, action: str, **fields: Any) -> None:
    """``record`` for an ``Actor`` (who, which site, from where)."""
    record(
        session, action, user_id=actor.user_id, username=actor.username, site_id=actor.site_id, ip=actor.ip, **fields
    )


def uncommitted(session: Session, action: str) -> list[dict[str, Any]]:
    """The ``action`` rows ``session`` holds but has not committed, as plain values: a caller whose work is refused
    (and rolled back) writes them again with ``record_rows``, so what was read stays audited."""
    columns = [c.key for c in AuditLog.__table__.columns if c.key != "id"]
    rows = [row for row in session if isinstance(row, AuditLog) and row.action == action]
    return [{c: getattr(row, c) for c in columns} for row in rows]


def record_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add audit rows taken by ``uncommitted`` from a transaction that was rolled back."""
    session.add_all(AuditLog(**row) for row in rows)
