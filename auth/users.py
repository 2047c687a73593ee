"""User accounts: sign-in under the throttle, creation, roles, disabling, password resets, TV display tokens.

Every function takes an open session and leaves the commit to the caller, so a change and its audit row land
together. Errors a user can cause raise ``InputError`` with a catalogue key for the message.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from auth import throttle
from auth.password_policy import check_new_password
from auth.passwords import dummy_hash, hash_password, needs_rehash, normalise, verify_password
from config import Settings
from data import audit
from data.display_screens import display_paths
from data.models import DisplayToken, Site, User, UserRole
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError, check_fields
from domain.roles import ROLES

USERNAME = re.compile(r"^[a-z0-9._-]{3,64}$")


@dataclass(frozen=True)
class LoginResult:
    """The answer to a password check, at sign-in or when changing one's password or confirming it is you."""

    outcome: str  # "ok", "invalid" (unknown account, wrong password or disabled: one answer), "throttled"
    user_id: int | None = None
    wait_seconds: int = 0  # "throttled": how long until an attempt is checked again
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str | None,
    settings: Settings,
    now: datetime | None = None,
) -> LoginResult:
    """Check a username and password under the sign-in throttle (``auth.throttle``). An unknown account, a wrong
    password and a disabled account get one answer, "invalid", in the same time; an attempt inside a wait is
    "throttled" without its password being checked. The audit log keeps the true reason."""
    now = now or utcnow()
    name = username.strip().lower()[:64]
    keys = throttle.sign_in_keys(name, ip)
    user = find_user(session, name)
    actor = dict(user_id=user.id, username=user.username, site_id=user.site_id) if user else dict(username=name)
    wait = throttle.check(session, keys, now)
    if wait:
        verify_password(dummy_hash(), password)  # as long as a checked attempt: the wait tells nothing more
        audit.record(session, "login_refused", **actor, ip=ip, detail={"reason": "throttled", "seconds": wait})
        return LoginResult("throttled", wait_seconds=wait)
    right = verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not right or not user.active:
        reason = "unknown_user" if user is None else "bad_password" if not right else "disabled"
        audit.record(session, "login_failed", **actor, ip=ip, detail={"reason": reason})
        throttle.fail(session, keys, now, settings)
        return LoginResult("invalid")
    throttle.clear(session, throttle.cleared_on_success(keys))
    user.last_login_at = now
    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    audit.record(session, "login", **actor, ip=ip)
    return LoginResult("ok", user_id=user.id)


def check_own_password(
    session: Session,
    actor: Actor,
    user: User,
    password: str,
    *,
    action: str,
    settings: Settings,
    now: datetime | None = None,
) -> LoginResult:
    """Check the signed-in ``user``'s own password (to change it, or to confirm a sensitive action) under the same
    throttle keys as signing in, so no door adds guesses. A wrong one is audited as ``action`` and counted: leave
    it for the caller to commit."""
    now = now or utcnow()
    keys = throttle.sign_in_keys(user.username, actor.ip)
    who = dict(user_id=actor.user_id, username=actor.username, site_id=actor.site_id, ip=actor.ip)
    wait = throttle.check(session, keys, now)
    if wait:
        audit.record(session, action, **who, detail={"reason": "throttled", "seconds": wait})
        return LoginResult("throttled", user.id, wait_seconds=wait)
    if not verify_password(user.password_hash, password):
        audit.record(session, action, **who, detail={"reason": "bad_password"})
        throttle.fail(session, keys, now, settings)
        return LoginResult("invalid", user.id)
    throttle.clear(session, throttle.cleared_on_success(keys))
    return LoginResult("ok", user.id)


def acceptable_password(session: Session, password: str, *, username: str, full_name: str, site_id: int) -> str:
    """``password`` as it is hashed, if the policy (``auth.password_policy``) accepts it for this account;
    else ``InputError`` with the reason."""
    site = session.get(Site, site_id)
    context = (username, full_name, *((site.name, site.code) if site else ()))
    return check_new_password(password, context)


