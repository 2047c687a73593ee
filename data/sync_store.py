"""Facility sync at one site: the clock, each record's writes, the outbox per peer and the inbox.

Every local register, correction, delete or merge of a patient calls :func:`note_patient` in its own transaction:
the record's values become a change (``domain.record_merge.edit`` or ``delete``) at a fresh tick of the site's
clock, the record's state takes it, and one outbox row per active peer holds it until that peer acknowledges it.
:func:`apply_remote` applies a peer's change once (the inbox is keyed by change id), merges it, writes the
patient row and keeps the conflicts for review. Sync is off in a database where :func:`register_site` never ran.

Values that may name a patient (states, queued changes, conflicting values) are sealed with the data keys and bound
to their row, like the patient's identifiers; the wire format (``data.sync_envelope``) seals them again per link.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

import orjson
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from data import audit
from data.field_crypto import FieldCipher
from data.models import (
    Patient,
    PatientAttachment,
    SyncClock,
    SyncConflict,
    SyncInbox,
    SyncOutbox,
    SyncPeerStatus,
    SyncRecord,
)
from data.patients import ENCRYPTED_FIELDS, decrypt_field, next_mrn, seal_field
from data.pii_keys import field_name
from data.sync_envelope import decode_change, encode_change
from domain.clock import epoch_ms, utcnow
from domain.hlc import ID_PATTERN, Hlc, receive, tick
from domain.record_merge import DELETED, Change, Conflict, Op, RecordState, Value, Write, apply, delete, edit

SYNCED_FIELDS = ("name", "birth_date", "sex", "nik", "bpjs", "phone", "address", "incomplete")
ATTACHMENT_PREFIX = "att-"  # an attachment's sync id; a patient's is a bare UUID
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # a scanned letter or a photo, well under the reassembler's bound
MAX_ATTACHMENT_TEXT = (MAX_ATTACHMENT_BYTES + 2) // 3 * 4  # its base64 text
MAX_RESEND = timedelta(minutes=10)  # the longest wait for an acknowledgement before sending again
RESERVED_SITES = frozenset({"vitals", "status", "wave", "cmd"})  # would match the live topics' wildcards
_STATE = field_name(SyncRecord.state_enc)
_CHANGE = field_name(SyncOutbox.change_enc)
ATTACHMENT_CONTENT = field_name(PatientAttachment.content_enc)  # the field its sealed content is bound to
_LOST, _WON = field_name(SyncConflict.lost_value_enc), field_name(SyncConflict.won_value_enc)


class SyncError(ValueError):
    """A site or a peer's change that sync refuses; ``reason`` is a short code, never personal data."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Outgoing:
    """A queued change for one peer; ``outbox_id`` is its running number on the wire."""

    outbox_id: int
    peer: str
    change: Change


@dataclass(frozen=True)
class ApplyResult:
    """What applying a peer's change did: nothing (``duplicate``), whether the patient row changed, conflicts."""

    duplicate: bool
    changed: bool
    conflicts: int


def link_id(a: str, b: str) -> str:
    """The link id both sites of a pair compute (the two site ids, sorted)."""
    return "_".join(sorted((a, b)))


def check_site_id(site: str) -> None:
    """Refuse a site id that cannot name a sync topic."""
    if not ID_PATTERN.fullmatch(site) or site.lower() in RESERVED_SITES:
        raise SyncError("site", f"site id {site!r} must be 1-64 letters, digits, '_' or '-' and not {RESERVED_SITES}")


def register_site(session: Session, site: str, peers: Sequence[str]) -> None:
    """Turn sync on in this database as ``site`` and make exactly ``peers`` the active peers. A database holds
    one site: a second site id is refused (its clock and changes would mix with the first's)."""
    for name in (site, *peers):
        check_site_id(name)
    if site in peers:
        raise SyncError("site", f"site {site} cannot be its own peer")
    held = session.scalars(select(SyncClock.site_code)).all()
    if held and held != [site]:
        raise SyncError("site", f"this database syncs as {held[0]}, not {site}")
    if not held:
        session.add(SyncClock(site_code=site, hlc=Hlc.zero(site).encode()))
    known = {row.peer: row for row in session.scalars(select(SyncPeerStatus))}
    for peer, row in known.items():
        row.active = peer in peers
    session.add_all(SyncPeerStatus(peer=peer, active=True) for peer in peers if peer not in known)
    session.flush()


def _now_ms(now_ms: int | None) -> int:
    return epoch_ms(utcnow()) if now_ms is None else now_ms


