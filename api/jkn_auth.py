"""Mobile JKN's credentials and token: ``x-username``/``x-password`` (compared in constant time) give an HS256
JWT signed with ``PANTAU_JKN_TOKEN_SECRET`` (``sub`` = username, ``exp`` after ``PANTAU_JKN_TOKEN_MINUTES``);
every other call brings it back in ``x-token`` with the same ``x-username``."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

import jwt

from config import Settings
from domain.errors import InputError

ALGORITHM = "HS256"


def _configured(settings: Settings) -> bool:
    return bool(settings.jkn_username and settings.jkn_password and settings.jkn_token_secret)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def check_credentials(settings: Settings, username: str, password: str) -> None:
    """Raise ``InputError`` unless the configured Mobile JKN username and password were given."""
    if not _configured(settings):
        raise InputError("jkn_not_configured")
    if not username or not password:
        raise InputError("jkn_credentials_missing")
    # both comparisons always run: the time taken does not tell which one failed
    if not (_same(username, settings.jkn_username) & _same(password, settings.jkn_password)):
        raise InputError("jkn_login_failed")


def issue_token(settings: Settings, now: datetime) -> str:
    claims = {"sub": settings.jkn_username, "iat": now, "exp": now + timedelta(minutes=settings.jkn_token_minutes)}
    return jwt.encode(claims, settings.jkn_token_secret, algorithm=ALGORITHM)


def check_token(settings: Settings, token: str, username: str) -> None:
    """Raise ``InputError`` unless ``token`` is ours, unexpired and issued to ``username`` (the configured one)."""
    if not _configured(settings):
        raise InputError("jkn_not_configured")
    if not token or not username:
        raise InputError("jkn_token_missing")
    try:
        claims = jwt.decode(
            token, settings.jkn_token_secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise InputError("jkn_token_expired") from None
    except jwt.InvalidTokenError:
        raise InputError("jkn_token_invalid") from None
    if not (_same(username, claims["sub"]) & _same(username, settings.jkn_username)):
        raise InputError("jkn_token_user")
