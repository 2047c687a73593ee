"""Flask-Login wiring: the signed-in user as a small immutable object loaded fresh on every request.

A session holds the account's ``session_version`` from when it signed in (``start_session``); the account's
version is raised by ``auth.users.end_sessions`` (sign-out, a password change or reset, disabling the account,
revoking a TV), and a session whose version is behind is no session at all from its next request on, on every
web worker: the version lives in the database, not in any process."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, g, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from auth.reauth import CHECKED_AT_KEY
from data import audit
from data.models import Site, User, UserRole
from data.runtime import current_runtime
from domain.actor import Actor


@dataclass(frozen=True)
class CurrentUser(UserMixin):
    """What request code may know about the signed-in user (no password hash)."""

    id: int
    username: str
    full_name: str
    roles: frozenset[str]
    site_id: int
    site_name: str
    language: str
    must_change_password: bool
    session_version: int

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_display(self) -> bool:
        return self.roles == {"display"}

    @classmethod
    def of(cls, account: Any, roles: frozenset[str], site_name: str) -> CurrentUser:
        """From anything with the account's columns: a :class:`User`, or a row of ``_ACCOUNT``."""
        return cls(
            id=account.id,
            username=account.username,
            full_name=account.full_name,
            roles=roles,
            site_id=account.site_id,
            site_name=site_name,
            language=account.language,
            must_change_password=account.must_change_password,
            session_version=account.session_version,
        )

    @classmethod
    def from_model(cls, user: User) -> CurrentUser:
        return cls.of(user, user.role_names, user.site.name)


def load_user(db: Session, user_id: object, session_version: object) -> CurrentUser | None:
    """The account ``user_id`` (flask-login's id, a string) if it is active and still on ``session_version`` (the
    version its session signed in with); None otherwise. Shared by the web app and the stream server."""
    if not isinstance(user_id, str) or not user_id.isdigit():
        return None
    rows = db.execute(_ACCOUNT, {"user_id": int(user_id)}).all()  # one row per role, in one statement
    if not rows:
        return None
    first = rows[0]
    if not first.active or first.session_version != session_version:
        return None
    return CurrentUser.of(first, frozenset(row.role for row in rows if row.role is not None), first.site_name)


# What a request needs of the signed-in account, its site's name and its roles: one statement on every request,
# built once (only its parameter is bound per request).
_ACCOUNT = (
    select(
        User.id,
        User.username,
        User.full_name,
        User.site_id,
        Site.name.label("site_name"),
        User.language,
        User.must_change_password,
        User.session_version,
        User.active,
        UserRole.role,
    )
    .join(Site, Site.id == User.site_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


def _load_user(user_id: str) -> CurrentUser | None:
    # Loaded from the database on each request, so a disabled account or a role change takes effect at once.
    with current_runtime().db.session() as db:
        return load_user(db, user_id, session.get(SESSION_VERSION_KEY))


def session_expiry(values: Mapping[str, Any], absolute_hours: int, timeout_minutes: int, now: float) -> str | None:
    """Why a session (its stored ``values``) has ended by time: ``"idle"`` (no activity for ``timeout_minutes``)
    or ``"absolute"`` (``absolute_hours`` since sign-in, active or not); None while it lasts."""
    if now - values.get(SIGNED_IN_AT_KEY, now) > absolute_hours * 3600:
        return "absolute"
    seen = values.get("seen")
    return "idle" if seen is not None and now - seen > timeout_minutes * 60 else None


SESSION_VERSION_KEY = "sv"
SIGNED_IN_AT_KEY = "signed_in_at"
USER_ID_KEY = "_user_id"  # flask-login's key of the signed-in user's id in the session
SESSION_COOKIE = "pantau_session"
SESSION_LIFETIME = timedelta(days=1)  # a signed session cookie is refused this long after it was last written
CSRF_FIELD = "csrf_token"  # Flask-WTF's session key and form field (WTF_CSRF_FIELD_NAME), cached in flask.g too


def start_session(user: CurrentUser) -> None:
    """Sign ``user`` in on a fresh session (no fixation), remembering the account's session version and when."""
    lang = session.get("lang")
    session.clear()
    login_user(user)
    session.permanent = True
    session[SESSION_VERSION_KEY] = user.session_version
    session[SIGNED_IN_AT_KEY] = session["seen"] = session[CHECKED_AT_KEY] = time.time()
    if lang:
        session["lang"] = lang
    # The CSRF secret of the sign-out forms, made now: made later, by the app's first requests running side by
    # side, one of them could write the session back without it and void the token the page holds.
    g.pop(CSRF_FIELD, None)
    generate_csrf()


def keep_session(session_version: int) -> None:
    """This session survives a change that ended the account's others (its own password change)."""
    session[SESSION_VERSION_KEY] = session_version


def client_ip() -> str | None:
    """The client's address: the socket's peer, or behind ``PANTAU_TRUSTED_PROXIES`` reverse proxies the address the
    outermost trusted one saw (``create_app`` puts werkzeug's ProxyFix in front); a client-sent X-Forwarded-For
    alone never changes it."""
    return request.remote_addr


def current_actor() -> Actor:
    """This request's signed-in user as the ``Actor`` every audited service takes."""
    return Actor(current_user.id, current_user.username, current_user.site_id, client_ip())


def init_login_manager(server: Flask) -> LoginManager:
    manager = LoginManager()
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    manager.init_app(server)
    return manager


def audit_signed_in(db: Session, action: str, **fields: object) -> None:
    """Audit ``action`` by this request's signed-in user (user, site and client address filled in)."""
    audit.record_by(db, current_actor(), action, **fields)


def end_session() -> None:
    """Sign out and clear the session, keeping only the chosen language."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
