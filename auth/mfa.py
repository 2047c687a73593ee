"""TOTP multi-factor sign-in (RFC 6238, any authenticator app) with one-time recovery codes.

- The secret is kept encrypted with the runtime's field cipher, bound to its account's row, so a ciphertext copied
  to another account does not decrypt. A secret with no ``totp_enabled_at`` is an enrolment not yet confirmed.
- A code is accepted for the current 30-second step or one step either side (clock drift), and only for a step
  later than the last one accepted: a code seen over someone's shoulder cannot be used again.
- Ten recovery codes (``xxxx-xxxx`` from an alphabet with no 0/o, 1/l/i or u/v, to read aloud) are shown once and
  kept only as Argon2 hashes; each works once.
- Wrong codes are counted per account by the sign-in throttle (``auth.throttle``, key ``mfa:<id>``): the first
  ``Settings.lockout_attempts`` are free, then each one doubles the wait before the account's next code is even
  checked, up to ``Settings.lockout_minutes``; a right password does not clear it, a right code does. Only
  someone who knows the password reaches this step, so the wait cannot be used to keep staff out.
- Policy: the roles in ``Settings.mfa_required_roles`` must enrol; the others may; a display (TV) account never.

Every function takes an open session and leaves the commit to the caller, so a change and its audit row land
together.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
from flask import has_request_context
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from auth import throttle
from auth.passwords import hash_password, verify_password
from auth.session import client_ip
from auth.users import audit_account, end_sessions
from config import Settings
from data import audit
from data.field_crypto import FieldCipher
from data.models import MfaRecoveryCode, User
from data.runtime import current_runtime
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError

SECRET_FIELD = "app_user.totp_secret"  # noqa: S105 (the cipher's field name, not a secret)
VERIFIED_KEY = "mfa"  # Flask session: this session's sign-in passed the second step (or enrolled in it)
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstwxyz"
THROTTLE_PREFIX = "mfa:"  # auth.throttle key of an account's wrong codes
_TOTP_CODE = re.compile(r"^[0-9]{6}$")
_RECOVERY_CODE = re.compile(f"^[{RECOVERY_ALPHABET}]{{8}}$")


@dataclass(frozen=True)
class CodeCheck:
    """The answer to a typed code: ``outcome`` is "ok", "wrong" or "blocked" (inside a throttle wait: not even
    checked); ``wait_seconds`` is the wait before the next code is checked; ``recovery_left`` is set when a
    recovery code was spent."""

    outcome: str
    wait_seconds: int = 0
    recovery_left: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


# ---- policy


def required_roles(settings: Settings) -> frozenset[str]:
    """The roles ``Settings.mfa_required_roles`` names (a comma list)."""
    return frozenset(r.strip() for r in settings.mfa_required_roles.split(",") if r.strip()) - {"display"}


def mfa_required(roles: frozenset[str] | set[str], settings: Settings) -> bool:
    """Whether an account with ``roles`` must use a second factor (a display-only account never)."""
    return bool(set(roles) & required_roles(settings))


def mfa_enabled(user: User) -> bool:
    """Whether ``user`` has confirmed an authenticator: signing in then asks for a code."""
    return user.totp_enabled_at is not None and user.totp_secret_enc is not None


# ---- enrolment


def pending_secret(db: Session, user: User) -> str:
    """The secret of ``user``'s enrolment in progress, made (and stored encrypted) on first call. Refused once an
    authenticator is confirmed: enrol again only after turning it off or an admin reset."""
    if mfa_enabled(user):
        raise InputError("mfa_err_already_enabled")
    if user.totp_secret_enc is None:
        user.totp_secret_enc = _cipher().encrypt(SECRET_FIELD, pyotp.random_base32(), row_id=user.id)
        db.flush()
    return _secret(user)


def provisioning_uri(secret: str, username: str, settings: Settings) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=settings.mfa_issuer)


def confirm_enrolment(db: Session, user: User, code: str) -> CodeCheck | list[str]:
    """Turn the second step on once ``code`` matches the pending secret; returns the ten new recovery codes (to show
    once), or the failed ``CodeCheck``."""
    blocked = throttle.check(db, _throttle_keys(user), utcnow())
    if blocked:
        return CodeCheck("blocked", wait_seconds=blocked)
    secret = pending_secret(db, user)
    step = _matching_step(secret, _digits(code))
    if step is None:
        return _wrong(db, user, "enrolment")
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    _clear_failures(db, user)
    codes = _new_recovery_codes(db, user)
    _audit_own(db, user, "mfa_enrolled")
    return codes


def regenerate_recovery_codes(db: Session, user: User, code: str) -> CodeCheck | list[str]:
    """Ten new recovery codes in place of the old ones, for a current code (TOTP or an unused recovery code)."""
    check = verify_second_factor(db, user, code)
    if not check.ok:
        return check
    codes = _new_recovery_codes(db, user)
    _audit_own(db, user, "mfa_recovery_regenerated")
    return codes


def disable_mfa(db: Session, user: User, code: str, settings: Settings) -> CodeCheck:
    """Turn the second step off for a current code; refused (``InputError``) when the account's roles require it."""
    if mfa_required(user.role_names, settings):
        raise InputError("mfa_err_required")
    check = verify_second_factor(db, user, code)
    if check.ok:
        _forget(db, user)
        _audit_own(db, user, "mfa_disabled")
    return check