def _validate_roles(roles: set[str] | list[str] | tuple[str, ...]) -> set[str]:
    chosen = set(roles)
    if not chosen:
        raise InputError("err_roles_empty")
    unknown = chosen - set(ROLES)
    if unknown:
        raise InputError("err_roles_unknown", roles=", ".join(sorted(unknown)))
    return chosen


def _new_username(session: Session, name: str) -> str:
    if not USERNAME.match(name):
        raise InputError("err_username_format")
    if session.scalar(select(func.count()).select_from(User).where(User.username == name)):
        raise InputError("err_username_taken", username=name)
    return name


def _required_name(full_name: str) -> str:
    if not full_name.strip():
        raise InputError("err_full_name_required")
    return full_name.strip()


def create_user(
    session: Session,
    actor: Actor,
    *,
    site_id: int,
    username: str,
    full_name: str,
    roles: set[str] | list[str] | tuple[str, ...],
    password: str,
    must_change_password: bool = True,
    password_hash: str | None = None,
) -> User:
    """Create an account; the username is stored in lower case and must be unique. Every field is checked at once:
    ``FieldErrors`` names each wrong one (``username``, ``full_name``, ``roles``, ``password``). A caller that hashed
    ``password`` itself passes ``password_hash``, and the password policy is not applied: only the demo seed does,
    with its generated or clearly marked ``PANTAU_DEMO_PASSWORD``, hashing once for all demo users."""
    name = username.strip().lower()
    checks = {
        "username": lambda: _new_username(session, name),
        "full_name": lambda: _required_name(full_name),
        "roles": lambda: _validate_roles(roles),
    }
    if password_hash is None:
        checks["password"] = lambda: acceptable_password(
            session, password, username=name, full_name=full_name, site_id=site_id
        )
    values = check_fields(checks)
    chosen = values["roles"]
    if password_hash is None:  # hashed once everything else is right: Argon2id is slow on purpose
        password_hash = hash_password(values["password"])
    user = User(
        site_id=site_id,
        username=name,
        full_name=values["full_name"],
        password_hash=password_hash,
        must_change_password=must_change_password and not _display_only(chosen),
        roles=[UserRole(role=r) for r in sorted(chosen)],
    )
    session.add(user)
    session.flush()
    audit_account(session, actor, "user_created", user, {"roles": sorted(chosen)})
    return user


def set_roles(session: Session, actor: Actor, user: User, roles: set[str] | list[str]) -> None:
    chosen = _roles_for(actor, user, roles)
    before = sorted(user.role_names)
    user.roles = [UserRole(role=r) for r in sorted(chosen)]
    user.must_change_password = user.must_change_password and not _display_only(chosen)
    audit_account(session, actor, "user_roles_changed", user, {"before": before, "after": sorted(chosen)})


def _roles_for(actor: Actor, user: User, roles: set[str] | list[str]) -> set[str]:
    """The roles ``actor`` may give ``user``: known ones, at least one, and never her own admin role taken away."""
    chosen = _validate_roles(roles)
    if actor.user_id == user.id and "admin" in user.role_names and "admin" not in chosen:
        raise InputError("err_cannot_drop_own_admin")
    return chosen


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    _check_active(actor, user, active)
    user.active = active
    if not active:
        end_sessions(session, user)
    audit_account(session, actor, "user_enabled" if active else "user_disabled", user, None)


def _check_active(actor: Actor, user: User, active: bool) -> None:
    if actor.user_id == user.id and not active:
        raise InputError("err_cannot_disable_self")


def change_account(session: Session, actor: Actor, user: User, *, roles: list[str], active: bool) -> None:
    """The users page's save: roles and whether the account is active, both or neither; every refused field is
    named at once (``FieldErrors`` on ``roles`` and ``active``)."""
    check_fields(
        {"roles": lambda: _roles_for(actor, user, roles), "active": lambda: _check_active(actor, user, active)}
    )
    set_roles(session, actor, user, roles)
    if user.active != active:
        set_active(session, actor, user, active)


