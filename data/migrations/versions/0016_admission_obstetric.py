"""a stay's patient pregnant or up to six weeks after giving birth: NEWS2 does not score her (docs/inpatient.md).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("admission") as batch_op:
        batch_op.add_column(sa.Column("obstetric", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("admission") as batch_op:
        batch_op.drop_column("obstetric")
