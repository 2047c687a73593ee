"""The BPJS outbox as a work queue: claim the next due call of a booking (only when everything before it for
that booking was acknowledged), record the outcome, and summarise it for the sync status page. Schedule updates
(``updatejadwaldokter``, no booking) form one line of their own, so a later week never overtakes an earlier one.

Claiming takes a lease (``next_attempt_at`` moves past the lease) in a short transaction with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never send the same row at once, and a worker killed
mid-call leaves the row to be sent again when the lease ends — harmless, because BPJS answers 208 to a repeat.

Fencing: a claim is the row's ``attempts`` value after the claim raised it. Every outcome is written only while
the row is still pending under that claim, so a worker that stalled past its lease (another worker has claimed and
perhaps sent the row since) changes nothing: ``mark_*`` returns False and the caller reports the lost claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from data.models import BpjsOutbox, Poli, QueueTicket, Visit, VisitTask
from domain.queue_points import PHARMACY_POINTS
from domain.queue_tasks import is_complete

LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    site_id: int
    visit_id: int | None  # None: a schedule update
    booking_code: str | None
    kind: str
    payload: dict
    attempts: int  # also the claim: raised by every claim, so an outcome is written only under the latest one
    created_at: datetime

    @classmethod
    def of(cls, row: BpjsOutbox) -> OutboxItem:
        """The item of ``row`` as it stands (after a claim: that claim)."""
        return cls(
            row.id,
            row.site_id,
            row.visit_id,
            row.booking_code,
            row.kind,
            dict(row.payload),
            row.attempts,
            row.created_at,
        )


def behind_unsent() -> ColumnElement[bool]:
    """True for a row with an earlier unsent row in its line (the same booking, or both schedule updates)."""
    earlier = aliased(BpjsOutbox)
    same_line = or_(
        earlier.booking_code == BpjsOutbox.booking_code,
        and_(earlier.booking_code.is_(None), BpjsOutbox.booking_code.is_(None)),
    )
    return exists().where(same_line, earlier.id < BpjsOutbox.id, earlier.state != "sent")


def claim_next(session: Session, now: datetime, lease: timedelta = LEASE) -> OutboxItem | None:
    """Lease the oldest due row that heads its line; None when nothing is due."""
    blocked = behind_unsent()
    row_id = session.scalar(
        select(BpjsOutbox.id)
        .where(BpjsOutbox.state == "pending", BpjsOutbox.next_attempt_at <= now, ~blocked)
        .order_by(BpjsOutbox.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if row_id is None:
        return None
    taken = session.execute(
        update(BpjsOutbox)
        .where(BpjsOutbox.id == row_id, BpjsOutbox.state == "pending", BpjsOutbox.next_attempt_at <= now)
        .values(next_attempt_at=now + lease, attempts=BpjsOutbox.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return None
    row = session.get(BpjsOutbox, row_id)
    session.refresh(row)
    return OutboxItem.of(row)


def _held(item: OutboxItem) -> ColumnElement[bool]:
    """The row is still pending under ``item``'s claim (no later claim took it, no outcome was written)."""
    return and_(BpjsOutbox.id == item.id, BpjsOutbox.attempts == item.attempts, BpjsOutbox.state == "pending")


def _settle(session: Session, item: OutboxItem, **values: object) -> bool:
    return bool(session.execute(update(BpjsOutbox).where(_held(item)).values(**values)).rowcount)


def mark_sent(session: Session, item: OutboxItem, code: int, now: datetime) -> bool:
    """200, or 208 (BPJS already has it: counted as sent); False when the claim was lost (nothing changed)."""
    return _settle(session, item, state="sent", sent_at=now, response_code=code, last_error=None)


def mark_retry(session: Session, item: OutboxItem, code: int | None, message: str, next_attempt: datetime) -> bool:
    """A transient failure: try again at ``next_attempt``; False when the claim was lost (nothing changed)."""
    return _settle(session, item, next_attempt_at=next_attempt, response_code=code, last_error=message[:1000])


