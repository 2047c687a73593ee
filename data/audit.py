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
