"""Read models of the facility sync page (/admin/sinkron-fasilitas): each active peer's queue, lag, last message,
error and verify, and the open conflicts with their two values (a read of personal data: audited), and marking a
conflict reviewed (audited; a conflict someone else marked first is reported, not marked again)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from data import audit
from data.field_crypto import FieldCipher
from data.models import Patient, PatientAttachment, SyncClock, SyncConflict, SyncOutbox, SyncPeerStatus
from data.pii_keys import field_name
from domain.actor import Actor
from domain.hlc import Hlc
from domain.record_merge import Value

_LOST, _WON = field_name(SyncConflict.lost_value_enc), field_name(SyncConflict.won_value_enc)
CONFLICT_LIMIT = 500  # the oldest open conflicts shown (and audited) at once


@dataclass(frozen=True)
class PeerView:
    """One active peer as the worker last saw it; ``pending`` changes not acknowledged, the oldest since
    ``oldest_pending_at`` (the lag)."""

    peer: str
    pending: int
    oldest_pending_at: datetime | None
    last_message_at: datetime | None
    last_applied_at: datetime | None
    last_error: str | None  # a reason code, never personal data
    last_error_at: datetime | None
    verified_at: datetime | None
    verify_records: int | None
    verify_differences: int | None
    verify_detail: list[str]  # record ids that differed, at most 100


@dataclass(frozen=True)
class Stamp:
    """A write's clock as the page shows it: the site that wrote and its wall time."""

    site: str
    at: datetime


@dataclass(frozen=True)
class ConflictView:
    """An open conflict: the record (the patient's RM here, None when no patient row holds it), the field, the
    write that won and the one that lost."""

    id: int
    record_id: str
    patient_id: int | None
    mrn: str | None
    field: str
    won: Stamp
    lost: Stamp
    won_value: Value
    lost_value: Value
    found_at: datetime


@dataclass(frozen=True)
class Reviewed:
    """What marking did: conflicts marked now, and those someone had already marked (or that are gone)."""

    marked: list[int]
    already: list[int]


def sync_site(session: Session) -> str | None:
    """This database's sync site code; None when sync was never configured here (no clock row)."""
    return session.scalar(select(SyncClock.site_code).limit(1))


def peer_views(session: Session) -> list[PeerView]:
    """Every active peer with its unacknowledged changes (count and oldest), by peer code."""
    pending = {
        peer: (count, oldest)
        for peer, count, oldest in session.execute(
            select(SyncOutbox.peer, func.count(), func.min(SyncOutbox.created_at))
            .where(SyncOutbox.acked_at.is_(None))
            .group_by(SyncOutbox.peer)
        )
    }
    peers = session.scalars(select(SyncPeerStatus).where(SyncPeerStatus.active.is_(True)).order_by(SyncPeerStatus.peer))
    return [
        PeerView(
            peer=row.peer,
            pending=(queue := pending.get(row.peer, (0, None)))[0],
            oldest_pending_at=queue[1],
            last_message_at=row.last_message_at,
            last_applied_at=row.last_applied_at,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            verified_at=row.verified_at,
            verify_records=row.verify_records,
            verify_differences=row.verify_differences,
            verify_detail=list(row.verify_detail or [])[:100],
        )
        for row in peers
    ]


def _stamp(text: str) -> Stamp:
    hlc = Hlc.decode(text)
    return Stamp(hlc.node, datetime.fromtimestamp(hlc.wall_ms / 1000, tz=UTC))


def _patients(session: Session, record_ids: set[str]) -> dict[str, tuple[int, str]]:
    """record id -> (patient id, RM) for patients and attachments (an attachment names its patient's sync id)."""
    owners = dict(
        session.execute(
            select(PatientAttachment.sync_id, PatientAttachment.patient_sync_id).where(
                PatientAttachment.sync_id.in_(record_ids)
            )
        ).all()
    )
    wanted = {owners.get(r, r) for r in record_ids}
    rows = session.execute(select(Patient.sync_id, Patient.id, Patient.mrn).where(Patient.sync_id.in_(wanted)))
    by_sync = {sync_id: (pid, mrn) for sync_id, pid, mrn in rows}
    return {r: by_sync[owners.get(r, r)] for r in record_ids if owners.get(r, r) in by_sync}


def _open(cipher: FieldCipher, field: str, token: str | None, row_id: int) -> Value:
    text = cipher.decrypt(field, token, row_id=row_id)
    return None if text is None else orjson.loads(text)


def open_conflicts(
    session: Session, cipher: FieldCipher, actor: Actor, *, limit: int = CONFLICT_LIMIT
) -> list[ConflictView]:
    """The oldest open (not reviewed) conflicts with both values opened; one ``sync_conflicts_read`` audit row
    names the conflicts and patients shown (caller commits)."""
    rows = session.scalars(
        select(SyncConflict).where(SyncConflict.reviewed_at.is_(None)).order_by(SyncConflict.id).limit(limit)
    ).all()
    if not rows:
        return []
    patients = _patients(session, {row.record_id for row in rows})
    views = [
        ConflictView(
            id=row.id,
            record_id=row.record_id,
            patient_id=patients.get(row.record_id, (None, None))[0],
            mrn=patients.get(row.record_id, (None, None))[1],
            field=row.field,
            won=_stamp(row.won_hlc),
            lost=_stamp(row.lost_hlc),
            won_value=_open(cipher, _WON, row.won_value_enc, row.id),
            lost_value=_open(cipher, _LOST, row.lost_value_enc, row.id),
            found_at=row.found_at,
        )
        for row in rows
    ]
    shown = sorted({v.patient_id for v in views if v.patient_id is not None})
    audit.record_by(
        session,
        actor,
        "sync_conflicts_read",
        target_type="patient" if len(shown) == 1 else None,
        target_id=shown[0] if len(shown) == 1 else None,
        detail={
            "conflict_ids": [v.id for v in views],
            "patient_ids": shown,
            "mrns": sorted({v.mrn for v in views if v.mrn is not None}),
        },
    )
    return views


def mark_reviewed(session: Session, actor: Actor, conflict_ids: Iterable[int], now: datetime) -> Reviewed:
    """Mark open conflicts reviewed by ``actor``, one audit row each (caller commits). A conflict already
    reviewed (by another admin meanwhile) or unknown is left as it is and listed in ``already``."""
    marked, already = [], []
    for conflict_id in sorted(set(conflict_ids)):
        done = session.execute(
            update(SyncConflict)
            .where(SyncConflict.id == conflict_id, SyncConflict.reviewed_at.is_(None))
            .values(reviewed_at=now, reviewed_by=actor.user_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not done:
            already.append(conflict_id)
            continue
        marked.append(conflict_id)
        row = session.get(SyncConflict, conflict_id)
        patient = _patients(session, {row.record_id}).get(row.record_id)
        audit.record_by(
            session,
            actor,
            "sync_conflict_reviewed",
            target_type="sync_conflict",
            target_id=conflict_id,
            detail={"record_id": row.record_id, "field": row.field, "patient_id": patient and patient[0]},
        )
    return Reviewed(marked, already)
