"""Read models of the BPJS sync status page: where the worker sends (sandbox or production), how much is waiting,
how fast BPJS acknowledges, and whether anyone is draining the outbox at all."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from data import audit
from data.bpjs_outbox import behind_unsent, outbox_summary, retry_failed
from data.models import BpjsOutbox
from data.schedules import local_today, site_zone
from domain.actor import Actor

STALL_GRACE = timedelta(seconds=60)  # a running worker picks a due row up within a second or two
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class BpjsTarget:
    """Where the worker sends: ``mode`` "sandbox" or "production", the server's host, and whether all four
    credentials are set (without them the worker refuses to start)."""

    mode: str
    host: str
    configured: bool


def bpjs_target(settings: Any) -> BpjsTarget:
    """Sandbox when no URL is set, or it points at this machine, at a sandbox (``/bpjs-sandbox``,
    ``bpjs-sandbox:8081``) or at BPJS's development server (``apijkn-dev…``, ``/antreanrs_dev``); else production."""
    url = settings.bpjs_base_url.strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    sandbox = (
        not url
        or host in _LOOPBACK
        or host.startswith("127.")
        or host.endswith(".localhost")
        or "sandbox" in url.lower()
        or any(label.endswith("-dev") for label in host.split("."))
        or any(segment.endswith("_dev") for segment in parts.path.lower().split("/"))
    )
    configured = all((url, settings.bpjs_cons_id, settings.bpjs_secret, settings.bpjs_user_key))
    try:
        port = parts.port
    except ValueError:  # not a number: shown without it
        port = None
    shown = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")  # never a user:password@ part
    return BpjsTarget("sandbox" if sandbox else "production", shown, configured)


def percentile(values: list[float], share: float) -> float | None:
    """Linear interpolation between the closest ranks (``share`` 0.5 = the median); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class SyncStatus:
    counts: dict[str, int]  # pending / sent / failed
    oldest_pending: datetime | None
    sent_last_hour: int
    last_sent_at: datetime | None
    acked_today: int
    ack_p50_seconds: float | None  # outbox created_at (the event's transaction) → sent_at (BPJS answered 200/208)
    ack_p95_seconds: float | None
    stalled_since: datetime | None  # a due row nobody took for over a minute: no worker is running
    failures: list[dict]


@dataclass(frozen=True)
class AckTimes:
    count: int
    p50_seconds: float | None
    p95_seconds: float | None


def ack_times(session: Session, site_id: int, since: datetime) -> AckTimes:
    """Event → BPJS acknowledgement (the outbox row's creation, in the event's own transaction → ``sent_at``) of
    the rows sent since ``since``: count, median and p95. PostgreSQL computes them itself (a busy day has tens of
    thousands of rows and the page asks every 10 s); other stores fetch the durations."""
    sent = (BpjsOutbox.site_id == site_id, BpjsOutbox.state == "sent", BpjsOutbox.sent_at >= since)
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.greatest(cast(func.extract("epoch", BpjsOutbox.sent_at - BpjsOutbox.created_at), Float), 0.0)
        count, p50, p95 = session.execute(
            select(
                func.count(),
                func.percentile_cont(0.5).within_group(seconds),
                func.percentile_cont(0.95).within_group(seconds),
            ).where(*sent)
        ).one()
        return AckTimes(count, p50, p95)
    rows = session.execute(select(BpjsOutbox.created_at, BpjsOutbox.sent_at).where(*sent)).all()
    values = [max(0.0, (done - created).total_seconds()) for created, done in rows]
    return AckTimes(len(values), percentile(values, 0.5), percentile(values, 0.95))


def stalled_since(session: Session, site_id: int, now: datetime, grace: timedelta = STALL_GRACE) -> datetime | None:
    """Since when a row that heads its line has been due without being taken (None: nothing stuck).
    Rows waiting behind a failed one, leased or in backoff are not due, so they never count."""
    blocked = behind_unsent()
    return session.scalar(
        select(func.min(BpjsOutbox.next_attempt_at)).where(
            BpjsOutbox.site_id == site_id,
            BpjsOutbox.state == "pending",
            BpjsOutbox.next_attempt_at <= now - grace,
            ~blocked,
        )
    )


def sync_status(session: Session, site_id: int, now: datetime) -> SyncStatus:
    """Everything the status page shows about the outbox, at ``now``."""
    summary = outbox_summary(session, site_id)
    midnight = datetime.combine(local_today(session, site_id, now), time(0), tzinfo=site_zone(session, site_id))
    today = ack_times(session, site_id, midnight.astimezone(UTC))
    sent = select(func.count()).where(
        BpjsOutbox.site_id == site_id, BpjsOutbox.state == "sent", BpjsOutbox.sent_at >= now - timedelta(hours=1)
    )
    last = select(func.max(BpjsOutbox.sent_at)).where(BpjsOutbox.site_id == site_id, BpjsOutbox.state == "sent")
    return SyncStatus(
        counts=summary.counts,
        oldest_pending=summary.oldest_pending,
        sent_last_hour=session.scalar(sent) or 0,
        last_sent_at=session.scalar(last),
        acked_today=today.count,
        ack_p50_seconds=today.p50_seconds,
        ack_p95_seconds=today.p95_seconds,
        stalled_since=stalled_since(session, site_id, now),
        failures=summary.failures,
    )


@dataclass(frozen=True)
class Retried:
    booking_code: str | None  # None: a schedule update
    kind: str
    task: int | None


def retry_failure(session: Session, actor: Actor, item_id: int, now: datetime) -> Retried | None:
    """Put a failed row of ``actor``'s site back in line (the data was fixed), audited; None when it is no longer
    failed (someone else retried it) or is unknown."""
    if not retry_failed(session, actor.site_id, item_id, now):
        return None
    row = session.get(BpjsOutbox, item_id)
    audit.record(
        session,
        "bpjs_outbox_retried",
        user_id=actor.user_id,
        username=actor.username,
        site_id=actor.site_id,
        ip=actor.ip,
        target_type="bpjs_outbox",
        target_id=item_id,
        detail={"booking_code": row.booking_code, "kind": row.kind, "code": row.response_code},
    )
    return Retried(row.booking_code, row.kind, row.payload.get("taskid"))
