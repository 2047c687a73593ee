"""Every column that holds field-crypto ciphertext, and re-encrypting them under the active data key.

``flask rotate-data-keys`` runs ``rotate_keys``: a token under an older key or in the old form (not bound to its
row) is decrypted and sealed again, bound to its row, under the first key of ``PANTAU_DATA_KEYS``. Work goes in
batches, each committed on its own, so an interrupted run keeps what it did and the next run goes on from there;
once a run reports nothing left, an old key can be removed from the configuration.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from data.db import Database
from data.field_crypto import FieldCipher
from data.models import Patient, PatientAttachment, SyncConflict, SyncOutbox, SyncRecord, User

ENCRYPTED_COLUMNS: tuple[InstrumentedAttribute, ...] = (
    Patient.nik_enc,
    Patient.bpjs_enc,
    Patient.phone_enc,
    Patient.address_enc,
    User.totp_secret_enc,
    PatientAttachment.content_enc,
    SyncRecord.state_enc,
    SyncOutbox.change_enc,
    SyncConflict.lost_value_enc,
    SyncConflict.won_value_enc,
)


def field_name(column: InstrumentedAttribute) -> str:
    """The field a column's tokens are bound to: ``table.column`` without ``_enc`` (``patient.nik``)."""
    return f"{column.class_.__tablename__}.{column.key.removesuffix('_enc')}"


def _tables() -> dict[type, list[InstrumentedAttribute]]:
    tables: dict[type, list[InstrumentedAttribute]] = {}
    for column in ENCRYPTED_COLUMNS:
        tables.setdefault(column.class_, []).append(column)
    return tables


def _rotate_batch(
    db: Database, cipher: FieldCipher, model: type, columns: list[InstrumentedAttribute], after: int, batch: int
) -> tuple[int | None, int]:
    """Re-encrypt the stale tokens of the next ``batch`` rows with an id above ``after`` (rows locked meanwhile);
    returns the last id seen (None when no row is left) and how many rows changed."""
    with db.session() as session:
        rows = session.execute(
            select(model.id, *columns)
            .where(model.id > after, or_(*(c.is_not(None) for c in columns)))
            .order_by(model.id)
            .limit(batch)
            .with_for_update()
        ).all()
        changed = 0
        for row_id, *tokens in rows:
            fresh = {
                c: cipher.encrypt(field_name(c), cipher.decrypt(field_name(c), token, row_id=row_id), row_id=row_id)
                for c, token in zip(columns, tokens, strict=True)
                if cipher.needs_rotation(token)
            }
            if fresh:
                # Core UPDATE keeping ``updated_at``: a new key is not a change of the record.
                kept = {model.updated_at: model.updated_at} if hasattr(model, "updated_at") else {}
                session.execute(update(model).where(model.id == row_id).values({**fresh, **kept}))
                changed += 1
    return (rows[-1][0] if rows else None), changed


def rotate_keys(db: Database, cipher: FieldCipher, batch: int = 500) -> dict[str, int]:
    """Re-encrypt every old-key or old-form token into the row-bound form under the active key; returns how many
    rows changed per table (all zero on a second run)."""
    counts = {}
    for model, columns in _tables().items():
        counts[model.__tablename__] = 0
        after = 0
        while True:
            after, changed = _rotate_batch(db, cipher, model, columns, after, batch)
            if after is None:
                break
            counts[model.__tablename__] += changed
    return counts
