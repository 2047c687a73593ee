"""vital gaps: a per-device sequence gap (missing ``seq`` run) the consumer found, asked the monitor to resend,
and closed as filled or unfillable, so a consumer restart keeps them and the bed trend can show what is missing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 11:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GAP_STATES = "state IN ('open', 'requested', 'filled', 'unfillable')"


def upgrade() -> None:
    op.create_table(
        "vital_gap",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("bed_id", sa.Integer(), nullable=True),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("to_seq", sa.BigInteger(), nullable=False),
        sa.Column("from_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("to_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(GAP_STATES, name=op.f("ck_vital_gap_state")),
        sa.CheckConstraint("from_seq <= to_seq", name=op.f("ck_vital_gap_seq_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_gap")),
    )
    with op.batch_alter_table("vital_gap", schema=None) as batch_op:
        batch_op.create_index("ix_vital_gap_device_id_state", ["device_id", "state"], unique=False)
        batch_op.create_index("ix_vital_gap_bed_id_from_ts", ["bed_id", "from_ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vital_gap", schema=None) as batch_op:
        batch_op.drop_index("ix_vital_gap_bed_id_from_ts")
        batch_op.drop_index("ix_vital_gap_device_id_state")
    op.drop_table("vital_gap")
