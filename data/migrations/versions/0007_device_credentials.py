"""device credentials and bounded dead letters: each monitor's broker credential (hash, issued, retired), the
dead-letter payload sample's size and truncation mark, and a per-device, per-reason count of refused messages.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 11:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_hash", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("credential_issued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_size", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("payload_truncated", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.create_table(
        "dead_letter_count",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "reason", name=op.f("pk_dead_letter_count")),
    )


def downgrade() -> None:
    op.drop_table("dead_letter_count")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_column("payload_truncated")
        batch_op.drop_column("payload_size")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("credential_issued_at")
        batch_op.drop_column("credential_hash")
