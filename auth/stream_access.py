"""Who may hold a live stream, decided without a Flask request, so the stream server (streams/) applies exactly
the checks the web app's request guard (auth/guards.py) and ``roles_required`` apply to ``/stream/*``: Flask's
signed session cookie read with the app's secret key, flask-login's user id in it, the account active and on the
session's version (auth/session.py), the idle and absolute timeouts (a TV board has none), no password change or
TOTP enrolment pending, and one of the route's roles. The web app's stream routes share ``active_versions`` for
their periodic re-check (api/sse.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadData
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import mfa
from auth.session import SESSION_LIFETIME, SESSION_VERSION_KEY, USER_ID_KEY, CurrentUser, load_user, session_expiry
from config import Settings
from data.models import User
from domain.roles import may_open


@dataclass(frozen=True)
class Refusal:
    """A stream request refused: the HTTP status and the message key the JSON answer carries."""

    status: int
    key: str


def session_reader(secret_key: str) -> Callable[[str], dict[str, Any] | None]:
    """A reader of the web app's session cookie: its values, or None when it is forged, garbled or older than
    ``SESSION_LIFETIME``. It is Flask's own signing serializer (salt, digest, tagged JSON), built once."""
    signer = Flask(__name__)
    signer.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    if serializer is None:
        raise ValueError("the session cookie needs a secret key")
    max_age = int(SESSION_LIFETIME.total_seconds())

    def read(cookie: str) -> dict[str, Any] | None:
        try:
            values = serializer.loads(cookie, max_age=max_age)
        except BadData:
            return None
        return values if isinstance(values, dict) else None

    return read


def stream_user(
    db: Session, values: Mapping[str, Any] | None, settings: Settings, roles: tuple[str, ...] | None, now: float
) -> CurrentUser | Refusal:
    """The signed-in user of a session's ``values`` who may open a stream for ``roles`` (None: any signed-in
    user, as ``/stream/session``), or why not: 401 signed out or timed out, 403 a password change or TOTP
    enrolment comes first, or none of ``roles``."""
    values = values or {}
    user = load_user(db, values.get(USER_ID_KEY), values.get(SESSION_VERSION_KEY))
    if user is None:
        return Refusal(401, "err_signed_out")
    timeouts = (settings.session_absolute_hours, settings.session_timeout_minutes)
    if not user.is_display and session_expiry(values, *timeouts, now):
        return Refusal(401, "err_signed_out")
    if user.must_change_password and not user.is_display:
        return Refusal(403, "err_change_password_first")
    if not values.get(mfa.VERIFIED_KEY) and mfa.mfa_required(user.roles, settings):
        return Refusal(403, "mfa_enrol_first")
    if roles is not None and not may_open(user.roles, roles):
        return Refusal(403, "err_forbidden")
    return user


def active_versions(db: Session, user_ids: Iterable[int]) -> dict[int, int]:
    """The session version of each of ``user_ids`` that is an active account (one query, whatever the number of
    streams): a stream whose session signed in on another version has ended."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.session_version).where(User.id.in_(ids), User.active.is_(True)))
    return {row.id: row.session_version for row in rows}
