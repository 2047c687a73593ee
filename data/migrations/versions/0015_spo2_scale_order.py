"""NEWS2's SpO2 scale chosen by a doctor per admission, with when, who and why (docs/inpatient.md).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 22:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spo2_scale_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ordered_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("scale IN (1, 2)", name=op.f("ck_spo2_scale_order_scale")),
        sa.CheckConstraint("previous IN (1, 2)", name=op.f("ck_spo2_scale_order_previous")),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admission.id"], name=op.f("fk_spo2_scale_order_admission_id_admission")
        ),
        sa.ForeignKeyConstraint(["ordered_by"], ["app_user.id"], name=op.f("fk_spo2_scale_order_ordered_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spo2_scale_order")),
    )
    op.create_index(op.f("ix_spo2_scale_order_admission_id"), "spo2_scale_order", ["admission_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_spo2_scale_order_admission_id"), table_name="spo2_scale_order")
    op.drop_table("spo2_scale_order")