def reset_password(session: Session, actor: Actor, user: User, new_password: str) -> None:
    """Set a temporary password the user must change at next sign-in; forgets the account's sign-in failures."""
    typed = acceptable_password(
        session, new_password, username=user.username, full_name=user.full_name, site_id=user.site_id
    )
    user.password_hash = hash_password(typed)
    user.must_change_password = not _display_only(user.role_names)
    throttle.clear(session, throttle.sign_in_keys(user.username, None))
    end_sessions(session, user)
    audit_account(session, actor, "password_reset", user, None)


def change_own_password(
    session: Session,
    actor: Actor,
    user: User,
    current: str,
    new: str,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> LoginResult:
    """Replace ``user``'s password after checking the current one (``check_own_password``: throttled with
    signing in). Returns "ok", "invalid" (wrong current password, counted and audited: leave it for the caller to
    commit) or "throttled"; a new password the policy refuses raises ``InputError`` and changes nothing."""
    checked = check_own_password(
        session, actor, user, current, action="password_change_failed", settings=settings, now=now
    )
    if not checked.ok:
        return checked
    typed = acceptable_password(session, new, username=user.username, full_name=user.full_name, site_id=user.site_id)
    if typed == normalise(current):
        raise InputError("err_password_unchanged")
    user.password_hash = hash_password(typed)
    user.must_change_password = False
    version = end_sessions(session, user)
    audit_account(session, actor, "password_changed", user, None)
    return LoginResult("ok", user.id, extra={"session_version": version})


def end_sessions(session: Session, user: User) -> int:
    """End every session of ``user`` on every web worker at their next request (``auth.session``); returns the new
    session version, which a session that must survive (the one changing its own password) takes over."""
    session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    session.refresh(user, ["session_version"])
    return user.session_version


def _display_only(roles: set[str] | frozenset[str]) -> bool:
    """A TV's account: it signs in by token and has no one to type a password, so it is never asked to change one."""
    return set(roles) == {"display"}


def create_display_token(session: Session, actor: Actor, user: User, label: str, board_path: str = "") -> str:
    """Issue a display token for a ``display`` user, opening ``board_path`` when given (a queue board such as
    ``/papan/farmasi`` or a ward station such as ``/bangsal/ICU``; empty = home); only its SHA-256 is kept, the
    token is returned once."""
    if not _display_only(user.role_names):
        raise InputError("err_display_token_role")
    board_path = board_path.strip()
    if board_path:
        paths = display_paths(session, user.site_id)
        if board_path not in paths:
            raise InputError("board_err_unknown_path", path=board_path, boards=", ".join(paths))
    token = secrets.token_urlsafe(32)
    session.add(DisplayToken(user_id=user.id, label=label, board_path=board_path, token_sha256=token_digest(token)))
    audit_account(session, actor, "display_token_created", user, {"label": label, "board": board_path})
    return token


def user_for_display_token(session: Session, token: str) -> User | None:
    row = session.scalar(
        select(DisplayToken).where(DisplayToken.token_sha256 == token_digest(token), DisplayToken.active.is_(True))
    )
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or user.role_names != {"display"}:
        return None
    row.last_used_at = utcnow()
    return user


def display_token_board(session: Session, token: str) -> str:
    """The board path a display token opens (empty: the home page)."""
    return session.scalar(select(DisplayToken.board_path).where(DisplayToken.token_sha256 == token_digest(token))) or ""


def token_digest(token: str) -> str:
    """The stored form of a display token."""
    return hashlib.sha256(token.encode()).hexdigest()


def audit_account(session: Session, actor: Actor, action: str, user: User, detail: dict | None = None) -> None:
    """Audit ``action`` by ``actor`` on the account ``user``."""
    audit.record(
        session,
        action,
        user_id=actor.user_id,
        username=actor.username,
        site_id=actor.site_id,
        target_type="user",
        target_id=user.id,
        ip=actor.ip,
        detail=detail,
    )


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    """The usernames of ``user_ids`` (unknown ids are left out)."""
    rows = session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return {user_id: username for user_id, username in rows}


def list_users(session: Session, site_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.site_id == site_id).order_by(User.username)))


def site_user(session: Session, site_id: int, user_id: int) -> User | None:
    """The account ``user_id`` if it belongs to ``site_id`` (an administrator manages their own site's accounts)."""
    user = session.get(User, user_id)
    return user if user is not None and user.site_id == site_id else None