def reset_mfa(db: Session, actor: Actor, user: User) -> None:
    """An administrator clears ``user``'s authenticator and recovery codes (a lost phone) and ends the account's
    sessions; at the next sign-in the account enrols again when its roles require it."""
    _forget(db, user)
    end_sessions(db, user)
    audit.record_by(db, actor, "mfa_reset", target_type="user", target_id=user.id, detail={"username": user.username})


def _forget(db: Session, user: User) -> None:
    user.totp_secret_enc = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    _clear_failures(db, user)


# ---- checking a code


def check_second_factor(db: Session, user: User, code: str) -> bool:
    """Whether ``code`` is a current TOTP code or an unused recovery code of ``user`` (which it then spends);
    audited, and counted towards the wrong-code block like the sign-in step."""
    return verify_second_factor(db, user, code).ok


def verify_second_factor(db: Session, user: User, code: str) -> CodeCheck:
    """``check_second_factor`` with the reason: a right code, a wrong one, or a block that refuses even a right one."""
    if not mfa_enabled(user):
        return CodeCheck("wrong")
    blocked = throttle.check(db, _throttle_keys(user), utcnow())
    if blocked:
        _audit_own(db, user, "mfa_failed", {"reason": "throttled"})
        return CodeCheck("blocked", wait_seconds=blocked)
    digits = _digits(code)
    if _TOTP_CODE.match(digits):
        if _accept_step(db, user, _matching_step(_secret(user), digits)):
            _clear_failures(db, user)
            _audit_own(db, user, "mfa_ok")
            return CodeCheck("ok")
    elif _RECOVERY_CODE.match(recovery := _recovery_form(code)) and _spend_recovery_code(db, user, recovery):
        _clear_failures(db, user)
        left = recovery_codes_left(db, user)
        _audit_own(db, user, "mfa_recovery_used", {"left": left})
        return CodeCheck("ok", recovery_left=left)
    return _wrong(db, user, "check")


def recovery_codes_left(db: Session, user: User) -> int:
    return db.scalar(
        select(func.count())
        .select_from(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))
    )


def _matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step (within one of now) whose code is ``code``, if any."""
    if not _TOTP_CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    now = int((time.time() if at is None else at) // STEP_SECONDS)
    matches = [step for step in (now - 1, now, now + 1) if hmac.compare_digest(totp.generate_otp(step), code)]
    return matches[-1] if matches else None


def _accept_step(db: Session, user: User, step: int | None) -> bool:
    """Record ``step`` as used unless it, or a later one, already was (in SQL: two web workers, one winner)."""
    if step is None:
        return False
    accepted = db.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
    ).rowcount
    db.refresh(user, ["totp_last_step"])
    return accepted == 1


def _digits(code: str) -> str:
    return re.sub(r"\s+", "", code or "")


def _recovery_form(code: str) -> str:
    """A recovery code as it is hashed: lower case, without the dash or spaces someone typed."""
    return re.sub(r"[\s-]+", "", code or "").lower()


def _secret(user: User) -> str:
    return _cipher().decrypt(SECRET_FIELD, user.totp_secret_enc, row_id=user.id) or ""


def _cipher() -> FieldCipher:
    """The runtime's cipher, so ``rotate-data-keys`` and the configured keys cover the secret too."""
    return current_runtime().cipher


# ---- recovery codes


def _new_recovery_codes(db: Session, user: User) -> list[str]:
    """Replace ``user``'s recovery codes with ten new ones; only their hashes are stored."""
    db.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    plain = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(8)) for _ in range(RECOVERY_CODE_COUNT)]
    db.add_all(MfaRecoveryCode(user_id=user.id, code_hash=hash_password(code)) for code in plain)
    db.flush()
    return [f"{code[:4]}-{code[4:]}" for code in plain]


def _spend_recovery_code(db: Session, user: User, code: str) -> bool:
    unused = db.scalars(
        select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))
    ).all()
    for row in unused:
        if verify_password(row.code_hash, code):
            spent = db.execute(
                update(MfaRecoveryCode)
                .where(MfaRecoveryCode.id == row.id, MfaRecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
            ).rowcount
            return spent == 1  # another worker may have spent it a moment ago
    return False


# ---- wrong codes


def _throttle_keys(user: User) -> list[str]:
    return [f"{THROTTLE_PREFIX}{user.id}"]


def _wrong(db: Session, user: User, where: str) -> CodeCheck:
    """Count a wrong code against the account (audited); past the free ones it starts a growing wait."""
    wait = throttle.fail(db, _throttle_keys(user), utcnow())
    _audit_own(db, user, "mfa_failed", {"where": where})
    return CodeCheck("wrong", wait_seconds=wait)


def _clear_failures(db: Session, user: User) -> None:
    throttle.clear(db, _throttle_keys(user))


def _audit_own(db: Session, user: User, action: str, detail: dict | None = None) -> None:
    """Audit ``action`` by ``user`` about their own account."""
    own = Actor(user.id, user.username, user.site_id, client_ip() if has_request_context() else None)
    audit_account(db, own, action, user, detail)
