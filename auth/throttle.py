"""The sign-in throttle: growing delays after wrong passwords or codes, instead of a lock anyone could set off.

Failures are counted per key in ``sign_in_throttle``, shared by every web worker:

- ``pair:`` one username from one client address: ``Settings.lockout_attempts`` failures are free, then each
  further failure doubles the wait before the next attempt is even checked (1 s, 2 s, 4 s … up to
  ``Settings.lockout_minutes``);
- ``addr:`` one client address, whatever the username: the same doubling after four times the free failures (the
  PCs of a ward may share one address behind NAT);
- ``acct:`` one username from anywhere: gentle on purpose, free for three times as many failures and never more
  than a minute, so someone elsewhere typing a nurse's username cannot keep her out, while their own address and
  pair are slowed hard.

Keys hold a digest of the username (no username sits in the table) and are the same whether the account exists
or not, so the throttle tells nobody which usernames exist. A key's failures are forgotten after twice the longest
delay without a failure; a right answer clears the pair and account keys (not the address: signing in to one's own
account must not reset an address that guesses others').
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.orm import Session

from config import Settings
from data.models import SignInThrottle
from data.runtime import current_runtime
from data.upsert import insert_for

ACCOUNT, ADDRESS, PAIR = "acct:", "addr:", "pair:"
ACCOUNT_LONGEST_SECONDS = 60
ACCOUNT_FREE_FACTOR = 3
ADDRESS_FREE_FACTOR = 4


@dataclass(frozen=True)
class Policy:
    """How many failures of a key are free and the longest wait they can grow to."""

    free: int
    longest_seconds: int

    def delay(self, failures: int) -> int:
        """Seconds to wait after the ``failures``-th failure: none while free, then 1, 2, 4 … capped."""
        extra = failures - self.free
        if extra <= 0:
            return 0
        return min(self.longest_seconds, 2 ** min(extra - 1, 30))


def policy_for(key: str, settings: Settings) -> Policy:
    """The policy of ``key``'s kind (its prefix)."""
    longest = settings.lockout_minutes * 60
    if key.startswith(ACCOUNT):
        return Policy(settings.lockout_attempts * ACCOUNT_FREE_FACTOR, min(ACCOUNT_LONGEST_SECONDS, longest))
    if key.startswith(ADDRESS):
        return Policy(settings.lockout_attempts * ADDRESS_FREE_FACTOR, longest)
    return Policy(settings.lockout_attempts, longest)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sign_in_keys(username: str, ip: str | None) -> list[str]:
    """The keys one sign-in attempt (or second step, or re-check) counts against: the account, and with a known
    client address the address and the pair."""
    name = username.strip().lower()[:64]
    keys = [ACCOUNT + _digest(name)]
    if ip:
        keys += [ADDRESS + ip[:64], PAIR + _digest(f"{name}|{ip}")]
    return keys


def check(db: Session, keys: Iterable[str], now: datetime) -> int:
    """Whole seconds to wait before an attempt under ``keys`` may be checked at all (0: go ahead)."""
    until = db.scalar(
        select(SignInThrottle.blocked_until)
        .where(SignInThrottle.key.in_(list(keys)), SignInThrottle.blocked_until > now)
        .order_by(SignInThrottle.blocked_until.desc())
        .limit(1)
    )
    return 0 if until is None else max(1, math.ceil((until - now).total_seconds()))


def fail(db: Session, keys: Iterable[str], now: datetime, settings: Settings | None = None) -> int:
    """Count one failure against each of ``keys``; returns the wait it starts (0 while the failures are free).

    Each count is one atomic ``INSERT … ON CONFLICT`` (two workers counting at once lose nothing), and the wait
    only ever grows, whichever worker writes last."""
    settings = settings or current_runtime().settings
    forget_before = now - _forget_after(settings)
    wait = 0
    for key in keys:
        row = SignInThrottle.__table__.c
        stale = row.last_failure_at < forget_before
        statement = insert_for(db, SignInThrottle).values(key=key, failures=1, blocked_until=None, last_failure_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": case((stale, 1), else_=row.failures + 1),
                "blocked_until": case((stale, None), else_=row.blocked_until),
                "last_failure_at": now,
            },
        ).returning(SignInThrottle.failures)
        failures = db.execute(statement).scalar_one()
        delay = policy_for(key, settings).delay(failures)
        if delay:
            until = literal(now + timedelta(seconds=delay), SignInThrottle.blocked_until.type)
            db.execute(
                update(SignInThrottle)
                .where(SignInThrottle.key == key)
                .values(
                    blocked_until=case(
                        (SignInThrottle.blocked_until > until, SignInThrottle.blocked_until), else_=until
                    )
                )
            )
            wait = max(wait, delay)
    db.execute(delete(SignInThrottle).where(SignInThrottle.last_failure_at < forget_before))
    return wait


def clear(db: Session, keys: Iterable[str]) -> None:
    """Forget the failures of ``keys`` (after a right answer: pass the account and pair keys, not the address)."""
    db.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(list(keys))))


def cleared_on_success(keys: Iterable[str]) -> list[str]:
    """The keys a right answer clears: all of ``keys`` but the address."""
    return [key for key in keys if not key.startswith(ADDRESS)]


def _forget_after(settings: Settings) -> timedelta:
    return timedelta(minutes=2 * settings.lockout_minutes)
