"""Who is acting: the value every audited service takes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit log: a user (or a named process such as ``cli``), their site and address."""

    user_id: int | None
    username: str | None
    site_id: int | None
    ip: str | None = None
