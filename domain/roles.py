"""The roles of DESIGN §8 and who may open what."""

from __future__ import annotations

ROLES: tuple[str, ...] = ("admin", "manager", "nurse", "doctor", "front_desk", "pharmacy", "finance", "display")
STAFF_ROLES: tuple[str, ...] = tuple(r for r in ROLES if r != "display")
EVERYONE: tuple[str, ...] = ROLES


def may_open(user_roles: frozenset[str] | set[str], page_roles: tuple[str, ...] | list[str] | None) -> bool:
    """A page without ``roles`` is closed to everyone: access is granted explicitly, never by omission."""
    return bool(page_roles) and bool(set(user_roles) & set(page_roles))
