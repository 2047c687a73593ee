"""Step-up checks: sensitive actions (user administration, key rotation, exports of personal data, alarm-limit
changes) need the password or a TOTP code typed within the last ``Settings.reauth_minutes``.

Three doors lead to the same check (``confirm_identity``), and wrong answers count in the sign-in throttle:

- a Dash callback calls ``confirm_needed()`` first; when the last check is too old it opens the shell's dialog
  (``MODAL_ID``, in ``components.shell``; its callback in ``callbacks.reauth``) and the callback answers "confirm
  first" and changes nothing. The page stays as it was, so the user confirms and repeats the action;
- a Flask route is decorated with ``@recent_check_required``: a data request gets 401 JSON naming the
  confirmation page, a person is sent to it (``CONFIRM_PATH``, ``auth.reauth_routes``) and back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import quote

from flask import jsonify, redirect, request, session
from flask_login import current_user
from sqlalchemy.orm import Session

from auth import users
from auth.errors import wants_json
from config import Settings
from data import audit
from data.models import User
from data.runtime import current_runtime
from domain.actor import Actor
from i18n.web import t

CHECKED_AT_KEY = "auth_at"
CONFIRM_PATH = "/akun/konfirmasi"
# The shell's confirmation dialog (components.shell draws it, callbacks.reauth answers it).
MODAL_ID = "reauth-modal"
INTRO_ID = "reauth-intro"
ANSWER_ID = "reauth-answer"
LABEL_ID = "reauth-label"
FEEDBACK_ID = "reauth-feedback"
SUBMIT_ID = "reauth-submit"
CANCEL_ID = "reauth-cancel"
DONE_ID = "reauth-done"


def mark_checked() -> None:
    """The user has just proved who they are (password, or password and code)."""
    session[CHECKED_AT_KEY] = time.time()


def recently_checked() -> bool:
    """Whether the password or code was typed within ``Settings.reauth_minutes`` in this session."""
    checked = session.get(CHECKED_AT_KEY)
    return checked is not None and time.time() - checked <= current_runtime().settings.reauth_minutes * 60


def _mfa() -> Any:
    """``auth.mfa``, imported when first needed: it imports ``auth.session``, which imports this module."""
    from auth import mfa

    return mfa


def asks_for_code() -> bool:
    """Whether the signed-in user confirms with an authenticator code (MFA on) rather than the password."""
    with current_runtime().db.session() as db:
        user = db.get(User, current_user.id)
        return user is not None and _mfa().mfa_enabled(user)


def prompt_texts(code: bool) -> tuple[str, str]:
    """The dialog's or page's introduction and field label, for a code or for the password."""
    minutes = current_runtime().settings.reauth_minutes
    if code:
        return t("thr_confirm_intro_code", minutes=minutes), t("thr_confirm_code")
    return t("thr_confirm_intro", minutes=minutes), t("thr_confirm_password")


def confirm_identity(
    db: Session, actor: Actor, answer: str, *, settings: Settings, now: datetime | None = None
) -> users.LoginResult:
    """Check the password, or the TOTP or recovery code when the account has MFA, of the signed-in ``actor``.
    Wrong answers count in the throttle (the password in the sign-in keys, a code in the account's code key) and
    are audited; a right one is audited as ``reauth``. The caller commits, and calls ``mark_checked`` on "ok"."""
    user = db.get(User, actor.user_id)
    if user is None:
        return users.LoginResult("invalid")
    code = _mfa().mfa_enabled(user)
    if code:
        checked = _mfa().verify_second_factor(db, user, answer)
        outcome = {"ok": "ok", "blocked": "throttled"}.get(checked.outcome, "invalid")
        result = users.LoginResult(outcome, user.id, wait_seconds=checked.wait_seconds if outcome == "throttled" else 0)
    else:
        result = users.check_own_password(db, actor, user, answer, action="reauth_failed", settings=settings, now=now)
    if result.ok:
        audit.record_by(db, actor, "reauth", detail={"with": "code" if code else "password"})
    return result


def confirm_needed() -> bool:
    """Call first in a Dash callback that does something sensitive: when the last check is too old, open the
    shell's confirmation dialog and return True; the callback then answers ``t("thr_confirm_first")`` and changes
    nothing (the page and what was typed in it stay)."""
    if recently_checked():
        return False
    from dash import set_props

    intro, label = prompt_texts(asks_for_code())
    set_props(INTRO_ID, {"children": intro})
    set_props(LABEL_ID, {"children": label})
    set_props(FEEDBACK_ID, {"children": ""})
    set_props(MODAL_ID, {"is_open": True})
    return True


def recent_check_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A Flask view for a sensitive action (an export of personal data): without a recent check, a data request
    gets 401 JSON with the confirmation page's address, a person is sent there and comes back after."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if recently_checked():
            return view(*args, **kwargs)
        confirm = f"{CONFIRM_PATH}?next={quote(request.full_path.rstrip('?'))}"
        if wants_json():
            response = jsonify(error="reauth_required", message=t("thr_confirm_first"), confirm=confirm)
            response.status_code = 401
            return response
        return redirect(confirm)

    return checked
