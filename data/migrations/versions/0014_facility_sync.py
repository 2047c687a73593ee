"""facility sync: a global id per patient record, patient attachments (scanned letters, images), and the sync
tables (clock, record states, outbox, inbox, conflicts, peer status); see docs/facility_sync.md.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 12:45:00.000000
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = (
    "patient_attachment",
    "sync_peer_status",
    "sync_conflict",
    "sync_inbox",
    "sync_outbox",
    "sync_record",
    "sync_clock",
)


def _backfill_sync_ids() -> None:
    """Every existing patient gets its own random id (a UUID computed here: SQLite has no generator)."""
    bind = op.get_bind()
    patient = sa.table("patient", sa.column("id", sa.Integer), sa.column("sync_id", sa.String))
    ids = bind.execute(sa.select(patient.c.id).where(patient.c.sync_id.is_(None))).scalars().all()
    for row_id in ids:
        bind.execute(sa.update(patient).where(patient.c.id == row_id).values(sync_id=str(uuid.uuid4())))


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch_op:
        batch_op.add_column(sa.Column("sync_id", sa.String(36), nullable=True))
    _backfill_sync_ids()
    with op.batch_alter_table("patient") as batch_op:
        batch_op.alter_column("sync_id", existing_type=sa.String(36), nullable=False)
        batch_op.create_unique_constraint("uq_patient_sync_id", ["sync_id"])

    op.create_table(
        "patient_attachment",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("sync_id", sa.String(64), nullable=False, unique=True),
        sa.Column("patient_sync_id", sa.String(36), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_enc", sa.Text()),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("deleted_at", UTC_TS),
    )
    op.create_table(
        "sync_clock",
        sa.Column("site_code", sa.String(64), primary_key=True),
        sa.Column("hlc", sa.String(100), nullable=False),
    )
    op.create_table(
        "sync_record",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("record_id", sa.String(64), nullable=False, unique=True),
        sa.Column("state_enc", sa.Text()),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "sync_outbox",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("peer", sa.String(64), nullable=False),
        sa.Column("change_id", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("change_enc", sa.Text()),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("sent_at", UTC_TS),
        sa.Column("resend_at", UTC_TS),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("acked_at", UTC_TS),
        sa.UniqueConstraint("peer", "change_id"),
    )
    op.create_index(
        "ix_sync_outbox_pending",
        "sync_outbox",
        ["peer", "id"],
        postgresql_where=sa.text("acked_at IS NULL"),
        sqlite_where=sa.text("acked_at IS NULL"),
    )
    op.create_table(
        "sync_inbox",
        sa.Column("change_id", sa.String(64), primary_key=True),
        sa.Column("origin", sa.String(64), nullable=False, index=True),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("change_hlc", sa.String(100), nullable=False),
        sa.Column("applied_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "sync_conflict",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("record_id", sa.String(64), nullable=False, index=True),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("lost_hlc", sa.String(100), nullable=False),
        sa.Column("won_hlc", sa.String(100), nullable=False),
        sa.Column("lost_value_enc", sa.Text()),
        sa.Column("won_value_enc", sa.Text()),
        sa.Column("found_at", UTC_TS, nullable=False),
        sa.Column("reviewed_at", UTC_TS),
        sa.Column("reviewed_by", sa.Integer(), sa.ForeignKey("app_user.id")),
        sa.UniqueConstraint("record_id", "field", "lost_hlc", "won_hlc"),
    )
    op.create_table(
        "sync_peer_status",
        sa.Column("peer", sa.String(64), primary_key=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_message_at", UTC_TS),
        sa.Column("last_applied_at", UTC_TS),
        sa.Column("last_error", sa.String(200)),
        sa.Column("last_error_at", UTC_TS),
        sa.Column("verified_at", UTC_TS),
        sa.Column("verify_records", sa.Integer()),
        sa.Column("verify_differences", sa.Integer()),
        sa.Column("verify_detail", sa.JSON()),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    with op.batch_alter_table("patient") as batch_op:
        batch_op.drop_constraint("uq_patient_sync_id", type_="unique")
        batch_op.drop_column("sync_id")