def _advance(session: Session, now_ms: int, remote: Hlc | None = None) -> Hlc | None:
    """The site's next clock (after ``remote`` when given), under a row lock; None when sync is off."""
    row = session.scalars(select(SyncClock).with_for_update()).one_or_none()
    if row is None:
        return None
    local = Hlc.decode(row.hlc)
    fresh = tick(local, now_ms) if remote is None else receive(local, remote, now_ms)
    row.hlc = fresh.encode()
    return fresh


def _state_json(state: RecordState) -> str:
    history = {
        name: [[w.value, w.hlc.encode(), None if w.base is None else w.base.encode()] for w in writes]
        for name, writes in state.history.items()
    }
    return orjson.dumps(history).decode()


def _state_from_json(record_id: str, text: str) -> RecordState:
    history = {
        name: tuple(Write(v, Hlc.decode(h), None if b is None else Hlc.decode(b)) for v, h, b in writes)
        for name, writes in orjson.loads(text).items()
    }
    return RecordState(record_id, history)


def _state_row(session: Session, cipher: FieldCipher, record_id: str) -> tuple[SyncRecord, RecordState]:
    """The record's state row, locked (made, empty, when missing)."""
    row = session.scalars(select(SyncRecord).where(SyncRecord.record_id == record_id).with_for_update()).one_or_none()
    if row is None:
        row = SyncRecord(record_id=record_id, fingerprint="")
        session.add(row)
        session.flush()
        return row, RecordState(record_id)
    return row, _state_from_json(record_id, cipher.decrypt(_STATE, row.state_enc, row_id=row.id) or "{}")


def _store_state(cipher: FieldCipher, row: SyncRecord, state: RecordState) -> None:
    row.state_enc = cipher.encrypt(_STATE, _state_json(state), row_id=row.id)
    row.fingerprint = state.fingerprint()


def patient_values(cipher: FieldCipher, patient: Patient) -> dict[str, Value]:
    """A patient row as the synced fields' values (identifiers in clear, the birth date as ISO text)."""
    values: dict[str, Value] = {
        "name": patient.name,
        "birth_date": patient.birth_date.isoformat(),
        "sex": patient.sex,
        "incomplete": bool(patient.incomplete),
    }
    values |= {f: decrypt_field(cipher, patient, f) for f in ENCRYPTED_FIELDS}
    return values


def _note(
    session: Session,
    cipher: FieldCipher,
    record_id: str,
    read_values: Callable[[], dict[str, Value]] | None,
    now_ms: int | None,
) -> Change | None:
    """Queue this site's change of one record for every active peer: the values ``read_values`` gives (called
    only when sync is on: it decrypts identifiers), or ``None`` for a delete. Returns the change; None when sync
    is off or nothing differs from the record's state."""
    at = _advance(session, _now_ms(now_ms))
    if at is None:
        return None
    values = None if read_values is None else read_values()
    row, state = _state_row(session, cipher, record_id)
    change_id = str(uuid.uuid4())
    if values is None:
        change = None if state.deleted else delete(state, change_id=change_id, at=at)
    else:
        change = edit(state, values, change_id=change_id, at=at)
    if change is None:
        return None
    _store_state(cipher, row, apply(state, change).state)
    for peer in session.scalars(select(SyncPeerStatus.peer).where(SyncPeerStatus.active)).all():
        _queue(session, cipher, peer, [change])
    return change


def note_patient(
    session: Session, cipher: FieldCipher, patient: Patient, *, now_ms: int | None = None
) -> Change | None:
    """Queue this site's change of ``patient`` (a flushed row, locked by the caller when it existed before), in
    the caller's transaction: a delete when the row is deleted, else the fields that differ from the record's
    state. A purged record's erasure is local (each site keeps its own retention) and is never sent."""
    if patient.purged_at is not None:
        return None
    read = None if patient.deleted_at is not None else partial(patient_values, cipher, patient)
    return _note(session, cipher, patient.sync_id, read, now_ms)


def attachment_values(cipher: FieldCipher, attachment: PatientAttachment) -> dict[str, Value]:
    """An attachment as the synced values (its content as base64 text)."""
    return {
        "patient": attachment.patient_sync_id,
        "kind": attachment.kind,
        "filename": attachment.filename,
        "media_type": attachment.media_type,
        "sha256": attachment.sha256,
        "content": cipher.decrypt(ATTACHMENT_CONTENT, attachment.content_enc, row_id=attachment.id),
    }


