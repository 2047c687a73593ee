"""A patient's attachments (scanned referral letters, photos of results): stored sealed, every read audited, each
change queued for facility sync as a record of its own."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import audit
from data.field_crypto import FieldCipher
from data.models import Patient, PatientAttachment
from data.sync_store import ATTACHMENT_CONTENT, ATTACHMENT_PREFIX, MAX_ATTACHMENT_BYTES, note_attachment
from domain.actor import Actor
from domain.errors import InputError

KINDS = ("referral_letter", "result", "image", "other")
MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png")
_FILENAME = re.compile(r"[^\\/\x00-\x1f]{1,200}")


@dataclass(frozen=True)
class AttachmentInfo:
    """An attachment as a list shows it (no content)."""

    id: int
    kind: str
    filename: str
    media_type: str
    size: int
    created_at: datetime


def add_attachment(
    session: Session,
    cipher: FieldCipher,
    actor: Actor,
    patient: Patient,
    *,
    kind: str,
    filename: str,
    media_type: str,
    content: bytes,
) -> PatientAttachment:
    """Attach ``content`` to ``patient``; a wrong kind, type, name or size raises ``InputError``."""
    if kind not in KINDS:
        raise InputError("att_err_kind")
    if media_type not in MEDIA_TYPES:
        raise InputError("att_err_type")
    if not _FILENAME.fullmatch(filename):
        raise InputError("att_err_filename")
    if not 0 < len(content) <= MAX_ATTACHMENT_BYTES:
        raise InputError("att_err_size", n=MAX_ATTACHMENT_BYTES // 2**20)
    attachment = PatientAttachment(
        site_id=patient.site_id,
        sync_id=f"{ATTACHMENT_PREFIX}{uuid.uuid4()}",
        patient_sync_id=patient.sync_id,
        kind=kind,
        filename=filename,
        media_type=media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    session.add(attachment)
    session.flush()
    attachment.content_enc = cipher.encrypt(
        ATTACHMENT_CONTENT, base64.b64encode(content).decode(), row_id=attachment.id
    )
    audit.record_by(
        session, actor, "attachment_added", target_type="patient", target_id=patient.id, detail={"kind": kind}
    )
    note_attachment(session, cipher, attachment)
    return attachment


def attachments_of(session: Session, patient: Patient) -> list[AttachmentInfo]:
    """The patient's attachments that are not deleted, newest first."""
    rows = session.scalars(
        select(PatientAttachment)
        .where(PatientAttachment.patient_sync_id == patient.sync_id, PatientAttachment.deleted_at.is_(None))
        .order_by(PatientAttachment.created_at.desc())
    )
    return [AttachmentInfo(a.id, a.kind, a.filename, a.media_type, a.size, a.created_at) for a in rows]


def read_attachment(session: Session, cipher: FieldCipher, actor: Actor, attachment_id: int) -> bytes:
    """The content of one attachment of this site, audited as a read of the patient's record."""
    attachment = session.get(PatientAttachment, attachment_id)
    if attachment is None or attachment.site_id != actor.site_id or attachment.deleted_at is not None:
        raise InputError("att_err_unknown")
    content = base64.b64decode(cipher.decrypt(ATTACHMENT_CONTENT, attachment.content_enc, row_id=attachment.id) or "")
    audit.record_by(
        session,
        actor,
        "attachment_read",
        target_type="attachment",
        target_id=attachment.id,
        detail={"size": len(content)},
    )
    return content