def mark_failed(session: Session, item: OutboxItem, code: int, message: str) -> bool:
    """BPJS refused the data (201): kept with its message until someone fixes the data and retries; False when
    the claim was lost (nothing changed)."""
    return _settle(session, item, state="failed", response_code=code, last_error=message[:1000])


def retry_failed(session: Session, site_id: int, item_id: int, now: datetime) -> bool:
    """Put a failed row back in line (after the data was fixed); True when it was failed."""
    return bool(
        session.execute(
            update(BpjsOutbox)
            .where(BpjsOutbox.id == item_id, BpjsOutbox.site_id == site_id, BpjsOutbox.state == "failed")
            .values(state="pending", next_attempt_at=now)
        ).rowcount
    )


@dataclass(frozen=True)
class OutboxSummary:
    counts: dict[str, int]
    oldest_pending: datetime | None
    failures: list[dict]


def outbox_summary(session: Session, site_id: int, failures_limit: int = 100) -> OutboxSummary:
    counts = dict(
        session.execute(
            select(BpjsOutbox.state, func.count()).where(BpjsOutbox.site_id == site_id).group_by(BpjsOutbox.state)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(BpjsOutbox.created_at)).where(BpjsOutbox.site_id == site_id, BpjsOutbox.state == "pending")
    )
    rows = session.execute(  # a schedule update has no visit: its poli is the BPJS code it reports
        select(BpjsOutbox, Poli.name)
        .outerjoin(Visit, Visit.id == BpjsOutbox.visit_id)
        .outerjoin(Poli, Poli.id == Visit.poli_id)
        .where(BpjsOutbox.site_id == site_id, BpjsOutbox.state == "failed")
        .order_by(BpjsOutbox.id)
        .limit(failures_limit)
    ).all()
    failures = [
        {
            "id": row.id,
            "booking_code": row.booking_code,
            "kind": row.kind,
            "task": row.payload.get("taskid"),
            "poli": poli if poli is not None else row.payload.get("kodepoli", ""),
            "code": row.response_code,
            "message": row.last_error or "",
            "attempts": row.attempts,
            "created_at": row.created_at,
        }
        for row, poli in rows
    ]
    return OutboxSummary({s: counts.get(s, 0) for s in ("pending", "sent", "failed")}, oldest, failures)


def task_completeness(session: Session, site_id: int, day: date) -> list[dict]:
    """Per poli, the share of the day's JKN visits (not still in progress) whose task ids are complete and
    in order — the figure BPJS watches."""
    visits = session.execute(
        select(Visit.id, Visit.new_patient, Visit.status, Poli.name)
        .join(Poli, Poli.id == Visit.poli_id)
        .where(Visit.site_id == site_id, Visit.service_date == day, Visit.payer == "jkn")
    ).all()
    ids = [v.id for v in visits]
    recorded: dict[int, dict[int, datetime]] = {i: {} for i in ids}
    for visit_id, task, at in session.execute(
        select(VisitTask.visit_id, VisitTask.task_id, VisitTask.at).where(VisitTask.visit_id.in_(ids))
    ).all():
        recorded[visit_id][task] = at
    pharmacy = set(
        session.scalars(
            select(QueueTicket.visit_id).where(
                and_(QueueTicket.visit_id.in_(ids), QueueTicket.point.in_(PHARMACY_POINTS))
            )
        ).all()
    )
    per_poli: dict[str, list[int]] = {}
    for v in visits:
        totals = per_poli.setdefault(v.name, [0, 0, 0])  # visits, finished, complete
        totals[0] += 1
        if v.status == "active":
            continue
        totals[1] += 1
        totals[2] += is_complete(recorded[v.id], new_patient=v.new_patient, pharmacy=v.id in pharmacy)
    return [
        {"poli": poli, "visits": n, "finished": done, "complete": ok, "share": ok / done if done else None}
        for poli, (n, done, ok) in sorted(per_poli.items())
    ]