def note_attachment(
    session: Session, cipher: FieldCipher, attachment: PatientAttachment, *, now_ms: int | None = None
) -> Change | None:
    """Queue this site's change of ``attachment`` (a flushed row), as :func:`note_patient` does a patient's."""
    read = None if attachment.deleted_at is not None else partial(attachment_values, cipher, attachment)
    return _note(session, cipher, attachment.sync_id, read, now_ms)


def resend_delay(resend_after: timedelta, attempts: int) -> timedelta:
    """How long a change sent ``attempts`` times waits for its acknowledgement before it is sent again: doubling
    from ``resend_after`` up to ``MAX_RESEND`` (or ``resend_after`` when that is longer). A peer slower than the
    resend time would otherwise get each change again and again and fall further behind."""
    return min(resend_after * 2 ** min(attempts - 1, 16), max(resend_after, MAX_RESEND))


def due_changes(
    session: Session, cipher: FieldCipher, peer: str, *, now: datetime, resend_after: timedelta, limit: int
) -> list[Outgoing]:
    """The oldest unacknowledged changes for ``peer`` never sent or whose resend time has come, marked sent now
    and due again after :func:`resend_delay` (the caller commits). Rows another worker of this site holds are
    skipped, not waited for."""
    rows = session.scalars(
        select(SyncOutbox)
        .where(
            SyncOutbox.peer == peer,
            SyncOutbox.acked_at.is_(None),
            or_(SyncOutbox.resend_at.is_(None), SyncOutbox.resend_at <= now),
        )
        .order_by(SyncOutbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    due = []
    for row in rows:
        row.sent_at, row.attempts = now, row.attempts + 1
        row.resend_at = now + resend_delay(resend_after, row.attempts)
        text = cipher.decrypt(_CHANGE, row.change_enc, row_id=row.id) or ""
        due.append(Outgoing(row.id, peer, decode_change(text.encode())))
    return due


def mark_acked(session: Session, peer: str, change_ids: Iterable[str], *, now: datetime) -> int:
    """Record ``peer``'s acknowledgement of ``change_ids``; returns how many were still pending."""
    ids = list(change_ids)
    if not ids:
        return 0
    result = session.execute(
        update(SyncOutbox)
        .where(SyncOutbox.peer == peer, SyncOutbox.change_id.in_(ids), SyncOutbox.acked_at.is_(None))
        .values(acked_at=now),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def _seal_value(cipher: FieldCipher, field: str, value: Value, row_id: int) -> str | None:
    return cipher.encrypt(field, orjson.dumps(value).decode(), row_id=row_id)


def _keep_conflicts(session: Session, cipher: FieldCipher, conflicts: Sequence[Conflict]) -> int:
    """Store the conflicts not held yet (the same pair can be found again after a state is rebuilt)."""
    kept = 0
    for conflict in conflicts:
        keys = (conflict.record_id, conflict.field, conflict.lost.encode(), conflict.won.encode())
        held = session.scalar(
            select(SyncConflict.id).where(
                SyncConflict.record_id == keys[0],
                SyncConflict.field == keys[1],
                SyncConflict.lost_hlc == keys[2],
                SyncConflict.won_hlc == keys[3],
            )
        )
        if held is not None:
            continue
        row = SyncConflict(record_id=keys[0], field=keys[1], lost_hlc=keys[2], won_hlc=keys[3])
        session.add(row)
        session.flush()
        row.lost_value_enc = _seal_value(cipher, _LOST, conflict.lost_value, row.id)
        row.won_value_enc = _seal_value(cipher, _WON, conflict.won_value, row.id)
        kept += 1
    return kept


def _text(values: dict[str, Value], name: str, longest: int, *, required: bool = False) -> str | None:
    value = values.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > longest or (required and not value.strip()):
        raise SyncError("value", f"field {name} is not text of at most {longest} characters")
    return value


def _row_values(values: dict[str, Value]) -> dict[str, object]:
    """A record's merged values checked against what a patient row holds; a peer's bad value raises SyncError."""
    unknown = set(values) - set(SYNCED_FIELDS)
    if unknown:
        raise SyncError("value", f"unknown fields {sorted(unknown)}")
    try:
        birth = date.fromisoformat(_text(values, "birth_date", 10, required=True) or "")
    except ValueError as exc:
        raise SyncError("value", "birth_date is not an ISO date") from exc
    if values.get("sex") not in ("L", "P"):
        raise SyncError("value", "sex is neither L nor P")
    clean: dict[str, object] = {
        "name": _text(values, "name", 200, required=True),
        "birth_date": birth,
        "sex": values["sex"],
        "incomplete": values.get("incomplete") is True,
    }
    clean |= {f: _text(values, f, 500) for f in ENCRYPTED_FIELDS}
    return clean


def _write_patient(
    session: Session, cipher: FieldCipher, patient: Patient | None, state: RecordState, *, site_id: int, origin: str
) -> None:
    """Make the patient row show the merged ``state`` (created at ``site_id`` with a fresh RM when new)."""
    if patient is not None and patient.purged_at is not None:
        return  # erased here after retention: the row stays an anonymous stub
    values = state.values()
    if patient is None and not {"name", "birth_date", "sex"} <= values.keys():
        return  # only a delete of a record never seen here: the state keeps it until its values arrive
    clean = _row_values(values)
    action = "patient_sync_updated"
    if patient is None:
        patient = Patient(site_id=site_id, mrn=next_mrn(session, site_id), sync_id=state.record_id)
        session.add(patient)
        action = "patient_sync_created"
    for name in ("name", "birth_date", "sex", "incomplete"):
        setattr(patient, name, clean[name])
    session.flush()
    for name in ENCRYPTED_FIELDS:
        seal_field(cipher, patient, name, clean[name])  # type: ignore[arg-type]
    if state.deleted and patient.deleted_at is None:
        patient.deleted_at, patient.delete_reason, action = utcnow(), f"sync:{origin}", "patient_sync_deleted"
    elif not state.deleted and patient.deleted_at is not None and patient.merged_into_id is None:
        patient.deleted_at = patient.deleted_by = patient.delete_reason = None
        action = "patient_sync_restored"
    session.flush()
    audit.record(
        session, action, site_id=site_id, target_type="patient", target_id=patient.id, detail={"origin": origin}
    )


def _write_attachment(
    session: Session,
    cipher: FieldCipher,
    attachment: PatientAttachment | None,
    state: RecordState,
    *,
    site_id: int,
    origin: str,
) -> None:
    """Make the attachment row show the merged ``state``; content whose checksum does not match is refused."""
    values = state.values()
    if attachment is None and "content" not in values:
        return  # only a delete of an attachment never seen here
    text = {name: _text(values, name, 200, required=True) for name in ("patient", "kind", "filename", "media_type")}
    content = _text(values, "content", MAX_ATTACHMENT_TEXT, required=True) or ""
    try:
        raw = base64.b64decode(content, validate=True)
    except ValueError as exc:
        raise SyncError("value", "an attachment's content is not base64") from exc
    if hashlib.sha256(raw).hexdigest() != values.get("sha256"):
        raise SyncError("checksum", f"attachment {state.record_id} does not match its SHA-256")
    if attachment is None:
        attachment = PatientAttachment(site_id=site_id, sync_id=state.record_id)
        session.add(attachment)
    attachment.patient_sync_id, attachment.kind = text["patient"], text["kind"]
    attachment.filename, attachment.media_type = text["filename"], text["media_type"]
    attachment.size, attachment.sha256 = len(raw), values["sha256"]
    attachment.deleted_at = (attachment.deleted_at or utcnow()) if state.deleted else None
    session.flush()
    attachment.content_enc = cipher.encrypt(ATTACHMENT_CONTENT, content, row_id=attachment.id)
    audit.record(
        session,
        "attachment_synced",
        site_id=site_id,
        target_type="attachment",
        target_id=attachment.id,
        detail={"origin": origin},
    )


def apply_remote(
    session: Session, cipher: FieldCipher, change: Change, *, site_id: int, now_ms: int | None = None
) -> ApplyResult:
    """Apply a peer's ``change`` once, in the caller's transaction (commit, then acknowledge). A clock too far
    ahead raises ``domain.hlc.ClockSkew``, a malformed change ``MergeError`` or ``SyncError``; nothing is written
    then and the change must not be acknowledged."""
    if session.get(SyncInbox, change.change_id) is not None:
        return ApplyResult(duplicate=True, changed=False, conflicts=0)
    attachment = change.record_id.startswith(ATTACHMENT_PREFIX)
    model = PatientAttachment if attachment else Patient
    held = session.scalars(select(model).where(model.sync_id == change.record_id).with_for_update()).one_or_none()
    if _advance(session, _now_ms(now_ms), change.hlc) is None:
        raise SyncError("off", "sync is not registered in this database")
    row, state = _state_row(session, cipher, change.record_id)
    applied = apply(state, change)
    _store_state(cipher, row, applied.state)
    if applied.changed:
        write = _write_attachment if attachment else _write_patient
        write(session, cipher, held, applied.state, site_id=site_id, origin=change.origin)  # type: ignore[arg-type]
    kept = _keep_conflicts(session, cipher, applied.conflicts)
    session.add(
        SyncInbox(
            change_id=change.change_id, origin=change.origin, record_id=change.record_id, change_hlc=change.hlc.encode()
        )
    )
    session.flush()
    return ApplyResult(duplicate=False, changed=applied.changed, conflicts=kept)


def note_peer(
    session: Session,
    peer: str,
    *,
    now: datetime,
    message: bool = False,
    applied: bool = False,
    error: str | None = None,
) -> None:
    """Record what the worker saw of ``peer``: a message, an applied change, or a refusal's reason code."""
    row = session.get(SyncPeerStatus, peer)
    if row is None:
        row = SyncPeerStatus(peer=peer, active=False)  # a peer not (or no longer) configured here
        session.add(row)
    if message:
        row.last_message_at = now
    if applied:
        row.last_applied_at = now
    if error is not None:
        row.last_error, row.last_error_at = error[:200], now
    session.flush()


def _queue(session: Session, cipher: FieldCipher, peer: str, changes: Sequence[Change]) -> None:
    queued = [SyncOutbox(peer=peer, change_id=c.change_id, record_id=c.record_id) for c in changes]
    session.add_all(queued)
    session.flush()
    for item, change in zip(queued, changes, strict=True):
        item.change_enc = cipher.encrypt(_CHANGE, encode_change(change).decode(), row_id=item.id)


def changes_of(state: RecordState) -> list[Change]:
    """The changes that made ``state``, one per clock (a change's writes all carry its clock, the deletion
    register's included), oldest first: what a peer that never saw the record needs to hold the same writes. Their
    ids are derived from record and clock; a peer that had them already finds every write known and changes
    nothing."""
    by_clock: dict[Hlc, dict[str, Write]] = {}
    for name, writes in state.history.items():
        for write in writes:
            by_clock.setdefault(write.hlc, {})[name] = write
    changes = []
    for clock, writes in sorted(by_clock.items()):
        register = writes.pop(DELETED)
        op = Op.DELETE if register.value is True else Op.UPSERT
        change_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pantau-sync:{state.record_id}/{clock.encode()}"))
        changes.append(Change(change_id, state.record_id, clock.node, op, clock, register.base, writes))
    return changes


def backfill(session: Session, cipher: FieldCipher, peer: str, *, after_id: int = 0, limit: int = 500) -> int | None:
    """Queue for ``peer`` (a peer added after records were synced) every write held for the next ``limit``
    records after ``after_id``; returns the last record row id done, None when none is left. Run it to the end,
    then :func:`note_unsynced`."""
    rows = session.scalars(select(SyncRecord).where(SyncRecord.id > after_id).order_by(SyncRecord.id).limit(limit))
    last = None
    for row in rows:
        state = _state_from_json(row.record_id, cipher.decrypt(_STATE, row.state_enc, row_id=row.id) or "{}")
        _queue(session, cipher, peer, changes_of(state))
        last = row.id
    return last


def note_unsynced(session: Session, cipher: FieldCipher, *, limit: int = 500) -> int:
    """Queue, for every active peer, up to ``limit`` records that no change has been noted for (registered before
    sync was turned on); returns how many. Records deleted meanwhile are not sent."""
    held = select(SyncRecord.record_id)
    patients = session.scalars(
        select(Patient).where(Patient.sync_id.not_in(held), Patient.deleted_at.is_(None)).limit(limit)
    ).all()
    for patient in patients:
        note_patient(session, cipher, patient)
    attachments = session.scalars(
        select(PatientAttachment)
        .where(PatientAttachment.sync_id.not_in(held), PatientAttachment.deleted_at.is_(None))
        .limit(limit - len(patients))
    ).all()
    for attachment in attachments:
        note_attachment(session, cipher, attachment)
    return len(patients) + len(attachments)


def fingerprints(session: Session) -> dict[str, str]:
    """Every record this site holds, as record id → fingerprint of its merged state (for ``verify``)."""
    return {record: print_ for record, print_ in session.execute(select(SyncRecord.record_id, SyncRecord.fingerprint))}


def save_verify(session: Session, peer: str, *, now: datetime, records: int, differing: Sequence[str]) -> None:
    """Keep the last verify against ``peer``: how many records were compared and (up to 100) which differ."""
    row = session.get(SyncPeerStatus, peer) or SyncPeerStatus(peer=peer, active=False)
    session.add(row)
    row.verified_at, row.verify_records, row.verify_differences = now, records, len(differing)
    row.verify_detail = list(differing[:100])
    session.flush()
