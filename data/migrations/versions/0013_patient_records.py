"""patient records: a soft delete (when, by whom, why), a merge into another record, a purge after the retention
period (Permenkes 24/2022) and a row version for optimistic locking of the edit form.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 10:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("deleted_at", UTC_TS, nullable=True))
        batch_op.add_column(sa.Column("deleted_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("delete_reason", sa.String(500), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("purged_at", UTC_TS, nullable=True))
        batch_op.create_foreign_key("fk_patient_deleted_by_app_user", "app_user", ["deleted_by"], ["id"])
        batch_op.create_foreign_key("fk_patient_merged_into_id_patient", "patient", ["merged_into_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("patient") as batch_op:
        batch_op.drop_constraint("fk_patient_merged_into_id_patient", type_="foreignkey")
        batch_op.drop_constraint("fk_patient_deleted_by_app_user", type_="foreignkey")
        for column in ("purged_at", "merged_into_id", "delete_reason", "deleted_by", "deleted_at", "version"):
            batch_op.drop_column(column)
