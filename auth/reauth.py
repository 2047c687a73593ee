"""Step-up checks: sensitive actions (user administration, key rotation, exports of personal data, alarm-limit
changes) need the password or a TOTP code typed within the last ``Settings.reauth_minutes``."""

from __future__ import annotations

import time

from flask import session

from data.runtime import current_runtime

CHECKED_AT_KEY = "auth_at"


def mark_checked() -> None:
    """The user has just proved who they are (password, or password and code)."""
    session[CHECKED_AT_KEY] = time.time()


def recently_checked() -> bool:
    """Whether the password or code was typed within ``Settings.reauth_minutes`` in this session."""
    checked = session.get(CHECKED_AT_KEY)
    return checked is not None and time.time() - checked <= current_runtime().settings.reauth_minutes * 60
